//! `/w/admin/links/{id}/codes`: single-use codes for a small unit's link. Once a link has codes, a response
//! through it needs one unspent; the codes are shown once, to print and hand out at random.

use super::links::{active_link, admin};
use super::login::actor;
use crate::domain::access_code::AccessCode;
use crate::store::StoreError;
use crate::store::links::CodeCounts;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Most codes one request makes: a unit's members, with room to spare.
const MOST_AT_ONCE: u32 = 500;

#[derive(Template, WebTemplate)]
#[template(path = "admin_link_codes.html")]
pub struct CodesPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub id: i64,
    pub form_title: String,
    pub unit_name: String,
    pub needs_code: bool,
    pub counts: CodeCounts,
    /// What was typed into the count, shown back with its error.
    pub count: String,
    pub error: Option<String>,
    /// The codes just made: shown this once.
    pub issued: Vec<String>,
    /// Other open links of the same form and unit that take responses without a code: (id, label).
    pub open_beside: Vec<(i64, String)>,
}

#[derive(Deserialize, Default)]
pub struct IssueForm {
    #[serde(default)]
    pub count: String,
    /// How many codes the page showed as issued: a reload that posts again finds more and makes none.
    #[serde(default)]
    pub issued: String,
}

#[derive(Deserialize, Default)]
pub struct DropForm {
    #[serde(default)]
    pub confirm: String,
}

async fn page(state: &AppState, staff: &Staff, id: i64) -> Result<CodesPage, WebError> {
    let revoked = "该链接已停用：填写码不能再发或收回；重新启用链接后才能管理。";
    let (l, form_title, unit_name, _) = active_link(state, id, revoked).await?;
    let counts = state.store.access_code_counts().await?.get(&id).copied().unwrap_or_default();
    // A unit's batch fills from every link of it: one without codes still lets anyone fill it.
    let open_beside = state
        .store
        .links(Some(&l.form_slug))
        .await?
        .into_iter()
        .filter(|o| o.id != id && o.unit_code == l.unit_code && !o.revoked && !o.needs_code)
        .map(|o| (o.id, o.label))
        .collect();
    Ok(CodesPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        id,
        form_title,
        unit_name,
        needs_code: l.needs_code,
        counts,
        count: String::new(),
        error: None,
        issued: Vec::new(),
        open_beside,
    })
}

/// `GET /w/admin/links/{id}/codes`.
pub async fn show(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<CodesPage, WebError> {
    admin(&staff)?;
    page(&state, &staff, id).await
}

/// How many codes `typed` asks for.
fn count_of(typed: &str) -> Result<u32, String> {
    // Digits typed on a Chinese keyboard come full-width.
    let digits: String = typed.trim().chars().map(crate::domain::text::half_width).collect();
    match digits.parse::<u32>() {
        Ok(n) if (1..=MOST_AT_ONCE).contains(&n) => Ok(n),
        _ => Err(format!("数量：请填写 1 到 {MOST_AT_ONCE} 之间的整数。")),
    }
}

/// `POST /w/admin/links/{id}/codes`: makes `count` codes, stores their hashes (audited) and shows the
/// codes this once, not to be cached.
pub async fn issue(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<IssueForm>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let n = match count_of(&form.count) {
        Ok(n) => n,
        Err(e) => {
            let mut p = page(&state, &staff, id).await?;
            p.count = form.count.chars().take(20).collect();
            p.error = Some(e);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    let codes: Vec<AccessCode> = (0..n).map(|_| AccessCode::from_random(rand::random())).collect();
    let hashes: Vec<String> = codes.iter().map(|c| state.secret.access_code_hash(id, c)).collect();
    // Two equal codes in one draw (about n²/10^12) would make the batch fail on its key: draw again.
    let mut unique = hashes.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != hashes.len() {
        return Err(WebError::Unavailable("请再点一次“生成”。".into()));
    }
    let Ok(seen) = form.issued.trim().parse::<u64>() else {
        let mut p = page(&state, &staff, id).await?;
        p.count = form.count.chars().take(20).collect();
        p.error = Some("已发数量：缺少本页显示的已发数量，请刷新本页后再生成。".into());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    };
    match state.store.issue_access_codes(id, seen, &hashes, &actor(&staff)).await {
        Err(StoreError::Conflict(m)) => {
            let mut p = page(&state, &staff, id).await?;
            p.error = Some(m);
            return Ok((StatusCode::CONFLICT, p).into_response());
        }
        other => other?,
    }
    let mut p = page(&state, &staff, id).await?;
    p.issued = codes.iter().map(ToString::to_string).collect();
    let mut r = (StatusCode::OK, p).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// `POST /w/admin/links/{id}/codes/drop`: with `confirm=1`, the link takes responses without a code again
/// and its codes are deleted (audited).
pub async fn drop(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<DropForm>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let mut p = page(&state, &staff, id).await?;
    if form.confirm != "1" {
        p.error = Some("请先勾选“确认不再要求填写码”。".into());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
    }
    state.store.drop_access_codes(id, &actor(&staff)).await?;
    Ok(Redirect::to(&format!("/w/admin/links#link-{id}")).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_count_is_a_whole_number_within_bounds() {
        assert_eq!(super::count_of(" 12 "), Ok(12));
        assert_eq!(super::count_of("１２"), Ok(12));
        for bad in ["", "0", "-3", "501", "1.5", "十", "99999999999999999999", "1\0"] {
            assert!(super::count_of(bad).is_err(), "{bad:?}");
        }
    }
}
