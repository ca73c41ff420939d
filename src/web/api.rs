//! The JSON API: the form definition and submission, described by an OpenAPI document generated from
//! this code (`/api/openapi.json`). Errors are `{"error": "…", "fields": [{"field", "message"}]}`.

use super::api_json::ApiJson;
use super::error::{ApiError, WebError};
use super::extract::ClientIp;
use super::public::submit::{API_FIELDS, Beside, closed_message, resolve_link, submit};
use super::state::AppState;
use crate::domain::form::answers::{self, FieldError, RawAnswers};
use crate::domain::form::{FormDef, QuestionKind};
use crate::domain::submission::SubmissionKey;
use crate::store::submissions::SubmitOutcome;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{OpenApi, ToSchema};

/// A choice or scale level.
#[derive(Serialize, ToSchema)]
pub struct ChoiceDto {
    pub code: String,
    pub label: String,
}

/// One matrix row.
#[derive(Serialize, ToSchema)]
pub struct RowDto {
    pub code: String,
    pub label: String,
    /// The problem area (1–8) the row rates, if any.
    pub area: Option<u8>,
}

/// A condition: show the question only when `question`'s answer is one of `any_of`.
#[derive(Serialize, ToSchema)]
pub struct ConditionDto {
    pub question: String,
    pub any_of: Vec<String>,
}

/// One question.
#[derive(Serialize, ToSchema)]
pub struct QuestionDto {
    pub id: String,
    /// short_text, long_text, single_choice, multiple_choice, rating, matrix, number, date, phone.
    pub kind: String,
    pub title: String,
    pub help: String,
    pub required: bool,
    pub max_length: Option<usize>,
    pub choices: Vec<ChoiceDto>,
    pub rows: Vec<RowDto>,
    pub show_if: Option<ConditionDto>,
    /// The answer is an opinion analysts tag.
    pub opinion: bool,
    /// For contact fields: why it is asked and who sees it.
    pub contact_purpose: Option<String>,
}

/// A form definition.
#[derive(Serialize, ToSchema)]
pub struct FormDto {
    pub slug: String,
    pub title: String,
    pub intro: String,
    pub anonymous: bool,
    pub open: bool,
    /// Why the form is closed, when it is.
    pub closed_message: Option<String>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub categories: Vec<ChoiceDto>,
    pub questions: Vec<QuestionDto>,
    /// The content hash of this definition version.
    pub version: String,
}

fn choices(list: &[crate::domain::form::Choice]) -> Vec<ChoiceDto> {
    list.iter().map(|c| ChoiceDto { code: c.code.clone(), label: c.label.clone() }).collect()
}

impl From<&FormDef> for FormDto {
    fn from(f: &FormDef) -> Self {
        let closed = closed_message(f);
        FormDto {
            slug: f.slug.clone(),
            title: f.title.clone(),
            intro: f.intro.clone(),
            anonymous: f.anonymous,
            open: closed.is_none(),
            closed_message: closed,
            opens_at: f.opens_at.map(|d| d.to_rfc3339()),
            closes_at: f.closes_at.map(|d| d.to_rfc3339()),
            categories: choices(&f.categories),
            version: f.version_hash(),
            questions: f
                .questions
                .iter()
                .map(|q| {
                    let (kind, ch, rows) = match &q.kind {
                        QuestionKind::ShortText { .. } => ("short_text", vec![], vec![]),
                        QuestionKind::LongText { .. } => ("long_text", vec![], vec![]),
                        QuestionKind::SingleChoice { choices: c } => ("single_choice", choices(c), vec![]),
                        QuestionKind::MultipleChoice { choices: c, .. } => ("multiple_choice", choices(c), vec![]),
                        QuestionKind::Rating { scale } => ("rating", choices(scale), vec![]),
                        QuestionKind::Matrix { rows, scale } => (
                            "matrix",
                            choices(scale),
                            rows.iter()
                                .map(|r| RowDto {
                                    code: r.code.clone(),
                                    label: r.label.clone(),
                                    area: r.area.map(|a| a.get()),
                                })
                                .collect(),
                        ),
                        QuestionKind::Number { .. } => ("number", vec![], vec![]),
                        QuestionKind::Date { .. } => ("date", vec![], vec![]),
                        QuestionKind::Phone => ("phone", vec![], vec![]),
                    };
                    QuestionDto {
                        id: q.id.clone(),
                        kind: kind.to_owned(),
                        title: q.title.clone(),
                        help: q.help.clone(),
                        required: q.required,
                        max_length: q.kind.max_length(),
                        choices: ch,
                        rows,
                        show_if: q
                            .show_if
                            .as_ref()
                            .map(|c| ConditionDto { question: c.question.clone(), any_of: c.any_of.clone() }),
                        opinion: q.opinion,
                        contact_purpose: q.contact_purpose.clone(),
                    }
                })
                .collect(),
        }
    }
}

/// One answer: text, a number, a list of choice codes, or a matrix of row → scale code.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AnswerValue {
    Text(String),
    Number(f64),
    List(Vec<String>),
    Matrix(BTreeMap<String, String>),
}

/// A submission.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The distribution-link token (`t` in the link), if the respondent came through one.
    pub link: Option<String>,
    /// The respondent category code, when the form has categories and the link does not fix one.
    pub category: Option<String>,
    /// The single-use code printed for the respondent, when the link asks for one (e.g. `7K3M-Q9PX`).
    pub code: Option<String>,
    /// Answers by question id.
    pub answers: BTreeMap<String, AnswerValue>,
}

/// The receipt.
#[derive(Serialize, ToSchema)]
pub struct ReceiptDto {
    pub receipt: String,
    /// True when this key was used before with the same body: nothing new was stored.
    pub replayed: bool,
}

/// A field problem.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorDto {
    pub field: String,
    pub message: String,
}

/// An error.
#[derive(Serialize, ToSchema)]
pub struct ErrorDto {
    pub error: String,
    pub fields: Vec<FieldErrorDto>,
}

fn find(state: &AppState, slug: &str) -> Result<std::sync::Arc<FormDef>, ApiError> {
    state.forms().catalog.citizen_form(slug).ok_or_else(|| ApiError(WebError::NotFound("没有这张表".into())))
}

/// The definition of one form.
#[utoipa::path(get, path = "/api/v1/forms/{slug}", params(("slug" = String, Path, description = "The form's slug")),
    responses((status = 200, body = FormDto), (status = 404, body = ErrorDto)))]
pub async fn get_form(State(state): State<AppState>, Path(slug): Path<String>) -> Result<Json<FormDto>, ApiError> {
    Ok(Json(FormDto::from(find(&state, &slug)?.as_ref())))
}

/// Submits one response. Repeating a request with the same `Idempotency-Key` and body returns the first
/// receipt and stores nothing new; a different body under a used key is refused with 409.
#[utoipa::path(post, path = "/api/v1/forms/{slug}/responses",
    params(("slug" = String, Path, description = "The form's slug"),
           ("Idempotency-Key" = String, Header, description = "8–128 visible ASCII characters, unique per submission and random (a UUID v4): its hash is kept, so a key made from a device id, a counter or a time would tie that device’s submissions together")),
    request_body = SubmitBody,
    responses((status = 201, body = ReceiptDto, description = "Stored"), (status = 200, body = ReceiptDto, description = "Replayed"),
              (status = 400, body = ErrorDto), (status = 403, body = ErrorDto), (status = 404, body = ErrorDto), (status = 409, body = ErrorDto),
              (status = 413, description = "Body over 64 KiB"), (status = 415, body = ErrorDto, description = "Not JSON in UTF-8"), (status = 422, body = ErrorDto), (status = 429, body = ErrorDto), (status = 503, body = ErrorDto)))]
pub async fn post_response(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(slug): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<impl IntoResponse, ApiError> {
    let form = find(&state, &slug)?;
    if headers.get_all("idempotency-key").iter().count() > 1 {
        return Err(WebError::BadRequest("Idempotency-Key: 只能有一个（请求里有多个）".into()).into());
    }
    let key_header = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = SubmissionKey::parse(key_header).map_err(|m| WebError::BadRequest(format!("Idempotency-Key: {m}")))?;
    if let Some(m) = closed_message(&form) {
        return Err(WebError::Forbidden(m).into());
    }
    if !state.submit_allowed(ip) {
        return Err(WebError::TooMany.into());
    }
    let link = resolve_link(&state, &form, body.link.as_deref()).await?;
    let mut raw = RawAnswers::new();
    let mut errors: Vec<FieldError> = body
        .answers
        .iter()
        .filter_map(|(q, v)| form.question(q).and_then(|q| wrong_type(&q.kind, v)).map(|m| (q, m)))
        .map(|(q, message)| FieldError { field: q.clone(), message })
        .collect();
    for (q, v) in body.answers {
        match v {
            AnswerValue::Text(t) => {
                raw.insert(q, vec![t]);
            }
            AnswerValue::Number(n) => {
                raw.insert(q, vec![n.to_string()]);
            }
            AnswerValue::List(l) => {
                raw.insert(q, l);
            }
            AnswerValue::Matrix(m) => {
                for (row, code) in m {
                    raw.insert(format!("{q}.{row}"), vec![code]);
                }
            }
        }
    }
    let typed: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    let mut unexpected = answers::unexpected(&form, &raw);
    unexpected.retain(|e| !typed.iter().any(|t| e.field.split('.').next() == Some(t)));
    errors.append(&mut unexpected);
    if !errors.is_empty() {
        return Err(WebError::Invalid(errors).into());
    }
    let beside = Beside { category: body.category, code: body.code.as_deref(), names: &API_FIELDS };
    let outcome = submit(&state, &form, link.as_ref(), beside, &raw, &key).await?;
    let (status, replayed) = match outcome {
        SubmitOutcome::Stored(_) => (StatusCode::CREATED, false),
        _ => (StatusCode::OK, true),
    };
    let receipt = outcome.receipt().map(ToString::to_string).unwrap_or_default();
    Ok((status, Json(ReceiptDto { receipt, replayed })))
}

/// Why `value` cannot answer a question of `kind`, if it cannot: the message names what is expected.
fn wrong_type(kind: &QuestionKind, value: &AnswerValue) -> Option<String> {
    let (expected, fits) = match kind {
        QuestionKind::Matrix { .. } => {
            ("按行给出的等级（对象，行代码 → 等级代码）", matches!(value, AnswerValue::Matrix(_)))
        }
        QuestionKind::MultipleChoice { .. } => {
            ("选项代码的列表", matches!(value, AnswerValue::List(_) | AnswerValue::Text(_)))
        }
        QuestionKind::Number { .. } => ("数字", matches!(value, AnswerValue::Number(_) | AnswerValue::Text(_))),
        QuestionKind::SingleChoice { .. } | QuestionKind::Rating { .. } => {
            ("一个选项代码", matches!(value, AnswerValue::Text(_) | AnswerValue::Number(_)))
        }
        QuestionKind::ShortText { .. } | QuestionKind::LongText { .. } => {
            ("文字", matches!(value, AnswerValue::Text(_)))
        }
        QuestionKind::Date { .. } => ("日期文字（如 2026-05-01）", matches!(value, AnswerValue::Text(_))),
        QuestionKind::Phone => ("电话号码文字", matches!(value, AnswerValue::Text(_) | AnswerValue::Number(_))),
    };
    let got = match value {
        AnswerValue::Text(_) => "文字",
        AnswerValue::Number(_) => "数字",
        AnswerValue::List(_) => "列表",
        AnswerValue::Matrix(_) => "对象",
    };
    (!fits).then(|| format!("此题应填{expected}，收到的是{got}。"))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Wenji 问计 API", description = "Submit opinions to a Wenji campaign form."),
    paths(get_form, post_response),
    components(schemas(
        FormDto,
        QuestionDto,
        ChoiceDto,
        RowDto,
        ConditionDto,
        SubmitBody,
        AnswerValue,
        ReceiptDto,
        ErrorDto,
        FieldErrorDto
    ))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
