//! What the HTML form and the JSON API share: resolving a link token, choosing the category, validating
//! answers and handing the submission to the writer.

use crate::domain::access_code::AccessCode;
use crate::domain::form::answers::{FieldError, RawAnswers, validate};
use crate::domain::form::{Availability, FormDef};
use crate::domain::signing::Secret;
use crate::domain::submission::{Submission, SubmissionKey};
use crate::store::links::Link;
use crate::store::submissions::SubmitOutcome;
use crate::web::error::WebError;
use crate::web::state::AppState;

/// Resolves a distribution-link token for `form`. `None` when no token was given.
///
/// # Errors
/// `Forbidden` for a forged, edited, revoked or other form's token.
pub async fn resolve_link(state: &AppState, form: &FormDef, token: Option<&str>) -> Result<Option<Link>, WebError> {
    // A link pasted with what followed it in a chat (a full stop, a bracket) still opens: a token ends in a
    // letter, a digit, - or _.
    let token =
        token.map(|t| t.trim().trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')));
    let Some(token) = token.filter(|t| !t.is_empty()) else { return Ok(None) };
    let bad = || WebError::Forbidden("链接无效或已停用，请向发放单位索取新的链接或二维码。".into());
    let id = Secret::link_token_id(token).ok_or_else(bad)?;
    let link = match state.store.link(id).await {
        Ok(l) => l,
        Err(crate::store::StoreError::NotFound) => return Err(bad()),
        Err(e) => return Err(e.into()),
    };
    let valid = link.form_slug == form.slug
        && !link.revoked
        && state.secret.link_token_valid(
            token,
            link.id,
            &link.form_slug,
            &link.unit_code,
            link.category_code.as_deref(),
        );
    if valid { Ok(Some(link)) } else { Err(bad()) }
}

/// The message refusing submissions outside the form's open period, if it is outside.
pub fn closed_message(form: &FormDef) -> Option<String> {
    let now = chrono::Utc::now().with_timezone(&crate::domain::form::check::bureau_offset());
    match form.availability(now) {
        Availability::Open => None,
        other => other.message(),
    }
}

/// The names errors give the fields sent beside the answers.
pub struct FieldNames {
    pub category: &'static str,
    pub code: &'static str,
}

/// The HTML form's names.
pub const FORM_FIELDS: FieldNames = FieldNames { category: "_category", code: "_code" };
/// The JSON API's names.
pub const API_FIELDS: FieldNames = FieldNames { category: "category", code: "code" };

/// What a respondent sends beside the answers: the category they chose and the single-use code typed.
pub struct Beside<'a> {
    pub category: Option<String>,
    pub code: Option<&'a str>,
    pub names: &'static FieldNames,
}

/// Why a code is refused once its letters are right: unknown and spent read alike, so the answer tells a
/// guesser nothing.
pub const CODE_REFUSED: &str =
    "这个填写码不对或已经用过：每个码只能提交一次。请对照纸条核对；如果确实没有用过，请向发码的单位另取一个。";

/// Validates and stores one submission.
///
/// # Errors
/// `Invalid` with every field problem (a refused code among them); `Conflict` for a different body under
/// a used key; store errors.
pub async fn submit(
    state: &AppState,
    form: &FormDef,
    link: Option<&Link>,
    beside: Beside<'_>,
    raw: &RawAnswers,
    key: &SubmissionKey,
) -> Result<SubmitOutcome, WebError> {
    let Beside { category, code, names } = beside;
    let category_field = names.category;
    let mut errors: Vec<FieldError> = Vec::new();
    // A link that asks for a code: its keyed hash, spent by the writer in the response's own transaction.
    let code_hash = match link.filter(|l| l.needs_code) {
        Some(l) => match AccessCode::parse(code.unwrap_or_default()) {
            Ok(c) => Some(state.secret.access_code_hash(l.id, &c)),
            Err(message) => {
                errors.push(FieldError { field: names.code.into(), message });
                None
            }
        },
        None => None,
    };
    let category = match (link.and_then(|l| l.category_code.clone()), category.filter(|c| !c.is_empty())) {
        (Some(fixed), _) => Some(fixed),
        (None, Some(c)) if form.category_label(&c).is_some() => Some(c),
        (None, Some(_)) => {
            errors.push(FieldError {
                field: category_field.into(),
                message: format!("请从给出的{}中选择。", choice_name(form)),
            });
            None
        }
        (None, None) if !form.categories.is_empty() => {
            errors.push(FieldError {
                field: category_field.into(),
                message: format!("请选择{}。", form.category_question()),
            });
            None
        }
        (None, None) => None,
    };
    let today = crate::domain::rectification::bureau_today(state.clock.now_ms());
    let answers = match validate(form, raw, today) {
        Ok(a) if errors.is_empty() => a,
        Ok(_) => return Err(WebError::Invalid(errors)),
        Err(mut e) => {
            errors.append(&mut e);
            return Err(WebError::Invalid(errors));
        }
    };
    // The version the answers were checked against: the live one, unless the forms were reloaded since.
    let forms = state.forms();
    let live = forms.catalog.forms.get(&form.slug).is_some_and(|f| std::ptr::eq(f.as_ref(), form));
    let version_id = match forms.versions.get(&form.slug) {
        Some(id) if live => *id,
        _ => state.store.form_version_id(&form.version_hash()).await?,
    };
    let mut submission = Submission::build(form, link.map(|l| l.unit_code.clone()), category, answers, key);
    submission.code_hash = code_hash;
    let outcome = state.writer.submit(submission, version_id).await?;
    match outcome {
        SubmitOutcome::CodeRefused => {
            Err(WebError::Invalid(vec![FieldError { field: names.code.into(), message: CODE_REFUSED.into() }]))
        }
        SubmitOutcome::KeyConflict => {
            Err(WebError::Conflict("这个提交键已用于另一份不同的内容，请刷新页面后重新提交。".into()))
        }
        ok => Ok(ok),
    }
}

/// The category choice as a noun for messages: "身份", or the form's own wording.
fn choice_name(form: &crate::domain::form::FormDef) -> &str {
    form.category_question().strip_prefix("您的").unwrap_or(form.category_question())
}
