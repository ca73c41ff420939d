//! Opinions and their tags, states, notes and representative marks. Every change is audited in the same
//! transaction as the change itself.

use super::audit::{Actor, append_in};
use super::entities::{note, opinion, response, tag};
use super::{Result, Store, StoreError, now_ms};
use crate::domain::area::AreaCode;
use crate::domain::tagging::{OpinionState, TagSource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// One tag on an opinion.
#[derive(Debug, Clone, PartialEq)]
pub struct TagView {
    pub area: AreaCode,
    pub source: TagSource,
    pub user_id: Option<i64>,
    pub at: i64,
}

/// A note on an opinion.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteView {
    pub id: i64,
    pub author: String,
    pub text: String,
    pub at: i64,
}

/// An opinion with everything analysts see about it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpinionView {
    pub id: i64,
    pub response_id: i64,
    pub receipt: String,
    pub form_slug: String,
    pub question_id: String,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub text: String,
    pub fingerprint: String,
    pub state: OpinionState,
    pub representative: bool,
    pub submitted_at: i64,
    pub tags: Vec<TagView>,
    pub notes: Vec<NoteView>,
}

impl OpinionView {
    pub fn areas(&self) -> Vec<AreaCode> {
        self.tags.iter().map(|t| t.area).collect()
    }
}

fn areas_text(areas: &[AreaCode]) -> String {
    areas.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

pub(crate) fn parse_state(s: &str) -> Result<OpinionState> {
    OpinionState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown opinion state {s}")))
}

async fn tags_of<C: ConnectionTrait>(db: &C, opinion_id: i64) -> Result<Vec<TagView>> {
    let rows = tag::Entity::find()
        .filter(tag::Column::OpinionId.eq(opinion_id))
        .order_by_asc(tag::Column::AreaCode)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|t| {
            Ok(TagView {
                area: AreaCode::try_from(i64::from(t.area_code)).map_err(StoreError::Corrupt)?,
                source: TagSource::parse(&t.source).ok_or_else(|| StoreError::Corrupt(t.source.clone()))?,
                user_id: t.user_id,
                at: t.created_at,
            })
        })
        .collect()
}

/// An insert of tags that an area already on the opinion leaves as it is.
pub(crate) fn tag_exists() -> sea_orm::sea_query::OnConflict {
    sea_orm::sea_query::OnConflict::columns([tag::Column::OpinionId, tag::Column::AreaCode]).do_nothing().to_owned()
}

/// An opinion read with its row held to COMMIT (PostgreSQL; SQLite's writer is one at a time): whatever
/// a transaction decides from it, no other change to the opinion lands in between.
///
/// # Errors
/// `NotFound` for an unknown opinion.
pub(crate) async fn opinion_locked<C: ConnectionTrait>(txn: &C, opinion_id: i64) -> Result<opinion::Model> {
    opinion::Entity::find_by_id(opinion_id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)
}

/// [`Store::set_tags`] inside a transaction the caller holds (double coding settles final tags this way).
/// With `seen` (what the analyst's card showed), refused with `EditedMeanwhile` unless the tags are still
/// those. The opinion's row is held to COMMIT (PostgreSQL), so two saves cannot both pass a check, and
/// each audit entry's "before" is what the change really found.
pub(crate) async fn replace_tags_in<C: ConnectionTrait>(
    txn: &C,
    opinion_id: i64,
    seen: Option<&[AreaCode]>,
    areas: &[AreaCode],
    source_of: impl Fn(AreaCode) -> TagSource,
    actor: &Actor,
) -> Result<(Vec<AreaCode>, Vec<AreaCode>)> {
    let o = opinion_locked(txn, opinion_id).await?;
    let before: Vec<AreaCode> = tags_of(txn, opinion_id).await?.into_iter().map(|t| t.area).collect();
    if let Some(seen) = seen {
        let (mut now, mut seen) = (before.clone(), seen.to_vec());
        now.sort();
        seen.sort();
        seen.dedup();
        if now != seen {
            return Err(StoreError::EditedMeanwhile);
        }
    }
    let mut after: Vec<AreaCode> = areas.to_vec();
    after.sort();
    after.dedup();
    let now = now_ms();
    let removed: Vec<i16> = before.iter().filter(|a| !after.contains(a)).map(|a| i16::from(a.get())).collect();
    if !removed.is_empty() {
        tag::Entity::delete_many()
            .filter(tag::Column::OpinionId.eq(opinion_id))
            .filter(tag::Column::AreaCode.is_in(removed))
            .exec(txn)
            .await?;
    }
    let added: Vec<tag::ActiveModel> = after
        .iter()
        .filter(|a| !before.contains(a))
        .map(|a| tag::ActiveModel {
            opinion_id: Set(opinion_id),
            area_code: Set(i16::from(a.get())),
            source: Set(source_of(*a).as_str().to_owned()),
            user_id: Set(actor.id),
            created_at: Set(now),
        })
        .collect();
    if !added.is_empty() {
        // The same change sent twice at once (a double click) meets the first one's rows on PostgreSQL.
        tag::Entity::insert_many(added).on_conflict(tag_exists()).exec_without_returning(txn).await?;
    }
    let state = parse_state(&o.state)?;
    let new_state = state.after_tags(after.len());
    if new_state != state || before != after {
        let mut a: opinion::ActiveModel = o.into();
        a.state = Set(new_state.as_str().to_owned());
        a.updated_at = Set(now);
        a.update(txn).await?;
    }
    if before != after {
        append_in(
            txn,
            actor,
            "tags_changed",
            &format!("opinion:{opinion_id}"),
            Some(areas_text(&before)),
            Some(areas_text(&after)),
        )
        .await?;
    }
    Ok((before, after))
}

impl Store {
    /// The notes on each of `ids` (oldest first), for showing them in the inbox's rows.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn notes_of(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<NoteView>>> {
        let mut out: std::collections::HashMap<i64, Vec<NoteView>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows = note::Entity::find()
            .filter(note::Column::OpinionId.is_in(ids.iter().copied()))
            .order_by_asc(note::Column::Id)
            .all(self.db())
            .await?;
        for n in rows {
            out.entry(n.opinion_id).or_default().push(NoteView {
                id: n.id,
                author: n.author,
                text: n.text,
                at: n.created_at,
            });
        }
        Ok(out)
    }

    /// One opinion with its tags and notes.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn opinion(&self, id: i64) -> Result<OpinionView> {
        let o = opinion::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        let receipt =
            response::Entity::find_by_id(o.response_id).one(self.db()).await?.map(|r| r.receipt).unwrap_or_default();
        let tags = tags_of(self.db(), id).await?;
        let notes = note::Entity::find()
            .filter(note::Column::OpinionId.eq(id))
            .order_by_asc(note::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|n| NoteView { id: n.id, author: n.author, text: n.text, at: n.created_at })
            .collect();
        Ok(OpinionView {
            id: o.id,
            response_id: o.response_id,
            receipt,
            form_slug: o.form_slug,
            question_id: o.question_id,
            unit_code: o.unit_code,
            category_code: o.category_code,
            text: o.text,
            fingerprint: o.fingerprint,
            state: parse_state(&o.state)?,
            representative: o.representative,
            submitted_at: o.submitted_at,
            tags,
            notes,
        })
    }

    /// Replaces an opinion's tag set. Tags already present keep their original source; new ones get
    /// `source_of(area)`. Moves the state between 待归类 and 已归类 as the set empties or fills.
    /// Returns the areas before and after.
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion; `Conflict` when double coding settled its tags and `actor` is not
    /// the adjudicator.
    pub async fn set_tags(
        &self,
        opinion_id: i64,
        areas: &[AreaCode],
        source_of: impl Fn(AreaCode) -> TagSource,
        actor: &Actor,
    ) -> Result<(Vec<AreaCode>, Vec<AreaCode>)> {
        self.change_tags(opinion_id, None, areas, source_of, actor).await
    }

    /// Replaces the tags only while they are still `seen`, what the analyst's card showed: a save from a
    /// card shown before someone else's change is refused ([`StoreError::EditedMeanwhile`]), not laid over it.
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion; `EditedMeanwhile` when its tags are no longer `seen`; `Conflict`
    /// as for [`Store::set_tags`].
    pub async fn set_tags_if_unchanged(
        &self,
        opinion_id: i64,
        seen: &[AreaCode],
        areas: &[AreaCode],
        source_of: impl Fn(AreaCode) -> TagSource,
        actor: &Actor,
    ) -> Result<(Vec<AreaCode>, Vec<AreaCode>)> {
        self.change_tags(opinion_id, Some(seen), areas, source_of, actor).await
    }

    /// An analyst's change of an opinion's tags in a transaction of its own: refused when double coding
    /// settled them, unless the analyst is the adjudicator.
    async fn change_tags(
        &self,
        opinion_id: i64,
        seen: Option<&[AreaCode]>,
        areas: &[AreaCode],
        source_of: impl Fn(AreaCode) -> TagSource,
        actor: &Actor,
    ) -> Result<(Vec<AreaCode>, Vec<AreaCode>)> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            opinion_locked(txn, opinion_id).await?;
            super::double_coding::refuse_if_settled_in(txn, opinion_id, actor).await?;
            replace_tags_in(txn, opinion_id, seen, areas, source_of, actor).await
        }
        .await;
        w.finish(done).await
    }

    /// Sets an opinion's state (需核实, 无效, or back to 待归类/已归类 by its tags).
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion.
    pub async fn set_state(&self, opinion_id: i64, state: OpinionState, actor: &Actor) -> Result<OpinionState> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let o = opinion_locked(txn, opinion_id).await?;
            super::double_coding::refuse_state_change_in(txn, opinion_id, actor).await?;
            let before = parse_state(&o.state)?;
            let state = match state {
                OpinionState::Pending | OpinionState::Tagged => {
                    OpinionState::Pending.after_tags(tags_of(txn, opinion_id).await?.len())
                }
                other => other,
            };
            if state != before {
                let mut a: opinion::ActiveModel = o.into();
                a.state = Set(state.as_str().to_owned());
                a.updated_at = Set(now_ms());
                a.update(txn).await?;
                append_in(
                    txn,
                    actor,
                    "state_changed",
                    &format!("opinion:{opinion_id}"),
                    Some(before.as_str().into()),
                    Some(state.as_str().into()),
                )
                .await?;
            }
            Ok::<_, StoreError>(state)
        }
        .await;
        w.finish(done).await
    }

    /// Marks or unmarks an opinion as a representative quote (典型意见).
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion; `Conflict` while it is double coded, to all but its adjudicator.
    pub async fn set_representative(&self, opinion_id: i64, representative: bool, actor: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let o = opinion_locked(txn, opinion_id).await?;
            super::double_coding::refuse_remark_in(txn, opinion_id, actor).await?;
            if o.representative != representative {
                let before = o.representative;
                let mut a: opinion::ActiveModel = o.into();
                a.representative = Set(representative);
                a.updated_at = Set(now_ms());
                a.update(txn).await?;
                append_in(
                    txn,
                    actor,
                    "representative_changed",
                    &format!("opinion:{opinion_id}"),
                    Some(before.to_string()),
                    Some(representative.to_string()),
                )
                .await?;
            }
            Ok::<_, StoreError>(())
        }
        .await;
        w.finish(done).await
    }

    /// Adds a note to an opinion.
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion; `Conflict` while it is double coded, to all but its adjudicator.
    pub async fn add_note(&self, opinion_id: i64, text: &str, actor: &Actor) -> Result<NoteView> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Held: a first coding landing meanwhile makes it double coded before the note is judged.
            opinion_locked(txn, opinion_id).await?;
            super::double_coding::refuse_remark_in(txn, opinion_id, actor).await?;
            let n = note::ActiveModel {
                opinion_id: Set(opinion_id),
                user_id: Set(actor.id),
                author: Set(actor.name.clone()),
                text: Set(text.to_owned()),
                created_at: Set(now_ms()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            // The audit log records that a note was written, not what it says.
            append_in(txn, actor, "note_added", &format!("opinion:{opinion_id}"), None, Some(format!("note:{}", n.id)))
                .await?;
            Ok::<_, StoreError>(NoteView { id: n.id, author: n.author, text: n.text, at: n.created_at })
        }
        .await;
        w.finish(done).await
    }

    /// The ids of a response's opinions, in question order of storage.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn opinion_ids_of_response(&self, response_id: i64) -> Result<Vec<i64>> {
        Ok(opinion::Entity::find()
            .filter(opinion::Column::ResponseId.eq(response_id))
            .order_by_asc(opinion::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|o| o.id)
            .collect())
    }
}
