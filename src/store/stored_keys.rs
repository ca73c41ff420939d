//! The submission keys stored in `responses`, kept in memory by the submission writer (see `direct`).

use super::Result;
use super::direct::classify;
use rusqlite::{Connection, OptionalExtension};
use std::collections::HashMap;

/// The submission keys stored in `responses`, in memory: `responses` has no index on `key_hash` (an
/// index in random order cost a page written per submission under a burst), and this writer is the only
/// one that stores submissions into the file (see `DirectWriter::open`). Each key is kept as a 64-bit
/// hash of its stored hash, with the id of its response (17 to 34 bytes a response); a match is
/// confirmed by reading that row, and the rare collision of two keys on 64 bits falls back to a scan of
/// `responses`.
#[derive(Default)]
pub(super) struct StoredKeys(HashMap<u64, i64>);

impl StoredKeys {
    pub(super) fn slot(key_hash: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        key_hash.hash(&mut h);
        h.finish()
    }

    /// The receipt and body hash stored under `key_hash`, if any.
    pub(super) fn find(
        &self,
        tx: &Connection,
        by_id: &mut rusqlite::CachedStatement<'_>,
        key_hash: &str,
    ) -> Result<Option<(String, String)>> {
        let Some(&id) = self.0.get(&Self::slot(key_hash)) else { return Ok(None) };
        let row = by_id
            .query_row([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .optional()
            .map_err(classify)?;
        match row {
            Some((stored, receipt, body)) if stored == key_hash => Ok(Some((receipt, body))),
            // Another key with the same 64-bit hash, or a response deleted since: look the key up the slow way.
            _ => tx
                .query_row("SELECT receipt, body_hash FROM responses WHERE key_hash = ?1", [key_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
                .map_err(classify),
        }
    }

    /// Records (key slot, response id) pairs, once their transaction has committed.
    pub(super) fn add(&mut self, stored: impl IntoIterator<Item = (u64, i64)>) {
        self.0.extend(stored);
    }

    pub(super) fn load(conn: &Connection) -> Result<StoredKeys> {
        let mut keys = HashMap::new();
        let mut rows = conn.prepare("SELECT id, key_hash FROM responses").map_err(classify)?;
        let mut rows = rows.query([]).map_err(classify)?;
        while let Some(row) = rows.next().map_err(classify)? {
            let key_hash: String = row.get(1).map_err(classify)?;
            keys.insert(Self::slot(&key_hash), row.get::<_, i64>(0).map_err(classify)?);
        }
        Ok(StoredKeys(keys))
    }
}
