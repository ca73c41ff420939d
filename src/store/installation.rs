//! One-off facts about the installation (`installation` table): the fingerprint of the secret its links
//! are signed with, and the address the last server started printed links with.

use super::audit::{Actor, append_in};
use super::sql::Sql;
use super::{Result, Store, StoreError};
use sea_orm::ConnectionTrait;

const SECRET_FINGERPRINT: &str = "secret_fingerprint";
const LINK_ADDRESS: &str = "link_address";
const LISTEN_ADDRESS: &str = "listen_address";
const SMALL_CELL_K: &str = "small_cell_k";

impl Store {
    /// The fingerprint of the secret this database's links were signed with, if one was recorded.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn secret_fingerprint(&self) -> Result<Option<String>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT value FROM installation WHERE name = ").bind(SECRET_FINGERPRINT);
        let row = self.db().query_one_raw(sql.into_statement()).await?;
        Ok(row.map(|r| r.try_get::<String>("", "value")).transpose()?)
    }

    /// Forgets the recorded fingerprint (one recorded for a wrong secret), audited; the next start records
    /// its own.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn forget_secret_fingerprint(&self, by: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let done = async {
            let mut sql = Sql::new(w.conn().get_database_backend());
            sql.push("DELETE FROM installation WHERE name = ").bind(SECRET_FINGERPRINT);
            w.conn().execute_raw(sql.into_statement()).await?;
            append_in(w.conn(), by, "secret_fingerprint_forgotten", "secret", None, None).await
        }
        .await;
        w.finish(done).await
    }

    /// Records `fingerprint` in place of any recorded one: a new secret made for a lost one, audited as
    /// `secret_replaced`.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn replace_secret_fingerprint(&self, fingerprint: &str, by: &Actor) -> Result<()> {
        let w = self.write_txn().await?;
        let done = async {
            set_in(w.conn(), SECRET_FINGERPRINT, fingerprint).await?;
            append_in(w.conn(), by, "secret_replaced", "secret", None, None).await
        }
        .await;
        w.finish(done).await
    }

    /// Records `fingerprint` unless one is recorded already (instances starting together agree on the
    /// first), and gives the one recorded.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn record_secret_fingerprint(&self, fingerprint: &str) -> Result<String> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("INSERT INTO installation (name, value) VALUES ");
        sql.bind_tuple([SECRET_FINGERPRINT.into(), fingerprint.into()]);
        sql.push(" ON CONFLICT (name) DO NOTHING");
        let w = self.write_txn().await?;
        let done = w.conn().execute_raw(sql.into_statement()).await.map(drop).map_err(StoreError::classify);
        w.finish(done).await?;
        Ok(self.secret_fingerprint().await?.unwrap_or_default())
    }

    /// Records the address `serve` prints links with, so that `wenji links` run from another shell prints
    /// the same one.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn record_link_address(&self, address: &str) -> Result<()> {
        self.record_setting(LINK_ADDRESS, address).await
    }

    /// Records where the last server started listens (`http://<bind>`): the links' address of last resort
    /// for `wenji links`, when no public address was ever set.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn record_listen_address(&self, address: &str) -> Result<()> {
        self.record_setting(LISTEN_ADDRESS, address).await
    }

    /// Where the last server started listens, if one recorded it.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn listen_address(&self) -> Result<Option<String>> {
        self.setting(LISTEN_ADDRESS).await
    }

    /// Records the k the last server started with, so the command line's leaders' files use the same.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn record_small_cell_k(&self, k: u32) -> Result<()> {
        self.record_setting(SMALL_CELL_K, &k.to_string()).await
    }

    /// The k the last server started with, if one recorded it.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn recorded_small_cell_k(&self) -> Result<Option<u32>> {
        Ok(self.setting(SMALL_CELL_K).await?.and_then(|v| v.parse().ok()))
    }

    async fn record_setting(&self, name: &str, value: &str) -> Result<()> {
        set_in(self.db(), name, value).await.map_err(StoreError::classify)
    }

    /// The address the last server started printed links with, if one did.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn link_address(&self) -> Result<Option<String>> {
        self.setting(LINK_ADDRESS).await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT value FROM installation WHERE name = ").bind(name);
        let row = self.db().query_one_raw(sql.into_statement()).await?;
        Ok(row.map(|r| r.try_get::<String>("", "value")).transpose()?)
    }
}

/// Sets `name` to `value`, in place of any value it had.
async fn set_in<C: ConnectionTrait>(db: &C, name: &str, value: &str) -> std::result::Result<(), sea_orm::DbErr> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("INSERT INTO installation (name, value) VALUES ");
    sql.bind_tuple([name.into(), value.into()]);
    sql.push(" ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    db.execute_raw(sql.into_statement()).await?;
    Ok(())
}
