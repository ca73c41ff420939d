//! Tunes near-duplicate grouping on `tests/fixtures/cluster_pairs.tsv` (invented labelled pairs): prints
//! precision and recall per threshold, for the MinHash estimate and the exact Jaccard, with 2- and
//! 3-character shingles, and the time to place 20,000 opinions. Figures only; no asserts.
//! Run: `cargo bench --bench clusters`.

use std::time::Instant;
use wenji::domain::cluster::{Clusters, Signer, THRESHOLD, jaccard, similarity};

/// One scored pair: near-duplicate?, label, MinHash estimate, exact Jaccard.
type Scored<'a> = (bool, &'a str, f64, f64);

fn main() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cluster_pairs.tsv")).unwrap();
    let pairs: Vec<(bool, &str, &str, &str)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0] != "distinct", f[0], f[1], f[2])
        })
        .collect();
    let same = pairs.iter().filter(|p| p.0).count();
    println!(
        "{} pairs: {} near-duplicates (template copies and paraphrases), {} distinct",
        pairs.len(),
        same,
        pairs.len() - same
    );
    for size in [2usize, 3] {
        let signer = Signer::with_shingle(size);
        let scored: Vec<Scored> = pairs
            .iter()
            .map(|(s, label, a, b)| {
                let est = match (signer.sign(a), signer.sign(b)) {
                    (Some(x), Some(y)) => similarity(&x, &y),
                    _ => 0.0,
                };
                (*s, *label, est, jaccard(a, b, size))
            })
            .collect();
        println!("\nshingle = {size} characters");
        println!("threshold | MinHash P    R    R(template) | exact Jaccard P    R");
        for step in 4..=16 {
            let t = step as f64 * 0.05;
            let pr = |pick: &dyn Fn(&Scored) -> f64, only: Option<&str>| {
                let rel: Vec<_> =
                    scored.iter().filter(|p| only.is_none_or(|o| p.1 == o || p.1 == "distinct")).collect();
                let tp = rel.iter().filter(|p| p.0 && pick(p) >= t).count() as f64;
                let fp = rel.iter().filter(|p| !p.0 && pick(p) >= t).count() as f64;
                let pos = rel.iter().filter(|p| p.0).count() as f64;
                (if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) }, tp / pos)
            };
            let (p, r) = pr(&|p| p.2, None);
            let (_, rt) = pr(&|p| p.2, Some("template"));
            let (pj, rj) = pr(&|p| p.3, None);
            let mark = if size == 2 && (t - THRESHOLD).abs() < 1e-9 { "  <- THRESHOLD" } else { "" };
            println!("   {t:.2}   |       {p:.2} {r:.2}  {rt:.2}        |               {pj:.2} {rj:.2}{mark}");
        }
    }
    // Placing speed: 20,000 opinions of 40 characters drawn from the fixture's characters, every tenth a
    // copy of an earlier one with two characters changed.
    let pool: Vec<char> = text.chars().filter(|c| c.is_alphanumeric() && !c.is_ascii()).collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut base: Vec<String> = Vec::with_capacity(20_000);
    for i in 0..20_000 {
        let t: String = if i % 10 == 9 {
            let mut c: Vec<char> = base[next(i)].chars().collect();
            let (a, b) = (next(c.len()), next(pool.len()));
            c[a] = pool[b];
            c.into_iter().collect()
        } else {
            (0..40).map(|_| pool[next(pool.len())]).collect()
        };
        base.push(t);
    }
    let signer = Signer::default();
    let start = Instant::now();
    let mut c = Clusters::default();
    let mut groups = std::collections::HashSet::new();
    for (i, t) in base.iter().enumerate() {
        groups.insert(c.place_text(i as i64, t, &signer));
    }
    println!("\nplaced 20000 opinions in {:.2} s ({} groups)", start.elapsed().as_secs_f64(), groups.len());
}
