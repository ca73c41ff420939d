//! Forgets which link each response came through: only its unit is kept. A link per person (an
//! administrator's labels are free text) would otherwise point back at one respondent; nothing read it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("UPDATE responses SET link_id = NULL WHERE link_id IS NOT NULL").await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(()) // what was forgotten stays forgotten
    }
}
