//! Distribution links: one per unit (or channel) and form. The token handed out is signed elsewhere;
//! here is only what a link binds a response to.

use super::audit::{Actor, append_in};
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
    /// Creates a link binding responses to `unit_code` (and optionally a respondent category), audited as
    /// `link_created` by `by` in the same transaction.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn create_link(
        &self,
        form_slug: &str,
        unit_code: &str,
        category: Option<&str>,
        label: &str,
        by: &Actor,
    ) -> Result<Link> {
        let w = self.write_txn().await?;
        let done = async {
            let row = link::ActiveModel {
                form_slug: Set(form_slug.to_owned()),
                unit_code: Set(unit_code.to_owned()),
                category_code: Set(category.map(str::to_owned)),
                label: Set(label.to_owned()),
                created_by: Set(Some(by.name.clone())),
                created_at: Set(now_ms()),
                revoked_at: Set(None),
                ..Default::default()
            }
            .insert(w.conn())
            .await?;
            let bound = match category {
                Some(c) => format!("{form_slug}/{unit_code}/{c}"),
                None => format!("{form_slug}/{unit_code}"),
            };
            append_in(w.conn(), by, "link_created", &format!("link:{}", row.id), None, Some(bound)).await?;
            Ok(Link::from(row))
        }
        .await;
        w.finish(done).await
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

    /// Revokes a link (`revoked`: its token stops working; responses already given through it stay) or
    /// enables it again (its address and QR code, the same as before, work again), audited as
    /// `link_revoked` / `link_enabled` in the same transaction. A link already so is left as it is, unaudited.
    ///
    /// # Errors
    /// `NotFound` when there is no such link.
    pub async fn set_link_revoked(&self, id: i64, revoke: bool, by: &Actor) -> Result<Link> {
        let w = self.write_txn().await?;
        let done = async {
            let m = link::Entity::find_by_id(id).one(w.conn()).await?.ok_or(StoreError::NotFound)?;
            if m.revoked_at.is_some() == revoke {
                return Ok(Link::from(m));
            }
            let mut a: link::ActiveModel = m.into();
            a.revoked_at = Set(revoke.then(now_ms));
            let l = Link::from(a.update(w.conn()).await?);
            let (action, from, to) =
                if revoke { ("link_revoked", "active", "revoked") } else { ("link_enabled", "revoked", "active") };
            append_in(w.conn(), by, action, &format!("link:{id}"), Some(from.into()), Some(to.into())).await?;
            Ok(l)
        }
        .await;
        w.finish(done).await
    }
}
