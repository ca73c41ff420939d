//! Tag assignments (opinion × area, with how the tag came to be), notes, and words analysts add to areas.

use crate::m20261126_000002_responses::Opinions;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum TagAssignments {
    Table,
    OpinionId,
    AreaCode,
    Source,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OpinionNotes {
    Table,
    Id,
    OpinionId,
    UserId,
    Author,
    Text,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum AreaKeywords {
    Table,
    Id,
    AreaCode,
    Word,
    AddedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TagAssignments::Table)
                .if_not_exists()
                .col(big_integer(TagAssignments::OpinionId))
                .col(small_integer(TagAssignments::AreaCode))
                .col(string_len(TagAssignments::Source, 16))
                .col(big_integer_null(TagAssignments::UserId))
                .col(big_integer(TagAssignments::CreatedAt))
                .primary_key(Index::create().col(TagAssignments::OpinionId).col(TagAssignments::AreaCode))
                .foreign_key(
                    ForeignKey::create()
                        .from(TagAssignments::Table, TagAssignments::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, TagAssignments::Table, &[TagAssignments::AreaCode, TagAssignments::OpinionId], false).await?;
        m.create_table(
            Table::create()
                .table(OpinionNotes::Table)
                .if_not_exists()
                .col(big_pk_auto(OpinionNotes::Id))
                .col(big_integer(OpinionNotes::OpinionId))
                .col(big_integer_null(OpinionNotes::UserId))
                .col(text(OpinionNotes::Author))
                .col(text(OpinionNotes::Text))
                .col(big_integer(OpinionNotes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OpinionNotes::Table, OpinionNotes::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, OpinionNotes::Table, &[OpinionNotes::OpinionId], false).await?;
        m.create_table(
            Table::create()
                .table(AreaKeywords::Table)
                .if_not_exists()
                .col(big_pk_auto(AreaKeywords::Id))
                .col(small_integer(AreaKeywords::AreaCode))
                .col(string_len(AreaKeywords::Word, 64))
                .col(text(AreaKeywords::AddedBy))
                .col(big_integer(AreaKeywords::CreatedAt))
                .to_owned(),
        )
        .await?;
        crate::index(m, AreaKeywords::Table, &[AreaKeywords::AreaCode, AreaKeywords::Word], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AreaKeywords::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(OpinionNotes::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(TagAssignments::Table).to_owned()).await
    }
}
