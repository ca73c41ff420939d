//! PostgreSQL only: staff writes keep their state counts in slots of their own (16 to 23), apart from the
//! submission batches' (0 to 15). A slot is taken by the process id, so a bulk undo holding its slot's
//! counters until it commits made a citizen's batch that drew the same slot wait for seconds. Connections
//! for staff writes say so with the session setting `wenji.count_slots = 'staff'`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const STAFF_SLOTS: &str = "DECLARE s SMALLINT := CASE WHEN current_setting('wenji.count_slots', true) = 'staff' \
    THEN 16 + pg_backend_pid() % 8 ELSE pg_backend_pid() % 16 END;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let per_connection = "DECLARE s SMALLINT := pg_backend_pid() % 16;";
        let function = crate::m20261203_000058_pg_commit_path::COUNTS_FUNCTION;
        if !function.contains(per_connection) {
            return Err(DbErr::Migration("the counts function no longer takes its slot as expected".into()));
        }
        m.get_connection().execute_unprepared(&function.replace(per_connection, STAFF_SLOTS)).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection().execute_unprepared(crate::m20261203_000058_pg_commit_path::COUNTS_FUNCTION).await?;
        Ok(())
    }
}
