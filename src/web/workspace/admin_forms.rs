//! `/w/admin/forms`: what forms are loaded (with their version hashes) and reloading them from `forms/`
//! without a restart. A folder with any problem is refused whole, the old forms stay, and the page names
//! every problem with file, question and reason.

use crate::domain::user::Role;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::state::{AppState, LoadedForms};
use crate::web::workspace::login::actor;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;
use std::sync::Arc;

pub struct FormRow {
    pub slug: String,
    pub title: String,
    pub questions: usize,
    pub version: String,
    pub anonymous: bool,
    pub period: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_forms.html")]
pub struct FormsPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub forms: Vec<FormRow>,
    pub units: usize,
    pub message: Option<String>,
    pub problems: Vec<String>,
}

fn page(state: &AppState, staff: &Staff, message: Option<String>, problems: Vec<String>) -> FormsPage {
    let loaded = state.forms();
    let fmt = |d: Option<chrono::DateTime<chrono::FixedOffset>>| {
        d.map_or("—".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string())
    };
    FormsPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        forms: loaded
            .catalog
            .forms
            .values()
            .map(|f| FormRow {
                slug: f.slug.clone(),
                title: f.title.clone(),
                questions: f.questions.len(),
                version: f.version_hash()[..12].to_owned(),
                anonymous: f.anonymous,
                period: format!("{} 至 {}", fmt(f.opens_at), fmt(f.closes_at)),
            })
            .collect(),
        units: loaded.catalog.units.len(),
        message,
        problems,
    }
}

/// `GET /w/admin/forms`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<FormsPage, WebError> {
    staff.require(&[Role::Admin])?;
    Ok(page(&state, &staff, None, Vec::new()))
}

#[derive(Deserialize)]
pub struct ReloadForm {}

/// `POST /w/admin/forms/reload`.
pub async fn reload(
    State(state): State<AppState>,
    CsrfForm(staff, _): CsrfForm<ReloadForm>,
) -> Result<FormsPage, WebError> {
    staff.require(&[Role::Admin])?;
    let dir = state.settings.forms_dir.clone();
    let loaded = tokio::task::spawn_blocking(move || crate::forms_dir::load(&dir))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    match loaded {
        Err(errs) => {
            let problems: Vec<String> = errs.iter().map(ToString::to_string).collect();
            state
                .store
                .audit(
                    &actor(&staff),
                    "forms_reload_refused",
                    "forms",
                    None,
                    Some(format!("{} problem(s)", problems.len())),
                )
                .await?;
            Ok(page(&state, &staff, Some("表单目录有错误，未重新加载；当前仍使用原来的表单。".into()), problems))
        }
        Ok(catalog) => {
            // Versions are recorded by content (a retry records nothing new); the live forms change only
            // once the reload is audited, so no reload serves citizens without its entry.
            let versions = state.store.sync_catalog(&catalog).await?;
            let summary: Vec<String> =
                catalog.forms.values().map(|f| format!("{}@{}", f.slug, &f.version_hash()[..12])).collect();
            state.store.audit(&actor(&staff), "forms_reloaded", "forms", None, Some(summary.join(" "))).await?;
            *state.forms.write().expect("forms lock is never poisoned") = Arc::new(LoadedForms { catalog, versions });
            Ok(page(&state, &staff, Some("已重新加载。".into()), Vec::new()))
        }
    }
}
