//! Near-duplicate groups (同类意见): a template copied by a unit's staff is shown as one group on the inbox
//! and the tagging screen, tagged as a whole after a confirmation showing its count, and counted in reports.

use crate::helpers::{TestApp, form_fields, hidden, texts};
use crate::register::create_problem;
use wenji::domain::user::Role;

const TEMPLATE: &str = "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张、办公用房困难等实际问题。";
const COPIES: &[&str] = &[
    "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张等实际问题！",
    "建议局领导多深入基层司法所调研，帮忙解决人员不足、经费紧张、办公用房困难这些实际问题。",
];
const OTHER: &str = "人民调解员补贴太低，很多调解员干了几年就不干了，队伍不稳定。";

/// Submits `text` as a citizen; returns its opinion's id.
async fn opinion_submitted(app: &TestApp, text: &str) -> i64 {
    let receipt = app.submit_opinion(text).await;
    let resp = app.store().response_by_receipt(&receipt).await.unwrap();
    app.store().opinion_ids_of_response(resp.id).await.unwrap()[0]
}

/// Submits the template, its two copies and one other opinion; places them; returns their opinion ids.
async fn template_and_copies(app: &TestApp) -> (Vec<i64>, i64) {
    let mut ids = Vec::new();
    for t in std::iter::once(&TEMPLATE).chain(COPIES).chain([&OTHER]) {
        ids.push(opinion_submitted(app, t).await);
    }
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let other = ids.pop().unwrap();
    (ids, other)
}

#[tokio::test]
async fn a_template_copy_shows_its_group_on_the_inbox_and_the_tagging_screen() {
    let app = TestApp::spawn().await;
    let (group, other) = template_and_copies(&app).await;
    assert_eq!(app.store().cluster_members(group[2]).await.unwrap(), group);
    assert_eq!(app.store().cluster_members(other).await.unwrap(), vec![other]);

    let (analyst, _) = app.login_as(Role::Analyst).await;
    let inbox = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    for id in &group {
        assert_eq!(texts(&inbox, &format!("#o{id} a.cluster")), ["同类意见 3 条"], "opinion {id}");
        assert_eq!(texts(&inbox, &format!("#o{id} a.cluster[href='/w/clusters/{id}']")).len(), 1, "links its group");
    }
    assert!(texts(&inbox, &format!("#o{other} a.cluster")).is_empty(), "a distinct opinion has no group");

    let tag = analyst.get(app.url(&format!("/w/tag/{}", group[1]))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&tag, "#c-cluster-n"), ["3"]);
    assert_eq!(texts(&tag, &format!("a#c-cluster[href='/w/clusters/{}']", group[1])), ["同类意见 3 条"]);
    assert!(texts(&tag, "#c-cluster.hidden").is_empty(), "the count is shown");
    let tag = analyst.get(app.url(&format!("/w/tag/{other}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&tag, "#c-cluster.hidden").len(), 1, "no group, nothing shown");
    let card: serde_json::Value =
        analyst.get(app.url(&format!("/w/api/opinions/{}", group[0]))).send().await.unwrap().json().await.unwrap();
    assert_eq!(card["cluster_size"], 3);

    let groups = app.store().group_count(None, None).await.unwrap();
    assert_eq!((groups.opinions, groups.groups), (4, 2), "four opinions, two groups");
}

#[tokio::test]
async fn one_action_tags_the_whole_group_after_a_confirmation_showing_its_count() {
    let app = TestApp::spawn().await;
    let (group, other) = template_and_copies(&app).await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let page = analyst.get(app.url(&format!("/w/clusters/{}", group[0]))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#cluster-count"), ["3"]);
    assert_eq!(texts(&page, "#cluster tbody tr").len(), 3);
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("#cluster-tag input[name=ids]").unwrap();
    let ids: Vec<String> = doc.select(&sel).map(|e| e.value().attr("value").unwrap().to_owned()).collect();
    assert_eq!(ids, group.iter().map(ToString::to_string).collect::<Vec<_>>());

    let mut body: Vec<(&str, String)> = vec![
        ("_csrf", csrf.clone()),
        ("scope", "selected".into()),
        ("filter", String::new()),
        ("area", "6".into()),
        ("action", "add".into()),
    ];
    body.extend(ids.iter().map(|i| ("ids", i.clone())));
    let confirm = analyst.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap();
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert_eq!(texts(&confirm, "#bulk-count"), ["3"], "the count is shown before anything changes");
    for id in &group {
        assert!(app.store().opinion(*id).await.unwrap().tags.is_empty(), "nothing tagged before confirming");
    }
    assert_eq!(hidden(&confirm, "confirm").as_deref(), Some("1"));
    body.push(("confirm", "1".into()));
    let done = analyst.post(app.url("/w/inbox/bulk")).form(&body).send().await.unwrap();
    assert_eq!(done.status(), 200);
    for id in &group {
        let areas: Vec<u8> = app.store().opinion(*id).await.unwrap().areas().iter().map(|a| a.get()).collect();
        assert_eq!(areas, [6], "opinion {id}");
    }
    assert!(app.store().opinion(other).await.unwrap().tags.is_empty(), "the distinct opinion is untouched");
}

#[tokio::test]
async fn one_action_links_the_whole_group_to_a_problem_after_a_confirmation_showing_its_count() {
    let app = TestApp::spawn().await;
    let (group, other) = template_and_copies(&app).await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let problem = create_problem(&app, &analyst, &csrf, "基层司法所人员经费不足").await;
    let page = analyst.get(app.url(&format!("/w/clusters/{}", group[1]))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#cluster-link select[name=problem] option"), ["基层司法所人员经费不足（已有 0 条）"]);
    let mut body: Vec<(String, String)> = form_fields(&page, "#cluster-link");
    assert_eq!(
        body.iter().filter(|(k, _)| k == "ids").map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        group.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    body.push(("problem".into(), problem.to_string()));

    // The preview shows the count and the problem; nothing is linked yet.
    let confirm = analyst.post(app.url("/w/problems/link")).form(&body).send().await.unwrap();
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().await.unwrap();
    assert_eq!(texts(&confirm, "#link-count"), ["3"]);
    assert_eq!(texts(&confirm, "#link-problem"), ["基层司法所人员经费不足"]);
    assert!(app.store().problem_opinion_ids(problem).await.unwrap().is_empty(), "nothing linked before confirming");

    let done =
        analyst.post(app.url("/w/problems/link")).form(&form_fields(&confirm, "#confirm-link")).send().await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], format!("/w/problems/{problem}").as_str());
    assert_eq!(app.store().problem_opinion_ids(problem).await.unwrap(), group, "the whole group, the other not");
    assert!(!group.contains(&other));
    let log = app.store().audit_entries(Some("problem_linked"), None, None, 10).await.unwrap();
    assert_eq!(log.len(), 1, "one audited change");

    // Leaders never see the page; admins see it without the forms that change anything, and read the log.
    let (admin, _) = app.login_as(Role::Admin).await;
    let audit = admin.get(app.url("/w/admin/audit?action=problem_linked")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&audit, "#audit td.action"), ["意见归入问题"]);
    assert_eq!(texts(&audit, "#audit td.target"), [format!("问题 {problem}")]);
    let listed = group.iter().map(ToString::to_string).collect::<Vec<_>>().join("、");
    assert_eq!(texts(&audit, "#audit td.after"), [format!("意见 {listed}")]);
    let page = admin.get(app.url(&format!("/w/clusters/{}", group[0]))).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#cluster-link").is_empty() && texts(&page, "#cluster-tag").is_empty());
    let (leader, l_csrf) = app.login_as(Role::Leader).await;
    let mut pairs: Vec<(String, String)> = form_fields(&confirm, "#confirm-link");
    pairs.retain(|(k, _)| k != "_csrf");
    pairs.push(("_csrf".into(), l_csrf));
    let r = leader.post(app.url("/w/problems/link")).form(&pairs).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A preview without a problem, or with an unknown one, says so by field.
    let ids: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone()), ("ids".into(), group[0].to_string())];
    for (extra, status, field) in
        [(vec![("preview", "1")], 400, "问题："), (vec![("preview", "1"), ("problem", "999999")], 404, "问题：")]
    {
        let mut b = ids.clone();
        b.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let r = analyst.post(app.url("/w/problems/link")).form(&b).send().await.unwrap();
        assert_eq!(r.status(), status);
        assert!(r.text().await.unwrap().contains(field));
    }
}

#[tokio::test]
async fn a_group_page_refuses_leaders_and_bad_ids_without_a_500() {
    let app = TestApp::spawn().await;
    let (group, _) = template_and_copies(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let r = leader.get(app.url(&format!("/w/clusters/{}", group[0]))).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let (analyst, _) = app.login_as(Role::Analyst).await;
    for (path, status) in [
        ("/w/clusters/abc", 400),
        ("/w/clusters/%00", 400),
        ("/w/clusters/%E2%80%8B1", 400),
        ("/w/clusters/99999999999999999999999", 400),
        ("/w/clusters/-1", 404),
        ("/w/clusters/0", 404),
    ] {
        let r = analyst.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
    }
}

/// Leaders never read the group count: an opinion joins the group of its most similar earlier one,
/// released or not, so two texts a leader sent around a guess of a held-back one made one group and
/// confirmed the guess (a review saw the count grow by four for five responses).
#[tokio::test]
async fn the_dashboard_counts_opinions_and_groups_for_the_office_and_leaders_never_read_the_group_count() {
    let app = TestApp::spawn().await;
    template_and_copies(&app).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let page = analyst.get(app.url("/w/dashboard")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#g-opinions"), ["4"]);
    assert_eq!(texts(&page, "#g-groups"), ["2"]);
    // Four respondents are fewer than k = 5: a leader sees no count at all, groups included.
    crate::helpers::a_day_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let page = leader.get(app.url("/w/dashboard?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#groups").is_empty(), "{page}");
    app.submit_opinion("希望律师事务所的收费更透明，在网站上公开收费标准。").await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    crate::helpers::a_day_passes(&app).await;
    let page = leader.get(app.url("/w/dashboard?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(texts(&page, "#g-groups").is_empty(), "five respondents: counts are shown, groups are not: {page}");
    assert_eq!(texts(&page, "#p-total"), ["5"], "the form's counts are shown: {page}");
}

#[tokio::test]
async fn copies_differing_only_in_punctuation_and_spacing_are_flagged_once_placed_and_others_are_not() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    let variant = "建议局领导班子多深入基层司法所调研 帮助解决人员不足，经费紧张，办公用房困难等实际问题!";
    for t in [TEMPLATE, variant, COPIES[0], "没有意见。", "没有 意见！", "其他没有。"] {
        let receipt = app.submit_opinion(t).await;
        let resp = app.store().response_by_receipt(&receipt).await.unwrap();
        ids.push(app.store().opinion_ids_of_response(resp.id).await.unwrap()[0]);
    }
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let flagged = [true, true, false, true, true, false];

    let (analyst, _) = app.login_as(Role::Analyst).await;
    let inbox = analyst.get(app.url("/w/inbox")).send().await.unwrap().text().await.unwrap();
    for (id, dup) in ids.iter().zip(flagged) {
        assert_eq!(texts(&inbox, &format!("#o{id} .dup")).len(), usize::from(dup), "opinion {id} in the inbox");
        let card: serde_json::Value =
            analyst.get(app.url(&format!("/w/api/opinions/{id}"))).send().await.unwrap().json().await.unwrap();
        assert_eq!(card["duplicate"], dup, "opinion {id} on the tagging screen");
    }
    assert_eq!(app.store().cluster_members(ids[3]).await.unwrap(), ids[3..5], "short copies share a group");
}

#[tokio::test]
async fn groups_placed_before_fingerprints_were_kept_beside_them_still_flag_their_copies() {
    use migrations::{Migrator, MigratorTrait};
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in [TEMPLATE, TEMPLATE, COPIES[0]] {
        ids.push(opinion_submitted(&app, t).await);
    }
    app.state.clusters.catch_up(app.store()).await.unwrap();
    // Back to before migration 000064 (groups without fingerprints), and forward again.
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let all = Migrator::migrations();
    let at = all.iter().position(|m| m.name() == "m20261204_000064_cluster_fingerprints").unwrap();
    Migrator::down(&db, Some(u32::try_from(all.len() - at).unwrap())).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let flags: Vec<bool> = futures_util::future::join_all(ids.iter().map(|id| app.store().is_likely_duplicate(*id)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(flags, [true, true, false], "exact copies flagged, the near copy not");
}

#[tokio::test]
async fn a_restarted_keeper_joins_short_copies_that_an_earlier_version_kept_in_groups_of_their_own() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for t in ["没有意见。", "没有 意见！"] {
        let receipt = app.submit_opinion(t).await;
        let resp = app.store().response_by_receipt(&receipt).await.unwrap();
        ids.push(app.store().opinion_ids_of_response(resp.id).await.unwrap()[0]);
    }
    app.state.clusters.catch_up(app.store()).await.unwrap();
    // As stored before short copies were grouped: each alone.
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    db.execute_unprepared(&format!(
        "UPDATE opinion_clusters SET cluster_id = opinion_id WHERE opinion_id = {}",
        ids[1]
    ))
    .await
    .unwrap();
    assert_eq!(app.store().cluster_members(ids[1]).await.unwrap(), [ids[1]]);

    wenji::store::clusters::ClusterKeeper::default().catch_up(app.store()).await.unwrap();
    assert_eq!(app.store().cluster_members(ids[1]).await.unwrap(), ids, "one group again");
    assert!(app.store().is_likely_duplicate(ids[1]).await.unwrap());
}

#[tokio::test]
async fn a_pass_over_more_opinions_than_one_step_stores_every_group() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    for _ in 0..11 {
        futures_util::future::join_all((0..100).map(|_| app.submit_opinion(TEMPLATE))).await;
    }
    // The server's own keeper first places them all (on a loaded machine it may lag; placing the last
    // ones after the forgetting below, it left this pass fewer to place).
    for _ in 0..600 {
        let g = app.store().group_count(None, None).await.unwrap();
        if (g.opinions, g.groups) == (1_100, 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Forgotten, as if never placed: a new keeper's first pass then reads over two steps (500 each).
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    db.execute_unprepared("DELETE FROM opinion_clusters").await.unwrap();
    let keeper = wenji::store::clusters::ClusterKeeper::default();
    let placed = keeper.catch_up(app.store()).await.unwrap();
    // On PostgreSQL the server's own keeper looks back over recent ids each second and may place some of
    // them first (it shares this store's lease); on SQLite it only looks past what it placed.
    if crate::helpers::is_postgres() {
        assert!(placed <= 1_100, "{placed}");
    } else {
        assert_eq!(placed, 1_100);
    }
    let groups = app.store().group_count(None, None).await.unwrap();
    assert_eq!((groups.opinions, groups.groups), (1_100, 1), "all placed, one group");
    assert_eq!(keeper.catch_up(app.store()).await.unwrap(), 0, "nothing left for the next pass");
}

/// PostgreSQL only (SQLite runs one server per database file): an app whose keeper has made its first
/// pass, and a second instance on the same database with its own connections and its own keeper.
async fn two_instances() -> Option<(TestApp, wenji::store::Store, wenji::store::clusters::ClusterKeeper)> {
    if !crate::helpers::is_postgres() {
        eprintln!("SKIPPED on SQLite: two instances sharing one database is a PostgreSQL test");
        return None;
    }
    let app = TestApp::spawn().await;
    let second = wenji::store::Store::connect(&app.config.database_url).await.unwrap();
    app.state.clusters.catch_up(app.store()).await.unwrap();
    Some((app, second, wenji::store::clusters::ClusterKeeper::default()))
}

#[tokio::test]
async fn copies_sent_to_two_servers_on_one_postgresql_database_join_one_group() {
    // The second keeper starts before the first opinion: an index of its own would never learn what the
    // first instance placed.
    let Some((app, second, second_keeper)) = two_instances().await else { return };
    assert_eq!(second_keeper.catch_up(&second).await.unwrap(), 0, "the first instance keeps the groups");

    let first = opinion_submitted(&app, TEMPLATE).await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    let copy = opinion_submitted(&app, TEMPLATE).await;
    assert_eq!(second_keeper.catch_up(&second).await.unwrap(), 0, "still left to the first instance");
    app.state.clusters.catch_up(app.store()).await.unwrap();
    assert_eq!(app.store().cluster_members(copy).await.unwrap(), [first, copy]);
}

/// Ends the connection holding the keeper's lock, as when its server stops (1464159818 is the lock).
async fn keeping_connection_ended(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&app.config.database_url).await.unwrap();
    let ended = db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' \
             AND classid = 1464159818 AND objid = hashtext(current_schema())::oid",
        )
        .await
        .unwrap();
    assert_eq!(ended.rows_affected(), 1, "one instance held the keeper's lock");
}

/// Runs `keeper`'s passes until one has run on a live connection (the first after a connection ended
/// may fail on it).
async fn passes_run(keeper: &wenji::store::clusters::ClusterKeeper, store: &wenji::store::Store) {
    for _ in 0..3 {
        if keeper.catch_up(store).await.is_ok() {
            return;
        }
    }
    panic!("three grouping passes failed");
}

#[tokio::test]
async fn when_the_keeping_instance_loses_its_connection_another_takes_over_and_copies_still_join_one_group() {
    let Some((app, second, second_keeper)) = two_instances().await else { return };
    let first = opinion_submitted(&app, TEMPLATE).await;
    app.state.clusters.catch_up(app.store()).await.unwrap();
    keeping_connection_ended(&app).await;

    let copy = opinion_submitted(&app, TEMPLATE).await;
    for _ in 0..3 {
        let _ = second_keeper.catch_up(&second).await; // may take over first...
        let _ = app.state.clusters.catch_up(app.store()).await; // ...or the first instance, reconnected
    }
    assert_eq!(app.store().cluster_members(copy).await.unwrap(), [first, copy]);
}

#[tokio::test]
async fn an_instance_taking_the_groups_back_learns_what_the_other_placed_meanwhile() {
    let Some((app, second, second_keeper)) = two_instances().await else { return };
    keeping_connection_ended(&app).await;
    // The second instance keeps the groups for a while and places an opinion the first never saw.
    let other = opinion_submitted(&app, OTHER).await;
    passes_run(&second_keeper, &second).await;
    keeping_connection_ended(&app).await;

    // The first instance takes them back: its index from before would not know `other`.
    let copy = opinion_submitted(&app, OTHER).await;
    passes_run(&app.state.clusters, app.store()).await;
    assert_eq!(app.store().cluster_members(copy).await.unwrap(), [other, copy]);
}
