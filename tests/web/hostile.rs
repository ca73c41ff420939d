//! Hostile values (a NUL, other control characters, invisible characters, huge values) in every
//! parameter of every route, as the role that may use it: never a 5xx, on either database. The routes
//! are those of `web::router`'s table (see `roles.rs`).

use crate::helpers::{TestApp, texts};
use crate::workspace::submit;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

const HOSTILE: &[&str] =
    &["a\0b", "\0", "WJ-\0", "x\r\ny", "\u{202E}\u{200B}\u{FEFF}", "\u{1}\u{7f}\u{85}", "'\"<>%_\\"];

fn huge() -> String {
    "长".repeat(2500)
}

/// Who sends a request.
#[derive(Clone, Copy, Debug)]
enum As {
    Citizen,
    Staff(Role),
}

/// One route: who may use it, method, path (with `{}` where a path parameter goes), the parameters it
/// reads (query for GET, form fields for POST) and the valid value each gets when another is attacked.
struct Route {
    who: As,
    method: &'static str,
    path: String,
    params: Vec<(&'static str, String)>,
}

fn routes(id: i64, receipt: &str, link: i64) -> Vec<Route> {
    let r = |who, method, path: &str, params: &[(&'static str, &str)]| Route {
        who,
        method,
        path: path.to_owned(),
        params: params.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    };
    let (analyst, admin, leader) = (As::Staff(Role::Analyst), As::Staff(Role::Admin), As::Staff(Role::Leader));
    let citizen = As::Citizen;
    let tag = format!("/w/tag/{id}");
    let card = format!("/w/api/opinions/{id}");
    let receipt_path = format!("/f/zhengqiu/r/{receipt}");
    let links = |tail: &str| format!("/w/admin/links/{link}/{tail}");
    let inbox: &[(&str, &str)] = &[
        ("form", "zhengqiu"),
        ("unit", "sfs-qingxi"),
        ("category", "qz"),
        ("area", "1"),
        ("untagged", ""),
        ("state", "pending"),
        ("from", "2026-01-01"),
        ("to", "2026-12-31"),
        ("q", "基层法律"),
        ("before", "999999"),
        ("page", "1"),
    ];
    vec![
        r(citizen, "GET", "/f/zhengqiu", &[("t", "")]),
        r(citizen, "GET", &receipt_path, &[("t", "")]),
        r(citizen, "GET", "/api/v1/forms/zhengqiu", &[]),
        r(citizen, "GET", "/healthz", &[]),
        r(citizen, "GET", "/api/openapi.json", &[]),
        r(citizen, "GET", "/assets/form.js", &[]),
        r(citizen, "POST", "/login", &[("username", "nobody"), ("password", "wrong-password")]),
        r(citizen, "GET", "/setup", &[("token", "0123")]),
        r(
            citizen,
            "POST",
            "/setup",
            &[("token", "0123"), ("username", "boss"), ("display_name", "x"), ("password", "p"), ("password2", "p")],
        ),
        r(analyst, "GET", "/w/inbox", inbox),
        r(leader, "GET", "/w/inbox", inbox),
        r(analyst, "GET", "/w/dashboard", &[]),
        r(analyst, "GET", "/w/tag", &[]),
        r(analyst, "GET", &tag, &[]),
        r(
            analyst,
            "POST",
            &tag,
            &[
                ("op", "note"),
                ("area", "1"),
                ("suggested", "1"),
                ("state", "pending"),
                ("text", "核实"),
                ("on", "1"),
                ("back", "/w/inbox"),
            ],
        ),
        r(analyst, "POST", &tag, &[("op", "state"), ("state", "pending"), ("back", "/w/inbox")]),
        r(analyst, "POST", &tag, &[("op", "save"), ("area", "1"), ("suggested", "1")]),
        r(analyst, "POST", "/w/keywords", &[("area", "7"), ("word", "拖拉"), ("back", "/w/tag")]),
        r(analyst, "GET", &card, &[]),
        r(analyst, "POST", &card, &[("op", "representative"), ("on", "1")]),
        r(analyst, "GET", "/w/api/next", &[("after", "0")]),
        r(
            analyst,
            "POST",
            "/w/inbox/bulk",
            &[("ids", &id.to_string()), ("scope", "selected"), ("filter", "q=基层"), ("area", "1"), ("action", "add")],
        ),
        r(
            analyst,
            "POST",
            "/w/inbox/bulk",
            &[("scope", "all"), ("filter", "q=基层&unit=sfs-qingxi"), ("area", "1"), ("action", "add")],
        ),
        r(analyst, "POST", "/w/inbox/bulk/undo", &[("at", "1"), ("filter", "q=基层")]),
        r(admin, "GET", "/w/admin/users", &[]),
        r(
            admin,
            "POST",
            "/w/admin/users",
            &[
                ("op", "add"),
                ("id", "1"),
                ("username", "newbie"),
                ("display_name", "新人"),
                ("role", "analyst"),
                ("password", "short"),
            ],
        ),
        r(admin, "GET", "/w/admin/audit", &[("action", "sign_in"), ("actor", "someone"), ("before", "99")]),
        r(admin, "GET", "/w/admin/forms", &[]),
        r(admin, "POST", "/w/admin/forms/reload", &[]),
        r(admin, "GET", "/w/admin/links", &[("created", "1")]),
        r(
            admin,
            "POST",
            "/w/admin/links",
            &[("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("category", ""), ("label", "海报")],
        ),
        r(admin, "POST", &links("revoke"), &[("confirm", "1")]),
        r(admin, "GET", &links("revoke"), &[]),
        r(admin, "POST", &links("enable"), &[]),
        r(admin, "GET", &links("qr.svg"), &[]),
        r(admin, "GET", &links("qr.png"), &[]),
        r(admin, "GET", &links("print"), &[]),
        r(admin, "GET", "/w/admin/contacts", &[("deleted", "1"), ("log", "kept")]),
        r(admin, "GET", "/w/admin/contacts/1/delete", &[]),
        r(admin, "POST", "/w/admin/contacts/1/delete", &[("confirm", "1")]),
        r(admin, "GET", "/w/admin/contacts/forms/zhengqiu/delete", &[]),
        r(admin, "POST", "/w/admin/contacts/forms/zhengqiu/delete", &[("confirm", "1"), ("upto", "1")]),
        r(leader, "GET", "/w/exports", &[]),
        r(
            leader,
            "POST",
            "/w/exports",
            &[
                ("form", "zhengqiu"),
                ("unit", "sfs-qingxi"),
                ("from", "2026-01-01"),
                ("to", "2026-12-31"),
                ("format", "xlsx"),
            ],
        ),
        r(leader, "GET", "/w/exports/1", &[]),
        r(leader, "GET", "/w/exports/1/download", &[]),
    ]
}

/// Each path with each of its segments replaced by a hostile value, percent-encoded.
fn hostile_paths(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::new();
    for i in 1..segments.len() {
        for v in HOSTILE {
            let mut s: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            s[i] = url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>().replace('+', "%20");
            out.push(s.join("/"));
        }
    }
    out
}

#[tokio::test]
async fn hostile_values_in_every_parameter_of_every_route_never_give_a_5xx() {
    let app = TestApp::spawn().await;
    let receipt = app.submit_opinion("希望加强基层法律服务").await;
    let id = submit(&app, "办事窗口排队时间太长").await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap().id;
    let mut staff = Vec::new();
    for role in [Role::Admin, Role::Analyst, Role::Leader] {
        let (c, csrf) = app.login_as(role).await;
        staff.push((role, c, csrf));
    }
    let huge = huge();
    let mut values: Vec<&str> = HOSTILE.to_vec();
    values.push(&huge);
    let mut failures = Vec::new();
    let mut sent = 0;
    for route in routes(id, &receipt, link) {
        let (client, csrf) = match route.who {
            As::Citizen => (app.citizen.clone(), String::new()),
            As::Staff(role) => staff.iter().find(|(r, ..)| *r == role).map(|(_, c, t)| (c.clone(), t.clone())).unwrap(),
        };
        let mut attempts: Vec<(String, Vec<(String, String)>)> = Vec::new();
        let valid: Vec<(String, String)> = route.params.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        for (i, (name, _)) in route.params.iter().enumerate() {
            for v in &values {
                let mut p = valid.clone();
                p[i].1 = (*v).to_owned();
                attempts.push((route.path.clone(), p.clone()));
                // The value as a parameter's name, and the parameter repeated.
                attempts.push((route.path.clone(), [p.clone(), vec![((*v).to_owned(), "1".into())]].concat()));
                attempts
                    .push((route.path.clone(), [valid.clone(), vec![((*name).to_owned(), (*v).to_owned())]].concat()));
            }
        }
        for path in hostile_paths(&route.path) {
            attempts.push((path, valid.clone()));
        }
        for (path, params) in attempts {
            let url = app.url(&path);
            let r = if route.method == "GET" {
                client.get(&url).query(&params).send().await
            } else {
                let mut form = params.clone();
                if !csrf.is_empty() {
                    form.push(("_csrf".into(), csrf.clone()));
                }
                client.post(&url).form(&form).send().await
            };
            let status = r.unwrap().status();
            sent += 1;
            if status.is_server_error() {
                let shown: Vec<(String, String)> =
                    params.iter().map(|(k, v)| (k.clone(), v.chars().take(12).collect())).collect();
                failures.push(format!("{:?} {} {path} {shown:?} -> {status}", route.who, route.method));
            }
        }
    }
    // Citizens' submissions: every field of the HTML form and of the JSON API.
    let fields =
        ["_key", "_t", "_category", "_hp", "q_team", "q_has_member", "q_member", "q_satisfaction", "q_phone", "q_x.y"];
    for field in fields {
        for v in &values {
            let key = app.form_key("zhengqiu").await;
            let mut pairs = vec![
                ("_category", "qz"),
                ("q_team", "希望加强基层法律服务"),
                ("q_has_member", "no"),
                ("q_satisfaction", "2"),
            ];
            pairs.retain(|(k, _)| *k != field);
            pairs.push((field, v));
            let status = app.post_form_with_key("zhengqiu", &key, &pairs).await.status();
            sent += 1;
            if status.is_server_error() {
                failures
                    .push(format!("POST /f/zhengqiu {field}={:?} -> {status}", v.chars().take(12).collect::<String>()));
            }
        }
    }
    for (n, v) in values.iter().enumerate() {
        let bodies = [
            serde_json::json!({"link": v, "category": "qz", "answers": {"team": "希望加强基层法律服务", "has_member": "no", "satisfaction": "2"}}),
            serde_json::json!({"category": v, "answers": {"team": "希望加强基层法律服务", "has_member": "no", "satisfaction": "2"}}),
            serde_json::json!({"category": "qz", "answers": {"team": v, "has_member": v, "satisfaction": v, "phone": v}}),
            serde_json::json!({"category": "qz", "answers": {*v: v, "team": {*v: v}}}),
        ];
        for (b, body) in bodies.iter().enumerate() {
            let key = format!("hostile-json-{n}-{b}");
            let status = app.submit_json("zhengqiu", &key, body).await.status();
            sent += 1;
            if status.is_server_error() {
                failures.push(format!("POST /api/v1/forms/zhengqiu/responses body {b} value {n} -> {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {sent} requests gave a 5xx:\n{}", failures.len(), failures.join("\n"));
    assert!(sent > 1000, "{sent}");
}

#[tokio::test]
async fn a_nul_in_a_search_a_filter_or_a_receipt_is_refused_with_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let (leader, _) = app.login_as(Role::Leader).await;
    for (path, name) in [
        ("/w/inbox?q=a%00bcd", "q"),
        ("/w/inbox?unit=%00", "unit"),
        ("/w/inbox?form=a%00", "form"),
        ("/w/inbox?category=%00x", "category"),
    ] {
        let r = leader.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 422, "{path}");
        let named = wenji::web::clean::field_name(name);
        assert!(r.text().await.unwrap().contains(&format!("{named}：含有不允许的控制字符")), "{path}");
    }
    let r = app.citizen.get(app.url("/f/zhengqiu/r/WJ-%00")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app.citizen.post(app.url("/login")).form(&[("username", "a\0b"), ("password", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 422);
}

/// A parameter given twice or a value that is not what the page reads (a link mangled by a chat app, a
/// hand-edited address) gets a 400 in Chinese naming the parameter, on citizen and staff pages alike
/// (axum's own answer was English plain text: "Failed to deserialize query string: duplicate field `t`").
#[tokio::test]
async fn a_parameter_given_twice_or_unreadable_is_refused_in_chinese_naming_it() {
    let app = TestApp::spawn().await;
    let receipt = app.submit_opinion("窗口服务要改进").await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let citizen_pages = [
        ("/f/zhengqiu?t=a&t=b".to_owned(), "t"),
        (format!("/f/zhengqiu/r/{receipt}?t=a&t=b"), "t"),
        ("/gongkai?rated=1&rated=2".to_owned(), "rated"),
        ("/setup?token=a&token=b".to_owned(), "token"),
    ];
    let staff_pages = [
        (&admin, "/w/inbox?page=-1", "page"),
        (&admin, "/w/inbox?before=9223372036854775808", "before"),
        (&admin, "/w/admin/audit?before=x", "before"),
        (&admin, "/w/admin/links?created=x", "created"),
        (&admin, "/w/dashboard?form=zhengqiu&form=ceping", "form"),
        (&analyst, "/w/api/next?after=x", "after"),
    ];
    let checks = citizen_pages
        .iter()
        .map(|(p, n)| (&app.citizen, p.as_str(), *n))
        .chain(staff_pages.iter().map(|(c, p, n)| (*c, *p, *n)));
    for (client, path, name) in checks {
        let r = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("地址参数 {name} ")) && !body.contains("deserialize"), "{path}: {body}");
        let twice = path.matches(&format!("{name}=")).count() > 1;
        assert_eq!(body.contains("出现了不止一次"), twice, "{path}: {body}");
    }
}

/// A staff form refused at the edge (a control character pasted with the text, a body in another encoding,
/// a field sent in a way the page never sends) names the field by its label and shows back every text
/// field typed, to copy: an analyst's long root-cause analysis is not lost to a stray character. Nothing
/// is stored.
#[tokio::test]
async fn a_refused_staff_form_names_the_field_and_shows_back_what_was_typed() {
    let app = TestApp::spawn().await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let analysis = "窗口人员少，群众排队时间长。".repeat(40);
    let post = |body: String, content_type: &'static str| {
        analyst.post(app.url("/w/problems")).header("content-type", content_type).body(body).send()
    };
    let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let fields = |description: &str| {
        let (title, analysis) = (encode("排队时间长"), encode(&analysis));
        format!("_csrf={csrf}&title={title}&area=6&description={}&root_cause={analysis}", encode(description))
    };
    let form = "application/x-www-form-urlencoded";
    let cases = [
        (post(fields("窗口\u{b}少"), form).await.unwrap(), 422, "问题描述：含有不允许的控制字符"),
        (post(fields("窗口少"), "application/x-www-form-urlencoded; charset=gbk").await.unwrap(), 415, "不是 UTF-8"),
        (post(fields("窗口少") + "&title=again", form).await.unwrap(), 400, "“标题”一栏出现了不止一次"),
    ];
    for (r, status, said) in cases {
        assert_eq!(r.status().as_u16(), status, "{said}");
        let page = r.text().await.unwrap();
        assert!(page.contains(said) && !page.contains("。。"), "{said}: {page}");
        let kept = texts(&page, ".kept textarea");
        assert!(kept.contains(&analysis), "{said}: the analysis is shown back: {kept:?}");
        assert!(kept.iter().any(|t| t.starts_with("窗口")), "{said}: {kept:?}");
    }
    let invalid = format!("_csrf={csrf}&title=%FF%FE%E6%84&area=6&description=x&root_cause=y");
    assert_eq!(post(invalid, form).await.unwrap().status(), 415, "bytes that are not UTF-8 are not stored as U+FFFD");
    assert!(app.store().problems().await.unwrap().is_empty(), "nothing stored");
    // A choice or an id is nothing typed: a bulk action's `add` is not shown back as a measure's text.
    let bulk = format!("_csrf={csrf}&scope=selected&ids=99999999999999999999&area=6&action=add");
    let r = analyst.post(app.url("/w/inbox/bulk")).header("content-type", form).body(bulk).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("“所选意见”一栏的值无法识别"), "{page}");
    assert!(texts(&page, ".kept textarea").is_empty(), "{page}");
}

/// A body in another encoding (GBK here, a client that ignores the page's UTF-8) was stored with U+FFFD
/// for each character and acknowledged with a receipt: the text was lost while the citizen was told it
/// was kept.
#[tokio::test]
async fn a_citizens_text_that_is_not_utf8_is_refused_in_chinese_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let gbk = "%B0%EC%CA%C2%D0%A7%C2%CA%CC%AB%B5%CD%D0%E8%D2%AA%B8%C4%BD%F8"; // 办事效率太低需要改进
    let urlencoded = |key: &str, charset: &str| {
        let body = format!("_key={key}&_category=qz&q_team={gbk}&q_has_member=no&q_satisfaction=2");
        app.citizen
            .post(app.url("/f/zhengqiu"))
            .header("content-type", format!("application/x-www-form-urlencoded{charset}"))
            .body(body)
            .send()
    };
    let multipart = |key: &str, charset: &str| {
        let mut body = format!("--b0\r\nContent-Disposition: form-data; name=\"_key\"\r\n\r\n{key}\r\n").into_bytes();
        body.extend(b"--b0\r\nContent-Disposition: form-data; name=\"q_team\"\r\n\r\n");
        body.extend([0xB0, 0xEC, 0xCA, 0xC2, 0xD0, 0xA7, 0xC2, 0xCA, 0xCC, 0xAB, 0xB5, 0xCD]);
        body.extend(b"\r\n--b0--\r\n");
        let ct = format!("multipart/form-data; boundary=b0{charset}");
        app.citizen.post(app.url("/f/zhengqiu")).header("content-type", ct).body(body).send()
    };
    for (what, r) in [
        ("urlencoded", urlencoded(&app.form_key("zhengqiu").await, "").await),
        ("urlencoded, charset=gbk", urlencoded(&app.form_key("zhengqiu").await, "; charset=gbk").await),
        ("multipart", multipart(&app.form_key("zhengqiu").await, "").await),
        ("multipart, charset=GB2312", multipart(&app.form_key("zhengqiu").await, "; charset=GB2312").await),
    ] {
        let r = r.unwrap();
        assert_eq!(r.status(), 415, "{what}");
        assert!(r.text().await.unwrap().contains("不是 UTF-8 编码的文字"), "{what}");
    }
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0, "nothing stored");
    // UTF-8 still goes through, with or without the charset said.
    let key = app.form_key("zhengqiu").await;
    let body = format!(
        "_key={key}&_category=qz&q_team=%E5%8A%9E%E4%BA%8B%E6%95%88%E7%8E%87%E5%A4%AA%E4%BD%8E&q_has_member=no&q_satisfaction=2"
    );
    let r = app
        .citizen
        .post(app.url("/f/zhengqiu"))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

/// The tagging screen posts with its token in a header and reads JSON: a refusal at the edge (a control
/// character pasted into a note) comes back as JSON naming the field, which the page shows, not as an HTML
/// page the script would read as "signed out".
#[tokio::test]
async fn the_tagging_screens_refused_post_is_answered_in_json_naming_the_field() {
    let app = TestApp::spawn().await;
    let id = submit(&app, "调解回访不够及时").await;
    let (analyst, csrf) = app.login_as(Role::Analyst).await;
    let r = analyst
        .post(app.url(&format!("/w/api/opinions/{id}")))
        .header("x-csrf-token", &csrf)
        .form(&[("op", "note"), ("text", "回访\u{b}再核实")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("json"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("备注：含有不允许的控制字符"), "{body}");
    assert!(app.store().opinion(id).await.unwrap().notes.is_empty());
}

/// A query value that is not UTF-8 once decoded is refused (it was searched for as "�("), and the
/// workspace's filters and flags are named in Chinese when refused, never by their codes.
#[tokio::test]
async fn a_query_that_is_not_utf8_is_refused_and_every_filter_is_named_in_chinese() {
    let app = TestApp::spawn().await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    for path in ["/w/inbox?q=%C3%28", "/w/inbox?q=%ED%A0%80", "/w/admin/audit?actor=%FF"] {
        let r = analyst.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        assert!(r.text().await.unwrap().contains("地址中含有不允许的字符"), "{path}");
    }
    for (path, named) in [("/w/inbox?page=%00", "翻页"), ("/w/inbox?state=%00", "状态"), ("/w/inbox?form=%00", "表单")]
    {
        let page = analyst.get(app.url(path)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("{named}：含有不允许的控制字符")), "{path}: {page}");
    }
    // A citizen's link with a garbled parameter of WeChat's own still opens.
    let r = app.citizen.get(app.url("/f/zhengqiu?nsukey=%FF%FE")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
