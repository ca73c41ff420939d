//! `TestApp`: a real server on a real socket over a fresh real database (a SQLite file, or a fresh
//! PostgreSQL schema when `WENJI_TEST_PG_URL` is set), migrated by the real migrations, with the shipped
//! forms plus the test fixtures.

#![allow(dead_code)]

use reqwest::redirect::Policy;
use sea_orm::{ConnectionTrait, Database};
use std::path::{Path, PathBuf};
use wenji::config::Config;
use wenji::domain::user::Role;
use wenji::store::Store;
use wenji::store::audit::Actor;
use wenji::web::state::{AppState, WebSettings};

pub const PASSWORD: &str = "Test-Passw0rd-2026";

pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub config: Config,
    /// A client without cookies (a citizen).
    pub citizen: reqwest::Client,
}

/// Copies the shipped forms (without their open/close dates, so tests do not depend on the calendar)
/// and the fixtures into `dir/forms`.
pub fn test_forms(dir: &Path) -> PathBuf {
    let forms = dir.join("forms");
    std::fs::create_dir_all(&forms).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for entry in std::fs::read_dir(root.join("forms")).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("opens_at") && !l.starts_with("closes_at"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(forms.join(p.file_name().unwrap()), text).unwrap();
    }
    for entry in std::fs::read_dir(root.join("tests/fixtures/forms")).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, forms.join(p.file_name().unwrap())).unwrap();
    }
    forms
}

/// A fresh database URL: a SQLite file in `dir`, or a new schema in the PostgreSQL test database.
pub async fn fresh_database(dir: &Path) -> String {
    match std::env::var("WENJI_TEST_PG_URL") {
        Ok(pg) if !pg.is_empty() => {
            let schema = format!("t_{}", hex::encode(rand::random::<[u8; 6]>()));
            let db = Database::connect(&pg).await.expect("connect to the PostgreSQL test database");
            db.execute_unprepared(&format!("CREATE SCHEMA {schema}")).await.unwrap();
            db.close().await.ok();
            let sep = if pg.contains('?') { '&' } else { '?' };
            format!("{pg}{sep}options[search_path]={schema}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("wenji.db").display()),
    }
}

/// Leaders' views end at the bureau's last midnight (+08:00), so a test that ran across it would see its
/// day change halfway: one that starts in the last two minutes of the day waits until the day has turned.
async fn clear_of_the_bureaus_midnight() {
    const DAY: u64 = 86_400;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let left = DAY - (now + 8 * 3600) % DAY;
    if left <= 120 {
        tokio::time::sleep(std::time::Duration::from_secs(left + 1)).await;
    }
}

pub fn is_postgres() -> bool {
    std::env::var("WENJI_TEST_PG_URL").is_ok_and(|v| !v.is_empty())
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with settings adjusted by `f`.
    pub async fn spawn_with(f: impl FnOnce(&mut WebSettings)) -> TestApp {
        clear_of_the_bureaus_midnight().await;
        let dir = tempfile::tempdir().unwrap();
        let forms_dir = test_forms(dir.path());
        let config = Config {
            database_url: fresh_database(dir.path()).await,
            forms_dir: forms_dir.clone(),
            data_dir: dir.path().join("data"),
            exports_dir: dir.path().join("exports"),
            public_url: None,
            unsafe_test_no_sync: false,
        };
        let mut settings = WebSettings {
            base_url: String::new(),
            secure_cookies: false,
            submit_burst: 10_000,
            submit_per_minute: 10_000,
            exports_dir: config.exports_dir.clone(),
            forms_dir,
            small_cell_k: 5,
            index_search_after_idle: Some(wenji::store::submissions::SubmissionWriter::INDEX_AFTER_IDLE),
            trusted_proxies: Vec::new(),
            inbox_count_cap: wenji::web::workspace::inbox::COUNT_CAP,
            timeouts: wenji::web::serve::Timeouts::default(),
            max_connections: wenji::web::serve::MAX_CONNECTIONS,
            export_retention: std::time::Duration::from_secs(24 * 3600),
        };
        f(&mut settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        if settings.base_url.is_empty() {
            settings.base_url = format!("http://{addr}");
        }
        let (timeouts, max_connections) = (settings.timeouts, settings.max_connections);
        let state = wenji::cli::serve::build_state(&config, settings).await.expect("state builds");
        let app = wenji::web::router(state.clone());
        tokio::spawn(wenji::web::serve::serve(listener, app, timeouts, max_connections, std::future::pending()));
        TestApp { base: format!("http://{addr}"), state, dir, config, citizen: client(false) }
    }

    /// A second server on this app's database (a second instance, or a second process on one SQLite
    /// file): its base URL.
    pub async fn second_server(&self) -> String {
        self.second_server_with(|_| {}).await
    }

    /// [`TestApp::second_server`] with its settings adjusted by `f` (a restart with another k, say).
    pub async fn second_server_with(&self, f: impl FnOnce(&mut WebSettings)) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut settings = (*self.state.settings).clone();
        settings.base_url = base.clone();
        f(&mut settings);
        let state = wenji::cli::serve::build_state(&self.config, settings).await.expect("state builds");
        let app = wenji::web::router(state);
        tokio::spawn(wenji::web::serve::serve(
            listener,
            app,
            self.state.settings.timeouts,
            self.state.settings.max_connections,
            std::future::pending(),
        ));
        base
    }

    /// Runs the `wenji` binary with `args` off this runtime's thread: a test's runtime also drives the
    /// server, whose transactions would otherwise stall, holding SQLite's lock, while the command waits.
    pub async fn run_cli(&self, args: &[&str]) -> std::process::Output {
        let mut c = self.cli();
        c.args(args);
        tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
    }

    /// The `wenji` binary, set to this app's database, forms and folders.
    pub fn cli(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wenji"));
        c.env("WENJI_DATABASE_URL", &self.config.database_url)
            .env("WENJI_FORMS_DIR", &self.config.forms_dir)
            .env("WENJI_DATA_DIR", &self.config.data_dir)
            .env("WENJI_EXPORTS_DIR", &self.config.exports_dir);
        c
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// A browser-like client (cookies kept, redirects not followed).
    pub fn browser(&self) -> reqwest::Client {
        client(true)
    }

    /// Fetches a form page and returns its submission key.
    pub async fn form_key(&self, slug: &str) -> String {
        let html = self.citizen.get(self.url(&format!("/f/{slug}"))).send().await.unwrap().text().await.unwrap();
        hidden(&html, "_key").expect("the form page has a submission key")
    }

    /// Posts the HTML form with `pairs` (question fields as `q_id`), with a fresh key.
    pub async fn post_form(&self, slug: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let key = self.form_key(slug).await;
        self.post_form_with_key(slug, &key, pairs).await
    }

    /// Posts the HTML form as its page does: `multipart/form-data`.
    pub async fn post_form_with_key(&self, slug: &str, key: &str, pairs: &[(&str, &str)]) -> reqwest::Response {
        let body = pairs.iter().fold(reqwest::multipart::Form::new().text("_key", key.to_owned()), |f, (n, v)| {
            f.text(n.to_string(), v.to_string())
        });
        self.citizen.post(self.url(&format!("/f/{slug}"))).multipart(body).send().await.unwrap()
    }

    /// Submits a valid opinion through the HTML form and returns the receipt.
    pub async fn submit_opinion(&self, text: &str) -> String {
        let r = self
            .post_form(
                "zhengqiu",
                &[("_category", "qz"), ("q_team", text), ("q_has_member", "no"), ("q_satisfaction", "2")],
            )
            .await;
        assert_eq!(r.status(), 303, "submission should redirect to the receipt");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        loc.split("/r/").nth(1).unwrap().split('?').next().unwrap().to_owned()
    }

    /// Posts JSON to the submission API.
    pub async fn submit_json(&self, slug: &str, key: &str, body: &serde_json::Value) -> reqwest::Response {
        self.citizen
            .post(self.url(&format!("/api/v1/forms/{slug}/responses")))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an account directly in the store.
    pub async fn create_user(&self, name: &str, role: Role) {
        let hash = wenji::domain_password::hash(PASSWORD).unwrap();
        self.store().create_user(name, name, role, &hash, &Actor::system("test")).await.unwrap();
    }

    /// A signed-in client of a new account with `role`, and its CSRF token.
    pub async fn login_as(&self, role: Role) -> (reqwest::Client, String) {
        let name = format!("{}-{}", role.as_str(), hex::encode(rand::random::<[u8; 3]>()));
        self.create_user(&name, role).await;
        self.login(&name, PASSWORD).await
    }

    /// Starts an export through the web with `pairs` (the CSRF token added) and waits for it: the
    /// downloaded bytes, or the refusal's status and page.
    pub async fn export_as(
        &self,
        client: &reqwest::Client,
        csrf: &str,
        pairs: &[(&str, &str)],
    ) -> Result<Vec<u8>, (u16, String)> {
        self.export_at(&self.base, client, csrf, pairs).await
    }

    /// [`TestApp::export_as`] through the server at `base` (a second one on this database, say).
    pub async fn export_at(
        &self,
        base: &str,
        client: &reqwest::Client,
        csrf: &str,
        pairs: &[(&str, &str)],
    ) -> Result<Vec<u8>, (u16, String)> {
        let mut body = vec![("_csrf", csrf)];
        body.extend_from_slice(pairs);
        let url = |path: &str| format!("{base}{path}");
        let r = client.post(url("/w/exports")).form(&body).send().await.unwrap();
        if r.status() != 303 {
            return Err((r.status().as_u16(), r.text().await.unwrap()));
        }
        let job = r.headers()["location"].to_str().unwrap().to_owned();
        for _ in 0..400 {
            let page = client.get(url(&job)).send().await.unwrap().text().await.unwrap();
            if !texts(&page, "#download").is_empty() {
                let d = client.get(url(&format!("{job}/download"))).send().await.unwrap();
                assert_eq!(d.status(), 200);
                return Ok(d.bytes().await.unwrap().to_vec());
            }
            assert!(texts(&page, ".error-summary").is_empty(), "the export failed: {page}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the export did not finish");
    }

    pub async fn login(&self, name: &str, password: &str) -> (reqwest::Client, String) {
        let c = self.browser();
        let r = c.post(self.url("/login")).form(&[("username", name), ("password", password)]).send().await.unwrap();
        assert_eq!(r.status(), 303, "sign-in as {name} should succeed");
        let home = c.get(self.url("/w")).send().await.unwrap().text().await.unwrap();
        let csrf = hidden(&home, "_csrf").expect("the workspace page carries a CSRF token");
        (c, csrf)
    }
}

pub fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder().cookie_store(cookies).redirect(Policy::none()).build().unwrap()
}

/// The value of the hidden input named `name`.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
    doc.select(&sel).next().and_then(|e| e.value().attr("value")).map(str::to_owned)
}

/// The texts of the elements matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).map(|e| e.text().collect::<String>().trim().to_owned()).collect()
}

/// The `attr` attribute of each element matching `selector`.
pub fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
}

/// The hidden fields of the form matching `form`, as a browser would post them.
pub fn form_fields(html: &str, form: &str) -> Vec<(String, String)> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("{form} input[type=hidden]")).unwrap();
    doc.select(&sel)
        .filter_map(|e| Some((e.value().attr("name")?.to_owned(), e.value().attr("value").unwrap_or("").to_owned())))
        .collect()
}

/// Makes the database refuse `event` ("INSERT" or "UPDATE") on `table` where `when` holds (a trigger's
/// condition over `NEW`), as a full disk would: on PostgreSQL with the disk-full code 53100. `None`
/// takes the refusal back. One refusal per table at a time.
pub async fn refuse_writes(app: &TestApp, table: &str, event: &str, when: Option<&str>) {
    refuse_writes_with(app, table, event, when, "53100").await;
}

/// [`refuse_writes`] with PostgreSQL's error `code` (SQLSTATE) instead of a full disk's.
pub async fn refuse_writes_with(app: &TestApp, table: &str, event: &str, when: Option<&str>, code: &str) {
    let db = Database::connect(&app.config.database_url).await.unwrap();
    let name = format!("refuse_{table}");
    let sql = match (is_postgres(), when) {
        (true, Some(when)) => format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               RAISE EXCEPTION USING ERRCODE = '{code}', MESSAGE = 'refused (test)'; END $$; \
             CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {name}()"
        ),
        (true, None) => format!("DROP TRIGGER {name} ON {table}; DROP FUNCTION {name}()"),
        (false, Some(when)) => {
            format!(
                "CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {when} BEGIN SELECT RAISE(ABORT, 'refused (test)'); END"
            )
        }
        (false, None) => format!("DROP TRIGGER {name}"),
    };
    db.execute_unprepared(&sql).await.unwrap();
    // Closed now, not whenever the pool's drop gets to it: an open SQLite connection can hold a lock.
    db.close().await.unwrap();
}

/// A day passes: every stored response and opinion moves one day back, as if sent yesterday, and so do
/// the releases to leaders made so far. Leaders' views and protected exports cover what was released to
/// them at the bureau's last midnight: each unit's responses sent before it, once k of them wait.
pub async fn a_day_passes(app: &TestApp) {
    let db = Database::connect(&app.config.database_url).await.unwrap();
    for table in ["responses", "opinions"] {
        db.execute_unprepared(&format!(
            "UPDATE {table} SET submitted_at = submitted_at - 86400000, released_at = released_at - 86400000"
        ))
        .await
        .unwrap();
    }
    // Through negative keys: moved one by one, a release would meet the day before's.
    db.execute_unprepared("UPDATE leader_releases SET cut_ms = 86400000 - cut_ms").await.unwrap();
    db.execute_unprepared("UPDATE leader_releases SET cut_ms = -cut_ms").await.unwrap();
    // The database was made a day earlier too: responses from before its making are an upgrade's.
    db.execute_unprepared("UPDATE seaql_migrations SET applied_at = applied_at - 86400").await.unwrap();
    db.close().await.unwrap();
}

/// The waiting opinions in the order analyst `name` meets them on the tagging screen today (each analyst's
/// own keyed order, never arrival).
pub async fn tagging_order(app: &TestApp, name: &str) -> Vec<i64> {
    let user = app.store().user_by_name(name).await.unwrap().expect("the analyst exists").id;
    let keys = app.state.queue_keys(user);
    let mut order = Vec::new();
    let mut at = 0;
    while let Some(id) = app.store().next_pending(at, keys).await.unwrap() {
        if order.contains(&id) {
            break;
        }
        order.push(id);
        at = id;
    }
    order
}

/// A week and a day pass ([`a_day_passes`] eight times): a unit that never gathered k responses joins the
/// pool of its form for leaders once its first one is a week old.
pub async fn a_week_passes(app: &TestApp) {
    for _ in 0..8 {
        a_day_passes(app).await;
    }
}
