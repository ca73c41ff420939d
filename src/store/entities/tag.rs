//! The `tag_assignments` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tag_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub opinion_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub area_code: i16,
    pub source: String,
    pub user_id: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
