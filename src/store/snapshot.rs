//! A SQLite snapshot checked before it replaces the database (`wenji restore`), and the sessions a restore
//! ends: those signed out after the snapshot was taken would otherwise live again.

use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, Database, Statement};

/// Checks that `path` is a whole Wenji database: SQLite's `integrity_check` says ok and it has Wenji's
/// migrations table. Opened read-only, so the snapshot is left exactly as it was.
///
/// # Errors
/// `Corrupt` naming what is wrong; `Other` when it cannot be opened.
pub async fn check_snapshot(path: &std::path::Path) -> Result<()> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db = Database::connect(&url).await.map_err(StoreError::classify)?;
    let checked = async {
        let backend = db.get_database_backend();
        let row = db.query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check")).await?;
        let said: String = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or_default();
        if said != "ok" {
            return Err(StoreError::Corrupt(format!("integrity_check: {said}")));
        }
        let wenji = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'";
        let row = db.query_one_raw(Statement::from_string(backend, wenji)).await?;
        if row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) == 0 {
            return Err(StoreError::Corrupt("not a Wenji database (no migrations table)".into()));
        }
        Ok(())
    }
    .await;
    db.close().await.map_err(StoreError::classify)?;
    checked
}

impl Store {
    /// Ends every staff session (after a restore: everyone signs in again). Returns how many ended.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn end_all_sessions(&self) -> Result<u64> {
        let backend = self.db().get_database_backend();
        Ok(self.db().execute_raw(Statement::from_string(backend, "DELETE FROM sessions")).await?.rows_affected())
    }
}
