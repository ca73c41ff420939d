//! Leaders' views read responses released to them, not everything sent before a midnight: a unit's new
//! responses are released together once there are k of them, so no two leader views taken on different
//! days differ by fewer than k responses of one unit (see `store/releases.rs`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "ALTER TABLE responses ADD COLUMN released_at BIGINT",
            "ALTER TABLE opinions ADD COLUMN released_at BIGINT",
            // Partial: a submission is stored with NULL, so the write path pays nothing for them.
            "CREATE INDEX responses_released ON responses (form_slug, released_at) WHERE released_at IS NOT NULL",
            "CREATE INDEX opinions_released ON opinions (form_slug, released_at) WHERE released_at IS NOT NULL",
            "CREATE TABLE leader_releases (cut_ms BIGINT PRIMARY KEY, released BIGINT NOT NULL, \
             waiting BIGINT NOT NULL, made_at BIGINT NOT NULL)",
            "CREATE TABLE leader_pooled_units (form_slug VARCHAR(200) NOT NULL, unit_code VARCHAR(200) NOT NULL, \
             cut_ms BIGINT NOT NULL, PRIMARY KEY (form_slug, unit_code))",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in [
            "DROP TABLE leader_pooled_units",
            "DROP TABLE leader_releases",
            "DROP INDEX opinions_released",
            "DROP INDEX responses_released",
            "ALTER TABLE opinions DROP COLUMN released_at",
            "ALTER TABLE responses DROP COLUMN released_at",
        ] {
            db.execute_unprepared(sql).await?;
        }
        Ok(())
    }
}
