//! The one-time first-administrator link. Only the token's SHA-256 is stored; using it is one `DELETE`,
//! atomic on both databases, so of several concurrent posts exactly one finds the row.

use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use sea_orm::ConnectionTrait;
use sha2::{Digest, Sha256};

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Makes `token` the only live set-up token.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn replace_setup_token(&self, token: &str) -> Result<()> {
        self.db().execute_unprepared("DELETE FROM setup_tokens").await.map_err(StoreError::classify)?;
        self.put_setup_token(token).await
    }

    /// Stores `token` as live (again: a set-up that failed after taking it gives it back).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn put_setup_token(&self, token: &str) -> Result<()> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("INSERT INTO setup_tokens (token_hash, created_at) VALUES ");
        sql.bind_tuple([token_hash(token).into(), now_ms().into()]);
        self.db().execute_raw(sql.into_statement()).await.map_err(StoreError::classify)?;
        Ok(())
    }

    /// Whether `token` is live.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn setup_token_live(&self, token: &str) -> Result<bool> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT 1 AS live FROM setup_tokens WHERE token_hash = ").bind(token_hash(token));
        Ok(self.db().query_one_raw(sql.into_statement()).await?.is_some())
    }

    /// Uses `token` up: true for the one caller that found it live.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn take_setup_token(&self, token: &str) -> Result<bool> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("DELETE FROM setup_tokens WHERE token_hash = ").bind(token_hash(token));
        Ok(self.db().execute_raw(sql.into_statement()).await.map_err(StoreError::classify)?.rows_affected() == 1)
    }
}
