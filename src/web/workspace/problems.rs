//! `/w/problems`: 问题清单. Analysts write problems and link opinions to them (from the tagging screen: one
//! key, then choose; from the inbox: the ticked opinions, in bulk). Everyone signed in reads the list,
//! ordered by support; leaders see a problem's units only as the disclosure policy allows.

use crate::domain::form::answers::FieldError;
use crate::domain::problem::{CauseType, Problem, ProblemDraft, ProblemInput, leader_units};
use crate::domain::rectification::{MeasureStatus, bureau_today, is_overdue};
use crate::domain::report::policy::OTHER_UNITS;
use crate::domain::user::Role;
use crate::store::StoreError;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::{Id, Query};
use crate::web::state::AppState;
use crate::web::workspace::login::actor;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

const WRITERS: &[Role] = &[Role::Analyst];
/// Who may edit a problem's text: its writers while no measure of it is published, its publishers always.
const EDITORS: &[Role] = &[Role::Analyst, Role::Leader, Role::Admin];
const READERS: &[Role] = &[Role::Admin, Role::Analyst, Role::Leader];

/// One problem as a list row or a page heading.
pub struct ProblemView {
    pub id: i64,
    pub title: String,
    pub areas: String,
    pub description: String,
    pub root_cause: String,
    pub cause_type: String,
    pub opinions: u64,
    pub responses: u64,
    /// "基层科（6）、办公室（5）" for the office; shown units only, no counts, for leaders.
    pub units: String,
    pub quotes: Vec<String>,
    pub measures: Vec<MeasureView>,
    /// The version the edit form sends back (`seen`).
    pub version: i64,
}

/// One measure under its problem.
pub struct MeasureView {
    pub id: i64,
    pub action: String,
    pub target: String,
    pub deadline: String,
    pub owner: String,
    pub status: &'static str,
    pub status_code: &'static str,
    pub overdue: bool,
    pub published: bool,
    pub missing: String,
    pub latest: String,
    pub ratings: String,
    pub progress: Vec<String>,
    pub comments: Vec<String>,
    /// The version the edit form sends back (`seen`).
    pub version: i64,
    /// A refused progress entry's date and text, shown again.
    pub typed_on: String,
    pub typed_evidence: String,
}

/// The form's fields as typed, kept when it is shown again with errors.
#[derive(Default)]
pub struct Typed {
    pub title: String,
    pub areas: Vec<String>,
    pub description: String,
    pub root_cause: String,
    pub cause_type: String,
}

impl From<&ProblemInput> for Typed {
    fn from(i: &ProblemInput) -> Typed {
        Typed {
            title: i.title.clone(),
            areas: i.area.clone(),
            description: i.description.clone(),
            root_cause: i.root_cause.clone(),
            cause_type: i.cause_type.clone(),
        }
    }
}

impl Typed {
    /// The typed text as one block to copy (the areas are ticks, shown on the page already).
    fn as_text(&self) -> String {
        format!("标题：{}\n问题描述：{}\n剖析根源与原因：{}", self.title, self.description, self.root_cause)
    }
}

impl From<&Problem> for Typed {
    fn from(p: &Problem) -> Typed {
        Typed {
            title: p.draft.title.clone(),
            areas: p.draft.areas.iter().map(ToString::to_string).collect(),
            description: p.draft.description.clone(),
            root_cause: p.draft.root_cause.clone(),
            cause_type: p.draft.cause_type.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "problems.html")]
pub struct ProblemsPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub can_write: bool,
    pub leader: bool,
    pub k: u64,
    pub problems: Vec<ProblemView>,
    pub areas: Vec<(String, String)>,
    pub causes: Vec<(&'static str, &'static str)>,
    pub typed: Typed,
    pub errors: Vec<FieldError>,
}

#[derive(Template, WebTemplate)]
#[template(path = "problem.html")]
pub struct ProblemPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub can_write: bool,
    /// May change the problem's text (see [`EDITORS`]).
    pub can_edit: bool,
    pub can_publish: bool,
    pub leader: bool,
    pub p: ProblemView,
    pub areas: Vec<(String, String)>,
    pub causes: Vec<(&'static str, &'static str)>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub typed: Typed,
    /// An edit refused to someone who may no longer change the text: shown to copy, not lost.
    pub unsaved: Option<String>,
    pub errors: Vec<FieldError>,
    pub notice: Option<String>,
    /// A page of the linked opinions (the office only).
    pub linked: Option<super::problem_opinions::LinkedOpinions>,
    /// A refused new measure, shown again.
    pub new_measure: crate::domain::rectification::MeasureInput,
    /// The problems this one may be merged into (the office, while it has no measures).
    pub merge_into: Vec<ProblemChoice>,
}

impl ProblemsPage {
    pub fn form_action(&self) -> String {
        "/w/problems".into()
    }

    /// A new problem has no version to send back.
    pub fn seen(&self) -> String {
        String::new()
    }

    pub fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

impl ProblemPage {
    pub fn form_action(&self) -> String {
        format!("/w/problems/{}", self.p.id)
    }

    pub fn seen(&self) -> String {
        self.p.version.to_string()
    }

    pub fn error(&self, field: &str) -> String {
        field_error(&self.errors, field)
    }
}

fn field_error(errors: &[FieldError], field: &str) -> String {
    errors.iter().filter(|e| e.field == field).map(|e| e.message.clone()).collect::<Vec<_>>().join("；")
}

pub(crate) fn area_options(state: &AppState) -> Vec<(String, String)> {
    state.forms().catalog.areas.iter().map(|a| (a.code.to_string(), a.name.clone())).collect()
}

fn cause_options() -> Vec<(&'static str, &'static str)> {
    CauseType::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
}

pub(crate) fn status_options() -> Vec<(&'static str, &'static str)> {
    MeasureStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}

/// Builds the views of the problems in `ids` order from one reading of the register.
pub(crate) async fn problem_views(
    state: &AppState,
    leader: bool,
    only: Option<i64>,
) -> Result<Vec<ProblemView>, WebError> {
    // Leaders count and quote only responses sent before the last midnight, as on their other views, and
    // read the register as published (units as each form shows them, ratings of fewer than k withheld).
    let k = state.small_cell_k().await?;
    let reg =
        if leader { state.published_register(only).await? } else { state.store.register_of(only, k, None).await? };
    let forms = state.forms();
    let cat = &forms.catalog;
    let today = bureau_today(state.clock.now_ms());
    let mut out = Vec::new();
    let ids = only.map_or_else(|| reg.problems_by_support(), |id| vec![id]);
    for id in ids {
        let Some(p) = reg.problem(id) else { continue };
        let support = reg.support.get(&id).cloned().unwrap_or_default();
        let unit_name = |u: &Option<String>| {
            u.as_deref().map_or(crate::domain::unit::NO_UNIT.to_owned(), |c| cat.unit_name(c).to_owned())
        };
        let units = if leader {
            let (shown, pooled) = leader_units(&support, k);
            let mut names: Vec<String> = shown.iter().map(unit_name).collect();
            if pooled {
                names.push(OTHER_UNITS.to_owned());
            }
            names.join("、")
        } else {
            support.by_unit().iter().map(|(u, n)| format!("{}（{n}）", unit_name(u))).collect::<Vec<_>>().join("、")
        };
        let measures = reg
            .measures_of(id)
            .map(|m| {
                let d = &m.draft;
                MeasureView {
                    id: m.id,
                    action: d.action.clone(),
                    target: d.target.clone(),
                    deadline: d.deadline.map(|x| x.to_string()).unwrap_or_default(),
                    owner: d.owner.clone(),
                    status: d.status.label(),
                    status_code: d.status.as_str(),
                    overdue: is_overdue(d.deadline, d.status, today),
                    published: m.published_at.is_some(),
                    missing: d.missing_for_publication().join("、"),
                    latest: reg.latest_progress(m.id).map(|p| format!("{} {}", p.on, p.evidence)).unwrap_or_default(),
                    ratings: reg.rating_line(m.id),
                    progress: reg
                        .progress
                        .get(&m.id)
                        .map(|l| l.iter().map(|p| format!("{} {}（{}）", p.on, p.evidence, p.author)).collect())
                        .unwrap_or_default(),
                    comments: reg.comments.get(&m.id).cloned().unwrap_or_default(),
                    version: m.version,
                    // Progress is mostly recorded the day it happens.
                    typed_on: today.to_string(),
                    typed_evidence: String::new(),
                }
            })
            .collect();
        out.push(ProblemView {
            id,
            title: p.draft.title.clone(),
            areas: p.draft.areas.iter().map(|a| cat.areas.name(*a).to_owned()).collect::<Vec<_>>().join("、"),
            description: p.draft.description.clone(),
            root_cause: p.draft.root_cause.clone(),
            cause_type: p.draft.cause_type.map(|c| c.label().to_owned()).unwrap_or_default(),
            opinions: support.opinions,
            responses: support.responses,
            units,
            quotes: reg.quotes.get(&id).cloned().unwrap_or_default(),
            measures,
            version: p.version,
        });
    }
    Ok(out)
}

async fn list_page(
    state: &AppState,
    staff: &Staff,
    typed: Typed,
    errors: Vec<FieldError>,
) -> Result<ProblemsPage, WebError> {
    let leader = staff.user.role == Role::Leader;
    Ok(ProblemsPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        can_write: WRITERS.contains(&staff.user.role),
        leader,
        k: state.small_cell_k().await?,
        problems: problem_views(state, leader, None).await?,
        areas: area_options(state),
        causes: cause_options(),
        typed,
        errors,
    })
}

/// The version an edit form sent back: `None` when it sent none (an older page, or a script).
pub(crate) fn seen_version(seen: &str) -> Result<Option<i64>, WebError> {
    match seen.trim() {
        "" => Ok(None),
        v => {
            v.parse().map(Some).map_err(|_| WebError::BadRequest("页面版本：页面版本无效，请刷新页面后再保存。".into()))
        }
    }
}

/// `GET /w/problems`: the list, ordered by support.
pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<ProblemsPage, WebError> {
    staff.require(READERS)?;
    list_page(&state, &staff, Typed::default(), Vec::new()).await
}

/// `POST /w/problems`: creates a problem, or shows the form again with the problems named.
pub async fn create(
    State(state): State<AppState>,
    CsrfForm(staff, input): CsrfForm<ProblemInput>,
) -> Result<Response, WebError> {
    staff.require(WRITERS)?;
    match ProblemDraft::try_from(&input) {
        Ok(d) => {
            let id = state.store.create_problem(&actor(&staff), &d).await?;
            Ok(Redirect::to(&format!("/w/problems/{id}")).into_response())
        }
        Err(errors) => {
            let page = list_page(&state, &staff, Typed::from(&input), errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub(crate) async fn detail_page(
    state: &AppState,
    staff: &Staff,
    id: i64,
    typed: Option<Typed>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    linked_after: Option<i64>,
) -> Result<ProblemPage, WebError> {
    let problem = state.store.problem(id).await?;
    let leader = staff.user.role == Role::Leader;
    let p =
        problem_views(state, leader, Some(id)).await?.pop().ok_or_else(|| WebError::NotFound("找不到该问题".into()))?;
    let can_write = WRITERS.contains(&staff.user.role);
    let can_publish = super::register::PUBLISHERS.contains(&staff.user.role);
    let published = p.measures.iter().any(|m| m.published);
    let merge_into = if can_write && p.measures.is_empty() {
        problem_choices(state).await?.into_iter().filter(|c| c.id != id).collect()
    } else {
        Vec::new()
    };
    let can_edit = can_publish || (can_write && !published);
    Ok(ProblemPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        can_write,
        can_edit,
        can_publish,
        leader,
        p,
        areas: area_options(state),
        causes: cause_options(),
        statuses: status_options(),
        unsaved: typed.as_ref().filter(|_| !can_edit).map(Typed::as_text),
        typed: typed.unwrap_or_else(|| Typed::from(&problem)),
        errors,
        notice,
        linked: if leader { None } else { Some(super::problem_opinions::page(state, id, linked_after).await?) },
        new_measure: Default::default(),
        merge_into,
    })
}

/// A problem that is gone (merged into another meanwhile): said so, leading to the list, with what was
/// typed shown back by the error page.
pub(super) fn problem_gone(id: i64) -> WebError {
    crate::web::error::lead_back_to("/w/problems");
    WebError::NotFound(format!("问题 {id} 已不存在（可能刚被合并到另一个问题），刚才提交的内容没有保存。"))
}

/// `GET /w/problems/{id}`: a problem, its support, quotes and measures.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Id(id): Id,
    Query(q): Query<super::problem_opinions::LinkedQuery>,
) -> Result<ProblemPage, WebError> {
    staff.require(READERS)?;
    detail_page(&state, &staff, id, None, Vec::new(), None, q.after).await
}

/// `POST /w/problems/{id}`: replaces a problem's fields.
pub async fn update(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, input): CsrfForm<ProblemInput>,
) -> Result<Response, WebError> {
    staff.require(EDITORS)?;
    let seen = seen_version(&input.seen)?;
    let drafts_only = !super::register::PUBLISHERS.contains(&staff.user.role);
    match ProblemDraft::try_from(&input) {
        Ok(d) => match state.store.update_problem(&actor(&staff), id, &d, seen, drafts_only).await {
            Ok(()) => Ok(Redirect::to(&format!("/w/problems/{id}")).into_response()),
            // Someone saved meanwhile (their text above, this person's below, nothing overwritten), or the
            // problem was published meanwhile: either way what was typed stays on the page.
            Err(e @ (StoreError::EditedMeanwhile | StoreError::Conflict(_))) => {
                let why = match e {
                    StoreError::Conflict(why) => why,
                    _ => crate::store::EDITED_MEANWHILE.to_owned(),
                };
                let page =
                    detail_page(&state, &staff, id, Some(Typed::from(&input)), Vec::new(), Some(why), None).await?;
                Ok((axum::http::StatusCode::CONFLICT, page).into_response())
            }
            Err(StoreError::NotFound) => Err(problem_gone(id)),
            Err(e) => Err(e.into()),
        },
        Err(errors) => {
            let page = detail_page(&state, &staff, id, Some(Typed::from(&input)), errors, None, None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    back: String,
    /// Set when the problem was chosen beforehand (the cluster page): the count is shown to confirm first.
    #[serde(default)]
    preview: String,
    /// The inbox filter the opinions were ticked under (its bulk form's): see `withhold_what_leaders_cannot_place`.
    #[serde(default)]
    filter: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "problem_link.html")]
pub struct ChoosePage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub ids: Vec<i64>,
    pub back: String,
    pub problems: Vec<ProblemChoice>,
    /// The problem chosen beforehand, to confirm.
    pub chosen: Option<ProblemChoice>,
    /// Ticked under a filter naming what leaders' rows hide: how many are left out.
    pub withheld: usize,
    pub filter: String,
}

/// A problem to link opinions to: id, title, and how many opinions it has now.
pub struct ProblemChoice {
    pub id: i64,
    pub title: String,
    pub opinions: u64,
}

/// Every problem, oldest first, as choices: a number key picks the same problem on every card (ordered
/// by support, the key of a problem moved as opinions were linked and filed the next card elsewhere).
pub(crate) async fn problem_choices(state: &AppState) -> Result<Vec<ProblemChoice>, WebError> {
    let reg = state.store.register(state.small_cell_k().await?, None).await?;
    let mut ids = reg.problems_by_support();
    ids.sort_unstable();
    Ok(ids
        .into_iter()
        .filter_map(|id| {
            reg.problem(id).map(|p| ProblemChoice {
                id,
                title: p.draft.title.clone(),
                opinions: reg.support.get(&id).map_or(0, |s| s.opinions),
            })
        })
        .collect())
}

/// `POST /w/problems/link`: links the given opinions to the chosen problem; without a problem, the page
/// to choose one (the tagging screen's key and the inbox's button both land there); with `preview`, the
/// page that shows the count and the chosen problem to confirm (a whole near-duplicate group).
pub async fn link(
    State(state): State<AppState>,
    CsrfForm(staff, form): CsrfForm<LinkForm>,
) -> Result<Response, WebError> {
    staff.require(WRITERS)?;
    let mut ids: Vec<i64> = Vec::new();
    for s in &form.ids {
        let id = s.trim().parse::<i64>().ok().filter(|n| *n > 0);
        ids.push(id.ok_or_else(|| WebError::BadRequest("所选意见：意见编号应为正整数".into()))?);
    }
    if ids.is_empty() {
        return Err(WebError::BadRequest("所选意见：请先勾选要归入问题的意见".into()));
    }
    if ids.len() > 1000 {
        return Err(WebError::BadRequest("所选意见：一次最多归入 1000 条意见".into()));
    }
    // Ticked in an inbox filtered by unit, category or dates: the rows leaders cannot place stay out, as
    // from a bulk change (a problem quoting exactly them would tell leaders they share it).
    crate::web::clean::check_urlencoded(form.filter.as_bytes())?;
    let q: super::inbox::InboxQuery =
        serde_html_form::from_str(&form.filter).map_err(|_| WebError::BadRequest("筛选：筛选条件无法识别".into()))?;
    let (ids, withheld) = super::leader_view::withhold_what_leaders_cannot_place(&state, &q, ids, true).await?;
    if ids.is_empty() {
        return Err(WebError::BadRequest(format!(
            "所选意见：勾选的 {withheld} 条意见不能这样归入：{}",
            super::leader_view::WITHHELD_WHY
        )));
    }
    let back = crate::web::clean::local_path(&form.back, "/w/").unwrap_or_default();
    let page = |problems, chosen| ChoosePage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        ids: ids.clone(),
        back: back.clone(),
        problems,
        chosen,
        withheld,
        filter: form.filter.clone(),
    };
    if form.problem.trim().is_empty() {
        if !form.preview.is_empty() {
            return Err(WebError::BadRequest("问题：请选择要归入的问题".into()));
        }
        return Ok(page(problem_choices(&state).await?, None).into_response());
    }
    let problem =
        form.problem.trim().parse::<i64>().map_err(|_| WebError::BadRequest("问题：问题编号应为正整数".into()))?;
    if !form.preview.is_empty() {
        let chosen = problem_choices(&state).await?.into_iter().find(|p| p.id == problem);
        let chosen = chosen.ok_or_else(|| WebError::NotFound("问题：找不到该问题".into()))?;
        return Ok(page(Vec::new(), Some(chosen)).into_response());
    }
    match state.store.link_opinions(&actor(&staff), problem, &ids).await {
        Err(StoreError::NotFound) => return Err(WebError::NotFound("问题：找不到该问题".into())),
        Ok(linked) if linked.found == 0 => return Err(WebError::NotFound("所选意见：找不到所选的意见".into())),
        other => other?,
    };
    let to = match back.as_str() {
        "" => format!("/w/problems/{problem}"),
        // Back on the tagging card, which then says where the opinion went.
        tag if tag.starts_with("/w/tag/") && !tag.contains('?') => format!("{tag}?linked={problem}"),
        other => other.to_owned(),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct UnlinkForm {
    opinion: i64,
}

/// `POST /w/problems/{id}/unlink`: takes one opinion off a problem.
pub async fn unlink(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<UnlinkForm>,
) -> Result<Response, WebError> {
    staff.require(WRITERS)?;
    state.store.problem(id).await?;
    match state.store.unlink_opinion(&actor(&staff), id, form.opinion).await {
        Err(StoreError::NotFound) => {
            return Err(WebError::NotFound("意见：这条意见不在该问题中（可能刚被移出），请刷新页面".into()));
        }
        other => other?,
    }
    Ok(Redirect::to(&format!("/w/problems/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct MergeForm {
    #[serde(default)]
    into: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /w/problems/{id}/merge`: merges this problem into another (two analysts wrote the same one).
pub async fn merge(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<MergeForm>,
) -> Result<Response, WebError> {
    staff.require(WRITERS)?;
    let into = form.into.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let into = into.ok_or_else(|| WebError::BadRequest("合并到：请选择要合并到的问题".into()))?;
    if into == id {
        return Err(WebError::BadRequest("合并到：不能把问题合并到它自己".into()));
    }
    if form.confirm != "1" {
        return Err(WebError::BadRequest("确认合并：请勾选“确认合并”：本问题合并后即删除".into()));
    }
    match state.store.merge_problem(&actor(&staff), id, into).await {
        Err(StoreError::NotFound) => {
            Err(WebError::NotFound(format!("合并到：问题 {id} 或问题 {into} 已不存在（可能刚被合并），请刷新页面")))
        }
        other => {
            other?;
            Ok(Redirect::to(&format!("/w/problems/{into}")).into_response())
        }
    }
}
