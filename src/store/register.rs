//! 整改台账 in the database: measures, their progress, publication, and the ratings read back from the
//! built-in rating form's answers. Every change is written with its audit entry in one transaction.

use super::audit::{Actor, append_in};
use super::entities::{measure, measure_change, measure_progress, problem};
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::form::answers::Answer;
use crate::domain::rectification::{
    CitizenRating, Measure, MeasureChange, MeasureDraft, MeasureStatus, Progress, RATING_COMMENT, RATING_FORM_SLUG,
    RATING_MEASURE, RATING_VALUE, Rating, Register, bureau_today, public_changes,
};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::BTreeMap;

fn to_measure(m: measure::Model) -> Measure {
    Measure {
        id: m.id,
        problem_id: m.problem_id,
        draft: MeasureDraft {
            action: m.action,
            target: m.target,
            deadline: NaiveDate::parse_from_str(&m.deadline, "%Y-%m-%d").ok(),
            owner: m.owner,
            status: MeasureStatus::parse(&m.status).unwrap_or(MeasureStatus::NotStarted),
        },
        published_at: m.published_at,
        first_published_at: m.first_published_at,
        version: m.updated_at,
    }
}

/// What the audit log keeps of a measure: all four parts and the status.
/// Stores `d` over the locked measure `before`, with a new version and its `measure_updated` audit entry;
/// nothing when `d` is what is stored already (保存并公开 on an unchanged measure, progress on one started).
async fn rewrite_measure_in(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    before: measure::Model,
    d: &MeasureDraft,
) -> Result<()> {
    let stored = to_measure(before.clone()).draft;
    if stored == *d {
        return Ok(());
    }
    let id = before.id;
    let version = super::next_version(before.updated_at);
    // Only while citizens see it: a withdrawn measure's drafts are said, as one change, when it is republished.
    if before.published_at.is_some() {
        record_public_changes(txn, id, &stored, d).await?;
    }
    let mut m: measure::ActiveModel = before.into();
    m.action = Set(d.action.clone());
    m.target = Set(d.target.clone());
    m.deadline = Set(deadline_text(d));
    m.owner = Set(d.owner.clone());
    m.status = Set(d.status.as_str().to_owned());
    m.updated_at = Set(version);
    m.update(txn).await?;
    append_in(txn, actor, "measure_updated", &format!("measure:{id}"), Some(audit_text(&stored)), Some(audit_text(d)))
        .await?;
    Ok(())
}

/// Records what differs in the four parts between `was` (as citizens saw it) and `is`.
async fn record_public_changes(
    txn: &impl ConnectionTrait,
    id: i64,
    was: &MeasureDraft,
    is: &MeasureDraft,
) -> Result<()> {
    let now = now_ms();
    for (part, before, after) in public_changes(was, is) {
        measure_change::ActiveModel {
            measure_id: Set(id),
            changed_at: Set(now),
            part: Set(part.to_owned()),
            before: Set(before),
            after: Set(after),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(())
}

/// The four parts as kept while a measure is withdrawn.
fn parts_json(d: &MeasureDraft) -> String {
    serde_json::json!({ "action": d.action, "target": d.target, "deadline": deadline_text(d), "owner": d.owner })
        .to_string()
}

/// `current` with the four parts kept in `json` (its status stays: progress is not a change of the plan).
fn parts_from_json(json: &str, current: &MeasureDraft) -> Result<MeasureDraft> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("withdrawn_parts: {e}")))?;
    let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Ok(MeasureDraft {
        action: text("action"),
        target: text("target"),
        deadline: NaiveDate::parse_from_str(&text("deadline"), "%Y-%m-%d").ok(),
        owner: text("owner"),
        status: current.status,
    })
}

/// Why a measure with recorded progress cannot be set back to 未开始.
pub const HAS_PROGRESS: &str = "这项措施已记录整改进展，状态不能改回“未开始”，请选择“推进中”或“已完成”。";

fn audit_text(d: &MeasureDraft) -> String {
    format!(
        "措施={} | 目标={} | 时限={} | 责任={} | 状态={}",
        d.action,
        d.target,
        d.deadline.map(|d| d.to_string()).unwrap_or_default(),
        d.owner,
        d.status.label()
    )
}

fn deadline_text(d: &MeasureDraft) -> String {
    d.deadline.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

impl Store {
    /// Adds a draft measure to a problem; returns its id.
    ///
    /// # Errors
    /// `NotFound` for an unknown problem.
    pub async fn create_measure(&self, actor: &Actor, problem_id: i64, d: &MeasureDraft) -> Result<i64> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Held shared: a merge deleting this problem meanwhile is waited for, then read as gone.
            problem::Entity::find_by_id(problem_id).lock_shared().one(txn).await?.ok_or(StoreError::NotFound)?;
            let now = now_ms();
            let m = measure::ActiveModel {
                problem_id: Set(problem_id),
                action: Set(d.action.clone()),
                target: Set(d.target.clone()),
                deadline: Set(deadline_text(d)),
                owner: Set(d.owner.clone()),
                status: Set(d.status.as_str().to_owned()),
                published_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            append_in(txn, actor, "measure_created", &format!("measure:{}", m.id), None, Some(audit_text(d))).await?;
            Ok::<_, StoreError>(m.id)
        }
        .await;
        w.finish(done).await
    }

    /// One measure.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn measure(&self, id: i64) -> Result<Measure> {
        measure::Entity::find_by_id(id).one(self.db()).await?.map(to_measure).ok_or(StoreError::NotFound)
    }

    /// Replaces a measure's parts and status. A published measure must keep all four parts; with
    /// `drafts_only` (an analyst) a published one is not changed at all, decided on the row as locked
    /// here, so a publication committed a moment earlier is respected.
    ///
    /// # Errors
    /// `NotFound` for an unknown measure; `Conflict` when a published measure would lose a part, or is
    /// published and `drafts_only`.
    pub async fn update_measure(
        &self,
        actor: &Actor,
        id: i64,
        d: &MeasureDraft,
        drafts_only: bool,
        seen: Option<i64>,
    ) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let before =
                measure::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            if drafts_only && before.published_at.is_some() {
                return Err(StoreError::Conflict(PUBLISHED_NOT_FOR_DRAFTERS.into()));
            }
            if seen.is_some_and(|v| v != before.updated_at) {
                return Err(StoreError::EditedMeanwhile);
            }
            // Progress says the work has started: /gongkai would show 未开始 beside its 最新进展.
            if d.status == MeasureStatus::NotStarted
                && measure_progress::Entity::find()
                    .filter(measure_progress::Column::MeasureId.eq(id))
                    .one(txn)
                    .await?
                    .is_some()
            {
                return Err(StoreError::Conflict(HAS_PROGRESS.into()));
            }
            if before.published_at.is_some() && !d.is_publishable() {
                return Err(StoreError::Conflict(format!(
                    "已公开的整改措施必须四项齐全，缺少：{}",
                    d.missing_for_publication().join("、")
                )));
            }
            rewrite_measure_in(txn, actor, before, d).await
        }
        .await;
        w.finish(done).await
    }

    /// Publishes (`true`) or withdraws a measure. Publishing needs all four parts.
    ///
    /// # Errors
    /// `NotFound` for an unknown measure; `Conflict` naming the missing parts.
    pub async fn publish_measure(&self, actor: &Actor, id: i64, publish: bool) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let before =
                measure::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            // Already so (two leaders publishing at once): its date and audit stay the first one's.
            if before.published_at.is_some() == publish {
                return Ok(());
            }
            let draft = to_measure(before.clone()).draft;
            if publish && !draft.is_publishable() {
                return Err(StoreError::Conflict(format!(
                    "四项（措施、目标、时限、责任）齐全才能公开，缺少：{}",
                    draft.missing_for_publication().join("、")
                )));
            }
            let version = super::next_version(before.updated_at);
            let (was_public, first_published) = (before.withdrawn_parts.clone(), before.first_published_at);
            let mut m: measure::ActiveModel = before.into();
            let now = now_ms();
            m.published_at = Set(publish.then_some(now));
            if publish && first_published.is_none() {
                m.first_published_at = Set(Some(now));
            }
            // Withdrawn: what citizens last saw is kept; republished: what changed since is said, once.
            m.withdrawn_parts = Set((!publish).then(|| parts_json(&draft)));
            if publish && let Some(json) = was_public {
                record_public_changes(txn, id, &parts_from_json(&json, &draft)?, &draft).await?;
            }
            m.updated_at = Set(version);
            m.update(txn).await?;
            let action = if publish { "measure_published" } else { "measure_withdrawn" };
            append_in(txn, actor, action, &format!("measure:{id}"), None, Some(audit_text(&draft))).await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Adds a dated progress entry with its evidence.
    ///
    /// # Errors
    /// `NotFound` for an unknown measure.
    pub async fn add_progress(&self, actor: &Actor, measure_id: i64, on: NaiveDate, evidence: &str) -> Result<()> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let before =
                measure::Entity::find_by_id(measure_id).lock_exclusive().one(txn).await?.ok_or(StoreError::NotFound)?;
            let draft = to_measure(before.clone()).draft;
            let after = MeasureDraft { status: draft.status.after_progress(), ..draft };
            rewrite_measure_in(txn, actor, before, &after).await?;
            let m = measure_progress::ActiveModel {
                measure_id: Set(measure_id),
                on_date: Set(on.format("%Y-%m-%d").to_string()),
                evidence: Set(evidence.to_owned()),
                author: Set(actor.name.clone()),
                created_at: Set(now_ms()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            append_in(
                txn,
                actor,
                "measure_progress",
                &format!("measure:{measure_id}"),
                None,
                Some(format!("progress:{} {on} {evidence}", m.id)),
            )
            .await?;
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Ratings of published measures, read from the rating form's answers, in the order they came.
    /// Ratings naming an unknown or unpublished measure are left out.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn measure_ratings(&self, published: &[i64], until_ms: Option<i64>) -> Result<Vec<CitizenRating>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT a.response_id AS response_id, r.submitted_at AS submitted_at, a.question_id AS question_id, \
             a.value AS value FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.form_slug = ",
        )
        .bind(RATING_FORM_SLUG);
        if let Some(ms) = until_ms {
            sql.push(" AND r.submitted_at < ").bind(ms);
        }
        sql.push(" ORDER BY a.response_id");
        type Read = (i64, Option<i64>, Option<Rating>, String);
        let mut by_response: BTreeMap<i64, Read> = BTreeMap::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            let response: i64 = r.try_get("", "response_id")?;
            let question: String = r.try_get("", "question_id")?;
            let value: String = r.try_get("", "value")?;
            let entry = by_response.entry(response).or_default();
            entry.0 = r.try_get("", "submitted_at")?;
            match (question.as_str(), serde_json::from_str::<Answer>(&value)) {
                (RATING_MEASURE, Ok(Answer::Text(t))) => entry.1 = t.trim().parse().ok(),
                (RATING_VALUE, Ok(Answer::Choice(c))) => entry.2 = Rating::parse(&c),
                (RATING_COMMENT, Ok(Answer::Text(t))) => entry.3 = t,
                _ => {}
            }
        }
        Ok(by_response
            .into_values()
            .filter_map(|(sent, measure, rating, comment)| {
                let (Some(measure_id), Some(rating)) = (measure, rating) else { return None };
                published.contains(&measure_id).then(|| CitizenRating {
                    measure_id,
                    day: crate::domain::rectification::bureau_today(sent),
                    rating,
                    comment,
                })
            })
            .collect())
    }

    /// The whole chain at this moment (see [`Register`]); quotes only from forms with at least `k`
    /// responses (the disclosure policy's k). With `until_ms` (leaders and the public: the last midnight),
    /// support, quotes and ratings count only responses sent before it.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn register(&self, k: u64, until_ms: Option<i64>) -> Result<Register> {
        self.register_of(None, k, until_ms).await
    }

    /// [`Store::register`] with the support and quotes of problem `only` alone when given (one problem's
    /// page: a campaign's problems link tens of thousands of opinions).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn register_of(&self, only: Option<i64>, k: u64, until_ms: Option<i64>) -> Result<Register> {
        let problems = self.problems().await?;
        let support = self.problem_support(only, k, until_ms).await?;
        let quotes = self.problem_quotes(only, crate::domain::problem::QUOTES, k, until_ms).await?;
        let measures: Vec<Measure> = measure::Entity::find()
            .order_by_asc(measure::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(to_measure)
            .collect();
        let mut progress: BTreeMap<i64, Vec<Progress>> = BTreeMap::new();
        for p in measure_progress::Entity::find()
            .order_by_asc(measure_progress::Column::OnDate)
            .order_by_asc(measure_progress::Column::Id)
            .all(self.db())
            .await?
        {
            let Ok(on) = NaiveDate::parse_from_str(&p.on_date, "%Y-%m-%d") else { continue };
            progress.entry(p.measure_id).or_default().push(Progress {
                measure_id: p.measure_id,
                on,
                evidence: p.evidence,
                author: p.author,
            });
        }
        let mut changes: BTreeMap<i64, Vec<MeasureChange>> = BTreeMap::new();
        for c in measure_change::Entity::find().order_by_asc(measure_change::Column::Id).all(self.db()).await? {
            changes.entry(c.measure_id).or_default().push(MeasureChange {
                measure_id: c.measure_id,
                on: bureau_today(c.changed_at),
                part: c.part,
                before: c.before,
                after: c.after,
            });
        }
        let published: Vec<i64> = measures.iter().filter(|m| m.published_at.is_some()).map(|m| m.id).collect();
        let mut register = Register { problems, support, quotes, measures, progress, changes, ..Register::default() };
        register.set_ratings(self.measure_ratings(&published, until_ms).await?);
        Ok(register)
    }
}

/// Why an analyst may not change a published measure.
pub const PUBLISHED_NOT_FOR_DRAFTERS: &str = "已公开的整改措施只能由领导或管理员修改。";
