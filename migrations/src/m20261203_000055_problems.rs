//! 问题清单: problems the office distils from opinions (title, areas, description, root-cause analysis,
//! optional cause type), and which opinions support each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Problems {
    Table,
    Id,
    Title,
    /// The area codes, comma-separated in order ("1,7").
    Areas,
    Description,
    RootCause,
    CauseType,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum ProblemOpinions {
    Table,
    ProblemId,
    OpinionId,
    LinkedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Opinions {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Problems::Table)
                .if_not_exists()
                .col(big_pk_auto(Problems::Id))
                .col(text(Problems::Title))
                .col(text(Problems::Areas))
                .col(text(Problems::Description))
                .col(text(Problems::RootCause))
                .col(text_null(Problems::CauseType))
                .col(text(Problems::CreatedBy))
                .col(big_integer(Problems::CreatedAt))
                .col(big_integer(Problems::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProblemOpinions::Table)
                .if_not_exists()
                .col(big_integer(ProblemOpinions::ProblemId))
                .col(big_integer(ProblemOpinions::OpinionId))
                .col(big_integer(ProblemOpinions::LinkedAt))
                .primary_key(Index::create().col(ProblemOpinions::ProblemId).col(ProblemOpinions::OpinionId))
                .foreign_key(
                    ForeignKey::create()
                        .from(ProblemOpinions::Table, ProblemOpinions::ProblemId)
                        .to(Problems::Table, Problems::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ProblemOpinions::Table, ProblemOpinions::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, ProblemOpinions::Table, &[ProblemOpinions::OpinionId], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProblemOpinions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Problems::Table).to_owned()).await
    }
}
