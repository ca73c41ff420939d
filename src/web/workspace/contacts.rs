//! `/w/admin/contacts…`: administrators read the contacts citizens left, by form, beside each response's
//! receipt and opinions (every view audited), and delete them one by one or a form's all at once, after a
//! confirmation step. Analysts and leaders never see them.

use crate::domain::user::Role;
use crate::store::contacts::ContactEntry;
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::{Id, Query};
use crate::web::state::AppState;
use crate::web::workspace::card::date;
use crate::web::workspace::login::actor;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// One contact as the page lists it.
pub struct ContactRow {
    pub id: i64,
    pub question: String,
    pub value: String,
    pub receipt: String,
    pub submitted: String,
    pub opinions: Vec<String>,
}

/// One form's contacts.
pub struct FormContacts {
    pub slug: String,
    pub title: String,
    pub contacts: Vec<ContactRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_contacts.html")]
pub struct ContactsPage {
    pub head: super::head::StaffHead,
    pub forms: Vec<FormContacts>,
    pub message: Option<String>,
}

/// The confirmation step before contacts are deleted.
#[derive(Template, WebTemplate)]
#[template(path = "admin_contacts_delete.html")]
pub struct DeletePage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    /// What goes: one contact's response, or a form's contacts.
    pub what: String,
    pub action: String,
    /// The newest contact a form-wide deletion takes (later ones stay).
    pub upto: Option<i64>,
}

/// `?deleted=N[&log=kept]` after a deletion.
#[derive(Deserialize)]
pub struct ListQuery {
    pub deleted: Option<u64>,
    pub log: Option<String>,
}

/// The delete forms: `confirm=1` only from the confirmation page.
#[derive(Deserialize, Default)]
pub struct DeleteForm {
    #[serde(default)]
    pub confirm: String,
    pub upto: Option<i64>,
}

fn admin(staff: &Staff) -> Result<(), WebError> {
    staff.require(&[Role::Admin])
}

/// What the list says after a deletion.
fn deleted_message(q: &ListQuery) -> Option<String> {
    let n = q.deleted?;
    Some(if q.log.as_deref() == Some("kept") {
        // The verification review found the copy in the database file itself, not only in its log.
        format!(
            "已删除 {n} 条联系方式。数据库正被其他程序读取（备份、导出或命令行），这些号码的旧副本暂时还留在数据库文件中，读取结束后自动清除。"
        )
    } else {
        format!("已删除 {n} 条联系方式，数据库中不再保留。")
    })
}

/// `GET /w/admin/contacts`: every contact by form; each view is audited (a HEAD shows nothing, unaudited).
pub async fn list(
    State(state): State<AppState>,
    method: axum::http::Method,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Result<ContactsPage, WebError> {
    admin(&staff)?;
    let contacts = state.store.contacts().await?;
    if method != axum::http::Method::HEAD {
        let shown = Some(contacts.len().to_string());
        state.store.audit(&actor(&staff), "contacts_viewed", "contacts", None, shown).await?;
    }
    let loaded = state.forms();
    let mut forms: Vec<FormContacts> = Vec::new();
    for c in contacts {
        let row = ContactRow {
            id: c.id,
            question: loaded.question_title(&c.form_slug, &c.question_id),
            value: c.value,
            receipt: c.receipt,
            submitted: date(c.submitted_at),
            opinions: c.opinions,
        };
        match forms.last_mut() {
            Some(f) if f.slug == c.form_slug => f.contacts.push(row),
            _ => forms.push(FormContacts {
                title: loaded.form_title(&c.form_slug),
                slug: c.form_slug,
                contacts: vec![row],
            }),
        }
    }
    Ok(ContactsPage { head: staff.head(), forms, message: deleted_message(&q) })
}

fn confirm_one(staff: &Staff, state: &AppState, c: &ContactEntry) -> DeletePage {
    let title = state.forms().form_title(&c.form_slug);
    DeletePage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        what: format!("《{title}》回执码 {} 的答卷（{}提交）留下的联系方式", c.receipt, date(c.submitted_at)),
        action: format!("/w/admin/contacts/{}/delete", c.id),
        upto: None,
    }
}

/// `GET /w/admin/contacts/{id}/delete`: asks before deleting one contact.
pub async fn confirm_delete(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<DeletePage, WebError> {
    admin(&staff)?;
    let c = state.store.contact(id).await.map_err(gone)?;
    Ok(confirm_one(&staff, &state, &c))
}

/// `POST /w/admin/contacts/{id}/delete`: with `confirm=1` deletes the contact (audited); without it, the
/// confirmation page.
pub async fn delete(
    State(state): State<AppState>,
    Id(id): Id,
    CsrfForm(staff, form): CsrfForm<DeleteForm>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    if form.confirm != "1" {
        let c = state.store.contact(id).await.map_err(gone)?;
        return Ok(confirm_one(&staff, &state, &c).into_response());
    }
    let rewritten = state.store.delete_contact(id, &actor(&staff)).await.map_err(gone)?;
    Ok(back_to_list(&state, 1, rewritten).await)
}

/// A form slug from the address: letters, digits, `-` and `_`, as form files name them; else 404.
fn form_slug(raw: &str) -> Result<&str, WebError> {
    let plain =
        !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then_some(raw).ok_or_else(|| WebError::NotFound(NO_FORM_CONTACTS.into()))
}

const NO_FORM_CONTACTS: &str = "这个表单没有留下的联系方式（可能已全部删除）。";

async fn confirm_form(state: &AppState, staff: &Staff, slug: &str) -> Result<DeletePage, WebError> {
    let (n, newest) = state.store.form_contacts(slug).await?;
    let Some(upto) = newest else { return Err(WebError::NotFound(NO_FORM_CONTACTS.into())) };
    let title = state.forms().form_title(slug);
    Ok(DeletePage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        what: format!("《{title}》的全部 {n} 条联系方式"),
        action: format!("/w/admin/contacts/forms/{slug}/delete"),
        upto: Some(upto),
    })
}

/// `GET /w/admin/contacts/forms/{slug}/delete`: asks before deleting every contact of one form.
pub async fn confirm_delete_form(
    State(state): State<AppState>,
    staff: Staff,
    Path(slug): Path<String>,
) -> Result<DeletePage, WebError> {
    admin(&staff)?;
    confirm_form(&state, &staff, form_slug(&slug)?).await
}

/// `POST /w/admin/contacts/forms/{slug}/delete`: with `confirm=1` deletes the form's contacts up to the
/// newest the confirmation showed (audited with the count); without it, the confirmation page.
pub async fn delete_form(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    CsrfForm(staff, form): CsrfForm<DeleteForm>,
) -> Result<Response, WebError> {
    admin(&staff)?;
    let slug = form_slug(&slug)?;
    let (true, Some(upto)) = (form.confirm == "1", form.upto) else {
        return Ok(confirm_form(&state, &staff, slug).await?.into_response());
    };
    match state.store.delete_form_contacts(slug, upto, &actor(&staff)).await? {
        (0, _) => Err(WebError::NotFound(NO_FORM_CONTACTS.into())),
        (n, rewritten) => Ok(back_to_list(&state, n, rewritten).await),
    }
}

/// A contact deleted meanwhile (or never there) is said as such.
fn gone(e: crate::store::StoreError) -> WebError {
    match e {
        crate::store::StoreError::NotFound => WebError::NotFound("找不到这条联系方式，可能已被删除。".into()),
        other => other.into(),
    }
}

/// After a deletion: SQLite's write-ahead log is emptied of the old copies (at once, or by the writer as
/// soon as a reader lets it); the list says whether any copy is left for now.
async fn back_to_list(state: &AppState, n: u64, rewritten: bool) -> Response {
    let emptied = state.writer.empty_write_ahead_log().await;
    let log = if rewritten && emptied { "" } else { "&log=kept" };
    Redirect::to(&format!("/w/admin/contacts?deleted={n}{log}")).into_response()
}
