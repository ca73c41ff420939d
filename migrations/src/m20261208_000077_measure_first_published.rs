//! When each measure was first published: `published_at` is set again at each republication, and the
//! posted register says since when citizens have held the bureau to the measure. Measures published before
//! this take the first `measure_published` entry of the audit log, else their publication date.

use crate::m20261203_000056_register::Measures;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Measures::Table)
                .add_column(big_integer_null(Alias::new("first_published_at")))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "UPDATE measures SET first_published_at = COALESCE((SELECT MIN(a.at) FROM audit_log a \
                 WHERE a.target = 'measure:' || CAST(measures.id AS TEXT) AND a.action = 'measure_published'), \
                 published_at)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Measures::Table).drop_column(Alias::new("first_published_at")).to_owned())
            .await
    }
}
