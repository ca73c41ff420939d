//! What the HTML form and the JSON API share: resolving a link token, choosing the category, validating
//! answers and handing the submission to the writer.

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
    let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
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

/// Validates and stores one submission. `category_field` names the chosen category in errors: the HTML
/// form's `_category`, the API's `category`.
///
/// # Errors
/// `Invalid` with every field problem; `Conflict` for a different body under a used key; store errors.
pub async fn submit(
    state: &AppState,
    form: &FormDef,
    link: Option<&Link>,
    category: Option<String>,
    category_field: &str,
    raw: &RawAnswers,
    key: &SubmissionKey,
) -> Result<SubmitOutcome, WebError> {
    let mut errors: Vec<FieldError> = Vec::new();
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
    let submission = Submission::build(form, link.map(|l| l.unit_code.clone()), category, answers, key);
    let outcome = state.writer.submit(submission, version_id).await?;
    match outcome {
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
