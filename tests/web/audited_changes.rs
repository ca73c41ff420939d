//! An administrator's change and its audit entry are stored together or not at all. The audit table is
//! made to refuse rows (on PostgreSQL with the disk-full code 53100, so the answer must be the 503 of a
//! full disk): every change then fails and leaves nothing behind, no account, link or export job without
//! its entry, no password replaced while its sessions live on, no reloaded form served unaudited. Once the table takes rows again, each
//! change goes through with exactly one entry.

use crate::helpers::{TestApp, is_postgres, refuse_writes};
use wenji::domain::user::Role;
use wenji::store::StoreError;

/// Makes every insert into the audit log fail (`refuse`), or takes that back.
async fn audit_refuses_rows(app: &TestApp, refuse: bool) {
    refuse_writes(app, "audit_log", "INSERT", refuse.then_some("TRUE")).await;
}

/// How many audit entries `action` has.
async fn entries(app: &TestApp, action: &str) -> usize {
    app.store().audit_entries(Some(action), None, None, 1000).await.unwrap().len()
}

/// What the changes below touch, read back from the store.
#[derive(Debug, PartialEq)]
struct Stored {
    new_user: bool,
    target_active: bool,
    target_hash: String,
    target_sessions: usize,
    links: Vec<(i64, bool)>,
    export_jobs: usize,
    form_title: String,
}

async fn stored(app: &TestApp, target: &str, target_session: &reqwest::Client, admin_id: i64) -> Stored {
    let t = app.store().user_by_name(target).await.unwrap().unwrap();
    let signed_in = target_session.get(app.url("/w")).send().await.unwrap().status() == 200;
    Stored {
        new_user: app.store().user_by_name("new.analyst").await.unwrap().is_some(),
        target_active: t.active,
        target_hash: t.password_hash,
        target_sessions: usize::from(signed_in),
        links: app.store().links(None).await.unwrap().into_iter().map(|l| (l.id, l.revoked)).collect(),
        export_jobs: app.store().recent_export_jobs(1000, Some(admin_id)).await.unwrap().len(),
        form_title: app.state.forms().catalog.form("zhengqiu").unwrap().title.clone(),
    }
}

#[tokio::test]
async fn an_admin_change_whose_audit_entry_cannot_be_written_is_not_stored_either() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let admin_id = app.store().users().await.unwrap().into_iter().find(|u| u.role == Role::Admin).unwrap().id;
    let (target_session, _) = app.login_as(Role::Analyst).await;
    let target = app.store().users().await.unwrap().into_iter().find(|u| u.role == Role::Analyst).unwrap();
    let post = |path: &str, fields: Vec<(&'static str, String)>| {
        let mut body = vec![("_csrf", csrf.clone())];
        body.extend(fields);
        let (req, url) = (admin.post(app.url(path)), path.to_owned());
        async move { (url, req.form(&body).send().await.unwrap()) }
    };
    let id = target.id.to_string();
    let pw = "Another-Long-Passphrase-7".to_owned();
    // One link to revoke and enable, made while the log takes rows.
    let link = post("/w/admin/links", vec![("form", "zhengqiu".into()), ("unit", "sfs-qingxi".into())]).await.1;
    assert_eq!(link.status(), 303);
    let link_id = app.store().links(None).await.unwrap()[0].id;
    let changes = || {
        vec![
            post(
                "/w/admin/users",
                vec![
                    ("op", "add".into()),
                    ("username", "new.analyst".into()),
                    ("role", "analyst".into()),
                    ("password", pw.clone()),
                ],
            ),
            post("/w/admin/users", vec![("op", "reset".into()), ("id", id.clone()), ("password", pw.clone())]),
            post("/w/admin/users", vec![("op", "disable".into()), ("id", id.clone())]),
            post("/w/admin/links", vec![("form", "zhengqiu".into()), ("unit", "sfs-baishi".into())]),
            post(&format!("/w/admin/links/{link_id}/revoke"), vec![("confirm", "1".into())]),
            post("/w/exports", vec![("form", "zhengqiu".into()), ("format", "csv".into())]),
            post("/w/admin/forms/reload", vec![]),
        ]
    };
    // The bureau has edited a form's title; the reload below makes it live.
    let path = app.config.forms_dir.join("zhengqiu-yijian.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("分析检查阶段征求意见表", "征求意见表（第二版）")).unwrap();
    let before = stored(&app, &target.username, &target_session, admin_id).await;
    assert_eq!(before.target_sessions, 1, "the analyst is signed in");

    audit_refuses_rows(&app, true).await;
    for change in changes() {
        let (path, r) = change.await;
        let status = r.status().as_u16();
        let page = r.text().await.unwrap();
        if is_postgres() {
            assert_eq!(status, 503, "{path}: a full disk under the audit entry is a 503: {page}");
        } else {
            assert!(status >= 500, "{path}: refused, not acknowledged ({status})");
        }
    }
    assert_eq!(stored(&app, &target.username, &target_session, admin_id).await, before, "nothing was stored");
    // A sign-in that cannot be audited opens no session either (tower-sessions saves none for a 5xx).
    let fresh = app.browser();
    let form = [("username", target.username.as_str()), ("password", crate::helpers::PASSWORD)];
    let r = fresh.post(app.url("/login")).form(&form).send().await.unwrap();
    assert!(r.status().is_server_error(), "sign-in: {}", r.status());
    let home = fresh.get(app.url("/w")).send().await.unwrap();
    assert_ne!(home.status(), 200, "a sign-in without its audit entry opened the workspace");

    audit_refuses_rows(&app, false).await;
    for change in changes() {
        let (path, r) = change.await;
        assert!([200, 303].contains(&r.status().as_u16()), "{path}: {}", r.status());
    }
    let after = stored(&app, &target.username, &target_session, admin_id).await;
    assert!(after.new_user && !after.target_active && after.target_hash != before.target_hash);
    assert_eq!(after.target_sessions, 0, "the reset and the disabling ended the analyst's session");
    assert_eq!(after.links.len(), 2);
    assert!(after.links.contains(&(link_id, true)), "the link is revoked");
    assert_eq!(after.export_jobs, 1);
    assert_eq!(after.form_title, "征求意见表（第二版）", "the reload went live");
    // The UNIQUE constraint's code, not its message, makes a taken name a refusal naming it.
    let again = vec![
        ("op", "add".into()),
        ("username", "new.analyst".into()),
        ("role", "analyst".into()),
        ("password", pw.clone()),
    ];
    let r = post("/w/admin/users", again).await.1;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("用户名 new.analyst 已存在"));
    let actions = [
        "link_created",
        "user_created",
        "password_reset",
        "user_disabled",
        "link_revoked",
        "export_requested",
        "forms_reloaded",
    ];
    for action in actions {
        let want = match action {
            "link_created" => 2,
            // The two accounts of `login_as` and the one added here.
            "user_created" => 3,
            // The forms the server started with, and the reload.
            "forms_reloaded" => 2,
            _ => 1,
        };
        assert_eq!(entries(&app, action).await, want, "{action}: one entry per change");
    }
    // An export job is always someone's.
    let err = app
        .store()
        .create_export_job(
            "csv",
            "{}",
            &wenji::store::audit::Actor::system("cli"),
            false,
            wenji::store::export_jobs::JobCaps { per_user: u64::MAX, overall: u64::MAX },
        )
        .await;
    assert!(matches!(err, Err(StoreError::Corrupt(_))), "an export job needs a user: {err:?}");
}
