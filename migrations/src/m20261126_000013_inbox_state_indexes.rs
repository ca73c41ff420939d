//! Indexes for the inbox's usual narrowing "this unit (or respondent category) in this state": the
//! matching opinions are one index range, already in id order, so both the keyset page and the count of
//! matches read only those entries.

use crate::m20261126_000002_responses::Opinions;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::index(m, Opinions::Table, &[Opinions::UnitCode, Opinions::State, Opinions::Id], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::CategoryCode, Opinions::State, Opinions::Id], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_opinions_category_code_state_id", "idx_opinions_unit_code_state_id"] {
            m.drop_index(Index::drop().name(name).table(Opinions::Table).to_owned()).await?;
        }
        Ok(())
    }
}
