//! `wenji serve`: migrate, load the forms, print the first-run link when there is no account, serve.

use crate::config::Config;
use crate::store::Store;
use crate::store::submissions::SubmissionWriter;
use crate::web::serve::Timeouts;
use crate::web::state::{AppState, LoadedForms, Shared, WebSettings};
use crate::web::workspace::exports;
use clap::Args;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// A time limit in seconds: 1 to a day (a larger one overflowed the clock and failed every request).
fn seconds() -> clap::builder::RangedU64ValueParser {
    clap::value_parser!(u64).range(1..=86_400)
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "WENJI_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Submissions one client address may send at once before being slowed (offices share addresses).
    #[arg(long, env = "WENJI_SUBMIT_BURST", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..))]
    pub submit_burst: u32,
    /// Submissions a minute one client address regains after a burst.
    #[arg(long, env = "WENJI_SUBMIT_PER_MINUTE", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub submit_per_minute: u32,
    /// Addresses of reverse proxies in front of Wenji (comma-separated); their X-Forwarded-For header then
    /// tells clients apart for the rate limiters. Without it, everyone behind a proxy shares one limit.
    #[arg(long, env = "WENJI_TRUSTED_PROXIES", default_value = "", value_parser = proxy_addresses, action = clap::ArgAction::Append)]
    pub trusted_proxies: Vec<ProxyAddresses>,
    /// Units or categories with fewer respondents than this show as "<k" in leaders' cross-tables.
    /// 2 at least (1 would hide nothing).
    #[arg(long, env = "WENJI_SMALL_CELL_K", default_value_t = 5, value_parser = crate::config::small_cell_k())]
    pub small_cell_k: u32,
    /// Seconds a client may take to send a request's headers; also how long an idle kept-alive
    /// connection stays open.
    #[arg(long, env = "WENJI_HEADER_TIMEOUT_SECS", default_value_t = Timeouts::default().header.as_secs(), value_parser = seconds())]
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send a request's body.
    #[arg(long, env = "WENJI_BODY_TIMEOUT_SECS", default_value_t = Timeouts::default().body.as_secs(), value_parser = seconds())]
    pub body_timeout_secs: u64,
    /// Seconds a request may take in all, body included, before it is answered 408.
    #[arg(long, env = "WENJI_REQUEST_TIMEOUT_SECS", default_value_t = Timeouts::default().request.as_secs(), value_parser = seconds())]
    pub request_timeout_secs: u64,
    /// Connections open at once (each holds up to 96 KiB of headers); more clients wait to be accepted.
    #[arg(long, env = "WENJI_MAX_CONNECTIONS", default_value_t = crate::web::serve::MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
    pub max_connections: u64,
    /// Hours a finished export's file is kept for download before it is deleted.
    #[arg(long, env = "WENJI_EXPORT_RETENTION_HOURS", default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..=8760))]
    pub export_retention_hours: u64,
}

/// Builds the application state from configuration (used by `serve` and by tests).
///
/// # Errors
/// When the database, the forms or the secret cannot be loaded.
pub async fn build_state(config: &Config, settings: WebSettings) -> anyhow::Result<AppState> {
    let catalog = super::load_forms(config)?;
    let data_folder = super::hold_data_folder(config, false)?;
    let store = super::open_and_migrate(config).await?;
    // Before anything is written: an instance refused for its secret leaves the shared database as it was.
    let secret = super::checked_secret(config, &store).await?;
    let moved = store.meaning_lost_in(&catalog).await?;
    if !moved.is_empty() {
        anyhow::bail!(
            "the forms folder changes what stored answers mean; put the grades or the files back:\n{}",
            moved.join("\n")
        );
    }
    let versions = store.sync_catalog(&catalog).await?;
    fail_abandoned_exports(&store).await?;
    let withheld = store.withhold_unevenly_asked().await?;
    if withheld > 0 {
        tracing::info!(
            withheld,
            "opinions answering a question asked unevenly in their release taken back from leaders"
        );
    }
    let setup_token = if store.count_admins().await? == 0 {
        let token = hex::encode(rand::random::<[u8; 24]>());
        store.put_setup_token(&token).await?;
        Some(token)
    } else {
        None
    };
    let starter = crate::web::suggester::Suggester::load_starter(&settings.forms_dir).map_err(anyhow::Error::msg)?;
    // The areas' keywords are features of the model, as in the benchmark (`tests/bench/classify.rs`).
    let keywords = catalog.areas.iter().flat_map(|a| a.keywords.iter().map(|w| (a.code, w.clone()))).collect();
    let options = crate::domain::classify::model::TrainOptions { keywords, ..Default::default() };
    let suggester = Arc::new(crate::web::suggester::Suggester::new(starter, options));
    suggester.retrain(&store);
    let limiter = crate::web::limiter::SubmitLimiter::new(settings.submit_burst, settings.submit_per_minute);
    let state = AppState::new(Shared {
        writer: SubmissionWriter::start(store.clone(), settings.index_search_after_idle).await?,
        store,
        forms: Arc::new(RwLock::new(Arc::new(LoadedForms { catalog, versions }))),
        secret,
        settings: Arc::new(settings),
        setup_token: Arc::new(Mutex::new(setup_token)),
        limiter,
        login_limiter: Default::default(),
        searches: Default::default(),
        ratings: Default::default(),
        clock: Default::default(),
        clusters: Default::default(),
        public_register: Default::default(),
        health: Default::default(),
        leader_disclosures: Default::default(),
        suggester,
        data_folder,
    });
    crate::web::workspace::admin_forms::record_forms_at_start(&state).await?;
    state.store.rewrite_contacts_owed_before_start().await?;
    tokio::spawn(delete_expired_exports(state.clone()));
    tokio::spawn(fail_abandoned_exports_from_now_on(state.store.clone()));
    tokio::spawn(place_new_opinions(state.clone()));
    tokio::spawn(crate::web::workspace::admin_forms::follow_reloads(state.clone()));
    Ok(state)
}

/// Places new opinions in near-duplicate groups once a second (see `store::clusters`). Like the search
/// index, it waits for a pause in submissions: a pass's writes would hold up a burst's commits.
async fn place_new_opinions(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if !state.writer.quiet_for(SubmissionWriter::INDEX_AFTER_IDLE) {
            continue;
        }
        if let Err(e) = state.clusters.catch_up(&state.store).await {
            tracing::warn!(error = %e, "near-duplicate groups not updated; trying again");
        }
    }
}

/// Marks export jobs failed that no server runs any more (stopped mid-export, here or on another instance).
async fn fail_abandoned_exports(store: &Store) -> crate::store::Result<()> {
    let abandoned = store.fail_abandoned_export_jobs(exports::ABANDONED_AFTER).await?;
    if abandoned > 0 {
        tracing::warn!(jobs = abandoned, "export jobs whose server stopped were marked failed");
    }
    Ok(())
}

/// Keeps doing so while serving (start-up did it once already): an instance that stopped for good leaves
/// its jobs to the others.
async fn fail_abandoned_exports_from_now_on(store: Store) {
    let every = exports::ABANDONED_AFTER / 3;
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if let Err(e) = fail_abandoned_exports(&store).await {
            tracing::warn!(error = %e, "abandoned export jobs not marked; trying again later");
        }
    }
}

/// Deletes expired export files, checking a few times per retention period (at most every 5 minutes).
async fn delete_expired_exports(state: AppState) {
    let retention = state.settings.export_retention;
    let every = (retention / 4).clamp(std::time::Duration::from_millis(100), std::time::Duration::from_secs(300));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = crate::web::workspace::exports::delete_expired_files(&state, retention).await {
            tracing::warn!(error = %e, "expired exports not deleted; trying again later");
        }
    }
}

/// Raises the open-file limit to its hard maximum: every connection holds a descriptor, and under
/// systemd's soft 1024, 1,100 idle connections kept citizens waiting for `accept`.
fn raise_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let (Some(current), Some(maximum)) = (limit.current, limit.maximum) else { return };
    if current >= maximum {
        return;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: Some(maximum), maximum: Some(maximum) }) {
        Ok(()) => tracing::debug!(from = current, to = maximum, "open-file limit raised"),
        Err(e) => tracing::warn!(limit = current, error = %e, "cannot raise the open-file limit"),
    }
}

pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    // First, so a taken address stops the start before the database is touched or a set-up link printed.
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.bind))?;
    config.prepare_exports_dir()?;
    raise_open_file_limit();
    // The address bound (port 0 asks the system for one), for the links printed.
    let bound = listener.local_addr().map_or_else(|_| args.bind.to_string(), |a| a.to_string());
    let base_url = config.base_url(Some(&bound));
    let settings = WebSettings {
        secure_cookies: base_url.starts_with("https://"),
        base_url: base_url.clone(),
        submit_burst: args.submit_burst,
        submit_per_minute: args.submit_per_minute,
        exports_dir: config.exports_dir.clone(),
        forms_dir: config.forms_dir.clone(),
        small_cell_k: args.small_cell_k,
        index_search_after_idle: Some(SubmissionWriter::INDEX_AFTER_IDLE),
        trusted_proxies: args.trusted_proxies.iter().flat_map(|p| p.0.iter().copied()).collect(),
        inbox_count_cap: crate::web::workspace::inbox::COUNT_CAP,
        timeouts: Timeouts {
            header: Duration::from_secs(args.header_timeout_secs),
            body: Duration::from_secs(args.body_timeout_secs),
            request: Duration::from_secs(args.request_timeout_secs),
        },
        export_retention: Duration::from_secs(args.export_retention_hours * 3600),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
    };
    let state = build_state(config, settings).await?;
    // For `wenji links` run from a shell without WENJI_PUBLIC_URL: only an address set on purpose (a start
    // without one, for a test, leaves it); a start on a full disk still serves.
    if config.public_url.is_some()
        && state.store.link_address().await.ok().flatten().as_deref() != Some(base_url.as_str())
        && let Err(e) = state.store.record_link_address(&base_url).await
    {
        tracing::warn!(error = %e, "the links' address was not recorded for `wenji links`");
    }
    if let Ok(in_force) = state.small_cell_k().await
        && in_force > u64::from(args.small_cell_k)
    {
        tracing::warn!(
            setting = args.small_cell_k,
            in_force,
            "WENJI_SMALL_CELL_K is below the k releases to leaders were made with; their views keep that k"
        );
    }
    if state.store.recorded_small_cell_k().await.ok().flatten() != Some(args.small_cell_k)
        && let Err(e) = state.store.record_small_cell_k(args.small_cell_k).await
    {
        tracing::warn!(error = %e, "k was not recorded for `wenji export`");
    }
    let listening = format!("http://{bound}");
    if state.store.listen_address().await.ok().flatten().as_deref() != Some(listening.as_str())
        && let Err(e) = state.store.record_listen_address(&listening).await
    {
        tracing::warn!(error = %e, "the listening address was not recorded for `wenji links`");
    }
    let durability = state.store.commit_durability().await?;
    let transport = state.store.transport(&config.database_url).await?;
    tracing::info!(database = %config.database_for_log(), commits = %durability, %transport, "database ready");
    if let Some(why) = transport.warning() {
        tracing::warn!(database = %config.database_for_log(), "{why}");
    }
    for f in state.forms().catalog.forms.values() {
        tracing::info!(form = %f.slug, title = %f.title, questions = f.questions.len(), version = &f.version_hash()[..12], "form loaded");
    }
    if let Some(t) = state.setup_token.lock().expect("setup lock").as_deref() {
        println!(
            "\nNo account exists yet. Create the first administrator (this link works once):\n  {base_url}/setup?token={t}\n"
        );
    }
    let swept = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
        loop {
            tick.tick().await;
            let _ = swept.sweep_limiters().await;
            let _ = swept.store.purge_expired_sessions().await;
            // The release at the last midnight, made here so no leader's request waits for it.
            swept.release_then_leader_cut().await;
        }
    });
    let (timeouts, max_connections) = (state.settings.timeouts, state.settings.max_connections);
    let at_exit = state.clone();
    let app = crate::web::router(state);
    println!(
        "Wenji is serving on {base_url}, listening on {bound}  (forms: {base_url}/f/zhengqiu, staff: {base_url}/login)"
    );
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    let server = crate::web::serve::serve(listener, app, timeouts, max_connections, async move {
        shutdown_signal().await;
        tracing::info!("shutting down: no new connections; answering the requests in flight");
        signalled.notify_one();
    });
    tokio::select! {
        served = server => served?,
        () = async { stopping.notified().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!(seconds = SHUTDOWN_GRACE.as_secs(), "requests still open after the grace period are cut");
        }
    }
    // Refused sign-ins counted since the last sweep would go with the process.
    if let Err(e) = at_exit.sweep_limiters().await {
        tracing::warn!(error = %e, "refused sign-ins since the last sweep could not be audited");
    }
    tracing::info!("stopped");
    Ok(())
}

/// How long a shutdown waits for the requests in flight (systemd's own limit before SIGKILL is 90 s).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Ctrl-C, or SIGTERM (what systemd, docker and kubernetes send to stop a service).
async fn shutdown_signal() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the server gracefully");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// The trusted proxies' addresses, as `WENJI_TRUSTED_PROXIES` lists them.
#[derive(Debug, Clone, Default)]
pub struct ProxyAddresses(pub Vec<std::net::IpAddr>);

/// A comma-separated list of addresses; spaces after the commas and empty items are allowed, as people
/// write lists (an env file's `WENJI_TRUSTED_PROXIES=` means none).
fn proxy_addresses(s: &str) -> Result<ProxyAddresses, String> {
    let parse =
        |a: &str| a.parse().map_err(|e| format!("{a:?}: {e} (an IP address such as 10.0.0.1; ranges are not read)"));
    Ok(ProxyAddresses(s.split(',').map(str::trim).filter(|a| !a.is_empty()).map(parse).collect::<Result<_, _>>()?))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        serve: super::ServeArgs,
    }

    #[test]
    fn trusted_proxies_are_read_from_a_list_with_empty_items_or_from_the_flag_given_again() {
        let read = |args: &[&str]| {
            let c = Command::try_parse_from(std::iter::once("serve").chain(args.iter().copied())).unwrap();
            c.serve.trusted_proxies.iter().flat_map(|p| p.0.clone()).map(|a| a.to_string()).collect::<Vec<_>>()
        };
        assert!(read(&[]).is_empty());
        assert_eq!(read(&["--trusted-proxies", "10.0.0.1, 10.0.0.2,"]), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(read(&["--trusted-proxies", "10.0.0.1", "--trusted-proxies", "::1"]), ["10.0.0.1", "::1"]);
        assert!(Command::try_parse_from(["serve", "--trusted-proxies", "10.0.0.0/8"]).is_err());
    }
}
