//! Administrators' pages: `GET|POST /w/admin/users` (add, disable — which ends that person's sessions —,
//! enable, reset a password; weak passwords are refused with the reason) and `GET /w/admin/audit` (the
//! audit log, filtered by action and actor, keyset-paged, read-only).

use super::audit_text::{action_label, actor_text, target_text, value_text};
use super::card::date;
use super::login::actor;
use crate::domain::user::{Role, check_password, check_username};
use crate::store::audit::AuditEntry;
use crate::web::auth::{CsrfForm, Staff, hash_password};
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

pub struct UserLine {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub active: bool,
    pub created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub csrf: String,
    pub users: Vec<UserLine>,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub typed: NewUserTyped,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    notice: Option<String>,
) -> Result<UsersPage, WebError> {
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserLine {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.label(),
            active: u.active,
            created: date(u.created_at),
        })
        .collect();
    Ok(UsersPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        csrf: staff.csrf.clone(),
        users,
        error,
        notice,
        typed: NewUserTyped::default(),
    })
}

/// A refused new account's fields as typed (never the password), shown again.
#[derive(Default)]
pub struct NewUserTyped {
    pub username: String,
    pub display_name: String,
    pub role: String,
}

/// What the users page says after a change: `done` names it, `id` the account. Said only when the audit
/// log's latest entry of that kind is this admin's, on that account, in the last ten minutes: a link cannot
/// make the page claim a change that was not made.
#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    pub done: String,
    pub id: Option<i64>,
}

/// `GET /w/admin/users`.
pub async fn users(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<UsersQuery>,
) -> Result<UsersPage, WebError> {
    staff.require(&[Role::Admin])?;
    let (action, what) = match q.done.as_str() {
        "added" => ("user_created", "已添加"),
        "disabled" => ("user_disabled", "已停用（其登录已全部结束）"),
        "enabled" => ("user_enabled", "已启用"),
        "reset" => ("password_reset", "已重设密码（其登录已全部结束）"),
        _ => return users_page(&state, &staff, None, None).await,
    };
    let account = match q.id {
        Some(id) => state.store.user(id).await?,
        None => None,
    };
    let latest = state.store.audit_entries(Some(action), None, None, 1).await?.pop();
    let recent = |at: i64| crate::store::now_ms() - at < 10 * 60 * 1000;
    let notice = account
        .filter(|u| {
            latest.as_ref().is_some_and(|e| {
                e.target == format!("user:{}", u.username) && e.actor_id == Some(staff.user.id) && recent(e.at)
            })
        })
        .map(|u| format!("账号 {}（{}）{what}。", u.username, u.display_name));
    users_page(&state, &staff, None, notice).await
}

/// One change to the accounts.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    /// `add` | `disable` | `enable` | `reset`.
    pub op: String,
    pub id: Option<i64>,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

/// `POST /w/admin/users`.
pub async fn users_post(
    State(state): State<AppState>,
    CsrfForm(staff, f): CsrfForm<UserForm>,
) -> Result<Response, WebError> {
    staff.require(&[Role::Admin])?;
    let who = actor(&staff);
    let store = &state.store;
    let refuse = |msg: String| async {
        let mut page = users_page(&state, &staff, Some(msg), None).await?;
        if f.op == "add" {
            page.typed = NewUserTyped {
                username: f.username.clone(),
                display_name: f.display_name.clone(),
                role: f.role.clone(),
            };
        }
        Ok::<Response, WebError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let target = |id: Option<i64>| async move {
        let id = id.ok_or_else(|| WebError::BadRequest("账号：缺少账号".into()))?;
        store.user(id).await?.ok_or_else(|| WebError::NotFound("找不到该账号".into()))
    };
    let done: Result<(&str, i64), WebError> = match f.op.as_str() {
        "add" => {
            let username = f.username.trim();
            if let Err(m) = check_username(username) {
                return refuse(format!("用户名：{m}")).await;
            }
            let role: Role = match f.role.parse() {
                Ok(r) => r,
                Err(_) => return refuse("角色：请选择管理员、分析员或领导".into()).await,
            };
            if let Err(m) = check_password(username, &f.password) {
                return refuse(m).await; // each reason names 密码 itself
            }
            let hash = hash_password(f.password.clone()).await?;
            let display = if f.display_name.trim().is_empty() { username } else { f.display_name.trim() };
            let u = match store.create_user(username, display, role, &hash, &who).await {
                Ok(u) => u,
                Err(crate::store::StoreError::Conflict(m)) => return refuse(m).await,
                Err(e) => return Err(e.into()),
            };
            Ok(("added", u.id))
        }
        "disable" | "enable" => {
            let u = target(f.id).await?;
            let active = f.op == "enable";
            if !active && u.id == staff.user.id {
                return refuse("不能停用自己的账号".into()).await;
            }
            store.set_user_active(u.id, active, &who).await?;
            Ok((if active { "enabled" } else { "disabled" }, u.id))
        }
        "reset" => {
            let u = target(f.id).await?;
            if let Err(m) = check_password(&u.username, &f.password) {
                return refuse(m).await; // each reason names 密码 itself
            }
            let hash = hash_password(f.password.clone()).await?;
            store.set_password_hash(u.id, &hash, &who).await?;
            Ok(("reset", u.id))
        }
        other => Err(WebError::BadRequest(format!("操作：未知操作 {other}"))),
    };
    let (done, id) = done?;
    Ok(Redirect::to(&format!("/w/admin/users?done={done}&id={id}")).into_response())
}

/// The audit log's query string.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    #[serde(default, skip_serializing)]
    pub before: Option<i64>,
}

/// One audit entry as people read it (see `audit_text`).
pub struct AuditLine {
    pub e: AuditEntry,
    pub date: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: String,
    pub after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub q: AuditQuery,
    pub lines: Vec<AuditLine>,
    pub filter_string: String,
    pub next_before: Option<i64>,
    /// The actions the filter offers, by their Chinese names.
    pub actions: &'static [(&'static str, &'static str)],
}

/// Rows per audit page.
pub const AUDIT_PAGE: u64 = 100;

/// `GET /w/admin/audit`.
pub async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<AuditPage, WebError> {
    staff.require(&[Role::Admin])?;
    let action = Some(q.action.trim()).filter(|s| !s.is_empty());
    let who = Some(q.actor.trim()).filter(|s| !s.is_empty());
    let mut entries = state.store.audit_entries(action, who, q.before, AUDIT_PAGE + 1).await?;
    let more = entries.len() as u64 > AUDIT_PAGE;
    entries.truncate(AUDIT_PAGE as usize);
    Ok(AuditPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        next_before: if more { entries.last().map(|e| e.id) } else { None },
        lines: {
            let forms = state.forms();
            let users = state.store.users().await?.into_iter().map(|u| (u.id, u.display_name)).collect();
            entries
                .into_iter()
                .map(|e| {
                    let value = |v: &Option<String>| {
                        v.as_deref().map(|v| value_text(&e.action, v, &forms, &users)).unwrap_or_default()
                    };
                    AuditLine {
                        date: date(e.at),
                        actor: actor_text(&e),
                        action: action_label(&e.action).to_owned(),
                        target: target_text(&e.target, &forms),
                        before: value(&e.before),
                        after: value(&e.after),
                        e,
                    }
                })
                .collect()
        },
        filter_string: serde_html_form::to_string(&q).unwrap_or_default(),
        actions: super::audit_text::ACTIONS,
        q,
    })
}
