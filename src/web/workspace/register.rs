//! 整改台账 routes: measures under a problem (analysts draft; admins and leaders edit, publish and record
//! progress), the register page and its workbook for posting. Every change is audited by the store.

use crate::domain::form::answers::FieldError;
use crate::domain::rectification::{MeasureDraft, MeasureInput, MeasureStatus, parse_deadline};
use crate::domain::user::Role;
use crate::store::StoreError;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::state::AppState;
use crate::web::workspace::login::actor;
use crate::web::workspace::problems::{ProblemView, detail_page, problem_views};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Who may edit any measure, publish and record progress.
pub const PUBLISHERS: &[Role] = &[Role::Admin, Role::Leader];
/// Who may draft a measure (and edit it while it is not published).
const DRAFTERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Leader];
const READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Leader];

/// What was typed into the form that was refused, shown again in place of the stored values.
enum Typed<'a> {
    Measure(i64, &'a MeasureInput),
    NewMeasure(&'a MeasureInput),
    Progress(i64, &'a ProgressForm),
}

/// The problem's page again, naming what to fix, with what was typed still in its form.
async fn invalid(
    state: &AppState,
    staff: &Staff,
    problem: i64,
    errors: Vec<FieldError>,
    typed: Typed<'_>,
) -> Result<Response, WebError> {
    let notice = Some("整改措施有需要修改的地方，已在下方标出；您填写的内容都还在。".to_owned());
    again(state, staff, problem, StatusCode::UNPROCESSABLE_ENTITY, errors, notice, typed).await
}

async fn again(
    state: &AppState,
    staff: &Staff,
    problem: i64,
    status: StatusCode,
    errors: Vec<FieldError>,
    notice: Option<String>,
    typed: Typed<'_>,
) -> Result<Response, WebError> {
    let mut page = detail_page(state, staff, problem, None, errors, notice, None).await?;
    match typed {
        Typed::Measure(id, input) => {
            if let Some(m) = page.p.measures.iter_mut().find(|m| m.id == id) {
                m.action.clone_from(&input.action);
                m.target.clone_from(&input.target);
                m.deadline.clone_from(&input.deadline);
                m.owner.clone_from(&input.owner);
                if let Some(s) = MeasureStatus::parse(&input.status) {
                    m.status_code = s.as_str();
                }
            }
        }
        Typed::NewMeasure(input) => page.new_measure = input.clone(),
        Typed::Progress(id, form) => {
            if let Some(m) = page.p.measures.iter_mut().find(|m| m.id == id) {
                m.typed_on.clone_from(&form.on);
                m.typed_evidence.clone_from(&form.evidence);
            }
        }
    }
    Ok((status, page).into_response())
}

/// After a change to measure `id`: back to it, or its problem's page naming why the store refused, with
/// what was typed (if anything) still in the form.
async fn back_to_measure(
    state: &AppState,
    staff: &Staff,
    problem: i64,
    id: i64,
    done: Result<(), StoreError>,
    typed: Option<&MeasureInput>,
) -> Result<Response, WebError> {
    let (status, message) = match done {
        Ok(()) => return Ok(Redirect::to(&format!("/w/problems/{problem}#m{id}")).into_response()),
        Err(StoreError::Conflict(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(StoreError::EditedMeanwhile) => {
            // The form is about to show what this person typed: the stored text goes in the message.
            let now = state.store.measure(id).await?.draft;
            let message = format!(
                "{}现在保存的是——措施：{}；目标：{}；时限：{}；责任：{}；状态：{}。",
                crate::store::EDITED_MEANWHILE,
                now.action,
                now.target,
                now.deadline.map(|d| d.to_string()).unwrap_or_default(),
                now.owner,
                now.status.label()
            );
            (StatusCode::CONFLICT, message)
        }
        Err(e) => return Err(e.into()),
    };
    let errors = vec![FieldError { field: format!("m{id}"), message }];
    match typed {
        Some(input) => again(state, staff, problem, status, errors, None, Typed::Measure(id, input)).await,
        None => Ok((status, detail_page(state, staff, problem, None, errors, None, None).await?).into_response()),
    }
}

/// `POST /w/problems/{id}/measures`: adds a draft measure.
pub async fn create(
    State(state): State<AppState>,
    Id(problem): Id,
    CsrfForm(staff, input): CsrfForm<MeasureInput>,
) -> Result<Response, WebError> {
    staff.require(DRAFTERS)?;
    match state.store.problem(problem).await {
        Err(crate::store::StoreError::NotFound) => return Err(super::problems::problem_gone(problem)),
        other => other?,
    };
    match MeasureDraft::try_from(&input) {
        // A blank draft would stand in the register as a measure with nothing in it.
        Ok(d) if d.missing_for_publication().len() == 4 => {
            let message = "新增整改措施：四项都是空的，没有保存；请至少填写措施，其他几项可以以后补。".into();
            let errors = vec![FieldError { field: "action".into(), message }];
            invalid(&state, &staff, problem, errors, Typed::NewMeasure(&input)).await
        }
        Ok(d) => {
            let id = state.store.create_measure(&actor(&staff), problem, &d).await?;
            Ok(Redirect::to(&format!("/w/problems/{problem}#m{id}")).into_response())
        }
        Err(errors) => invalid(&state, &staff, problem, errors, Typed::NewMeasure(&input)).await,
    }
}

/// A measure's form as posted: its parts, and `publish=1` from 保存并公开.
#[derive(Deserialize)]
pub struct MeasureEdit {
    #[serde(flatten)]
    input: MeasureInput,
    #[serde(default)]
    publish: String,
}

/// `POST /w/measures/{id}`: replaces a measure's parts and status. Analysts only while it is a draft.
/// 保存并公开 (`publish=1`, leaders and admins) saves and then publishes what was just saved: a separate
/// publish button beside the form published the stored text and dropped what had been typed.
pub async fn update(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, MeasureEdit { input, publish }): CsrfForm<MeasureEdit>,
) -> Result<Response, WebError> {
    staff.require(DRAFTERS)?;
    let seen = crate::web::workspace::problems::seen_version(&input.seen)?;
    let m = state.store.measure(id).await?;
    let drafts_only = !PUBLISHERS.contains(&staff.user.role);
    if m.published_at.is_some() && drafts_only {
        return Err(WebError::Forbidden(crate::store::register::PUBLISHED_NOT_FOR_DRAFTERS.into()));
    }
    match MeasureDraft::try_from(&input) {
        Ok(d) => {
            if publish == "1" {
                staff.require(PUBLISHERS)?;
            }
            let mut done = state.store.update_measure(&actor(&staff), id, &d, drafts_only, seen).await;
            if done.is_ok() && publish == "1" {
                done = state.store.publish_measure(&actor(&staff), id, true).await;
            }
            back_to_measure(&state, &staff, m.problem_id, id, done, Some(&input)).await
        }
        Err(errors) => invalid(&state, &staff, m.problem_id, errors, Typed::Measure(id, &input)).await,
    }
}

#[derive(Deserialize)]
pub struct PublishForm {
    #[serde(default)]
    publish: String,
    /// A withdrawal takes the measure and its ratings off the public page: the checkbox confirms it.
    #[serde(default)]
    confirm: String,
}

/// `POST /w/measures/{id}/publish`: publishes (`publish=1`) or withdraws (`publish=0`).
pub async fn publish(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<PublishForm>,
) -> Result<Response, WebError> {
    staff.require(PUBLISHERS)?;
    let on = match form.publish.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(WebError::BadRequest("公开：应为 1（公开）或 0（撤回）".into())),
    };
    if !on && form.confirm != "1" {
        return Err(WebError::BadRequest(
            "确认撤回：请勾选“确认撤回”再提交；撤回后群众在整改公开页看不到这项措施和它的评价。".into(),
        ));
    }
    let m = state.store.measure(id).await?;
    let done = state.store.publish_measure(&actor(&staff), id, on).await;
    back_to_measure(&state, &staff, m.problem_id, id, done, None).await
}

#[derive(Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    evidence: String,
}

/// `POST /w/measures/{id}/progress`: a dated progress entry with its evidence.
pub async fn progress(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<ProgressForm>,
) -> Result<Response, WebError> {
    staff.require(PUBLISHERS)?;
    let m = state.store.measure(id).await?;
    let mut errors = Vec::new();
    let today = crate::domain::rectification::bureau_today(state.clock.now_ms());
    let on = match parse_deadline(&form.on) {
        // A progress entry records what has happened: /gongkai shows the latest one as 最新进展.
        Ok(Some(d)) if d > today => {
            errors.push(FieldError { field: format!("m{id}"), message: "进展日期：不能晚于今天".into() });
            None
        }
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            errors.push(FieldError { field: format!("m{id}"), message: "进展日期：请填写日期".into() });
            None
        }
        Err(_) => {
            let message = "进展日期：应为日期，格式 2026-11-20".into();
            errors.push(FieldError { field: format!("m{id}"), message });
            None
        }
    };
    let cleaned: String =
        form.evidence.chars().filter(|&c| !crate::domain::text::is_meaningless_invisible(c)).collect();
    let evidence = cleaned.trim();
    let n = evidence.chars().count();
    if crate::domain::text::is_blank(evidence) {
        errors.push(FieldError {
            field: format!("m{id}"), message: "进展情况：请填写进展和佐证材料".into()
        });
    } else if n > crate::domain::rectification::LONG_MAX {
        errors
            .push(FieldError { field: format!("m{id}"), message: format!("进展情况：太长（{n} 个字符）") });
    }
    match on {
        Some(on) if errors.is_empty() => {
            state.store.add_progress(&actor(&staff), id, on, evidence).await?;
            Ok(Redirect::to(&format!("/w/problems/{}#m{id}", m.problem_id)).into_response())
        }
        _ => invalid(&state, &staff, m.problem_id, errors, Typed::Progress(id, &form)).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
pub struct RegisterPage {
    pub head: super::head::StaffHead,
    pub problems: Vec<ProblemView>,
    pub can_download: bool,
    pub overdue: usize,
    pub published: usize,
    pub total: usize,
}

/// `GET /w/register`: every measure under its problem, overdue ones marked, with ratings.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Result<RegisterPage, WebError> {
    staff.require(READERS)?;
    let problems = problem_views(&state, staff.user.role == Role::Leader, None).await?;
    let all = problems.iter().flat_map(|p| p.measures.iter());
    let (total, published, overdue) =
        all.fold((0, 0, 0), |(t, p, o), m| (t + 1, p + usize::from(m.published), o + usize::from(m.overdue)));
    Ok(RegisterPage {
        head: staff.head(),
        problems,
        can_download: PUBLISHERS.contains(&staff.user.role),
        overdue,
        published,
        total,
    })
}

/// `GET /w/register.xlsx`: the register workbook for posting (A4 landscape), audited.
pub async fn download(
    State(state): State<AppState>,
    method: axum::http::Method,
    staff: Staff,
) -> Result<Response, WebError> {
    staff.require(PUBLISHERS)?;
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    // A HEAD sends no workbook: none is made, and nothing was downloaded to audit.
    if method == axum::http::Method::HEAD {
        return Ok(([(header::CONTENT_TYPE, xlsx)], ()).into_response());
    }
    // For posting: support and ratings as leaders and the public see them, up to the last midnight.
    let reg = state.published_register(None).await?;
    let catalog = state.forms().catalog.clone();
    let now = state.clock.now_ms();
    let bytes = tokio::task::spawn_blocking(move || crate::export::register::posting_workbook(&reg, &catalog, now))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(e.to_string()))?;
    state.store.audit(&actor(&staff), "register_export", "register", None, None).await?;
    // Named as `wenji export --register` names its file.
    let shown = format!("整改台账-{}.xlsx", crate::domain::report::local_time(now).replace([' ', ':'], "-"));
    Ok((
        [
            (header::CONTENT_TYPE, xlsx.to_owned()),
            (header::CONTENT_DISPOSITION, super::attachment("zhenggai-taizhang.xlsx", &shown)),
        ],
        bytes,
    )
        .into_response())
}
