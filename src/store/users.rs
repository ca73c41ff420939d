//! Staff accounts. Passwords arrive here already hashed (Argon2id, hashed by the caller off the async
//! threads); this file only stores and finds.

use super::entities::user;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::user::Role;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

/// A staff account as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
    pub created_at: i64,
}

impl TryFrom<user::Model> for User {
    type Error = StoreError;
    fn try_from(m: user::Model) -> Result<Self> {
        Ok(User {
            role: m.role.parse().map_err(StoreError::Corrupt)?,
            id: m.id,
            username: m.username,
            display_name: m.display_name,
            active: m.active,
            password_hash: m.password_hash,
            created_at: m.created_at,
        })
    }
}

impl Store {
    /// Creates an account.
    ///
    /// # Errors
    /// `Conflict` when the user name is taken.
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<User> {
        if self.user_by_name(username).await?.is_some() {
            return Err(StoreError::Conflict(format!("用户名 {username} 已存在")));
        }
        let m = user::ActiveModel {
            username: Set(username.to_owned()),
            display_name: Set(display_name.to_owned()),
            role: Set(role.as_str().to_owned()),
            password_hash: Set(password_hash.to_owned()),
            active: Set(true),
            created_at: Set(now_ms()),
            ..Default::default()
        }
        .insert(self.db())
        .await
        .map_err(|e| {
            if e.to_string().to_lowercase().contains("unique") {
                StoreError::Conflict(format!("用户名 {username} 已存在"))
            } else {
                e.into()
            }
        })?;
        m.try_into()
    }

    /// # Errors
    /// On a database failure.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(self.db())
            .await?
            .map(User::try_from)
            .transpose()
    }

    /// # Errors
    /// On a database failure.
    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        user::Entity::find_by_id(id).one(self.db()).await?.map(User::try_from).transpose()
    }

    /// # Errors
    /// On a database failure.
    pub async fn users(&self) -> Result<Vec<User>> {
        user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(User::try_from)
            .collect()
    }

    /// # Errors
    /// On a database failure.
    pub async fn count_users(&self) -> Result<u64> {
        Ok(user::Entity::find().count(self.db()).await?)
    }

    /// Enables or disables an account; disabling also ends its sessions.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn set_user_active(&self, id: i64, active: bool) -> Result<User> {
        let m = user::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        let mut a: user::ActiveModel = m.into();
        a.active = Set(active);
        let u = a.update(self.db()).await?;
        if !active {
            self.end_sessions_of(id).await?;
        }
        u.try_into()
    }

    /// Replaces a password hash and ends the user's sessions.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn set_password_hash(&self, id: i64, hash: &str) -> Result<()> {
        let m = user::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?;
        let mut a: user::ActiveModel = m.into();
        a.password_hash = Set(hash.to_owned());
        a.update(self.db()).await?;
        self.end_sessions_of(id).await?;
        Ok(())
    }
}
