//! Problems and the units they name: a linked opinion is not placed in a pooled unit.

use super::*;

#[tokio::test]
async fn a_problem_never_names_a_unit_its_form_pools_so_its_quotes_cannot_be_placed_in_that_unit() {
    let app = TestApp::spawn().await;
    // 政工科 sends four at a meeting, too few to be named: a week later they join the pool for good with
    // 清溪's two. Two of 政工科 who missed the meeting send theirs later; with 松岭's three they make five and
    // go out with the pool. A problem six of 政工科 support must not name it either.
    for i in 0..20 {
        app.submit_as("jg-bgs", "qz", &format!("局办公室会上第 {i} 条"), 1).await;
    }
    let mut zgk = Vec::new();
    for i in 0..4 {
        zgk.push(app.submit_as("jg-zgk", "qz", &format!("考核打分不公开（会上第 {i} 条）"), 1).await);
    }
    for i in 0..2 {
        app.submit_as("sfs-qingxi", "sfs", &format!("清溪第 {i} 条"), 2).await;
    }
    crate::helpers::a_week_passes(&app).await;
    let (leader, _) = app.login_as(Role::Leader).await;
    let dashboard = leader.get(app.url("/w/dashboard?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(!dashboard.contains("政工科") && dashboard.contains("局办公室"), "政工科 is in the pool");
    zgk.push(app.submit_as("jg-zgk", "qz", "一直以来考核打分偏向少数人（补交）", 1).await);
    zgk.push(app.submit_as("jg-zgk", "qz", "考核打分不公开（补交）", 1).await);
    for i in 0..3 {
        app.submit_as("sfs-songling", "sfs", &format!("松岭第 {i} 条"), 2).await;
    }
    crate::helpers::a_week_passes(&app).await;
    let mut ids = Vec::new();
    for r in &zgk {
        ids.push(opinion_of(&app, r).await);
    }
    let analyst = Actor::system("analyst");
    let draft = wenji::domain::problem::ProblemDraft {
        title: "考核不公".into(),
        areas: vec![AreaCode::try_from(1).unwrap()],
        description: "考核打分不公开".into(),
        root_cause: "制度不健全".into(),
        cause_type: None,
    };
    let problem = app.store().create_problem(&analyst, &draft).await.unwrap();
    app.store().link_opinions(&analyst, problem, &ids).await.unwrap();

    let (leader, csrf) = app.login_as(Role::Leader).await;
    let dashboard = leader.get(app.url("/w/dashboard?form=zhengqiu")).send().await.unwrap().text().await.unwrap();
    assert!(!dashboard.contains("政工科"), "the form pools 政工科");
    let page = leader.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#units"), [OTHER_UNITS], "six of 政工科 support it, but its form pools them");
    assert_eq!(texts(&page, "#responses"), ["6"]);
    // Quotes in text order, not arrival order: the one sent late is not told apart by its place.
    let quotes = texts(&page, "blockquote.quote");
    assert_eq!(quotes.len(), 3);
    assert!(quotes[0].starts_with("一直以来"), "{quotes:?}");
    let list = leader.get(app.url("/w/problems")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&list, &format!("#p{problem} .units")), [OTHER_UNITS]);
    let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
    let (_, problems) = sheets(&xlsx).into_iter().find(|(n, _)| n == "问题清单").unwrap();
    assert_eq!(problems[1][8], OTHER_UNITS, "{problems:?}");
    assert!(!problems.iter().flatten().any(|c| c.contains("政工科")));
    // The office names the unit and its count.
    let (office, _) = app.login_as(Role::Analyst).await;
    let page = office.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#units"), ["政工科（6）"]);
}

#[tokio::test]
async fn the_units_a_problem_names_do_not_tell_which_pooled_unit_a_linked_opinion_came_from() {
    let app = TestApp::spawn().await;
    // 征求意见 names 局办公室 (6) and 政工科 (5); 测评 pools 局办公室 (2), 清溪 (2) and 松岭 (1).
    let mut named = Vec::new();
    for i in 0..6 {
        named.push(app.submit_as("jg-bgs", "qz", &format!("局办公室第 {i} 条：会议太多"), 1).await);
    }
    for i in 0..5 {
        named.push(app.submit_as("jg-zgk", "qz", &format!("政工科第 {i} 条：会议太多"), 1).await);
    }
    let mut pooled = BTreeMap::new();
    for (unit, n) in [("jg-bgs", 2), ("sfs-qingxi", 2), ("sfs-songling", 1)] {
        for i in 0..n {
            pooled.insert((unit, i), app.appraise_with_opinion(unit, &format!("测评意见 {unit} {i}：会议太多")).await);
        }
    }
    crate::helpers::a_week_passes(&app).await;
    let mut ids = Vec::new();
    for r in &named {
        ids.push(opinion_of(&app, r).await);
    }
    let analyst = Actor::system("analyst");
    let draft = wenji::domain::problem::ProblemDraft {
        title: "会议过多".into(),
        areas: vec![AreaCode::try_from(5).unwrap()],
        description: "会议太多".into(),
        root_cause: "文山会海".into(),
        cause_type: None,
    };
    let problem = app.store().create_problem(&analyst, &draft).await.unwrap();
    app.store().link_opinions(&analyst, problem, &ids).await.unwrap();
    let (leader, csrf) = app.login_as(Role::Leader).await;
    let ceping = leader.get(app.url("/w/dashboard?form=ceping")).send().await.unwrap().text().await.unwrap();
    assert!(!ceping.contains("局办公室"), "the appraisal pools 局办公室");
    // One pooled appraisal opinion joins the problem: from 局办公室, then instead from 清溪.
    let mut seen = Vec::new();
    for unit in ["jg-bgs", "sfs-qingxi"] {
        let opinion = opinion_of(&app, &pooled[&(unit, 0)]).await;
        app.store().link_opinions(&analyst, problem, &[opinion]).await.unwrap();
        let page = leader.get(app.url(&format!("/w/problems/{problem}"))).send().await.unwrap().text().await.unwrap();
        let list = leader.get(app.url("/w/problems")).send().await.unwrap().text().await.unwrap();
        let xlsx = app.export_as(&leader, &csrf, &[("form", "zhengqiu"), ("format", "xlsx")]).await.unwrap();
        let (_, problems) = sheets(&xlsx).into_iter().find(|(n, _)| n == "问题清单").unwrap();
        seen.push((texts(&page, "#units"), texts(&list, &format!("#p{problem} .units")), problems[1][8].clone()));
        app.store().unlink_opinion(&analyst, problem, opinion).await.unwrap();
    }
    assert_eq!(seen[0], seen[1], "the problem page, the list and 问题清单 read the same whichever unit it came from");
    assert!(seen[0].2.contains(OTHER_UNITS), "the appraisal opinion is in the pool: {:?}", seen[0]);
}
