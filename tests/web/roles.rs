//! Every staff route against every role, in one table: each role gets exactly what it should; anonymous
//! visitors are sent to sign-in (303 to `/login`), a wrong role gets 403.

use crate::helpers::TestApp;
use crate::workspace::opinion_id;
use wenji::domain::user::Role;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    As(Role),
}

/// One route: method, path, form body (the CSRF token is added for signed-in roles), the roles allowed,
/// and the status an allowed role gets.
struct Case {
    method: &'static str,
    path: String,
    body: Vec<(&'static str, String)>,
    allowed: &'static [Role],
    ok: u16,
}

const ALL: &[Role] = &[Role::Admin, Role::Analyst, Role::Leader];
const ANALYST: &[Role] = &[Role::Analyst];
const ADMIN: &[Role] = &[Role::Admin];
const OFFICE: &[Role] = &[Role::Admin, Role::Analyst];
const DOWNLOADERS: &[Role] = &[Role::Admin, Role::Leader];

fn cases(id: i64) -> Vec<Case> {
    let get = |path: String, allowed, ok| Case { method: "GET", path, body: Vec::new(), allowed, ok };
    let post =
        |path: String, body: Vec<(&'static str, String)>, allowed, ok| Case { method: "POST", path, body, allowed, ok };
    vec![
        get("/w".into(), ALL, 200),
        get("/w/inbox".into(), ALL, 200),
        get("/w/inbox?q=基层".into(), ALL, 200),
        get("/w/dashboard".into(), ALL, 200),
        get("/w/tag".into(), ANALYST, 303),
        get(format!("/w/tag/{id}"), ANALYST, 200),
        get(format!("/w/clusters/{id}"), OFFICE, 200),
        get("/w/clusters/999999".into(), OFFICE, 404),
        get(format!("/w/api/opinions/{id}"), ANALYST, 200),
        get("/w/api/next?after=0".into(), ANALYST, 200),
        get("/w/api/csrf".into(), ANALYST, 200),
        get("/w/admin/users".into(), ADMIN, 200),
        get("/w/admin/audit".into(), ADMIN, 200),
        get("/w/admin/forms".into(), ADMIN, 200),
        get("/w/admin/links".into(), ADMIN, 200),
        get("/w/exports".into(), DOWNLOADERS, 200),
        get("/w/adjudication".into(), ANALYST, 200),
        get("/w/admin/double-coding".into(), ADMIN, 200),
        post("/w/admin/double-coding".into(), vec![("form", "no-such-form".into())], ADMIN, 400),
        // An opinion that does not exist: the role is checked before the lookup (and the adjudicator after).
        post("/w/adjudication/999999".into(), vec![("area", "1".into())], ANALYST, 404),
        post("/w/admin/forms/reload".into(), vec![], ADMIN, 200),
        // Other helpers' pages, with ids that do not exist: the role is checked before the lookup.
        get("/w/admin/links/999999/qr.svg".into(), ADMIN, 404),
        get("/w/admin/links/999999/qr.png".into(), ADMIN, 404),
        get("/w/admin/links/999999/print".into(), ADMIN, 404),
        post("/w/admin/links/999999/revoke".into(), vec![], ADMIN, 404),
        get("/w/admin/links/999999/revoke".into(), ADMIN, 404),
        post("/w/admin/links/999999/enable".into(), vec![], ADMIN, 404),
        get("/w/admin/links/999999/codes".into(), ADMIN, 404),
        post("/w/admin/links/999999/codes".into(), vec![("count", "3".into())], ADMIN, 404),
        post("/w/admin/links/999999/codes/drop".into(), vec![("confirm", "1".into())], ADMIN, 404),
        // Contacts citizens left (none here): administrators only, the role checked before the lookup.
        get("/w/admin/contacts".into(), ADMIN, 200),
        get("/w/admin/contacts/999999/delete".into(), ADMIN, 404),
        post("/w/admin/contacts/999999/delete".into(), vec![("confirm", "1".into())], ADMIN, 404),
        get("/w/admin/contacts/forms/zhengqiu/delete".into(), ADMIN, 404),
        post(
            "/w/admin/contacts/forms/zhengqiu/delete".into(),
            vec![("confirm", "1".into()), ("upto", "999999".into())],
            ADMIN,
            404,
        ),
        get("/w/exports/999999".into(), DOWNLOADERS, 404),
        post("/w/admin/links".into(), vec![("form", "no-such-form".into())], ADMIN, 422),
        post("/w/exports".into(), vec![("form", "no-such-form".into())], DOWNLOADERS, 400),
        get("/w/exports/999999/download".into(), DOWNLOADERS, 404),
        post(format!("/w/tag/{id}"), vec![("op", "note".into()), ("text", "核实一下".into())], ANALYST, 303),
        post(format!("/w/api/opinions/{id}"), vec![("op", "representative".into()), ("on", "1".into())], ANALYST, 200),
        post(
            "/w/inbox/bulk".into(),
            vec![("scope", "selected".into()), ("ids", id.to_string()), ("area", "1".into()), ("action", "add".into())],
            ANALYST,
            200,
        ),
        post("/w/inbox/bulk/undo".into(), vec![("at", "0".into()), ("confirm", "1".into())], ANALYST, 200),
        post("/w/keywords".into(), vec![("area", "7".into()), ("word", "拖拉".into())], ANALYST, 303),
        // 问题清单 and 整改台账 (issue 22): ids that do not exist, so the role is checked before the lookup.
        get("/w/problems".into(), ALL, 200),
        get("/w/problems/999999".into(), ALL, 404),
        get("/w/register".into(), ALL, 200),
        get("/w/register.xlsx".into(), DOWNLOADERS, 200),
        post(
            "/w/problems".into(),
            vec![
                ("title", "办事效率低".into()),
                ("area", "7".into()),
                ("description", "要跑多次".into()),
                ("root_cause", "流程繁琐".into()),
            ],
            ANALYST,
            303,
        ),
        post("/w/problems/999999".into(), vec![("title", "x".into())], ALL, 404),
        post("/w/problems/link".into(), vec![("ids", id.to_string())], ANALYST, 200),
        post("/w/problems/999999/unlink".into(), vec![("opinion", id.to_string())], ANALYST, 404),
        post("/w/problems/999999/merge".into(), vec![("into", "1".into()), ("confirm", "1".into())], ANALYST, 404),
        post("/w/problems/999999/measures".into(), vec![("action", "x".into())], ALL, 404),
        post("/w/measures/999999".into(), vec![("action", "x".into())], ALL, 404),
        post("/w/measures/999999/publish".into(), vec![("publish", "1".into())], DOWNLOADERS, 404),
        post("/w/measures/999999/progress".into(), vec![("on", "2027-01-01".into())], DOWNLOADERS, 404),
        // A weak password: the admin may try (and is told why it is refused); nobody else may.
        post(
            "/w/admin/users".into(),
            vec![
                ("op", "add".into()),
                ("username", "newbie".into()),
                ("role", "analyst".into()),
                ("password", "short".into()),
            ],
            ADMIN,
            422,
        ),
        // Last, as it ends each session.
        post("/logout".into(), vec![], ALL, 303),
    ]
}

#[tokio::test]
async fn every_route_gives_each_role_exactly_what_it_should() {
    let app = TestApp::spawn().await;
    let id = opinion_id(&app, &app.submit_opinion("希望加强基层法律服务").await).await;
    let anonymous = app.browser();
    let mut clients = vec![(Who::Anonymous, anonymous, String::new())];
    for r in ALL {
        let (c, csrf) = app.login_as(*r).await;
        clients.push((Who::As(*r), c, csrf));
    }
    let mut checked = 0;
    for case in cases(id) {
        for (who, client, csrf) in &clients {
            let url = app.url(&case.path);
            let resp = if case.method == "GET" {
                client.get(&url).send().await.unwrap()
            } else {
                let mut body: Vec<(&str, String)> = case.body.clone();
                if *who != Who::Anonymous {
                    body.push(("_csrf", csrf.clone()));
                }
                client.post(&url).form(&body).send().await.unwrap()
            };
            let status = resp.status().as_u16();
            let location = resp.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
            match who {
                Who::Anonymous => {
                    assert_eq!(status, 303, "anonymous {} {}", case.method, case.path);
                    assert_eq!(location.as_deref(), Some("/login"), "anonymous {} {}", case.method, case.path);
                }
                Who::As(role) if case.allowed.contains(role) => {
                    assert_eq!(status, case.ok, "{role:?} {} {}", case.method, case.path);
                    if status == 303 && case.path != "/logout" {
                        assert_ne!(location.as_deref(), Some("/login"), "{role:?} {} {}", case.method, case.path);
                    }
                }
                Who::As(role) => assert_eq!(status, 403, "{role:?} {} {} must be refused", case.method, case.path),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, cases(id).len() * 4);
    // After signing out, nobody gets in with the same client.
    for (who, client, _) in &clients {
        let r = client.get(app.url("/w/inbox")).send().await.unwrap();
        assert_eq!(r.headers().get("location").map(|v| v.to_str().unwrap()), Some("/login"), "{who:?} after sign-out");
    }
}

#[tokio::test]
async fn the_public_pages_answer_every_visitor_alike_signed_in_or_not() {
    let app = TestApp::spawn().await;
    let mut clients = vec![(Who::Anonymous, app.browser())];
    for r in ALL {
        clients.push((Who::As(*r), app.login_as(*r).await.0));
    }
    let mut seen = Vec::new();
    for (who, client) in &clients {
        let page = client.get(app.url("/gongkai")).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "{who:?} GET /gongkai");
        // A rating with no key and no measure: refused the same way for everyone, never a sign-in redirect.
        let form = reqwest::multipart::Form::new().text("rating", "满意");
        let rated = client.post(app.url("/gongkai")).multipart(form).send().await.unwrap().status().as_u16();
        assert!((400..500).contains(&rated), "{who:?} POST /gongkai gave {rated}");
        let internal = client.get(app.url("/f/gongkai-pingjia")).send().await.unwrap().status().as_u16();
        assert_eq!(internal, 404, "{who:?} GET /f/gongkai-pingjia");
        seen.push(rated);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "every visitor gets the same answer: {seen:?}");
}
