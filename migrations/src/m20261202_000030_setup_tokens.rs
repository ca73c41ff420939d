//! The one-time link for creating the first administrator, held in the database so that using it is one
//! conditional `DELETE` (whose affected-row count decides which of several concurrent posts wins) and so
//! that every instance sharing a PostgreSQL database agrees on it. Only the token's SHA-256 is stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum SetupTokens {
    Table,
    TokenHash,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SetupTokens::Table)
                .if_not_exists()
                .col(string_len(SetupTokens::TokenHash, 64).primary_key())
                .col(big_integer(SetupTokens::CreatedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SetupTokens::Table).to_owned()).await
    }
}
