//! `/w/admin/links…`: administrators create, list and revoke distribution links, download their QR codes
//! (SVG with the form title and unit under the code, PNG of the code alone) and open a printable page.

use crate::domain::catalog::Catalog;
use crate::store::links::Link;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::extract::Query;
use crate::web::state::AppState;
use crate::web::workspace::login::{Empty, actor};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::domain::user::Role;

/// Each link's codes, counted.
type CodeTally = std::collections::HashMap<i64, crate::store::links::CodeCounts>;

/// One choice in a `<select>`.
pub struct Opt {
    pub code: String,
    pub label: String,
    pub selected: bool,
}

/// A link as the page lists it.
pub struct LinkRow {
    pub id: i64,
    pub form_title: String,
    pub unit_name: String,
    pub category: String,
    pub label: String,
    pub created: String,
    pub revoked: bool,
    pub url: String,
    pub just_created: bool,
    /// Single-use codes issued and spent, when the link asks for them.
    pub codes: Option<crate::store::links::CodeCounts>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_links.html")]
pub struct LinksPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub forms: Vec<Opt>,
    pub units: Vec<Opt>,
    /// Every form's categories, as "form: label" options whose value is `form:code`.
    pub categories: Vec<Opt>,
    pub label: String,
    pub error: Option<(&'static str, String)>,
    pub links: Vec<LinkRow>,
    /// Set when the links point at an address phones cannot reach.
    pub base_warning: Option<String>,
}

impl LinksPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_link_print.html")]
pub struct PrintPage {
    pub head: super::head::StaffHead,
    pub id: i64,
    pub form_title: String,
    pub unit_name: String,
    pub url: String,
    pub anonymous: bool,
    pub needs_code: bool,
    pub base_warning: Option<String>,
}

/// The fields of the create form.
#[derive(Deserialize, Default)]
pub struct CreateLink {
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub unit: String,
    /// Empty, or `form:category`.
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub label: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    pub created: Option<i64>,
}

/// The full address a link hands out (the same as `wenji links list` prints).
pub fn link_url(state: &AppState, l: &Link) -> String {
    let token = state.secret.link_token(l.id, &l.form_slug, &l.unit_code, l.category_code.as_deref());
    format!("{}/f/{}?t={token}", state.settings.base_url.trim_end_matches('/'), l.form_slug)
}

/// A warning when links would point at this machine only (no `WENJI_PUBLIC_URL`): printed codes would not
/// open on anyone's phone.
pub fn base_warning(state: &AppState) -> Option<String> {
    let base = &state.settings.base_url;
    only_this_machine(base).then(|| {
        format!("注意：链接地址目前是 {base}，只有本机能打开。打印或发出二维码之前，请先设置 WENJI_PUBLIC_URL 为群众能访问的地址，然后重启服务。")
    })
}

/// Whether `base` (scheme://host[:port]) is an address only this machine can open.
fn only_this_machine(base: &str) -> bool {
    let host = base.split("://").nth(1).unwrap_or(base);
    ["127.", "0.0.0.0", "localhost", "[::1]", "[::]"].iter().any(|p| host.starts_with(p))
}

pub(super) fn admin(staff: &Staff) -> Result<(), WebError> {
    staff.require(&[Role::Admin])
}

fn row(state: &AppState, catalog: &Catalog, l: &Link, created: Option<i64>, codes: &CodeTally) -> LinkRow {
    let form = catalog.form(&l.form_slug);
    let when = chrono::DateTime::from_timestamp_millis(l.created_at)
        .map(|t| t.with_timezone(&crate::domain::form::check::bureau_offset()).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    LinkRow {
        id: l.id,
        form_title: form.map_or_else(|| l.form_slug.clone(), |f| f.title.clone()),
        unit_name: catalog.unit_name(&l.unit_code).to_owned(),
        category: l
            .category_code
            .as_deref()
            .map(|c| form.and_then(|f| f.category_label(c)).unwrap_or(c).to_owned())
            .unwrap_or_default(),
        label: l.label.clone(),
        created: when,
        revoked: l.revoked,
        url: link_url(state, l),
        just_created: created == Some(l.id),
        codes: l.needs_code.then(|| codes.get(&l.id).copied().unwrap_or_default()),
    }
}

async fn page_with(
    state: &AppState,
    staff: &Staff,
    input: &CreateLink,
    error: Option<(&'static str, String)>,
    created: Option<i64>,
) -> Result<LinksPage, WebError> {
    let loaded = state.forms();
    let catalog = &loaded.catalog;
    let links = state.store.links(None).await?;
    let codes = state.store.access_code_counts().await?;
    let forms = catalog
        .citizen_forms()
        .map(|f| Opt { code: f.slug.clone(), label: f.title.clone(), selected: f.slug == input.form })
        .collect();
    let units = catalog
        .units
        .iter()
        .map(|u| Opt { code: u.code.clone(), label: u.name.clone(), selected: u.code == input.unit })
        .collect();
    let categories = catalog
        .citizen_forms()
        .flat_map(|f| {
            f.categories.iter().map(move |c| {
                let code = format!("{}:{}", f.slug, c.code);
                Opt { selected: code == input.category, code, label: format!("{}：{}", f.title, c.label) }
            })
        })
        .collect();
    Ok(LinksPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        forms,
        units,
        categories,
        label: input.label.clone(),
        error,
        links: links.iter().map(|l| row(state, catalog, l, created, &codes)).collect(),
        base_warning: base_warning(state),
    })
}

/// `GET /w/admin/links`.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<LinksPage, WebError> {
    admin(&staff)?;
    page_with(&state, &staff, &CreateLink::default(), None, q.created).await
}

/// `POST /w/admin/links`: creates a link, audited; a bad field re-renders the page with 422.
pub async fn create(
    State(state): State<AppState>,
    CsrfForm(staff, input): CsrfForm<CreateLink>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let form = input.form.trim();
    let unit = input.unit.trim();
    let label = input.label.trim();
    // The category select carries `form:code`, so a category of another form cannot slip through.
    let category = match input.category.trim() {
        "" => Ok(None),
        c => match c.split_once(':') {
            Some((f, code)) if f == form => Ok(Some(code)),
            _ => Err(("category", "所选身份类别不属于所选表单".to_owned())),
        },
    };
    let checked =
        category.and_then(|category| state.forms().catalog.check_link(form, unit, category, label).map(|()| category));
    let category = match checked {
        Ok(c) => c,
        Err(e) => {
            let page = page_with(&state, &staff, &input, Some(e), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let l = state.store.create_link(form, unit, category, label, &actor(&staff)).await?;
    Ok(Redirect::to(&format!("/w/admin/links?created={}#link-{}", l.id, l.id)).into_response())
}

/// The confirmation step before a link is revoked.
#[derive(Template, WebTemplate)]
#[template(path = "admin_link_revoke.html")]
pub struct RevokePage {
    pub csrf: String,
    pub link: LinkRow,
}

/// The revoke form: `confirm=1` only from the confirmation page.
#[derive(Deserialize, Default)]
pub struct RevokeForm {
    #[serde(default)]
    pub confirm: String,
}

async fn revoke_page(state: &AppState, staff: &Staff, l: &Link) -> RevokePage {
    RevokePage { csrf: staff.csrf.clone(), link: row(state, &state.forms().catalog, l, None, &CodeTally::new()) }
}

/// `GET /w/admin/links/{id}/revoke`: asks before revoking (works without JavaScript).
pub async fn confirm_revoke(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<Response, WebError> {
    admin(&staff)?;
    let l = state.store.link(id).await?;
    if l.revoked {
        return Ok(Redirect::to(&format!("/w/admin/links#link-{id}")).into_response());
    }
    Ok(revoke_page(&state, &staff, &l).await.into_response())
}

/// `POST /w/admin/links/{id}/revoke`: with `confirm=1` the link's address and QR code stop working
/// (audited); without it, the confirmation page.
pub async fn revoke(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<RevokeForm>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let before = state.store.link(id).await?;
    if form.confirm != "1" && !before.revoked {
        return Ok(revoke_page(&state, &staff, &before).await.into_response());
    }
    switch(&state, &staff, id, true).await
}

/// `POST /w/admin/links/{id}/enable`: a revoked link works again, with the same address; audited.
pub async fn enable(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, _): CsrfForm<Empty>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    switch(&state, &staff, id, false).await
}

/// Revokes or enables a link unless it already is so, audited, and goes back to its row in the list.
async fn switch(state: &AppState, staff: &Staff, id: i64, revoke: bool) -> Result<Response, WebError> {
    state.store.set_link_revoked(id, revoke, &actor(staff)).await?;
    Ok(Redirect::to(&format!("/w/admin/links#link-{id}")).into_response())
}

/// Why a revoked link's QR code and print page are refused.
const REVOKED_QR: &str = "该链接已停用，不能再打印或下载二维码。";

/// The active link `id`, with its form title and unit name; a revoked one is refused with `revoked`.
pub(super) async fn active_link(
    state: &AppState,
    id: i64,
    revoked: &str,
) -> Result<(Link, String, String, bool), WebError> {
    let l = state.store.link(id).await?;
    if l.revoked {
        return Err(WebError::Conflict(revoked.into()));
    }
    let loaded = state.forms();
    let form = loaded.catalog.form(&l.form_slug);
    let title = form.map_or_else(|| l.form_slug.clone(), |f| f.title.clone());
    let anonymous = form.is_some_and(|f| f.anonymous);
    let unit = loaded.catalog.unit_name(&l.unit_code).to_owned();
    Ok((l, title, unit, anonymous))
}

fn download(mime: &'static str, name: String, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /w/admin/links/{id}/qr.svg`: the code with the form title and unit under it.
pub async fn qr_svg(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<Response, WebError> {
    admin(&staff)?;
    let (l, title, unit, _) = active_link(&state, id, REVOKED_QR).await?;
    let svg = crate::qr::svg(&link_url(&state, &l), &title, &unit).map_err(WebError::Internal)?;
    Ok(download("image/svg+xml", format!("link-{id}.svg"), svg.into_bytes()))
}

/// `GET /w/admin/links/{id}/qr.png`: the code alone. `?inline=1` shows it in the page instead of saving.
pub async fn qr_png(
    State(state): State<AppState>,
    staff: Staff,
    Id(id): Id,
    Query(q): Query<InlineQuery>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let (l, _, _, _) = active_link(&state, id, REVOKED_QR).await?;
    let png = crate::qr::png(&link_url(&state, &l)).map_err(WebError::Internal)?;
    let mut r = download("image/png", format!("link-{id}.png"), png);
    if q.inline.is_some() {
        r.headers_mut().remove(header::CONTENT_DISPOSITION);
    }
    Ok(r)
}

#[derive(Deserialize)]
pub struct InlineQuery {
    pub inline: Option<u8>,
}

/// `GET /w/admin/links/{id}/print`: one page to print: the code, the form title and the unit name.
pub async fn print(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<PrintPage, WebError> {
    admin(&staff)?;
    let (l, form_title, unit_name, anonymous) = active_link(&state, id, REVOKED_QR).await?;
    Ok(PrintPage {
        head: staff.head(),
        id,
        form_title,
        unit_name,
        url: link_url(&state, &l),
        anonymous,
        needs_code: l.needs_code,
        base_warning: base_warning(&state),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_to_this_machine_are_recognised() {
        for local in ["http://127.0.0.1:8080", "http://0.0.0.0:8080", "http://localhost", "http://[::1]:80"] {
            assert!(super::only_this_machine(local), "{local}");
        }
        for public in ["https://wenji.example.gov.cn", "http://10.1.2.3:8080", "http://192.168.1.20"] {
            assert!(!super::only_this_machine(public), "{public}");
        }
    }
}
