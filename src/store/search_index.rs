//! The search index's backlog (SQLite). Opinions enter the FTS5 trigram index after their commit, in
//! small batches, when the submission writer has nothing to store; until then search reads them directly
//! (see `inbox::filter`). PostgreSQL keeps its trigram index inside the insert, so it has no backlog.

use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

impl Store {
    /// Indexes up to `limit` opinions that are not yet in the search index, in one transaction on the
    /// writer's connection. Returns how many it indexed: fewer than `limit` means the backlog is empty.
    ///
    /// # Errors
    /// On a database failure (nothing is marked indexed then).
    pub async fn index_search_backlog(&self, limit: usize) -> Result<usize> {
        if !self.is_sqlite() {
            return Ok(0);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.index_batch(limit).await
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

    /// How many opinions wait for the search index (always 0 on PostgreSQL).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn search_backlog(&self) -> Result<u64> {
        if !self.is_sqlite() {
            return Ok(0);
        }
        let n = scalar(
            self.db(),
            "SELECT COUNT(*) FROM opinions WHERE id > (SELECT indexed_upto FROM search_index_state WHERE id = 1)",
            vec![],
        )
        .await?;
        Ok(n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
    }
}

/// The first column of the first row, if any (SQLite placeholders).
async fn scalar(db: &impl ConnectionTrait, sql: &str, values: Vec<sea_orm::Value>) -> Result<Option<i64>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values))
        .await
        .map_err(StoreError::classify)?;
    match row {
        Some(r) => r.try_get_by_index::<Option<i64>>(0).map_err(|e| StoreError::Corrupt(e.to_string())),
        None => Ok(None),
    }
}
