//! Malformed bodies on both public submission endpoints are answered with a 4xx and store nothing: wrong
//! content types, invalid UTF-8, wrong JSON shapes, deep nesting, oversized fields and keys.
//! (Invalid JSON, a missing JSON content type and a body over 64 KiB are in `citizens.rs`.)

use crate::helpers::TestApp;
use serde_json::json;

async fn post_raw(app: &TestApp, path: &str, ctype: &str, key: Option<&str>, body: Vec<u8>) -> reqwest::StatusCode {
    let mut req = app.citizen.post(app.url(path)).header("content-type", ctype).body(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn malformed_html_form_bodies_get_a_4xx_and_store_nothing() {
    let app = TestApp::spawn().await;
    let key = app.form_key("zhengqiu").await;
    let good =
        format!("_key={key}&_category=qz&q_team=%E6%84%8F%E8%A7%81%E5%BB%BA%E8%AE%AE&q_has_member=no&q_satisfaction=2");
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "invalid UTF-8 in a value",
            "application/x-www-form-urlencoded",
            format!("_key={key}&q_team=%FF%FE%FD").into_bytes(),
        ),
        (
            "raw invalid UTF-8",
            "application/x-www-form-urlencoded",
            [b"_key=".to_vec(), vec![0xff, 0xfe, 0x80]].concat(),
        ),
        ("JSON sent to the form", "application/json", br#"{"q_team":"x"}"#.to_vec()),
        ("no content type", "", good.clone().into_bytes()),
        ("a multipart part without a name", "multipart/form-data; boundary=x", b"--x\r\n\r\n--x--".to_vec()),
        ("multipart without a boundary", "multipart/form-data", b"--x\r\n\r\n--x--".to_vec()),
        (
            "multipart cut before its closing boundary",
            "multipart/form-data; boundary=x",
            format!("--x\r\nContent-Disposition: form-data; name=\"_key\"\r\n\r\n{key}\r\n--x\r\nContent-Disposition: form-data; name=\"q_team\"\r\n\r\n意见").into_bytes(),
        ),
        (
            "multipart with invalid UTF-8 in a value",
            "multipart/form-data; boundary=x",
            [
                format!("--x\r\nContent-Disposition: form-data; name=\"_key\"\r\n\r\n{key}\r\n--x\r\nContent-Disposition: form-data; name=\"q_team\"\r\n\r\n").into_bytes(),
                vec![0xff, 0xfe, 0x80],
                b"\r\n--x--\r\n".to_vec(),
            ]
            .concat(),
        ),
        (
            "a field over its length",
            "application/x-www-form-urlencoded",
            format!("{good}&q_work={}", "长".repeat(2001)).into_bytes(),
        ),
        (
            "two answers to a single-choice question",
            "application/x-www-form-urlencoded",
            format!("{good}&q_has_member=yes").into_bytes(),
        ),
        (
            "a key without a signature",
            "application/x-www-form-urlencoded",
            good.replace(&key, "unsigned-key-123").into_bytes(),
        ),
        ("ten thousand empty fields", "application/x-www-form-urlencoded", "&".repeat(10_000).into_bytes()),
        (
            "a field name of 60 KiB",
            "application/x-www-form-urlencoded",
            format!("{}=1", "q".repeat(60_000)).into_bytes(),
        ),
    ];
    for (what, ctype, body) in cases {
        let status = post_raw(&app, "/f/zhengqiu", ctype, None, body).await;
        assert!(status.is_client_error(), "{what}: {status}");
    }
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}

#[tokio::test]
async fn malformed_json_submissions_get_a_4xx_json_error_and_store_nothing() {
    let app = TestApp::spawn().await;
    let deep_object = format!("{}{}", "{\"a\":".repeat(3000), "}".repeat(3000));
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        ("no Idempotency-Key", None, json!({"answers": {"team": "意见建议内容"}}).to_string().into_bytes()),
        ("a short Idempotency-Key", Some("short"), json!({"answers": {}}).to_string().into_bytes()),
        ("a non-ASCII Idempotency-Key", Some("钥匙钥匙钥匙钥匙"), json!({"answers": {}}).to_string().into_bytes()),
        ("answers is a number", Some("shape-key-01"), br#"{"answers": 5}"#.to_vec()),
        ("answers is missing", Some("shape-key-02"), br#"{"category": "qz"}"#.to_vec()),
        ("an unknown top-level field", Some("shape-key-03"), br#"{"answers": {}, "admin": true}"#.to_vec()),
        ("an answer nested 3000 deep", Some("shape-key-04"), format!("{{\"answers\": {{\"team\": {deep_object}}}}}").into_bytes()),
        ("an answer that is null", Some("shape-key-05"), br#"{"answers": {"team": null}}"#.to_vec()),
        ("a list of numbers", Some("shape-key-06"), br#"{"answers": {"has_member": [1, 2]}}"#.to_vec()),
        ("a body that is a string", Some("shape-key-07"), br#""answers""#.to_vec()),
        ("a lone surrogate escape", Some("shape-key-08"), br#"{"answers": {"team": "\ud800\ud800"}}"#.to_vec()),
        ("a number too big for f64", Some("shape-key-09"), format!("{{\"answers\": {{\"satisfaction\": 1{}}}}}", "0".repeat(400)).into_bytes()),
        ("an oversized field", Some("shape-key-10"), json!({"category": "qz", "answers": {"team": "长".repeat(2001), "has_member": "no", "satisfaction": "2"}}).to_string().into_bytes()),
        ("an unknown category", Some("shape-key-11"), json!({"category": "x", "answers": {"team": "意见建议内容", "has_member": "no", "satisfaction": "2"}}).to_string().into_bytes()),
        ("a forged link token", Some("shape-key-12"), json!({"link": "99.forged", "category": "qz", "answers": {"team": "意见建议内容", "has_member": "no", "satisfaction": "2"}}).to_string().into_bytes()),
        ("a NUL-laden key", Some("shape-key-13"), vec![0u8; 100]),
    ];
    for (what, key, body) in cases {
        let r =
            app.citizen.post(app.url("/api/v1/forms/zhengqiu/responses")).header("content-type", "application/json");
        let r = match key {
            Some(k) => r.header("Idempotency-Key", k),
            None => r,
        };
        let r = r.body(body).send().await.unwrap();
        let status = r.status();
        assert!(status.is_client_error(), "{what}: {status}");
        let v: serde_json::Value = r.json().await.unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
        assert!(v["error"].is_string(), "{what}: {v}");
    }
    let status =
        post_raw(&app, "/api/v1/forms/nope/responses", "application/json", Some("unknown-form"), b"{}".to_vec()).await;
    assert!(status.is_client_error(), "unknown form: {status}");

    // Said in the API's own terms: its member `category` (not the HTML form's `_category`), JSON too deep
    // (not "not JSON"), two keys refused, and a path or query refused at the edge, or unknown, answered in JSON.
    let post = |key: &'static str, body: Vec<u8>| {
        app.citizen
            .post(app.url("/api/v1/forms/zhengqiu/responses"))
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .body(body)
            .send()
    };
    let unknown =
        json!({"category": "x", "answers": {"team": "意见建议内容", "has_member": "no", "satisfaction": "2"}});
    let v: serde_json::Value =
        post("said-key-01", unknown.to_string().into_bytes()).await.unwrap().json().await.unwrap();
    assert_eq!(v["fields"][0]["field"], "category", "{v}");
    let deep: serde_json::Value =
        post("said-key-02", format!("{{\"answers\": {{\"team\": {deep_object}}}}}").into_bytes())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(deep["error"].as_str().unwrap().contains("嵌套太深"), "{deep}");
    let twice = app
        .citizen
        .post(app.url("/api/v1/forms/zhengqiu/responses"))
        .header("content-type", "application/json")
        .header("Idempotency-Key", "twice-key-01")
        .header("Idempotency-Key", "twice-key-02")
        .body(unknown.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 400);
    assert!(twice.text().await.unwrap().contains("只能有一个"));
    for path in ["/api/v1/forms/%00/responses", "/api/openapi.json?x=%00", "/api/v2/forms/zhengqiu", "/api/"] {
        let r = app.citizen.get(app.url(path)).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let v: serde_json::Value = r.json().await.unwrap_or_else(|e| panic!("{path}: not JSON: {e}"));
        assert!(v["error"].is_string(), "{path}: {v}");
    }
    assert_eq!(app.store().count_responses(None).await.unwrap(), 0);
}
