//! Seeds a Wenji database with invented responses, opinions, tags and notes, fast (multi-row inserts in
//! large transactions), for the export benchmark and the LibreOffice check. Nothing here is real data.
//!
//! `cargo run --release --example seed -- --database-url sqlite://PATH?mode=rwc --opinions 100000`

use sea_orm::{ConnectionTrait, Database, TransactionTrait};
use std::path::PathBuf;
use wenji::store::Store;

const PHRASES: &[&str] = &[
    "希望领导班子加强理论学习，学用结合，不要走过场",
    "基层司法所人手紧张，建议增加编制并改善办公条件",
    "办事效率有待提高，有的审批环节太多，群众反映跑了好几趟",
    "决策前应多做调研，充分听取基层和群众的意见",
    "人民调解工作做得扎实，建议总结经验在全区推广",
    "社区矫正的规范化管理还需加强，直属司法所试点要稳步推进",
    "服务企业要主动，三服务活动不能只停留在口号上",
    "村聘法律顾问制度要落到实处，定期到村里坐班",
    "部分干部思想观念保守，怕担责，缺乏创新精神",
    "作风建设要常抓不懈，严格执行廉洁自律各项规定",
    "法律援助的门槛可以再降低一些，让困难群众得到实惠",
    "建议改革公证服务流程，推行网上预约和一次办结",
];
const ODD: &[&str] = &["=1+1", "@SUM(A1)", "+86 12345", "-x 开头的意见", "第一行\n第二行\n第三行"];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn text(rng: &mut Rng, n: u64) -> String {
    if n.is_multiple_of(997) {
        return (*rng.pick(ODD)).to_owned();
    }
    let k = 1 + rng.below(3);
    (0..k).map(|_| *rng.pick(PHRASES)).collect::<Vec<_>>().join("；") + "。"
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = arg("--database-url").unwrap_or_else(|| "sqlite://data/wenji.db?mode=rwc".into());
    let target: u64 = arg("--opinions").unwrap_or_else(|| "1000".into()).parse()?;
    let forms_dir = PathBuf::from(arg("--forms-dir").unwrap_or_else(|| "forms".into()));
    let catalog = wenji::forms_dir::load(&forms_dir).map_err(|e| anyhow::anyhow!("forms: {e:?}"))?;
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let versions = store.sync_catalog(&catalog).await?;
    let db = Database::connect(&url).await?;
    let max = |t: &str| format!("SELECT COALESCE(MAX(id), 0) FROM {t}");
    let mut next = [0i64; 4];
    for (i, t) in ["responses", "answers", "opinions", "opinion_notes"].iter().enumerate() {
        let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), max(t))).await?;
        next[i] = row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0) + 1;
    }
    let [mut rid, mut aid, mut oid, mut nid] = next;
    let units: Vec<&str> = catalog.units.iter().map(|u| u.code.as_str()).collect();
    let zq = catalog.form("zhengqiu").ok_or_else(|| anyhow::anyhow!("no zhengqiu form"))?;
    let cats: Vec<&str> = zq.categories.iter().map(|c| c.code.as_str()).collect();
    let cp_cats: Vec<String> =
        catalog.form("ceping").map(|f| f.categories.iter().map(|c| c.code.clone()).collect()).unwrap_or_default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start_ms = 1_795_000_000_000i64; // late November 2026
    let mut made = 0u64;
    let started = std::time::Instant::now();
    while made < target {
        let (mut rs, mut ans, mut ops, mut tags, mut notes) = (vec![], vec![], vec![], vec![], vec![]);
        while made < target && rs.len() < 20_000 {
            let ceping = !cp_cats.is_empty() && rng.below(10) == 0;
            let slug = if ceping { "ceping" } else { "zhengqiu" };
            // A few small units, so small-cell protection has something to do.
            let unit = if rng.below(200) == 0 {
                units[units.len() - 1]
            } else {
                units[rng.below(units.len() as u64 - 1) as usize]
            };
            let cat =
                if ceping { cp_cats[rng.below(cp_cats.len() as u64) as usize].as_str() } else { *rng.pick(&cats) };
            let at = start_ms + (rid * 617_113) % (20 * 86_400_000);
            rs.push(format!(
                "({rid},{},{},NULL,{},{},{},{},'{:064x}',{at},FALSE)",
                versions[slug],
                q(slug),
                q(unit),
                q(cat),
                q(&format!("WJ-S{rid:07}")),
                q(&format!("{rid:064x}")),
                rid
            ));
            let mut opinion_qs: Vec<&str> = Vec::new();
            if ceping {
                let m: Vec<String> = (1..=8).map(|a| format!("\"a{a}\":\"{}\"", 1 + rng.below(4))).collect();
                ans.push((aid, rid, "appraisal", format!("{{\"type\":\"matrix\",\"value\":{{{}}}}}", m.join(","))));
                aid += 1;
                ans.push((aid, rid, "overall", format!("{{\"type\":\"choice\",\"value\":\"{}\"}}", 1 + rng.below(4))));
                aid += 1;
                opinion_qs.push("problems");
            } else {
                let member = rng.below(4) == 0;
                ans.push((
                    aid,
                    rid,
                    "has_member",
                    format!("{{\"type\":\"choice\",\"value\":\"{}\"}}", if member { "yes" } else { "no" }),
                ));
                aid += 1;
                ans.push((
                    aid,
                    rid,
                    "satisfaction",
                    format!("{{\"type\":\"choice\",\"value\":\"{}\"}}", 1 + rng.below(4)),
                ));
                aid += 1;
                opinion_qs.push("team");
                if rng.below(2) == 0 {
                    opinion_qs.push("work");
                }
            }
            for qid in opinion_qs {
                if made >= target {
                    break;
                }
                let t = text(&mut rng, oid as u64);
                ans.push((aid, rid, qid, serde_json::json!({"type": "text", "value": t}).to_string()));
                aid += 1;
                let roll = rng.below(100);
                let (state, n_tags) = match roll {
                    0..=1 => ("invalid", 0),
                    2..=14 => ("pending", 0),
                    15..=17 => ("verify", 1),
                    _ => ("tagged", 1 + u64::from(rng.below(3) == 0)),
                };
                let mut areas: Vec<u64> = Vec::new();
                while (areas.len() as u64) < n_tags {
                    let a = 1 + rng.below(8);
                    if !areas.contains(&a) {
                        areas.push(a);
                    }
                }
                for a in &areas {
                    tags.push(format!("({oid},{a},'typed',NULL,{at})"));
                }
                let rep = n_tags > 0 && rng.below(50) == 0;
                ops.push(format!(
                    "({oid},{rid},{},{},{},{},{},'{:032x}',{},{},{at},{at})",
                    q(slug),
                    q(qid),
                    q(unit),
                    q(cat),
                    q(&t),
                    oid,
                    q(state),
                    if rep { "TRUE" } else { "FALSE" }
                ));
                if rng.below(40) == 0 {
                    notes.push(format!("({nid},{oid},NULL,'分析员甲',{},{at})", q("已与原文核对")));
                    nid += 1;
                }
                oid += 1;
                made += 1;
            }
            rid += 1;
        }
        let txn = db.begin().await?;
        let insert = |table: &str, cols: &str, rows: &[String]| {
            rows.chunks(500).map(|c| format!("INSERT INTO {table} ({cols}) VALUES {}", c.join(","))).collect::<Vec<_>>()
        };
        let ans_rows: Vec<String> =
            ans.iter().map(|(id, r, qid, v)| format!("({id},{r},{},{})", q(qid), q(v))).collect();
        let mut stmts = insert(
            "responses",
            "id, form_version_id, form_slug, link_id, unit_code, category_code, receipt, key_hash, body_hash, submitted_at, with_code",
            &rs,
        );
        stmts.extend(insert("answers", "id, response_id, question_id, value", &ans_rows));
        stmts.extend(insert(
            "opinions",
            "id, response_id, form_slug, question_id, unit_code, category_code, text, fingerprint, state, representative, submitted_at, updated_at",
            &ops,
        ));
        stmts.extend(insert("tag_assignments", "opinion_id, area_code, source, user_id, created_at", &tags));
        stmts.extend(insert("opinion_notes", "id, opinion_id, user_id, author, text, created_at", &notes));
        for s in stmts {
            txn.execute_unprepared(&s).await?;
        }
        txn.commit().await?;
    }
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        for t in ["responses", "answers", "opinions", "opinion_notes"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
            ))
            .await?;
        }
    }
    // Made before its responses, as a campaign's database is: responses older than the database are an
    // upgrade's from a build before releases, whose first release starts from what its leaders saw.
    db.execute_unprepared("UPDATE seaql_migrations SET applied_at = 0").await?;
    println!("seeded {made} opinions in {} responses in {:.1} s", rid - next[0], started.elapsed().as_secs_f64());
    Ok(())
}
