//! The tags people confirmed, read back as training examples for the suggestion model.

use super::entities::{opinion, tag};
use super::{Result, Store, StoreError};
use crate::domain::area::AreaCode;
use crate::domain::tagging::TagSource;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::BTreeMap;

/// One tagged opinion: its text and each area with how the tag came to be.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedTags {
    pub text: String,
    pub tags: Vec<(AreaCode, TagSource)>,
}

impl Store {
    /// The `limit` opinions tagged most recently with their tags, oldest first. Opinions marked invalid
    /// or to verify are left out: their tags are not a person's settled judgement.
    ///
    /// # Errors
    /// Storage failures; a stored area or source that does not parse is `Corrupt`.
    pub async fn confirmed_tags(&self, limit: u64) -> Result<Vec<ConfirmedTags>> {
        let recent: Vec<(i64, i64)> = tag::Entity::find()
            .select_only()
            .column(tag::Column::OpinionId)
            .column_as(tag::Column::CreatedAt.max(), "at")
            .group_by(tag::Column::OpinionId)
            .order_by_desc(tag::Column::CreatedAt.max())
            .order_by_desc(tag::Column::OpinionId)
            .limit(limit)
            .into_tuple()
            .all(self.db())
            .await?;
        let ids: Vec<i64> = recent.iter().rev().map(|(id, _)| *id).collect();
        let mut out: BTreeMap<i64, ConfirmedTags> = BTreeMap::new();
        for chunk in ids.chunks(500) {
            let texts = opinion::Entity::find()
                .filter(opinion::Column::Id.is_in(chunk.to_vec()))
                .filter(opinion::Column::State.eq("tagged"))
                .all(self.db())
                .await?;
            for o in texts {
                out.insert(o.id, ConfirmedTags { text: o.text, tags: Vec::new() });
            }
            let tags = tag::Entity::find().filter(tag::Column::OpinionId.is_in(chunk.to_vec())).all(self.db()).await?;
            for t in tags {
                if let Some(c) = out.get_mut(&t.opinion_id) {
                    let area = AreaCode::try_from(i64::from(t.area_code)).map_err(StoreError::Corrupt)?;
                    let source = TagSource::parse(&t.source)
                        .ok_or_else(|| StoreError::Corrupt(format!("tag source {}", t.source)))?;
                    c.tags.push((area, source));
                }
            }
        }
        Ok(ids.iter().filter_map(|id| out.remove(id)).collect())
    }
}
