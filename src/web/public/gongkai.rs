//! `/gongkai` (一公开): the published rectification measures by area, for anyone, without sign-in or
//! JavaScript, and the anonymous rating of each. A rating is a submission of the built-in rating form
//! through the citizen form's own path (`submit::submit`): the same signed idempotency key, rate limit,
//! honeypot, validation, anonymity and writer.

use super::submit::{Beside, FORM_FIELDS, submit};
use crate::domain::form::answers::{FieldError, RawAnswers, validate};
use crate::domain::rectification::{
    RATING_COMMENT, RATING_FORM_SLUG, RATING_MEASURE, RATING_VALUE, Rating, Register, bureau_today, is_overdue,
};
use crate::domain::submission::SubmissionKey;
use crate::web::error::WebError;
use crate::web::extract::ClientIp;
use crate::web::extract::Query;
use crate::web::form_body::CitizenForm;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

/// One published measure as citizens see it, with its rating form.
pub struct PublicMeasure {
    pub id: i64,
    pub problem: String,
    /// The problem's other areas: listed under its first, it is found from the others by this line.
    pub also: String,
    pub action: String,
    pub target: String,
    pub deadline: String,
    pub owner: String,
    pub status: &'static str,
    pub overdue: bool,
    pub latest: String,
    /// Its changes since it was first published, oldest first, one line each.
    pub changes: Vec<String>,
    pub ratings: String,
    pub key: String,
    pub chosen: String,
    pub comment: String,
    pub error: Option<String>,
    /// Which of the two fields the error is about (for `aria-invalid`).
    pub rating_invalid: bool,
    pub comment_invalid: bool,
    pub thanks: Option<String>,
}

pub struct AreaGroup {
    pub name: String,
    pub measures: Vec<PublicMeasure>,
}

#[derive(Template)]
#[template(path = "gongkai.html")]
pub struct GongkaiPage {
    pub groups: Vec<AreaGroup>,
    pub notice: Option<String>,
    /// A comment that could not be stored (its measure was withdrawn meanwhile), shown back to copy.
    pub unsaved: String,
    pub scale: Vec<(&'static str, &'static str)>,
    pub today: String,
    /// Ratings are shown in batches of this many (the disclosure policy's k).
    pub batch: u64,
}

#[derive(Deserialize)]
pub struct GongkaiQuery {
    rated: Option<String>,
    r: Option<String>,
}

/// What was typed into one measure's rating form, to show again.
struct Typed {
    measure: i64,
    chosen: String,
    comment: String,
    key: String,
    error: Option<String>,
    /// Which of the two fields the error is about.
    rating_invalid: bool,
    comment_invalid: bool,
}

fn new_key(state: &AppState) -> String {
    state.secret.submission_key(RATING_FORM_SLUG, rand::random())
}

fn build(state: &AppState, reg: &Register, typed: Option<&Typed>, thanks: Option<(i64, String)>) -> GongkaiPage {
    let forms = state.forms();
    let areas = &forms.catalog.areas;
    let today = bureau_today(state.clock.now_ms());
    let mut groups: Vec<AreaGroup> =
        areas.iter().map(|a| AreaGroup { name: a.name.clone(), measures: Vec::new() }).collect();
    for id in reg.problems_by_support() {
        let Some(p) = reg.problem(id) else { continue };
        // Listed once, under the problem's first area.
        let Some(first) = p.draft.areas.first() else { continue };
        let also: Vec<&str> = p.draft.areas.iter().skip(1).map(|a| areas.name(*a)).collect();
        for m in reg.measures_of(id).filter(|m| m.published_at.is_some()) {
            let d = &m.draft;
            let mine = typed.filter(|t| t.measure == m.id);
            groups[first.index()].measures.push(PublicMeasure {
                id: m.id,
                problem: p.draft.title.clone(),
                also: also.join("、"),
                action: d.action.clone(),
                target: d.target.clone(),
                deadline: d.deadline.map(|x| x.format("%Y年%m月%d日").to_string()).unwrap_or_default(),
                owner: d.owner.clone(),
                status: d.status.label(),
                overdue: is_overdue(d.deadline, d.status, today),
                latest: reg
                    .latest_progress(m.id)
                    .map(|p| format!("{}：{}", p.on.format("%Y年%m月%d日"), p.evidence))
                    .unwrap_or_default(),
                changes: reg.change_lines(m.id),
                ratings: reg.rating_line(m.id),
                key: mine.map_or_else(|| new_key(state), |t| t.key.clone()),
                chosen: mine.map(|t| t.chosen.clone()).unwrap_or_default(),
                comment: mine.map(|t| t.comment.clone()).unwrap_or_default(),
                error: mine.and_then(|t| t.error.clone()),
                rating_invalid: mine.is_some_and(|t| t.rating_invalid),
                comment_invalid: mine.is_some_and(|t| t.comment_invalid),
                thanks: thanks.as_ref().filter(|(t, _)| *t == m.id).map(|(_, r)| r.clone()),
            });
        }
    }
    groups.retain(|g| !g.measures.is_empty());
    GongkaiPage {
        groups,
        notice: None,
        unsaved: String::new(),
        scale: Rating::ALL.iter().map(|r| (r.code(), r.label())).collect(),
        today: today.format("%Y年%m月%d日").to_string(),
        batch: reg.withheld_below,
    }
}

impl GongkaiPage {
    /// What the page title says first, so a screen reader announces the outcome of a rating on arrival.
    pub fn outcome(&self) -> &'static str {
        let measures = || self.groups.iter().flat_map(|g| &g.measures);
        if measures().any(|m| m.error.is_some()) {
            "评价未保存："
        } else if measures().any(|m| m.thanks.is_some()) {
            "评价已保存："
        } else {
            ""
        }
    }
}

fn html(status: StatusCode, page: &GongkaiPage) -> Response {
    // Each rating form carries its own submission key: a shared cache serving one page to two people
    // would store the second's rating as a resend of the first's. A thanks with its receipt is kept by
    // no cache at all, as the receipt page (a shared phone).
    let thanks = page.groups.iter().flat_map(|g| &g.measures).any(|m| m.thanks.is_some());
    let cache = [(axum::http::header::CACHE_CONTROL, if thanks { "no-store" } else { "private, no-cache" })];
    match page.render() {
        Ok(s) => (status, cache, Html(s)).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_response(),
    }
}

/// A receipt as shown back: letters, digits and dashes only, short.
fn receipt_shown(r: Option<&str>) -> String {
    r.filter(|r| r.len() <= 20 && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).unwrap_or("").to_owned()
}

/// Whether `receipt` is a stored rating of `measure`.
async fn rating_stored(state: &AppState, measure: i64, receipt: &str) -> Result<bool, WebError> {
    use crate::domain::form::answers::Answer;
    match state.store.response_by_receipt(receipt).await {
        Ok(r) => Ok(r.form.slug == crate::domain::rectification::RATING_FORM_SLUG
            && r.answers.get(crate::domain::rectification::RATING_MEASURE) == Some(&Answer::Text(measure.to_string()))),
        Err(crate::store::StoreError::NotFound) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `GET /gongkai`: every published measure, by area.
pub async fn page(State(state): State<AppState>, Query(q): Query<GongkaiQuery>) -> Result<Response, WebError> {
    let reg = state.public_register().await?;
    let asked = q.rated.and_then(|s| s.parse::<i64>().ok()).map(|id| (id, receipt_shown(q.r.as_deref())));
    // Thanks only for a rating stored under that receipt, of that measure: a crafted address said "已保存".
    let thanks = match asked {
        Some((id, receipt)) if rating_stored(&state, id, &receipt).await? => Some((id, receipt)),
        _ => None,
    };
    Ok(html(StatusCode::OK, &build(&state, &reg, None, thanks)))
}

/// `POST /gongkai`: one rating, stored as a submission of the rating form; then back to the page.
pub async fn rate(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CitizenForm(fields): CitizenForm,
) -> Result<Response, WebError> {
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    // Refused before the measure is known: the page comes back with every comment written, to copy.
    let unsaved = async |notice: String| -> Result<Response, WebError> {
        let reg = state.public_register().await?;
        let mut page = build(&state, &reg, None, None);
        page.notice = Some(notice);
        let comments = fields.iter().filter(|(k, v)| k == "comment" && !v.trim().is_empty()).map(|(_, v)| v.as_str());
        page.unsaved = comments.collect::<Vec<_>>().join("\n");
        Ok(html(StatusCode::BAD_REQUEST, &page))
    };
    // The page sends each field once; a second value would be read or dropped silently.
    for (name, shown) in [("measure", "整改措施"), ("rating", "评价"), ("comment", "意见或建议"), ("_key", "页面标识")]
    {
        if fields.iter().filter(|(k, _)| k == name).count() > 1 {
            return unsaved(format!("{shown}：一份评价只能有一个值，这次评价没有保存，请重新评价。")).await;
        }
    }
    let measure_text = get("measure");
    let Some(measure) = measure_text.trim().parse::<i64>().ok().filter(|n| *n > 0) else {
        return unsaved("整改措施：整改措施编号无效，这次评价没有保存，请在下面的措施中重新评价。".into()).await;
    };
    let form = state
        .forms()
        .catalog
        .form_shared(RATING_FORM_SLUG)
        .ok_or_else(|| WebError::Internal("the rating form is not loaded".into()))?;
    let posted_key = get("_key");
    let mut typed = Typed {
        measure,
        chosen: get("rating"),
        comment: get("comment"),
        key: posted_key.clone(),
        error: None,
        rating_invalid: false,
        comment_invalid: false,
    };
    let reg = state.public_register().await?;
    let again = |status: StatusCode, typed: &Typed, notice: Option<String>| {
        let mut page = build(&state, &reg, Some(typed), None);
        page.notice = notice;
        html(status, &page)
    };
    if !reg.measures.iter().any(|m| m.id == measure && m.published_at.is_some()) {
        // Withdrawn while the citizen was typing: the page comes back with what they wrote, to copy.
        let mut page = build(&state, &reg, None, None);
        page.notice = Some("您评价的整改措施已撤回公开或不存在，这次评价没有保存。".into());
        page.unsaved = typed.comment;
        return Ok(html(StatusCode::NOT_FOUND, &page));
    }
    if !state.submit_allowed(ip) {
        // Beside the form the citizen is looking at (the page opens at it), not at the top.
        typed.error = Some("提交太频繁，请稍候一分钟再点“提交评价”；您填写的内容都还在。".into());
        let mut r = again(StatusCode::TOO_MANY_REQUESTS, &typed, None);
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("30"));
        return Ok(r);
    }
    if !get("_hp").is_empty() {
        // Filled by a browser's autofill, most likely: the page comes back with it empty.
        typed.error = Some("没有保存，请再点一次“提交评价”。".into());
        return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &typed, None));
    }
    let key = match SubmissionKey::parse(&posted_key) {
        Ok(k) if state.secret.submission_key_valid(RATING_FORM_SLUG, &posted_key) => k,
        _ => {
            typed.key = new_key(&state);
            typed.error = Some("页面已过期或不完整，已为您重新生成；请再点一次“提交评价”。".into());
            return Ok(again(StatusCode::BAD_REQUEST, &typed, None));
        }
    };
    let mut raw = RawAnswers::new();
    raw.insert(RATING_MEASURE.to_owned(), vec![measure.to_string()]);
    raw.insert(RATING_VALUE.to_owned(), vec![typed.chosen.clone()]);
    raw.insert(RATING_COMMENT.to_owned(), vec![typed.comment.clone()]);
    // Only a rating that would be stored counts against the measure's limit: a citizen who forgot to pick
    // a grade twenty times was refused the twenty-first, valid one for an hour.
    let valid = validate(&form, &raw, bureau_today(state.clock.now_ms())).is_ok();
    if valid && !state.ratings.allow(ip, measure) {
        typed.error = Some("这项措施从您所在的网络收到的评价太多，请过一小时再评价；您填写的内容都还在。".into());
        let mut r = again(StatusCode::TOO_MANY_REQUESTS, &typed, None);
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("3600"));
        return Ok(r);
    }
    match submit(&state, &form, None, Beside { category: None, code: None, names: &FORM_FIELDS }, &raw, &key).await {
        Ok(outcome) => {
            let receipt = outcome.receipt().map(ToString::to_string).unwrap_or_default();
            Ok(Redirect::to(&format!("/gongkai?rated={measure}&r={receipt}#m{measure}")).into_response())
        }
        Err(WebError::Invalid(errors)) => {
            typed.error = Some(messages(&errors));
            typed.rating_invalid = errors.iter().any(|e| e.field == RATING_VALUE);
            typed.comment_invalid = errors.iter().any(|e| e.field == RATING_COMMENT);
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &typed, None))
        }
        // Rated, then changed (Back, another choice, send again): the first rating is kept, and the page
        // keeps its used key, so the change is never counted as a second person's rating.
        Err(WebError::Conflict(_)) => {
            typed.error = Some(
                "您已经在这个页面评价过这项措施（已保存，不能修改），现在的选择没有保存。每项措施请只评价一次。".into(),
            );
            Ok(again(StatusCode::CONFLICT, &typed, None))
        }
        Err(e @ WebError::Unavailable(_)) => {
            let status = e.status();
            typed.error = Some(e.public_message());
            Ok(again(status, &typed, None))
        }
        Err(e) => Err(e),
    }
}

/// The field problems in the page's words: "评价：…；意见或建议：…".
fn messages(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| {
            let field = match e.field.as_str() {
                RATING_VALUE => "评价",
                RATING_COMMENT => "意见或建议",
                _ => "整改措施",
            };
            format!("{field}：{}", e.message)
        })
        .collect::<Vec<_>>()
        .join("；")
}
