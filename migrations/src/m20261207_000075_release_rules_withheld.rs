//! Releases name rules 2 since a release holds back from leaders the answers to questions its rows were not
//! all asked alike (a form reloaded inside a batch). An instance of an older build left running beside a
//! migrated database names 1 (or 0): its claim of a cut is refused, so it cannot release those answers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            // NOT VALID: the releases already made keep the rules they were made under.
            db.execute_unprepared(
                "ALTER TABLE leader_releases ADD CONSTRAINT leader_releases_current_rules CHECK (rules >= 2) NOT VALID",
            )
            .await?;
        } else {
            // SQLite adds no CHECK to a table without rebuilding it; a trigger refuses the claim instead.
            db.execute_unprepared(
                "CREATE TRIGGER leader_releases_current_rules BEFORE INSERT ON leader_releases \
                 WHEN NEW.rules < 2 BEGIN SELECT RAISE(ABORT, 'a release by an older build'); END",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE leader_releases DROP CONSTRAINT leader_releases_current_rules").await?;
        } else {
            db.execute_unprepared("DROP TRIGGER leader_releases_current_rules").await?;
        }
        Ok(())
    }
}
