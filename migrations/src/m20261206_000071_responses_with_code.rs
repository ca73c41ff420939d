//! Whether a response was sent with a single-use code, so coded responses reach leaders only among coded
//! ones (a unit's own open link, before or beside or after its codes, must not release one beside a
//! leader's own). It names no code and no link. For a response already waiting from its unit's first codes
//! on, nothing stored tells: it is marked unknown (NULL) and held back from leaders; the office sees it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        // No default: a response stored without the mark (an instance not yet upgraded, beside one that
        // is) stays unknown and held back, rather than counted open.
        db.execute_unprepared("ALTER TABLE responses ADD COLUMN with_code BOOLEAN").await?;
        // Open unless waiting and sent from the minute codes were first issued to a link of its unit
        // (dropped since or not; times are stored to the minute).
        db.execute_unprepared(
            "UPDATE responses SET with_code = FALSE WHERE released_at IS NOT NULL OR NOT EXISTS (SELECT 1 \
             FROM links l JOIN audit_log a ON a.action = 'access_codes_issued' AND a.target = 'link:' || l.id \
             WHERE l.form_slug = responses.form_slug AND l.unit_code = responses.unit_code \
             AND responses.submitted_at >= (a.at / 60000) * 60000)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("ALTER TABLE responses DROP COLUMN with_code").await?;
        Ok(())
    }
}
