//! The `measures` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "measures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub problem_id: i64,
    pub action: String,
    pub target: String,
    pub deadline: String,
    pub owner: String,
    pub status: String,
    pub published_at: Option<i64>,
    /// Kept through withdrawals and republications.
    pub first_published_at: Option<i64>,
    /// While withdrawn: its four parts as last public (JSON), to say at republication what changed.
    pub withdrawn_parts: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
