//! 问题清单 in the database: problems, the opinions linked to them, and their support. Every change is
//! written with its audit entry in one transaction.

use super::audit::{Actor, append_in};
use super::entities::{measure, opinion, problem, problem_opinion};
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::problem::{CauseType, Problem, ProblemDraft, Support, areas_from_string, areas_to_string};
use sea_orm::Value;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};

/// Why an analyst's edit of a problem with a published measure is refused.
pub const PUBLISHED_PROBLEM_NOT_FOR_DRAFTERS: &str =
    "这个问题已有公开的整改措施，群众能在整改公开页看到它的文字，只能由领导或管理员修改。";

/// What linking opinions to a problem did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linked {
    /// Opinions found among the ids given.
    pub found: usize,
    /// Of those, the ones not linked to it before.
    pub newly: usize,
}

fn to_problem(m: problem::Model) -> Problem {
    Problem {
        id: m.id,
        draft: ProblemDraft {
            title: m.title,
            areas: areas_from_string(&m.areas),
            description: m.description,
            root_cause: m.root_cause,
            cause_type: m.cause_type.as_deref().and_then(CauseType::parse),
        },
        created_by: m.created_by,
        version: m.updated_at,
    }
}

/// What the audit log keeps of a problem: its title and areas (the analysis text can be long).
fn audit_text(d: &ProblemDraft) -> String {
    format!("{} [{}]", d.title, areas_to_string(&d.areas))
}

/// What the audit log keeps of a problem merged away: everything, since the problem itself is deleted.
fn merged_text(d: &ProblemDraft, opinions: &str) -> String {
    let cause = d.cause_type.map_or("", |c| c.label());
    format!(
        "{}\n问题描述：{}\n剖析根源与原因：{}\n原因类型：{cause}\n意见：{opinions}",
        audit_text(d),
        d.description,
        d.root_cause
    )
}

impl Store {
    /// Creates a problem; returns its id.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn create_problem(&self, actor: &Actor, d: &ProblemDraft) -> Result<i64> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let now = now_ms();
            let m = problem::ActiveModel {
                title: Set(d.title.clone()),
                areas: Set(areas_to_string(&d.areas)),
                description: Set(d.description.clone()),
                root_cause: Set(d.root_cause.clone()),
                cause_type: Set(d.cause_type.map(|c| c.as_str().to_owned())),
                created_by: Set(actor.name.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            append_in(txn, actor, "problem_created", &format!("problem:{}", m.id), None, Some(audit_text(d))).await?;
            Ok::<_, StoreError>(m.id)
        }
        .await;
        w.finish(done).await
    }

    /// Replaces a problem's fields. With `drafts_only` (an analyst), a problem with a published measure is
    /// not changed: citizens read its text on /gongkai, and published text is its publishers' to change.
    ///
    /// # Errors
    /// `NotFound` for an unknown problem; `Conflict` when `drafts_only` and a measure of it is published.
    pub async fn update_problem(
        &self,
        actor: &Actor,
        id: i64,
        d: &ProblemDraft,
        seen: Option<i64>,
        drafts_only: bool,
    ) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let before =
                problem::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            if seen.is_some_and(|v| v != before.updated_at) {
                return Err(StoreError::EditedMeanwhile);
            }
            if drafts_only {
                let published = measure::Entity::find()
                    .filter(measure::Column::ProblemId.eq(id))
                    .filter(measure::Column::PublishedAt.is_not_null())
                    .count(txn)
                    .await?;
                if published > 0 {
                    return Err(StoreError::Conflict(PUBLISHED_PROBLEM_NOT_FOR_DRAFTERS.into()));
                }
            }
            let version = super::next_version(before.updated_at);
            let before_text = audit_text(&to_problem(before.clone()).draft);
            let mut m: problem::ActiveModel = before.into();
            m.title = Set(d.title.clone());
            m.areas = Set(areas_to_string(&d.areas));
            m.description = Set(d.description.clone());
            m.root_cause = Set(d.root_cause.clone());
            m.cause_type = Set(d.cause_type.map(|c| c.as_str().to_owned()));
            m.updated_at = Set(version);
            m.update(txn).await?;
            append_in(txn, actor, "problem_updated", &format!("problem:{id}"), Some(before_text), Some(audit_text(d)))
                .await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// One problem.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn problem(&self, id: i64) -> Result<Problem> {
        problem::Entity::find_by_id(id).one(self.db()).await?.map(to_problem).ok_or(StoreError::NotFound)
    }

    /// Every problem, oldest first.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn problems(&self) -> Result<Vec<Problem>> {
        let rows = problem::Entity::find().order_by_asc(problem::Column::Id).all(self.db()).await?;
        Ok(rows.into_iter().map(to_problem).collect())
    }

    /// Links opinions to a problem (already linked ones stay as they are, unknown ids are ignored);
    /// audited with the opinions it newly linked, when there are any.
    ///
    /// # Errors
    /// `NotFound` for an unknown problem (none of `ids` an opinion: `found` 0, nothing stored); `Conflict`
    /// when one of them is being double coded and `actor` is not its adjudicator (nothing stored).
    pub async fn link_opinions(&self, actor: &Actor, problem_id: i64, ids: &[i64]) -> Result<Linked> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Held shared: a merge deleting this problem meanwhile is waited for, then read as gone.
            problem::Entity::find_by_id(problem_id).lock_shared().one(txn).await?.ok_or(StoreError::NotFound)?;
            let mut found: Vec<i64> = Vec::new();
            for chunk in ids.chunks(500) {
                let rows = opinion::Entity::find().filter(opinion::Column::Id.is_in(chunk.to_vec())).all(txn).await?;
                found.extend(rows.into_iter().map(|o| o.id));
            }
            found.sort_unstable();
            found.dedup();
            super::double_coding::refuse_links_while_coded_in(txn, &found, actor).await?;
            let now = now_ms();
            // Only the rows inserted come back, so a link already made (by this post sent twice at once,
            // too) is not audited again.
            let mut newly: Vec<i64> = Vec::new();
            for chunk in found.chunks(500) {
                let mut sql = Sql::new(txn.get_database_backend());
                sql.push("INSERT INTO problem_opinions (problem_id, opinion_id, linked_at) VALUES ")
                    .bind_rows(chunk.iter().map(|id| [Value::from(problem_id), Value::from(*id), Value::from(now)]))
                    .push(" ON CONFLICT (problem_id, opinion_id) DO NOTHING RETURNING opinion_id");
                for row in txn.query_all_raw(sql.into_statement()).await? {
                    newly.push(row.try_get_by_index(0)?);
                }
            }
            newly.sort_unstable();
            let linked = Linked { found: found.len(), newly: newly.len() };
            if newly.is_empty() {
                return Ok(linked);
            }
            let list = newly.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            append_in(
                txn,
                actor,
                "problem_linked",
                &format!("problem:{problem_id}"),
                None,
                Some(format!("opinions:{list}")),
            )
            .await?;
            Ok(linked)
        }
        .await;
        w.finish(done).await
    }

    /// Unlinks one opinion from a problem.
    ///
    /// # Errors
    /// `NotFound` when the problem is gone (merged away meanwhile) or the opinion is not linked to it (never
    /// linked, or unlinked meanwhile): nothing is audited then.
    pub async fn unlink_opinion(&self, actor: &Actor, problem_id: i64, opinion_id: i64) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Held shared, as a link holds it: a merge carrying this problem's opinions away is waited for.
            problem::Entity::find_by_id(problem_id).lock_shared().one(txn).await?.ok_or(StoreError::NotFound)?;
            let deleted = problem_opinion::Entity::delete_many()
                .filter(problem_opinion::Column::ProblemId.eq(problem_id))
                .filter(problem_opinion::Column::OpinionId.eq(opinion_id))
                .exec(txn)
                .await?;
            if deleted.rows_affected == 0 {
                return Err(StoreError::NotFound);
            }
            append_in(
                txn,
                actor,
                "problem_unlinked",
                &format!("problem:{problem_id}"),
                Some(format!("opinion:{opinion_id}")),
                None,
            )
            .await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Merges problem `from` into `into`: `from`'s opinions are linked to `into` (those already there stay
    /// as they were) and `from` is deleted, audited with the opinions it had. Returns how many opinions
    /// `into` gained.
    ///
    /// # Errors
    /// `NotFound` when either problem is gone; `Conflict` when `from` has measures: the rectification
    /// register (and /gongkai) would change under citizens holding the bureau to it.
    pub async fn merge_problem(&self, actor: &Actor, from: i64, into: i64) -> Result<usize> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Both rows held, lower id first, so two merges of the same pair wait instead of deadlocking;
            // a link or a measure added meanwhile to `from` holds its row shared and is waited for.
            let (first, second) = (from.min(into), from.max(into));
            let a = problem::Entity::find_by_id(first).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            let b = problem::Entity::find_by_id(second).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            let gone = if a.id == from { a } else { b };
            let measures = measure::Entity::find().filter(measure::Column::ProblemId.eq(from)).count(txn).await?;
            if measures > 0 {
                return Err(StoreError::Conflict(format!(
                    "问题 {from} 已有 {measures} 项整改措施，合并会改变整改台账，不能合并；请把另一个问题合并到它。"
                )));
            }
            let opinions: Vec<i64> = problem_opinion::Entity::find()
                .filter(problem_opinion::Column::ProblemId.eq(from))
                .order_by_asc(problem_opinion::Column::OpinionId)
                .all(txn)
                .await?
                .into_iter()
                .map(|l| l.opinion_id)
                .collect();
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push("INSERT INTO problem_opinions (problem_id, opinion_id, linked_at) SELECT ")
                .bind(into)
                .push(", opinion_id, linked_at FROM problem_opinions WHERE problem_id = ")
                .bind(from)
                .push(" ON CONFLICT (problem_id, opinion_id) DO NOTHING");
            let gained = txn.execute_raw(sql.into_statement()).await?.rows_affected();
            // Its links go with it (ON DELETE CASCADE).
            problem::Entity::delete_by_id(from).exec(txn).await?;
            let list = opinions.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            append_in(
                txn,
                actor,
                "problem_merged",
                &format!("problem:{from}"),
                Some(merged_text(&to_problem(gone).draft, &list)),
                Some(format!("problem:{into}")),
            )
            .await?;
            Ok::<_, StoreError>(usize::try_from(gained).unwrap_or(usize::MAX))
        }
        .await;
        w.finish(done).await
    }

    /// Every problem's support: opinions, distinct responses, distinct responses per unit and the forms they
    /// came from. Invalid opinions do not count. With `until_ms` (leaders and the public), only responses
    /// released to leaders by it, and none from a form with fewer than `k` such responses (which no leader-facing view
    /// counts).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn problem_support(
        &self,
        only: Option<i64>,
        k: u64,
        until_ms: Option<i64>,
    ) -> Result<BTreeMap<i64, Support>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT p.problem_id AS problem_id, o.response_id AS response_id, o.unit_code AS unit_code, \
             o.form_slug AS form_slug FROM problem_opinions p JOIN opinions o ON o.id = p.opinion_id \
             WHERE o.state <> 'invalid'",
        );
        only_problem(&mut sql, only);
        if let Some(ms) = until_ms {
            sql.push(" AND o.released_at <= ").bind(ms);
            forms_of_k_or_more(&mut sql, k, Some(ms));
        }
        let mut out: BTreeMap<i64, Support> = BTreeMap::new();
        let mut seen: BTreeSet<(i64, i64)> = BTreeSet::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            let p: i64 = r.try_get("", "problem_id")?;
            let resp: i64 = r.try_get("", "response_id")?;
            let unit: Option<String> = r.try_get("", "unit_code")?;
            let form: String = r.try_get("", "form_slug")?;
            let s = out.entry(p).or_default();
            s.opinions += 1;
            if seen.insert((p, resp)) {
                s.responses += 1;
                *s.by_unit_form.entry((unit, form)).or_default() += 1;
            }
        }
        Ok(out)
    }

    /// Up to `n` quotes per problem: representative opinions first, then in text order (not the order they
    /// came in); never one from a form with fewer than `k` responses, whose opinions no leader-facing view
    /// shows. With `until_ms` (leaders and the public), only opinions released to leaders by it.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn problem_quotes(
        &self,
        only: Option<i64>,
        n: usize,
        k: u64,
        until_ms: Option<i64>,
    ) -> Result<BTreeMap<i64, Vec<String>>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT p.problem_id AS problem_id, o.representative AS rep, o.text AS text FROM problem_opinions p \
             JOIN opinions o ON o.id = p.opinion_id WHERE o.state <> 'invalid'",
        );
        only_problem(&mut sql, only);
        if let Some(ms) = until_ms {
            sql.push(" AND o.released_at <= ").bind(ms);
        }
        forms_of_k_or_more(&mut sql, k, until_ms);
        // Sorted here, not by the database's collation (which may be pinyin on PostgreSQL).
        let mut linked: BTreeMap<i64, Vec<(bool, String)>> = BTreeMap::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            linked
                .entry(r.try_get("", "problem_id")?)
                .or_default()
                .push((r.try_get("", "rep")?, r.try_get("", "text")?));
        }
        Ok(linked
            .into_iter()
            .map(|(p, mut quotes)| {
                quotes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
                (p, crate::domain::problem::distinct_quotes(quotes.into_iter().map(|(_, text)| text), n))
            })
            .collect())
    }

    /// The opinions linked to a problem after opinion `after`, by id, at most `n` of them, each with the
    /// first 41 characters of its text; and how many are linked in all.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn problem_opinions_page(
        &self,
        problem_id: i64,
        after: i64,
        n: u64,
    ) -> Result<(Vec<(i64, String)>, u64)> {
        let backend = self.db().get_database_backend();
        let mut sql = Sql::new(backend);
        sql.push(
            "SELECT p.opinion_id AS id, SUBSTR(o.text, 1, 41) AS snippet FROM problem_opinions p \
             JOIN opinions o ON o.id = p.opinion_id WHERE p.problem_id = ",
        )
        .bind(problem_id)
        .push(" AND p.opinion_id > ")
        .bind(after)
        .push(" ORDER BY p.opinion_id LIMIT ")
        .bind(i64::try_from(n).unwrap_or(i64::MAX));
        let mut rows = Vec::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            rows.push((r.try_get("", "id")?, r.try_get("", "snippet")?));
        }
        let total = problem_opinion::Entity::find()
            .filter(problem_opinion::Column::ProblemId.eq(problem_id))
            .count(self.db())
            .await?;
        Ok((rows, total))
    }

    /// The ids of the opinions linked to a problem, oldest link first.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn problem_opinion_ids(&self, problem_id: i64) -> Result<Vec<i64>> {
        Ok(problem_opinion::Entity::find()
            .filter(problem_opinion::Column::ProblemId.eq(problem_id))
            .order_by_asc(problem_opinion::Column::OpinionId)
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| m.opinion_id)
            .collect())
    }
}

/// `AND p.problem_id = only`, when only one problem is wanted.
fn only_problem(sql: &mut Sql, only: Option<i64>) {
    if let Some(id) = only {
        sql.push(" AND p.problem_id = ").bind(id);
    }
}

/// `AND o.form_slug IN (forms with at least k responses [released to leaders by until])`.
fn forms_of_k_or_more(sql: &mut Sql, k: u64, until_ms: Option<i64>) {
    sql.push(" AND o.form_slug IN (SELECT form_slug FROM responses");
    if let Some(ms) = until_ms {
        sql.push(" WHERE released_at <= ").bind(ms);
    }
    sql.push(" GROUP BY form_slug HAVING COUNT(*) >= ").bind(i64::try_from(k).unwrap_or(i64::MAX)).push(")");
}
