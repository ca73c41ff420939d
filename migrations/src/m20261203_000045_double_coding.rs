//! Double coding: which forms have it (sample percentage, salt, adjudicator), each coder's independent
//! coding of an opinion (two slots; one person never holds both), and the adjudicator's decisions.

use crate::m20261126_000002_responses::Opinions;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum CodingForms {
    Table,
    FormSlug,
    Percent,
    Salt,
    AdjudicatorId,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Codings {
    Table,
    OpinionId,
    Slot,
    UserId,
    CoderName,
    Areas,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum CodingDecisions {
    Table,
    OpinionId,
    UserId,
    Areas,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CodingForms::Table)
                .if_not_exists()
                .col(string_len(CodingForms::FormSlug, 64).primary_key())
                .col(small_integer(CodingForms::Percent))
                .col(big_integer(CodingForms::Salt))
                .col(big_integer_null(CodingForms::AdjudicatorId))
                .col(big_integer(CodingForms::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Codings::Table)
                .if_not_exists()
                .col(big_integer(Codings::OpinionId))
                .col(small_integer(Codings::Slot))
                .col(big_integer(Codings::UserId))
                .col(text(Codings::CoderName))
                .col(string_len(Codings::Areas, 32))
                .col(big_integer(Codings::CreatedAt))
                .primary_key(Index::create().col(Codings::OpinionId).col(Codings::Slot))
                .foreign_key(
                    ForeignKey::create()
                        .from(Codings::Table, Codings::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The database itself refuses a second slot for the same person.
        crate::index(m, Codings::Table, &[Codings::OpinionId, Codings::UserId], true).await?;
        m.create_table(
            Table::create()
                .table(CodingDecisions::Table)
                .if_not_exists()
                .col(big_integer(CodingDecisions::OpinionId).primary_key())
                .col(big_integer(CodingDecisions::UserId))
                .col(string_len(CodingDecisions::Areas, 32))
                .col(big_integer(CodingDecisions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CodingDecisions::Table, CodingDecisions::OpinionId)
                        .to(Opinions::Table, Opinions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CodingDecisions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Codings::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(CodingForms::Table).to_owned()).await
    }
}
