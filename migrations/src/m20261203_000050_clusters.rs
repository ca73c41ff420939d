//! Near-duplicate groups (同类意见): one row per opinion placed by the clustering task, naming its group by
//! the group's first opinion. Kept apart from `opinions` so the submission path never writes it.

use crate::m20261126_000002_responses::Opinions;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum OpinionClusters {
    Table,
    OpinionId,
    ClusterId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OpinionClusters::Table)
                .if_not_exists()
                .col(big_integer(OpinionClusters::OpinionId).primary_key())
                .col(big_integer(OpinionClusters::ClusterId))
                .foreign_key(
                    ForeignKey::create()
                        .from(OpinionClusters::Table, OpinionClusters::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, OpinionClusters::Table, &[OpinionClusters::ClusterId], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OpinionClusters::Table).to_owned()).await
    }
}
