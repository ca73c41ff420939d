//! The only code that knows sea-orm: connecting (SQLite by default, PostgreSQL by URL), migrating, and one
//! file per aggregate. Errors: [`StoreError`] everywhere in this layer; callers map it to their own.

pub mod audit;
pub mod bulk;
pub mod catalog;
pub(crate) mod entities;
pub mod export_jobs;
pub mod inbox;
pub mod links;
pub mod opinions;
pub mod report;
pub mod sessions;
pub(crate) mod sql;
pub mod submissions;
pub mod users;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// A failure in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed; the detail is for the log, never for a page.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The disk is full or the database cannot be written right now; worth a 503 and a retry.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (a bug or a hand edit).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The named thing does not exist.
    #[error("not found")]
    NotFound,
    /// The request conflicts with what is stored.
    #[error("conflict: {0}")]
    Conflict(String),
}

impl StoreError {
    /// Classifies a database error: disk-full and locked errors are temporary.
    pub fn classify(e: DbErr) -> StoreError {
        let s = e.to_string();
        let lower = s.to_lowercase();
        if lower.contains("disk is full")
            || lower.contains("database or disk is full")
            || lower.contains("no space")
            || lower.contains("disk i/o error")
            || lower.contains("database is locked")
        {
            StoreError::Unavailable(s)
        } else {
            StoreError::Db(e)
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database handle shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// One connection of its own for the submission writer, whose transactions it begins, commits and
    /// rolls back itself (see `submissions.rs`); the shared pool when the database is in memory.
    writer: DatabaseConnection,
    /// The inbox's filtered and searched reads: on PostgreSQL a small pool of its own (see `connect`),
    /// on SQLite the shared pool.
    filtering: DatabaseConnection,
}

/// The current time in milliseconds since the Unix epoch, the unit of every stored timestamp.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite gets WAL, foreign keys,
    /// a busy timeout and `synchronous=FULL`, so an acknowledged submission survives power loss.
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub async fn connect(url: &str) -> Result<Store> {
        let db = Database::connect(Self::options(url, if url.starts_with("sqlite:") { 8 } else { 16 })).await?;
        let filtering = if url.starts_with("postgres") {
            // PostgreSQL soon reuses one generic plan per prepared statement, chosen without the values;
            // for the inbox's filters and searches (`text LIKE $1`, `unit_code = $1`) that plan scans the
            // whole table. These connections plan each query for its values instead, which costs a
            // fraction of a millisecond, so only the inbox's lists and counts use them.
            let mut opts = Self::options(url, 4);
            opts.map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
            Database::connect(opts).await?
        } else {
            db.clone()
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer = if in_memory { db.clone() } else { Database::connect(Self::options(url, 1)).await? };
        if url.starts_with("sqlite:") && !in_memory {
            // The writer never checkpoints on commit (that would put a second fsync on its path);
            // `checkpoint` does it from the shared pool, alongside the writer.
            writer.execute_unprepared("PRAGMA wal_autocheckpoint=0").await?;
        }
        Ok(Store { db, writer, filtering })
    }

    fn options(url: &str, connections: u32) -> ConnectOptions {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false).connect_timeout(Duration::from_secs(10));
        opts.max_connections(connections).min_connections(1);
        if url.starts_with("sqlite:") {
            opts.map_sqlx_sqlite_opts(|o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
            });
        }
        opts
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Whether this is SQLite (the embedded default) rather than PostgreSQL.
    pub fn is_sqlite(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Sqlite
    }

    /// A quick liveness check for `/healthz`.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await?;
        Ok(())
    }

    /// Begins a write transaction; on SQLite it takes the write lock at once (IMMEDIATE), which avoids
    /// "database is locked" failures on lock upgrades under concurrency.
    pub(crate) async fn write_txn(&self) -> Result<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.db.begin_with_options(opts).await.map_err(StoreError::classify)
    }

    /// Copies committed WAL pages into the SQLite database file without blocking the writer (PASSIVE).
    /// The submission writer calls it in the background, since its own commits do not checkpoint.
    ///
    /// # Errors
    /// When the database refuses (the next round tries again).
    pub async fn checkpoint(&self) -> Result<()> {
        if self.is_sqlite() {
            self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await.map_err(StoreError::classify)?;
        }
        Ok(())
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) fn filtering(&self) -> &DatabaseConnection {
        &self.filtering
    }

    /// Writes a consistent snapshot of a SQLite database to `path` while serving (`VACUUM INTO`).
    ///
    /// # Errors
    /// On PostgreSQL (use pg_dump there) or when the snapshot cannot be written.
    pub async fn backup_to(&self, path: &str) -> Result<()> {
        if !self.is_sqlite() {
            return Err(StoreError::Conflict("backup is for SQLite; use pg_dump for PostgreSQL".into()));
        }
        let quoted = path.replace('\'', "''");
        self.db.execute_unprepared(&format!("VACUUM INTO '{quoted}'")).await.map_err(StoreError::classify)?;
        Ok(())
    }
}
