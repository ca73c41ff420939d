//! `GET|POST /w/admin/double-coding` (admins): turn double coding on for a form, for every opinion or a
//! sample percentage, and name the analyst who adjudicates its disagreements. The sample is fixed by a
//! per-form salt chosen when the form is first set (see `domain::agreement::Sample`).

use crate::domain::agreement::{ALL_PERCENT, Sample};
use crate::domain::user::Role;
use crate::store::double_coding::CodingForm;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::state::AppState;
use crate::web::workspace::login::actor;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

/// One form's row on the page.
pub struct Row {
    pub slug: String,
    pub title: String,
    /// 0 when off; as typed after a refusal.
    pub percent: String,
    pub adjudicator: Option<i64>,
    /// Why this row's change was refused, shown beside it.
    pub error: Option<String>,
    /// Disagreements its adjudicator coded (named after coding), which only another adjudicator decides.
    pub stuck: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_double_coding.html")]
pub struct DoubleCodingPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub rows: Vec<Row>,
    /// Active analysts (id, name) who may adjudicate.
    pub analysts: Vec<(i64, String)>,
    pub message: Option<String>,
}

/// A refused change, shown back on its form's row as typed.
struct Refused<'a> {
    typed: &'a SettingForm,
    message: String,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    message: Option<String>,
    refused: Option<Refused<'_>>,
) -> Result<DoubleCodingPage, WebError> {
    let set: Vec<CodingForm> = state.store.coding_forms().await?;
    let stuck = state.store.disputes_coded_by_their_adjudicator().await?;
    let forms = state.forms();
    let rows = forms
        .catalog
        .citizen_forms()
        .map(|f| {
            let s = set.iter().find(|c| c.form == f.slug);
            let mut row = Row {
                slug: f.slug.clone(),
                title: f.title.clone(),
                percent: s.and_then(|c| c.sample).map_or(0, Sample::percent).to_string(),
                adjudicator: s.and_then(|c| c.adjudicator_id),
                error: None,
                stuck: stuck.get(&f.slug).copied().unwrap_or(0),
            };
            if let Some(r) = refused.as_ref().filter(|r| r.typed.form.trim() == f.slug) {
                row.percent = r.typed.percent.chars().take(20).collect();
                row.adjudicator = r.typed.adjudicator.trim().parse().ok();
                row.error = Some(r.message.clone());
            }
            row
        })
        .collect();
    Ok(DoubleCodingPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        rows,
        analysts: analysts(state).await?,
        message,
    })
}

async fn analysts(state: &AppState) -> Result<Vec<(i64, String)>, WebError> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Analyst && u.active)
        .map(|u| (u.id, format!("{}（{}）", u.display_name, u.username)))
        .collect())
}

/// `GET /w/admin/double-coding`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<DoubleCodingPage, WebError> {
    staff.require(&[Role::Admin])?;
    page(&state, &staff, None, None).await
}

/// The posted fields, as typed.
#[derive(Deserialize)]
pub struct SettingForm {
    #[serde(default)]
    form: String,
    #[serde(default)]
    percent: String,
    #[serde(default)]
    adjudicator: String,
}

/// A checked setting: which form, what share (0 = off), and who adjudicates.
struct Setting {
    form: String,
    percent: u8,
    adjudicator: Option<i64>,
}

/// Checks a posted row (its form is known); the message names the field as the page does.
fn parse(f: &SettingForm, analysts: &[(i64, String)]) -> Result<Setting, String> {
    let percent = match f.percent.trim().parse::<i64>() {
        Ok(0) => 0,
        Ok(n) if (1..=i64::from(ALL_PERCENT)).contains(&n) => Sample::new(n, 0)?.percent(),
        _ => return Err(format!("抽样比例：须为 0 到 {ALL_PERCENT} 之间的整数（0 表示关闭）。")),
    };
    let a = f.adjudicator.trim();
    let adjudicator = if a.is_empty() {
        None
    } else {
        let id = a.parse::<i64>().ok().filter(|id| analysts.iter().any(|(x, _)| x == id));
        Some(id.ok_or_else(|| "裁决人：须是在用的分析人员账号。".to_owned())?)
    };
    if percent > 0 && adjudicator.is_none() {
        return Err("裁决人：开启双人归类须指定一位裁决人。".into());
    }
    Ok(Setting { form: f.form.trim().to_owned(), percent, adjudicator })
}

/// `POST /w/admin/double-coding`: sets one form.
pub async fn set(
    State(state): State<AppState>,
    CsrfForm(staff, f): CsrfForm<SettingForm>,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    staff.require(&[Role::Admin])?;
    if state.forms().catalog.citizen_form(f.form.trim()).is_none() {
        return Err(WebError::BadRequest("表单：表单不存在".into()));
    }
    let s = match parse(&f, &analysts(&state).await?) {
        Ok(s) => s,
        Err(message) => {
            let p = page(&state, &staff, None, Some(Refused { typed: &f, message })).await?;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    let salt = rand::random_range(0..(1i64 << 31));
    state.store.set_double_coding(&s.form, s.percent, salt, s.adjudicator, &actor(&staff)).await?;
    let title = state.forms().catalog.form(&s.form).map_or_else(|| s.form.clone(), |f| f.title.clone());
    let msg = if s.percent == 0 {
        format!("已关闭“{title}”的双人归类。")
    } else {
        format!("已设置：“{title}”的 {}% 意见由两位分析人员独立归类。", s.percent)
    };
    Ok(page(&state, &staff, Some(msg), None).await?.into_response())
}
