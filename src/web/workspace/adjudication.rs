//! The adjudication queue (`GET /w/adjudication`, `POST /w/adjudication/{id}`): the analyst an admin named
//! for a form sees each disagreement with both codings side by side and decides the final areas.

use crate::domain::area::AreaCode;
use crate::domain::user::Role;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::state::AppState;
use crate::web::workspace::login::actor;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// Most disagreements listed at once.
const PAGE: u64 = 100;

/// One disagreement as the adjudicator sees it.
pub struct DisputeView {
    pub id: i64,
    pub form: String,
    pub text: String,
    pub first_coder: String,
    pub second_coder: String,
    /// (code, name, chosen by the first, chosen by the second).
    pub areas: Vec<(u8, String, bool, bool)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "adjudication.html")]
pub struct AdjudicationPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub csrf: String,
    pub disputes: Vec<DisputeView>,
    /// Whether any form names this analyst as adjudicator.
    pub adjudicates: bool,
    /// More disagreements wait than the page shows.
    pub more: bool,
    /// A refused decision: the disagreement's id and why, shown at it.
    pub error: Option<(i64, String)>,
}

/// `GET /w/adjudication`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Result<AdjudicationPage, WebError> {
    staff.require(&[Role::Analyst])?;
    queue(&state, &staff, None).await
}

/// The queue, with a refused decision's reason at its disagreement.
async fn queue(state: &AppState, staff: &Staff, error: Option<(i64, String)>) -> Result<AdjudicationPage, WebError> {
    let me = staff.user.id;
    let adjudicates = state.store.coding_forms().await?.iter().any(|f| f.adjudicator_id == Some(me));
    let forms = state.forms();
    let mut found = state.store.disputes(me, PAGE + 1).await?;
    let more = found.len() as u64 > PAGE;
    found.truncate(usize::try_from(PAGE).unwrap_or(usize::MAX));
    let disputes = found
        .into_iter()
        .map(|d| DisputeView {
            id: d.opinion_id,
            form: forms.form_title(&d.form_slug),
            text: d.text,
            first_coder: d.first.coder,
            second_coder: d.second.coder,
            areas: AreaCode::all()
                .map(|a| {
                    (
                        a.get(),
                        forms.catalog.areas.name(a).to_owned(),
                        d.first.areas.contains(&a),
                        d.second.areas.contains(&a),
                    )
                })
                .collect(),
        })
        .collect();
    Ok(AdjudicationPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        csrf: staff.csrf.clone(),
        disputes,
        adjudicates,
        more,
        error,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    area: Vec<String>,
}

/// `POST /w/adjudication/{id}`: the decided areas become the opinion's final tags.
pub async fn decide(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, f): CsrfForm<DecisionForm>,
) -> Result<Response, WebError> {
    staff.require(&[Role::Analyst])?;
    let areas = super::tag::parse_areas("area", &f.area)?;
    if areas.is_empty() {
        // Back on the queue, at the disagreement (a bare error page left the adjudicator no way back).
        let why = "领域：请至少选择一个领域（无效意见请在逐条归类中标为“无效”）".to_owned();
        let page = queue(&state, &staff, Some((id, why))).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let o = state.store.opinion(id).await?;
    let form = state.store.coding_forms().await?.into_iter().find(|f| f.form == o.form_slug);
    if form.and_then(|f| f.adjudicator_id) != Some(staff.user.id) {
        return Err(WebError::Forbidden("只有管理员为本表单指定的裁决人可以裁决".into()));
    }
    state.store.adjudicate(id, &areas, &actor(&staff)).await?;
    Ok(Redirect::to("/w/adjudication").into_response())
}
