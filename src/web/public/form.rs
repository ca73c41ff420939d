//! The form page (`GET /f/{slug}`), its submission (`POST /f/{slug}`) and the receipt page.
//! Works without JavaScript; `form.js` only adds counters, conditions, draft autosave and a leave warning.

use super::submit::{Beside, FORM_FIELDS, closed_message, resolve_link, submit};
use crate::domain::form::answers::{
    FieldError, RawAnswers, answered_though_hidden, typed_into_unknown_fields, typed_text_answers,
};
use crate::domain::form::{FormDef, QuestionKind};
use crate::domain::submission::SubmissionKey;
use crate::store::links::Link;
use crate::web::error::WebError;
use crate::web::extract::ClientIp;
use crate::web::extract::Query;
use crate::web::form_body::CitizenForm;
use crate::web::pages::MessagePage;
use crate::web::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;

/// The form field carrying the chosen identity category (the JSON API calls it `category`).
pub const CATEGORY_FIELD: &str = FORM_FIELDS.category;
/// The form field carrying a single-use code, on a link that asks for one.
const CODE_FIELD: &str = FORM_FIELDS.code;

/// The code field of a link that asks for one: what was typed, and why it was refused.
pub struct CodeView {
    pub value: String,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub struct FormQuery {
    t: Option<String>,
}

pub struct ChoiceView {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

pub struct RowView {
    pub code: String,
    pub label: String,
    pub choices: Vec<ChoiceView>,
}

impl RowView {
    /// Whether a grade is chosen: a matrix's error marks only the rows still to answer.
    pub fn answered(&self) -> bool {
        self.choices.iter().any(|c| c.checked)
    }
}

pub struct QuestionView {
    pub number: usize,
    pub id: String,
    pub title: String,
    pub help: String,
    pub required: bool,
    pub kind: &'static str,
    pub max_length: usize,
    /// A date question's first and last day the picker offers (`YYYY-MM-DD`, empty when open).
    pub first_day: String,
    pub last_day: String,
    pub value: String,
    pub choices: Vec<ChoiceView>,
    pub rows: Vec<RowView>,
    pub error: Option<String>,
    /// The ids `aria-describedby` names: the error, help, condition and contact lines shown.
    pub described_by: String,
    pub show_if: Option<(String, String)>,
    pub condition_text: Option<String>,
    pub contact_purpose: Option<String>,
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub slug: String,
    pub title: String,
    pub intro: Vec<String>,
    pub anonymous: bool,
    pub privacy: Vec<String>,
    pub unit_name: Option<String>,
    /// The category a link sets, as (what the choice asks, its label): said on the page, since the
    /// citizen does not choose it.
    pub fixed_category: Option<(String, String)>,
    pub notice: Option<String>,
    pub errors_summary: String,
    /// Each problem with the question it belongs to, by name: (question id, "title：message").
    pub error_list: Vec<(String, String)>,
    pub submission_key: String,
    pub link_token: String,
    pub draft_key: String,
    pub categories: Vec<ChoiceView>,
    pub category_question: String,
    pub category_error: Option<String>,
    pub access_code: Option<CodeView>,
    pub questions: Vec<QuestionView>,
    /// Text typed into questions the form no longer has (it was reloaded meanwhile), shown back to copy.
    pub kept: Vec<String>,
}

/// What the page says is stored, true for this form's settings.
pub fn privacy_lines(form: &FormDef, link: Option<&Link>, fixed_category: Option<&str>, k: u32) -> Vec<String> {
    let via_link = link.is_some();
    let mut lines = Vec::new();
    if form.anonymous {
        lines.push(
            "不需要填写姓名。我们不记录能认出您的信息：不记您的网络地址（IP），不记您用的是什么手机或浏览器，也不在您的手机上留下能认出您的记录（Cookie）。还没提交的内容只暂存在本机浏览器里，以防页面意外关闭（最多保留 7 天，提交后或点“清空重填”即删除）。"
                .to_owned(),
        );
    } else {
        lines.push("本表为工作记录，请按要求填写；系统不记录您的 IP 地址和浏览器信息。".to_owned());
    }
    // The form's own word for the choice (走访对象类型), or 身份类别 (its question, 您的身份, reads wrong here).
    let asked = form.category_label.as_deref().unwrap_or("身份类别");
    let unit = if via_link { "、发放本链接的单位" } else { "" };
    let category = match fixed_category {
        Some(label) => format!("、本链接设定的{asked}“{label}”"),
        None if form.categories.is_empty() => String::new(),
        None => format!("、您选择的{asked}"),
    };
    lines.push(format!("保存的只有：您填写的内容、提交时间（精确到分钟）{unit}{category}，以及给您的回执编号。"));
    if via_link {
        let whom = if form.anonymous { "；不会记录您是谁" } else { "" };
        lines.push(format!("您是通过某个单位的链接或二维码打开本表的，系统会记录该单位名称，用于分单位统计{whom}。"));
    }
    if link.is_some_and(|l| l.needs_code) {
        lines.push(
            "填写码是打乱后随机发的，谁拿了哪个码没有记录；系统只记每个码是否用过，不记用码的时间，也不记它提交了哪一份意见。"
                .to_owned(),
        );
    }
    if form.has_contact_fields() {
        lines.push(
            "联系方式为选填，与意见内容分开保存；只有活动领导小组办公室为回复您而查看，它能对应到您的意见；分析人员和领导看不到，导出中也不包含。".to_owned(),
        );
    }
    let notice = crate::domain::report::policy::privacy_notice(k);
    // The last line is advice on staying anonymous, which a form signed by name does not offer.
    let shown = if form.anonymous { notice.len() } else { notice.len() - 1 };
    lines.extend(notice.into_iter().take(shown));
    lines
}

/// What the page was sent beside the answers, shown back: the category chosen and the code typed.
#[derive(Default, Clone, Copy)]
struct Typed<'a> {
    category: Option<&'a str>,
    code: &'a str,
}

fn view(
    state: &AppState,
    form: &FormDef,
    link: Option<&Link>,
    raw: &RawAnswers,
    typed: Typed<'_>,
    errors: &[FieldError],
    key: String,
) -> FormPage {
    let category = typed.category;
    let err_of = |id: &str| errors.iter().find(|e| e.field == id).map(|e| e.message.clone());
    let first = |id: &str| raw.get(id).and_then(|v| v.first()).cloned().unwrap_or_default();
    let has = |id: &str, code: &str| raw.get(id).is_some_and(|v| v.iter().any(|x| x == code));
    let choice_views = |id: &str, list: &[crate::domain::form::Choice]| -> Vec<ChoiceView> {
        list.iter()
            .map(|c| ChoiceView { code: c.code.clone(), label: c.label.clone(), checked: has(id, &c.code) })
            .collect()
    };
    let today = crate::domain::rectification::bureau_today(state.clock.now_ms());
    let questions = form
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let (kind, choices, rows) = match &q.kind {
                QuestionKind::ShortText { .. } => ("short_text", vec![], vec![]),
                QuestionKind::LongText { .. } => ("long_text", vec![], vec![]),
                QuestionKind::SingleChoice { choices } => ("single_choice", choice_views(&q.id, choices), vec![]),
                QuestionKind::MultipleChoice { choices, .. } => {
                    ("multiple_choice", choice_views(&q.id, choices), vec![])
                }
                QuestionKind::Rating { scale } => ("rating", choice_views(&q.id, scale), vec![]),
                QuestionKind::Matrix { rows, scale } => (
                    "matrix",
                    vec![],
                    rows.iter()
                        .map(|r| RowView {
                            code: r.code.clone(),
                            label: r.label.clone(),
                            choices: choice_views(&format!("{}.{}", q.id, r.code), scale),
                        })
                        .collect(),
                ),
                QuestionKind::Number { .. } => ("number", vec![], vec![]),
                QuestionKind::Date { .. } => ("date", vec![], vec![]),
                QuestionKind::Phone => ("phone", vec![], vec![]),
            };
            let condition_text = q.show_if.as_ref().and_then(|c| {
                let target = form.question(&c.question)?;
                let labels: Vec<&str> = c.any_of.iter().map(|v| target.kind.label_of(v).unwrap_or(v)).collect();
                Some(format!(
                    "（第 {} 题选择“{}”时填写）",
                    form.questions.iter().position(|x| x.id == target.id).map_or(0, |p| p + 1),
                    labels.join("”或“")
                ))
            });
            let (first_day, last_day) = day_range(&q.kind, today);
            let error = err_of(&q.id);
            // What a screen reader reads with the field: its error, help, condition and contact purpose.
            let described_by = [
                (error.is_some(), "err"),
                (!q.help.is_empty(), "help"),
                (condition_text.is_some(), "cond"),
                (q.contact_purpose.is_some(), "contact"),
            ]
            .iter()
            .filter(|(present, _)| *present)
            .map(|(_, prefix)| format!("{prefix}-{}", q.id))
            .collect::<Vec<_>>()
            .join(" ");
            QuestionView {
                number: i + 1,
                id: q.id.clone(),
                title: q.title.clone(),
                help: q.help.clone(),
                required: q.required,
                kind,
                max_length: q.kind.max_length().unwrap_or(0),
                first_day,
                last_day,
                value: first(&q.id),
                choices,
                rows,
                error,
                described_by,
                show_if: q.show_if.as_ref().map(|c| (c.question.clone(), c.any_of.join(","))),
                condition_text,
                contact_purpose: q.contact_purpose.clone(),
            }
        })
        .collect();
    let fixed_category = link.and_then(|l| l.category_code.as_deref());
    let categories = if fixed_category.is_some() {
        Vec::new()
    } else {
        form.categories
            .iter()
            .map(|c| ChoiceView {
                code: c.code.clone(),
                label: c.label.clone(),
                checked: category == Some(c.code.as_str()),
            })
            .collect()
    };
    let token = link
        .map(|l| state.secret.link_token(l.id, &l.form_slug, &l.unit_code, l.category_code.as_deref()))
        .unwrap_or_default();
    let forms = state.forms();
    let fixed_label = fixed_category.and_then(|c| form.category_label(c));
    FormPage {
        slug: form.slug.clone(),
        title: form.title.clone(),
        intro: form.intro.split("\n\n").map(|p| p.replace('\n', "")).filter(|p| !p.trim().is_empty()).collect(),
        anonymous: form.anonymous,
        privacy: privacy_lines(form, link, fixed_label, state.settings.small_cell_k),
        unit_name: link.map(|l| forms.catalog.unit_name(&l.unit_code).to_owned()),
        fixed_category: fixed_label.map(|label| (form.category_question().to_owned(), label.to_owned())),
        notice: None,
        kept: Vec::new(),
        errors_summary: if errors.is_empty() {
            String::new()
        } else {
            format!("有 {} 处需要修改，已在题目旁标出；您填写的内容都还在。", errors.len())
        },
        error_list: errors
            .iter()
            .map(|e| {
                let title = match form.question(&e.field) {
                    Some(q) => q.title.as_str(),
                    None if e.field == CATEGORY_FIELD => form.category_question(),
                    None if e.field == CODE_FIELD => "填写码",
                    None => "本表",
                };
                (e.field.clone(), format!("{title}：{}", e.message))
            })
            .collect(),
        submission_key: key,
        draft_key: format!("wenji-draft:{}:{}", form.slug, link.map_or(0, |l| l.id)),
        link_token: token,
        categories,
        category_question: form.category_question().to_owned(),
        category_error: err_of(CATEGORY_FIELD),
        access_code: link
            .filter(|l| l.needs_code)
            .map(|_| CodeView { value: typed.code.to_owned(), error: err_of(CODE_FIELD) }),
        questions,
    }
}

impl FormPage {
    /// Whether anything must be answered (the page then says what its * means).
    pub fn has_required(&self) -> bool {
        self.access_code.is_some() || !self.categories.is_empty() || self.questions.iter().any(|q| q.required)
    }

    /// What a restored draft leaves out (never kept on the phone): said, so nobody sends without them unaware.
    pub fn not_in_draft(&self) -> &'static str {
        match (self.access_code.is_some(), self.questions.iter().any(|q| q.kind == "phone")) {
            (true, true) => "填写码和联系电话不在本机保存，如需请重新填写。",
            (true, false) => "填写码不在本机保存，请重新填写。",
            (false, true) => "联系电话不在本机保存，如需请重新填写。",
            (false, false) => "",
        }
    }
}

fn new_key(state: &AppState, slug: &str) -> String {
    state.secret.submission_key(slug, rand::random())
}

fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(s) => (status, Html(s)).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_response(),
    }
}

fn message(status: StatusCode, title: &str, message: String) -> Response {
    refused(status, title, message, Vec::new())
}

fn refused(status: StatusCode, title: &str, message: String, kept: Vec<(String, String)>) -> Response {
    let page = MessagePage { title: title.into(), message, back: None, head: None, kept };
    (status, Html(page.render_string())).into_response()
}

fn find_form(state: &AppState, slug: &str) -> Result<std::sync::Arc<FormDef>, WebError> {
    state
        .forms()
        .catalog
        .citizen_form(slug)
        .ok_or_else(|| WebError::NotFound("没有找到这张表，请检查链接是否完整。".into()))
}

/// `GET /f/{slug}`: the form, or why it is not open.
pub async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<FormQuery>,
) -> Result<Response, WebError> {
    let form = find_form(&state, &slug)?;
    // A closed form says so first: a revoked link on it would send citizens to ask for a new one.
    if let Some(m) = closed_message(&form) {
        return Ok(message(StatusCode::OK, &form.title, m));
    }
    let link = resolve_link(&state, &form, q.t.as_deref()).await?;
    let page = view(&state, &form, link.as_ref(), &RawAnswers::new(), Typed::default(), &[], new_key(&state, &slug));
    let mut r = html(StatusCode::OK, &page);
    // Each page carries its own submission key: a shared cache must not hand one page to two people (the
    // second's answers would be taken as the first's, sent again).
    r.headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private, no-cache"));
    Ok(r)
}

/// `POST /f/{slug}`: validates and stores, then redirects to the receipt (so a reload does not resubmit).
pub async fn post(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    CitizenForm(fields): CitizenForm,
) -> Result<Response, WebError> {
    let mut raw = RawAnswers::new();
    let mut meta: HashMap<&str, String> = HashMap::new();
    for (k, v) in fields {
        if let Some(q) = k.strip_prefix("q_") {
            raw.entry(q.to_owned()).or_default().push(v);
        } else if let Some(name) = ["_key", "_t", CATEGORY_FIELD, CODE_FIELD, "_hp"].into_iter().find(|m| *m == k) {
            // The page sends each once; a second value would silently replace the first.
            if meta.insert(name, v).is_some() {
                return Err(WebError::BadRequest(format!("{name}：表单中出现了两次，请刷新页面后重新提交。")));
            }
        }
    }
    let form = match find_form(&state, &slug) {
        Ok(form) => form,
        // The form was taken down while they wrote: what they typed, to copy.
        Err(WebError::NotFound(m)) => {
            // Written text, not choice codes ("no", "2").
            let typed = raw.values().flatten().map(|v| v.trim()).filter(|v| !v.is_ascii() || v.len() > 3);
            let kept = typed.map(|v| ("您填写的内容".to_owned(), v.to_owned())).collect();
            return Ok(refused(StatusCode::NOT_FOUND, "没有找到这张表", m, kept));
        }
        Err(e) => return Err(e),
    };
    if let Some(m) = closed_message(&form) {
        return Ok(refused(StatusCode::FORBIDDEN, &form.title, m, typed_text_answers(&form, &raw)));
    }
    let link = match resolve_link(&state, &form, meta.get("_t").map(String::as_str)).await {
        Err(WebError::Forbidden(m)) => {
            return Ok(refused(StatusCode::FORBIDDEN, &form.title, m, typed_text_answers(&form, &raw)));
        }
        other => other?,
    };
    let category = meta.get(CATEGORY_FIELD).cloned();
    let code = meta.get(CODE_FIELD).cloned();
    let typed = Typed { category: category.as_deref(), code: code.as_deref().unwrap_or_default() };
    let rerender = |status: StatusCode, errors: &[FieldError], notice: Option<String>, key: String| {
        let mut page = view(&state, &form, link.as_ref(), &raw, typed, errors, key);
        page.notice = notice;
        html(status, &page)
    };
    let posted_key = meta.get("_key").cloned().unwrap_or_default();
    if !state.submit_allowed(ip) {
        let mut page = rerender(
            StatusCode::TOO_MANY_REQUESTS,
            &[],
            Some("提交太频繁，请稍候一分钟再提交；您填写的内容都还在。".into()),
            posted_key,
        );
        page.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("30"));
        return Ok(page);
    }
    if meta.get("_hp").is_some_and(|v| !v.is_empty()) {
        return Ok(rerender(
            StatusCode::UNPROCESSABLE_ENTITY,
            &[],
            // The field is hidden (a browser's autofill may fill it): the page shown again has it empty.
            Some("没有保存，您填写的内容都还在，请再点一次“提交”。".into()),
            posted_key,
        ));
    }
    let key = match SubmissionKey::parse(&posted_key) {
        Ok(k) if state.secret.submission_key_valid(&slug, &posted_key) => k,
        _ => {
            let notice = "页面已过期或不完整，已为您重新生成；内容都还在，请再点一次“提交”。".to_owned();
            return Ok(rerender(StatusCode::BAD_REQUEST, &[], Some(notice), new_key(&state, &slug)));
        }
    };
    // The form was reloaded while they wrote and a question they answered is gone or renamed: storing the
    // rest would drop that text behind a receipt.
    let orphaned = typed_into_unknown_fields(&form, &raw);
    if !orphaned.is_empty() {
        let mut page = view(&state, &form, link.as_ref(), &raw, typed, &[], posted_key);
        page.notice = Some(
            "这张表刚刚更新过，有的题目改了，这份意见还没有提交。下面是您填写、但新表中没有对应题目的内容：请复制到合适的题目中，核对后再提交。"
                .into(),
        );
        page.kept = orphaned.into_iter().map(|(_, text)| text).collect();
        return Ok(html(StatusCode::CONFLICT, &page));
    }
    // Without the page's script every follow-up is shown: one answered against its condition would be
    // dropped behind a receipt.
    let mut hidden = answered_though_hidden(&form, &raw);
    if !hidden.is_empty() {
        // The other mistakes are said at once too: one a round trip cost a phone without the script two.
        let today = crate::domain::rectification::bureau_today(state.clock.now_ms());
        if let Err(more) = crate::domain::form::answers::validate(&form, &raw, today) {
            hidden.extend(more);
        }
        return Ok(rerender(StatusCode::UNPROCESSABLE_ENTITY, &hidden, None, posted_key));
    }
    let beside = Beside { category: category.clone(), code: code.as_deref(), names: &FORM_FIELDS };
    match submit(&state, &form, link.as_ref(), beside, &raw, &key).await {
        Ok(outcome) => {
            let receipt = outcome.receipt().map(ToString::to_string).unwrap_or_default();
            // The link's own token, not the posted text: that may end in a line break, which a header cannot hold.
            let t = link
                .as_ref()
                .map(|l| {
                    let token = state.secret.link_token(l.id, &l.form_slug, &l.unit_code, l.category_code.as_deref());
                    format!("?t={token}")
                })
                .unwrap_or_default();
            Ok(Redirect::to(&format!("/f/{slug}/r/{receipt}{t}")).into_response())
        }
        Err(WebError::Invalid(errors)) => Ok(rerender(StatusCode::UNPROCESSABLE_ENTITY, &errors, None, posted_key)),
        // Sent, then changed (Back, edit, send again): the first one is kept; what was typed stays here,
        // under a new key, to send as a response of its own if the citizen wants to.
        Err(WebError::Conflict(_)) => {
            let notice = if link.as_ref().is_some_and(|l| l.needs_code) {
                "这个页面已经提交过一份意见（已保存），它的填写码也已用过。现在的内容与那一份不同，尚未保存；每个填写码只能提交一份，如要再提一份，请填写另一个填写码后再点“提交”，不需要则关闭页面即可。"
            } else {
                "这个页面已经提交过一份意见（已保存）。现在的内容与那一份不同，尚未保存；如要把它作为新的一份提交，请再点一次“提交”，不需要则关闭页面即可。"
            }
            .to_owned();
            Ok(rerender(StatusCode::CONFLICT, &[], Some(notice), new_key(&state, &slug)))
        }
        Err(e @ WebError::Unavailable(_)) => {
            let notice = e.public_message();
            tracing::warn!(error = %e, "submission not stored");
            Ok(rerender(StatusCode::SERVICE_UNAVAILABLE, &[], Some(notice), posted_key))
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub slug: String,
    pub title: String,
    pub receipt: String,
    pub again_query: String,
    /// An anonymous opinion (not a named work record such as a visit): what happens next is told.
    pub anonymous: bool,
    /// Sent through a link that asks for codes: another response needs another code.
    pub needs_code: bool,
}

/// `GET /f/{slug}/r/{receipt}`: the receipt after a successful submission.
pub async fn receipt(
    State(state): State<AppState>,
    Path((slug, receipt)): Path<(String, String)>,
    Query(q): Query<FormQuery>,
) -> Result<Response, WebError> {
    let form = find_form(&state, &slug)?;
    // One answer for an unknown receipt and another form's, saying what to check.
    let unknown = || WebError::NotFound("找不到这个回执编号：请核对编号，以及打开的是否是填写时的那张表。".into());
    // Typed by hand from a slip, perhaps in small letters: receipts are spelt in capitals.
    let stored = match state.store.response_by_receipt(&receipt.to_ascii_uppercase()).await {
        Err(crate::store::StoreError::NotFound) => return Err(unknown()),
        other => other?,
    };
    if stored.form.slug != slug {
        return Err(unknown());
    }
    // Through a link that asks for codes, another response needs another code: the button says so.
    let needs_code = match resolve_link(&state, &form, q.t.as_deref()).await {
        Ok(link) => link.is_some_and(|l| l.needs_code),
        Err(_) => false,
    };
    let again_query = q.t.map(|t| format!("?t={t}")).unwrap_or_default();
    let mut r = html(
        StatusCode::OK,
        &ReceiptPage {
            slug,
            title: form.title.clone(),
            receipt: stored.receipt,
            again_query,
            anonymous: form.anonymous,
            needs_code,
        },
    );
    // On a shared phone or office computer, no cache keeps a receipt for the next person.
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The days a date question's picker offers, as (first, last): its bounds, the last one no later than
/// `today` where the question asks for a day that has come.
fn day_range(kind: &QuestionKind, today: chrono::NaiveDate) -> (String, String) {
    let QuestionKind::Date { min, max, not_after_today } = kind else { return Default::default() };
    let last = match (max, not_after_today) {
        (Some(m), true) => Some((*m).min(today)),
        (None, true) => Some(today),
        (m, false) => *m,
    };
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    (day(*min), day(last))
}
