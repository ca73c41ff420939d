//! `opinion_intake` no longer keeps a copy of each opinion's text: the text is already in the response's
//! `answers` row, written in the same transaction, and the writer reads it from there when it moves the
//! opinion into `opinions`. Under a burst the intake's copy was half of the text the single writer wrote
//! (and its overflow pages had to be freed again on every move). Opinions waiting while this runs lose
//! nothing: their text is in `answers`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("ALTER TABLE opinion_intake DROP COLUMN text").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let text = match m.get_database_backend() {
            DbBackend::Sqlite => "json_extract(a.value, '$.value')",
            _ => "a.value::json ->> 'value'",
        };
        let db = m.get_connection();
        db.execute_unprepared("ALTER TABLE opinion_intake ADD COLUMN text TEXT NOT NULL DEFAULT ''").await?;
        db.execute_unprepared(&format!(
            "UPDATE opinion_intake SET text = COALESCE((SELECT {text} FROM answers a \
             WHERE a.response_id = opinion_intake.response_id AND a.question_id = opinion_intake.question_id), '')"
        ))
        .await?;
        Ok(())
    }
}
