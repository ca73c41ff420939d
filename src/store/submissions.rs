//! Storing submissions exactly once. One writer task takes submissions from a queue and commits them in
//! batches (group commit, see `writer`): many submissions share one durable transaction, and no one is
//! answered before that transaction has committed. What a batch writes is here: a repeated submission key
//! returns the first receipt; a different body under a used key is a conflict.

mod writer;

pub(crate) use writer::Reply;
pub use writer::SubmissionWriter;

use super::direct::DirectWriter;
use super::entities::{answer, response};
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::form::FormDef;
use crate::domain::form::answers::{Answer, ValidAnswers};
use crate::domain::receipt_key::ReceiptKey;
use crate::domain::submission::{ReceiptCode, Submission};
use crate::domain::tagging::OpinionState;
use crate::domain::text::fingerprint;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value};
use std::collections::HashMap;

/// What happened to a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// Stored now.
    Stored(ReceiptCode),
    /// The same body was stored before under this key: the first receipt, nothing stored twice.
    Replayed(ReceiptCode),
    /// A different body was stored before under this key.
    KeyConflict,
}

impl SubmitOutcome {
    pub fn receipt(&self) -> Option<&ReceiptCode> {
        match self {
            SubmitOutcome::Stored(r) | SubmitOutcome::Replayed(r) => Some(r),
            SubmitOutcome::KeyConflict => None,
        }
    }
}

/// A submission made ready on the request's own task (answers serialised), so the single writer only
/// binds values: everything done here runs in parallel, everything in the writer runs in line.
pub(crate) struct Prepared {
    pub(crate) submission: Submission,
    pub(crate) version_id: i64,
    /// (question, stored JSON value) of every answer except phone numbers, which live with contacts.
    pub(crate) answers: Vec<(String, String)>,
}

impl Prepared {
    fn new(mut submission: Submission, version_id: i64) -> Prepared {
        let answers = submission
            .answers
            .0
            .iter()
            // Moved, not copied: from here on the JSON lives in `answers`.
            .zip(std::mem::take(&mut submission.answer_json))
            .filter(|((_, a), _)| !matches!(a, Answer::Phone(_)))
            .map(|((q, _), json)| (q.clone(), json))
            .collect();
        Prepared { submission, version_id, answers }
    }
}

/// Bound parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535), so a whole
/// batch goes in one multi-row INSERT per table.
const PARAMS_PER_STATEMENT: usize = 16_000;

/// A stored response read back with the definition it answered.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub id: i64,
    pub receipt: String,
    pub form: FormDef,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub submitted_at: i64,
    pub answers: ValidAnswers,
}

impl Store {
    /// Stores a batch in one transaction, answering each submission in order: on SQLite through the
    /// writer thread's own connection (`direct`), otherwise on the store's writer connection.
    async fn store_batch(&self, direct: Option<&mut DirectWriter>, subs: &[&Prepared]) -> Result<Vec<SubmitOutcome>> {
        // Stored to the minute: precise submission times could be matched against other records.
        let now = now_ms() / 60_000 * 60_000;
        if let Some(direct) = direct {
            let _turn = self.writer_turn.lock().await;
            return direct.store_batch(subs, now);
        }
        let w = self.write_txn().await?;
        let done = write_batch(w.conn(), subs, now).await;
        w.finish(done).await
    }

    /// Moves up to `limit` waiting opinions from the intake into `opinions`, in the writer's turn.
    async fn move_intake(&self, direct: &mut DirectWriter, limit: usize) -> Result<u64> {
        let _turn = self.writer_turn.lock().await;
        let started = std::time::Instant::now();
        let moved = direct.move_intake(limit);
        match &moved {
            Ok(n) => tracing::debug!(moved = n, micros = started.elapsed().as_micros(), "waiting opinions moved"),
            Err(e) => tracing::warn!(error = %e, "moving waiting opinions failed; trying again later"),
        }
        moved
    }

    /// The submission writer's own connection to the SQLite file (see `direct`); `None` on PostgreSQL,
    /// for a database in memory (which no second connection can see), or when it cannot be opened.
    ///
    /// # Errors
    /// `Conflict` when another process's writer stores submissions into the file: this one must not.
    async fn direct_writer(&self, defer_opinions_over: Option<usize>) -> Result<Option<DirectWriter>> {
        if !self.is_sqlite() {
            return Ok(None);
        }
        let rows = self.writer.query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA database_list")).await;
        let file = rows.ok().and_then(|rows| {
            rows.into_iter().find_map(|r| {
                let name = r.try_get_by_index::<String>(1).ok()?;
                let file = r.try_get_by_index::<String>(2).ok()?;
                (name == "main" && !file.is_empty()).then_some(file)
            })
        });
        let Some(file) = file else { return Ok(None) };
        let opened = self
            .receipt_key()
            .await
            .and_then(|receipts| DirectWriter::open(std::path::Path::new(&file), defer_opinions_over, receipts));
        match opened {
            Ok(w) => Ok(Some(w)),
            Err(e @ StoreError::Conflict(_)) => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "submissions go through the shared connection: the writer's own did not open");
                Ok(None)
            }
        }
    }

    /// The secret of numbered receipts, read from the database the first time.
    async fn receipt_key(&self) -> Result<ReceiptKey> {
        if let Some(k) = self.receipt_key.get() {
            return Ok(k.clone());
        }
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                self.db().get_database_backend(),
                "SELECT secret FROM receipt_key WHERE id = 1",
            ))
            .await?
            .ok_or_else(|| StoreError::Corrupt("receipt_key holds no secret".into()))?;
        let secret: String = row.try_get_by_index(0)?;
        Ok(self.receipt_key.get_or_init(|| ReceiptKey::new(secret.as_bytes())).clone())
    }

    /// Reads a response back with the exact definition version it answered.
    ///
    /// # Errors
    /// `NotFound` for an unknown receipt.
    pub async fn response_by_receipt(&self, receipt: &str) -> Result<StoredResponse> {
        let found = match self.receipt_key().await?.id(receipt) {
            // A numbered receipt: its row, if that row holds it.
            Some(id) => response::Entity::find_by_id(id).one(self.db()).await?.filter(|r| r.receipt == receipt),
            // A random one, through the index that holds only those (see migration 000023).
            None => {
                response::Entity::find()
                    .filter(response::Column::Receipt.eq(receipt))
                    .filter(Expr::cust("length(receipt) = 12"))
                    .one(self.db())
                    .await?
            }
        };
        let r = found.ok_or(StoreError::NotFound)?;
        let form = self.form_version(r.form_version_id).await?;
        let rows = answer::Entity::find().filter(answer::Column::ResponseId.eq(r.id)).all(self.db()).await?;
        let mut answers = Vec::with_capacity(rows.len());
        for a in rows {
            let v: Answer =
                serde_json::from_str(&a.value).map_err(|e| StoreError::Corrupt(format!("answer {}: {e}", a.id)))?;
            answers.push((a.question_id, v));
        }
        // Keep the order of the definition the response answered.
        answers.sort_by_key(|(q, _)| form.questions.iter().position(|d| &d.id == q));
        Ok(StoredResponse {
            id: r.id,
            receipt: r.receipt,
            form,
            unit_code: r.unit_code,
            category_code: r.category_code,
            submitted_at: r.submitted_at,
            answers: ValidAnswers(answers),
        })
    }

    /// How many responses are stored, optionally for one form.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn count_responses(&self, form_slug: Option<&str>) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        let mut q = response::Entity::find();
        if let Some(f) = form_slug {
            q = q.filter(response::Column::FormSlug.eq(f));
        }
        Ok(q.count(self.db()).await?)
    }
}

/// The statements of one batch, inside the writer's open transaction: one lookup of the keys, then one
/// multi-row INSERT per table (chunked only for very large batches). Written out by hand: this is the one
/// hot path, and building these statements through the ORM cost as much as executing them.
async fn write_batch(db: &impl ConnectionTrait, subs: &[&Prepared], now: i64) -> Result<Vec<SubmitOutcome>> {
    let backend = db.get_database_backend();
    let mut known: HashMap<String, (String, String)> = HashMap::new();
    for chunk in subs.chunks(PARAMS_PER_STATEMENT) {
        let mut sql = Sql::new(backend);
        sql.push("SELECT key_hash, receipt, body_hash FROM responses WHERE key_hash IN ")
            .bind_tuple(chunk.iter().map(|p| Value::from(p.submission.key_hash.clone())));
        for row in db.query_all_raw(sql.into_statement()).await.map_err(StoreError::classify)? {
            let text = |i: usize| row.try_get_by_index::<String>(i).map_err(|e| StoreError::Corrupt(e.to_string()));
            known.insert(text(0)?, (text(1)?, text(2)?));
        }
    }
    let mut outcomes = Vec::with_capacity(subs.len());
    let mut fresh: Vec<(&Prepared, String)> = Vec::new();
    for p in subs {
        let s = &p.submission;
        if let Some((receipt, body)) = known.get(&s.key_hash) {
            outcomes.push(if *body == s.body_hash {
                SubmitOutcome::Replayed(ReceiptCode::from_stored(receipt.clone()))
            } else {
                SubmitOutcome::KeyConflict
            });
            continue;
        }
        let receipt = ReceiptCode::from_random(rand::random());
        known.insert(s.key_hash.clone(), (receipt.to_string(), s.body_hash.clone()));
        fresh.push((p, receipt.to_string()));
        outcomes.push(SubmitOutcome::Stored(receipt));
    }
    if fresh.is_empty() {
        return Ok(outcomes);
    }
    let mut ids: HashMap<String, i64> = HashMap::with_capacity(fresh.len());
    for chunk in fresh.chunks(PARAMS_PER_STATEMENT / 10) {
        let mut sql = Sql::new(backend);
        sql.push(
            "INSERT INTO responses (form_version_id, form_slug, link_id, unit_code, category_code, receipt, \
             key_hash, body_hash, submitted_at) VALUES ",
        );
        for (i, (p, receipt)) in chunk.iter().enumerate() {
            let s = &p.submission;
            sql.push(if i == 0 { "" } else { "," }).bind_tuple([
                p.version_id.into(),
                s.form_slug.clone().into(),
                s.link_id.into(),
                s.unit_code.clone().into(),
                s.category_code.clone().into(),
                receipt.clone().into(),
                s.key_hash.clone().into(),
                s.body_hash.clone().into(),
                now.into(),
            ]);
        }
        sql.push(" RETURNING id, key_hash");
        for row in db.query_all_raw(sql.into_statement()).await.map_err(StoreError::classify)? {
            let id = row.try_get_by_index::<i64>(0).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let key = row.try_get_by_index::<String>(1).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            ids.insert(key, id);
        }
    }
    let mut rows: Vec<(i64, &Prepared)> = Vec::with_capacity(fresh.len());
    for (p, _) in &fresh {
        let id = *ids
            .get(&p.submission.key_hash)
            .ok_or_else(|| StoreError::Corrupt("inserted response has no id".into()))?;
        rows.push((id, p));
    }
    let answers: Vec<(i64, &str, &str)> =
        rows.iter().flat_map(|(id, p)| p.answers.iter().map(move |(q, v)| (*id, q.as_str(), v.as_str()))).collect();
    let contacts: Vec<(i64, &str, &str)> = rows
        .iter()
        .flat_map(|(id, p)| p.submission.contacts.iter().map(move |(q, v)| (*id, q.as_str(), v.as_str())))
        .collect();
    for (table, values) in [("answers", &answers), ("contacts", &contacts)] {
        for chunk in values.chunks(PARAMS_PER_STATEMENT / 3) {
            let mut sql = Sql::new(backend);
            sql.push("INSERT INTO ").push(table).push(" (response_id, question_id, value) VALUES ");
            for (i, (id, q, v)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "" } else { "," }).bind_tuple([(*id).into(), (*q).into(), (*v).into()]);
            }
            db.execute_raw(sql.into_statement()).await.map_err(StoreError::classify)?;
        }
    }
    let opinions: Vec<(i64, &Submission, &(String, String))> =
        rows.iter().flat_map(|(id, p)| p.submission.opinions.iter().map(move |o| (*id, &p.submission, o))).collect();
    for chunk in opinions.chunks(PARAMS_PER_STATEMENT / 10) {
        let mut sql = Sql::new(backend);
        sql.push(
            "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
             fingerprint, state, representative, submitted_at, updated_at) VALUES ",
        );
        for (i, (id, s, (q, text))) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "" } else { "," }).bind_tuple([
                (*id).into(),
                s.form_slug.clone().into(),
                q.clone().into(),
                s.unit_code.clone().into(),
                s.category_code.clone().into(),
                text.clone().into(),
                fingerprint(text).into(),
                OpinionState::Pending.as_str().into(),
                false.into(),
                now.into(),
                now.into(),
            ]);
        }
        db.execute_raw(sql.into_statement()).await.map_err(StoreError::classify)?;
    }
    Ok(outcomes)
}
