//! SQLite only: the trigram index is filled after the commit instead of inside it. Indexing a 2 KB
//! opinion into the FTS5 trigram index costs more than storing it, so on the submission path it halved
//! throughput. The insert trigger goes; `search_index_state.indexed_upto` marks how far the background
//! indexer has come (opinion ids only grow: the table is AUTOINCREMENT and one writer commits at a time),
//! and search scans the opinions above the mark directly. The delete and update triggers stay, limited to
//! opinions already in the index (removing a row the index never held would corrupt it).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS search_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_upto INTEGER NOT NULL)",
    // Everything stored so far was indexed by the insert trigger.
    "INSERT OR IGNORE INTO search_index_state (id, indexed_upto) SELECT 1, COALESCE(MAX(id), 0) FROM opinions",
    "DROP TRIGGER IF EXISTS opinions_fts_ai",
    "DROP TRIGGER IF EXISTS opinions_fts_ad",
    "DROP TRIGGER IF EXISTS opinions_fts_au",
    "CREATE TRIGGER opinions_fts_ad AFTER DELETE ON opinions \
       WHEN old.id <= (SELECT indexed_upto FROM search_index_state WHERE id = 1) BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER opinions_fts_au AFTER UPDATE OF text ON opinions \
       WHEN old.id <= (SELECT indexed_upto FROM search_index_state WHERE id = 1) BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); \
       INSERT INTO opinions_fts(rowid, text) VALUES (new.id, new.text); END",
];

const DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS opinions_fts_ad",
    "DROP TRIGGER IF EXISTS opinions_fts_au",
    "DROP TABLE IF EXISTS search_index_state",
    "CREATE TRIGGER opinions_fts_ai AFTER INSERT ON opinions BEGIN \
       INSERT INTO opinions_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER opinions_fts_ad AFTER DELETE ON opinions BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER opinions_fts_au AFTER UPDATE OF text ON opinions BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); \
       INSERT INTO opinions_fts(rowid, text) VALUES (new.id, new.text); END",
    // Opinions stored while the indexer was behind get indexed again by the rebuild.
    "INSERT INTO opinions_fts(opinions_fts) VALUES ('rebuild')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, UP).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, DOWN).await
    }
}

/// Runs `statements` as one batch on one connection. Statement by statement, the pool may hand a
/// `DROP TRIGGER IF EXISTS` to a connection whose copy of the schema predates the trigger; SQLite then
/// compiles it to nothing and the `CREATE` that follows fails. Reading `sqlite_master` first refreshes
/// the schema of the connection that runs the batch.
async fn run(m: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() == DbBackend::Sqlite {
        let batch = format!("SELECT COUNT(*) FROM sqlite_master;\n{};", statements.join(";\n"));
        db.execute_unprepared(&batch).await?;
    }
    Ok(())
}
