//! `opinion_intake`: where a burst's opinions wait, in arrival order, before they become rows of
//! `opinions`. Storing an opinion into `opinions` touches ten indexes (state, unit, category, fingerprint,
//! …) spread over many pages; under a burst that was most of what the single writer wrote. An intake row
//! is appended to one table with no other index, in the same transaction as its response, and the writer
//! moves intake rows into `opinions` whenever it has a moment (see `store::direct`). Moving is one
//! transaction per chunk (insert into `opinions`, delete from the intake), so an opinion is never in both
//! places or in neither. Both backends get the table; only SQLite's writer uses it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite: a plain rowid key (no AUTOINCREMENT bookkeeping on every insert); ids may be reused once
        // the intake is empty, which is harmless since a row lives only until it is moved.
        let id = match m.get_database_backend() {
            DbBackend::Sqlite => "id INTEGER PRIMARY KEY",
            _ => "id BIGSERIAL PRIMARY KEY",
        };
        m.get_connection()
            .execute_unprepared(&format!(
                "CREATE TABLE IF NOT EXISTS opinion_intake ({id}, \
                 response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE, \
                 question_id VARCHAR(64) NOT NULL, text TEXT NOT NULL, fingerprint VARCHAR(32) NOT NULL)"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Opinions still waiting are moved first, so going down loses nothing.
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO opinions (response_id, form_slug, question_id, unit_code, category_code, text, \
                 fingerprint, state, representative, submitted_at, updated_at) \
                 SELECT i.response_id, r.form_slug, i.question_id, r.unit_code, r.category_code, i.text, \
                 i.fingerprint, 'pending', false, r.submitted_at, r.submitted_at \
                 FROM opinion_intake i JOIN responses r ON r.id = i.response_id ORDER BY i.id",
            )
            .await?;
        m.get_connection().execute_unprepared("DROP TABLE IF EXISTS opinion_intake").await?;
        Ok(())
    }
}
