//! One write path on the database's own guarantees (issue 18):
//! - opinions waiting in `opinion_intake` move into `opinions` (their fingerprint is filled in by
//!   `Store::migrate`, which has the function), and the intake is dropped;
//! - SQLite's `responses` gets back its UNIQUE constraints on `receipt` and `key_hash` (PostgreSQL kept
//!   them), after a check that no value is stored twice; every receipt, numbered or random, is then found
//!   by its value;
//! - the secret of numbered receipts is dropped: new receipts are random.

use super::m20261126_000023_responses_unindexed_keys::rebuild;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The fingerprint a moved opinion carries until `Store::migrate` computes it from its text.
pub const FINGERPRINT_LATER: &str = "";

async fn count(m: &SchemaManager<'_>, sql: &str) -> Result<i64, DbErr> {
    let db = m.get_connection();
    let row = db.query_one_raw(Statement::from_string(m.get_database_backend(), sql)).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Moves every intake row into `opinions` and drops the intake, in one transaction; refuses if an intake
/// row has no answer to take its text from (it would be lost).
async fn move_intake(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    if !m.has_table("opinion_intake").await? {
        return Ok(());
    }
    let text = match m.get_database_backend() {
        DbBackend::Sqlite => "json_extract(a.value, '$.value')",
        _ => "a.value::json ->> 'value'",
    };
    let waiting = count(m, "SELECT COUNT(*) FROM opinion_intake").await?;
    let found = count(
        m,
        "SELECT COUNT(*) FROM opinion_intake i JOIN responses r ON r.id = i.response_id \
         JOIN answers a ON a.response_id = i.response_id AND a.question_id = i.question_id",
    )
    .await?;
    if found != waiting {
        return Err(DbErr::Migration(format!(
            "{waiting} opinions wait in opinion_intake but only {found} have their answer; nothing moved"
        )));
    }
    // PostgreSQL runs each migration in a transaction already; SQLite's runs on a plain connection.
    let (begin, commit) = match m.get_database_backend() {
        DbBackend::Sqlite => ("BEGIN IMMEDIATE;", "COMMIT;"),
        _ => ("", ""),
    };
    let db = m.get_connection();
    db.execute_unprepared(&format!(
        "{begin} \
         INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
         fingerprint, state, representative, submitted_at, updated_at) \
         SELECT i.response_id, r.form_slug, i.question_id, r.unit_code, r.category_code, {text}, \
         COALESCE(i.fingerprint, '{FINGERPRINT_LATER}'), 'pending', false, r.submitted_at, r.submitted_at \
         FROM opinion_intake i JOIN responses r ON r.id = i.response_id \
         JOIN answers a ON a.response_id = i.response_id AND a.question_id = i.question_id ORDER BY i.id; \
         DROP TABLE opinion_intake; \
         {commit}"
    ))
    .await?;
    Ok(())
}

/// Fails, naming the value, when `column` of `responses` holds a value twice.
async fn refuse_duplicates(m: &SchemaManager<'_>, column: &str) -> Result<(), DbErr> {
    let db = m.get_connection();
    let sql = format!("SELECT {column} FROM responses GROUP BY {column} HAVING COUNT(*) > 1 LIMIT 1");
    if let Some(row) = db.query_one_raw(Statement::from_string(m.get_database_backend(), sql)).await? {
        let value: String = row.try_get_by_index(0)?;
        return Err(DbErr::Migration(format!(
            "responses.{column} holds {value:?} more than once; a UNIQUE constraint cannot be created. \
             Nothing changed: resolve the duplicates by hand (keep one row) and run `wenji migrate` again"
        )));
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        move_intake(m).await?;
        refuse_duplicates(m, "key_hash").await?;
        refuse_duplicates(m, "receipt").await?;
        if m.get_database_backend() == DbBackend::Sqlite {
            rebuild(m, true).await?;
        }
        m.get_connection().execute_unprepared("DROP TABLE IF EXISTS receipt_key").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let (id, random) = match m.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild(m, false).await?;
                ("id INTEGER PRIMARY KEY", "lower(hex(randomblob(32)))")
            }
            _ => (
                "id BIGSERIAL PRIMARY KEY",
                "encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex')",
            ),
        };
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "CREATE TABLE IF NOT EXISTS opinion_intake ({id}, \
             response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE, \
             question_id VARCHAR(64) NOT NULL, fingerprint VARCHAR(32) NOT NULL)"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS receipt_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret VARCHAR(64) NOT NULL)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO receipt_key (id, secret) VALUES (1, {random}) ON CONFLICT (id) DO NOTHING"
        ))
        .await?;
        Ok(())
    }
}
