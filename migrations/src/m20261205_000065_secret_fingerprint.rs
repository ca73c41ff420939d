//! A table of one-off facts about the installation; first the fingerprint of the secret its links and QR
//! codes are signed with, so a start with another secret (a restore without `secret.key`, an instance
//! without the shared `WENJI_SECRET`) is refused instead of turning every printed link into 链接无效.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("CREATE TABLE installation (name VARCHAR(64) PRIMARY KEY, value VARCHAR(200) NOT NULL)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP TABLE installation").await?;
        Ok(())
    }
}
