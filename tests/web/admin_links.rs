//! The administrators' links page: create, list, revoke, QR codes (SVG and PNG, decoded back) and the
//! printable page; every other role is refused, and every change is audited.

use crate::helpers::{TestApp, client, hidden, texts};
use wenji::domain::user::Role;
use wenji::store::audit::Actor;

/// Decodes the QR code in a PNG and returns its text.
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes)).read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().expect("the QR code decodes").1
}

/// Creates a link through the page and returns its id.
async fn create(c: &reqwest::Client, app: &TestApp, csrf: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut body = vec![("_csrf", csrf)];
    body.extend_from_slice(fields);
    c.post(app.url("/w/admin/links")).form(&body).send().await.unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_link_prints_its_qr_code_and_revokes_it() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let page = admin.get(app.url("/w/admin/links")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(texts(&page.text().await.unwrap(), "#no-links"), vec!["还没有链接。"]);

    let r = create(
        &admin,
        &app,
        &csrf,
        &[("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("category", "zhengqiu:sfs"), ("label", "海报 2026-05")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let link = app.store().links(None).await.unwrap().pop().expect("one link stored");
    assert_eq!((link.unit_code.as_str(), link.category_code.as_deref()), ("sfs-qingxi", Some("sfs")));
    assert_eq!(link.label, "海报 2026-05");
    assert!(r.headers()["location"].to_str().unwrap().contains(&format!("created={}", link.id)));

    // The list shows the full address; a citizen opening it sees the unit.
    let html = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse(&format!("#link-{} input.url", link.id)).unwrap();
    let url = doc.select(&sel).next().unwrap().value().attr("value").unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/f/zhengqiu?t=", app.base)), "{url}");
    let form = app.citizen.get(&url).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let form = form.text().await.unwrap();
    assert!(texts(&form, ".unit")[0].contains("清溪镇司法所"));
    // The category the link sets is said, since the citizen does not choose it (the page said nothing, and
    // its privacy box spoke of "您选择的身份类别").
    assert!(texts(&form, "#fixed-category")[0].starts_with("您的身份：乡镇（街道）司法所（由本链接设定"), "{form}");
    assert!(texts(&form, "#privacy li")[1].contains("本链接设定的身份类别“乡镇（街道）司法所”"), "{form}");

    // The SVG carries the code, the form title and the unit; the PNG's code reads back as the address.
    let svg = admin.get(app.url(&format!("/w/admin/links/{}/qr.svg", link.id))).send().await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.headers()["content-disposition"].to_str().unwrap().contains(&format!("link-{}.svg", link.id)));
    let svg = svg.text().await.unwrap();
    let svg_doc = scraper::Html::parse_fragment(&svg);
    let text_sel = scraper::Selector::parse("svg > text").unwrap();
    let lines: Vec<String> = svg_doc.select(&text_sel).map(|e| e.text().collect()).collect();
    assert_eq!(lines, vec!["分析检查阶段征求意见表".to_owned(), "清溪镇司法所".to_owned()]);
    assert!(svg.trim_end().ends_with("</svg>") && svg.matches("<svg").count() == 2, "nested, well-formed svg");
    let png = admin.get(app.url(&format!("/w/admin/links/{}/qr.png", link.id))).send().await.unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_qr(&png.bytes().await.unwrap()), url, "the printed code opens this unit's link");

    // The printable page: the code, the title and the unit under it.
    let print = admin.get(app.url(&format!("/w/admin/links/{}/print", link.id))).send().await.unwrap();
    assert_eq!(print.status(), 200);
    let print = print.text().await.unwrap();
    assert_eq!(texts(&print, ".poster-title"), vec!["分析检查阶段征求意见表"]);
    assert_eq!(texts(&print, ".poster-unit"), vec!["清溪镇司法所"]);
    // The test server's links point at 127.0.0.1: the page warns before anyone prints them.
    assert!(texts(&print, "#base-warning")[0].contains("WENJI_PUBLIC_URL"));
    let doc = scraper::Html::parse_document(&print);
    let img = doc.select(&scraper::Selector::parse("img.qr").unwrap()).next().unwrap();
    let src = img.value().attr("src").unwrap();
    let inline = admin.get(app.url(src)).send().await.unwrap();
    assert!(inline.headers().get("content-disposition").is_none(), "shown in the page, not saved");
    assert_eq!(decode_qr(&inline.bytes().await.unwrap()), url);

    let created = app.store().audit_entries(Some("link_created"), None, None, 10).await.unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].target, format!("link:{}", link.id));
    assert!(created[0].actor_name.starts_with("admin-"));

    // Revoking, once confirmed: audited, the address and the QR downloads stop working.
    let r = admin
        .post(app.url(&format!("/w/admin/links/{}/revoke", link.id)))
        .form(&[("_csrf", csrf.as_str()), ("confirm", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app.store().link(link.id).await.unwrap().revoked);
    assert_eq!(app.citizen.get(&url).send().await.unwrap().status(), 403);
    for suffix in ["qr.svg", "qr.png", "print"] {
        let r = admin.get(app.url(&format!("/w/admin/links/{}/{suffix}", link.id))).send().await.unwrap();
        assert_eq!(r.status(), 409, "{suffix} of a revoked link");
    }
    let html = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&html, &format!("#link-{} .state", link.id)), vec!["已停用"]);
    let revoked = app.store().audit_entries(Some("link_revoked"), None, None, 10).await.unwrap();
    assert_eq!(revoked.len(), 1);
}

#[tokio::test]
async fn revoking_asks_first_and_a_revoked_link_can_be_enabled_again_with_the_same_address() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "海报", &Actor::system("test")).await.unwrap();
    let revoke = app.url(&format!("/w/admin/links/{}/revoke", link.id));
    let list = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&list, &format!("#link-{} form[action$='/revoke']", link.id)).len(), 0, "no one-click revoke");
    let url = texts_attr(&list, &format!("#url-{}", link.id), "value");
    assert_eq!(app.citizen.get(&url).send().await.unwrap().status(), 200);

    // The list's 停用 opens a confirmation page; a post without its confirm field only shows it again.
    let page = admin.get(&revoke).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&page, "#confirm-revoke"), vec!["确认停用"]);
    assert!(texts(&page, "#revoke-confirm").join("").contains("重新启用"), "says it can be undone");
    let r = admin.post(&revoke).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(!app.store().link(link.id).await.unwrap().revoked, "not revoked without confirmation");
    let r = admin.post(&revoke).form(&[("_csrf", csrf.as_str()), ("confirm", "1")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.citizen.get(&url).send().await.unwrap().status(), 403);

    // 重新启用: the same address works again; audited.
    let list = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&list, &format!("#link-{} button.enable", link.id)), vec!["重新启用"]);
    let enable = app.url(&format!("/w/admin/links/{}/enable", link.id));
    let r = admin.post(&enable).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(!app.store().link(link.id).await.unwrap().revoked);
    assert_eq!(app.citizen.get(&url).send().await.unwrap().status(), 200, "the printed code works again");
    let list = admin.get(app.url("/w/admin/links")).send().await.unwrap().text().await.unwrap();
    assert_eq!(texts(&list, &format!("#link-{} .state", link.id)), vec!["使用中"]);
    assert_eq!(texts_attr(&list, &format!("#url-{}", link.id), "value"), url, "the same address");
    let enabled = app.store().audit_entries(Some("link_enabled"), None, None, 10).await.unwrap();
    assert_eq!(enabled.len(), 1);
    // Hostile ids are refused as bad requests, never a 500.
    for id in ["%00", "1%E2%80%8B", "99999999999999999999999", "-1"] {
        let r = admin.get(app.url(&format!("/w/admin/links/{id}/revoke"))).send().await.unwrap();
        assert!(r.status().is_client_error(), "{id}: {}", r.status());
        let r = admin.post(app.url(&format!("/w/admin/links/{id}/enable"))).form(&[("_csrf", csrf.as_str())]).send();
        assert!(r.await.unwrap().status().is_client_error(), "{id}");
    }
}

/// A link revoked while a citizen writes: the refusal names it, nothing is stored, and the text comes back
/// on the page to copy (it was a bare 403 and the text was gone).
#[tokio::test]
async fn a_citizen_whose_link_is_revoked_while_writing_gets_the_text_back_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "海报", &Actor::system("test")).await.unwrap();
    let token = app.state.secret.link_token(link.id, "zhengqiu", "sfs-qingxi", None);
    let page = app.citizen.get(app.url(&format!("/f/zhengqiu?t={token}"))).send().await.unwrap().text().await.unwrap();
    let key = hidden(&page, "_key").unwrap();
    app.store().set_link_revoked(link.id, true, &Actor::system("test")).await.unwrap();
    let typed = [
        ("_key", key.as_str()),
        ("_t", token.as_str()),
        ("q_team", "班子下基层调研次数太少，很多问题不了解"),
        ("q_has_member", "no"),
        ("q_work", ""),
        ("q_satisfaction", "3"),
    ];
    let r = app.citizen.post(app.url("/f/zhengqiu")).form(&typed).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(texts(&page, ".message")[0].contains("已停用"), "{page}");
    assert_eq!(texts(&page, ".kept textarea"), ["班子下基层调研次数太少，很多问题不了解"]);
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

/// Creates the administrator `name` and signs in as them in the browser.
async fn sign_in_as_admin(b: &crate::browser::Browser, app: &TestApp, name: &str) {
    app.create_user(name, Role::Admin).await;
    b.goto(&app.url("/login")).await;
    b.fill("input[name=username]", name).await;
    b.fill("input[name=password]", crate::helpers::PASSWORD).await;
    b.click_and_wait_for_navigation("form[action='/login'] button").await;
}

/// The `attr` of the first element matching `selector`.
fn texts_attr(html: &str, selector: &str, attr: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).next().and_then(|e| e.value().attr(attr)).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_bad_link_request_names_its_field_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let (admin, csrf) = app.login_as(Role::Admin).await;
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("form", "nope"), ("unit", "sfs-qingxi")], "form"),
        (&[("form", "zhengqiu"), ("unit", "nope")], "unit"),
        (&[("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("category", "ceping:dyld")], "category"),
        (&[("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("category", "zhengqiu:zz")], "category"),
        (&[("form", "zhengqiu"), ("unit", "sfs-qingxi"), ("label", &"长".repeat(101))], "label"),
    ];
    for (fields, field) in cases {
        let r = create(&admin, &app, &csrf, fields).await;
        assert_eq!(r.status(), 422, "{field}");
        let html = r.text().await.unwrap();
        assert_eq!(texts(&html, &format!("#err-{field}")).len(), 1, "{field}: {html}");
        // What was chosen stays chosen.
        assert!(!texts(&html, "select[name=form] option[selected]").is_empty() || *field == "form");
    }
    let r = create(&admin, &app, "wrong-token", &[("form", "zhengqiu"), ("unit", "sfs-qingxi")]).await;
    assert_eq!(r.status(), 403, "a wrong CSRF token is refused");
    let r = admin.post(app.url("/w/admin/links")).form(&[("form", "zhengqiu"), ("unit", "sfs-qingxi")]).send().await;
    assert_eq!(r.unwrap().status(), 403, "a missing CSRF token is refused");
    assert!(app.store().links(None).await.unwrap().is_empty());
    assert!(app.store().audit_entries(Some("link_created"), None, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn only_admins_reach_the_links_pages() {
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    let id = link.id;
    let gets = [
        "/w/admin/links".to_owned(),
        format!("/w/admin/links/{id}/qr.svg"),
        format!("/w/admin/links/{id}/qr.png"),
        format!("/w/admin/links/{id}/print"),
    ];
    for role in [Role::Analyst, Role::Leader] {
        let (c, csrf) = app.login_as(role).await;
        for path in &gets {
            assert_eq!(c.get(app.url(path)).send().await.unwrap().status(), 403, "{role:?} GET {path}");
        }
        let r = create(&c, &app, &csrf, &[("form", "zhengqiu"), ("unit", "sfs-baishi")]).await;
        assert_eq!(r.status(), 403, "{role:?} creating");
        let r = c.post(app.url(&format!("/w/admin/links/{id}/revoke"))).form(&[("_csrf", csrf.as_str())]).send();
        assert_eq!(r.await.unwrap().status(), 403, "{role:?} revoking");
    }
    let anonymous = client(true);
    for path in &gets {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "anonymous GET {path}");
        assert_eq!(r.headers()["location"], "/login");
    }
    let r = anonymous.post(app.url(&format!("/w/admin/links/{id}/revoke"))).form(&[("_csrf", "x")]).send();
    assert_eq!(r.await.unwrap().headers()["location"], "/login");
    assert_eq!(app.store().links(None).await.unwrap(), vec![link], "nothing created or revoked");
}

#[tokio::test]
async fn in_a_browser_an_admin_creates_a_link_and_opens_a_print_page_showing_the_code() {
    let Some(b) = crate::browser::Browser::start(1280, 900).await else { return };
    let app = TestApp::spawn().await;
    sign_in_as_admin(&b, &app, "admin-print").await;
    b.goto(&app.url("/w/admin/links")).await;
    b.find("select[name=form] option[value=ceping]").await.click().await.unwrap();
    b.find("select[name=unit] option[value=sfs-songling]").await.click().await.unwrap();
    b.fill("input[name=label]", "司法所公告栏").await;
    b.click_and_wait_for_navigation(".link-form button").await;
    let link = app.store().links(None).await.unwrap().pop().expect("created");
    assert_eq!(link.unit_code, "sfs-songling");
    assert!(b.find(&format!("tr#link-{}.created", link.id)).await.is_displayed().await.unwrap());
    let dir = std::env::temp_dir().join("wenji-shots");
    std::fs::create_dir_all(&dir).unwrap();
    b.screenshot(dir.join("admin-links-1280.png")).await;

    b.click(&format!("#link-{} a[href$='/print']", link.id)).await;
    b.find(".poster img.qr").await;
    let loaded = b.js("var i = document.querySelector('img.qr'); return i.complete && i.naturalWidth;").await;
    assert!(loaded.as_u64().unwrap_or(0) > 100, "the QR image loads under the page's CSP: {loaded}");
    assert_eq!(b.text(".poster-title").await, "领导班子民主测评表");
    assert_eq!(b.text(".poster-unit").await, "松岭乡司法所");
    b.screenshot_full(dir.join("admin-link-print-1280.png")).await;
    b.close().await;
}

#[tokio::test]
async fn on_a_phone_an_admin_copies_an_address_and_revokes_only_after_confirming() {
    let Some(b) = crate::browser::Browser::start(390, 844).await else { return };
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "公告栏", &Actor::system("test")).await.unwrap();
    sign_in_as_admin(&b, &app, "admin-phone").await;
    b.goto(&app.url("/w/admin/links")).await;
    let row = format!("#link-{}", link.id);
    let copy = format!("{row} button.copy");
    assert!(b.find(&copy).await.is_displayed().await.unwrap(), "the script shows the copy button");
    b.click(&copy).await;
    let mut said = String::new();
    for _ in 0..40 {
        said = b.text(&format!("{row} .copied")).await;
        if !said.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(said, "已复制");
    let dir = std::env::temp_dir().join("wenji-shots");
    std::fs::create_dir_all(&dir).unwrap();
    b.screenshot(dir.join("admin-links-copy-390.png")).await;

    b.click_and_wait_for_navigation(&format!("{row} a.revoke")).await;
    assert!(b.current_url().await.ends_with(&format!("/w/admin/links/{}/revoke", link.id)));
    assert!(!app.store().link(link.id).await.unwrap().revoked, "opening the step revokes nothing");
    let wide = b.js("return document.documentElement.scrollWidth;").await.as_u64().unwrap();
    assert!(wide <= 390, "the confirmation fits a phone: {wide} px");
    b.screenshot(dir.join("admin-link-revoke-390.png")).await;
    b.click_and_wait_for_navigation("#cancel-revoke").await;
    assert!(!app.store().link(link.id).await.unwrap().revoked, "cancel keeps the link");
    b.click_and_wait_for_navigation(&format!("{row} a.revoke")).await;
    b.click_and_wait_for_navigation("#confirm-revoke").await;
    assert!(app.store().link(link.id).await.unwrap().revoked);
    b.click_and_wait_for_navigation(&format!("{row} button.enable")).await;
    assert!(!app.store().link(link.id).await.unwrap().revoked, "enabled again");
    b.close().await;
}

#[tokio::test]
async fn without_javascript_the_address_stays_a_selectable_field_and_no_dead_button_shows() {
    let Some(b) = crate::browser::Browser::start_without_javascript(390, 844).await else { return };
    let app = TestApp::spawn().await;
    let link = app.store().create_link("zhengqiu", "sfs-qingxi", None, "", &Actor::system("test")).await.unwrap();
    sign_in_as_admin(&b, &app, "admin-nojs").await;
    b.goto(&app.url("/w/admin/links")).await;
    let row = format!("#link-{}", link.id);
    assert!(!b.find(&format!("{row} button.copy")).await.is_displayed().await.unwrap());
    assert!(b.value(&format!("{row} input.url")).await.contains("/f/zhengqiu?t="));
    b.click_and_wait_for_navigation(&format!("{row} a.revoke")).await;
    b.click_and_wait_for_navigation("#confirm-revoke").await;
    assert!(app.store().link(link.id).await.unwrap().revoked, "the confirm step works without JavaScript");
    b.close().await;
}
