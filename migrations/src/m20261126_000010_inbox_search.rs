//! Text search over opinions that also finds one- and two-character Chinese words. SQLite: an FTS5
//! `trigram` index (kept in step by triggers) serves queries of three or more characters; shorter ones
//! scan with `instr`. PostgreSQL: a `pg_trgm` GIN index when the extension can be created (else a scan).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE IF NOT EXISTS opinions_fts USING fts5(text, content='opinions', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS opinions_fts_ai AFTER INSERT ON opinions BEGIN \
       INSERT INTO opinions_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS opinions_fts_ad AFTER DELETE ON opinions BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER IF NOT EXISTS opinions_fts_au AFTER UPDATE OF text ON opinions BEGIN \
       INSERT INTO opinions_fts(opinions_fts, rowid, text) VALUES ('delete', old.id, old.text); \
       INSERT INTO opinions_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO opinions_fts(opinions_fts) VALUES ('rebuild')",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS opinions_fts_au",
    "DROP TRIGGER IF EXISTS opinions_fts_ad",
    "DROP TRIGGER IF EXISTS opinions_fts_ai",
    "DROP TABLE IF EXISTS opinions_fts",
];

// The extension may be missing or not creatable by this account: search then scans, which still works.
const PG_UP: &str = "DO $$ BEGIN \
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public; \
    CREATE INDEX IF NOT EXISTS idx_opinions_text_trgm ON opinions USING gin (text public.gin_trgm_ops); \
  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm index not created: %', SQLERRM; \
  END $$";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for s in SQLITE_UP {
                    db.execute_unprepared(s).await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared(PG_UP).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                for s in SQLITE_DOWN {
                    db.execute_unprepared(s).await?;
                }
            }
            DbBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS idx_opinions_text_trgm").await?;
            }
            _ => {}
        }
        Ok(())
    }
}
