//! Export jobs: large exports run in the background with visible progress.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum ExportJobs {
    Table,
    Id,
    Format,
    Params,
    Status,
    Done,
    Total,
    FileName,
    Error,
    CreatedBy,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ExportJobs::Table)
                .if_not_exists()
                .col(big_pk_auto(ExportJobs::Id))
                .col(string_len(ExportJobs::Format, 8))
                .col(text(ExportJobs::Params))
                .col(string_len(ExportJobs::Status, 16))
                .col(big_integer(ExportJobs::Done).default(0))
                .col(big_integer(ExportJobs::Total).default(0))
                .col(text_null(ExportJobs::FileName))
                .col(text_null(ExportJobs::Error))
                .col(big_integer(ExportJobs::CreatedBy))
                .col(big_integer(ExportJobs::CreatedAt))
                .col(big_integer_null(ExportJobs::FinishedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ExportJobs::Table).to_owned()).await
    }
}
