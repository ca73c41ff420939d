//! Who is signed in, and the checks every staff route makes: an active account, a live session (idle
//! expiry, renewed by activity, and absolute expiry), the right role, and a CSRF token on every POST.

use super::error::WebError;
use super::state::AppState;
use crate::domain::user::Role;
use crate::store::sessions::USER_KEY;
use crate::store::users::User;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

/// Session keys.
pub const CSRF_KEY: &str = "csrf";
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
pub const LAST_SEEN_KEY: &str = "last_seen";
/// A session's inactivity expiry is pushed back at most this often: one database write a minute per
/// active session rather than one per request.
pub const REFRESH_EVERY_MS: i64 = 60 * 1000;
/// A session ends this long after sign-in, however active (absolute expiry).
pub const ABSOLUTE_LIMIT_MS: i64 = 12 * 3600 * 1000;

/// The signed-in staff member and their session.
#[derive(Clone, Debug)]
pub struct Staff {
    pub user: User,
    pub csrf: String,
    pub session: Session,
    /// The posted form's one-time token (`_once`) with a digest of its fields, when it has one: see
    /// [`Actor::once`](crate::store::audit::Actor).
    pub once: Option<String>,
}

/// A fresh one-time token for a staff form that creates something (`_once`).
pub fn once_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Cookie that carries the page asked for across sign-in (path `/login` only, ten minutes).
pub const NEXT_COOKIE: &str = "wenji_next";

/// Rejection for staff routes: pages redirect to sign-in; a wrong role is a 403.
pub enum AuthRejection {
    SignIn,
    /// Sign-in first, then back to the page asked for (the cookie that remembers it).
    SignInThen(Box<axum_extra::extract::cookie::Cookie<'static>>),
    Error(WebError),
    /// A refusal page of its own (what was typed shown back).
    Page(Box<Response>),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::SignIn => Redirect::to("/login").into_response(),
            AuthRejection::SignInThen(cookie) => {
                let jar = axum_extra::extract::CookieJar::new().add(*cookie);
                (jar, Redirect::to("/login")).into_response()
            }
            AuthRejection::Error(e) => e.into_response(),
            AuthRejection::Page(r) => *r,
        }
    }
}

/// Marks a remembered page as the one whose change was not saved (a form posted after the session ended).
pub const UNSAVED_MARK: char = '!';

/// The page to return to after signing in, hex-encoded in the cookie: the workspace page a GET asked for;
/// for a form posted after the session ended, the page it was posted from (its Referer), marked so that
/// the sign-in page says the change was not saved.
fn remember_page(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    referer: Option<&str>,
    secure: bool,
) -> AuthRejection {
    // Signing out, or the tagging screen reading its next card, saves nothing and must not replace the
    // page a failed save remembered.
    if uri.path() == "/logout" || (method == axum::http::Method::GET && uri.path().starts_with("/w/api/")) {
        return AuthRejection::SignIn;
    }
    let asked = if method == axum::http::Method::GET {
        page_to_return_to(uri.path_and_query().map_or("/w", |p| p.as_str()))
    } else {
        let from = referer.and_then(|r| r.parse::<axum::http::Uri>().ok());
        let path = from.as_ref().and_then(|u| u.path_and_query()).map_or("/w", |p| p.as_str());
        page_to_return_to(path).map(|p| format!("{UNSAVED_MARK}{p}"))
    };
    let Some(asked) = asked else { return AuthRejection::SignIn };
    let cookie = axum_extra::extract::cookie::Cookie::build((NEXT_COOKIE, hex::encode(&asked)))
        .path("/login")
        .http_only(true)
        .secure(secure)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .max_age(time::Duration::minutes(10))
        .build();
    AuthRejection::SignInThen(Box::new(cookie))
}

/// `next` if it is a workspace page on this site (`/w`, `/w/…`, `/w?…`) in plain printable ASCII: never
/// another site (`//host`), a backslash trick or a header-breaking character.
pub fn safe_next(next: &str) -> Option<&str> {
    let rest = next.strip_prefix("/w")?;
    let shape = rest.is_empty() || rest.starts_with('/') || rest.starts_with('?');
    let clean = next.len() <= 2000 && next.bytes().all(|b| b.is_ascii_graphic()) && !next.contains('\\');
    (shape && clean && !next.contains("//")).then_some(next)
}

/// Where a person may be sent back to from `page` (a path and query on this site): a workspace page a
/// browser opens by a link. A page only a POST produces (a bulk change's result, a refused measure, the
/// tagging screen's API) leads to the page its form is on; `None` for anything [`safe_next`] refuses.
pub fn page_to_return_to(page: &str) -> Option<String> {
    let page = safe_next(page)?;
    let path = page.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let form_page = match parts.as_slice() {
        ["w", "api", ..] | ["w", "keywords"] => "/w/tag".to_owned(),
        ["w", "inbox", "bulk", ..] => "/w/inbox".to_owned(),
        ["w", "problems", "link"] => "/w/problems".to_owned(),
        ["w", "problems", id, "measures" | "unlink" | "merge"] => format!("/w/problems/{id}"),
        ["w", "measures", ..] => "/w/register".to_owned(),
        ["w", "adjudication", _] => "/w/adjudication".to_owned(),
        ["w", "admin", "links", id, "codes", "drop"] => format!("/w/admin/links/{id}/codes"),
        ["w", "admin", "links", _, "enable"] => "/w/admin/links".to_owned(),
        ["w", "admin", "forms", "reload"] => "/w/admin/forms".to_owned(),
        _ => page.to_owned(),
    };
    Some(form_page)
}

impl<S> FromRequestParts<S> for Staff
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = AuthRejection;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthRejection> {
        if let Some(s) = parts.extensions.get::<Staff>() {
            return Ok(s.clone());
        }
        let state = AppState::from_ref(state);
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        let referer = parts.headers.get(axum::http::header::REFERER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let sign_in = || remember_page(&method, &uri, referer.as_deref(), state.settings.secure_cookies);
        let session = Session::from_request_parts(parts, &state).await.map_err(|_| sign_in())?;
        let internal = |e: tower_sessions::session::Error| AuthRejection::Error(WebError::Internal(e.to_string()));
        let Some(user_id) = session.get::<i64>(USER_KEY).await.map_err(internal)? else {
            return Err(sign_in());
        };
        let signed_in_at = session.get::<i64>(SIGNED_IN_AT_KEY).await.map_err(internal)?.unwrap_or(0);
        let now = state.clock.now_ms();
        if now - signed_in_at > ABSOLUTE_LIMIT_MS {
            let _ = session.flush().await;
            return Err(sign_in());
        }
        // Changing the session makes tower-sessions save it: the store pushes the inactivity expiry
        // back and the cookie's Max-Age is renewed.
        let last_seen = session.get::<i64>(LAST_SEEN_KEY).await.map_err(internal)?.unwrap_or(signed_in_at);
        if now - last_seen >= REFRESH_EVERY_MS {
            session.insert(LAST_SEEN_KEY, now).await.map_err(internal)?;
            if method.is_safe() {
                // A read stores nothing else: tower-sessions saves the renewal after it, and a full disk or
                // a long write must not turn the page into a 503.
                crate::store::sessions::renewal_may_wait();
            } else {
                // Saved now, before the handler writes anything: saved after it, a failure would turn a
                // stored change into a 503 the user retries (`web::session_unavailable` makes the 503).
                session.save().await.map_err(internal)?;
            }
        }
        let user = state.store.user(user_id).await.map_err(|e| AuthRejection::Error(e.into()))?;
        let Some(user) = user.filter(|u| u.active) else {
            let _ = session.flush().await;
            return Err(AuthRejection::SignIn);
        };
        let csrf = session.get::<String>(CSRF_KEY).await.map_err(internal)?.unwrap_or_default();
        let staff = Staff { user, csrf, session, once: None };
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

impl Staff {
    /// # Errors
    /// `Forbidden` unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), WebError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            Err(WebError::WrongRole("您的角色无权访问此页面。".into()))
        }
    }
}

/// A form POST from a signed-in user: checks the CSRF token (`_csrf` field or `X-CSRF-Token` header)
/// against the session before the body is deserialised into `T`.
pub struct CsrfForm<T>(pub Staff, pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = AuthRejection;
    async fn from_request(req: Request, state: &S) -> Result<Self, AuthRejection> {
        let (mut parts, body) = req.into_parts();
        let mut staff = Staff::from_request_parts(&mut parts, state).await?;
        let path = parts.uri.path().to_owned();
        let header = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_type =
            parts.headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| AuthRejection::Error(super::clean::unreadable_body(e)))?;
        let pairs: Vec<(String, String)> = serde_html_form::from_bytes(&bytes).unwrap_or_default();
        // The tagging screen posts with the token in a header and reads JSON: it is answered in JSON.
        let wants_json = header.is_some();
        // Kept for any error page of this request, the handler's too.
        let typed = typed_fields(&pairs);
        if !wants_json {
            super::error::keep_typed(typed.clone());
        }
        let given =
            header.or_else(|| pairs.iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v.clone())).unwrap_or_default();
        // A refusal from here on shows the text fields typed, to copy: going back or refreshing the page
        // may lose them.
        let refused = |status: StatusCode, title: &str, message: String| {
            if wants_json {
                let mut r = super::error::ApiError(WebError::BadRequest(message)).into_response();
                *r.status_mut() = status;
                return AuthRejection::Page(Box::new(r));
            }
            let page = super::pages::MessagePage {
                title: title.into(),
                message,
                back: super::error::way_back(),
                head: Some(staff.head()),
                kept: typed.clone(),
            };
            AuthRejection::Page(Box::new((status, Html(page.render_string())).into_response()))
        };
        if staff.csrf.is_empty() || !constant_time_eq(given.as_bytes(), staff.csrf.as_bytes()) {
            // Typically a page from before signing in again (the tagging screen takes the new token and
            // sends again once: `GET /w/api/csrf`).
            let m = if wants_json {
                "这个页面是在重新登录之前打开的（CSRF 校验失败），刚才的操作没有保存，请刷新页面后重试。"
            } else {
                "这个页面是在重新登录之前打开的（CSRF 校验失败），刚才提交的内容没有保存。请复制下面的内容，刷新页面后重新填写提交。"
            };
            return Err(refused(StatusCode::FORBIDDEN, "页面已过期", m.into()));
        }
        let not_saved = "刚才提交的内容没有保存，请复制下面的内容，改正后重新提交。";
        if let Err((status, why)) = super::clean::check_staff_body(&content_type, &bytes) {
            return Err(refused(status, "没有保存", format!("{}。{not_saved}", why.trim_end_matches('。'))));
        }
        let read = serde_path_to_error::deserialize::<_, T>(serde_html_form::Deserializer::from_bytes(&bytes));
        let value = read.map_err(|e| {
            // A list's path names the item (`ids[0]`): the field is what the page calls it.
            let path = e.path().to_string();
            let field = path.split('[').next().unwrap_or_default().to_owned();
            let times = if path == field { pairs.iter().filter(|(k, _)| *k == field).count() } else { 1 };
            let _logged = super::clean::not_understood(e.into_inner());
            let why = super::clean::field_not_understood(&field, times);
            refused(StatusCode::BAD_REQUEST, "没有保存", format!("{why}{not_saved}"))
        })?;
        // A token as this server makes them (32 hex digits); anything else is not one, and dedupes nothing.
        // It goes with what the form holds: Back brings a sent form back with its token, and what is changed
        // on it is another create; only the same content sent again by the same person to the same address
        // is the same create (a note's form is posted to each card's address in turn).
        staff.once = pairs
            .iter()
            .find(|(k, _)| k == "_once")
            .filter(|(_, v)| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|(_, token)| {
                let mut content = Sha256::new();
                content.update(staff.user.id.to_be_bytes());
                content.update(path.as_bytes());
                content.update([0]);
                for (k, v) in pairs.iter().filter(|(k, _)| k != "_csrf" && k != "_once") {
                    content.update(k.as_bytes());
                    content.update([0]);
                    content.update(v.as_bytes());
                    content.update([0]);
                }
                format!("{}-{}", token.to_ascii_lowercase(), &hex::encode(content.finalize())[..16])
            });
        Ok(CsrfForm(staff, value))
    }
}

/// The text fields of a refused staff form, as (label, text), to show back: never a password, a token or
/// a field that only carries a choice or an id.
fn typed_fields(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(_, v)| !crate::domain::text::is_blank(v))
        // The bulk form's `action` is a choice (add/remove), not a measure's 措施.
        .filter(|(k, v)| !(k == "action" && matches!(v.as_str(), "add" | "remove")))
        .filter_map(|(k, v)| {
            let shown: String = v.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
            super::clean::field_label(k).map(|label| (label.to_owned(), shown))
        })
        .collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Argon2 runs at once, at most one per CPU: each holds about 19 MiB, and sign-ins sent together from many
/// addresses (each under its own limit) took every blocking thread, 1.5 GB, and slowed citizens' pages.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// How long a password check waits for its turn before the person is asked to try again.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs `work` (an Argon2 hash or check) off the async threads, in its turn.
async fn in_hashing_turn<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, WebError> {
    let busy = || WebError::Busy("登录的人太多，请稍等几秒再试。".into());
    let turn = tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await.map_err(|_| busy())?.map_err(|_| busy())?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))
}

/// Hashes a password with Argon2id off the async threads.
///
/// # Errors
/// When hashing fails; `Busy` when too many hashes wait.
pub async fn hash_password(password: String) -> Result<String, WebError> {
    in_hashing_turn(move || crate::domain_password::hash(&password)).await?.map_err(WebError::Internal)
}

/// Verifies a password against a stored hash off the async threads.
///
/// # Errors
/// `Busy` when too many checks wait.
pub async fn verify_password(password: String, hash: String) -> Result<bool, WebError> {
    in_hashing_turn(move || crate::domain_password::verify(&password, &hash)).await
}

#[cfg(test)]
mod tests {
    use super::{page_to_return_to, safe_next};

    #[test]
    fn a_page_only_a_post_produces_returns_to_the_page_its_form_is_on() {
        for (page, back) in [
            ("/w/inbox?area=3", "/w/inbox?area=3"),
            ("/w/inbox/bulk", "/w/inbox"),
            ("/w/inbox/bulk/undo", "/w/inbox"),
            ("/w/problems/link", "/w/problems"),
            ("/w/problems/7/measures", "/w/problems/7"),
            ("/w/problems/7/merge", "/w/problems/7"),
            ("/w/measures/3/progress", "/w/register"),
            ("/w/adjudication/5", "/w/adjudication"),
            ("/w/admin/links/2/codes/drop", "/w/admin/links/2/codes"),
            ("/w/admin/links/2/enable", "/w/admin/links"),
            ("/w/admin/forms/reload", "/w/admin/forms"),
            ("/w/api/next?after=1", "/w/tag"),
            ("/w/keywords", "/w/tag"),
            ("/w/tag/9", "/w/tag/9"),
        ] {
            assert_eq!(page_to_return_to(page).as_deref(), Some(back), "{page}");
        }
        assert_eq!(page_to_return_to("//evil.example/w"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_password_hashes_run_at_once_than_there_are_cpus() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let runs = (0..16).map(|_| {
            tokio::spawn(super::in_hashing_turn(|| {
                MOST.fetch_max(RUNNING.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(30));
                RUNNING.fetch_sub(1, Ordering::SeqCst);
            }))
        });
        for run in runs.collect::<Vec<_>>() {
            run.await.unwrap().unwrap();
        }
        let cpus = std::thread::available_parallelism().unwrap().get();
        assert!(MOST.load(Ordering::SeqCst) <= cpus, "{} at once on {cpus} CPUs", MOST.load(Ordering::SeqCst));
    }

    #[test]
    fn only_workspace_pages_of_this_site_are_places_to_return_to() {
        for ok in ["/w", "/w/dashboard?form=zhengqiu", "/w/tag/12", "/w?x=1"] {
            assert_eq!(safe_next(ok), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.example/w",
            "/w//evil.example",
            "/wx",
            "/w\\evil",
            "/login",
            "https://x/w",
            "/w/a b",
            "/w/\u{0}",
            "",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
