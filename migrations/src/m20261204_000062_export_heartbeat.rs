//! Gives each export job a heartbeat (`heartbeat_at`, ms), refreshed with its progress, so a starting
//! server fails only jobs nobody is running any more, not those another instance is still writing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("ALTER TABLE export_jobs ADD COLUMN heartbeat_at BIGINT NOT NULL DEFAULT 0").await?;
        db.execute_unprepared("UPDATE export_jobs SET heartbeat_at = COALESCE(finished_at, created_at)").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("ALTER TABLE export_jobs DROP COLUMN heartbeat_at").await?;
        Ok(())
    }
}
