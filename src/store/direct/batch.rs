//! Storing a batch of submissions: one transaction, its rows inserted `ROWS_PER_INSERT` to a statement.

use super::intake::FINGERPRINT_LATER;
use super::{DirectWriter, classify};
use crate::domain::submission::ReceiptCode;
use crate::domain::tagging::OpinionState;
use crate::domain::text::fingerprint;
use crate::store::stored_keys::StoredKeys;
use crate::store::submissions::{Prepared, SubmitOutcome};
use crate::store::{Result, StoreError};
use rusqlite::{ToSql, TransactionBehavior, params};
use std::collections::HashMap;

impl DirectWriter {
    /// Stores a batch in one IMMEDIATE transaction, answering each submission in order: a key seen before
    /// (stored earlier or earlier in this batch) replays its receipt or is a conflict. A batch of more than
    /// `defer_over` submissions, or any batch while opinions wait, puts its opinions in the intake.
    ///
    /// # Errors
    /// Classified database errors (a full disk is `Unavailable`); nothing of the batch is stored then.
    pub(crate) fn store_batch(&mut self, subs: &[&Prepared], now: i64) -> Result<Vec<SubmitOutcome>> {
        let defer = self.waiting > 0 || self.defer_over.is_some_and(|n| subs.len() > n);
        let result = self.try_store_batch(subs, now, defer);
        if let Ok((_, deferred)) = &result {
            self.waiting += deferred;
        }
        self.end_failed(result).map(|(outcomes, _)| outcomes)
    }

    /// Returns the outcomes and how many opinions went to the intake.
    fn try_store_batch(&mut self, subs: &[&Prepared], now: i64, defer: bool) -> Result<(Vec<SubmitOutcome>, u64)> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let mut outcomes = Vec::with_capacity(subs.len());
        // (response id, submission, receipt) of each submission this batch stores.
        let mut stored: Vec<(i64, &Prepared, String)> = Vec::with_capacity(subs.len());
        {
            let mut by_id = tx
                .prepare_cached("SELECT key_hash, receipt, body_hash FROM responses WHERE id = ?1")
                .map_err(classify)?;
            // The id the next response gets, as AUTOINCREMENT would give it (never one used before, even
            // by a deleted response), chosen here so that its receipt is stored with it.
            let mut next_id: i64 = tx
                .prepare_cached(
                    "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0), \
                     COALESCE((SELECT MAX(id) FROM responses), 0)) + 1",
                )
                .and_then(|mut next| next.query_row([], |r| r.get(0)))
                .map_err(classify)?;
            // Keys stored earlier in this batch: where each is in `stored`.
            let mut fresh: HashMap<&str, usize> = HashMap::with_capacity(subs.len());
            for p in subs {
                let s = &p.submission;
                let seen = match fresh.get(s.key_hash.as_str()) {
                    Some(&i) => Some((stored[i].2.clone(), stored[i].1.submission.body_hash.clone())),
                    None => self.keys.find(&tx, &mut by_id, &s.key_hash)?,
                };
                if let Some((receipt, body)) = seen {
                    outcomes.push(if body == s.body_hash {
                        SubmitOutcome::Replayed(ReceiptCode::from_stored(receipt))
                    } else {
                        SubmitOutcome::KeyConflict
                    });
                    continue;
                }
                let id = next_id;
                next_id += 1;
                let receipt = self
                    .receipts
                    .receipt(id)
                    .ok_or_else(|| StoreError::Corrupt(format!("response id {id} is past the last receipt")))?;
                fresh.insert(&s.key_hash, stored.len());
                stored.push((id, p, receipt.to_string()));
                outcomes.push(SubmitOutcome::Stored(receipt));
            }
        }
        let responses: Vec<[&dyn ToSql; 10]> = stored
            .iter()
            .map(|(id, p, code)| {
                let s = &p.submission;
                [
                    id,
                    &p.version_id,
                    &s.form_slug,
                    &s.link_id,
                    &s.unit_code,
                    &s.category_code,
                    code,
                    &s.key_hash,
                    &s.body_hash,
                    &now,
                ] as [&dyn ToSql; 10]
            })
            .collect();
        insert_rows(
            &tx,
            "responses (id, form_version_id, form_slug, link_id, unit_code, category_code, receipt, key_hash, \
             body_hash, submitted_at)",
            &responses,
        )?;
        let answers: Vec<[&dyn ToSql; 3]> =
            stored.iter().flat_map(|(id, p, _)| p.answers.iter().map(move |(q, v)| [id as &dyn ToSql, q, v])).collect();
        insert_rows(&tx, "answers (response_id, question_id, value)", &answers)?;
        let contacts: Vec<[&dyn ToSql; 3]> = stored
            .iter()
            .flat_map(|(id, p, _)| p.submission.contacts.iter().map(move |(q, v)| [id as &dyn ToSql, q, v]))
            .collect();
        insert_rows(&tx, "contacts (response_id, question_id, value)", &contacts)?;
        let opinions = stored.iter().flat_map(|(id, p, _)| p.submission.opinions.iter().map(move |o| (id, p, o)));
        let mut deferred = 0;
        if defer {
            // The fingerprint is left to the move (`FINGERPRINT_LATER`): it is made from the whole text.
            let intake: Vec<[&dyn ToSql; 3]> =
                opinions.map(|(id, _, (q, _))| [id as &dyn ToSql, q, &FINGERPRINT_LATER]).collect();
            insert_rows(&tx, "opinion_intake (response_id, question_id, fingerprint)", &intake)?;
            deferred = intake.len() as u64;
        } else {
            let mut opinion = tx
                .prepare_cached(
                    "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
                     fingerprint, state, representative, submitted_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9)",
                )
                .map_err(classify)?;
            for (id, p, (q, text)) in opinions {
                let s = &p.submission;
                opinion
                    .execute(params![
                        id,
                        s.form_slug,
                        q,
                        s.unit_code,
                        s.category_code,
                        text,
                        fingerprint(text),
                        OpinionState::Pending.as_str(),
                        now
                    ])
                    .map_err(classify)?;
            }
        }
        // (key slot, response id) of the keys this batch stores.
        let added: Vec<(u64, i64)> =
            stored.iter().map(|(id, p, _)| (StoredKeys::slot(&p.submission.key_hash), *id)).collect();
        tx.commit().map_err(classify)?;
        // Only once committed: a batch that failed stored none of its keys.
        self.keys.add(added);
        Ok((outcomes, deferred))
    }
}

/// Rows go in this many to an `INSERT` (the rest one by one): SQLite's work for each statement (opening
/// the table's and its indexes' cursors, and for an AUTOINCREMENT table reading and writing its row of
/// `sqlite_sequence`) is then shared by the rows. Storing a batch went from about 134,000 to 116,000
/// instructions per submission (callgrind, JSON submissions at 16 connections).
const ROWS_PER_INSERT: usize = 16;

/// Inserts `rows` into `table (columns)`, in order.
fn insert_rows<const N: usize>(tx: &rusqlite::Transaction<'_>, table: &str, rows: &[[&dyn ToSql; N]]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let row = format!("({})", ["?"; N].join(", "));
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if chunks.len() > 0 {
        let mut many = tx
            .prepare_cached(&format!("INSERT INTO {table} VALUES {}", vec![row.as_str(); ROWS_PER_INSERT].join(", ")))
            .map_err(classify)?;
        for chunk in chunks.by_ref() {
            many.execute(rusqlite::params_from_iter(chunk.iter().flatten())).map_err(classify)?;
        }
    }
    let mut one = tx.prepare_cached(&format!("INSERT INTO {table} VALUES {row}")).map_err(classify)?;
    for r in chunks.remainder() {
        one.execute(rusqlite::params_from_iter(r.iter())).map_err(classify)?;
    }
    Ok(())
}
