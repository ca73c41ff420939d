//! `GET /w/inbox` (every staff role): every opinion, filtered, searched and keyset-paged, with the
//! tagging counts always on top; `POST /w/inbox/bulk` (analysts): add or remove one area on the selected
//! or on all matching opinions, after a confirmation page that shows how many it will touch.

use super::card::{self, date};
use super::leader_view::LeaderScope;
use super::login::actor;
use crate::domain::area::AreaCode;
use crate::domain::form::check::bureau_offset;
use crate::domain::report::policy::{OTHER_CATEGORIES, OTHER_UNITS};
use crate::domain::tagging::{OpinionState, highlight};
use crate::domain::user::Role;
use crate::store::inbox::{InboxFilter, InboxPaging, Matching, Progress};
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::pages::MessagePage;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// Rows per inbox page.
pub const PAGE: u64 = 50;

/// The inbox counts the opinions matching a filter up to this many; past it, it says "more than 10000"
/// (the bulk preview of "all matching" still gives the exact number).
pub const COUNT_CAP: u64 = 10_000;

/// The inbox's query string, as typed; empty fields mean "any".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct InboxQuery {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub form: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub category: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub area: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub untagged: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing)]
    pub before: Option<i64>,
    /// A leader's page number (from 0): leaders page by position, never by an opinion's number.
    #[serde(default, skip_serializing)]
    pub page: Option<u64>,
    /// `none` after a bulk action with nothing ticked: the inbox says so above the list.
    #[serde(default, skip_serializing)]
    pub bulk: String,
    /// After a row's 改 or 记 (`state` | `note`): opinion `o` was changed, to the state `asked`.
    #[serde(default, skip_serializing)]
    pub done: String,
    #[serde(default, skip_serializing)]
    pub o: Option<i64>,
    #[serde(default, skip_serializing)]
    pub asked: String,
}

/// Why a search was not run: the same person's earlier searches still run (see `limiter::SearchTurns`).
fn searches_busy() -> String {
    format!(
        "搜索：您同时进行的搜索太多（最多 {} 个），请等前面的搜索完成后再试。",
        crate::web::limiter::SEARCHES_AT_ONCE
    )
}

/// Most words one inbox search looks for.
const MOST_SEARCH_WORDS: usize = 20;

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn day_start_ms(field: &str, s: &str) -> Result<i64, WebError> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        WebError::BadRequest(format!("{}：日期应为 2026-05-01 的格式", crate::web::clean::field_name(field)))
    })?;
    let t = d.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(bureau_offset()).single());
    t.map(|t| t.timestamp_millis())
        .ok_or_else(|| WebError::BadRequest(format!("{}：日期无效", crate::web::clean::field_name(field))))
}

impl TryFrom<&InboxQuery> for InboxFilter {
    type Error = WebError;
    fn try_from(q: &InboxQuery) -> Result<Self, WebError> {
        let area = match some(&q.area) {
            None => None,
            Some(a) => Some(
                a.parse::<i64>()
                    .map_err(|_| format!("领域代码 {a} 不是数字"))
                    .and_then(AreaCode::try_from)
                    .map_err(|e| WebError::BadRequest(format!("领域：{e}")))?,
            ),
        };
        let state = match some(&q.state) {
            None => None,
            Some(s) => {
                Some(OpinionState::parse(&s).ok_or_else(|| WebError::BadRequest(format!("状态：状态 {s} 不存在")))?)
            }
        };
        // Each word is one more pair of text matches over every opinion: a page of words is refused, not run.
        let words = crate::domain::text::search_terms(&q.q).len();
        if words > MOST_SEARCH_WORDS {
            return Err(WebError::BadRequest(format!(
                "搜索：搜索最多 {MOST_SEARCH_WORDS} 个词（现在 {words} 个），请删去一些，或用引号把词组括起来。"
            )));
        }
        let from_ms = some(&q.from).map(|d| day_start_ms("from", &d)).transpose()?;
        let to_ms = some(&q.to).map(|d| day_start_ms("to", &d).map(|t| t + 86_400_000)).transpose()?;
        Ok(InboxFilter {
            form: some(&q.form),
            unit: some(&q.unit),
            category: some(&q.category),
            area,
            untagged: q.untagged_on(),
            state,
            from_ms,
            to_ms,
            released_by: None,
            // Cleaned as opinions are when stored: a search pasted with a zero-width space still finds them.
            q: some(&q.q)
                .map(|s| s.chars().filter(|&c| !crate::domain::text::is_meaningless_invisible(c)).collect())
                .filter(|s: &String| !s.trim().is_empty()),
        })
    }
}

impl InboxQuery {
    /// Whether "only untagged" is ticked: `untagged=0` or `false` in an edited address reads as off.
    pub fn untagged_on(&self) -> bool {
        matches!(self.untagged.trim(), "1" | "on" | "true")
    }

    /// The query string of the filter alone (no paging), for links and the bulk form.
    pub fn filter_string(&self) -> String {
        serde_html_form::to_string(self).unwrap_or_default()
    }
}

/// One line as shown.
pub struct Line {
    pub id: i64,
    pub date: String,
    pub form: String,
    pub question: String,
    pub unit: String,
    pub category: String,
    pub text: String,
    /// The text split into runs; `mark` runs match the search.
    pub runs: Vec<card::Run>,
    /// Its notes as "name：text", oldest first.
    pub notes: Vec<String>,
    pub state: &'static str,
    pub state_label: &'static str,
    pub areas: Vec<(u8, String)>,
    /// The states its 更改 offers.
    pub choices: Vec<(&'static str, &'static str)>,
    pub duplicate: bool,
    pub representative: bool,
    /// The size of its near-duplicate group (同类意见), when it has one; office only.
    pub cluster: Option<u64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub head: super::head::StaffHead,
    pub name: String,
    pub csrf: String,
    pub can_tag: bool,
    pub q: InboxQuery,
    pub filter_string: String,
    /// The office's tagging counts; leaders do not get them (they span every form).
    pub progress: Option<Progress>,
    /// A leader's protection note: the view is one form under the disclosure policy.
    pub protection: Option<String>,
    pub matching: Option<Matching>,
    pub lines: Vec<Line>,
    /// The next page's paging parameter (`before=…` for the office, `page=…` for leaders).
    pub next: Option<String>,
    /// A leader's page before this one (pages by number can go back; the office's keyset pages cannot).
    pub prev: Option<String>,
    pub paged: bool,
    pub forms: Vec<(String, String)>,
    pub units: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
    pub areas: Vec<(u8, String)>,
    pub states: Vec<(&'static str, &'static str)>,
    pub back: String,
    /// A message about the last bulk action, shown above the list.
    pub bulk_notice: Option<&'static str>,
    /// What a row's 改 or 记 just did, and to which opinion: said in its row, or above the list when the
    /// row is not on this page (it no longer matches the filter).
    pub done: Option<(i64, String)>,
    /// Why the filter was not run (the form keeps what was typed).
    pub refused: Option<String>,
}

/// `GET /w/inbox`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<InboxQuery>,
) -> Result<Response, WebError> {
    staff.require(&[Role::Admin, Role::Analyst, Role::Leader])?;
    // A filter that cannot be run comes back on the inbox itself, as typed, saying what is wrong.
    let (filter, leader, mut refused) = match filter_of(&state, &staff, &q).await {
        Ok((filter, leader)) => (filter, leader, None),
        Err(WebError::BadRequest(why)) => {
            let leader = match staff.user.role {
                Role::Leader => Some(LeaderScope::load(&state, "").await?),
                _ => None,
            };
            (InboxFilter::default(), leader, Some(why))
        }
        Err(e) => return Err(e),
    };
    // A search waits for its owner's earlier ones (see `SearchTurns`), then is refused with the query kept.
    let searching = filter.q.is_some() && refused.is_none();
    let turn = if searching { state.searches.take(staff.user.id).await } else { None };
    let busy = searching && turn.is_none();
    if busy {
        refused = Some(searches_busy());
    }
    let store = &state.store;
    let hidden = refused.is_some() || leader.as_ref().is_some_and(|l| l.disclosure.too_small);
    let page_no = q.page.unwrap_or(0);
    let paging = match &leader {
        Some(l) => InboxPaging::ByText {
            skip: page_no.saturating_mul(PAGE),
            keys: state.secret.daily_order_keys("leader-inbox", l.scope.to.unwrap_or_default()),
        },
        None => InboxPaging::Before(q.before),
    };
    let rows = if hidden { Vec::new() } else { store.inbox_page(&filter, paging, PAGE + 1).await? };
    let progress = if leader.is_none() { Some(store.progress().await?) } else { None };
    let matching = if filter.is_active() && !hidden {
        Some(store.inbox_count(&filter, state.settings.inbox_count_cap).await?)
    } else {
        None
    };
    // Leaders read each opinion's question as their workbook names it (a removed one by its last title);
    // the office reads the current form's titles.
    let layout = match &leader {
        Some(l) => Some(crate::reporting::question_titles(store, &l.form).await?),
        None => None,
    };
    let clusters = match leader {
        None => store.cluster_sizes(&rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?,
        Some(_) => Default::default(),
    };
    let forms = state.forms();
    let areas = &forms.catalog.areas;
    let more = rows.len() as u64 > PAGE;
    let shown: Vec<i64> = rows.iter().take(PAGE as usize).map(|r| r.id).collect();
    let mut notes = if staff.user.role.can_tag() { store.notes_of(&shown).await? } else { Default::default() };
    let names = if notes.is_empty() { Default::default() } else { card::display_names(&state).await? };
    let searched = filter.q.as_deref().map(crate::domain::text::search_terms).unwrap_or_default();
    let lines: Vec<Line> = rows
        .into_iter()
        .take(PAGE as usize)
        .map(|r| {
            let (unit, category) = (r.unit_code.as_deref(), r.category_code.as_deref());
            let (unit, category, date) = match leader.as_ref().map(|l| &l.disclosure) {
                None => (forms.unit_name(unit), forms.category_label(&r.form_slug, category), date(r.submitted_at)),
                Some(d) => (
                    if d.shows_unit(unit) { forms.unit_name(unit) } else { OTHER_UNITS.to_owned() },
                    if d.row_shows_category(unit, category) {
                        forms.category_label(&r.form_slug, category)
                    } else {
                        OTHER_CATEGORIES.to_owned()
                    },
                    d.row_sent(unit, category, r.submitted_at).label(),
                ),
            };
            (r, unit, category, date)
        })
        .map(|(r, unit, category, date)| Line {
            id: r.id,
            date,
            form: forms.form_title(&r.form_slug),
            question: match &layout {
                Some(l) => l.opinion_question(&r.form_slug, &r.question_id),
                None => forms.question_title(&r.form_slug, &r.question_id),
            },
            unit,
            category,
            runs: highlight(&r.text, &searched).into_iter().map(|(text, mark)| card::Run { text, mark }).collect(),
            notes: notes
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .map(|n| format!("{}：{}", card::shown_name(&names, n.author), n.text))
                .collect(),
            text: r.text,
            state: r.state.as_str(),
            state_label: r.state.label(),
            areas: r.areas.iter().map(|a| (a.get(), areas.name(*a).to_owned())).collect(),
            choices: OpinionState::choices(r.areas.len()).iter().map(|s| (s.as_str(), s.label())).collect(),
            // Leaders' rows end at the last midnight, but a copy sent today would mark yesterday's original.
            duplicate: r.duplicate && leader.is_none(),
            representative: r.representative,
            cluster: clusters.get(&r.id).copied(),
        })
        .collect();
    let filter_string = q.filter_string();
    let mut back = format!("/w/inbox?{filter_string}");
    if let Some(b) = q.before {
        back.push_str(&format!("&before={b}"));
    }
    let prev = (leader.is_some() && page_no > 0).then(|| format!("page={}", page_no - 1));
    let (paged, next) = match (&leader, more) {
        (Some(_), more) => (page_no > 0, more.then(|| format!("page={}", page_no.saturating_add(1)))),
        (None, more) => {
            (q.before.is_some(), if more { lines.last().map(|l| format!("before={}", l.id)) } else { None })
        }
    };
    let status = match (&refused, busy) {
        (_, true) => StatusCode::TOO_MANY_REQUESTS,
        (Some(_), false) => StatusCode::BAD_REQUEST,
        (None, false) => StatusCode::OK,
    };
    let done = match (staff.user.role.can_tag(), q.o) {
        (true, Some(id)) => done_notice(&state, id, &q).await?.map(|m| (id, m)),
        _ => None,
    };
    let page = InboxPage {
        refused,
        head: staff.head(),
        name: staff.user.display_name.clone(),
        csrf: staff.csrf.clone(),
        can_tag: staff.user.role.can_tag(),
        next,
        prev,
        paged,
        filter_string,
        progress,
        protection: leader.as_ref().map(LeaderScope::note),
        matching,
        lines,
        forms: forms.catalog.citizen_forms().map(|f| (f.slug.clone(), f.title.clone())).collect(),
        units: forms.catalog.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect(),
        categories: forms.all_categories(),
        areas: areas.iter().map(|a| (a.code.get(), a.name.clone())).collect(),
        states: card::states(),
        back,
        done,
        bulk_notice: (q.bulk == "none")
            .then_some("没有勾选任何意见：请先勾选要批量归类的意见，或选择“全部符合筛选的”，再点“预览”。"),
        q,
    };
    Ok((status, page).into_response())
}

/// What a row's 改 or 记 did to opinion `id`, read back from it (the store keeps 待归类 or 已归类 as its
/// areas have it, which is said rather than passed over).
async fn done_notice(state: &AppState, id: i64, q: &InboxQuery) -> Result<Option<String>, WebError> {
    let o = match state.store.opinion(id).await {
        Err(crate::store::StoreError::NotFound) => return Ok(None),
        other => other?,
    };
    let now = o.state.label();
    Ok(match q.done.as_str() {
        "note" => Some(format!("已为意见 #{id} 记下备注。")),
        "state" => Some(
            match OpinionState::parse(&q.asked)
                .filter(|a| *a != o.state)
                .and_then(|a| OpinionState::why_not(a, o.tags.len()))
            {
                Some(why) => format!("意见 #{id} 的状态现为“{now}”：{why}。"),
                None => format!("意见 #{id} 的状态已改为“{now}”。"),
            },
        ),
        _ => None,
    })
}

impl InboxPage {
    /// What was just done to the opinion in row `id`, if anything.
    pub fn done_in(&self, id: &i64) -> Option<&str> {
        self.done.as_ref().filter(|(o, _)| o == id).map(|(_, m)| m.as_str())
    }
    /// What was just done to an opinion not listed on this page.
    pub fn done_elsewhere(&self) -> Option<&str> {
        self.done.as_ref().filter(|(o, _)| !self.lines.iter().any(|l| l.id == *o)).map(|(_, m)| m.as_str())
    }
}

/// The filter `q` asks for, and for a leader the released view it is scoped to.
///
/// # Errors
/// `BadRequest` naming the field that cannot be read, or that a leader may not filter by.
async fn filter_of(
    state: &AppState,
    staff: &Staff,
    q: &InboxQuery,
) -> Result<(InboxFilter, Option<LeaderScope>), WebError> {
    let mut filter = InboxFilter::try_from(q)?;
    if staff.user.role != Role::Leader {
        return Ok((filter, None));
    }
    super::leader_view::refuse_filters(&[
        ("unit", &q.unit),
        ("category", &q.category),
        ("from", &q.from),
        ("to", &q.to),
    ])?;
    if q.before.is_some() {
        return Err(WebError::BadRequest("翻页：领导视图按页码翻页（page）".into()));
    }
    let scope = LeaderScope::load(state, &q.form).await?;
    filter.form = Some(scope.form.clone());
    filter.released_by = Some(scope.until_ms());
    Ok((filter, Some(scope)))
}

/// The bulk form: which opinions (the ticked ones, or all matching the filter), which area, add or remove.
#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    pub ids: Vec<i64>,
    /// `selected` or `all`.
    pub scope: String,
    /// The inbox filter as a query string (for `all`).
    #[serde(default)]
    pub filter: String,
    pub area: String,
    /// `add` or `remove`.
    pub action: String,
    pub confirm: Option<String>,
    /// For `all`: the highest opinion number the preview counted, so that opinions arriving between the
    /// preview and the confirmation are not changed unseen.
    pub upto: Option<i64>,
    /// For `all`: how many the preview counted; a different count at the confirmation shows it again.
    pub count: Option<usize>,
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_confirm.html")]
pub struct BulkConfirmPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub count: usize,
    pub area_code: u8,
    pub area_name: String,
    pub add: bool,
    pub scope: String,
    pub filter: String,
    pub ids: Vec<i64>,
    pub upto: i64,
    /// The count of the preview before, when the matching opinions changed since.
    pub previous: Option<usize>,
    /// How many of them are under double coding, which a bulk change skips.
    pub held: usize,
    /// How many matching opinions are left out: leaders' rows hide the unit, category or day the filter names.
    pub withheld: usize,
}

/// `POST /w/inbox/bulk`: without `confirm`, shows how many opinions the change would touch; with it, applies.
pub async fn bulk(State(state): State<AppState>, CsrfForm(staff, f): CsrfForm<BulkForm>) -> Result<Response, WebError> {
    staff.require(&[Role::Analyst])?;
    let area = f
        .area
        .trim()
        .parse::<i64>()
        .map_err(|_| "请选择领域".to_owned())
        .and_then(AreaCode::try_from)
        .map_err(|e| WebError::BadRequest(format!("领域：{e}")))?;
    let add = match f.action.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(WebError::BadRequest("操作：请选择添加或移除".into())),
    };
    crate::web::clean::check_urlencoded(f.filter.as_bytes())?;
    let q: InboxQuery =
        serde_html_form::from_str(&f.filter).map_err(|_| WebError::BadRequest("筛选：筛选条件无法识别".into()))?;
    let ids = match f.scope.as_str() {
        "all" => {
            let filter = InboxFilter::try_from(&q)?;
            let _turn = match filter.q {
                Some(_) => Some(state.searches.take(staff.user.id).await.ok_or(WebError::Busy(searches_busy()))?),
                None => None,
            };
            let mut ids = state.store.inbox_ids(&filter).await?;
            ids.retain(|id| f.upto.is_none_or(|upto| *id <= upto));
            ids
        }
        "selected" => state.store.existing_opinion_ids(&f.ids).await?,
        _ => return Err(WebError::BadRequest("范围：请选择“勾选的”或“全部符合筛选的”".into())),
    };
    let ticked = f.scope == "selected";
    let (ids, withheld) = super::leader_view::withhold_what_leaders_cannot_place(&state, &q, ids, ticked).await?;
    if ids.is_empty() && withheld == 0 {
        // Back to the same inbox, which says what to do; nothing was changed.
        // The filter as re-encoded here, never the posted text, goes into the Location header.
        let filter = q.filter_string();
        let sep = if filter.is_empty() { "" } else { "&" };
        return Ok(axum::response::Redirect::to(&format!("/w/inbox?{filter}{sep}bulk=none")).into_response());
    }
    let forms = state.forms();
    // Opinions that started or stopped matching since the preview (a colleague's change): preview again.
    let previous = f.count.filter(|c| f.confirm.is_some() && f.scope == "all" && *c != ids.len());
    if f.confirm.is_none() || previous.is_some() || ids.is_empty() {
        let held = state.store.under_double_coding(&ids).await?.len();
        return Ok(BulkConfirmPage {
            held,
            withheld,
            head: staff.head(),
            csrf: staff.csrf.clone(),
            count: ids.len(),
            area_code: area.get(),
            area_name: forms.catalog.areas.name(area).to_owned(),
            add,
            upto: ids.iter().copied().max().unwrap_or_default(),
            previous,
            ids: if f.scope == "selected" { ids } else { Vec::new() },
            scope: f.scope,
            filter: f.filter,
        }
        .into_response());
    }
    // Final tags on an opinion under double coding would bypass its two coders: skip it and say so.
    let held = state.store.under_double_coding(&ids).await?;
    let ids: Vec<i64> = ids.into_iter().filter(|id| !held.contains(id)).collect();
    let skipped = if held.is_empty() {
        String::new()
    } else {
        format!(
            "另有 {} 条意见正在双人归类或已由双人归类定稿，已跳过，请在逐条归类或裁决中处理（定稿的只有裁决人可以修改）。",
            held.len()
        )
    };
    let (changed, at) = state.store.bulk_tags(&ids, area, add, &actor(&staff)).await?;
    state.suggester.confirmed(&state.store, changed as usize);
    Ok(BulkDonePage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        message: format!(
            "已对 {} 条意见{}领域“{}”（其余 {} 条无需改动）。{skipped}",
            changed,
            if add { "添加" } else { "移除" },
            forms.catalog.areas.name(area),
            ids.len() as u64 - changed
        ),
        changed,
        at,
        filter: f.filter,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "bulk_done.html")]
pub struct BulkDonePage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub message: String,
    pub changed: u64,
    /// The change's stamp, for undoing it.
    pub at: i64,
    pub filter: String,
}

#[derive(Debug, Deserialize)]
pub struct BulkUndoForm {
    pub at: i64,
    #[serde(default)]
    pub filter: String,
    /// Undoing a whole bulk change cannot be redone: the checkbox confirms it.
    #[serde(default)]
    pub confirm: String,
}

/// `POST /w/inbox/bulk/undo`: takes back one bulk change of this analyst, opinion by opinion where nobody
/// changed it since (removing the area again in bulk also took the areas analysts had typed before).
pub async fn bulk_undo(
    State(state): State<AppState>,
    CsrfForm(staff, f): CsrfForm<BulkUndoForm>,
) -> Result<Response, WebError> {
    staff.require(&[Role::Analyst])?;
    if f.confirm != "1" {
        return Err(WebError::BadRequest("确认撤销：请勾选“确认撤销”再提交；撤销后不能再恢复这次批量修改。".into()));
    }
    let (undone, left) = state.store.undo_bulk_tags(f.at, &actor(&staff)).await?;
    let message = match (undone, left) {
        (0, 0) => "没有找到这次批量修改，没有改动。".to_owned(),
        (n, 0) => format!("已撤销：{n} 条意见恢复到批量修改之前。"),
        (n, m) => format!("已撤销 {n} 条；另有 {m} 条在批量修改之后又被改过（或已撤销过），保持现状。"),
    };
    Ok(axum::response::Html(
        MessagePage {
            title: "批量修改已撤销".into(),
            message,
            back: Some(format!("/w/inbox?{}", f.filter)),
            head: Some(staff.head()),
            kept: Vec::new(),
        }
        .render_string(),
    )
    .into_response())
}
