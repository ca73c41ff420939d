//! Static assets compiled into the binary: no CDN, no external fonts, no third-party scripts.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const FILES: &[(&str, &str, &str)] = &[
    ("wenji.css", "text/css; charset=utf-8", include_str!("assets/wenji.css")),
    ("form.js", "text/javascript; charset=utf-8", include_str!("assets/form.js")),
    ("tag.js", "text/javascript; charset=utf-8", include_str!("assets/tag.js")),
];

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "public, max-age=3600")], *body).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
