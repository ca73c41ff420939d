//! The `opinions` table.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "opinions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub response_id: i64,
    pub form_slug: String,
    pub question_id: String,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub text: String,
    pub fingerprint: String,
    pub state: String,
    pub representative: bool,
    pub submitted_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
