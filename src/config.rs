//! Typed configuration from flags and `WENJI_*` environment variables, checked once at start.
//! Defaults work on a fresh clone: a SQLite file under `data/`, forms from `forms/`, exports to `exports/`.

use clap::Args;
use std::path::PathBuf;

/// Settings every command shares.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://PATH?mode=rwc` (default, created on first start) or `postgres://…`.
    #[arg(
        long,
        env = "WENJI_DATABASE_URL",
        default_value = "sqlite://data/wenji.db?mode=rwc",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
    /// Folder of the form definitions, areas and units the bureau edits.
    #[arg(long, env = "WENJI_FORMS_DIR", default_value = "forms", global = true)]
    pub forms_dir: PathBuf,
    /// Folder for the server secret (`secret.key`). The SQLite file is where WENJI_DATABASE_URL says.
    #[arg(long, env = "WENJI_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,
    /// Folder `wenji export` and background exports write to.
    #[arg(long, env = "WENJI_EXPORTS_DIR", default_value = "exports", global = true)]
    pub exports_dir: PathBuf,
    /// The address people use to reach Wenji, for links and QR codes (e.g. https://wenji.example.gov.cn).
    #[arg(long, env = "WENJI_PUBLIC_URL", global = true, value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// TEST ONLY: SQLite commits skip their sync, so a power cut loses acknowledged submissions. The
    /// power-loss test sets it to show that it can fail. Never set it in production. `1` or `true`.
    #[arg(
        long,
        env = "WENJI_UNSAFE_TEST_NO_SYNC",
        global = true,
        hide = true,
        default_value_t = false,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub unsafe_test_no_sync: bool,
}

impl Config {
    /// The server secret: `WENJI_SECRET` (hex or text, ≥ 32 bytes; several instances must share it), or a
    /// random one created once in `data/secret.key`. Never printed.
    ///
    /// # Errors
    /// When the secret is too short or the file cannot be written.
    pub fn secret(&self) -> anyhow::Result<crate::domain::signing::Secret> {
        if let Ok(s) = std::env::var("WENJI_SECRET") {
            let bytes = hex::decode(s.trim()).unwrap_or_else(|_| s.into_bytes());
            return crate::domain::signing::Secret::new(bytes).map_err(|e| anyhow::anyhow!("WENJI_SECRET: {e}"));
        }
        let path = self.data_dir.join("secret.key");
        let kept = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            // WENJI_DATA_DIR naming a file: said so, not "run as its owner".
            Err(_) if self.data_dir.exists() && !self.data_dir.is_dir() => {
                anyhow::bail!("WENJI_DATA_DIR {} is a file: it must name a folder", self.data_dir.display())
            }
            // Unreadable (its owner or mode changed): said as such, never taken for "none yet".
            Err(e) => {
                anyhow::bail!("{}: cannot read the secret key ({e}); wenji must run as its owner", path.display())
            }
        };
        if let Some(s) = kept {
            warn_if_readable_by_others(&path);
            let bytes = hex::decode(s.trim()).map_err(|e| {
                anyhow::anyhow!("{}: not a key wenji wrote (64 hexadecimal characters): {e}", path.display())
            })?;
            return crate::domain::signing::Secret::new(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
        }
        let new_dir = !self.data_dir.exists();
        let in_data_dir = |e: std::io::Error| anyhow::anyhow!("WENJI_DATA_DIR {}: {e}", self.data_dir.display());
        std::fs::create_dir_all(&self.data_dir).map_err(in_data_dir)?;
        if new_dir && let Some(parent) = self.data_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent).map_err(in_data_dir)?;
        }
        let bytes: [u8; 32] = rand::random();
        write_private(&path, &hex::encode(bytes)).map_err(in_data_dir)?;
        crate::domain::signing::Secret::new(bytes.to_vec()).map_err(|e| anyhow::anyhow!(e))
    }

    /// The SQLite file the database URL names, relative to the folder wenji runs in; `None` for
    /// PostgreSQL and for an in-memory database.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite://").or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        // Percent-decoded, as sqlx reads it (`my%20db.db` is the file `my db.db`).
        let path = percent_encoding::percent_decode_str(rest.split('?').next().unwrap_or_default()).decode_utf8_lossy();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path.as_ref()))
    }

    /// Where the secret comes from, for messages: `WENJI_SECRET`, or the file it is (or would be) read from.
    pub fn secret_source(&self) -> String {
        if std::env::var_os("WENJI_SECRET").is_some() {
            "WENJI_SECRET".to_owned()
        } else {
            let path = self.data_dir.join("secret.key");
            std::path::absolute(&path).unwrap_or(path).display().to_string()
        }
    }

    /// Whether a secret is given (`WENJI_SECRET`) or kept (`secret.key`), rather than still to be made.
    pub fn has_secret(&self) -> bool {
        std::env::var_os("WENJI_SECRET").is_some() || self.data_dir.join("secret.key").exists()
    }

    /// Creates the exports folder and checks a file can be written in it, so a wrong `WENJI_EXPORTS_DIR`
    /// stops the start, named, rather than failing every export later with a bare "File exists".
    ///
    /// # Errors
    /// When the folder cannot be created or written to.
    pub fn prepare_exports_dir(&self) -> anyhow::Result<()> {
        let named = |e: std::io::Error| anyhow::anyhow!("WENJI_EXPORTS_DIR {}: {e}", self.exports_dir.display());
        if self.exports_dir.is_file() {
            anyhow::bail!("WENJI_EXPORTS_DIR {} is a file; it must name a folder", self.exports_dir.display());
        }
        std::fs::create_dir_all(&self.exports_dir).map_err(named)?;
        tempfile::Builder::new().prefix(".wenji-write-check.").tempfile_in(&self.exports_dir).map_err(named)?;
        Ok(())
    }

    /// Creates the folder of a default SQLite file so the first start needs no set-up.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn prepare_database_dir(&self) -> anyhow::Result<()> {
        if let Some(path) = self.sqlite_path()
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("the database's folder {}: {e}", parent.display()))?;
        }
        // A mistyped path made a new, empty installation without a word: the operator took their data for lost.
        if let Some(path) = self.sqlite_path().filter(|p| !p.exists()) {
            tracing::warn!("no database at {}: a new, empty one is created there", path.display());
        }
        Ok(())
    }

    /// The URL printed in links: the configured public URL, or the bind address.
    pub fn base_url(&self, bind: Option<&str>) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            // The command line's links print where `serve` listens, as its own do.
            None => match bind {
                Some(bind) => format!("http://{bind}"),
                None => format!("http://{}", std::env::var("WENJI_BIND").unwrap_or_else(|_| "127.0.0.1:8080".into())),
            },
        }
    }

    /// The database URL with any password hidden, for logs.
    pub fn database_for_log(&self) -> String {
        url_for_log(&self.database_url)
    }
}

/// `url` with its user part hidden whole (up to the last `@`: a password may hold an unencoded `@`, `?` or
/// `&`) and the value of any password query parameter hidden.
fn url_for_log(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (hidden, rest) = match rest.rsplit_once('@') {
        Some((_, host)) => ("…@", host),
        None => ("", rest),
    };
    let (address, query) = rest.split_once('?').map_or((rest, None), |(a, q)| (a, Some(q)));
    let Some(query) = query else { return format!("{scheme}://{hidden}{address}") };
    // After a password parameter, everything is hidden: an unencoded `&` in it would start a fake pair.
    let mut shown = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((k, _)) if k.to_ascii_lowercase().contains("pass") => {
                shown.push(format!("{k}=…"));
                break;
            }
            _ => shown.push(pair.to_owned()),
        }
    }
    format!("{scheme}://{hidden}{address}?{}", shown.join("&"))
}

/// Whether `host[:port]` names a port that is not 0–65535 (an IPv6 host is in brackets).
fn bad_port(authority: &str) -> bool {
    !authority.ends_with(']') && authority.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_err())
}

/// Whether `host` (as in an address, IPv6 in brackets) could be reached: an IP address or a DNS name. A
/// stray comma or a leading hyphen would otherwise be printed on every QR code.
fn host_name_or_ip(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    host.parse::<std::net::Ipv4Addr>().is_ok()
        || (host.len() <= 253
            && host.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            }))
}

/// The disclosure policy's k as a setting: 2 at least (1 would hide nothing), at most 1000.
pub fn small_cell_k() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(2..=1000)
}

/// A public URL as links and QR codes need it: `http://` or `https://`, a host, and no path (every page
/// and asset is served from the root).
fn parse_public_url(value: &str) -> Result<String, String> {
    if value.len() > 200 {
        return Err("must be at most 200 characters".into());
    }
    let uri: axum::http::Uri = value.trim().parse().map_err(|e| format!("not an address ({e})"))?;
    let scheme = uri.scheme_str().unwrap_or_default().to_ascii_lowercase();
    let authority = uri.authority().filter(|a| !a.host().is_empty() && matches!(scheme.as_str(), "http" | "https"));
    let Some(authority) = authority else {
        return Err("must start with https:// or http:// and name a host, e.g. https://wenji.example.gov.cn".into());
    };
    if authority.as_str().contains('@') || bad_port(authority.as_str()) {
        return Err("must be a host and an optional port (0-65535), without a user or password".into());
    }
    if !host_name_or_ip(authority.host()) {
        return Err(format!(
            "{:?} is not a host name (letters, digits and hyphens between dots, no hyphen at either end of a \
             part) nor an IP address",
            authority.host()
        ));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() || value.contains('#') {
        return Err(
            "must not have a path, query or fragment: Wenji serves its pages from the root of its address".into()
        );
    }
    // The scheme in lower case: `https://` turns on Secure cookies and HSTS.
    Ok(format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

/// Creates `path` holding `text`, readable by the owner only, so that it survives a power cut once this
/// returns: a temporary file is flushed, renamed into place, and the folder (whose entry names the file)
/// flushed too. Never replaces a file that is already there.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    // tempfile creates the file with mode 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Flushes a folder's entries (a file created or renamed in it) to the disk.
fn sync_dir(dir: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    match std::fs::File::open(dir)?.sync_all() {
        // Some filesystems cannot flush a folder at all; PostgreSQL ignores the same two errors there.
        Err(e) if matches!(e.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported) => {}
        done => done?,
    }
    Ok(())
}

/// The key signs every link: one other users of the machine can read (a copy restored under umask 022)
/// lets them make links for any unit. Said on every start, not refused, so a restore still serves.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    // Inside a folder only its owner may enter (wenji makes `data/` so), the file's own mode is moot.
    let folder_open =
        path.parent().and_then(|d| std::fs::metadata(d).ok()).is_none_or(|d| d.permissions().mode() & 0o011 != 0);
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
        && folder_open
    {
        eprintln!(
            "warning: {} can be read by other users of this machine (mode {:o}); anyone who reads it can make links for any unit: chmod 600 {}",
            path.display(),
            meta.permissions().mode() & 0o777,
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &std::path::Path) {}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_address_in_the_log_shows_no_password_wherever_it_was_written() {
        let shown = |u: &str| super::url_for_log(u);
        assert_eq!(shown("postgres://wenji:s3cret@db/wenji"), "postgres://…@db/wenji");
        assert_eq!(shown("postgres://postgres:TopS3cret@PW@127.0.0.1:5432/x"), "postgres://…@127.0.0.1:5432/x");
        assert_eq!(
            shown("postgres://127.0.0.1:5432/x?user=postgres&password=QuerySecret99&sslmode=require"),
            "postgres://127.0.0.1:5432/x?user=postgres&password=…"
        );
        assert_eq!(shown("sqlite://data/wenji.db?mode=rwc"), "sqlite://data/wenji.db?mode=rwc");
        assert_eq!(shown("postgres://postgres:Se?cretPW99@127.0.0.1:5432/x"), "postgres://…@127.0.0.1:5432/x");
        assert_eq!(shown("postgres://u:S@e?cret&x=PW99@h/x?sslmode=disable"), "postgres://…@h/x?sslmode=disable");
        assert_eq!(shown("postgres://h/x?password=a&b=PWtail"), "postgres://h/x?password=…");
    }

    use super::Config;

    fn config(data_dir: std::path::PathBuf) -> Config {
        Config {
            database_url: "sqlite::memory:".into(),
            forms_dir: "forms".into(),
            data_dir,
            exports_dir: "exports".into(),
            public_url: None,
            unsafe_test_no_sync: false,
        }
    }

    #[test]
    fn the_secret_made_on_first_start_is_found_again_readable_by_its_owner_only() {
        assert!(std::env::var("WENJI_SECRET").is_err(), "unset WENJI_SECRET to run this test");
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path().join("data"));
        let first = config.secret().unwrap();
        let again = config.secret().unwrap();
        assert_eq!(first.link_token(1, "zhengqiu", "u1", None), again.link_token(1, "zhengqiu", "u1", None));
        let names: Vec<_> = std::fs::read_dir(&config.data_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["secret.key"], "no temporary file is left beside the key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(config.data_dir.join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_public_url_is_a_scheme_and_a_host_in_lower_case_and_nothing_else() {
        let ok = super::parse_public_url;
        assert_eq!(ok("HTTPS://Wenji.Example.gov.cn/").unwrap(), "https://wenji.example.gov.cn");
        assert_eq!(ok(" http://127.0.0.1:8080 ").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(ok("https://[::1]:8443").unwrap(), "https://[::1]:8443");
        assert_eq!(ok("https://xn--fiq228c.gov.cn").unwrap(), "https://xn--fiq228c.gov.cn");
        assert_eq!(ok("http://localhost:8080").unwrap(), "http://localhost:8080");
        for bad in [
            "wenji.example.gov.cn",
            "ftp://wenji.example.gov.cn",
            "https://wenji.example.gov.cn/sub/",
            "https://wenji.example.gov.cn?x=1",
            "https://wenji.example.gov.cn#x",
            "https://user:pw@wenji.example.gov.cn",
            "https://wenji.example.gov.cn:99999",
            "https://wenji.example.gov.cn,",
            "https://wenji.example.gov.cn;",
            "https://-bad-.cn",
            "https://wenji..gov.cn",
            "https://[::g]",
        ] {
            assert!(ok(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_sqlite_file_is_read_from_the_url_as_sqlx_reads_it() {
        let mut c = config("data".into());
        for (url, path) in [
            ("sqlite://data/wenji.db?mode=rwc", Some("data/wenji.db")),
            ("sqlite://data/my%20db.db?mode=rwc", Some("data/my db.db")),
            ("sqlite:///srv/wenji/wenji.db", Some("/srv/wenji/wenji.db")),
            ("sqlite::memory:", None),
            ("postgres://wenji@db/wenji", None),
        ] {
            c.database_url = url.into();
            assert_eq!(c.sqlite_path(), path.map(std::path::PathBuf::from), "{url}");
        }
    }
}
