//! One-time tokens of staff forms that create something (a problem, a measure, progress, a note, a link):
//! the create claims its form's token (with the action audited: one create may audit two) in its own
//! transaction, so the same form sent twice (a double click, or two posts at once on two instances)
//! creates one row, by the primary key.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("CREATE TABLE staff_once (token VARCHAR(100) NOT NULL PRIMARY KEY, at BIGINT NOT NULL)")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP TABLE staff_once").await?;
        Ok(())
    }
}
