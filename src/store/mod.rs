//! The only code that knows sea-orm: connecting (SQLite by default, PostgreSQL by URL), migrating, and one
//! file per aggregate. Errors: [`StoreError`] everywhere in this layer; callers map it to their own.

pub mod audit;
mod backfill;
pub mod bulk;
pub mod catalog;
pub mod confirmed;
mod direct;
mod durable;
pub(crate) mod entities;
pub mod export_jobs;
pub mod inbox;
pub mod links;
pub mod opinions;
pub mod report;
pub mod search_index;
pub mod sessions;
mod setup_token;
pub(crate) mod sql;
mod stored_keys;
pub mod submissions;
pub mod users;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseExecutor, DbBackend, DbErr, TransactionTrait,
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
    /// The connection every write transaction runs on (see `write_txn`); the shared pool, held to one
    /// connection, when the database is in memory.
    writer: DatabaseConnection,
    /// Whose turn it is on `writer`: one transaction at a time, since its statements are sent one by one.
    writer_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The inbox's filtered and searched reads: on PostgreSQL a small pool of its own (see `connect`),
    /// on SQLite the shared pool.
    filtering: DatabaseConnection,
    /// The secret behind numbered receipts (`domain::receipt_key`), read once.
    receipt_key: std::sync::Arc<std::sync::OnceLock<crate::domain::receipt_key::ReceiptKey>>,
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
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            1
        } else if url.starts_with("sqlite:") {
            8
        } else {
            16
        };
        let db = Database::connect(Self::options(url, pool)).await?;
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
        let writer = if in_memory { db.clone() } else { Database::connect(Self::options(url, 1)).await? };
        if url.starts_with("sqlite:") && !in_memory {
            // The writer never checkpoints on commit (that would put a second fsync on its path);
            // the submission writer's backfill thread does it alongside (or `checkpoint`, from the shared
            // pool, when that writer has no connection of its own), and the search indexer
            // (`checkpoint_writer`) between its batches, while no one is submitting.
            writer.execute_unprepared("PRAGMA wal_autocheckpoint=0").await?;
        }
        Ok(Store { db, writer, writer_turn: Default::default(), filtering, receipt_key: Default::default() })
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

    /// The names of the migrations not yet applied, read without changing the database (not even
    /// creating the migrations table).
    ///
    /// # Errors
    /// When the database cannot be read, or holds migrations this build does not know (it is newer).
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        let pending = Migrator::get_pending_migrations_read_only(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
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

    /// Begins a write transaction on the writer's own connection, one at a time (submission batches,
    /// tagging, notes, keywords); end it with [`WriteTxn::finish`].
    ///
    /// On SQLite the transaction is begun, committed and rolled back by statement (IMMEDIATE: it takes the
    /// write lock at once): after a failed statement (a full disk) SQLite may already have rolled back on
    /// its own, which a pool's transaction guard loses track of, leaving its connection stuck inside a
    /// transaction that holds the write lock; an explicit ROLLBACK is always safe, so the store recovers
    /// once the disk has room again. On PostgreSQL it is a transaction object holding its connection, so
    /// a connection lost mid-way can never let later statements commit on their own.
    ///
    /// # Errors
    /// When the transaction cannot begin (classified: a full disk is `Unavailable`).
    pub(crate) async fn write_txn(&self) -> Result<WriteTxn<'_>> {
        let turn = self.writer_turn.lock().await;
        let executor = if self.is_sqlite() {
            const BEGIN: &str = "BEGIN IMMEDIATE";
            if let Err(e) = self.writer.execute_unprepared(BEGIN).await {
                // A transaction left open (a task that panicked mid-way) is rolled back, then we begin again.
                if !e.to_string().contains("within a transaction") {
                    return Err(StoreError::classify(e));
                }
                let _ = self.writer.execute_unprepared("ROLLBACK").await;
                self.writer.execute_unprepared(BEGIN).await.map_err(StoreError::classify)?;
            }
            DatabaseExecutor::Connection(&self.writer)
        } else {
            DatabaseExecutor::OwnedTransaction(self.writer.begin().await.map_err(StoreError::classify)?)
        };
        Ok(WriteTxn { executor, _turn: turn })
    }

    /// Copies committed WAL pages into the SQLite database file without blocking the writer (PASSIVE).
    /// The submission writer calls it every 500 ms when it has no SQLite connection of its own (whose
    /// backfill thread checkpoints otherwise: see `direct`).
    ///
    /// # Errors
    /// When the database refuses (the next round tries again).
    pub async fn checkpoint(&self) -> Result<()> {
        if self.is_sqlite() {
            self.db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await.map_err(StoreError::classify)?;
        }
        Ok(())
    }

    /// Checkpoints from the writer's own connection, between its transactions, so that its next
    /// transaction can start the WAL over from the beginning. Best effort: a failure leaves it to the
    /// next checkpoint.
    pub(crate) async fn checkpoint_writer(&self) {
        if self.is_sqlite() {
            let _turn = self.writer_turn.lock().await;
            let _ = self.writer.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await;
        }
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

/// An open write transaction on the writer's connection (see [`Store::write_txn`]).
pub(crate) struct WriteTxn<'a> {
    executor: DatabaseExecutor<'a>,
    _turn: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteTxn<'_> {
    /// The connection to run this transaction's statements on.
    pub(crate) fn conn(&self) -> &DatabaseExecutor<'_> {
        &self.executor
    }

    /// Commits when `result` is `Ok`, rolls back otherwise; returns `result`, or the commit's error.
    ///
    /// # Errors
    /// `result`'s error, or the database's (classified: a full disk is `Unavailable`).
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        let result = match result {
            Err(StoreError::Db(e)) => Err(StoreError::classify(e)),
            other => other,
        };
        match (self.executor, result) {
            (DatabaseExecutor::OwnedTransaction(txn), Ok(done)) => {
                txn.commit().await.map(|()| done).map_err(StoreError::classify)
            }
            (DatabaseExecutor::OwnedTransaction(txn), Err(e)) => {
                let _ = txn.rollback().await;
                Err(e)
            }
            (executor, result) => {
                let result = match result {
                    Ok(done) => executor.execute_unprepared("COMMIT").await.map(|_| done).map_err(StoreError::classify),
                    Err(e) => Err(e),
                };
                if result.is_err() {
                    // Nothing of this transaction counts; end it whatever state it is in.
                    let _ = executor.execute_unprepared("ROLLBACK").await;
                }
                result
            }
        }
    }
}
