//! SQLite: storing a submission no longer writes into two indexes in random order. `responses` had a
//! UNIQUE index on `receipt` and one on `key_hash`, both random strings, so under a burst every
//! submission dirtied a page of each that no other submission of its batch shared: two of the writer's
//! three or four pages per submission. From here on:
//! - a new receipt is the response's id through a keyed permutation (`domain::receipt_key`), nine letters
//!   long: it is turned back into the id to be found, and needs no index. Receipts stored before keep
//!   theirs (eight letters), unique and found through a partial index that new rows never enter;
//! - the submission writer, the one process that stores submissions into a SQLite file (it holds a lock
//!   to be sure), keeps every key it has stored in memory and reads the row by id to tell a retry from a
//!   new submission (`store::direct`).
//!
//! SQLite cannot drop a UNIQUE constraint written into `CREATE TABLE`, so the table is rebuilt, with
//! foreign keys off on one connection held for the purpose (dropping the old table would otherwise
//! delete every answer and opinion through `ON DELETE CASCADE`), in one transaction, and checked before
//! it commits. PostgreSQL keeps both constraints: several instances may store into one database.
//! Both backends get `receipt_key`, the permutation's secret, made here from the database's own
//! randomness.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::sqlx::{self, SqliteConnection};
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `responses` as migration 000002 made it, with or without the two UNIQUE constraints.
fn responses(name: &str, unique: bool) -> String {
    let unique = if unique { " UNIQUE" } else { "" };
    format!(
        "CREATE TABLE \"{name}\" ( \"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
         \"form_version_id\" integer NOT NULL, \"form_slug\" varchar(64) NOT NULL, \"link_id\" integer NULL, \
         \"unit_code\" varchar(64) NULL, \"category_code\" varchar(64) NULL, \
         \"receipt\" varchar(32) NOT NULL{unique}, \"key_hash\" varchar(64) NOT NULL{unique}, \
         \"body_hash\" varchar(64) NOT NULL, \"submitted_at\" integer NOT NULL, \
         FOREIGN KEY (\"form_version_id\") REFERENCES \"form_versions\" (\"id\") )"
    )
}

const COLUMNS: &str =
    "id, form_version_id, form_slug, link_id, unit_code, category_code, receipt, key_hash, body_hash, submitted_at";

/// Random receipts (eight letters: `WJ-XXXX-XXXX`) stay unique and quick to find; numbered ones (nine)
/// never enter this index. Lookups must repeat the condition for SQLite to use it.
const RANDOM_RECEIPTS: &str = "CREATE UNIQUE INDEX IF NOT EXISTS \"idx_responses_random_receipt\" ON \"responses\" (\"receipt\") \
     WHERE length(\"receipt\") = 12";

fn db_err(e: sqlx::Error) -> DbErr {
    DbErr::Migration(format!("rebuilding responses: {e}"))
}

/// Rebuilds `responses` with or without the UNIQUE constraints, keeping every row, its id and the id
/// counter. Nothing happens when the table already has the wanted shape (a rebuild that committed just
/// before the process stopped, before the migration was recorded).
pub(crate) async fn rebuild(m: &SchemaManager<'_>, unique: bool) -> Result<(), DbErr> {
    let db = match m.get_connection() {
        SchemaManagerConnection::Connection(db) => db,
        _ => return Err(DbErr::Migration("rebuilding responses needs a connection, not a transaction".into())),
    };
    let mut conn = db.get_sqlite_connection_pool().acquire().await.map_err(db_err)?;
    let autoindexes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'responses' \
         AND name LIKE 'sqlite_autoindex_responses_%'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    if (autoindexes > 0) == unique {
        return Ok(());
    }
    sqlx::raw_sql("PRAGMA foreign_keys = OFF").execute(&mut *conn).await.map_err(db_err)?;
    let result = copy(&mut conn, unique).await;
    if result.is_err() {
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    let restored = sqlx::raw_sql("PRAGMA foreign_keys = ON").execute(&mut *conn).await.map_err(db_err);
    result.and(restored.map(|_| ()))
}

async fn copy(conn: &mut SqliteConnection, unique: bool) -> Result<(), DbErr> {
    // Checked on the very connection that drops the table: with foreign keys on, DROP TABLE deletes
    // every answer, contact and opinion through their ON DELETE CASCADE.
    let enforced: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&mut *conn).await.map_err(db_err)?;
    if enforced != 0 {
        return Err(DbErr::Migration("rebuilding responses: foreign keys could not be turned off".into()));
    }
    let script = format!(
        "BEGIN IMMEDIATE; \
         {create}; \
         INSERT INTO responses_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM responses ORDER BY id; \
         DELETE FROM sqlite_sequence WHERE name = 'responses_rebuilt'; \
         INSERT INTO sqlite_sequence (name, seq) SELECT 'responses_rebuilt', seq FROM sqlite_sequence \
           WHERE name = 'responses'; \
         DROP TABLE responses; \
         ALTER TABLE responses_rebuilt RENAME TO responses; \
         CREATE INDEX \"idx_responses_form_slug_submitted_at\" ON \"responses\" (\"form_slug\", \"submitted_at\"); \
         {partial}",
        create = responses("responses_rebuilt", unique),
        partial = if unique { "" } else { RANDOM_RECEIPTS },
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(script)).execute(&mut *conn).await.map_err(db_err)?;
    let broken: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut *conn).await.map_err(db_err)?;
    if let Some((table,)) = broken.first() {
        return Err(DbErr::Migration(format!(
            "rebuilding responses: {} rows of {table} and others would lose their response; nothing changed",
            broken.len()
        )));
    }
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await.map_err(db_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let random = match m.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild(m, false).await?;
                "lower(hex(randomblob(32)))"
            }
            _ => "encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex')",
        };
        let db = m.get_connection();
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

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Numbered receipts stay in `receipt` and are unique, so they are still found by value.
        if m.get_database_backend() == DbBackend::Sqlite {
            rebuild(m, true).await?;
        }
        m.get_connection().execute_unprepared("DROP TABLE IF EXISTS receipt_key").await?;
        Ok(())
    }
}
