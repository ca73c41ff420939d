//! The `responses` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "responses")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub form_version_id: i64,
    pub form_slug: String,
    pub link_id: Option<i64>,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub receipt: String,
    pub key_hash: String,
    pub body_hash: String,
    pub submitted_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
