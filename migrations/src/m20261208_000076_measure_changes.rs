//! What changed in a measure's four parts once it had been published, shown on /gongkai beside the
//! measure: a deadline moved or a target lowered after citizens read (and rated) it is said in public.
//! `withdrawn_parts` keeps the four parts a withdrawn measure last showed in public (JSON), so its republication
//! says what changed since then, and no draft written while it was withdrawn.

use crate::m20261203_000056_register::Measures;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum MeasureChanges {
    Table,
    Id,
    MeasureId,
    ChangedAt,
    /// 措施, 目标, 时限 or 责任.
    Part,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(Measures::Table).add_column(text_null(Alias::new("withdrawn_parts"))).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MeasureChanges::Table)
                .if_not_exists()
                .col(big_pk_auto(MeasureChanges::Id))
                .col(big_integer(MeasureChanges::MeasureId))
                .col(big_integer(MeasureChanges::ChangedAt))
                .col(text(MeasureChanges::Part))
                .col(text(MeasureChanges::Before))
                .col(text(MeasureChanges::After))
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureChanges::Table, MeasureChanges::MeasureId)
                        .to(Measures::Table, Measures::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, MeasureChanges::Table, &[MeasureChanges::MeasureId], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MeasureChanges::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(Measures::Table).drop_column(Alias::new("withdrawn_parts")).to_owned()).await
    }
}
