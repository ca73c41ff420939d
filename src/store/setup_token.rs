//! The one-time first-administrator link. Only the token's SHA-256 is stored. Using it deletes it in the
//! transaction that creates the administrator, so of several concurrent posts exactly one finds the row,
//! and a set-up that fails (a full disk) leaves the link working.

use super::audit::Actor;
use super::sql::Sql;
use super::users::{User, insert_user_in};
use super::{Result, Store, StoreError, now_ms};
use crate::domain::user::Role;
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

/// How long a printed set-up link stays usable: a link found in an old log or terminal scrollback months
/// later must not create an administrator. A restart prints a new one.
pub const SETUP_LINK_LIFE_MS: i64 = 24 * 3600 * 1000;

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Stores `token` as live beside any other (each instance that starts before the first account prints
    /// its own link; all die with the first account, each a day after it was made).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn put_setup_token(&self, token: &str) -> Result<()> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("INSERT INTO setup_tokens (token_hash, created_at) VALUES ");
        sql.bind_tuple([token_hash(token).into(), now_ms().into()]);
        let w = self.write_txn().await?;
        let done = w.conn().execute_raw(sql.into_statement()).await.map(drop).map_err(StoreError::classify);
        w.finish(done).await
    }

    /// Whether `token` is live.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn setup_token_live(&self, token: &str) -> Result<bool> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT 1 AS live FROM setup_tokens WHERE token_hash = ")
            .bind(token_hash(token))
            .push(" AND created_at >= ")
            .bind(now_ms() - SETUP_LINK_LIFE_MS);
        Ok(self.db().query_one_raw(sql.into_statement()).await?.is_some())
    }

    /// Creates the first administrator with `token`, audited as by `setup`, and uses up every set-up
    /// token, all in one transaction. `None` when the token is not live (used, or never issued).
    ///
    /// # Errors
    /// `Conflict` when the user name is taken; on a database failure, when the token stays live.
    pub async fn create_first_admin(
        &self,
        token: &str,
        username: &str,
        display_name: &str,
        password_hash: &str,
    ) -> Result<Option<User>> {
        let w = self.write_txn().await?;
        let done = async {
            // Every link goes at once, and only if this one is among them: one statement, so two links used
            // at the same moment (two servers each printed one) lock the rows in one order and cannot
            // deadlock; the second finds nothing left.
            let mut sql = Sql::new(self.db().get_database_backend());
            sql.push("DELETE FROM setup_tokens WHERE EXISTS (SELECT 1 FROM setup_tokens t WHERE t.token_hash = ")
                .bind(token_hash(token))
                .push(" AND t.created_at >= ")
                .bind(now_ms() - SETUP_LINK_LIFE_MS)
                .push(")");
            if w.conn().execute_raw(sql.into_statement()).await.map_err(StoreError::classify)?.rows_affected() == 0 {
                return Ok(None);
            }
            let by = Actor::system("setup");
            let user = insert_user_in(w.conn(), username, display_name, Role::Admin, password_hash, &by).await?;
            Ok(Some(user))
        }
        .await;
        w.finish(done).await
    }
}
