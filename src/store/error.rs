//! Storage errors, classified by the database's own codes: a full disk, a lock held too long or a
//! read-only database is `Unavailable` (a 503 and a retry) whichever write met it.

use sea_orm::{DbErr, RuntimeErr};
use std::time::Duration;

/// A failure in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed; the detail is for the log, never for a page.
    #[error("database: {0}")]
    Db(DbErr),
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
    /// A UNIQUE constraint refused a row: on PostgreSQL, the same change sent twice at once (a double
    /// click) reaches it when both transactions read before either wrote.
    #[error("duplicate: {0}")]
    Duplicate(DbErr),
    /// An edit made from a page showing an older version than the one stored: someone saved meanwhile.
    #[error("edited meanwhile")]
    EditedMeanwhile,
}

/// Every database error passes here, so a full disk is `Unavailable` whichever write met it.
impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> StoreError {
        StoreError::classify(e)
    }
}

/// What a database error code says about the failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Full disk, I/O failure, lock held too long, no connection: temporary.
    Unavailable,
    /// A UNIQUE constraint refused the row.
    Unique,
    Other,
}

/// Classifies by the database's own error code (SQLite's extended result codes, PostgreSQL's SQLSTATE).
pub(crate) fn error_kind(e: &DbErr) -> ErrorKind {
    let sqlx_err = match e {
        DbErr::Exec(RuntimeErr::SqlxError(x))
        | DbErr::Query(RuntimeErr::SqlxError(x))
        | DbErr::Conn(RuntimeErr::SqlxError(x)) => x,
        DbErr::ConnectionAcquire(_) => return ErrorKind::Unavailable,
        _ => return ErrorKind::Other,
    };
    let Some(db) = sqlx_err.as_database_error() else {
        // Pool timeouts, closed connections, I/O on the socket.
        return match &**sqlx_err {
            sea_orm::sqlx::Error::Io(_) | sea_orm::sqlx::Error::PoolTimedOut | sea_orm::sqlx::Error::PoolClosed => {
                ErrorKind::Unavailable
            }
            _ => ErrorKind::Other,
        };
    };
    let code = db.code().unwrap_or_default();
    // By the driver, not by the code's look: PostgreSQL's SQLSTATEs can be all digits too (53100, 08006).
    if db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
        let n = code.parse::<i32>().unwrap_or_default();
        // SQLite: the primary code is the low byte of the extended one.
        return match (n, n & 0xff) {
            (2067 | 1555, _) => ErrorKind::Unique,
            (_, 8) => {
                lasting_refusal_seen();
                ErrorKind::Unavailable
            }
            (_, 5 | 6 | 10 | 13 | 14) => ErrorKind::Unavailable, // BUSY, LOCKED, IOERR, FULL, CANTOPEN
            _ => ErrorKind::Other,
        };
    }
    match code.as_ref() {
        "23505" => ErrorKind::Unique,
        // 53: insufficient resources (53100 disk_full); 08: connection exceptions; 57P: shutting down.
        c if c.starts_with("53") || c.starts_with("08") || c.starts_with("57P") => ErrorKind::Unavailable,
        // Deadlock and serialization failure: the transaction was rolled back and may be tried again.
        "40P01" | "40001" => ErrorKind::Unavailable,
        // A statement or lock timeout an operator set, a transaction idle too long, and a read-only
        // database (a standby after a failover): nothing was stored, and a retry later may succeed.
        "57014" | "55P03" | "25P03" | "25006" => {
            lasting_refusal_seen();
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Other,
    }
}

/// When (ms since [`process_start`]) a connection last met a refusal that can outlast its cause on that
/// connection: SQLite's read-only database (a connection that opened its `-wal` during a read-only window
/// stays read-only for life) and PostgreSQL's timeouts and read-only transactions (`ALTER DATABASE … SET`
/// reaches a connection when it opens, and a RESET does not reach it). Every connection older than that is
/// closed at its next checkout (see `options`).
static LASTING_REFUSAL_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn process_start() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

fn lasting_refusal_seen() {
    let at = u64::try_from(process_start().elapsed().as_millis()).unwrap_or(u64::MAX);
    LASTING_REFUSAL_MS.fetch_max(at.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// Whether a connection `age` old was opened before the last lasting refusal.
pub(super) fn opened_before_refusal(age: Duration) -> bool {
    let seen = LASTING_REFUSAL_MS.load(std::sync::atomic::Ordering::Relaxed);
    let now = u64::try_from(process_start().elapsed().as_millis()).unwrap_or(u64::MAX);
    seen > 0 && now.saturating_sub(u64::try_from(age.as_millis()).unwrap_or(u64::MAX)) <= seen
}

impl StoreError {
    /// Classifies a database error by its code: a full disk and a lock held too long are temporary.
    pub fn classify(e: DbErr) -> StoreError {
        match error_kind(&e) {
            ErrorKind::Unavailable => StoreError::Unavailable(e.to_string()),
            ErrorKind::Unique => StoreError::Duplicate(e),
            ErrorKind::Other => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
