//! Single-use codes for a link: a link that asks for them takes a response only with an unspent code. A
//! code is stored as a keyed hash and a spent flag, nothing else: no time, no order, no response.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // Keyed by the hash, and on SQLite without the hidden rowid, which would number the rows in the
        // order the slips were printed.
        let without_rowid = if m.get_database_backend() == DbBackend::Sqlite { " WITHOUT ROWID" } else { "" };
        let table = format!(
            "CREATE TABLE access_codes (code_hash VARCHAR(64) PRIMARY KEY, link_id BIGINT NOT NULL, \
             spent BOOLEAN NOT NULL DEFAULT FALSE){without_rowid}"
        );
        for sql in [
            "ALTER TABLE links ADD COLUMN needs_code BOOLEAN NOT NULL DEFAULT FALSE",
            &table,
            "CREATE INDEX access_codes_link ON access_codes (link_id)",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in
            ["DROP INDEX access_codes_link", "DROP TABLE access_codes", "ALTER TABLE links DROP COLUMN needs_code"]
        {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
