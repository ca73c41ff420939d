//! The `export_jobs` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "export_jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub format: String,
    pub params: String,
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub file_name: Option<String>,
    pub error: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// When the server running it last said so (ms); see `Store::fail_abandoned_export_jobs`.
    pub heartbeat_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
