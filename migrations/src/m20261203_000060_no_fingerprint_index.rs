//! Drops the index on `opinions.fingerprint` (issue 18): its random keys dirtied a random page for every
//! stored opinion. Likely duplicates are found through `opinion_clusters`; the only remaining lookup, moved
//! opinions still awaiting their fingerprint, gets a partial index that new opinions never enter.

use crate::m20261126_000002_responses::Opinions;
use crate::m20261202_000031_constraints_no_intake::FINGERPRINT_LATER;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_opinions_fingerprint").await?;
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS idx_opinions_fingerprint_later ON opinions (id) \
             WHERE fingerprint = '{FINGERPRINT_LATER}'"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX IF EXISTS idx_opinions_fingerprint_later").await?;
        crate::index(m, Opinions::Table, &[Opinions::Fingerprint], false).await
    }
}
