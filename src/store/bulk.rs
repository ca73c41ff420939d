//! Tagging many opinions at once (bulk add/remove of one area), undoing a tag change, the words analysts
//! add to areas, and the counts on the leaders' dashboard. Every change is audited in its transaction.

use super::audit::{Actor, append_in, entry};
use super::entities::{audit, keyword, opinion, tag};
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::area::AreaCode;
use crate::domain::tagging::{OpinionState, TagSource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

/// Rows per statement in bulk work (well under SQLite's variable limit).
const CHUNK: usize = 400;

fn areas_text(areas: &[AreaCode]) -> String {
    areas.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Parses `"1,3"` (the audit log's form of an area list).
fn parse_areas(s: &str) -> Result<Vec<AreaCode>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let n: i64 = p.trim().parse().map_err(|_| StoreError::Corrupt(format!("area list {s}")))?;
            AreaCode::try_from(n).map_err(StoreError::Corrupt)
        })
        .collect()
}

async fn areas_in<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<HashMap<i64, Vec<AreaCode>>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT opinion_id, area_code FROM tag_assignments WHERE opinion_id IN ")
        .bind_list(ids)
        .push(" ORDER BY opinion_id, area_code");
    let mut map: HashMap<i64, Vec<AreaCode>> = HashMap::new();
    for r in db.query_all_raw(sql.statement()).await? {
        let a = AreaCode::try_from(i64::from(r.try_get::<i16>("", "area_code")?)).map_err(StoreError::Corrupt)?;
        map.entry(r.try_get::<i64>("", "opinion_id")?).or_default().push(a);
    }
    Ok(map)
}

impl Store {
    /// Adds (`add`) or removes one area on every opinion in `ids`; added tags are recorded as bulk.
    /// Opinions that already have (or lack) the area are left alone. Returns how many changed, and the
    /// change's stamp (its audit entries' time) for [`Store::undo_bulk_tags`].
    ///
    /// # Errors
    /// On a database failure (nothing is changed then).
    pub async fn bulk_tags(&self, ids: &[i64], area: AreaCode, add: bool, actor: &Actor) -> Result<(u64, i64)> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let now = now_ms();
            let code = i16::from(area.get());
            let mut changed = 0u64;
            // Two bulk changes of the same opinions at once (two servers on PostgreSQL): the second waits
            // for the first's rows and then reads its tags, so each change is audited once, as whoever made it.
            hold_opinions(txn, ids).await?;
            for chunk in ids.chunks(CHUNK) {
                let existing = areas_in(txn, chunk).await?;
                let mut entries = Vec::new();
                let mut affected = Vec::new();
                for id in chunk {
                    let before = existing.get(id).cloned().unwrap_or_default();
                    let has = before.contains(&area);
                    if has == add {
                        continue;
                    }
                    let mut after: Vec<AreaCode> = before.iter().copied().filter(|a| *a != area).collect();
                    if add {
                        after.push(area);
                        after.sort();
                    }
                    affected.push(*id);
                    let (before, after) = (Some(areas_text(&before)), Some(areas_text(&after)));
                    entries.push(entry(now, actor, "tags_changed_bulk", &format!("opinion:{id}"), before, after));
                }
                if affected.is_empty() {
                    continue;
                }
                let mut state = Sql::new(txn.get_database_backend());
                if add {
                    let rows: Vec<tag::ActiveModel> = affected
                        .iter()
                        .map(|id| tag::ActiveModel {
                            opinion_id: Set(*id),
                            area_code: Set(code),
                            source: Set(TagSource::Bulk.as_str().to_owned()),
                            user_id: Set(actor.id),
                            created_at: Set(now),
                        })
                        .collect();
                    tag::Entity::insert_many(rows)
                        .on_conflict(super::opinions::tag_exists())
                        .exec_without_returning(txn)
                        .await?;
                    state
                        .push("UPDATE opinions SET state = 'tagged', updated_at = ")
                        .bind(now)
                        .push(" WHERE state = 'pending' AND id IN ")
                        .bind_list(&affected);
                } else {
                    tag::Entity::delete_many()
                        .filter(tag::Column::AreaCode.eq(code))
                        .filter(tag::Column::OpinionId.is_in(affected.clone()))
                        .exec(txn)
                        .await?;
                    state
                        .push("UPDATE opinions SET state = 'pending', updated_at = ")
                        .bind(now)
                        .push(" WHERE state = 'tagged' AND id IN ")
                        .bind_list(&affected)
                        .push(" AND NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = opinions.id)");
                }
                txn.execute_raw(state.statement()).await?;
                audit::Entity::insert_many(entries).exec_without_returning(txn).await?;
                changed += affected.len() as u64;
            }
            Ok::<_, StoreError>((changed, now))
        }
        .await;
        w.finish(done).await
    }

    /// Undoes `actor`'s bulk change stamped `at`: each opinion it changed goes back to its areas before,
    /// where they are still what the change left; one changed since is left as it is. Areas the analysts
    /// had before the change are never touched (removing the area again in bulk took theirs too).
    /// Returns how many opinions went back and how many were left.
    ///
    /// Set-based, a few statements per 400 opinions like the change itself: undoing opinion by opinion held
    /// 10,000 of them for 36 s, and every other write waited behind it.
    ///
    /// # Errors
    /// On a database failure (nothing is changed then).
    pub async fn undo_bulk_tags(&self, at: i64, actor: &Actor) -> Result<(u64, u64)> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let entries = audit::Entity::find()
                .filter(audit::Column::Action.eq("tags_changed_bulk"))
                .filter(audit::Column::At.eq(at))
                .filter(audit::Column::ActorId.eq(actor.id))
                .order_by_asc(audit::Column::Id)
                .all(txn)
                .await?;
            let targets: Vec<i64> = entries
                .iter()
                .map(|e| {
                    e.target
                        .strip_prefix("opinion:")
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| StoreError::Corrupt(format!("audit target {}", e.target)))
                })
                .collect::<Result<_>>()?;
            let states = hold_opinions(txn, &targets).await?;
            let last = last_tag_changes(txn, &entries).await?;
            let now = now_ms();
            let (mut undone, mut left) = (0u64, 0u64);
            for (entries, ids) in entries.chunks(CHUNK).zip(targets.chunks(CHUNK)) {
                let current = areas_in(txn, ids).await?;
                // Coded since (double coding began after the change): their codings decide their areas now.
                let coded = super::double_coding::coded_among_in(txn, ids).await?;
                let mut undo = ChunkUndo::default();
                for (e, id) in entries.iter().zip(ids) {
                    let before = parse_areas(e.before.as_deref().unwrap_or_default())?;
                    let after = parse_areas(e.after.as_deref().unwrap_or_default())?;
                    // Anyone's later change, even one that put the same areas back, stays: it is theirs.
                    let mut left_by_change = after.clone();
                    left_by_change.sort();
                    let unchanged = current.get(id).map_or(after.is_empty(), |now| *now == left_by_change);
                    let ours = last.get(&e.target) == Some(&e.id) && unchanged && !coded.contains(id);
                    let Some(state) = states.get(id).filter(|_| ours) else {
                        left += 1;
                        continue;
                    };
                    undo.opinion(*id, &before, &after, super::opinions::parse_state(state)?);
                    let (back_from, back_to) = (Some(areas_text(&after)), Some(areas_text(&before)));
                    undo.audit.push(entry(now, actor, "tags_changed", &e.target, back_from, back_to));
                    undone += 1;
                }
                undo.apply(txn, actor, now).await?;
            }
            Ok::<_, StoreError>((undone, left))
        }
        .await;
        w.finish(done).await
    }

    /// Undoes `actor`'s last tag change on an opinion: restores the areas it had before (re-added areas
    /// count as typed). Undoing twice redoes. Returns the areas now on the opinion, or `None` when nothing
    /// was ever changed. Someone else's later change is never undone: the undo is refused, naming them.
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion; `Conflict` when the last change is someone else's;
    /// `EditedMeanwhile` when one lands while this undo runs.
    pub async fn undo_tags(&self, opinion_id: i64, actor: &Actor) -> Result<Option<Vec<AreaCode>>> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            hold_opinions(txn, &[opinion_id]).await?;
            super::double_coding::refuse_undo_while_coded_in(txn, opinion_id).await?;
            let Some(last) = last_tag_change(txn, opinion_id).await? else { return Ok(None) };
            super::double_coding::refuse_if_settled_in(txn, opinion_id, actor).await?;
            super::double_coding::refuse_undoing_a_decision_in(txn, opinion_id, last.id).await?;
            if last.actor_id != actor.id {
                return Err(StoreError::Conflict(format!(
                    "没有撤销：这条意见最后一次归类是 {} 改的，撤销会抹掉这次修改。请核对后直接修改领域。",
                    last.actor_name
                )));
            }
            let before = parse_areas(last.before.as_deref().unwrap_or_default())?;
            let left = parse_areas(last.after.as_deref().unwrap_or_default())?;
            let (_, after) =
                super::opinions::replace_tags_in(txn, opinion_id, Some(&left), &before, |_| TagSource::Typed, actor)
                    .await?;
            Ok(Some(after))
        }
        .await;
        w.finish(done).await
    }

    /// Words analysts added to areas, for suggestions.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn area_keywords(&self) -> Result<Vec<(AreaCode, String)>> {
        keyword::Entity::find()
            .order_by_asc(keyword::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|k| Ok((AreaCode::try_from(i64::from(k.area_code)).map_err(StoreError::Corrupt)?, k.word)))
            .collect()
    }

    /// Adds a suggestion word to an area.
    ///
    /// # Errors
    /// `Conflict` when the area already has the word.
    pub async fn add_area_keyword(&self, area: AreaCode, word: &str, actor: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let exists = keyword::Entity::find()
                .filter(keyword::Column::AreaCode.eq(i16::from(area.get())))
                .filter(keyword::Column::Word.eq(word))
                .one(txn)
                .await?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!("该领域已有关键词“{word}”")));
            }
            keyword::ActiveModel {
                area_code: Set(i16::from(area.get())),
                word: Set(word.to_owned()),
                added_by: Set(actor.name.clone()),
                created_at: Set(now_ms()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            append_in(txn, actor, "keyword_added", &format!("area:{area}"), None, Some(word.to_owned())).await?;
            Ok::<_, StoreError>(())
        }
        .await;
        w.finish(done).await
    }

    /// Tags per area, counting only opinions not marked invalid; index = area code − 1.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn area_counts(&self) -> Result<[u64; 8]> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT t.area_code, COUNT(*) AS n FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id \
             WHERE o.state <> 'invalid' GROUP BY t.area_code",
        );
        let mut out = [0u64; 8];
        for r in self.db().query_all_raw(sql.statement()).await? {
            let a = AreaCode::try_from(i64::from(r.try_get::<i16>("", "area_code")?)).map_err(StoreError::Corrupt)?;
            out[a.index()] = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
        }
        Ok(out)
    }

    /// Opinions per unit (`by_unit`) or per respondent category, largest first; `None` = not given.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn opinion_counts_by(&self, by_unit: bool) -> Result<Vec<(Option<String>, u64)>> {
        let col = if by_unit { "unit_code" } else { "category_code" };
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(&format!("SELECT {col} AS k, COUNT(*) AS n FROM opinions GROUP BY {col} ORDER BY n DESC, k"));
        self.db()
            .query_all_raw(sql.statement())
            .await?
            .iter()
            .map(|r| {
                Ok((r.try_get::<Option<String>>("", "k")?, u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0)))
            })
            .collect()
    }
}

/// The last tag change on an opinion, read with the opinion's row held to COMMIT (PostgreSQL; SQLite's
/// writer is one at a time), so no change lands between this read and the undo that follows it.
///
/// # Errors
/// `NotFound` for an unknown opinion.
async fn last_tag_change<C: ConnectionTrait>(txn: &C, opinion_id: i64) -> Result<Option<audit::Model>> {
    super::opinions::opinion_locked(txn, opinion_id).await?;
    Ok(audit::Entity::find()
        .filter(audit::Column::Target.eq(format!("opinion:{opinion_id}")))
        .filter(audit::Column::Action.is_in(["tags_changed", "tags_changed_bulk"]))
        .order_by_desc(audit::Column::Id)
        .one(txn)
        .await?)
}

/// Holds the rows of `ids` to COMMIT (PostgreSQL; SQLite's writer is one at a time), all before any is
/// changed and in id order: a change of many opinions that locked them one by one, holding the counters
/// its first changes had taken, deadlocked with a save of one of them. Gives each held opinion's state.
async fn hold_opinions<C: ConnectionTrait>(txn: &C, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut states = HashMap::with_capacity(sorted.len());
    for chunk in sorted.chunks(CHUNK) {
        let held = opinion::Entity::find()
            .select_only()
            .column(opinion::Column::Id)
            .column(opinion::Column::State)
            .filter(opinion::Column::Id.is_in(chunk.iter().copied()))
            .order_by_asc(opinion::Column::Id)
            .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
            .into_tuple::<(i64, String)>()
            .all(txn)
            .await?;
        states.extend(held);
    }
    Ok(states)
}

/// What undoing one chunk of a bulk change does, gathered first and then written in a few statements.
#[derive(Default)]
struct ChunkUndo {
    /// Opinions to take each area off.
    remove: HashMap<AreaCode, Vec<i64>>,
    /// Areas put back, as typed by whoever undoes.
    restore: Vec<(i64, AreaCode)>,
    /// Opinions by the state they end in.
    states: HashMap<&'static str, Vec<i64>>,
    audit: Vec<audit::ActiveModel>,
}

impl ChunkUndo {
    /// Takes opinion `id` from `after` (what the bulk change left) back to `before`.
    fn opinion(&mut self, id: i64, before: &[AreaCode], after: &[AreaCode], state: OpinionState) {
        for a in after.iter().filter(|a| !before.contains(a)) {
            self.remove.entry(*a).or_default().push(id);
        }
        self.restore.extend(before.iter().filter(|a| !after.contains(a)).map(|a| (id, *a)));
        self.states.entry(state.after_tags(before.len()).as_str()).or_default().push(id);
    }

    async fn apply<C: ConnectionTrait>(self, txn: &C, actor: &Actor, now: i64) -> Result<()> {
        for (area, ids) in self.remove {
            tag::Entity::delete_many()
                .filter(tag::Column::AreaCode.eq(i16::from(area.get())))
                .filter(tag::Column::OpinionId.is_in(ids))
                .exec(txn)
                .await?;
        }
        if !self.restore.is_empty() {
            let rows = self.restore.into_iter().map(|(id, area)| tag::ActiveModel {
                opinion_id: Set(id),
                area_code: Set(i16::from(area.get())),
                source: Set(TagSource::Typed.as_str().to_owned()),
                user_id: Set(actor.id),
                created_at: Set(now),
            });
            tag::Entity::insert_many(rows)
                .on_conflict(super::opinions::tag_exists())
                .exec_without_returning(txn)
                .await?;
        }
        for (state, ids) in self.states {
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push("UPDATE opinions SET state = ")
                .bind(state)
                .push(", updated_at = ")
                .bind(now)
                .push(" WHERE id IN ")
                .bind_list(&ids);
            txn.execute_raw(sql.statement()).await?;
        }
        if !self.audit.is_empty() {
            audit::Entity::insert_many(self.audit).exec_without_returning(txn).await?;
        }
        Ok(())
    }
}

/// The id of the last tag change on each of the entries' opinions (their `opinion:N` targets), read in one
/// pass per chunk: one lookup per opinion scanned the tag changes each time, and a bulk undo took seconds.
async fn last_tag_changes<C: ConnectionTrait>(txn: &C, entries: &[audit::Model]) -> Result<HashMap<String, i64>> {
    let targets: Vec<&str> = entries.iter().map(|e| e.target.as_str()).collect();
    let mut last = HashMap::with_capacity(targets.len());
    for chunk in targets.chunks(CHUNK) {
        let mut sql = Sql::new(txn.get_database_backend());
        sql.push(
            "SELECT target, MAX(id) FROM audit_log WHERE action IN ('tags_changed', 'tags_changed_bulk') \
             AND target IN ",
        )
        .bind_tuple(chunk.iter().map(|t| sea_orm::Value::from(*t)))
        .push(" GROUP BY target");
        for row in txn.query_all_raw(sql.into_statement()).await? {
            last.insert(row.try_get_by_index::<String>(0)?, row.try_get_by_index::<i64>(1)?);
        }
    }
    Ok(last)
}
