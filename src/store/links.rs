//! Distribution links: one per unit (or channel) and form. The token handed out is signed elsewhere;
//! here is only what a link binds a response to.

use super::entities::link;
use super::{Result, Store, StoreError, now_ms};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// A stored distribution link.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub id: i64,
    pub form_slug: String,
    pub unit_code: String,
    pub category_code: Option<String>,
    pub label: String,
    pub created_at: i64,
    pub revoked: bool,
}

impl From<link::Model> for Link {
    fn from(m: link::Model) -> Self {
        Link {
            id: m.id,
            form_slug: m.form_slug,
            unit_code: m.unit_code,
            category_code: m.category_code,
            label: m.label,
            created_at: m.created_at,
            revoked: m.revoked_at.is_some(),
        }
    }
}

impl Store {
    /// Creates a link binding responses to `unit_code` (and optionally a respondent category).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn create_link(
        &self,
        form_slug: &str,
        unit_code: &str,
        category: Option<&str>,
        label: &str,
        by: Option<&str>,
    ) -> Result<Link> {
        let row = link::ActiveModel {
            form_slug: Set(form_slug.to_owned()),
            unit_code: Set(unit_code.to_owned()),
            category_code: Set(category.map(str::to_owned)),
            label: Set(label.to_owned()),
            created_by: Set(by.map(str::to_owned)),
            created_at: Set(now_ms()),
            revoked_at: Set(None),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(row.into())
    }

    /// One link by id.
    ///
    /// # Errors
    /// `NotFound` when there is no such link.
    pub async fn link(&self, id: i64) -> Result<Link> {
        link::Entity::find_by_id(id).one(self.db()).await?.map(Link::from).ok_or(StoreError::NotFound)
    }

    /// Every link, optionally of one form, newest first.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn links(&self, form_slug: Option<&str>) -> Result<Vec<Link>> {
        let mut q = link::Entity::find().order_by_desc(link::Column::Id);
        if let Some(f) = form_slug {
            q = q.filter(link::Column::FormSlug.eq(f));
        }
        Ok(q.all(self.db()).await?.into_iter().map(Link::from).collect())
    }

    /// Revokes a link: its token stops working; responses already given through it stay.
    ///
    /// # Errors
    /// `NotFound` when there is no such link.
    pub async fn revoke_link(&self, id: i64) -> Result<Link> {
        let m = link::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        let mut a: link::ActiveModel = m.into();
        a.revoked_at = Set(Some(now_ms()));
        Ok(a.update(self.db()).await?.into())
    }

    /// Enables a revoked link again: its address and QR code (the same as before) work again.
    ///
    /// # Errors
    /// `NotFound` when there is no such link.
    pub async fn enable_link(&self, id: i64) -> Result<Link> {
        let m = link::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        let mut a: link::ActiveModel = m.into();
        a.revoked_at = Set(None);
        Ok(a.update(self.db()).await?.into())
    }
}
