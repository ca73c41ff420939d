//! Contact details citizens left (the `contacts` table): read by administrators beside the response's
//! receipt and opinions, and deleted so that no copy stays in the database file.

use super::audit::{Actor, append_in};
use super::sql::Sql;
use super::{Result, Store, StoreError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

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
    /// connection runs `FAST`, so page splits leave no stray copies either), and the write-ahead log is then
    /// emptied, taking the old frames with it. PostgreSQL keeps dead row versions until VACUUM.
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
            Ok(n)
        }
        .await;
        let n = w.finish(done).await?;
        let emptied = n == 0 || self.empty_write_ahead_log().await;
        Ok((n, emptied))
    }

    /// SQLite: copies the write-ahead log into the database file and truncates it, waiting up to the busy
    /// timeout for readers of older snapshots. True when done, or when there is no such log.
    async fn empty_write_ahead_log(&self) -> bool {
        if !matches!(self.sqlite_file().await, Ok(Some(_))) {
            return true;
        }
        let _turn = self.writer_turn.lock().await;
        let checkpoint = Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(TRUNCATE)");
        match self.writer.query_one_raw(checkpoint).await {
            Ok(Some(row)) => row.try_get_by_index::<i64>(0).is_ok_and(|busy| busy == 0),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot empty the write-ahead log after deleting contacts");
                false
            }
        }
    }
}
