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
    /// Where citizens answer it: its own page, or /gongkai for the measures' rating form.
    pub address: String,
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
                address: if loaded.catalog.citizen_form(&f.slug).is_some() {
                    format!("/f/{}", f.slug)
                } else {
                    "/gongkai".to_owned()
                },
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
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|errs| errs.iter().map(ToString::to_string).collect::<Vec<_>>());
    // Answers already stored must keep their meaning under the new definitions.
    let loaded = match loaded {
        Ok(catalog) => match state.store.meaning_lost_in(&catalog).await? {
            moved if moved.is_empty() => Ok(catalog),
            moved => Err(moved),
        },
        Err(problems) => Err(problems),
    };
    match loaded {
        Err(problems) => {
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
            let summary = version_summary(&catalog);
            state.store.audit(&actor(&staff), RELOADED, "forms", None, Some(summary)).await?;
            let orphaned = links_of_removed_units(&state, &catalog).await?;
            go_live(&state, catalog, versions);
            Ok(page(&state, &staff, Some(format!("已重新加载。{orphaned}")), Vec::new()))
        }
    }
}

/// What a reload says of links still open for units `catalog` no longer lists: their responses are
/// still counted under the removed unit, which an administrator removing it may not expect.
async fn links_of_removed_units(
    state: &AppState,
    catalog: &crate::domain::catalog::Catalog,
) -> Result<String, WebError> {
    let mut open: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for link in state.store.links(None).await? {
        if !link.revoked && !catalog.units.iter().any(|u| u.code == link.unit_code) {
            open.entry(link.unit_code).or_default().push(link.id.to_string());
        }
    }
    Ok(open
        .into_iter()
        .map(|(unit, ids)| {
            format!(
                "注意：单位 {unit} 已不在 units.toml 中，但它的链接（编号 {}）仍然有效，通过它们提交的答卷仍记在该单位下；\
                 如要停止收集，请在“链接”页停用。",
                ids.join("、")
            )
        })
        .collect())
}

/// Serves `catalog` from now on (its versions recorded and its reload audited by the caller).
fn go_live(
    state: &AppState,
    catalog: crate::domain::catalog::Catalog,
    versions: std::collections::BTreeMap<String, i64>,
) {
    *state.forms.write().expect("forms lock is never poisoned") = Arc::new(LoadedForms { catalog, versions });
}

/// The audit action of a reload, which every other instance follows.
const RELOADED: &str = "forms_reloaded";

/// How often an instance looks for a reload made on another one.
pub const FOLLOW_RELOADS_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// Each form as `slug@version`, as a reload's audit entry records them.
fn version_summary(catalog: &crate::domain::catalog::Catalog) -> String {
    let forms: Vec<String> =
        catalog.forms.values().map(|f| format!("{}@{}", f.slug, &f.version_hash()[..12])).collect();
    forms.join(" ")
}

/// The newest reload's entry: its id and the versions it made live.
async fn newest_reload(state: &AppState) -> crate::store::Result<Option<(i64, String)>> {
    let newest = state.store.audit_entries(Some(RELOADED), None, None, 1).await?;
    Ok(newest.into_iter().next().map(|e| (e.id, e.after.unwrap_or_default())))
}

/// At start: when the forms this instance loaded are not the versions the newest reload made live (the
/// folder was edited before a restart, or this is the first start), records them as a reload by the
/// start. Unaudited versions are then never served, and the other instances sharing the database follow
/// them instead of serving different forms until someone reloads.
///
/// # Errors
/// On a database failure.
pub async fn record_forms_at_start(state: &AppState) -> crate::store::Result<()> {
    let loaded = version_summary(&state.forms().catalog);
    if newest_reload(state).await?.is_none_or(|(_, live)| live != loaded) {
        state
            .store
            .audit(&crate::store::audit::Actor::system("启动时加载"), RELOADED, "forms", None, Some(loaded))
            .await?;
    }
    Ok(())
}

/// `catalog` with its forms replaced by the stored versions a reload's entry names (`slug@hash…`), when
/// every one of them is stored and nothing else is left: what that reload made live.
async fn reloaded_from_store(
    state: &AppState,
    mut catalog: crate::domain::catalog::Catalog,
    reloaded: &str,
) -> Option<crate::domain::catalog::Catalog> {
    let stored = state.store.form_versions().await.ok()?;
    let mut forms = std::collections::BTreeMap::new();
    for named in reloaded.split_whitespace() {
        let (slug, prefix) = named.split_once('@')?;
        let (id, ..) = stored.iter().find(|(_, s, hash, _)| s == slug && hash.starts_with(prefix))?;
        forms.insert(slug.to_owned(), std::sync::Arc::new(state.store.form_version(*id).await.ok()?));
    }
    catalog.forms = forms;
    (version_summary(&catalog) == reloaded).then_some(catalog)
}

/// Follows reloads made on other instances sharing the database: when a newer `forms_reloaded` entry
/// appears, this instance reloads its own forms folder (which they share) and serves it if it holds
/// exactly the versions that entry made live, else those versions as stored, so no instance keeps checking
/// answers against a replaced form, and none serves a version nobody reloaded.
pub async fn follow_reloads(state: AppState) {
    let mut seen = newest_reload(&state).await.ok().flatten().map(|(id, _)| id);
    let mut tick = tokio::time::interval(FOLLOW_RELOADS_EVERY);
    loop {
        tick.tick().await;
        let (id, reloaded) = match newest_reload(&state).await {
            Ok(Some(newest)) if Some(newest.0) > seen => newest,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for form reloads; trying again");
                continue;
            }
        };
        if version_summary(&state.forms().catalog) == reloaded {
            seen = Some(id); // this instance made the reload, or follows it already
            continue;
        }
        let dir = state.settings.forms_dir.clone();
        let catalog = match tokio::task::spawn_blocking(move || crate::forms_dir::load(&dir)).await {
            Ok(Ok(catalog)) if version_summary(&catalog) == reloaded => catalog,
            // The folder was edited again since (or is not shared): the versions that reload made live are
            // stored, so this instance serves those rather than keep the replaced ones until the next reload.
            Ok(folder) => {
                match reloaded_from_store(&state, folder.unwrap_or_else(|_| state.forms().catalog.clone()), &reloaded)
                    .await
                {
                    Some(catalog) => catalog,
                    None => {
                        tracing::error!(reloaded = %reloaded, "another instance reloaded the forms, but neither this \
                        instance's folder nor the database holds those versions; keeping the old forms");
                        seen = Some(id);
                        continue;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "form reload check failed; trying again");
                continue;
            }
        };
        match state.store.sync_catalog(&catalog).await {
            Ok(versions) => {
                go_live(&state, catalog, versions);
                tracing::info!(forms = %reloaded, "followed a form reload made on another instance");
                seen = Some(id);
            }
            Err(e) => tracing::warn!(error = %e, "cannot record the reloaded forms; trying again"),
        }
    }
}
