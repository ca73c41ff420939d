//! Static assets compiled into the binary: no CDN, no external fonts, no third-party scripts. Each is
//! served under a name holding a hash of its bytes (`form.3f2a9c01de.js`), cached for a year as
//! immutable: a deploy that changes a file changes its URL, so no browser keeps running old JavaScript.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

const FILES: &[(&str, &str, &str)] = &[
    ("wenji.css", "text/css; charset=utf-8", include_str!("assets/wenji.css")),
    ("form.js", "text/javascript; charset=utf-8", include_str!("assets/form.js")),
    ("tag.js", "text/javascript; charset=utf-8", include_str!("assets/tag.js")),
    ("links.js", "text/javascript; charset=utf-8", include_str!("assets/links.js")),
    ("problem_key.js", "text/javascript; charset=utf-8", include_str!("assets/problem_key.js")),
    ("suggest.js", "text/javascript; charset=utf-8", include_str!("assets/suggest.js")),
];

struct Asset {
    name: &'static str,
    /// `/assets/` and the name with the content hash before its extension.
    url: String,
    mime: &'static str,
    body: &'static str,
}

/// Hashed once, at first use, from the embedded bytes.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, mime, body)| {
            let hash = hex::encode(&Sha256::digest(body.as_bytes())[..5]);
            let (stem, ext) = name.rsplit_once('.').expect("asset names have an extension");
            Asset { name, url: format!("/assets/{stem}.{hash}.{ext}"), mime, body }
        })
        .collect()
});

/// The URL pages use for the asset `name` (for templates: `{{ crate::web::assets::url("form.js") }}`).
///
/// # Panics
/// When `name` is not an embedded asset (a typo in a template, caught by every page test).
pub fn url(name: &str) -> &'static str {
    let asset = ASSETS.iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no asset named {name}"));
    asset.url.as_str()
}

/// `GET /assets/{file}`: the hashed name, cached for good; the plain name (pages cached before this
/// scheme) revalidated on every use; a stale hash is 404.
pub async fn serve(Path(file): Path<String>) -> Response {
    let requested = format!("/assets/{file}");
    if let Some(a) = ASSETS.iter().find(|a| a.url == requested) {
        return (
            [(header::CONTENT_TYPE, a.mime), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")],
            a.body,
        )
            .into_response();
    }
    if let Some(a) = ASSETS.iter().find(|a| a.name == file) {
        return ([(header::CONTENT_TYPE, a.mime), (header::CACHE_CONTROL, "no-cache")], a.body).into_response();
    }
    (StatusCode::NOT_FOUND, "not found").into_response()
}
