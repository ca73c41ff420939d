//! Contact details citizens left (the `contacts` table): read by administrators beside the response's
//! receipt and opinions, and deleted so that no copy stays in the database file.

use super::audit::{Actor, append_in};
use super::sql::Sql;
use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::time::Duration;

/// One contact left with a response, with what the office needs to call back about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactEntry {
    pub id: i64,
    pub form_slug: String,
    pub question_id: String,
    /// As the citizen typed it.
    pub value: String,
    pub receipt: String,
    pub submitted_at: i64,
    /// The response's opinions, in the order of its questions' storage.
    pub opinions: Vec<String>,
}

/// Every contact (or the one with `id`) with its response and opinions, by form, oldest first.
fn contacts_query(backend: DbBackend, id: Option<i64>) -> Statement {
    let mut sql = Sql::new(backend);
    sql.push(
        "SELECT c.id, r.form_slug, c.question_id, c.value, r.receipt, r.submitted_at, o.text \
         FROM contacts c JOIN responses r ON r.id = c.response_id \
         LEFT JOIN opinions o ON o.response_id = c.response_id",
    );
    if let Some(id) = id {
        sql.push(" WHERE c.id = ").bind(id);
    }
    sql.push(" ORDER BY r.form_slug, c.id, o.id");
    sql.into_statement()
}

impl Store {
    /// Every contact left, by form then oldest first, each with its response's receipt and opinions.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn contacts(&self) -> Result<Vec<ContactEntry>> {
        self.read_contacts(None).await
    }

    /// The contact `id`, with its response's receipt and opinions.
    ///
    /// # Errors
    /// `NotFound` when there is no such contact (never was, or deleted).
    pub async fn contact(&self, id: i64) -> Result<ContactEntry> {
        self.read_contacts(Some(id)).await?.pop().ok_or(StoreError::NotFound)
    }

    async fn read_contacts(&self, id: Option<i64>) -> Result<Vec<ContactEntry>> {
        let rows = self.db().query_all_raw(contacts_query(self.db().get_database_backend(), id)).await?;
        let mut out: Vec<ContactEntry> = Vec::new();
        for r in rows {
            let id: i64 = r.try_get("", "id")?;
            let text: Option<String> = r.try_get("", "text")?;
            match out.last_mut() {
                Some(last) if last.id == id => last.opinions.extend(text),
                _ => out.push(ContactEntry {
                    id,
                    form_slug: r.try_get("", "form_slug")?,
                    question_id: r.try_get("", "question_id")?,
                    value: r.try_get("", "value")?,
                    receipt: r.try_get("", "receipt")?,
                    submitted_at: r.try_get("", "submitted_at")?,
                    opinions: text.into_iter().collect(),
                }),
            }
        }
        Ok(out)
    }

    /// How many contacts were left on form `slug`, and the newest one's id.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn form_contacts(&self, slug: &str) -> Result<(u64, Option<i64>)> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT COUNT(*) AS n, MAX(c.id) AS newest FROM contacts c JOIN responses r ON r.id = c.response_id")
            .push(" WHERE r.form_slug = ")
            .bind(slug);
        let row = self.db().query_one_raw(sql.into_statement()).await?.ok_or(StoreError::NotFound)?;
        let n: i64 = row.try_get("", "n")?;
        Ok((u64::try_from(n).unwrap_or(0), row.try_get("", "newest")?))
    }

    /// Deletes contact `id`, audited as `contact_deleted` in the same transaction (see [`Store::erase`]).
    /// Returns whether the write-ahead log was emptied of older copies too.
    ///
    /// # Errors
    /// `NotFound` when there is no such contact (deleted already).
    pub async fn delete_contact(&self, id: i64, by: &Actor) -> Result<bool> {
        let form = self.contact(id).await?.form_slug;
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("DELETE FROM contacts WHERE id = ").bind(id);
        let deleted = self.erase(sql.into_statement(), by, "contact_deleted", &format!("contact:{id}"), form).await?;
        match deleted {
            (0, _) => Err(StoreError::NotFound),
            (_, emptied) => Ok(emptied),
        }
    }

    /// Deletes the contacts left on form `slug` up to id `upto` (those the confirmation showed; later ones
    /// stay), audited as `contacts_deleted` with the count. Returns the count and whether the write-ahead
    /// log was emptied of older copies too.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn delete_form_contacts(&self, slug: &str, upto: i64, by: &Actor) -> Result<(u64, bool)> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("DELETE FROM contacts WHERE id <= ")
            .bind(upto)
            .push(" AND response_id IN (SELECT id FROM responses WHERE form_slug = ")
            .bind(slug)
            .push(")");
        self.erase(sql.into_statement(), by, "contacts_deleted", &format!("form:{slug}"), String::new()).await
    }

    /// Runs `delete`, audited in the same transaction with the count deleted (nothing deleted: no entry).
    /// On SQLite the transaction runs with `secure_delete=ON`, so freed cells and pages are zeroed (every
    /// connection runs `FAST`, so page splits leave no stray copies either); the old frames in the
    /// write-ahead log are the submission writer's to empty. On PostgreSQL the table is then rewritten.
    /// Returns the count and whether the table holds no old copy (always true on SQLite).
    async fn erase(
        &self,
        delete: Statement,
        by: &Actor,
        action: &str,
        target: &str,
        before: String,
    ) -> Result<(u64, bool)> {
        let sqlite = self.is_sqlite();
        let w = self.write_txn().await?;
        let done = async {
            if sqlite {
                w.conn().execute_unprepared("PRAGMA secure_delete = ON").await?;
            }
            let deleted = w.conn().execute_raw(delete).await;
            if sqlite {
                // The writer's one connection outlives this transaction: back to every write's setting.
                w.conn().execute_unprepared("PRAGMA secure_delete = FAST").await?;
            }
            let n = deleted?.rows_affected();
            if n > 0 {
                let before = Some(before).filter(|b| !b.is_empty());
                append_in(w.conn(), by, action, target, before, Some(n.to_string())).await?;
            }
            let xid = match sqlite {
                true => None,
                false => Some(transaction_id(w.conn()).await?),
            };
            Ok((n, xid))
        }
        .await;
        let (n, xid) = w.finish(done).await?;
        let rewritten = match xid {
            Some(xid) if n > 0 => self.rewrite_contacts_table(xid).await,
            _ => true,
        };
        Ok((n, rewritten))
    }

    /// PostgreSQL: rewrites `contacts` (`VACUUM FULL`) so the row versions transaction `deleted_in` deleted
    /// leave its pages. While a transaction older than that deletion runs, the rewrite would copy them (as
    /// still visible to it), so it waits for those to end: briefly here, then in the background, which also
    /// takes over when the rewrite fails (its lock is held). True when rewritten clean now.
    async fn rewrite_contacts_table(&self, deleted_in: u32) -> bool {
        for _ in 0..REWRITE_TRIES_NOW {
            if let Ok(false) = self.transaction_older_than(deleted_in).await {
                match self.vacuum_contacts(deleted_in).await {
                    Ok(horizon) => {
                        self.record_erased(horizon).await;
                        return true;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "deleted contacts: the table was not rewritten; trying again");
                        break;
                    }
                }
            }
            tokio::time::sleep(REWRITE_WAIT).await;
        }
        self.rewrite_contacts_in_the_background(deleted_in);
        false
    }

    /// At start on PostgreSQL: rewrites `contacts` in the background, for a deletion whose rewrite a stopped
    /// server still owed (that retry lived in its memory). SQLite's writer empties its log at start alike.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn rewrite_contacts_owed_before_start(&self) -> Result<()> {
        if self.is_sqlite() {
            return Ok(());
        }
        // Owed unless a clean rewrite recorded a horizon past the last deletion (its audit entry's `xmin`):
        // the table's own horizon does not tell, as a plain VACUUM moves it on and leaves the bytes.
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT (SELECT xmin::text FROM audit_log WHERE action IN ('contacts_deleted', 'contact_deleted') \
                   ORDER BY id DESC LIMIT 1) AS deleted_in, \
                 (SELECT after FROM audit_log WHERE action = 'contacts_erased' ORDER BY id DESC LIMIT 1) AS erased",
            ))
            .await?;
        let xid = |name: &str| -> Result<Option<u32>> {
            let v = row.as_ref().map(|r| r.try_get::<Option<String>>("", name)).transpose()?.flatten();
            Ok(v.and_then(|v| v.parse().ok()))
        };
        if let Some(deleted_in) = xid("deleted_in")?
            && xid("erased")?.is_none_or(|erased| !precedes(deleted_in, erased))
        {
            self.rewrite_contacts_in_the_background(deleted_in);
        }
        Ok(())
    }

    /// Records a clean rewrite with its horizon, so that a start knows which deletions it covered.
    async fn record_erased(&self, horizon: u32) {
        let by = Actor::system("系统");
        if let Err(e) = self.audit(&by, "contacts_erased", "contacts", None, Some(horizon.to_string())).await {
            tracing::warn!(error = %e, "deleted contacts: the rewrite is done but not recorded; the next start repeats it");
        }
    }

    fn rewrite_contacts_in_the_background(&self, deleted_in: u32) {
        let store = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let mut warned = false;
            let mut wait = REWRITE_WAIT_LATER;
            while started.elapsed() < REWRITE_GIVE_UP {
                tokio::time::sleep(wait).await;
                let failed = match store.transaction_older_than(deleted_in).await {
                    Ok(false) => match store.vacuum_contacts(deleted_in).await {
                        Ok(horizon) => return store.record_erased(horizon).await,
                        Err(e) => {
                            // A rewrite for nothing rewrites the whole table (or a lock is held): try less often.
                            wait = (wait * 2).min(REWRITE_WAIT_MOST);
                            e
                        }
                    },
                    _ => "a transaction older than the deletion is still open".to_owned(),
                };
                if !warned && started.elapsed() >= REWRITE_WARN {
                    warned = true;
                    tracing::warn!(error = %failed, "deleted contacts: old copies are still in the table; trying again");
                }
            }
            tracing::warn!("deleted contacts: not rewritten for a day; old copies stay until VACUUM FULL contacts");
        });
    }

    /// `VACUUM (FULL, FREEZE) contacts` on a connection of its own, closed after: VACUUM runs outside a
    /// transaction. Submissions leaving a number queue behind its lock, so it is not tried while another
    /// session holds any lock on the table, and waits for one 200 ms at most. Clean when the table's file
    /// changed and its horizon (with FREEZE, the oldest transaction still seen, `relfrozenxid`) is past the
    /// deletion: PostgreSQL's own word that nothing it could not see (a standby's snapshot, another role's
    /// transaction) kept the old copies.
    async fn vacuum_contacts(&self, deleted_in: u32) -> std::result::Result<u32, String> {
        let table = "SELECT pg_relation_filenode('contacts')::text || ' ' || relfrozenxid::text \
                     FROM pg_class WHERE oid = 'contacts'::regclass";
        let locked = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'contacts'::regclass \
                      AND pid IS DISTINCT FROM pg_backend_pid())";
        let rewritten = async {
            let mut conn = self.db().get_postgres_connection_pool().acquire().await?.detach();
            let done = async {
                if sea_orm::sqlx::query_scalar::<_, bool>(locked).fetch_one(&mut conn).await? {
                    return Ok(None);
                }
                let before: String = sea_orm::sqlx::query_scalar(table).fetch_one(&mut conn).await?;
                sea_orm::sqlx::query("SET lock_timeout = '200ms'").execute(&mut conn).await?;
                sea_orm::sqlx::query("VACUUM (FULL, FREEZE) contacts").execute(&mut conn).await?;
                let after: String = sea_orm::sqlx::query_scalar(table).fetch_one(&mut conn).await?;
                Ok::<_, sea_orm::sqlx::Error>(Some((before, after)))
            }
            .await;
            let _ = sea_orm::sqlx::Connection::close(conn).await;
            done
        }
        .await;
        let (before, after) = match rewritten {
            Ok(Some(files)) => files,
            Ok(None) => return Err("another session holds a lock on the table".to_owned()),
            Err(e) => return Err(e.to_string()),
        };
        let file = |s: &str| s.split(' ').next().unwrap_or_default().to_owned();
        let horizon: u32 = after.split(' ').nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
        if file(&before) == file(&after) {
            Err("VACUUM FULL did not rewrite the table (does Wenji's role own it?)".to_owned())
        } else if !precedes(deleted_in, horizon) {
            Err("a transaction older than the deletion still kept the old copies".to_owned())
        } else {
            Ok(horizon)
        }
    }

    /// Whether anything that holds back what VACUUM may remove started before transaction `xid`: another
    /// session's snapshot (or a standby's, through its walsender), any database's transaction or prepared
    /// transaction, a replication slot (compared as PostgreSQL compares 32-bit transaction ids).
    async fn transaction_older_than(&self, xid: u32) -> Result<bool> {
        let held = self
            .db()
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT x::text AS v FROM ( \
                   SELECT backend_xmin AS x FROM pg_stat_activity \
                     WHERE (datname = current_database() OR backend_type = 'walsender') \
                       AND pid <> pg_backend_pid() \
                   UNION ALL SELECT backend_xid FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                   UNION ALL SELECT transaction FROM pg_prepared_xacts \
                   UNION ALL SELECT xmin FROM pg_replication_slots \
                 ) AS held WHERE x IS NOT NULL",
            ))
            .await?;
        let mut older = false;
        for row in held {
            let x: u32 = row.try_get::<String>("", "v")?.parse().unwrap_or(0);
            older |= !precedes(xid, x);
        }
        Ok(older)
    }
}

/// Whether 32-bit transaction id `a` came before `b`, as PostgreSQL compares them (modulo 2^32).
fn precedes(a: u32, b: u32) -> bool {
    b.wrapping_sub(a).cast_signed() > 0
}

/// How a rewrite of `contacts` waits for older snapshots to end: within the request, then in the background
/// (saying so in the log after a minute), for up to a day.
const REWRITE_TRIES_NOW: u32 = 4;
const REWRITE_WAIT: Duration = Duration::from_millis(250);
const REWRITE_WAIT_LATER: Duration = Duration::from_secs(2);
const REWRITE_WAIT_MOST: Duration = Duration::from_secs(60);
const REWRITE_WARN: Duration = Duration::from_secs(60);
const REWRITE_GIVE_UP: Duration = Duration::from_secs(24 * 3600);

/// PostgreSQL: the 32-bit id of the transaction `conn` is in (assigning one).
async fn transaction_id(conn: &impl ConnectionTrait) -> Result<u32> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text AS v",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("no transaction id".into()))?;
    Ok(row.try_get::<String>("", "v")?.parse().unwrap_or(0))
}
