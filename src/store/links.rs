//! Distribution links: one per unit (or channel) and form. The token handed out is signed elsewhere;
//! here is only what a link binds a response to.

use super::audit::{Actor, append_in};
use super::entities::link;
use super::sql::{PARAMS_PER_STATEMENT, Sql, sized_chunks};
use super::{Result, Store, StoreError, now_ms};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use std::collections::HashMap;

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
    /// A response through this link needs one of its single-use codes.
    pub needs_code: bool,
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
            needs_code: m.needs_code,
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
                needs_code: Set(false),
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
            let m = link::Entity::find_by_id(id).lock_exclusive().one(w.conn()).await?.ok_or(StoreError::NotFound)?;
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

    /// Adds single-use codes (their hashes) to link `id`, which from now on takes a response only with one
    /// of them unspent; audited as `access_codes_issued` with the count, in the same transaction. Only while
    /// the link has `seen` codes, as the page that asked showed: a reload or a second click makes none.
    ///
    /// # Errors
    /// `NotFound` when there is no such link; `Conflict` when it is revoked or has other than `seen` codes.
    pub async fn issue_access_codes(&self, id: i64, seen: u64, hashes: &[String], by: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let done = async {
            let found = link::Entity::find_by_id(id).lock_exclusive().one(w.conn()).await?;
            let m = found.ok_or(StoreError::NotFound)?;
            if m.revoked_at.is_some() {
                return Err(StoreError::Conflict("该链接已停用，不能再发填写码。".into()));
            }
            let mut count = Sql::new(w.conn().get_database_backend());
            count.push("SELECT COUNT(*) FROM access_codes WHERE link_id = ").bind(id);
            let row = w.conn().query_one_raw(count.into_statement()).await?;
            let issued: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
            if u64::try_from(issued).ok() != Some(seen) {
                return Err(StoreError::Conflict(CODES_CHANGED.into()));
            }
            let was = m.needs_code;
            let mut a: link::ActiveModel = m.into();
            a.needs_code = Set(true);
            a.update(w.conn()).await?;
            let backend = w.conn().get_database_backend();
            // In hash order, not the order printed: PostgreSQL lays rows out as they come.
            let mut hashes = hashes.to_vec();
            hashes.sort_unstable();
            for chunk in sized_chunks(&hashes, PARAMS_PER_STATEMENT / 2) {
                let mut sql = Sql::new(backend);
                sql.push("INSERT INTO access_codes (code_hash, link_id) VALUES ");
                sql.bind_rows(chunk.iter().map(|h| [h.clone().into(), id.into()]));
                w.conn().execute_raw(sql.into_statement()).await?;
            }
            let before = if was { "codes" } else { "open" };
            let detail = format!("codes +{}", hashes.len());
            append_in(w.conn(), by, "access_codes_issued", &format!("link:{id}"), Some(before.into()), Some(detail))
                .await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Link `id` takes responses without a code again, and its codes are deleted, spent or not; audited as
    /// `access_codes_dropped`. A link without codes is left as it is, unaudited.
    ///
    /// # Errors
    /// `NotFound` when there is no such link.
    pub async fn drop_access_codes(&self, id: i64, by: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let done = async {
            let m = link::Entity::find_by_id(id).lock_exclusive().one(w.conn()).await?.ok_or(StoreError::NotFound)?;
            if !m.needs_code {
                return Ok(());
            }
            let mut a: link::ActiveModel = m.into();
            a.needs_code = Set(false);
            a.update(w.conn()).await?;
            let backend = w.conn().get_database_backend();
            if backend == sea_orm::DbBackend::Postgres {
                // In the order a spend holds them (hash order): a DELETE takes them as they lie on disk, and
                // deadlocked with submissions spending the link's codes on another instance.
                let mut hold = Sql::new(backend);
                hold.push("SELECT code_hash FROM access_codes WHERE link_id = ")
                    .bind(id)
                    .push(" ORDER BY code_hash FOR UPDATE");
                w.conn().query_all_raw(hold.into_statement()).await?;
            }
            let mut sql = Sql::new(backend);
            sql.push("DELETE FROM access_codes WHERE link_id = ").bind(id);
            w.conn().execute_raw(sql.into_statement()).await?;
            append_in(
                w.conn(),
                by,
                "access_codes_dropped",
                &format!("link:{id}"),
                Some("codes".into()),
                Some("open".into()),
            )
            .await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Codes issued and spent, per link that has any. Counts only: which code was spent is never shown.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn access_code_counts(&self) -> Result<HashMap<i64, CodeCounts>> {
        let sql = "SELECT link_id, COUNT(*), SUM(CASE WHEN spent THEN 1 ELSE 0 END) FROM access_codes GROUP BY link_id";
        let rows = self.db().query_all_raw(Statement::from_string(self.db().get_database_backend(), sql)).await?;
        let mut counts = HashMap::with_capacity(rows.len());
        for r in rows {
            let (id, issued, spent): (i64, i64, i64) =
                (r.try_get_by_index(0)?, r.try_get_by_index(1)?, r.try_get_by_index(2)?);
            counts.insert(id, CodeCounts { issued: issued.max(0) as u64, spent: spent.max(0) as u64 });
        }
        Ok(counts)
    }
}

/// Why codes were not made: the link's codes changed since the page was shown.
pub const CODES_CHANGED: &str = "这期间本链接的填写码有了变化（刷新了页面、连点了“生成”，或同事刚发过或收回了码），这次没有生成。请看下面现在的情况再决定；码只显示一次，如果之前那一批没有打印，可以再发一批，或不再要求填写码后重新发。";

/// A link's single-use codes, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeCounts {
    pub issued: u64,
    pub spent: u64,
}
