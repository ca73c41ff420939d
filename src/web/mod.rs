//! The only axum code. [`router`] builds every route in one table, without a socket, so `serve` and the
//! tests use the same function.
//!
//! | path | who | what |
//! |---|---|---|
//! | `/f/{slug}`, `/f/{slug}/r/{receipt}` | anyone | the form, its submission, the receipt |
//! | `/gongkai` | anyone | published rectification measures; a rating is a submission of the built-in rating form |
//! | `/api/v1/forms/{slug}[/responses]`, `/api/openapi.json` | anyone | JSON API |
//! | `/login`, `/logout`, `/setup` | staff | sign-in, first administrator |
//! | `/w/admin/links[/{id}/…]` | admin | distribution links, QR codes (SVG, PNG), printable page |
//! | `/w/…` | staff by role | inbox, tagging, dashboard, exports, admin |
//!
//! Staff routes by role (anonymous: 303 to `/login`; a wrong role: 403). What a leader gets on the shared
//! routes (inbox, dashboard, exports) follows the disclosure policy (`domain::report::policy`); the
//! unprotected export (`unprotected=1`) is for admins only.
//!
//! | route | admin | analyst | leader |
//! |---|---|---|---|
//! | `GET /w`, `POST /logout` | ✓ | ✓ | ✓ |
//! | `GET /w/inbox` | ✓ | ✓ | ✓ |
//! | `POST /w/inbox/bulk`, `POST /w/inbox/bulk/undo` | | ✓ | |
//! | `GET /w/tag`, `GET/POST /w/tag/{id}`, `POST /w/keywords` | | ✓ | |
//! | `GET /w/api/opinions/{id}`, `POST /w/api/opinions/{id}`, `GET /w/api/next`, `GET /w/api/csrf` | | ✓ | |
//! | `GET /w/clusters/{id}` (同类意见; its forms post to `/w/inbox/bulk` and `/w/problems/link`) | ✓ | ✓ | |
//! | `GET /w/dashboard` | ✓ | ✓ | ✓ |
//! | `GET /w/adjudication`, `POST /w/adjudication/{id}` (the form's named adjudicator) | | ✓ | |
//! | `GET/POST /w/admin/double-coding` | ✓ | | |
//! | `GET/POST /w/admin/users`, `GET /w/admin/audit`, `GET /w/admin/forms`, `POST /w/admin/forms/reload` | ✓ | | |
//! | `GET /w/admin/contacts`, `GET/POST /w/admin/contacts/{id}/delete`, `GET/POST /w/admin/contacts/forms/{slug}/delete` | ✓ | | |
//! | `GET/POST /w/exports`, `GET /w/exports/{id}`, `GET /w/exports/{id}/download` | ✓ | | ✓ |
//! | `GET /w/problems`, `GET /w/problems/{id}`, `GET /w/register` | ✓ | ✓ | ✓ |
//! | `POST /w/problems`, `POST /w/problems/{id}`, `POST /w/problems/link`, `POST /w/problems/{id}/unlink` | | ✓ | |
//! | `POST /w/problems/{id}/measures`, `POST /w/measures/{id}` (analysts: drafts only) | ✓ | ✓ | ✓ |
//! | `POST /w/measures/{id}/publish`, `POST /w/measures/{id}/progress`, `GET /w/register.xlsx` | ✓ | | ✓ |
//! | `GET/POST /w/admin/links`, `GET/POST /w/admin/links/{id}/revoke`, `POST /w/admin/links/{id}/enable`, `GET /w/admin/links/{id}/{qr.svg,qr.png,print}`, `GET/POST /w/admin/links/{id}/codes`, `POST /w/admin/links/{id}/codes/drop` | ✓ | | |

pub mod api;
pub mod api_json;
pub mod assets;
pub mod auth;
pub mod clean;
pub mod error;
pub mod extract;
pub mod form_body;
pub mod kept;
pub mod limiter;
pub mod pages;
pub mod public;
pub mod serve;
pub mod state;
pub mod suggester;
pub mod workspace;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use state::AppState;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

/// Largest request body anywhere: 64 KiB.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A session the store could not save for a full disk is a 503 like every other write (tower-sessions
/// itself answers a bare 500).
async fn session_unavailable(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (res, unavailable) = crate::store::sessions::watch_unavailable(next.run(req)).await;
    if unavailable && res.status() == axum::http::StatusCode::INTERNAL_SERVER_ERROR {
        return error::WebError::Unavailable("a session could not be saved".into()).into_response();
    }
    res
}

/// A refusal may leave the request's body unread (too large, cross-site, too many), and hyper then closes
/// the connection: saying `Connection: close` lets the client open a new one for its next request instead
/// of sending it into a closed one.
async fn close_after_refusing_a_body(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req.headers().get(header::CONTENT_LENGTH).is_some_and(|l| l.as_bytes() != b"0");
    let mut res = next.run(req).await;
    // 422 and 409 come from handlers that read the whole body: the connection stays usable.
    let read_whole = matches!(res.status().as_u16(), 409 | 422);
    if has_body && !read_whole && (res.status().is_client_error() || res.status().is_server_error()) {
        res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// A body whose `Content-Length` is over [`BODY_LIMIT`] is refused before any of it is read: otherwise a
/// client sending the headers alone held the connection until the body time limit, then got 408.
async fn refuse_a_body_declared_too_large(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|l| l.to_str().ok()?.parse::<u64>().ok());
    if declared.is_none_or(|l| l <= BODY_LIMIT as u64) {
        return next.run(req).await;
    }
    // Said as the limit met while reading would say it (`clean::body_refused`, `form_body`).
    let path = req.uri().path();
    let refusal = error::WebError::TooLarge { draft_kept: path.starts_with("/f/") };
    if path.starts_with("/api/") { refusal.into_json() } else { refusal.into_response() }
}

/// Every route of the application.
pub fn router(state: AppState) -> Router {
    let session_store = crate::store::sessions::DbSessionStore::new(state.store.clone(), state.clock.clone());
    let sessions = SessionManagerLayer::new(session_store)
        .with_name("wenji_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::milliseconds(crate::store::sessions::IDLE_LIMIT_MS)));
    let staff = Router::new()
        .route("/login", get(workspace::login::page).post(workspace::login::submit))
        .route("/logout", post(workspace::login::logout))
        .route("/setup", get(workspace::login::setup_page).post(workspace::login::setup_submit))
        .route("/w", get(workspace::home::page))
        // A proxy's `location /w/` answers `/w` with a redirect to `/w/` (the README's nginx block does).
        .route("/w/", get(workspace::home::page))
        .route("/w/admin/forms", get(workspace::admin_forms::show))
        .route("/w/admin/forms/reload", post(workspace::admin_forms::reload))
        .route("/w/inbox", get(workspace::inbox::page))
        .route("/w/inbox/bulk", post(workspace::inbox::bulk))
        .route("/w/inbox/bulk/undo", post(workspace::inbox::bulk_undo))
        .route("/w/tag", get(workspace::tag::start))
        .route("/w/tag/{id}", get(workspace::tag::page).post(workspace::tag::post))
        .route("/w/keywords", post(workspace::tag::add_keyword))
        .route("/w/api/opinions/{id}", get(workspace::tag::api_card).post(workspace::tag::api_post))
        .route("/w/api/next", get(workspace::tag::api_next))
        .route("/w/api/csrf", get(workspace::tag::api_csrf))
        .route("/w/clusters/{id}", get(workspace::clusters::page))
        .route("/w/dashboard", get(workspace::dashboard::page))
        .route("/w/adjudication", get(workspace::adjudication::page))
        .route("/w/adjudication/{id}", post(workspace::adjudication::decide))
        .route("/w/admin/double-coding", get(workspace::double_coding::show).post(workspace::double_coding::set))
        .route("/w/admin/users", get(workspace::admin::users).post(workspace::admin::users_post))
        .route("/w/admin/audit", get(workspace::admin::audit))
        .route("/w/admin/contacts", get(workspace::contacts::list))
        .route(
            "/w/admin/contacts/{id}/delete",
            get(workspace::contacts::confirm_delete).post(workspace::contacts::delete),
        )
        .route(
            "/w/admin/contacts/forms/{slug}/delete",
            get(workspace::contacts::confirm_delete_form).post(workspace::contacts::delete_form),
        )
        .route("/w/admin/links", get(workspace::links::list).post(workspace::links::create))
        .route("/w/admin/links/{id}/revoke", get(workspace::links::confirm_revoke).post(workspace::links::revoke))
        .route("/w/admin/links/{id}/enable", post(workspace::links::enable))
        .route("/w/admin/links/{id}/qr.svg", get(workspace::links::qr_svg))
        .route("/w/admin/links/{id}/qr.png", get(workspace::links::qr_png))
        .route("/w/admin/links/{id}/print", get(workspace::links::print))
        .route("/w/admin/links/{id}/codes", get(workspace::link_codes::show).post(workspace::link_codes::issue))
        .route("/w/admin/links/{id}/codes/drop", post(workspace::link_codes::drop))
        .route("/w/exports", get(workspace::exports::page).post(workspace::exports::start))
        .route("/w/exports/{id}", get(workspace::exports::show))
        .route("/w/exports/{id}/download", get(workspace::exports::download))
        .route("/w/problems", get(workspace::problems::list).post(workspace::problems::create))
        .route("/w/problems/link", post(workspace::problems::link))
        .route("/w/problems/{id}", get(workspace::problems::show).post(workspace::problems::update))
        .route("/w/problems/{id}/unlink", post(workspace::problems::unlink))
        .route("/w/problems/{id}/merge", post(workspace::problems::merge))
        .route("/w/problems/{id}/measures", post(workspace::register::create))
        .route("/w/measures/{id}", post(workspace::register::update))
        .route("/w/measures/{id}/publish", post(workspace::register::publish))
        .route("/w/measures/{id}/progress", post(workspace::register::progress))
        .route("/w/register", get(workspace::register::page))
        .route("/w/register.xlsx", get(workspace::register::download))
        .layer(axum::middleware::from_fn(error::remember_way_back))
        .layer(sessions)
        .layer(axum::middleware::from_fn(session_unavailable))
        // Staff pages show opinions and accounts: no browser or proxy cache keeps a copy.
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let public = Router::new()
        .route("/", get(|| async { Redirect::to("/login") }))
        .route("/healthz", get(healthz))
        .route("/assets/{file}", get(assets::serve))
        .route("/f/{slug}", get(public::form::show).post(public::form::post))
        .route("/f/{slug}/r/{receipt}", get(public::form::receipt))
        .route("/gongkai", get(public::gongkai::page).post(public::gongkai::rate))
        .route("/api/v1/forms/{slug}", get(api::get_form))
        .route("/api/v1/forms/{slug}/responses", post(api::post_response))
        .route("/api/openapi.json", get(api::openapi))
        // A refused submission shows the typed opinion back: no shared computer's cache keeps it. Pages that
        // may be cached (the form, assets) say so themselves.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let https = state.settings.base_url.starts_with("https://");
    let app = Router::new()
        .merge(public)
        .merge(staff)
        .fallback(not_found)
        .layer(axum::middleware::from_fn(clean::refuse_hostile_uri))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyDeadlineLayer::new(state.settings.timeouts.body))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, state.settings.timeouts.request))
        .layer(axum::middleware::from_fn(refuse_a_body_declared_too_large))
        .layer(csrf_layer(&state.settings.base_url))
        .layer(axum::middleware::from_fn(close_after_refusing_a_body))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // Nothing leaves for other sites; `same-origin` rather than `no-referrer`, under which a browser's
        // own posts say `Origin: null`, refused by the CSRF check where `Sec-Fetch-Site` is not sent.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ))
        .layer(
            // Logs method, path and status only: no client address, user agent, referrer or query.
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| tracing::info_span!("http", method = %req.method(), path = %path_for_log(req))),
        );
    // Served over HTTPS (by its public URL): browsers are told never to use plain HTTP for a year.
    let app = if https {
        app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        app
    };
    app.with_state(state)
}

/// An unknown path: a page for browsers, JSON under `/api/`, where clients read the API's error shape.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        return error::WebError::NotFound("没有这个接口，请查看 /api/openapi.json".into()).into_json();
    }
    error::WebError::NotFound("页面不存在".into()).into_response()
}

/// Cross-site POSTs are refused (by `Sec-Fetch-Site`, else `Origin` against `Host`) with a page that
/// says why. The public URL's origin is trusted as well: behind a reverse proxy that rewrites `Host`,
/// browsers that send `Origin` but not `Sec-Fetch-Site` (older WeChat webviews) would be refused otherwise.
fn csrf_layer(
    public_url: &str,
) -> CsrfLayer<impl tower_http::csrf::ResponseForProtectionError<axum::body::Body> + use<>> {
    let refused = |_: tower_http::csrf::ProtectionError| {
        error::WebError::Forbidden("此请求来自其他网站，已被拒绝。请回到问计的页面重新填写提交。".into())
            .into_response()
    };
    let layer = CsrfLayer::new();
    let layer = match browser_origin(public_url).map(|o| layer.clone().add_trusted_origin(o)) {
        Some(Ok(trusting)) => trusting,
        _ => layer,
    };
    layer.with_rejection_response(refused)
}

/// The `Origin` a browser sends for pages under `url`: scheme and lowercased host, the port only when it
/// is not the scheme's default.
fn browser_origin(url: &str) -> Option<String> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str().filter(|s| *s == "http" || *s == "https")?;
    let authority = uri.authority()?;
    let host = authority.host().to_ascii_lowercase();
    match authority.port_u16() {
        Some(p) if !(scheme == "http" && p == 80 || scheme == "https" && p == 443) => {
            Some(format!("{scheme}://{host}:{p}"))
        }
        _ => Some(format!("{scheme}://{host}")),
    }
}

/// The request's path for the log, with a receipt left out: a log line would tie the receipt to a time
/// to the microsecond, where the database keeps only the minute.
fn path_for_log<B>(req: &axum::http::Request<B>) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(route) if route.as_str().contains("{receipt}") => route.as_str().to_owned(),
        _ => req.uri().path().to_owned(),
    }
}

/// `ok` while the database answers and would take a write: monitoring sees a full or read-only disk, or a
/// PostgreSQL standby, before citizens are refused (their writes get 503 then, and reads still work).
/// The answer is kept for a second ([`kept::HealthCache`]). The check runs on a task of its own: a monitor
/// that gives up must not cancel it mid-statement, which left its connection waiting in PostgreSQL.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let check = {
        let state = state.clone();
        async move {
            let failed = (axum::http::StatusCode::SERVICE_UNAVAILABLE, "health check failed".to_owned());
            Ok::<_, std::convert::Infallible>(tokio::spawn(async move { health(&state).await }).await.unwrap_or(failed))
        }
    };
    let Ok(answer) = state.health.get_or_build((), check).await;
    answer.as_ref().clone()
}

async fn health(state: &AppState) -> (axum::http::StatusCode, String) {
    let unavailable = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    if state.store.ping().await.is_err() {
        return (unavailable, "database unavailable".to_owned());
    }
    match state.store.write_refusal().await {
        Ok(None) => (axum::http::StatusCode::OK, "ok".to_owned()),
        Ok(Some(why)) => (unavailable, why),
        Err(_) => (unavailable, "database unavailable".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::browser_origin;

    #[test]
    fn the_browser_origin_of_a_public_url_drops_path_default_port_and_case() {
        assert_eq!(browser_origin("https://Wenji.Example.gov.cn/").as_deref(), Some("https://wenji.example.gov.cn"));
        assert_eq!(
            browser_origin("https://wenji.example.gov.cn:443/x").as_deref(),
            Some("https://wenji.example.gov.cn")
        );
        assert_eq!(browser_origin("http://10.0.0.5:8080").as_deref(), Some("http://10.0.0.5:8080"));
        assert_eq!(browser_origin("ftp://x.example"), None);
        assert_eq!(browser_origin(""), None);
    }
}
