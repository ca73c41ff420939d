//! The command line: one file per subcommand. `anyhow` is used here and nowhere below.

mod backup;
mod check_forms;
mod export;
mod links;
mod restore;
pub mod serve;
mod user;

use crate::config::Config;
use crate::store::Store;
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// 问计 Wenji: collect opinions, tag them with the eight areas, export report workbooks.
#[derive(Parser, Debug)]
#[command(name = "wenji", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (migrates the database and loads forms first).
    Serve(serve::ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Check every file in the forms folder; exit non-zero on any error.
    CheckForms,
    /// Manage staff accounts (passwords typed without echo or piped on standard input, never on the command line).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Create, list and revoke distribution links, and print their QR codes.
    #[command(subcommand)]
    Links(links::LinksCommand),
    /// Write a consistent snapshot of the SQLite database to PATH while the server keeps serving.
    Backup(backup::BackupArgs),
    /// Put a snapshot written by `wenji backup` in place of the SQLite database, with every server stopped
    /// (the database it replaces is moved aside, staff sign in again).
    Restore(restore::RestoreArgs),
    /// Write the report workbook (xlsx) or the raw responses (CSV) for one or more forms.
    Export(export::ExportArgs),
}

#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Forget the fingerprint of the secret this database's links were signed with, when it was recorded
    /// for a wrong secret (a restore started with another secret.key); the next start records its own.
    #[arg(long)]
    pub forget_secret_fingerprint: bool,
    /// Make a new secret.key when the one this database's links were signed with is lost for good: every
    /// link, QR code and unused 填写码 made before stops working (print new ones). Audited.
    #[arg(long, conflicts_with = "forget_secret_fingerprint")]
    pub new_secret: bool,
}

/// Entry point for `main`.
pub fn main() -> ExitCode {
    // Files Wenji creates (the database and its journals, backups, exports, the secret) hold opinions,
    // phone numbers and password hashes: readable by the owner only, whatever the shell's umask.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return refuse_arguments(&e),
    };
    init_tracing();
    for (given, meant) in misspelt_variables(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!("{given} is not a Wenji setting and is ignored: did you mean {meant}?");
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Library events that would log a client's address (`axum::serve`), a request's full path, receipts
/// included (`tower_http::csrf`), or each request to the microsecond (`tower_http::trace`: the n-th
/// citizen post is the n-th stored response, whose stored time is only its minute): held at info whatever
/// `WENJI_LOG` asks (a directive sets a level, so `debug` here showed their debug lines under `info`).
/// Failed requests are still logged (at error).
/// `sqlx::postgres::options` warns of an unknown connection parameter by quoting it: a password holding an
/// unencoded `?` is one.
const NEVER_TRACED: [&str; 4] =
    ["axum::serve=info", "tower_http::csrf=info", "tower_http::trace=info", "sqlx::postgres::options=error"];

/// clap's refusal, naming the `WENJI_*` variable the value came from (clap names only the flag).
fn refuse_arguments(e: &clap::Error) -> ExitCode {
    let said = e.render().to_string();
    let given: Vec<String> = std::env::args().collect();
    let from_env = std::env::vars().find(|(k, _)| {
        let Some(flag) = k.strip_prefix("WENJI_").map(|f| format!("--{}", f.to_lowercase().replace('_', "-"))) else {
            return false;
        };
        let named = said.contains(&format!("'{flag} ")) || said.contains(&format!("'{flag}'"));
        // A value given on the command line is the flag's own, whatever the environment holds.
        named && !given.iter().any(|a| a == &flag || a.starts_with(&format!("{flag}=")))
    });
    match from_env {
        Some((k, v)) => {
            eprint!("{said}");
            eprintln!("(the value comes from {k}={v:?})");
            ExitCode::from(2)
        }
        None => e.exit(),
    }
}

/// Log levels, as a bare word in `WENJI_LOG`.
const LOG_LEVELS: [&str; 12] = ["off", "error", "warn", "info", "debug", "trace", "0", "1", "2", "3", "4", "5"];
/// The crates whose events are worth a bare name in `WENJI_LOG` (a bare word is a target).
const LOG_CRATES: [&str; 8] =
    ["wenji", "migrations", "sqlx", "sea_orm", "axum", "tower_http", "tower_sessions", "hyper"];

/// `WENJI_LOG` read as a filter. A word that is neither a level nor a known crate is refused: read as "trace
/// the target verbose", `WENJI_LOG=verbose` silenced every other line, a full disk's warnings too.
fn log_filter(value: Option<&str>) -> Result<tracing_subscriber::EnvFilter, String> {
    let value: String = value.unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    if value.is_empty() {
        return Ok(tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    }
    for d in value.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !d.contains(['=', '[', ':']);
        let word = d.to_ascii_lowercase();
        if bare && !LOG_LEVELS.contains(&word.as_str()) && !LOG_CRATES.contains(&word.as_str()) {
            return Err(format!(
                "WENJI_LOG={value:?}: {d:?} is neither a level (error, warn, info, debug, trace, off) nor target=level"
            ));
        }
    }
    // Crates alone (`WENJI_LOG=sqlx`) add to the default: without a level for the rest, Wenji's own lines,
    // a full disk's warnings too, went silent.
    let value = if value.split(',').any(|d| LOG_LEVELS.contains(&d.trim().to_ascii_lowercase().as_str())) {
        value
    } else {
        format!("{DEFAULT_LOG},{value}")
    };
    tracing_subscriber::EnvFilter::try_new(&value).map_err(|e| format!("WENJI_LOG={value:?}: {e}"))
}

/// The `WENJI_*` variables Wenji reads: every flag's, and the two read directly.
fn known_variables() -> Vec<String> {
    fn of(c: &clap::Command, into: &mut Vec<String>) {
        into.extend(c.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into_owned()));
        c.get_subcommands().for_each(|s| of(s, into));
    }
    let mut known = vec!["WENJI_SECRET".to_owned(), "WENJI_LOG".to_owned()];
    of(&<Cli as clap::CommandFactory>::command(), &mut known);
    known
}

/// `WENJI_*` variables that are a small slip from a setting (`WENJI_PUBLIC_ULR`, `WENJI_TRUSTED_PROXY`): a
/// misspelt one was silently ignored and the server ran on the default. Others (tools', tests') are left be.
fn misspelt_variables(given: impl Iterator<Item = String>) -> Vec<(String, String)> {
    let known = known_variables();
    given
        .filter(|g| g.starts_with("WENJI_") && !known.contains(g))
        .filter_map(|g| {
            let close = |k: &&String| strsim::levenshtein(&g, k) <= (k.len() - "WENJI_".len()).div_ceil(5).max(2);
            let meant = known.iter().find(close)?.clone();
            Some((g, meant))
        })
        .collect()
}

const DEFAULT_LOG: &str = "info,sqlx=warn,sea_orm=warn";

/// Logging as `WENJI_LOG` asks; a value it cannot use is logged as a warning and the default used, so a
/// server never starts without its log (nor refuses to start over it).
fn init_tracing() {
    let asked = log_filter(std::env::var("WENJI_LOG").ok().as_deref());
    let filter = match &asked {
        Ok(f) => f.clone(),
        Err(_) => tracing_subscriber::EnvFilter::new(DEFAULT_LOG),
    };
    let filter = NEVER_TRACED.iter().fold(filter, |f, d| f.add_directive(d.parse().expect("a valid directive")));
    // Colour codes only for a person at a terminal, not in a journal or a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi).try_init();
    if let Err(why) = asked {
        tracing::warn!("{why}; logging with the default ({DEFAULT_LOG}) instead");
    }
}

/// Runs one command.
///
/// # Errors
/// Whatever stops the command, with context.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    match cli.command {
        Command::Serve(args) => serve::run(&config, args).await.map(|()| ExitCode::SUCCESS),
        Command::Migrate(args) => {
            let store = connect(&config).await?;
            store.migrate().await?;
            println!("migrations applied to {}", config.database_for_log());
            if args.forget_secret_fingerprint {
                store.forget_secret_fingerprint(&crate::store::audit::Actor::system("cli")).await?;
                println!(
                    "the secret's fingerprint is forgotten: the next start records the secret it is given. Start with \
                     the key the links were signed with (data/secret.key or WENJI_SECRET): with another one every \
                     printed link, QR code and unused 填写码 stops working"
                );
            }
            if args.new_secret {
                if config.has_secret() {
                    anyhow::bail!(
                        "a secret is here ({}): --new-secret is for a lost one only, and would make every printed link and QR code refuse citizens",
                        config.secret_source()
                    );
                }
                let secret = config.secret()?;
                store
                    .replace_secret_fingerprint(&secret.fingerprint(), &crate::store::audit::Actor::system("cli"))
                    .await?;
                println!(
                    "a new secret is in {}: every link, QR code and unused 填写码 made before no longer opens the form; print new ones (`wenji links list`, `wenji links qr`) and issue new codes",
                    config.secret_source()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckForms => Ok(check_forms::run(&config).await),
        Command::User(cmd) => user::run(&config, cmd).await.map(|()| ExitCode::SUCCESS),
        Command::Links(cmd) => links::run(&config, cmd).await.map(|()| ExitCode::SUCCESS),
        Command::Backup(args) => backup::run(&config, args).await.map(|()| ExitCode::SUCCESS),
        Command::Restore(args) => restore::run(&config, args).await.map(|()| ExitCode::SUCCESS),
        Command::Export(args) => export::run(&config, args).await.map(|()| ExitCode::SUCCESS),
    }
}

/// The folder a file is in: `.` for a bare name.
pub(crate) fn folder_of(path: &std::path::Path) -> &std::path::Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."))
}

/// Holds the SQLite database's folder: shared by every `wenji serve` on it, exclusively by `wenji restore`.
/// A restore under a running server lost what the server acknowledged after it (written to the file moved
/// aside, or into the copied-over file, which it corrupted). `None` on PostgreSQL.
pub(crate) fn hold_data_folder(config: &Config, exclusive: bool) -> anyhow::Result<Option<std::fs::File>> {
    let Some(db) = config.sqlite_path() else { return Ok(None) };
    let folder = folder_of(&db).to_owned();
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let held = std::fs::File::open(&folder).with_context(|| format!("opening {}", folder.display()))?;
    let tried = if exclusive { held.try_lock() } else { held.try_lock_shared() };
    match tried {
        Ok(()) => Ok(Some(held)),
        Err(std::fs::TryLockError::WouldBlock) if exclusive => anyhow::bail!(
            "a `wenji serve` is running on the database in {}: stop every server first (what it acknowledged \
             after the restore would be lost); nothing was changed",
            folder.display()
        ),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "`wenji restore` is replacing the database in {}; start the server when it has finished",
            folder.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", folder.display())),
    }
}

/// A file the user named for output (`backup`, `--out`) must be new: Wenji never replaces a file someone
/// keeps, nor deletes it when an export's audit entry fails.
pub(crate) fn refuse_existing(path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!("{} already exists; choose a new file name", path.display());
    }
    Ok(())
}

/// A file named for output must carry the extension of what is written (`--out x.csv` with the default
/// `--format xlsx` wrote a workbook named .csv that nothing opened).
pub(crate) fn refuse_other_extension(out: Option<&std::path::Path>, format: &str) -> anyhow::Result<()> {
    let given = out.and_then(|o| o.extension()).map(|e| e.to_string_lossy().to_lowercase());
    match given.as_deref() {
        Some(ext @ ("csv" | "xlsx" | "svg" | "png")) if ext != format => anyhow::bail!(
            "--out ends in .{ext} but the file written is {format}: name it .{format}, or choose --format {ext} where it is offered"
        ),
        _ => Ok(()),
    }
}

/// A file to write beside `path` (its folder created), removed unless placed with [`place_new`].
///
/// # Errors
/// When the folder or the file cannot be created.
pub(crate) fn part_beside(path: &std::path::Path) -> std::io::Result<tempfile::TempPath> {
    let folder = folder_of(path);
    std::fs::create_dir_all(folder)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let file = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".part").tempfile_in(folder)?;
    Ok(file.into_temp_path())
}

/// Where a written file goes (an export, a QR code): the file the user named, or the first free one of a default name in a folder.
pub(crate) enum Target {
    Named(std::path::PathBuf),
    Free(std::path::PathBuf, String),
}

impl Target {
    /// The name tried first.
    pub(crate) fn first(&self) -> std::path::PathBuf {
        match self {
            Target::Named(path) => path.clone(),
            Target::Free(dir, name) => dir.join(name),
        }
    }

    /// Places the written file `part`: under the named file, never replacing one; or under the first
    /// default name still free, `name-2`, `name-3`… when exports of one minute run at once.
    pub(crate) fn place(&self, part: tempfile::TempPath) -> anyhow::Result<std::path::PathBuf> {
        let (dir, name) = match self {
            Target::Named(path) => {
                place_named(part, path)?;
                return Ok(path.clone());
            }
            Target::Free(dir, name) => (dir, name),
        };
        let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
        let mut part = part;
        for n in 1..=100 {
            let path = if n == 1 { dir.join(name) } else { dir.join(format!("{stem}-{n}.{extension}")) };
            match place_new(part, &path) {
                Ok(()) => return Ok(path),
                Err(NotPlaced::Taken(back)) => part = back,
                Err(NotPlaced::Failed(e)) => anyhow::bail!("placing {}: {e}", path.display()),
            }
        }
        anyhow::bail!("no free file name for {name} in {}", dir.display())
    }
}

/// Why a part was not placed: the name is taken (the part is handed back), or the filesystem failed.
pub(crate) enum NotPlaced {
    Taken(tempfile::TempPath),
    Failed(std::io::Error),
}

/// Puts the finished `part` at `path`, never over a file there (another run's, written meanwhile: tempfile's
/// no-clobber persist), then syncs the folder; a file placed but not synced is taken back, so no run reports
/// a failure and leaves its file behind (an export unaudited, a snapshot that may not last).
///
/// # Errors
/// [`NotPlaced`].
pub(crate) fn place_new(part: tempfile::TempPath, path: &std::path::Path) -> Result<(), NotPlaced> {
    if let Err(e) = part.persist_noclobber(path) {
        return Err(match e.error.kind() {
            std::io::ErrorKind::AlreadyExists => NotPlaced::Taken(e.path),
            _ => NotPlaced::Failed(e.error),
        });
    }
    let folder = folder_of(path);
    if let Err(e) = std::fs::File::open(folder).and_then(|f| f.sync_all()) {
        let _ = std::fs::remove_file(path);
        return Err(NotPlaced::Failed(e));
    }
    Ok(())
}

/// [`place_new`] for a file the user named: a taken name is an error naming it.
///
/// # Errors
/// When `path` exists or the file cannot be placed.
pub(crate) fn place_named(part: tempfile::TempPath, path: &std::path::Path) -> anyhow::Result<()> {
    match place_new(part, path) {
        Ok(()) => Ok(()),
        Err(NotPlaced::Taken(_)) => {
            anyhow::bail!("{} already exists (written meanwhile); choose a new file name", path.display())
        }
        Err(NotPlaced::Failed(e)) => anyhow::bail!("placing {}: {e}", path.display()),
    }
}

/// Opens (creating when needed) and migrates the configured database: for `serve`, the one command
/// besides `migrate` that changes the schema.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn open_and_migrate(config: &Config) -> anyhow::Result<Store> {
    let store = connect(config).await?;
    refuse_another_secret(config, &store).await?;
    store.migrate().await?;
    Ok(store)
}

/// Opens the configured database for a command that must not change its schema (`export`, `user`,
/// `links`): a database behind this build is refused with the command that brings it up to date.
///
/// # Errors
/// When the database cannot be opened, or has migrations pending.
pub async fn open_migrated(config: &Config) -> anyhow::Result<Store> {
    let store = open_existing(config).await?;
    let pending = store.pending_migrations().await?;
    if !pending.is_empty() {
        anyhow::bail!(
            "the database {} is behind this version of wenji ({} migration(s) pending, from {}); run `wenji migrate` first",
            config.database_for_log(),
            pending.len(),
            pending[0]
        );
    }
    Ok(store)
}

/// Opens the configured database as it is, behind this build or not (`backup`: the snapshot to take
/// before an upgrade migrates it); one from a newer release is refused when connecting.
///
/// # Errors
/// When there is no database, or it cannot be opened.
pub async fn open_existing(config: &Config) -> anyhow::Result<Store> {
    if let Some(path) = config.sqlite_path()
        && !path.exists()
    {
        // Opening would create an empty database: a backup run from another folder (cron's) would then
        // write empty snapshots and say it had succeeded.
        let shown = std::path::absolute(&path).unwrap_or(path);
        anyhow::bail!(
            "there is no database at {} (paths are relative to the folder wenji runs in): run this command in the folder `wenji serve` runs in, or set WENJI_DATABASE_URL",
            shown.display()
        );
    }
    connect(config).await
}

/// The secret, checked against the one this database's links were signed with (recorded on first use):
/// another secret would make every printed link and QR code answer 链接无效.
///
/// # Errors
/// When the secret differs from the database's, or none is kept where the database has one.
pub async fn checked_secret(config: &Config, store: &Store) -> anyhow::Result<crate::domain::signing::Secret> {
    // A database with links but no fingerprint comes from before fingerprints: its links were signed by
    // some kept secret, never by one made now.
    let signed_before = store.secret_fingerprint().await?.is_some() || !store.links(None).await?.is_empty();
    if !config.has_secret() && signed_before {
        anyhow::bail!(no_secret_here(config));
    }
    let secret = config.secret()?;
    if store.record_secret_fingerprint(&secret.fingerprint()).await? != secret.fingerprint() {
        anyhow::bail!(another_secret(config));
    }
    Ok(secret)
}

/// [`checked_secret`]'s refusals, reading only, before a migration: a start refused for its secret leaves
/// the database as its release left it (migrated first, the earlier release could no longer start on it).
/// A database not made yet, or from before fingerprints, is checked after migrating.
///
/// # Errors
/// When the database recorded a secret and this one is missing or another.
pub async fn refuse_another_secret(config: &Config, store: &Store) -> anyhow::Result<()> {
    let Ok(Some(recorded)) = store.secret_fingerprint().await else { return Ok(()) };
    if !config.has_secret() {
        anyhow::bail!(no_secret_here(config));
    }
    if config.secret()?.fingerprint() != recorded {
        anyhow::bail!(another_secret(config));
    }
    Ok(())
}

const RESTORE_SECRET: &str = "restore the secret.key kept with this database into WENJI_DATA_DIR, or give every instance the same WENJI_SECRET (starting with another secret would make every printed link and QR code refuse citizens)";

fn no_secret_here(config: &Config) -> String {
    format!(
        "this database's links and QR codes were signed with a secret that is not here (no WENJI_SECRET, no {}): {RESTORE_SECRET}. If it is lost for good, `wenji migrate --new-secret` makes a new one (every link, QR code and unused 填写码 made before then stops working)",
        config.secret_source()
    )
}

fn another_secret(config: &Config) -> String {
    format!(
        "this database's links and QR codes were signed with another secret than {}: {RESTORE_SECRET}. If this secret is the right one and the database recorded a wrong one, run `wenji migrate --forget-secret-fingerprint` once",
        config.secret_source()
    )
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    if crate::store::is_in_memory(&config.database_url) {
        // It started, said commits=FULL and lost everything at stop; `backup` wrote a 0-byte snapshot.
        anyhow::bail!(
            "WENJI_DATABASE_URL {} names a database kept in memory: everything stored would be lost when wenji stops, and a backup of it is empty. Name a file, such as sqlite://data/wenji.db?mode=rwc",
            config.database_for_log()
        );
    }
    config.prepare_database_dir()?;
    let settings = crate::store::ConnectSettings { unsafe_no_sync: config.unsafe_test_no_sync };
    Store::connect_with(&config.database_url, settings).await.map_err(|e| {
        let shown = config.database_for_log();
        // The driver's own message repeats the whole address, password and all.
        let why = e.to_string().replace(&config.database_url, &shown);
        anyhow::anyhow!("cannot open the database (WENJI_DATABASE_URL {shown}): {why}")
    })
}

/// Loads and checks the forms folder, turning the problems into one readable error.
///
/// # Errors
/// Every problem, one a line.
pub fn load_forms(config: &Config) -> anyhow::Result<crate::domain::catalog::Catalog> {
    crate::forms_dir::load(&config.forms_dir).map_err(|errs| {
        let lines: Vec<String> = errs.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the forms folder has {} problem(s):\n  {}", errs.len(), lines.join("\n  "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_named_alone_in_wenji_log_adds_to_the_default_and_silences_nothing() {
        let levels = |v: &str| {
            let f = log_filter(Some(v)).unwrap().to_string();
            f.split(',').filter(|d| !d.contains('=')).map(str::to_owned).collect::<Vec<_>>()
        };
        assert_eq!(levels("sqlx"), ["info"], "Wenji's own lines stay at the default's level");
        assert_eq!(levels("hyper,tower_http=debug"), ["info"]);
        assert_eq!(levels("warn,sqlx=debug"), ["warn"], "a level given stays as given");
        assert!(log_filter(Some("verbose")).is_err());
    }

    #[test]
    fn a_misspelt_setting_is_named_with_the_one_meant_and_other_tools_variables_are_not() {
        let given = ["WENJI_PUBLIC_ULR", "WENJI_TRUSTED_PROXY", "WENJI_SMALL_CELL", "WENJI_PUBLIC_URL", "WENJI_SECRET"]
            .into_iter()
            .chain(["WENJI_TEST_PG_URL", "WENJI_BINARY", "WENJI_REQUIRE_BROWSER", "WENJI_BENCH_DIR", "PATH"])
            .map(str::to_owned);
        let said: Vec<(String, String)> = super::misspelt_variables(given);
        let pairs: Vec<(&str, &str)> = said.iter().map(|(g, m)| (g.as_str(), m.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("WENJI_PUBLIC_ULR", "WENJI_PUBLIC_URL"),
                ("WENJI_TRUSTED_PROXY", "WENJI_TRUSTED_PROXIES"),
                ("WENJI_SMALL_CELL", "WENJI_SMALL_CELL_K")
            ]
        );
    }
}
