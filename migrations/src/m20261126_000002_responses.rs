//! Responses, their answers, contact details (kept apart from opinions) and opinions (free-text answers
//! that analysts tag). Nothing here identifies a person: no address, no user agent, no cookie.

use crate::m20261126_000001_catalogue::FormVersions;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Responses {
    Table,
    Id,
    FormVersionId,
    FormSlug,
    LinkId,
    UnitCode,
    CategoryCode,
    Receipt,
    KeyHash,
    BodyHash,
    SubmittedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Answers {
    Table,
    Id,
    ResponseId,
    QuestionId,
    Value,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Contacts {
    Table,
    Id,
    ResponseId,
    QuestionId,
    Value,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Opinions {
    Table,
    Id,
    ResponseId,
    FormSlug,
    QuestionId,
    UnitCode,
    CategoryCode,
    Text,
    Fingerprint,
    State,
    Representative,
    SubmittedAt,
    UpdatedAt,
}

/// A table of (response, question, value) rows: answers, and contacts kept apart from them.
async fn value_table<T: Iden + Copy + 'static>(
    m: &SchemaManager<'_>,
    table: T,
    id: T,
    resp: T,
    q: T,
    val: T,
) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table(table)
            .if_not_exists()
            .col(big_pk_auto(id))
            .col(big_integer(resp))
            .col(string_len(q, 64))
            .col(text(val))
            .foreign_key(
                ForeignKey::create()
                    .from(table, resp)
                    .to(Responses::Table, Responses::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .to_owned(),
    )
    .await?;
    crate::index(m, table, &[resp], false).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Responses::Table)
                .if_not_exists()
                .col(big_pk_auto(Responses::Id))
                .col(big_integer(Responses::FormVersionId))
                .col(string_len(Responses::FormSlug, 64))
                .col(big_integer_null(Responses::LinkId))
                .col(string_len_null(Responses::UnitCode, 64))
                .col(string_len_null(Responses::CategoryCode, 64))
                .col(string_len_uniq(Responses::Receipt, 32))
                .col(string_len_uniq(Responses::KeyHash, 64))
                .col(string_len(Responses::BodyHash, 64))
                .col(big_integer(Responses::SubmittedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Responses::Table, Responses::FormVersionId)
                        .to(FormVersions::Table, FormVersions::Id),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, Responses::Table, &[Responses::FormSlug, Responses::SubmittedAt], false).await?;
        value_table(m, Answers::Table, Answers::Id, Answers::ResponseId, Answers::QuestionId, Answers::Value).await?;
        value_table(m, Contacts::Table, Contacts::Id, Contacts::ResponseId, Contacts::QuestionId, Contacts::Value)
            .await?;
        m.create_table(
            Table::create()
                .table(Opinions::Table)
                .if_not_exists()
                .col(big_pk_auto(Opinions::Id))
                .col(big_integer(Opinions::ResponseId))
                .col(string_len(Opinions::FormSlug, 64))
                .col(string_len(Opinions::QuestionId, 64))
                .col(string_len_null(Opinions::UnitCode, 64))
                .col(string_len_null(Opinions::CategoryCode, 64))
                .col(text(Opinions::Text))
                .col(string_len(Opinions::Fingerprint, 32))
                .col(string_len(Opinions::State, 16).default("pending"))
                .col(boolean(Opinions::Representative).default(false))
                .col(big_integer(Opinions::SubmittedAt))
                .col(big_integer(Opinions::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Opinions::Table, Opinions::ResponseId)
                        .to(Responses::Table, Responses::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        crate::index(m, Opinions::Table, &[Opinions::ResponseId], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::State, Opinions::Id], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::FormSlug, Opinions::Id], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::UnitCode, Opinions::Id], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::CategoryCode, Opinions::Id], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::SubmittedAt], false).await?;
        crate::index(m, Opinions::Table, &[Opinions::Fingerprint], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Opinions::Table.to_string(),
            Contacts::Table.to_string(),
            Answers::Table.to_string(),
            Responses::Table.to_string(),
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
