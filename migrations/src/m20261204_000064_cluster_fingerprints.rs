//! Each placed opinion's fingerprint beside its group, indexed by (group, fingerprint): the inbox's
//! 疑似重复 ("another opinion of the group has the same fingerprint") becomes one index lookup instead of a
//! walk over the group's members (thousands in a campaign of copied templates). Written by the clustering
//! task, never by the submission path.

use crate::m20261203_000050_clusters::OpinionClusters;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cluster {
    Fingerprint,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let add = Table::alter()
            .table(OpinionClusters::Table)
            .add_column(ColumnDef::new(Cluster::Fingerprint).string_len(32).null())
            .to_owned();
        m.alter_table(add).await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE opinion_clusters SET fingerprint = \
                 (SELECT o.fingerprint FROM opinions o WHERE o.id = opinion_clusters.opinion_id)",
            )
            .await?;
        let index = Index::create()
            .name("idx_opinion_clusters_cluster_id_fingerprint")
            .table(OpinionClusters::Table)
            .col(OpinionClusters::ClusterId)
            .col(Cluster::Fingerprint)
            .to_owned();
        m.create_index(index).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let drop =
            Index::drop().name("idx_opinion_clusters_cluster_id_fingerprint").table(OpinionClusters::Table).to_owned();
        m.drop_index(drop).await?;
        let t = Table::alter().table(OpinionClusters::Table).drop_column(Cluster::Fingerprint).to_owned();
        m.alter_table(t).await
    }
}
