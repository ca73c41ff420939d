//! An index on opinions (representative, id): an export writes the representative quotes of every area
//! sheet first, and finds them through it instead of walking the whole table.

use crate::m20261126_000002_responses::Opinions;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::index(m, Opinions::Table, &[Opinions::Representative, Opinions::Id], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("idx_opinions_representative_id").table(Opinions::Table).to_owned()).await
    }
}
