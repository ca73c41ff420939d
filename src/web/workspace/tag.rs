//! The tagging screen (analysts only): `GET /w/tag` (the next untagged opinion), `GET|POST /w/tag/{id}`
//! (plain forms, works without JavaScript), `POST /w/keywords` (a word for an area's suggestions), and the
//! small JSON API `tag.js` uses to show the next opinion without a wait: `GET /w/api/opinions/{id}`,
//! `GET /w/api/next?after=`, `POST /w/api/opinions/{id}`.

use super::card::{self, OpinionCard};
use super::login::actor;
use crate::domain::area::AreaCode;
use crate::domain::tagging::{OpinionState, TagSource};
use crate::domain::user::Role;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::{ApiError, WebError};
use crate::web::extract::{Id, Query};
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

/// Longest note, in characters.
pub const NOTE_MAX: usize = 2000;

#[derive(Template, WebTemplate)]
#[template(path = "tag.html")]
pub struct TagPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub user: i64,
    pub csrf: String,
    pub c: OpinionCard,
    pub states: Vec<(&'static str, &'static str)>,
    pub area_names: Vec<(u8, String)>,
    pub pending: u64,
    pub total: u64,
    /// After `p` (归入问题): which problem the opinion was just linked to.
    pub linked: Option<String>,
}

/// The tagging card's query string.
#[derive(Debug, Default, Deserialize)]
pub struct TagQuery {
    pub linked: Option<i64>,
}

/// One action on an opinion, from the tagging form, the inbox or `tag.js`.
#[derive(Debug, Deserialize)]
pub struct OpForm {
    /// `save` | `accept` | `undo` | `state` | `note` | `representative`.
    pub op: String,
    #[serde(default)]
    pub area: Vec<String>,
    /// Areas in `area` that come from accepting a suggestion.
    #[serde(default)]
    pub suggested: Vec<String>,
    /// The suggestion the card showed, which `accept` adds: the one the analyst read, even if the model
    /// has changed since (a retraining, a new keyword, another instance's model).
    #[serde(default)]
    pub shown: Vec<String>,
    pub state: Option<String>,
    pub text: Option<String>,
    pub on: Option<String>,
    /// Where a plain form returns to (a workspace path).
    pub back: Option<String>,
    /// The tags the card showed, comma-separated, `none` for none (an empty field reads as not sent): a
    /// save is refused if they changed since. Not sent: no check.
    pub seen: Option<String>,
}

pub(crate) fn parse_areas(field: &str, list: &[String]) -> Result<Vec<AreaCode>, WebError> {
    list.iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("领域代码 {s} 不是数字"))
                .and_then(AreaCode::try_from)
                .map_err(|e| WebError::BadRequest(format!("{}：{e}", crate::web::clean::field_name(field))))
        })
        .collect()
}

/// The areas a card showed: `seen` as the page sends it (comma-separated codes, `none` for none).
fn parse_seen(seen: &str) -> Result<Vec<AreaCode>, WebError> {
    let seen: Vec<String> = seen.split(',').filter(|s| *s != "none").map(str::to_owned).collect();
    parse_areas("seen", &seen)
}

/// Why a save from a card shown before someone else tagged the opinion is refused.
pub const TAGGED_MEANWHILE: &str =
    "这条意见在您打开后已被他人归类，您的归类没有保存；请重新打开它，看过现在的归类后再保存。";

/// Applies `f` to opinion `id`; returns the opinion to show next.
async fn apply(state: &AppState, staff: &Staff, id: i64, f: &OpForm) -> Result<i64, WebError> {
    staff.require(&[Role::Analyst])?;
    let who = actor(staff);
    let store = &state.store;
    match f.op.as_str() {
        "save" => {
            let areas = parse_areas("area", &f.area)?;
            let suggested = parse_areas("suggested", &f.suggested)?;
            let src = |a: AreaCode| if suggested.contains(&a) { TagSource::Suggested } else { TagSource::Typed };
            let coding = store.coding_status(id).await?;
            if coding.open {
                // A card that showed a suggestion (sent as `shown`, ticked or not) to the second coder (the
                // first coding landed after it was drawn) is refused by the store, and drawn again blind.
                let shown = !suggested.is_empty() || !parse_areas("shown", &f.shown)?.is_empty();
                code(state, id, &areas, src, shown, &who).await?;
            } else {
                let (before, after) = match &f.seen {
                    Some(seen) => {
                        let seen = parse_seen(seen)?;
                        match store.set_tags_if_unchanged(id, &seen, &areas, src, &who).await {
                            Err(crate::store::StoreError::EditedMeanwhile) => {
                                return Err(WebError::Conflict(TAGGED_MEANWHILE.into()));
                            }
                            other => other?,
                        }
                    }
                    None => store.set_tags(id, &areas, src, &who).await?,
                };
                if before != after && !after.is_empty() {
                    state.suggester.confirmed(store, 1);
                }
            }
            Ok(store.next_to_code(id, staff.user.id, state.queue_keys(staff.user.id)).await?.unwrap_or(id))
        }
        "accept" => {
            // The suggestion is added to what the card had ticked: areas ticked by hand before the click
            // were dropped without a word.
            let shown = parse_areas("shown", &f.shown)?;
            let ticked = parse_areas("area", &f.area)?;
            let src = |a: AreaCode| if shown.contains(&a) { TagSource::Suggested } else { TagSource::Typed };
            let o = store.opinion(id).await?;
            let coding = store.coding_status(id).await?;
            if coding.blind_for(staff.user.id) {
                return Err(WebError::BadRequest("操作：双人归类的第二位分析人员看不到建议，请逐个选择领域".into()));
            }
            let mut areas = match coding.own(staff.user.id) {
                Some(own) if coding.open => own.areas.clone(),
                _ => o.areas(),
            };
            areas.extend(shown.iter().chain(&ticked));
            if coding.open {
                code(state, id, &areas, src, true, &who).await?;
            } else {
                // Added to what the card showed (or what was just read): a change made meanwhile refuses
                // the accept instead of being overwritten by it.
                let base = match &f.seen {
                    Some(seen) => parse_seen(seen)?,
                    None => o.areas(),
                };
                let mut areas = base.clone();
                areas.extend(shown.iter().chain(&ticked));
                let (before, after) = match store.set_tags_if_unchanged(id, &base, &areas, src, &who).await {
                    Err(crate::store::StoreError::EditedMeanwhile) => {
                        return Err(WebError::Conflict(TAGGED_MEANWHILE.into()));
                    }
                    other => other?,
                };
                if before != after && !after.is_empty() {
                    state.suggester.confirmed(store, 1);
                }
            }
            Ok(store.next_to_code(id, staff.user.id, state.queue_keys(staff.user.id)).await?.unwrap_or(id))
        }
        "undo" => {
            // Nothing of this opinion's areas was ever changed: said, not answered "已撤销".
            if store.undo_tags(id, &who).await?.is_none() {
                return Err(WebError::Conflict("这条意见的领域还没有改动过，没有可以撤销的。".into()));
            }
            Ok(id)
        }
        "state" => {
            let s = f.state.as_deref().unwrap_or_default();
            let s = OpinionState::parse(s).ok_or_else(|| WebError::BadRequest(format!("状态：状态 {s} 不存在")))?;
            store.set_state(id, s, &who).await?;
            Ok(id)
        }
        "note" => {
            let text = f.text.as_deref().unwrap_or_default().trim();
            if text.is_empty() {
                return Err(WebError::BadRequest("备注：备注不能为空".into()));
            }
            if text.chars().count() > NOTE_MAX {
                return Err(WebError::BadRequest(format!("备注：备注最多 {NOTE_MAX} 个字")));
            }
            store.add_note(id, text, &who).await?;
            Ok(id)
        }
        "representative" => {
            let on = matches!(f.on.as_deref(), Some("1" | "true" | "on"));
            store.set_representative(id, on, &who).await?;
            Ok(id)
        }
        other => Err(WebError::BadRequest(format!("操作：未知操作 {other}"))),
    }
}

/// Records one coder's independent coding of a double-coded opinion.
async fn code(
    state: &AppState,
    id: i64,
    areas: &[AreaCode],
    source_of: impl Fn(AreaCode) -> TagSource,
    saw_suggestion: bool,
    who: &crate::store::audit::Actor,
) -> Result<(), WebError> {
    if areas.is_empty() {
        return Err(WebError::BadRequest("领域：双人归类的意见请至少选择一个领域（无效意见请标为“无效”）".into()));
    }
    state.store.record_coding(id, areas, source_of, saw_suggestion, who).await?;
    Ok(())
}

/// A safe place to return to: a workspace path on this site.
pub fn safe_back(back: Option<&str>) -> Option<String> {
    back.and_then(|b| crate::web::clean::local_path(b, "/w/"))
}

/// `GET /w/tag`: the first opinion waiting to be tagged.
pub async fn start(State(state): State<AppState>, staff: Staff) -> Result<Response, WebError> {
    staff.require(&[Role::Analyst])?;
    match state.store.next_to_code(0, staff.user.id, state.queue_keys(staff.user.id)).await? {
        Some(id) => Ok(Redirect::to(&format!("/w/tag/{id}")).into_response()),
        None => Ok(axum::response::Html(
            crate::web::pages::MessagePage {
                title: "全部归类完毕".into(),
                message: "目前没有待归类的意见。".into(),
                back: Some("/w/inbox".into()),
                head: Some(staff.head()),
                kept: Vec::new(),
            }
            .render_string(),
        )
        .into_response()),
    }
}

/// `GET /w/tag/{id}`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Id(id): Id,
    Query(q): Query<TagQuery>,
) -> Result<TagPage, WebError> {
    staff.require(&[Role::Analyst])?;
    let c = card::for_viewer(&state, id, staff.user.id).await?;
    // Said only when it is so (an address kept or typed by hand may name any problem).
    let linked = match q.linked {
        Some(p) if state.store.problem_opinion_ids(p).await?.contains(&id) => {
            state.store.problem(p).await.ok().map(|pr| format!("意见 #{id} 已归入问题 #{p}：{}", pr.draft.title))
        }
        _ => None,
    };
    let p = state.store.progress().await?;
    let forms = state.forms();
    Ok(TagPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        user: staff.user.id,
        csrf: staff.csrf.clone(),
        c,
        states: card::states(),
        area_names: forms.catalog.areas.iter().map(|a| (a.code.get(), a.name.clone())).collect(),
        pending: p.pending,
        total: p.total,
        linked,
    })
}

/// `POST /w/tag/{id}`: a plain form; redirects to the next opinion, or back to where it came from.
pub async fn post(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, f): CsrfForm<OpForm>,
) -> Result<Response, WebError> {
    let next = apply(&state, &staff, id, &f).await?;
    let to = match safe_back(f.back.as_deref()) {
        // The inbox's row controls return to the row, whose page says what was done (it reloaded at the top).
        Some(back) if matches!(f.op.as_str(), "state" | "note") => {
            let sep = if back.contains('?') { '&' } else { '?' };
            let asked = f.state.as_deref().and_then(OpinionState::parse).map(|s| format!("&asked={}", s.as_str()));
            format!("{back}{sep}done={}&o={id}{}#o{id}", f.op, asked.unwrap_or_default())
        }
        Some(back) => back,
        None => format!("/w/tag/{next}"),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct KeywordForm {
    area: String,
    word: String,
    back: Option<String>,
}

/// `POST /w/keywords`: adds a word to an area's suggestions.
pub async fn add_keyword(
    State(state): State<AppState>,
    CsrfForm(staff, f): CsrfForm<KeywordForm>,
) -> Result<Response, WebError> {
    staff.require(&[Role::Analyst])?;
    let area = parse_areas("area", std::slice::from_ref(&f.area))?
        .pop()
        .ok_or_else(|| WebError::BadRequest("领域：请选择领域".into()))?;
    let word = f.word.trim();
    let n = word.chars().count();
    if !(1..=20).contains(&n) {
        return Err(WebError::BadRequest("关键词：关键词需 1 到 20 个字".into()));
    }
    state.store.add_area_keyword(area, word, &actor(&staff)).await?;
    Ok(Redirect::to(&safe_back(f.back.as_deref()).unwrap_or_else(|| "/w/tag".into())).into_response())
}

/// `GET /w/api/opinions/{id}`.
pub async fn api_card(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<Json<OpinionCard>, ApiError> {
    staff.require(&[Role::Analyst])?;
    Ok(Json(card::for_viewer(&state, id, staff.user.id).await?))
}

#[derive(Deserialize)]
pub struct NextQuery {
    after: Option<i64>,
}

/// `GET /w/api/next?after=ID`: the next untagged opinion after `ID` (or `null` when none is left).
pub async fn api_next(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<NextQuery>,
) -> Result<Json<Option<OpinionCard>>, ApiError> {
    staff.require(&[Role::Analyst])?;
    let after = q.after.unwrap_or(0);
    match state.store.next_to_code(after, staff.user.id, state.queue_keys(staff.user.id)).await? {
        Some(id) => Ok(Json(Some(card::for_viewer(&state, id, staff.user.id).await?))),
        None => Ok(Json(None)),
    }
}

#[derive(Serialize)]
pub struct CsrfToken {
    csrf: String,
    /// Whose session it is: the page takes the token only for the analyst it was opened by.
    user: i64,
}

/// `GET /w/api/csrf`: this session's token, for a tagging screen opened before its analyst signed in
/// again (in another tab): its saves would all be refused with the old session's token.
pub async fn api_csrf(staff: Staff) -> Result<Json<CsrfToken>, ApiError> {
    staff.require(&[Role::Analyst])?;
    Ok(Json(CsrfToken { csrf: staff.csrf.clone(), user: staff.user.id }))
}

#[derive(Serialize)]
pub struct OpResult {
    pub next: i64,
    pub card: OpinionCard,
    /// Opinions still to tag, after this action: the page's counter shows the stored figure, whatever was
    /// saved, undone or marked meanwhile.
    pub pending: u64,
}

/// `POST /w/api/opinions/{id}` (form-encoded, `X-CSRF-Token` header): the same actions as the form.
pub async fn api_post(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, f): CsrfForm<OpForm>,
) -> Result<Json<OpResult>, ApiError> {
    let next = apply(&state, &staff, id, &f).await?;
    let card = card::for_viewer(&state, id, staff.user.id).await?;
    Ok(Json(OpResult { next, card, pending: state.store.progress().await?.pending }))
}
