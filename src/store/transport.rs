//! How an instance reaches its database, for the start-up log: a SQLite file, or PostgreSQL with or without
//! TLS and with or without the server checked by name; and the warning an operator should act on.

use super::{Result, Store, StoreError};
use sea_orm::ConnectionTrait;

/// How an instance reaches its database (see [`Store::transport`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A SQLite file on this machine.
    File,
    /// PostgreSQL: `tls` the protocol when encrypted; `verified` when the server's certificate is checked
    /// and names this server (`sslmode=verify-full`); `local` through a Unix socket or a loopback address.
    Postgres { tls: Option<String>, verified: bool, local: bool },
}

impl Transport {
    /// Why the operator should act, when opinions and password hashes cross a network unencrypted or to a
    /// server whose certificate nobody checked (anyone on the way could read them, or pose as the database).
    pub fn warning(&self) -> Option<&'static str> {
        match self {
            Transport::Postgres { local: false, tls: None, .. } => Some(
                "the connection to PostgreSQL crosses the network unencrypted: anyone on the way can read every opinion and password hash; add sslmode=verify-full&sslrootcert=<the CA certificate's file> to WENJI_DATABASE_URL",
            ),
            Transport::Postgres { local: false, verified: false, .. } => Some(
                "the connection to PostgreSQL is encrypted but the server is not checked by name (sslmode=require, prefer or verify-ca): a machine on the way could pose as the database; use sslmode=verify-full&sslrootcert=<the CA certificate's file> in WENJI_DATABASE_URL",
            ),
            _ => None,
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::File => f.write_str("file"),
            Transport::Postgres { tls: None, .. } => f.write_str("unencrypted"),
            Transport::Postgres { tls: Some(v), verified: true, .. } => write!(f, "{v}, certificate verified"),
            Transport::Postgres { tls: Some(v), verified: false, .. } => write!(f, "{v}, certificate not checked"),
        }
    }
}

/// Whether PostgreSQL is reached through a Unix socket or a loopback address (nothing crosses a network).
fn reached_locally(options: &sea_orm::sqlx::postgres::PgConnectOptions) -> bool {
    let host = options.get_host();
    options.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Store {
    /// How this instance reaches its database: a file, or PostgreSQL with or without TLS (as the server
    /// reports this connection) and with or without the server's certificate checked.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn transport(&self, url: &str) -> Result<Transport> {
        if self.is_sqlite() {
            return Ok(Transport::File);
        }
        use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
        let options: PgConnectOptions =
            url.parse().map_err(|e: sea_orm::sqlx::Error| StoreError::Unavailable(e.to_string()))?;
        let local = reached_locally(&options);
        // verify-ca checks the chain, not the name, and `sslrootcert` adds to the system's trust store (sqlx):
        // any certificate a public authority signed would pass. Only verify-full names the server.
        let verified = matches!(options.get_ssl_mode(), PgSslMode::VerifyFull);
        let sql = "SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl";
        let backend = self.writer.get_database_backend();
        let row = self.writer.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?;
        let tls = row.map(|r| r.try_get_by_index::<String>(0)).transpose()?;
        Ok(Transport::Postgres { tls, verified, local })
    }
}

#[cfg(test)]
mod tests {
    use super::{Transport, reached_locally};

    #[test]
    fn only_a_socket_or_a_loopback_address_counts_as_reached_without_a_network() {
        let local = |url: &str| reached_locally(&url.parse().unwrap());
        for url in [
            "postgres://wenji@localhost/wenji",
            "postgres://wenji@127.0.0.1:5432/wenji",
            "postgres://wenji@[::1]/wenji",
            "postgres:///wenji?host=/var/run/postgresql",
        ] {
            assert!(local(url), "{url}");
        }
        for url in
            ["postgres://wenji@db.internal/wenji", "postgres://wenji@10.0.0.5/wenji", "postgres://wenji@[fd00::5]/x"]
        {
            assert!(!local(url), "{url}");
        }
    }

    #[test]
    fn a_database_across_a_network_warns_unless_encrypted_to_a_checked_certificate() {
        let pg =
            |tls: Option<&str>, verified, local| Transport::Postgres { tls: tls.map(str::to_owned), verified, local };
        assert!(pg(None, false, false).warning().unwrap().contains("unencrypted"));
        assert!(pg(Some("TLSv1.3"), false, false).warning().unwrap().contains("not checked"));
        assert_eq!(pg(Some("TLSv1.3"), true, false).warning(), None);
        assert_eq!(pg(None, false, true).warning(), None, "a socket or loopback crosses no network");
        assert_eq!(Transport::File.warning(), None);
        assert_eq!(pg(Some("TLSv1.3"), true, false).to_string(), "TLSv1.3, certificate verified");
    }
}
