//! Sign-in, sign-out and the one-time first-administrator set-up.
//! The same message answers an unknown user and a wrong password; attempts are throttled per account
//! and per client, in memory.

use crate::domain::user::{check_password, check_username};
use crate::store::audit::Actor;
use crate::store::sessions::USER_KEY;
use crate::web::auth::{
    CSRF_KEY, CsrfForm, LAST_SEEN_KEY, NEXT_COOKIE, SIGNED_IN_AT_KEY, Staff, UNSAVED_MARK, hash_password,
    page_to_return_to, verify_password,
};
use crate::web::clean::CheckedForm;
use crate::web::error::WebError;
use crate::web::extract::ClientIp;
use crate::web::extract::Query;
use crate::web::limiter::LoginCheck;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub error: Option<String>,
    pub username: String,
    /// Set when a form was posted after the session ended: its change was not saved.
    pub notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

/// `GET /login`.
pub async fn page(jar: axum_extra::extract::CookieJar) -> LoginPage {
    LoginPage { error: None, username: String::new(), notice: unsaved_notice(&jar) }
}

/// Said on the sign-in page when a form was posted after the session ended (see `auth::remember_page`).
fn unsaved_notice(jar: &axum_extra::extract::CookieJar) -> Option<String> {
    remembered(jar).is_some_and(|p| p.starts_with(UNSAVED_MARK)).then(|| {
        "登录已过期，刚才提交的修改没有保存。登录后会回到原来的页面；按浏览器的“返回”键可以找回刚才填写的内容，复制后重新提交。"
            .to_owned()
    })
}

/// The page remembered for after sign-in (see `auth::remember_page`).
fn remembered(jar: &axum_extra::extract::CookieJar) -> Option<String> {
    jar.get(NEXT_COOKIE).and_then(|c| hex::decode(c.value()).ok()).and_then(|b| String::from_utf8(b).ok())
}

fn random_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Starts a fresh session for `user_id` at `now`: a new session id (no fixation), a new CSRF token.
pub async fn start_session(session: &Session, user_id: i64, now: i64) -> Result<(), WebError> {
    let e = |e: tower_sessions::session::Error| WebError::Internal(e.to_string());
    session.cycle_id().await.map_err(e)?;
    session.insert(USER_KEY, user_id).await.map_err(e)?;
    session.insert(SIGNED_IN_AT_KEY, now).await.map_err(e)?;
    session.insert(LAST_SEEN_KEY, now).await.map_err(e)?;
    session.insert(CSRF_KEY, random_token()).await.map_err(e)?;
    Ok(())
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: Session,
    jar: axum_extra::extract::CookieJar,
    CheckedForm(f): CheckedForm<LoginForm>,
) -> Result<Response, WebError> {
    let username = f.username.trim().to_owned();
    let notice = unsaved_notice(&jar);
    let fail =
        |msg: &str| LoginPage { error: Some(msg.to_owned()), username: username.clone(), notice: notice.clone() };
    let today = state.clock.now_ms().div_euclid(86_400_000);
    let tokens = jar.get(DEVICE_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    // The account is read first only for a browser that offers tokens: they are bound to its id and password.
    let known = if tokens.is_empty() { None } else { Some(state.store.user_by_name(&username).await?) };
    let device = known.as_ref().and_then(Option::as_ref).and_then(|u| {
        tokens.split('~').take(DEVICES_KEPT).find_map(|t| state.secret.device_of(t, u.id, &u.password_hash, today))
    });
    if let LoginCheck::Throttled { key, first } = state.login_check(ip, &username, device) {
        // The first refusal is audited at once; the rest, and a first whose entry failed, are counted and
        // audited by the periodic sweep.
        let target = format!("user:{key}");
        if first && state.store.audit(&Actor::system(&key), "sign_in_throttled", &target, None, None).await.is_ok() {
            state.first_refusal_audited(&key);
        }
        return Ok((axum::http::StatusCode::TOO_MANY_REQUESTS, fail("尝试次数过多，请几分钟后再试。")).into_response());
    }
    let user = match known {
        Some(read) => read,
        None => state.store.user_by_name(&username).await?,
    };
    let hash =
        user.as_ref().map_or_else(|| crate::domain_password::dummy_hash().to_owned(), |u| u.password_hash.clone());
    let checked = match verify_password(f.password, hash).await {
        Err(WebError::Busy(why)) => {
            return Ok((axum::http::StatusCode::SERVICE_UNAVAILABLE, fail(&why)).into_response());
        }
        checked => checked?,
    };
    let ok = checked && user.as_ref().is_some_and(|u| u.active);
    let Some(user) = user.filter(|_| ok) else {
        state.store.audit(&Actor::system(&username), "sign_in_failed", &format!("user:{username}"), None, None).await?;
        return Ok((axum::http::StatusCode::UNAUTHORIZED, fail("用户名或密码不正确。")).into_response());
    };
    start_session(&session, user.id, state.clock.now_ms()).await?;
    state
        .store
        .audit(
            &Actor { id: Some(user.id), name: user.username.clone(), once: None },
            "sign_in",
            &format!("user:{}", user.username),
            None,
            None,
        )
        .await?;
    // Back to the page that sent here for sign-in, if it is a workspace page; the cookie is used once.
    let asked = remembered(&jar);
    let to =
        asked.as_deref().map(|p| p.trim_start_matches(UNSAVED_MARK)).and_then(page_to_return_to).unwrap_or("/w".into());
    let jar = jar.remove(axum_extra::extract::cookie::Cookie::build(NEXT_COOKIE).path("/login"));
    let device = device_cookie(&state, &jar, &user, today);
    let jar = jar.add(device);
    Ok((jar, Redirect::to(&to)).into_response())
}

/// The cookie holding this browser's device tokens (see [`crate::domain::signing::Secret::device_token`]).
const DEVICE_COOKIE: &str = "wenji_device";
/// Accounts a shared office computer keeps a token for; the oldest is dropped.
const DEVICES_KEPT: usize = 5;

/// The device cookie after `user` signed in: a fresh token for them first, then the tokens of the other
/// accounts used on this browser (kept by shape: they are checked when used). Sent to the sign-in page only.
fn device_cookie(
    state: &AppState,
    jar: &axum_extra::extract::CookieJar,
    user: &crate::store::users::User,
    today: i64,
) -> axum_extra::extract::cookie::Cookie<'static> {
    let fresh = state.secret.device_token(user.id, &user.password_hash, rand::random(), today);
    let before = jar.get(DEVICE_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    let others = before.split('~').filter(|t| {
        let own = state.secret.device_of(t, user.id, &user.password_hash, today).is_some();
        !own && t.len() <= 120 && t.split('.').count() == 3
    });
    let tokens: Vec<&str> = std::iter::once(fresh.as_str()).chain(others).take(DEVICES_KEPT).collect();
    axum_extra::extract::cookie::Cookie::build((DEVICE_COOKIE, tokens.join("~")))
        .path("/login")
        .http_only(true)
        .secure(state.settings.secure_cookies)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .max_age(time::Duration::days(crate::domain::signing::DEVICE_DAYS))
        .build()
}

#[derive(Deserialize)]
pub struct Empty {}

/// `POST /logout`: ends the session in the database, so the old cookie opens nothing.
pub async fn logout(State(state): State<AppState>, CsrfForm(staff, _): CsrfForm<Empty>) -> Result<Response, WebError> {
    // The entry first: if it cannot be stored, the session stays and a retry signs out.
    state.store.audit(&actor(&staff), "sign_out", &format!("user:{}", staff.user.username), None, None).await?;
    staff.session.flush().await.map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(Redirect::to("/login").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
pub struct SetupPage {
    pub token: String,
    pub error: Option<String>,
    pub username: String,
    pub display_name: String,
    /// Which field the error is about, for `aria-invalid` and `aria-describedby`.
    pub error_field: &'static str,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    display_name: String,
    password: String,
    password2: String,
}

/// Also read by whoever created the account but met an error before being signed in: the account stands.
const SETUP_USED: &str = "该设置链接无效、已用过或已过期（链接打印后 24 小时内有效，重启 wenji serve 会打印新的链接）。如果管理员账号已经创建，请到登录页 /login 用它登录。";

/// Whether the set-up link with `token` may still be used: it is live, and no administrator exists yet
/// (one may have been made with `wenji user` meanwhile; analysts made first leave it live, or nobody could
/// manage the accounts).
async fn setup_token_live(state: &AppState, token: &str) -> Result<bool, WebError> {
    Ok(!token.is_empty() && state.store.setup_token_live(token).await? && state.store.count_admins().await? == 0)
}

/// `GET /setup?token=…`: the one-time page for creating the first administrator.
pub async fn setup_page(State(state): State<AppState>, Query(q): Query<SetupQuery>) -> Result<SetupPage, WebError> {
    let token = q.token.unwrap_or_default();
    if !setup_token_live(&state, &token).await? {
        return Err(WebError::NotFound(SETUP_USED.into()));
    }
    Ok(SetupPage { token, error: None, username: String::new(), display_name: String::new(), error_field: "" })
}

/// `POST /setup`: creates the first administrator and signs them in; the link then stops working.
/// Protected by the one-time token (there is no session yet) and the Origin check.
pub async fn setup_submit(
    State(state): State<AppState>,
    session: Session,
    CheckedForm(f): CheckedForm<SetupForm>,
) -> Result<Response, WebError> {
    if !setup_token_live(&state, &f.token).await? {
        return Err(WebError::NotFound(SETUP_USED.into()));
    }
    let again = |field: &'static str, msg: String| {
        let page = SetupPage {
            token: f.token.clone(),
            error: Some(msg),
            username: f.username.clone(),
            display_name: f.display_name.clone(),
            error_field: field,
        };
        (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
    };
    if let Err(m) = check_username(f.username.trim()) {
        return Ok(again("username", m));
    }
    if f.display_name.chars().count() > 50 {
        return Ok(again("display_name", "显示名称：最多 50 个字。".into()));
    }
    if f.password != f.password2 {
        return Ok(again("password2", "再输一次：两次输入的密码不一致。".into()));
    }
    if let Err(m) = check_password(f.username.trim(), &f.password) {
        return Ok(again("password", m));
    }
    let hash = hash_password(f.password.clone()).await?;
    let name = if f.display_name.trim().is_empty() { f.username.trim() } else { f.display_name.trim() };
    // Of several concurrent posts one finds the token; a failed set-up leaves it for a retry.
    let Some(user) = state.store.create_first_admin(&f.token, f.username.trim(), name, &hash).await? else {
        return Err(WebError::NotFound(SETUP_USED.into()));
    };
    *state.setup_token.lock().expect("setup lock") = None;
    start_session(&session, user.id, state.clock.now_ms()).await?;
    Ok(Redirect::to("/w").into_response())
}

/// The staff member as an audit actor.
pub fn actor(staff: &Staff) -> Actor {
    Actor { id: Some(staff.user.id), name: staff.user.username.clone(), once: staff.once.clone() }
}
