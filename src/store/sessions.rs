//! Server-side sessions for signed-in staff, kept in the database (tower-sessions' store trait over
//! sea-orm). Only a hash of each session id is stored, so a copy of the database opens no session.
//! Citizens never get a session. A session ends after [`IDLE_LIMIT_MS`] without activity, judged by
//! [`SessionClock`].

use super::entities::session;
use super::{Store, StoreError, now_ms};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The key in a session's data that holds the signed-in user's id.
pub const USER_KEY: &str = "user_id";

/// A session not used for this long ends (inactivity expiry); each save pushes it back.
pub const IDLE_LIMIT_MS: i64 = 2 * 3600 * 1000;

/// The time sessions are judged by: the system's, which tests move forward instead of waiting hours.
#[derive(Debug, Clone, Default)]
pub struct SessionClock {
    offset_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl SessionClock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves this clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

/// tower-sessions' store, backed by the `sessions` table.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    store: Store,
    clock: SessionClock,
}

impl DbSessionStore {
    pub fn new(store: Store, clock: SessionClock) -> Self {
        DbSessionStore { store, clock }
    }
}

fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: sea_orm::DbErr) -> session_store::Error {
    failed(StoreError::classify(e))
}

fn failed(e: StoreError) -> session_store::Error {
    if matches!(e, StoreError::Unavailable(_)) {
        let _ = REQUEST.try_with(|r| r.unavailable.set(true));
    }
    session_store::Error::Backend(e.to_string())
}

/// What one request's session writes met, and may skip.
#[derive(Default)]
struct RequestSessionWrites {
    /// A session could not be saved because the database is unavailable (a full disk).
    unavailable: std::cell::Cell<bool>,
    /// The request only reads: its session's renewal may wait for a later request (see [`renewal_may_wait`]).
    renewal_may_wait: std::cell::Cell<bool>,
}

tokio::task_local! {
    static REQUEST: RequestSessionWrites;
}

/// Runs `request` (a request through the session layer) and says whether a session write met an
/// unavailable database: tower-sessions answers that with a bare 500, which the caller turns into a 503.
pub async fn watch_unavailable<F: std::future::Future>(request: F) -> (F::Output, bool) {
    REQUEST
        .scope(RequestSessionWrites::default(), async move {
            let out = request.await;
            (out, REQUEST.with(|r| r.unavailable.get()))
        })
        .await
}

/// Marks the current request as a read whose session renewal is best effort: on a full disk, or with the
/// writer busy past [`RENEWAL_PATIENCE`] (a long bulk change on SQLite), the renewal is skipped and the
/// page is served; the session keeps its stored expiry and the next request renews it.
pub fn renewal_may_wait() {
    let _ = REQUEST.try_with(|r| r.renewal_may_wait.set(true));
}

/// How long a read's session renewal waits for the database before it is left for a later request.
pub const RENEWAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

impl DbSessionStore {
    fn row(&self, record: &Record) -> session_store::Result<session::ActiveModel> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record.data.get(USER_KEY).and_then(serde_json::Value::as_i64);
        Ok(session::ActiveModel {
            id: Set(key(&record.id)),
            user_id: Set(user_id),
            data: Set(data),
            // Judged by our clock rather than tower-sessions' own, so that tests can move time on.
            expires_at: Set(self.clock.now_ms() + IDLE_LIMIT_MS),
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    /// A new session (each sign-in): a plain insert, drawing a fresh id in the unlikely case it is taken.
    /// In a [`Store::bookkeeping_txn`].
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let row = self.row(record)?;
            let w = self.store.bookkeeping_txn().await.map_err(failed)?;
            match session::Entity::insert(row).exec_without_returning(w.conn()).await {
                Ok(_) => return w.finish(Ok(())).await.map_err(failed),
                Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                    let _ = w.finish::<()>(Err(StoreError::classify(e))).await;
                    record.id = Id::default();
                }
                Err(e) => return w.finish(Err(StoreError::classify(e))).await.map_err(failed),
            }
        }
    }

    /// An existing session's data and expiry; never an insert (new sessions come through `create`). A
    /// request begun before its session ended elsewhere (signed out, password reset) must not revive it.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = self.row(record)?;
        let update = async {
            let w = self.store.bookkeeping_txn().await?;
            let done = session::Entity::update_many()
                .set(row)
                .filter(session::Column::Id.eq(key(&record.id)))
                .exec(w.conn())
                .await;
            w.finish(done.map(drop).map_err(StoreError::classify)).await
        };
        if !REQUEST.try_with(|r| r.renewal_may_wait.get()).unwrap_or(false) {
            return update.await.map_err(failed);
        }
        match tokio::time::timeout(RENEWAL_PATIENCE, update).await {
            Ok(Err(StoreError::Unavailable(why))) => {
                tracing::debug!(%why, "a read's session renewal is left for a later request");
                Ok(())
            }
            Ok(done) => done.map_err(failed),
            Err(_) => {
                tracing::debug!("a read's session renewal is left for a later request: the writer is busy");
                Ok(())
            }
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = session::Entity::find_by_id(key(id)).one(self.store.db()).await.map_err(backend)? else {
            return Ok(None);
        };
        if row.expires_at < self.clock.now_ms() {
            return Ok(None);
        }
        let data = serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(row.expires_at / 1000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let w = self.store.bookkeeping_txn().await.map_err(failed)?;
        let done = session::Entity::delete_by_id(key(id)).exec(w.conn()).await;
        w.finish(done.map(drop).map_err(StoreError::classify)).await.map_err(failed)
    }
}

impl Store {
    /// Removes expired sessions, and staff forms' one-time tokens of over a month ago (no page stays open
    /// that long: a session ends first).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn purge_expired_sessions(&self) -> super::Result<u64> {
        let w = self.write_txn().await?;
        let done = async {
            let r =
                session::Entity::delete_many().filter(session::Column::ExpiresAt.lt(now_ms())).exec(w.conn()).await?;
            let mut sql = super::sql::Sql::new(w.conn().get_database_backend());
            sql.push("DELETE FROM staff_once WHERE at < ").bind(now_ms() - 31 * 86_400_000);
            w.conn().execute_raw(sql.into_statement()).await?;
            Ok(r.rows_affected)
        }
        .await;
        w.finish(done).await
    }
}

/// Ends every session of a user inside the caller's transaction (the user disabled, the password reset).
pub(crate) async fn end_sessions_in<C: ConnectionTrait>(db: &C, user_id: i64) -> super::Result<u64> {
    let r = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(r.rows_affected)
}
