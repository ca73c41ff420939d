//! Staff accounts. Passwords arrive here already hashed (Argon2id, hashed by the caller off the async
//! threads); this file only stores and finds.

use super::audit::{Actor, append_in};
use super::entities::user;
use super::sessions::end_sessions_in;
use super::{ErrorKind, Result, Store, StoreError, error_kind, now_ms};
use crate::domain::user::Role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

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
    /// Creates an account, audited as `user_created` by `by` in the same transaction.
    ///
    /// # Errors
    /// `Conflict` when the user name is taken in any letter case (the UNIQUE index decides).
    pub async fn create_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        by: &Actor,
    ) -> Result<User> {
        let w = self.write_txn().await?;
        let done = insert_user_in(w.conn(), username, display_name, role, password_hash, by).await;
        w.finish(done).await
    }

    /// The account of `username` in any letter case (names are unique by `lower(username)`).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
        use sea_orm::sea_query::{Expr, ExprTrait, Func};
        user::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(user::Column::Username))).eq(username.to_ascii_lowercase()))
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

    /// Administrator accounts, enabled or not.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn count_admins(&self) -> Result<u64> {
        let admins = user::Entity::find().filter(user::Column::Role.eq(Role::Admin.as_str()));
        Ok(admins.count(self.db()).await?)
    }

    /// Enables or disables an account, audited; disabling also ends its sessions, all in one transaction.
    /// The last enabled administrator is never disabled: two administrators disabling each other at once
    /// left none, and only the command line could enable one again.
    ///
    /// # Errors
    /// `NotFound` for an unknown id; `Conflict` for the last enabled administrator.
    pub async fn set_user_active(&self, id: i64, active: bool, by: &Actor) -> Result<User> {
        let w = self.write_txn().await?;
        let done = async {
            if !active {
                // Every enabled administrator held, in id order, before the account itself: a second
                // disabling waits here and then counts without the first's.
                let admins = user::Entity::find()
                    .filter(user::Column::Role.eq(Role::Admin.as_str()))
                    .filter(user::Column::Active.eq(true))
                    .order_by_asc(user::Column::Id)
                    .lock_exclusive()
                    .all(w.conn())
                    .await?;
                if let [last] = admins.as_slice()
                    && last.id == id
                {
                    return Err(StoreError::Conflict(format!(
                        "{} 是唯一启用的管理员账号，不能停用（其他管理员账号都已停用，可能刚刚被停用）：请先添加或启用另一位管理员。",
                        last.username
                    )));
                }
            }
            let m = user::Entity::find_by_id(id).lock_exclusive().one(w.conn()).await?.ok_or(StoreError::NotFound)?;
            let (name, was) = (m.username.clone(), m.active);
            if was == active {
                // Already so (the same click twice, or two admins at once): nothing to change or audit.
                return User::try_from(m);
            }
            let mut a: user::ActiveModel = m.into();
            a.active = Set(active);
            let u = a.update(w.conn()).await?;
            if !active {
                end_sessions_in(w.conn(), id).await?;
            }
            let action = if active { "user_enabled" } else { "user_disabled" };
            let (before, after) = (Some(format!("active={was}")), Some(format!("active={active}")));
            append_in(w.conn(), by, action, &format!("user:{name}"), before, after).await?;
            User::try_from(u)
        }
        .await;
        w.finish(done).await
    }

    /// Replaces a password hash and ends the user's sessions, audited, in one transaction: a reset that
    /// fails leaves the old password and its sessions as they were, never half of it.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn set_password_hash(&self, id: i64, hash: &str, by: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let done = async {
            let m = user::Entity::find_by_id(id).lock_exclusive().one(w.conn()).await?.ok_or(StoreError::NotFound)?;
            let name = m.username.clone();
            let mut a: user::ActiveModel = m.into();
            a.password_hash = Set(hash.to_owned());
            a.update(w.conn()).await?;
            end_sessions_in(w.conn(), id).await?;
            append_in(w.conn(), by, "password_reset", &format!("user:{name}"), None, None).await
        }
        .await;
        w.finish(done).await
    }
}

/// Inserts an account and its `user_created` entry on `conn` (inside the caller's transaction).
pub(super) async fn insert_user_in(
    conn: &impl sea_orm::ConnectionTrait,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    by: &Actor,
) -> Result<User> {
    let m = user::ActiveModel {
        username: Set(username.to_owned()),
        display_name: Set(display_name.to_owned()),
        role: Set(role.as_str().to_owned()),
        password_hash: Set(password_hash.to_owned()),
        active: Set(true),
        created_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| match error_kind(&e) {
        ErrorKind::Unique => StoreError::Conflict(format!("用户名 {username} 已存在（大小写不同也算同一个用户名）")),
        _ => e.into(),
    })?;
    append_in(conn, by, "user_created", &format!("user:{username}"), None, Some(format!("role={role}"))).await?;
    User::try_from(m)
}
