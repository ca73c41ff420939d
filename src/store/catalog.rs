//! Form versions and units: each loaded definition is stored once by content hash, so a response always
//! reads back with the exact questions it answered, whatever later happens to the form file.

use super::entities::{form_version, unit};
use super::{Result, Store, StoreError, now_ms};
use crate::domain::catalog::Catalog;
use crate::domain::form::FormDef;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

impl Store {
    /// Records every form's current definition (a new version when its hash is new) and the unit list.
    /// Returns the version id of each form's current definition, by slug.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn sync_catalog(&self, catalog: &Catalog) -> Result<BTreeMap<String, i64>> {
        // One transaction: a failure halfway (a full disk) leaves no form recorded without its units.
        let w = self.write_txn().await?;
        let done = async {
            let mut ids = BTreeMap::new();
            for form in catalog.forms.values() {
                let hash = form.version_hash();
                if let Some(id) = form_version_id_in(w.conn(), &hash).await? {
                    ids.insert(form.slug.clone(), id);
                    continue;
                }
                let definition = serde_json::to_string(form).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let row = form_version::ActiveModel {
                    slug: Set(form.slug.clone()),
                    hash: Set(hash.clone()),
                    title: Set(form.title.clone()),
                    definition: Set(definition),
                    first_seen_at: Set(now_ms()),
                    ..Default::default()
                };
                // Another instance may record the same version at the same moment: keep one.
                form_version::Entity::insert(row)
                    .on_conflict(OnConflict::column(form_version::Column::Hash).do_nothing().to_owned())
                    .exec_without_returning(w.conn())
                    .await?;
                let id = form_version_id_in(w.conn(), &hash).await?.ok_or(StoreError::NotFound)?;
                ids.insert(form.slug.clone(), id);
            }
            // Rows locked in code order: two instances reloading lists in different orders cannot deadlock.
            let mut units: Vec<_> = catalog.units.iter().enumerate().collect();
            units.sort_by(|a, b| a.1.code.cmp(&b.1.code));
            for (i, u) in units {
                let row = unit::ActiveModel {
                    code: Set(u.code.clone()),
                    name: Set(u.name.clone()),
                    kind: Set(u.kind.clone()),
                    position: Set(i32::try_from(i).unwrap_or(i32::MAX)),
                };
                unit::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(unit::Column::Code)
                            .update_columns([unit::Column::Name, unit::Column::Kind, unit::Column::Position])
                            .to_owned(),
                    )
                    .exec_without_returning(w.conn())
                    .await?;
            }
            Ok(ids)
        }
        .await;
        w.finish(done).await
    }

    /// Why `catalog` may not go live over the versions responses answered: a form answered whose file is
    /// gone (its workbooks and report are made from it), and each form's scales whose grades it added,
    /// removed or reordered (`form::grades_moved`), named by form.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn meaning_lost_in(&self, catalog: &Catalog) -> Result<Vec<String>> {
        let mut refused = Vec::new();
        for (id, slug, _, _) in self.form_versions().await? {
            let Some(after) = catalog.forms.get(&slug) else {
                let said = format!(
                    "表单 {slug} 已有答卷，它的文件不能删除（领导的汇总表和报告要用它）：请把文件放回；要停止收集，在文件中设置 closes_at"
                );
                if !refused.contains(&said) && self.version_answered(id).await? {
                    refused.push(said);
                }
                continue;
            };
            let moved = crate::domain::form::grades_moved(&self.form_version(id).await?, after);
            // Responses are looked at only for a version whose grades moved: most reloads move none.
            if moved.is_empty() || !self.version_answered(id).await? {
                continue;
            }
            for why in moved {
                let said = format!("表单“{}”（{}）：{why}", after.title, after.slug);
                if !refused.contains(&said) {
                    refused.push(said);
                }
            }
        }
        Ok(refused)
    }

    /// Whether any response answered stored version `id`.
    async fn version_answered(&self, id: i64) -> Result<bool> {
        use super::entities::response;
        let one = response::Entity::find().select_only().column(response::Column::Id);
        Ok(one.filter(response::Column::FormVersionId.eq(id)).into_tuple::<i64>().one(self.db()).await?.is_some())
    }

    /// The definition a stored version holds.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Corrupt` when the stored definition no longer parses.
    pub async fn form_version(&self, id: i64) -> Result<FormDef> {
        let v = form_version::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        serde_json::from_str(&v.definition).map_err(|e| StoreError::Corrupt(format!("form version {id}: {e}")))
    }

    /// The id of the stored version with `hash` (every loaded definition was stored by `sync_catalog`).
    ///
    /// # Errors
    /// `NotFound` for a definition never stored.
    pub async fn form_version_id(&self, hash: &str) -> Result<i64> {
        form_version_id_in(self.db(), hash).await?.ok_or(StoreError::NotFound)
    }

    /// Every stored version of every form, newest first: (id, slug, hash, first seen).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn form_versions(&self) -> Result<Vec<(i64, String, String, i64)>> {
        let rows = form_version::Entity::find().order_by_desc(form_version::Column::Id).all(self.db()).await?;
        Ok(rows.into_iter().map(|v| (v.id, v.slug, v.hash, v.first_seen_at)).collect())
    }
}

/// The id of the stored version with `hash`, if one is stored.
async fn form_version_id_in<C: ConnectionTrait>(db: &C, hash: &str) -> Result<Option<i64>> {
    let v = form_version::Entity::find().filter(form_version::Column::Hash.eq(hash)).one(db).await?;
    Ok(v.map(|v| v.id))
}
