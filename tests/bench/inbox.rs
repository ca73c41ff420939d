//! Benchmark (prints figures, asserts nothing): with 100,000 opinions in a fresh SQLite database, the
//! server time of the inbox page, the next-opinion step (the prefetch JSON and the save) and search, measured
//! in-process through the real router (`tower::ServiceExt::oneshot`), as p50 / p95 / max.
//!
//! Run: `cargo bench --bench inbox`
//! (`WENJI_BENCH_OPINIONS=N` changes the count; `WENJI_BENCH_PG_URL=postgres://…` runs it on PostgreSQL.)

use axum::body::Body;
use axum::http::{Request, header};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait};
use std::time::{Duration, Instant};
use tower::ServiceExt;
use wenji::config::Config;
use wenji::domain::user::Role;
use wenji::store::audit::Actor;
use wenji::web::state::WebSettings;

const PASSWORD: &str = "Bench-Passw0rd-2026";

/// Fragments a bureau's opinions are made of, combined into varied, realistic texts.
const OPENINGS: &[&str] = &[
    "建议局领导班子",
    "希望领导",
    "我觉得",
    "从基层来看，",
    "作为一名老党员，",
    "群众普遍反映",
    "我们村里",
    "企业这边感觉",
    "司法所的同志",
    "有些干部",
];
const MIDDLES: &[&str] = &[
    "理论学习流于形式，中心组学习走过场",
    "思想观念比较保守，怕担责、求稳",
    "服务大局意识不强，对企业和项目的法律服务跟不上",
    "决策前调研不够，有时拍脑袋，集体讨论不充分",
    "改革创新办法不多，人民调解机制需要创新",
    "多下基层，多到村社区和司法所听听群众意见",
    "办事效率不高，群众跑多次，推诿扯皮的现象还有",
    "个别干部作风不实，纪律松弛，要加强党风廉政建设",
    "村聘法律顾问作用发挥不够，农村法律援助覆盖面小",
    "社区矫正工作要规范，直属司法所人手不足",
    "公证收费标准不透明，窗口服务态度有待改进",
    "律师事务所管理要加强，法律服务市场秩序需要整顿",
];
const ENDINGS: &[&str] = &[
    "。",
    "，希望尽快整改。",
    "，建议建立长效机制。",
    "，这个问题反映很多年了。",
    "，请领导重视。",
    "，其他没有意见。",
    "，总体还是满意的。",
];
const UNITS: &[&str] = &["bgs", "zgk", "jck", "xjk", "gzls", "jjz"];
const CATEGORIES: &[&str] = &["dyld", "dy", "fdy", "sfs", "flfw", "qy", "cs", "qz"];

/// A small deterministic generator, so every run seeds the same data.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[(self.next() % list.len() as u64) as usize]
    }
}

fn opinion_text(r: &mut Lcg, i: u64) -> String {
    let mut t = String::from(r.pick(OPENINGS));
    t.push_str(r.pick(MIDDLES));
    if r.next().is_multiple_of(2) {
        t.push('，');
        t.push_str(r.pick(MIDDLES));
    }
    t.push_str(r.pick(ENDINGS));
    // Some opinions are repeated word for word (likely duplicates), most are not.
    if !r.next().is_multiple_of(10) {
        t.push_str(&format!("（第{i}号）"));
    }
    t
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn seed(db: &DatabaseConnection, n: u64, version_id: i64) {
    let started = Instant::now();
    let mut r = Lcg(20_261_126);
    let now = wenji::store::now_ms();
    let batch = 500u64;
    let mut i = 0u64;
    while i < n {
        let end = (i + batch).min(n);
        let (mut resp, mut ops, mut answers, mut tags) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for k in i..end {
            let id = k + 1;
            let unit = r.pick(UNITS);
            let cat = r.pick(CATEGORIES);
            let at = now - 30 * 86_400_000 + (k as i64) * 20_000;
            let text = opinion_text(&mut r, k);
            let fp = wenji::domain::text::fingerprint(&text);
            let tagged = r.next().is_multiple_of(2);
            resp.push(format!(
                "({id},{version_id},'zhengqiu',NULL,'{unit}','{cat}','WJ-B{id:010}','k{id:063}','{:064}',{at},FALSE)",
                id
            ));
            ops.push(format!(
                "({id},{id},'zhengqiu','team','{unit}','{cat}',{},'{fp}','{}',{},{at},{at})",
                quote(&text),
                if tagged { "tagged" } else { "pending" },
                if r.next().is_multiple_of(50) { "TRUE" } else { "FALSE" }
            ));
            answers.push(format!("({id},'has_member','{{\"type\":\"choice\",\"value\":\"no\"}}')"));
            answers.push(format!("({id},'team',{})", quote(&format!("{{\"type\":\"text\",\"value\":{:?}}}", text))));
            if tagged {
                let a = 1 + r.next() % 8;
                tags.push(format!("({id},{a},'typed',NULL,{at})"));
                if r.next().is_multiple_of(3) {
                    tags.push(format!("({id},{},'suggested',NULL,{at})", 1 + (a % 8)));
                }
            }
        }
        let sql = [
            format!(
                "INSERT INTO responses (id, form_version_id, form_slug, link_id, unit_code, category_code, receipt, key_hash, body_hash, submitted_at, with_code) VALUES {}",
                resp.join(",")
            ),
            format!(
                "INSERT INTO opinions (id, response_id, form_slug, question_id, unit_code, category_code, text, fingerprint, state, representative, submitted_at, updated_at) VALUES {}",
                ops.join(",")
            ),
            format!("INSERT INTO answers (response_id, question_id, value) VALUES {}", answers.join(",")),
            format!(
                "INSERT INTO tag_assignments (opinion_id, area_code, source, user_id, created_at) VALUES {}",
                tags.join(",")
            ),
        ];
        // One transaction on one connection: a pool may hand each bare statement to a different one.
        let txn = db.begin().await.unwrap();
        for s in &sql {
            txn.execute_unprepared(s).await.unwrap();
        }
        txn.commit().await.unwrap();
        i = end;
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("SELECT setval(pg_get_serial_sequence('opinions','id'), (SELECT MAX(id) FROM opinions)); SELECT setval(pg_get_serial_sequence('responses','id'), (SELECT MAX(id) FROM responses)); ANALYZE").await.unwrap();
    } else {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    println!("seeded {n} opinions in {:.1} s", started.elapsed().as_secs_f64());
}

struct Figures(Vec<Duration>);
impl Figures {
    fn print(mut self, name: &str) {
        self.0.sort();
        let q = |p: f64| self.0[((self.0.len() as f64 - 1.0) * p).round() as usize];
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{name:<42} n={:<4} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms",
            self.0.len(),
            ms(q(0.5)),
            ms(q(0.95)),
            ms(*self.0.last().unwrap())
        );
    }
}

async fn call(app: &axum::Router, req: Request<Body>) -> (u16, Duration, axum::body::Bytes) {
    let t = Instant::now();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, t.elapsed(), body)
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
}

/// Signs `user` in (password [`PASSWORD`]) and gives the cookies to send.
async fn sign_in(app: &axum::Router, user: &str) -> String {
    let login = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("username={user}&password={PASSWORD}")))
        .unwrap();
    let resp = app.clone().oneshot(login).await.unwrap();
    assert_eq!(resp.status(), 303, "{user} signs in");
    // Every cookie set: the device cookie comes before the session's.
    let cookies = resp.headers().get_all(header::SET_COOKIE).iter();
    cookies.map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned()).collect::<Vec<_>>().join("; ")
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("WENJI_BENCH_OPINIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("WENJI_BENCH_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()),
    };
    let config = Config {
        database_url: database_url.clone(),
        forms_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms"),
        data_dir: dir.path().join("data"),
        exports_dir: dir.path().join("exports"),
        public_url: None,
        unsafe_test_no_sync: false,
    };
    let settings = WebSettings {
        base_url: "http://127.0.0.1".into(),
        secure_cookies: false,
        submit_burst: 10_000,
        submit_per_minute: 10_000,
        exports_dir: config.exports_dir.clone(),
        forms_dir: config.forms_dir.clone(),
        small_cell_k: 5,
        // Indexed below, before measuring, as a server would have done between bursts.
        index_search_after_idle: None,
        trusted_proxies: Vec::new(),
        inbox_count_cap: wenji::web::workspace::inbox::COUNT_CAP,
        timeouts: wenji::web::serve::Timeouts::default(),
        max_connections: wenji::web::serve::MAX_CONNECTIONS,
        export_retention: std::time::Duration::from_secs(24 * 3600),
    };
    let state = wenji::cli::serve::build_state(&config, settings).await.expect("state");
    let db = Database::connect(&database_url).await.unwrap();
    let version: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM form_versions WHERE slug = 'zhengqiu' ORDER BY id DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    seed(&db, n, version).await;
    let started = Instant::now();
    while state.store.index_search_backlog(1_000).await.unwrap() > 0 {}
    println!("search index filled in {:.1} s", started.elapsed().as_secs_f64());
    // The 疑似重复 flag is read through the near-duplicate groups, as a running server keeps them.
    let started = Instant::now();
    state.clusters.catch_up(&state.store).await.unwrap();
    println!("near-duplicate groups placed in {:.1} s", started.elapsed().as_secs_f64());
    let groups = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS g, MAX(n) AS largest FROM \
             (SELECT COUNT(*) AS n FROM opinion_clusters GROUP BY cluster_id HAVING COUNT(*) > 1) t",
        ))
        .await
        .unwrap()
        .unwrap();
    let (g, largest): (i64, Option<i64>) = (groups.try_get("", "g").unwrap(), groups.try_get("", "largest").unwrap());
    // The inbox's 疑似重复 walks a group's members, so large generated groups weigh on every page.
    println!("groups of two or more: {g}, the largest {} opinions", largest.unwrap_or(0));
    let hash = wenji::domain_password::hash(PASSWORD).unwrap();
    state.store.create_user("bench", "bench", Role::Analyst, &hash, &Actor::system("test")).await.unwrap();
    let app = wenji::web::router(state.clone());
    let cookie = sign_in(&app, "bench").await;
    let (_, _, home) = call(&app, get("/w", &cookie)).await;
    let home = String::from_utf8_lossy(&home);
    let csrf = home.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let mut r = Lcg(7);
    let rounds = 200;
    // Warm up caches (and SQLite's page cache) once.
    for _ in 0..20 {
        call(&app, get("/w/inbox", &cookie)).await;
    }
    let mut f = Figures(Vec::new());
    for _ in 0..rounds {
        let (s, d, _) = call(&app, get("/w/inbox", &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("inbox, first page (50 rows + counts)");
    let mut f = Figures(Vec::new());
    for _ in 0..rounds {
        let before = 1 + r.next() % n;
        let (s, d, _) = call(&app, get(&format!("/w/inbox?before={before}"), &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("inbox, a later page (keyset)");
    let mut f = Figures(Vec::new());
    for _ in 0..rounds {
        let area = 1 + r.next() % 8;
        let (s, d, _) = call(&app, get(&format!("/w/inbox?area={area}&state=tagged&unit=jck"), &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("inbox, filtered (area+state+unit, with count)");
    // A broad filter: half of all opinions match, so counting them is the expensive part.
    let mut f = Figures(Vec::new());
    for _ in 0..rounds {
        let (s, d, _) = call(&app, get("/w/inbox?untagged=1", &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("inbox, broad filter (untagged, with count)");
    let mut f = Figures(Vec::new());
    for _ in 0..rounds {
        let after = r.next() % n;
        let (s, d, _) = call(&app, get(&format!("/w/api/next?after={after}"), &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("next opinion (GET /w/api/next, full card)");
    let mut f = Figures(Vec::new());
    let mut after = 0;
    for _ in 0..rounds {
        let (_, _, body) = call(&app, get(&format!("/w/api/next?after={after}"), &cookie)).await;
        let card: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let id = card["id"].as_i64().unwrap();
        let req = Request::post(format!("/w/api/opinions/{id}"))
            .header(header::COOKIE, &cookie)
            .header("x-csrf-token", &csrf)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("op=save&area={}", 1 + r.next() % 8)))
            .unwrap();
        let (s, d, _) = call(&app, req).await;
        assert_eq!(s, 200);
        f.0.push(d);
        after = id;
    }
    f.print("save tags (POST /w/api/opinions/{id})");
    for q in ["法", "基层", "司法所", "法律服务", "推诿扯皮的现象", "第4242号"] {
        let mut f = Figures(Vec::new());
        let enc: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
        for _ in 0..50 {
            let (s, d, _) = call(&app, get(&format!("/w/inbox?q={enc}"), &cookie)).await;
            assert_eq!(s, 200);
            f.0.push(d);
        }
        f.print(&format!("search q={q} ({} chars)", q.chars().count()));
    }

    // A leader's inbox: the whole form up to the last midnight, in text order (equal texts by a keyed hash),
    // paged by number; every page sorts the form's opinions, so it is timed at the first and later pages.
    state.store.create_user("lead", "lead", Role::Leader, &hash, &Actor::system("test")).await.unwrap();
    let cookie = sign_in(&app, "lead").await;
    for (what, page) in [("first page", 0), ("page 1,000", 1_000)] {
        let mut f = Figures(Vec::new());
        for _ in 0..20 {
            let (s, d, _) = call(&app, get(&format!("/w/inbox?page={page}"), &cookie)).await;
            assert_eq!(s, 200);
            f.0.push(d);
        }
        f.print(&format!("leader's inbox, {what} (text order, whole form)"));
    }
    let mut f = Figures(Vec::new());
    for _ in 0..20 {
        let (s, d, _) = call(&app, get("/w/dashboard", &cookie)).await;
        assert_eq!(s, 200);
        f.0.push(d);
    }
    f.print("leader's dashboard (whole form)");
}
