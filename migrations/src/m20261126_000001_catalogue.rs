//! Form versions (every definition a response answered, by content hash), units, distribution links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum FormVersions {
    Table,
    Id,
    Slug,
    Hash,
    Title,
    Definition,
    FirstSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Units {
    Table,
    Code,
    Name,
    Kind,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Links {
    Table,
    Id,
    FormSlug,
    UnitCode,
    CategoryCode,
    Label,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(FormVersions::Table)
                .if_not_exists()
                .col(big_pk_auto(FormVersions::Id))
                .col(string_len(FormVersions::Slug, 64))
                .col(string_len_uniq(FormVersions::Hash, 64))
                .col(text(FormVersions::Title))
                .col(text(FormVersions::Definition))
                .col(big_integer(FormVersions::FirstSeenAt))
                .to_owned(),
        )
        .await?;
        crate::index(m, FormVersions::Table, &[FormVersions::Slug], false).await?;
        m.create_table(
            Table::create()
                .table(Units::Table)
                .if_not_exists()
                .col(string_len(Units::Code, 64).primary_key())
                .col(text(Units::Name))
                .col(text(Units::Kind))
                .col(integer(Units::Position))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Links::Table)
                .if_not_exists()
                .col(big_pk_auto(Links::Id))
                .col(string_len(Links::FormSlug, 64))
                .col(string_len(Links::UnitCode, 64))
                .col(string_len_null(Links::CategoryCode, 64))
                .col(text(Links::Label))
                .col(text_null(Links::CreatedBy))
                .col(big_integer(Links::CreatedAt))
                .col(big_integer_null(Links::RevokedAt))
                .to_owned(),
        )
        .await?;
        crate::index(m, Links::Table, &[Links::FormSlug, Links::UnitCode], false).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Links::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Units::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(FormVersions::Table).to_owned()).await
    }
}
