//! Whether a response was sent with a single-use code, so coded responses reach leaders only among coded
//! ones (a unit's own later open link, or dropped codes, must not release one beside a leader's own). It
//! names no code and no link. Responses already waiting are marked from their unit's first codes on, where
//! a coded link of their form and unit exists (the minute the codes were issued counts as before).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("ALTER TABLE responses ADD COLUMN with_code BOOLEAN NOT NULL DEFAULT FALSE").await?;
        db.execute_unprepared(
            "UPDATE responses SET with_code = TRUE WHERE released_at IS NULL AND EXISTS (SELECT 1 FROM links l \
             JOIN audit_log a ON a.action = 'access_codes_issued' AND a.target = 'link:' || l.id \
             WHERE l.needs_code AND l.form_slug = responses.form_slug AND l.unit_code = responses.unit_code \
             AND responses.submitted_at > a.at)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("ALTER TABLE responses DROP COLUMN with_code").await?;
        Ok(())
    }
}
