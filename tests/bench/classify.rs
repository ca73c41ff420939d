//! Suggestion quality on the held-out quarter of the starter corpus, which the model never trains on:
//! precision, recall, F1, exact-match rate and keys per opinion, and a learning curve after 0, 50 and
//! 200 confirmed tags. Prints figures; asserts nothing about them.
//!
//! Run: `cargo bench --bench classify` (add `-- --seeds 5` to repeat with other seeds).

use std::time::Instant;
use wenji::domain::classify::metrics::Scores;
use wenji::domain::classify::{Example, Model, TrainOptions, corpus};

fn load() -> Vec<Example> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("corpus-"))
        .collect();
    names.sort();
    names.iter().flat_map(|p| corpus::parse(&std::fs::read_to_string(p).unwrap()).unwrap()).collect()
}

fn score(model: &Model, test: &[Example]) -> Scores {
    let mut s = Scores::default();
    for e in test {
        let got: Vec<_> = model.suggest(&e.text).into_iter().map(|a| a.area).collect();
        s.add(&got, &e.areas);
    }
    s
}

fn line(label: &str, s: &Scores, secs: f64) {
    println!(
        "{label:<34} P {:.3}  R {:.3}  F1 {:.3}  exact {:.3}  keys {:.2}  ({} opinions, trained in {secs:.1} s)",
        s.precision(),
        s.recall(),
        s.f1(),
        s.exact_rate(),
        s.keys_per_opinion(),
        s.opinions
    );
}

fn main() {
    let seeds: u64 = std::env::args().skip_while(|a| a != "--seeds").nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let (train, test) = corpus::split(load());
    println!("corpus: {} training, {} held out (fixed by a hash of the text)", train.len(), test.len());
    let forms = wenji::forms_dir::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms")).unwrap();
    let keywords: Vec<_> = forms.areas.iter().flat_map(|a| a.keywords.iter().map(|w| (a.code, w.clone()))).collect();
    for seed in 0..seeds {
        let o = TrainOptions {
            seed: TrainOptions::default().seed + seed,
            keywords: keywords.clone(),
            ..TrainOptions::default()
        };
        let t = Instant::now();
        let model = Model::train(&train, &o);
        line(&format!("seed {}: whole training split", o.seed), &score(&model, &test), t.elapsed().as_secs_f64());
        // Learning curve: the last 200 training opinions play the analysts' confirmed tags (weight 2,
        // as typed or accepted tags count), the rest is the starter corpus.
        let (starter, confirmed) = train.split_at(train.len().saturating_sub(200));
        for n in [0usize, 50, 200] {
            let mut ex = starter.to_vec();
            ex.extend(confirmed.iter().take(n).map(|e| Example { weight: 2, ..e.clone() }));
            let t = Instant::now();
            let m = Model::train(&ex, &o);
            let label = format!("seed {}: {} starter + {n} confirmed", o.seed, starter.len());
            line(&label, &score(&m, &test), t.elapsed().as_secs_f64());
        }
    }
    // Keyword matching on `forms/areas.toml`, as before the model, for comparison.
    let mut s = Scores::default();
    for e in &test {
        let got: Vec<_> =
            wenji::domain::tagging::suggest(&forms.areas, &[], &e.text).into_iter().map(|a| a.area).collect();
        s.add(&got, &e.areas);
    }
    line("keyword matching (before)", &s, 0.0);
}
