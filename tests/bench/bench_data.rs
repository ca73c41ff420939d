//! Request data for the load benchmark and the crash test: signed submission keys for the HTML form and
//! pools of realistic Chinese submissions (1–5 KB of opinion text each) for both endpoints.
//! `cargo run --release --example bench_data -- OUT_DIR KEYS` with `WENJI_SECRET` set to the server's.
//!
//! Writes `keys.txt` (one signed `_key` per line), `html_bodies.txt` (`multipart/form-data` bodies as a
//! browser posts the form page, each with `KEY_MARK` where its `_key` goes and ending in a NUL byte) and
//! `json_bodies.txt` (JSON bodies, one a line).

use rand::Rng;
use std::io::{BufWriter, Write};
use wenji::domain::signing::Secret;

/// Sentences of the kind citizens write to the bureau (invented; no real names).
const SENTENCES: &[&str] = &[
    "建议局领导班子多到基层司法所走一走，听听一线调解员的真实想法。",
    "村里的法律顾问一个月才来一次，很多矛盾等不到他来就已经闹大了。",
    "法律援助的申请材料太多，老年人往返好几趟才办下来，希望能简化流程。",
    "社区矫正对象的教育活动形式单一，建议增加技能培训和心理辅导。",
    "人民调解员的补贴标准多年没有调整，队伍不稳定，年轻人留不住。",
    "公证处周末不办公，外出务工人员请假回来办事很不方便。",
    "希望班子在重大决策前公开征求意见，而不是决定以后再通知。",
    "服务企业的法律体检活动很好，但后续跟踪不够，问题提出来就没有下文了。",
    "部分干部学习停留在抄笔记、写心得，联系实际解决问题的少。",
    "基层司法所人手紧张，一个人要兼顾调解、矫正、普法好几项工作。",
    "普法宣传要接地气，少发传单，多讲身边的真实案例。",
    "律师事务所年检的要求每年都变，希望提前说明并给出过渡期。",
    "建议建立意见办理的反馈机制，让提意见的人知道结果。",
    "开会太多，文件太多，基层疲于应付，真正干实事的时间被挤占了。",
    "对群众来访要首问负责，不要互相推诿，让群众跑冤枉路。",
    "希望加强对法律服务所收费的监督，防止乱收费。",
    "村居调委会的台账要求过细，填表比调解本身还费时间。",
    "领导班子成员之间要多沟通，分工明确，避免多头指挥。",
    "网上办事平台经常卡顿，上传材料总是失败，建议尽快改进。",
    "对社区矫正工作人员的安全保障要重视，外出走访时存在风险。",
    "希望在乡镇设立固定的法律咨询日，并提前在村民群里通知。",
    "改革创新不能只停留在材料上，要看群众是否真正得到了方便。",
    "建议对调解成功的典型案例进行汇编，供新入职的调解员学习。",
    "作风建设要常抓不懈，个别窗口人员态度生硬的问题依然存在。",
];

fn opinion(rng: &mut impl Rng, bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes {
        s.push_str(SENTENCES[rng.random_range(0..SENTENCES.len())]);
    }
    s
}

/// Stands for the submission key in `html_bodies.txt`; `post.lua` puts each request's key there.
const KEY_MARK: &str = "{{KEY}}";

/// A `multipart/form-data` body as Chromium posts the form page: its own boundary, every field of the
/// page in the page's order (empty hidden ones included), values as their UTF-8 bytes.
fn multipart(rng: &mut impl Rng, fields: &[(&str, &str)]) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..16).map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())])).collect();
    let boundary = format!("----WebKitFormBoundary{tail}");
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: bench_data OUT_DIR KEYS"));
    let keys: usize = args.next().and_then(|k| k.parse().ok()).unwrap_or(100_000);
    let secret_text = std::env::var("WENJI_SECRET").expect("WENJI_SECRET must be set to the server's secret");
    let secret_bytes = hex::decode(secret_text.trim()).unwrap_or_else(|_| secret_text.into_bytes());
    let secret = Secret::new(secret_bytes).expect("a secret of at least 32 bytes");
    std::fs::create_dir_all(&dir)?;
    let mut rng = rand::rng();

    let mut out = BufWriter::new(std::fs::File::create(dir.join("keys.txt"))?);
    for _ in 0..keys {
        writeln!(out, "{}", secret.submission_key("zhengqiu", rng.random()))?;
    }
    out.flush()?;

    let categories = ["dyld", "dy", "fdy", "sfs", "flfw", "qy", "cs", "qz"];
    let mut html = BufWriter::new(std::fs::File::create(dir.join("html_bodies.txt"))?);
    let mut json = BufWriter::new(std::fs::File::create(dir.join("json_bodies.txt"))?);
    for _ in 0..256 {
        // 1–5 KB of opinion text split over the free-text questions (each under its 2,000-character limit).
        let total = rng.random_range(1_000..5_000);
        let team = opinion(&mut rng, total / 2);
        let work = opinion(&mut rng, total / 4);
        let member = if rng.random_bool(0.5) { Some(opinion(&mut rng, total / 4)) } else { None };
        let category = categories[rng.random_range(0..categories.len())];
        let satisfaction = rng.random_range(1..=4).to_string();
        let has_member = if member.is_some() { "yes" } else { "no" };
        let page = [
            ("_key", KEY_MARK),
            ("_t", ""),
            ("_hp", ""),
            ("_category", category),
            ("q_team", &team),
            ("q_has_member", has_member),
            ("q_member", member.as_deref().unwrap_or_default()),
            ("q_work", &work),
            ("q_satisfaction", &satisfaction),
            ("q_phone", ""),
        ];
        html.write_all(multipart(&mut rng, &page).as_bytes())?;
        html.write_all(b"\0")?;
        let mut answers = serde_json::json!({
            "team": team, "has_member": has_member, "work": work, "satisfaction": satisfaction,
        });
        if let Some(m) = member {
            answers["member"] = m.into();
        }
        writeln!(json, "{}", serde_json::json!({ "category": category, "answers": answers }))?;
    }
    html.flush()?;
    json.flush()?;
    Ok(())
}
