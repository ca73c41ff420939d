//! A SQLite snapshot checked before it replaces the database (`wenji restore`), and the sessions a restore
//! ends: those signed out after the snapshot was taken would otherwise live again.

use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, Statement};

/// Checks that `path` is a whole Wenji database: SQLite's `integrity_check` says ok and it has Wenji's
/// migrations and main tables. Opened by file name (no URL decoding), read-only and immutable: no `-wal` beside it
/// is read, so what is checked is exactly the file that will be placed.
///
/// # Errors
/// `Corrupt` naming what is wrong; `Other` when it cannot be opened.
pub async fn check_snapshot(path: &std::path::Path) -> Result<()> {
    use sea_orm::sqlx::{Connection as _, Row as _, sqlite::SqliteConnectOptions, sqlite::SqliteConnection};
    let options = SqliteConnectOptions::new().filename(path).read_only(true).immutable(true);
    let mut conn = SqliteConnection::connect_with(&options).await.map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let checked = async {
        let said: String = sea_orm::sqlx::query("PRAGMA integrity_check").fetch_one(&mut conn).await?.try_get(0)?;
        if said != "ok" {
            return Ok(Err(StoreError::Corrupt(format!("integrity_check: {said}"))));
        }
        // Its own tables, not only a migrations table any sea-orm database has: the restore ends sessions
        // after the old database is moved aside, and a file without them failed only then.
        let wenji = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                     AND name IN ('seaql_migrations', 'sessions', 'responses', 'opinions')";
        let n: i64 = sea_orm::sqlx::query(wenji).fetch_one(&mut conn).await?.try_get(0)?;
        if n < 4 {
            let missing = "not a Wenji database (its migrations, sessions, responses or opinions table is missing)";
            return Ok(Err(StoreError::Corrupt(missing.into())));
        }
        // And Wenji's own first migration recorded (tables of those names, another program's, passed).
        use migrations::MigratorTrait as _;
        let first = migrations::Migrator::migrations().first().map(|m| m.name().to_owned()).unwrap_or_default();
        let ours = "SELECT COUNT(*) FROM seaql_migrations WHERE version = ?";
        let n: i64 = sea_orm::sqlx::query(ours).bind(first).fetch_one(&mut conn).await?.try_get(0)?;
        Ok(if n == 0 {
            Err(StoreError::Corrupt("not a Wenji database (none of its migrations recorded)".into()))
        } else {
            Ok(())
        })
    }
    .await
    .unwrap_or_else(|e: sea_orm::sqlx::Error| Err(StoreError::Corrupt(e.to_string())));
    let _ = conn.close().await;
    checked
}

/// Whether a write-ahead log with content lies beside `path`: the database's latest commits may be only
/// there (a folder moved aside by a restore, a file-level copy of a running server's folder).
pub fn has_a_wal_beside(path: &std::path::Path) -> bool {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::PathBuf::from(wal)).is_ok_and(|m| m.len() > 0)
}

/// Writes the database at `path`, with the commits its write-ahead log holds, into the empty file `to`
/// (`VACUUM INTO` through a read-only connection, which reads the log; copying the file alone lost them).
///
/// # Errors
/// `Unavailable` when it cannot be opened or written.
pub async fn copy_with_its_wal(path: &std::path::Path, to: &std::path::Path) -> Result<()> {
    use sea_orm::sqlx::{Connection as _, sqlite::SqliteConnectOptions, sqlite::SqliteConnection};
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn =
        SqliteConnection::connect_with(&options).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let copied = sea_orm::sqlx::query("VACUUM INTO ?").bind(to.to_string_lossy().into_owned()).execute(&mut conn).await;
    let _ = conn.close().await;
    copied.map(|_| ()).map_err(|e| StoreError::Unavailable(e.to_string()))
}

impl Store {
    /// Ends every staff session (after a restore: everyone signs in again). Returns how many ended.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn end_all_sessions(&self) -> Result<u64> {
        let w = self.write_txn().await?;
        let backend = w.conn().get_database_backend();
        let done = w.conn().execute_raw(Statement::from_string(backend, "DELETE FROM sessions")).await;
        w.finish(done.map(|r| r.rows_affected()).map_err(StoreError::classify)).await
    }
}
