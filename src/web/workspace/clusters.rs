//! `GET /w/clusters/{id}` (admins, analysts): the near-duplicate group (同类意见) of one opinion, listed,
//! with one form that tags the whole group and one that links it to a problem. They post the group's ids
//! to the inbox's bulk action and to the problem link, so each change is shown with its count and applied
//! only after it is confirmed.

use super::card::date;
use crate::domain::user::Role;
use crate::web::auth::Staff;
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

/// One opinion of the group.
pub struct Member {
    pub id: i64,
    pub text: String,
    pub source: String,
    pub date: String,
    pub state_label: &'static str,
    pub areas: Vec<(u8, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "cluster.html")]
pub struct ClusterPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub csrf: String,
    pub opinion: i64,
    pub can_tag: bool,
    /// Problems to link the group to (analysts only).
    pub problems: Vec<super::problems::ProblemChoice>,
    pub members: Vec<Member>,
    pub areas: Vec<(u8, String)>,
}

/// `GET /w/clusters/{id}`: the group of opinion `id`.
pub async fn page(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<ClusterPage, WebError> {
    staff.require(&[Role::Admin, Role::Analyst])?;
    let ids = state.store.cluster_members(id).await?;
    if ids.is_empty() {
        return Err(WebError::NotFound("这条意见不存在".into()));
    }
    let forms = state.forms();
    let names = &forms.catalog.areas;
    let mut members = Vec::with_capacity(ids.len());
    for m in ids {
        let o = state.store.opinion(m).await?;
        members.push(Member {
            id: o.id,
            source: format!(
                "{} · {} · {}",
                forms.form_title(&o.form_slug),
                forms.unit_name(o.unit_code.as_deref()),
                forms.category_label(&o.form_slug, o.category_code.as_deref())
            ),
            date: date(o.submitted_at),
            state_label: o.state.label(),
            areas: o.areas().iter().map(|a| (a.get(), names.name(*a).to_owned())).collect(),
            text: o.text,
        });
    }
    Ok(ClusterPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        csrf: staff.csrf.clone(),
        opinion: id,
        can_tag: staff.user.role.can_tag(),
        problems: if staff.user.role.can_tag() { super::problems::problem_choices(&state).await? } else { Vec::new() },
        members,
        areas: names.iter().map(|a| (a.code.get(), a.name.clone())).collect(),
    })
}
