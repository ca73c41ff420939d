//! Cross-site refusals and response headers: the public URL's origin is trusted behind a proxy that
//! rewrites `Host`, a cross-site POST gets a readable page, staff pages are never cached, HSTS over
//! HTTPS, `Retry-After` on the form's 429, and assets under content-hashed URLs cached for good.

use crate::helpers::{PASSWORD, TestApp, client, texts};
use sha2::{Digest, Sha256};
use wenji::domain::user::Role;

const PUBLIC_URL: &str = "https://wenji.example.gov.cn";

async fn behind_https_proxy() -> TestApp {
    TestApp::spawn_with(|s| s.base_url = PUBLIC_URL.into()).await
}

#[tokio::test]
async fn a_browser_sending_origin_without_sec_fetch_site_through_a_host_rewriting_proxy_may_sign_in_and_submit() {
    let app = behind_https_proxy().await;
    app.create_user("zhou.analyst", Role::Analyst).await;
    // The proxy forwards to 127.0.0.1:port, so `Host` is that address while the browser's `Origin` is
    // the public URL; the old webview sends no `Sec-Fetch-Site`.
    let c = client(true);
    let r = c
        .post(app.url("/login"))
        .header("origin", PUBLIC_URL)
        .form(&[("username", "zhou.analyst"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "signed in");
    let key = app.form_key("zhengqiu").await;
    let r = app
        .citizen
        .post(app.url("/f/zhengqiu"))
        .header("origin", PUBLIC_URL)
        .form(&[
            ("_key", key.as_str()),
            ("_category", "qz"),
            ("q_team", "代理后面的浏览器也能提交意见。"),
            ("q_has_member", "no"),
            ("q_satisfaction", "2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the opinion is stored");
}

#[tokio::test]
async fn a_cross_site_post_is_refused_with_a_readable_chinese_page() {
    let app = behind_https_proxy().await;
    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let r = app
            .citizen
            .post(app.url("/f/zhengqiu"))
            .header(header, value)
            .form(&[("_category", "qz"), ("q_team", "跨站提交")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let message = texts(&r.text().await.unwrap(), "p.message").join("");
        assert!(message.contains("来自其他网站"), "{header}: {value} gave {message:?}");
    }
}

#[tokio::test]
async fn staff_pages_and_redirects_are_never_cached_and_a_form_page_by_no_shared_cache() {
    let app = TestApp::spawn().await;
    let (c, _) = app.login_as(Role::Admin).await;
    for path in ["/w", "/w/inbox", "/w/dashboard", "/w/admin/users", "/w/admin/audit", "/w/exports", "/login"] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{path}");
    }
    let r = app.citizen.get(app.url("/w/inbox")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["cache-control"], "no-store", "the redirect to sign-in");
    // A form page holds its own submission key: the browser may keep it for Back, no shared cache may.
    let r = app.citizen.get(app.url("/f/zhengqiu")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-cache", "the form page");
    // So do /gongkai's rating forms.
    let r = app.citizen.get(app.url("/gongkai")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-cache", "/gongkai");
    // A receipt is kept by no cache, for the next person at a shared device.
    let receipt = app.submit_opinion("回执页不缓存测试").await;
    let r = app.citizen.get(app.url(&format!("/f/zhengqiu/r/{receipt}"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store", "the receipt page");
    // A refused submission shows the typed opinion back: kept by no cache either.
    let r = app.post_form("zhengqiu", &[("_category", "qz"), ("q_team", "只写给本机看的意见")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["cache-control"], "no-store", "the refused submission");
    assert!(r.text().await.unwrap().contains("只写给本机看的意见"));
    // Copied by hand from a slip in small letters, it is found all the same.
    let r = app.citizen.get(app.url(&format!("/f/zhengqiu/r/{}", receipt.to_lowercase()))).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_url_is_https_and_only_then() {
    let https = behind_https_proxy().await;
    let plain = TestApp::spawn().await;
    for path in ["/f/zhengqiu", "/login", "/healthz", "/nowhere"] {
        let r = https.citizen.get(https.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000", "{path}");
        let r = plain.citizen.get(plain.url(path)).send().await.unwrap();
        assert!(r.headers().get("strict-transport-security").is_none(), "{path} over plain HTTP");
    }
}

#[tokio::test]
async fn the_html_forms_429_says_when_to_retry() {
    let app = TestApp::spawn_with(|s| {
        s.submit_burst = 1;
        s.submit_per_minute = 1;
    })
    .await;
    let fields = [("_category", "qz"), ("q_team", "频繁提交测试。"), ("q_has_member", "no"), ("q_satisfaction", "2")];
    assert_eq!(app.post_form("zhengqiu", &fields).await.status(), 303);
    let r = app.post_form("zhengqiu", &fields).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "30");
}

#[tokio::test]
async fn assets_are_served_under_their_content_hash_cached_for_good_and_pages_link_those_urls() {
    let app = TestApp::spawn().await;
    let page = app.citizen.get(app.url("/f/zhengqiu")).send().await.unwrap().text().await.unwrap();
    let doc = scraper::Html::parse_document(&page);
    let sel = scraper::Selector::parse("link[rel=stylesheet], script[src]").unwrap();
    let urls: Vec<String> =
        doc.select(&sel).filter_map(|e| e.value().attr("href").or(e.value().attr("src"))).map(str::to_owned).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    for url in urls {
        let r = app.citizen.get(app.url(&url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(r.headers()["cache-control"], "public, max-age=31536000, immutable", "{url}");
        let body = r.bytes().await.unwrap();
        let hash = hex::encode(&Sha256::digest(&body)[..5]);
        assert!(url.contains(&format!(".{hash}.")), "{url} names the hash of its bytes ({hash})");
        let stale = url.replace(&hash, "0000000000");
        assert_eq!(app.citizen.get(app.url(&stale)).send().await.unwrap().status(), 404, "a stale hash");
    }
    let r = app.citizen.get(app.url("/assets/form.js")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the plain name still serves pages cached before");
    assert_eq!(r.headers()["cache-control"], "no-cache");
}
