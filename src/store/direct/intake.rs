//! The intake: where a burst's opinions wait, to be moved into `opinions` when the writer has a moment.

use super::{DirectWriter, classify};
use crate::domain::tagging::OpinionState;
use crate::domain::text::fingerprint;
use crate::store::{Result, StoreError};
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, TransactionBehavior, params};
use std::time::{Duration, Instant};

/// The most waiting opinions moved from the intake into `opinions` in one transaction while the writer
/// is idle.
pub(crate) const MOVE_BATCH: usize = 512;

/// The fingerprint an opinion waits in the intake with: none yet. Moving it computes it from its text
/// (`wenji_fingerprint`, the writer connection's SQL function for `domain::text::fingerprint`), so a
/// burst's requests do not: it was about 4% of the server's CPU under load. Opinions that waited with a
/// fingerprint (stored before this) keep it.
pub(super) const FINGERPRINT_LATER: &str = "";

/// Under a burst the writer is never idle; it still moves this many waiting opinions every
/// `MOVE_AT_LEAST_EVERY`, so the analysts see the burst arrive, if slowly (640 a second); the rest is
/// moved at full speed once the burst is over. The citizens come first: submissions that arrive during a
/// move wait for it. Measured here (the HTML then the JSON load on one server, 10 s each): 512 every
/// 200 ms gave 7.0k and 7.5k req/s with the JSON run's p99 at 54–58 ms; no moves at all, 8.1k and 8.5k
/// with 30 and 47 ms.
pub(crate) const MOVE_DURING_BURST: usize = 128;
const MOVE_AT_LEAST_EVERY: Duration = Duration::from_millis(200);

/// Registers `wenji_fingerprint(text)` on the writer's connection, for moving opinions out of the intake:
/// see `FINGERPRINT_LATER`.
pub(super) fn register_fingerprint(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "wenji_fingerprint",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(fingerprint(ctx.get_raw(0).as_str()?)),
    )
    .map_err(classify)
}

impl DirectWriter {
    /// Whether the writer, busy with a burst, should move a chunk of waiting opinions now anyway.
    pub(crate) fn move_due(&self) -> bool {
        self.waiting > 0 && self.moved_at.elapsed() >= MOVE_AT_LEAST_EVERY
    }

    /// Opinions waiting in `opinion_intake`.
    pub(crate) fn waiting(&self) -> u64 {
        self.waiting
    }

    /// Moves up to `limit` of the oldest waiting opinions into `opinions`, in one transaction, and
    /// returns how many it moved. Each becomes exactly what storing it at once would have made: state
    /// pending, the response's form, unit, category and (minute) time, and the text of its answer (the
    /// intake keeps no copy of it).
    ///
    /// # Errors
    /// Classified database errors; nothing moves then.
    pub(crate) fn move_intake(&mut self, limit: usize) -> Result<u64> {
        let result = self.try_move_intake(limit);
        self.moved_at = Instant::now();
        if let Ok(moved) = &result {
            self.waiting = self.waiting.saturating_sub(*moved);
        }
        self.end_failed(result)
    }

    fn try_move_intake(&mut self, limit: usize) -> Result<u64> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(classify)?;
        let upto: Option<i64> = tx
            .query_row(
                "SELECT MAX(id) FROM (SELECT id FROM opinion_intake ORDER BY id LIMIT ?1)",
                [i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .map_err(classify)?;
        let Some(upto) = upto else {
            return Ok(0);
        };
        let inserted = tx
            .execute(
                "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
             fingerprint, state, representative, submitted_at, updated_at) \
             SELECT i.response_id, r.form_slug, i.question_id, r.unit_code, r.category_code, \
             json_extract(a.value, '$.value'), \
             COALESCE(NULLIF(i.fingerprint, ''), wenji_fingerprint(json_extract(a.value, '$.value'))), \
             ?2, 0, r.submitted_at, r.submitted_at \
             FROM opinion_intake i JOIN responses r ON r.id = i.response_id \
             JOIN answers a ON a.response_id = i.response_id AND a.question_id = i.question_id \
             WHERE i.id <= ?1 ORDER BY i.id",
                params![upto, OpinionState::Pending.as_str()],
            )
            .map_err(classify)?;
        let moved = tx.execute("DELETE FROM opinion_intake WHERE id <= ?1", [upto]).map_err(classify)?;
        if inserted != moved {
            // An opinion whose answer could not be found would vanish: keep them all waiting instead.
            return Err(StoreError::Corrupt(format!("{moved} waiting opinions but {inserted} answers found for them")));
        }
        tx.commit().map_err(classify)?;
        Ok(moved as u64)
    }
}
