//! The k each release to leaders was made with, so a later release never uses a smaller one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("ALTER TABLE leader_releases ADD COLUMN k BIGINT NOT NULL DEFAULT 0")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("ALTER TABLE leader_releases DROP COLUMN k").await?;
        Ok(())
    }
}
