//! The search index's backlog. Opinions enter the trigram index after their commit, in small batches,
//! when the submission writer has nothing to store; until then search reads them directly (see
//! `inbox::filter`). SQLite: the FTS5 table, up to `search_index_state.indexed_upto` (one writer commits
//! ids in order). PostgreSQL: `opinion_search`, taken from the `search_pending` queue, which several
//! servers on one database share (each takes rows the others have not locked).

use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// PostgreSQL: moves up to $1 queued opinions into the search table in one statement, so a queued row
/// and its indexed copy are never both missing.
const PG_INDEX_BATCH: &str = "WITH taken AS (\
      DELETE FROM search_pending WHERE opinion_id IN (\
        SELECT opinion_id FROM search_pending ORDER BY opinion_id LIMIT $1 FOR UPDATE SKIP LOCKED) \
      RETURNING opinion_id) \
    INSERT INTO opinion_search (opinion_id, text) \
      SELECT o.id, o.text FROM opinions o JOIN taken t ON t.opinion_id = o.id ORDER BY o.id \
    ON CONFLICT (opinion_id) DO UPDATE SET text = EXCLUDED.text";

impl Store {
    /// Indexes up to `limit` opinions that are not yet in the search index, in one transaction on the
    /// submission writer's connection. Returns how many it indexed: fewer than `limit` means the backlog is empty.
    ///
    /// # Errors
    /// On a database failure (nothing is marked indexed then).
    pub async fn index_search_backlog(&self, limit: usize) -> Result<usize> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if self.is_sqlite() { self.index_batch(limit).await } else { self.index_pg_batch(limit).await }
    }

    async fn index_pg_batch(&self, limit: i64) -> Result<usize> {
        // On the batches' connections: the writer runs this between bursts, and on staff writes' it waited
        // behind saves queued on an opinion's row while citizens' submissions waited behind it.
        let w = self.submission_txn().await?;
        let done = w
            .conn()
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, PG_INDEX_BATCH, [limit.into()]))
            .await
            .map_err(StoreError::classify)
            .map(|r| usize::try_from(r.rows_affected()).unwrap_or(usize::MAX));
        w.finish(done).await
    }

    async fn index_batch(&self, limit: i64) -> Result<usize> {
        let w = self.write_txn().await?;
        let db = w.conn();
        let done = async {
            let upto = scalar(db, "SELECT indexed_upto FROM search_index_state WHERE id = 1", vec![]).await?;
            let Some(upto) = upto else { return Err(StoreError::Corrupt("search_index_state has no row".into())) };
            let last = scalar(
                db,
                "SELECT MAX(id) FROM (SELECT id FROM opinions WHERE id > ? ORDER BY id LIMIT ?)",
                vec![upto.into(), limit.into()],
            )
            .await?;
            let Some(last) = last else { return Ok(0) };
            let indexed = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Sqlite,
                    "INSERT INTO opinions_fts(rowid, text) SELECT id, text FROM opinions WHERE id > ? AND id <= ?",
                    [upto.into(), last.into()],
                ))
                .await
                .map_err(StoreError::classify)?
                .rows_affected();
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE search_index_state SET indexed_upto = ? WHERE id = 1",
                [last.into()],
            ))
            .await
            .map_err(StoreError::classify)?;
            Ok::<_, StoreError>(usize::try_from(indexed).unwrap_or(usize::MAX))
        }
        .await;
        w.finish(done).await
    }

    /// How many opinions wait for the search index.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn search_backlog(&self) -> Result<u64> {
        let sql = if self.is_sqlite() {
            "SELECT COUNT(*) FROM opinions WHERE id > (SELECT indexed_upto FROM search_index_state WHERE id = 1)"
        } else {
            "SELECT COUNT(*) FROM search_pending"
        };
        let n = scalar(self.db(), sql, vec![]).await?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }
}

/// The first column of the first row, if any (`?` placeholders on SQLite, `$n` on PostgreSQL).
async fn scalar(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<Option<i64>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values))
        .await
        .map_err(StoreError::classify)?;
    match row {
        Some(r) => r.try_get_by_index::<Option<i64>>(0).map_err(|e| StoreError::Corrupt(e.to_string())),
        None => Ok(None),
    }
}
