//! The only code that knows sea-orm: connecting (SQLite by default, PostgreSQL by URL), migrating, and one
//! file per aggregate. Errors: [`StoreError`] everywhere in this layer; callers map it to their own.

pub mod audit;
pub mod bulk;
pub mod catalog;
pub mod clusters;
pub mod confirmed;
pub mod contacts;
pub mod double_coding;
pub(crate) mod entities;
mod error;
pub mod export_jobs;
pub mod inbox;
mod installation;
pub mod links;
pub mod opinions;
pub mod problems;
pub mod register;
pub mod releases;
pub mod report;
pub mod search_index;
pub mod sessions;
mod setup_token;
mod transport;
pub use setup_token::SETUP_LINK_LIFE_MS;
pub use transport::Transport;
pub mod snapshot;
pub(crate) mod sql;
pub mod submissions;
pub mod users;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    IsolationLevel, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

use error::opened_before_refusal;
pub(crate) use error::{ErrorKind, error_kind};
pub use error::{Result, StoreError};

/// How the store connects, beyond the URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectSettings {
    /// SQLite: the writer's commits skip their sync (`synchronous=OFF`). Only for the power-loss test,
    /// to show it can fail; never in production.
    pub unsafe_no_sync: bool,
}

/// How many submission batches commit at once on PostgreSQL (SQLite has one writer).
pub(crate) const SUBMISSION_BATCHES_AT_ONCE: usize = 3;

/// Whether `url` names a SQLite database kept in memory (tests; refused by the commands).
pub fn is_in_memory(url: &str) -> bool {
    // Read as the driver reads it: `%3Amemory%3A` and `mode=%6Demory` are in memory too.
    let url = percent_encoding::percent_decode_str(url).decode_utf8_lossy();
    url.starts_with("sqlite:") && (url.contains(":memory:") || url.contains("mode=memory"))
}

/// The database handle shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// The pool every write transaction begins on (see [`Store::write_txn`]): one connection on SQLite,
    /// which has one writer anyway, so transactions queue here instead of on the file lock.
    writer: DatabaseConnection,
    /// PostgreSQL: the submission batches' own connections, so a citizen never waits for a connection
    /// behind staff writes that wait on rows (saves during a bulk undo); SQLite: `writer`.
    submitting: DatabaseConnection,
    /// Whose turn it is on `writer`: first come, first served, without the pool's acquire timeout.
    writer_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Held while this process makes a release to leaders: other requests read the releases made before
    /// instead of queueing for the writer behind it (see `store::releases`).
    releasing: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Whether commits are synced (false only under `WENJI_UNSAFE_TEST_NO_SYNC`).
    commit_sync: bool,
    /// The inbox's filtered and searched reads: on PostgreSQL a small pool of its own (see `connect`),
    /// on SQLite the shared pool.
    filtering: DatabaseConnection,
    /// PostgreSQL: the connection holding the lock that makes one instance the keeper of the
    /// near-duplicate groups (see `store::clusters`), opened by the first pass, so only a server opens it.
    keeper_lease: Option<std::sync::Arc<KeeperLease>>,
}

/// Where the keeper's lock connection comes from, and that connection once opened.
#[derive(Debug)]
pub(crate) struct KeeperLease {
    url: String,
    conn: tokio::sync::OnceCell<DatabaseConnection>,
}

impl KeeperLease {
    /// The connection, opened on first use and then kept for life (no maximum lifetime, no idle timeout).
    pub(crate) async fn conn(&self) -> Result<&DatabaseConnection> {
        self.conn
            .get_or_try_init(|| async {
                let mut opts = Store::options(&self.url, 1, true);
                opts.max_lifetime(None::<Duration>).idle_timeout(None::<Duration>);
                Database::connect(opts).await.map_err(StoreError::from)
            })
            .await
    }
}

/// PostgreSQL: the advisory lock a migrating instance holds ("WENM"), per schema.
const MIGRATION_LOCK: i32 = 0x5745_4e4d;

/// Why an edit is refused when the form showed an older version than the one stored.
pub const EDITED_MEANWHILE: &str =
    "您打开页面后，这项内容已被他人修改并保存。您填写的内容还在表单中，请对照现在保存的内容核对后再保存。";

/// A row's next version (`updated_at`): its edit time, and always later than the version before (two
/// edits in one millisecond).
pub(crate) fn next_version(before: i64) -> i64 {
    now_ms().max(before + 1)
}

/// The current time in milliseconds since the Unix epoch, the unit of every stored timestamp.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Below this, a SQLite database's writes are refused or about to be (a batch, the WAL's growth).
const LOW_SPACE_BYTES: u64 = 1 << 20;

/// Every PostgreSQL connection asks for commits acknowledged only once flushed, whatever the database's or
/// role's own default (`ALTER DATABASE … SET synchronous_commit = off` would otherwise lose acknowledged
/// submissions in a crash, silently).
const SYNCHRONOUS_COMMIT: (&str, &str) = ("synchronous_commit", "on");

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://…`). SQLite gets WAL, foreign keys,
    /// a busy timeout and `synchronous=FULL`, so an acknowledged submission survives power loss.
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::connect_with(url, ConnectSettings::default()).await
    }

    /// [`Store::connect`] with `settings`.
    ///
    /// # Errors
    /// When the database cannot be opened.
    pub async fn connect_with(url: &str, settings: ConnectSettings) -> Result<Store> {
        let in_memory = is_in_memory(url);
        let sqlite = url.starts_with("sqlite:");
        let pool = if in_memory {
            1
        } else if sqlite {
            8
        } else {
            16
        };
        if url.starts_with("postgres") {
            // One connection first: a pool that cannot connect waits out its timeout and reports only
            // "pool timed out", losing why (a wrong port, a refused password, no such database).
            use sea_orm::sqlx::Connection as _;
            let tried = tokio::time::timeout(Duration::from_secs(10), sea_orm::sqlx::PgConnection::connect(url)).await;
            match tried {
                Ok(Ok(conn)) => drop(conn.close().await),
                Ok(Err(e)) => return Err(StoreError::Unavailable(e.to_string())),
                Err(_) => return Err(StoreError::Unavailable("no answer within 10 s".into())),
            }
        }
        let db = Database::connect(Self::options(url, pool, true)).await?;
        let filtering = if url.starts_with("postgres") {
            // PostgreSQL soon reuses one generic plan per prepared statement, chosen without the values;
            // for the inbox's filters and searches (`text LIKE $1`, `unit_code = $1`) that plan scans the
            // whole table. These connections plan each query for its values instead.
            let mut opts = Self::options(url, 4, true);
            opts.map_sqlx_postgres_opts(|o| o.options([SYNCHRONOUS_COMMIT, ("plan_cache_mode", "force_custom_plan")]));
            Database::connect(opts).await?
        } else {
            db.clone()
        };
        let writer = if in_memory {
            db.clone()
        } else if sqlite {
            if settings.unsafe_no_sync {
                tracing::warn!("WENJI_UNSAFE_TEST_NO_SYNC: commits are NOT synced to disk; a power cut loses them");
            }
            Database::connect(Self::options(url, 1, !settings.unsafe_no_sync)).await?
        } else {
            // Several staff writes at once (two analysts, an admin), planned for their values (a bulk undo
            // under a generic plan took 37 s), counting in slots no batch draws (migration 000072).
            let mut opts = Self::options(url, 4, true);
            opts.map_sqlx_postgres_opts(|o| {
                o.options([
                    SYNCHRONOUS_COMMIT,
                    ("plan_cache_mode", "force_custom_plan"),
                    ("wenji.count_slots", "staff"),
                ])
            });
            Database::connect(opts).await?
        };
        let submitting = if sqlite || in_memory {
            writer.clone()
        } else {
            Database::connect(Self::options(url, SUBMISSION_BATCHES_AT_ONCE as u32, true)).await?
        };
        let keeper_lease = url
            .starts_with("postgres")
            .then(|| std::sync::Arc::new(KeeperLease { url: url.to_owned(), conn: tokio::sync::OnceCell::new() }));
        Ok(Store {
            db,
            writer,
            submitting,
            writer_turn: Default::default(),
            releasing: Default::default(),
            commit_sync: !settings.unsafe_no_sync,
            filtering,
            keeper_lease,
        })
    }

    fn options(url: &str, connections: u32, sync: bool) -> ConnectOptions {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false).connect_timeout(Duration::from_secs(10));
        opts.max_connections(connections).min_connections(1);
        if url.starts_with("postgres") {
            opts.map_sqlx_postgres_opts(|o| o.options([SYNCHRONOUS_COMMIT]));
            opts.map_sqlx_postgres_pool_opts(|o| {
                o.before_acquire(|_, meta| Box::pin(async move { Ok(!opened_before_refusal(meta.age)) }))
            });
        }
        if url.starts_with("sqlite:") {
            let in_memory = is_in_memory(url);
            opts.map_sqlx_sqlite_opts(move |o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(if sync { SqliteSynchronous::Full } else { SqliteSynchronous::Off })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .create_if_missing(true)
                    // Freed bytes inside a page are zeroed (no extra I/O): a deleted contact leaves no copy
                    // behind a page split (see `store::contacts`).
                    .pragma("secure_delete", "FAST")
            });
            // After a full disk SQLite may roll a transaction back on its own; sqlx then still counts it
            // open and the connection could never begin again. Such a connection is closed, not reused.
            opts.map_sqlx_sqlite_pool_opts(move |o| {
                o.after_release(|conn, _| {
                    Box::pin(async move { Ok(!sea_orm::sqlx::Connection::is_in_transaction(conn)) })
                })
                // (Not an in-memory database: closing its connection would lose it.)
                .before_acquire(move |_, meta| {
                    Box::pin(async move { Ok(in_memory || !opened_before_refusal(meta.age)) })
                })
            });
        }
        opts
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// When a migration fails.
    pub async fn migrate(&self) -> Result<()> {
        self.refuse_newer_schema().await?;
        // PostgreSQL: instances starting together migrate one at a time, on a lock held by a connection of
        // its own (ended with it, should the process die); the later ones then find nothing pending.
        let lock = match &self.keeper_lease {
            Some(lease) => {
                let conn = Database::connect(Self::options(&lease.url, 1, true)).await?;
                let take = format!("SELECT pg_advisory_lock({MIGRATION_LOCK}, hashtext(current_schema()))");
                conn.execute_unprepared(&take).await.map_err(StoreError::classify)?;
                Some(conn)
            }
            None => None,
        };
        // Said before, as a migration may hold a large table for seconds.
        let pending = Migrator::get_pending_migrations_read_only(&self.db).await.unwrap_or_default();
        let upgrade = pending.len() < Migrator::migrations().len();
        if let (true, Some(first), Some(last)) = (upgrade, pending.first(), pending.last()) {
            tracing::info!(
                "applying {} migration(s), {} to {}; stop every instance of the earlier release (README: Upgrading)",
                pending.len(),
                first.name(),
                last.name()
            );
        }
        let mut migrated = Migrator::up(&self.db, None).await;
        // A migration's own refusal (`DbErr::Migration`, e.g. values a new constraint cannot take) is final.
        let refused = matches!(migrated, Err(DbErr::Migration(_)));
        if let Some(conn) = lock {
            let _ = conn.close().await;
        } else if migrated.is_err() && !refused {
            // SQLite has no such lock: a second process starting at the same moment collides with the first
            // and waits for it to finish (one server per SQLite file is the advice; this spares the restart).
            for _ in 0..150 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if self.pending_migrations().await.is_ok_and(|p| p.is_empty()) {
                    migrated = Ok(());
                    break;
                }
            }
        }
        migrated?;
        self.fingerprint_moved_opinions().await
    }

    /// Opinions moved out of the old intake by a migration get the fingerprint only Rust can compute.
    async fn fingerprint_moved_opinions(&self) -> Result<()> {
        use entities::opinion;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        // A literal, not a bound value, so both databases use the partial index on exactly this value.
        let moved = opinion::Entity::find()
            .filter(Expr::cust(format!("fingerprint = '{}'", migrations::FINGERPRINT_LATER)))
            .all(&self.db)
            .await?;
        for o in moved {
            let fingerprint = crate::domain::text::fingerprint(&o.text);
            opinion::Entity::update_many()
                .col_expr(opinion::Column::Fingerprint, Expr::value(fingerprint))
                .filter(opinion::Column::Id.eq(o.id))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Refuses a database that a newer release has migrated (a rollback without its backup): this build
    /// cannot know what its tables mean now.
    ///
    /// # Errors
    /// `Conflict` naming the migrations this build does not have; a database failure.
    pub async fn refuse_newer_schema(&self) -> Result<()> {
        let backend = self.db.get_database_backend();
        let listed = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(backend, "SELECT version FROM seaql_migrations"))
            .await;
        // No migrations table yet: a new database.
        let Ok(rows) = listed else { return Ok(()) };
        let known: std::collections::HashSet<String> =
            Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        let mut unknown = Vec::new();
        for row in rows {
            let version = row.try_get::<String>("", "version")?;
            if !known.contains(&version) {
                unknown.push(version);
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        Err(StoreError::Conflict(format!(
            "this database was migrated by a newer release of wenji ({}), which this one does not know: run that release, or restore the backup taken before the upgrade",
            unknown.join(", ")
        )))
    }

    /// The names of the migrations not yet applied, read without changing the database (not even
    /// creating the migrations table).
    ///
    /// # Errors
    /// When the database cannot be read, or holds migrations this build does not know (it is newer).
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        self.refuse_newer_schema().await?;
        let pending = Migrator::get_pending_migrations_read_only(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Why a write would be refused now, for `/healthz`, or `None`. On SQLite: the database's filesystem
    /// has under [`LOW_SPACE_BYTES`] free, or refuses a small synced write (read-only, failing). On PostgreSQL: the
    /// database takes no writes (a standby after a failover, `default_transaction_read_only`); its disk is
    /// the database server's to watch.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn write_refusal(&self) -> Result<Option<String>> {
        if !self.is_sqlite() {
            // An UPDATE is refused wherever a write would be (read-only transactions, a standby), even one
            // that matches no row and so writes nothing.
            let txn = self.db.begin().await?;
            // A lock held on the table must not keep the check, and its connection, waiting.
            txn.execute_unprepared("SET LOCAL lock_timeout = '1s'; SET LOCAL statement_timeout = '2s'").await?;
            let probe = sea_orm::Statement::from_string(
                DbBackend::Postgres,
                "UPDATE seaql_migrations SET version = version WHERE FALSE",
            );
            let refused = match txn.execute_raw(probe).await.map_err(StoreError::classify) {
                Ok(_) => None,
                Err(StoreError::Unavailable(e)) => {
                    tracing::warn!("health check: the database refuses writes: {e}");
                    Some("database refuses writes (read-only or unavailable)".to_owned())
                }
                Err(e) => return Err(e),
            };
            drop(txn.rollback().await);
            return Ok(refused);
        }
        let Some(file) = self.sqlite_file().await? else { return Ok(None) };
        let folder = std::path::Path::new(&file).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        if let Ok(fs) = rustix::fs::statvfs(&folder) {
            let free = fs.f_bavail.saturating_mul(fs.f_frsize);
            if free < LOW_SPACE_BYTES {
                return Ok(Some(format!("disk full: {} KiB free beside the database", free / 1024)));
            }
        }
        // A file written and synced beside the database, as a commit writes its `-wal`: ext4 turned read-only
        // after I/O errors refuses it (its statvfs does not say so), without the database's write lock.
        let probe = tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let mut f = tempfile::Builder::new().prefix(".wenji-health-").tempfile_in(&folder)?;
            f.write_all(b"ok")?;
            f.as_file().sync_data()
        });
        Ok(match probe.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                tracing::warn!("health check: cannot write beside the database: {e}");
                Some(format!("cannot write beside the database: {}", e.kind()))
            }
            Err(e) => Some(format!("health check failed: {e}")),
        })
    }

    /// The SQLite database file, if this is one (not PostgreSQL, not in memory).
    pub(crate) async fn sqlite_file(&self) -> Result<Option<String>> {
        if !self.is_sqlite() {
            return Ok(None);
        }
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
            ))
            .await?;
        let file = match row {
            Some(r) => r.try_get::<String>("", "file")?,
            None => String::new(),
        };
        Ok(Some(file).filter(|f| !f.is_empty()))
    }

    /// How the connections that commit submissions flush a commit, as the database reports it: SQLite's
    /// `synchronous` (`FULL`) or PostgreSQL's `synchronous_commit` (`on`).
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn commit_durability(&self) -> Result<String> {
        let sql = if self.is_sqlite() { "PRAGMA synchronous" } else { "SHOW synchronous_commit" };
        let backend = self.writer.get_database_backend();
        let row = self.writer.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?;
        let Some(row) = row else { return Ok(String::new()) };
        Ok(if self.is_sqlite() {
            let level = row.try_get_by_index::<i64>(0)?;
            ["OFF", "NORMAL", "FULL", "EXTRA"].get(level as usize).map_or(level.to_string(), |s| (*s).to_owned())
        } else {
            row.try_get_by_index::<String>(0)?
        })
    }

    pub(crate) fn commit_sync(&self) -> bool {
        self.commit_sync
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

    /// Begins a write transaction (submission batches, tagging, notes, keywords, the search index): one
    /// connection held from BEGIN to COMMIT or ROLLBACK; on SQLite IMMEDIATE, taking the write lock at
    /// once. End it with [`WriteTxn::finish`].
    ///
    /// # Errors
    /// When the transaction cannot begin (classified: a full disk is `Unavailable`).
    pub(crate) async fn write_txn(&self) -> Result<WriteTxn<'_>> {
        self.begin_on(&self.writer).await
    }

    /// [`Store::write_txn`] for rows that are their own (staff sessions, an audit entry alone, a stopped
    /// export's mark): on SQLite in the writer's turn like every write (its busy timeout failed a sign-in
    /// behind a long bulk change); on PostgreSQL on the general pool, so signing in or out never waits for the
    /// staff writers' four connections held by blocked work.
    pub(crate) async fn bookkeeping_txn(&self) -> Result<WriteTxn<'_>> {
        if self.is_sqlite() { self.write_txn().await } else { self.begin_on(&self.db).await }
    }

    /// [`Store::write_txn`] for a batch of submissions (its own connections on PostgreSQL).
    pub(crate) async fn submission_txn(&self) -> Result<WriteTxn<'_>> {
        self.begin_on(&self.submitting).await
    }

    async fn begin_on(&self, pool: &DatabaseConnection) -> Result<WriteTxn<'_>> {
        // PostgreSQL runs transactions side by side; SQLite has one writer at a time anyway.
        let turn = if self.is_sqlite() { Some(self.writer_turn.lock().await) } else { None };
        let options = TransactionOptions {
            isolation_level: None::<IsolationLevel>,
            access_mode: None::<AccessMode>,
            sqlite_transaction_mode: self.is_sqlite().then_some(SqliteTransactionMode::Immediate),
        };
        let txn = pool.begin_with_options(options).await?;
        Ok(WriteTxn { txn, _turn: turn })
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

/// An open write transaction: owns its connection until [`WriteTxn::finish`] (see [`Store::write_txn`]).
pub(crate) struct WriteTxn<'a> {
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl WriteTxn<'_> {
    /// The transaction to run statements in.
    pub(crate) fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Commits when `result` is `Ok`, rolls back otherwise; returns `result`, or the commit's error.
    ///
    /// # Errors
    /// `result`'s error, or the database's (classified: a full disk is `Unavailable`).
    pub(crate) async fn finish<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Ok(done) => {
                self.txn.commit().await?;
                Ok(done)
            }
            Err(e) => {
                // SQLite may have rolled back already (a full disk); the pool then drops the connection.
                let _ = self.txn.rollback().await;
                Err(e)
            }
        }
    }
}
