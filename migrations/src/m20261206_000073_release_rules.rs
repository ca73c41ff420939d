//! Which rules made a release to leaders: 1 since coded and open responses go out apart (migration
//! 000071); rows made before this column hold 0. Its real work is to refuse a release by an instance of an
//! older release still running beside a migrated database: that instance does not name the column, so its
//! claim of a cut fails and it cannot release a coded response beside its unit's open ones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("ALTER TABLE leader_releases ADD COLUMN rules INTEGER").await?;
        db.execute_unprepared("UPDATE leader_releases SET rules = 0").await?;
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE leader_releases ALTER COLUMN rules SET NOT NULL").await?;
        } else {
            // SQLite adds no NOT NULL column without a default, and tests a CHECK added with a column against
            // the rows already there (NULL): a trigger refuses a claim without it instead.
            db.execute_unprepared(
                "CREATE TRIGGER leader_releases_name_rules BEFORE INSERT ON leader_releases \
                 WHEN NEW.rules IS NULL BEGIN SELECT RAISE(ABORT, 'a release must name its rules'); END",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != DbBackend::Postgres {
            m.get_connection().execute_unprepared("DROP TRIGGER leader_releases_name_rules").await?;
        }
        m.get_connection().execute_unprepared("ALTER TABLE leader_releases DROP COLUMN rules").await?;
        Ok(())
    }
}
