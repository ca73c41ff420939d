//! Storing submissions exactly once. One writer task takes submissions from a queue and commits them in
//! batches (group commit, see `writer`): many submissions share one durable transaction, and no one is
//! answered before that transaction has committed. What a batch writes is here: a repeated submission key
//! returns the first receipt; a different body under a used key is a conflict.

mod lite;
mod writer;

pub(crate) use lite::LiteBatches;
pub use writer::SubmissionWriter;

use super::entities::{answer, response};
use super::sql::{PARAMS_PER_STATEMENT, Sql, sized_chunks};
use super::{Result, Store, StoreError, now_ms};
use crate::domain::form::FormDef;
use crate::domain::form::answers::{Answer, ValidAnswers};
use crate::domain::submission::{ReceiptCode, Submission};
use crate::domain::tagging::OpinionState;
use crate::domain::text::fingerprint;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryResult, Statement, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What happened to a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitOutcome {
    /// Stored now.
    Stored(ReceiptCode),
    /// The same body was stored before under this key: the first receipt, nothing stored twice.
    Replayed(ReceiptCode),
    /// A different body was stored before under this key.
    KeyConflict,
    /// The link asks for a single-use code, and this one is unknown or spent: nothing stored.
    CodeRefused,
}

impl SubmitOutcome {
    pub fn receipt(&self) -> Option<&ReceiptCode> {
        match self {
            SubmitOutcome::Stored(r) | SubmitOutcome::Replayed(r) => Some(r),
            SubmitOutcome::KeyConflict | SubmitOutcome::CodeRefused => None,
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
    /// Each opinion's fingerprint, in the order of `submission.opinions`.
    pub(crate) fingerprints: Vec<String>,
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
        let fingerprints = submission.opinions.iter().map(|(_, text)| fingerprint(text)).collect();
        Prepared { submission, version_id, answers, fingerprints }
    }
}

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
    /// Stores a batch in one write transaction, answering each submission in order: on `lite`'s thread
    /// when there is one (a SQLite file), otherwise in a sea-orm transaction.
    async fn store_batch(&self, lite: Option<&LiteBatches>, subs: Vec<Arc<Prepared>>) -> Result<Vec<SubmitOutcome>> {
        // Stored to the minute: precise submission times could be matched against other records.
        let now = now_ms() / 60_000 * 60_000;
        if let Some(lite) = lite {
            // Other writes (tags, sessions) queue on the same turn rather than on SQLite's file lock.
            let _turn = self.writer_turn.lock().await;
            return lite.store(subs, now).await;
        }
        let subs: Vec<&Prepared> = subs.iter().map(|p| &**p).collect();
        let w = self.submission_txn().await?;
        let done = write_batch(w.conn(), &subs, now).await;
        w.finish(done).await
    }

    /// Reads a response back with the exact definition version it answered.
    ///
    /// # Errors
    /// `NotFound` for an unknown receipt.
    pub async fn response_by_receipt(&self, receipt: &str) -> Result<StoredResponse> {
        let found = response::Entity::find().filter(response::Column::Receipt.eq(receipt)).one(self.db()).await?;
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

/// What a batch needs of its connection. Implemented by sea-orm's transactions (PostgreSQL, in-memory
/// SQLite) and by the SQLite batch thread's rusqlite connection (`lite`): the statements are the same.
pub(crate) trait BatchDb {
    fn backend(&self) -> DbBackend;
    async fn execute(&self, stmt: Statement) -> Result<()>;
    async fn rows(&self, stmt: Statement) -> Result<Vec<Row>>;
}

/// A row a batch statement returned.
pub(crate) enum Row {
    Orm(QueryResult),
    Lite(Vec<rusqlite::types::Value>),
}

impl Row {
    fn int(&self, i: usize) -> Result<i64> {
        match self {
            Row::Orm(r) => r.try_get_by_index::<i64>(i).map_err(|e| StoreError::Corrupt(e.to_string())),
            Row::Lite(v) => match v.get(i) {
                Some(rusqlite::types::Value::Integer(n)) => Ok(*n),
                other => Err(StoreError::Corrupt(format!("column {i}: expected an integer, got {other:?}"))),
            },
        }
    }

    fn text(&self, i: usize) -> Result<String> {
        match self {
            Row::Orm(r) => r.try_get_by_index::<String>(i).map_err(|e| StoreError::Corrupt(e.to_string())),
            Row::Lite(v) => match v.get(i) {
                Some(rusqlite::types::Value::Text(s)) => Ok(s.clone()),
                other => Err(StoreError::Corrupt(format!("column {i}: expected text, got {other:?}"))),
            },
        }
    }
}

impl<C: ConnectionTrait> BatchDb for C {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    async fn execute(&self, stmt: Statement) -> Result<()> {
        self.execute_raw(stmt).await?;
        Ok(())
    }

    async fn rows(&self, stmt: Statement) -> Result<Vec<Row>> {
        Ok(self.query_all_raw(stmt).await?.into_iter().map(Row::Orm).collect())
    }
}

/// How often a batch draws new receipts for submissions whose receipt was already taken (the UNIQUE
/// constraint refused it; about one chance in 10^11 per stored response).
const RECEIPT_TRIES: usize = 4;

/// The statements of one batch, inside the writer's open transaction, a constant number per batch: one
/// multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` for the responses (the UNIQUE constraints on
/// `key_hash` and `receipt` decide what is new), one lookup of the keys it refused, then one multi-row
/// INSERT each for answers, contacts and opinions. One text for both backends (`Sql` picks placeholders).
async fn write_batch(db: &impl BatchDb, subs: &[&Prepared], now: i64) -> Result<Vec<SubmitOutcome>> {
    let mut outcomes: Vec<Option<SubmitOutcome>> = vec![None; subs.len()];
    // The first submission of each key in this batch; later ones with that key follow its outcome.
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(subs.len());
    let mut todo: Vec<usize> = Vec::with_capacity(subs.len());
    for (i, p) in subs.iter().enumerate() {
        if !first.contains_key(p.submission.key_hash.as_str()) {
            first.insert(&p.submission.key_hash, i);
            todo.push(i);
        }
    }
    // A code that cannot be spent refuses its response before anything is written: a response inserted and
    // deleted again stayed readable in the write-ahead log.
    for i in unspendable_codes(db, subs, &mut todo).await? {
        outcomes[i] = Some(SubmitOutcome::CodeRefused);
    }
    let mut ids: Vec<(i64, usize)> = Vec::with_capacity(todo.len());
    for _ in 0..RECEIPT_TRIES {
        if todo.is_empty() {
            break;
        }
        let receipts: Vec<ReceiptCode> = todo.iter().map(|_| ReceiptCode::from_random(rand::random())).collect();
        let inserted = insert_responses(db, subs, &todo, &receipts, now).await?;
        let mut refused = Vec::new();
        for (&i, receipt) in todo.iter().zip(receipts) {
            match inserted.get(subs[i].submission.key_hash.as_str()) {
                Some(&id) => {
                    ids.push((id, i));
                    outcomes[i] = Some(SubmitOutcome::Stored(receipt));
                }
                None => refused.push(i),
            }
        }
        // Refused: the key was stored before (a retry, or a conflict), or, rarely, the receipt was taken.
        let stored = stored_keys(db, refused.iter().map(|&i| subs[i].submission.key_hash.as_str())).await?;
        todo = Vec::new();
        for i in refused {
            let s = &subs[i].submission;
            match stored.get(s.key_hash.as_str()) {
                Some((receipt, body)) if *body == s.body_hash => {
                    outcomes[i] = Some(SubmitOutcome::Replayed(ReceiptCode::from_stored(receipt.clone())));
                }
                Some(_) => outcomes[i] = Some(SubmitOutcome::KeyConflict),
                None => todo.push(i),
            }
        }
    }
    if !todo.is_empty() {
        // Never a conflict: the web layer would read that as "already submitted" and the citizen would
        // think it stored. The 31^8 receipts running out is a service problem; the retry draws again.
        return Err(StoreError::Unavailable("no free receipt after several draws".into()));
    }
    spend_codes(db, subs, &ids).await?;
    let outcomes: Vec<SubmitOutcome> = subs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let f = first[p.submission.key_hash.as_str()];
            match (&outcomes[f], f == i) {
                (Some(o), true) => Ok(o.clone()),
                (Some(SubmitOutcome::CodeRefused), false) => Ok(SubmitOutcome::CodeRefused),
                // A repeat inside the batch: the first one's receipt if the body is the same.
                (Some(o), false) => Ok(match o.receipt() {
                    Some(r) if subs[f].submission.body_hash == p.submission.body_hash => {
                        SubmitOutcome::Replayed(r.clone())
                    }
                    _ => SubmitOutcome::KeyConflict,
                }),
                (None, _) => Err(StoreError::Corrupt("a submission of the batch has no outcome".into())),
            }
        })
        .collect::<Result<_>>()?;
    insert_details(db, subs, &ids, now).await?;
    Ok(outcomes)
}

/// Takes out of `todo` the submissions whose code is unknown, spent, or claimed earlier in this batch, and
/// returns them, unless their key was stored before (a retry of a stored response stays a replay). On
/// PostgreSQL every code row of the links concerned is locked, in hash order, until the batch commits: two
/// instances spending codes of one link otherwise each held one and waited for the other's.
async fn unspendable_codes(db: &impl BatchDb, subs: &[&Prepared], todo: &mut Vec<usize>) -> Result<Vec<usize>> {
    let mut claimed: HashMap<&str, usize> = HashMap::new();
    let mut refused: Vec<usize> = Vec::new();
    for &i in todo.iter() {
        if let Some(h) = subs[i].submission.code_hash.as_deref() {
            if claimed.contains_key(h) {
                refused.push(i);
            } else {
                claimed.insert(h, i);
            }
        }
    }
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let mut hashes: Vec<&str> = claimed.keys().copied().collect();
    hashes.sort_unstable();
    let mut unspent = std::collections::HashSet::new();
    for chunk in sized_chunks(&hashes, PARAMS_PER_STATEMENT) {
        let mut sql = Sql::new(db.backend());
        sql.push(
            "SELECT code_hash, CASE WHEN spent THEN 'y' ELSE 'n' END FROM access_codes WHERE link_id IN \
             (SELECT link_id FROM access_codes WHERE code_hash IN ",
        )
        .bind_tuple(chunk.iter().map(|h| Value::from(*h)))
        .push(") ORDER BY code_hash");
        if db.backend() == DbBackend::Postgres {
            sql.push(" FOR UPDATE");
        }
        for row in db.rows(sql.into_statement()).await? {
            if row.text(1)? == "n" {
                unspent.insert(row.text(0)?);
            }
        }
    }
    refused.extend(claimed.iter().filter(|(h, _)| !unspent.contains(**h)).map(|(_, &i)| i));
    if refused.is_empty() {
        return Ok(refused);
    }
    let stored = stored_keys(db, refused.iter().map(|&i| subs[i].submission.key_hash.as_str())).await?;
    refused.retain(|&i| !stored.contains_key(subs[i].submission.key_hash.as_str()));
    todo.retain(|i| !refused.contains(i));
    Ok(refused)
}

/// Spends the codes of the responses just stored (`ids`: response id, index in `subs`), found unspent and
/// (PostgreSQL) locked by [`unspendable_codes`]. One statement writes every code row of those links once,
/// so none carries this transaction alone: on PostgreSQL a row's xmin, or a row written twice, would
/// otherwise pair the spent code with its response.
async fn spend_codes(db: &impl BatchDb, subs: &[&Prepared], ids: &[(i64, usize)]) -> Result<()> {
    let mut hashes: Vec<&str> = ids.iter().filter_map(|&(_, i)| subs[i].submission.code_hash.as_deref()).collect();
    hashes.sort_unstable();
    for chunk in sized_chunks(&hashes, PARAMS_PER_STATEMENT / 2) {
        let mut sql = Sql::new(db.backend());
        sql.push("UPDATE access_codes SET spent = (spent OR code_hash IN ")
            .bind_tuple(chunk.iter().map(|h| Value::from(*h)))
            .push(") WHERE link_id IN (SELECT link_id FROM access_codes WHERE code_hash IN ")
            .bind_tuple(chunk.iter().map(|h| Value::from(*h)))
            .push(")");
        db.execute(sql.into_statement()).await?;
    }
    Ok(())
}

/// Inserts the responses `todo` of `subs`, skipping any a UNIQUE constraint refuses; returns the new ids
/// by key.
async fn insert_responses(
    db: &impl BatchDb,
    subs: &[&Prepared],
    todo: &[usize],
    receipts: &[ReceiptCode],
    now: i64,
) -> Result<HashMap<String, i64>> {
    let backend = db.backend();
    let mut ids = HashMap::with_capacity(todo.len());
    let mut rows: Vec<(usize, &ReceiptCode)> = todo.iter().copied().zip(receipts).collect();
    // In key order: concurrent batches (PostgreSQL) that share a key then take its lock in the same order
    // instead of deadlocking until the database's deadlock timeout.
    rows.sort_by(|a, b| subs[a.0].submission.key_hash.cmp(&subs[b.0].submission.key_hash));
    for chunk in sized_chunks(&rows, PARAMS_PER_STATEMENT / 9) {
        let mut sql = Sql::new(backend);
        sql.push(
            "INSERT INTO responses (form_version_id, form_slug, unit_code, category_code, receipt, \
             key_hash, body_hash, submitted_at, with_code) VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(i, receipt)| {
            let (p, s) = (subs[*i], &subs[*i].submission);
            [
                p.version_id.into(),
                s.form_slug.clone().into(),
                s.unit_code.clone().into(),
                s.category_code.clone().into(),
                receipt.to_string().into(),
                s.key_hash.clone().into(),
                s.body_hash.clone().into(),
                now.into(),
                s.code_hash.is_some().into(),
            ]
        }));
        sql.push(" ON CONFLICT DO NOTHING RETURNING id, key_hash");
        for row in db.rows(sql.into_statement()).await? {
            ids.insert(row.text(1)?, row.int(0)?);
        }
    }
    Ok(ids)
}

/// (receipt, body hash) of each of `keys` already stored.
async fn stored_keys<'k>(
    db: &impl BatchDb,
    keys: impl Iterator<Item = &'k str>,
) -> Result<HashMap<String, (String, String)>> {
    let keys: Vec<&str> = keys.collect();
    let mut known = HashMap::new();
    for chunk in sized_chunks(&keys, PARAMS_PER_STATEMENT) {
        let mut sql = Sql::new(db.backend());
        sql.push("SELECT key_hash, receipt, body_hash FROM responses WHERE key_hash IN ")
            .bind_tuple(chunk.iter().map(|k| Value::from(*k)));
        for row in db.rows(sql.into_statement()).await? {
            known.insert(row.text(0)?, (row.text(1)?, row.text(2)?));
        }
    }
    Ok(known)
}

/// The answers, contacts and opinions of the responses just stored (`ids`: response id, index in `subs`).
async fn insert_details(db: &impl BatchDb, subs: &[&Prepared], ids: &[(i64, usize)], now: i64) -> Result<()> {
    let backend = db.backend();
    let rows: Vec<(i64, &Prepared)> = ids.iter().map(|&(id, i)| (id, subs[i])).collect();
    let answers: Vec<(i64, &str, &str)> =
        rows.iter().flat_map(|(id, p)| p.answers.iter().map(move |(q, v)| (*id, q.as_str(), v.as_str()))).collect();
    let contacts: Vec<(i64, &str, &str)> = rows
        .iter()
        .flat_map(|(id, p)| p.submission.contacts.iter().map(move |(q, v)| (*id, q.as_str(), v.as_str())))
        .collect();
    for (table, values) in [("answers", &answers), ("contacts", &contacts)] {
        for chunk in sized_chunks(values, PARAMS_PER_STATEMENT / 3) {
            let mut sql = Sql::new(backend);
            sql.push("INSERT INTO ").push(table).push(" (response_id, question_id, value) VALUES ");
            sql.bind_rows(chunk.iter().map(|&(id, q, v)| [id.into(), q.into(), v.into()]));
            db.execute(sql.into_statement()).await?;
        }
    }
    let opinions: Vec<(i64, &Submission, &(String, String), &String)> = rows
        .iter()
        .flat_map(|(id, p)| {
            p.submission.opinions.iter().zip(&p.fingerprints).map(move |(o, f)| (*id, &p.submission, o, f))
        })
        .collect();
    for chunk in sized_chunks(&opinions, PARAMS_PER_STATEMENT / 10) {
        let mut sql = Sql::new(backend);
        sql.push(
            "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
             fingerprint, state, representative, submitted_at, updated_at) VALUES ",
        );
        sql.bind_rows(chunk.iter().map(|(id, s, (q, text), fp)| {
            [
                (*id).into(),
                s.form_slug.clone().into(),
                q.clone().into(),
                s.unit_code.clone().into(),
                s.category_code.clone().into(),
                text.clone().into(),
                (*fp).clone().into(),
                OpinionState::Pending.as_str().into(),
                false.into(),
                now.into(),
                now.into(),
            ]
        }));
        db.execute(sql.into_statement()).await?;
    }
    Ok(())
}
