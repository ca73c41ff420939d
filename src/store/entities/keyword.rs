//! The `area_keywords` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "area_keywords")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub area_code: i16,
    pub word: String,
    pub added_by: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
