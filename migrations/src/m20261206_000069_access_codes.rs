//! Single-use codes for a link: a link that asks for them takes a response only with an unspent code. A
//! code is stored as a keyed hash and a spent flag, nothing else: no time, no order, no response.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "ALTER TABLE links ADD COLUMN needs_code BOOLEAN NOT NULL DEFAULT FALSE",
            // Keyed by the hash, not by a running number: the table keeps no trace of the order codes were
            // printed in, which the slips handed out might follow.
            "CREATE TABLE access_codes (code_hash VARCHAR(64) PRIMARY KEY, link_id BIGINT NOT NULL, \
             spent BOOLEAN NOT NULL DEFAULT FALSE)",
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
