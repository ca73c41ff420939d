//! 整改台账: measures per problem (措施, 目标, 时限, 责任, status, publication) and their dated progress.
//! Citizens' ratings are not here: they are submissions of the built-in rating form.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Measures {
    Table,
    Id,
    ProblemId,
    Action,
    Target,
    /// `YYYY-MM-DD`, the bureau's calendar day; empty while a draft has none.
    Deadline,
    Owner,
    Status,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum MeasureProgress {
    Table,
    Id,
    MeasureId,
    /// `YYYY-MM-DD`.
    OnDate,
    Evidence,
    Author,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Problems {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Measures::Table)
                .if_not_exists()
                .col(big_pk_auto(Measures::Id))
                .col(big_integer(Measures::ProblemId))
                .col(text(Measures::Action))
                .col(text(Measures::Target))
                .col(text(Measures::Deadline))
                .col(text(Measures::Owner))
                .col(text(Measures::Status))
                .col(big_integer_null(Measures::PublishedAt))
                .col(big_integer(Measures::CreatedAt))
                .col(big_integer(Measures::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Measures::Table, Measures::ProblemId)
                        .to(Problems::Table, Problems::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, Measures::Table, &[Measures::ProblemId], false).await?;
        m.create_table(
            Table::create()
                .table(MeasureProgress::Table)
                .if_not_exists()
                .col(big_pk_auto(MeasureProgress::Id))
                .col(big_integer(MeasureProgress::MeasureId))
                .col(text(MeasureProgress::OnDate))
                .col(text(MeasureProgress::Evidence))
                .col(text(MeasureProgress::Author))
                .col(big_integer(MeasureProgress::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MeasureProgress::Table, MeasureProgress::MeasureId)
                        .to(Measures::Table, Measures::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, MeasureProgress::Table, &[MeasureProgress::MeasureId], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MeasureProgress::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Measures::Table).to_owned()).await
    }
}
