//! Suggestion quality on opinions the model never trained on: the held-out quarter of the starter corpus
//! (fixed by a hash of the text), a 4-fold cross-validation over the whole corpus (fixed seed), and a
//! learning curve after 0, 50 and 200 confirmed tags. Prints precision, recall, F1, exact-match rate and
//! keys per opinion; asserts nothing about them. A second coder's independent labels of the same lines
//! (`tests/bench/second_coding.txt`) give the ceiling two coders reach against each other, scored alike.
//!
//! Run: `cargo test --bench classify` (add `-- --seeds 5` to repeat with other seeds).

use std::collections::HashMap;
use std::time::Instant;
use wenji::domain::agreement::{CodedPair, agree, show};
use wenji::domain::area::AreaCode;
use wenji::domain::classify::corpus::fnv1a;
use wenji::domain::classify::metrics::Scores;
use wenji::domain::classify::{Example, Model, TrainOptions, corpus};

/// The corpus files that existed when issue 21 opened; their held-out lines are reported apart, since
/// lines added later were written by the same hand as the training lines beside them.
const FIRST_FILES: usize = 6;

/// Every corpus line with the number of the file it came from (1 = `corpus-1.txt`).
fn load() -> Vec<(usize, Example)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("forms");
    let mut names: Vec<(usize, std::path::PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let n = name.strip_prefix("corpus-")?.strip_suffix(".txt")?.parse().ok()?;
            Some((n, p))
        })
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|(n, p)| {
            corpus::parse(&std::fs::read_to_string(p).unwrap()).unwrap().into_iter().map(move |e| (*n, e))
        })
        .collect()
}

/// The second coder's areas for each corpus text.
fn second_coding() -> HashMap<String, Vec<AreaCode>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bench/second_coding.txt");
    corpus::parse(&std::fs::read_to_string(path).unwrap()).unwrap().into_iter().map(|e| (e.text, e.areas)).collect()
}

/// The second coder scored as a model is, against the corpus labels of `lines`.
fn second_scores<'a>(second: &HashMap<String, Vec<AreaCode>>, lines: impl IntoIterator<Item = &'a Example>) -> Scores {
    let mut s = Scores::default();
    for e in lines {
        s.add(&second[&e.text], &e.areas);
    }
    s
}

/// Cohen's κ per area and Krippendorff's α, the corpus labels as the first coder, as the dashboard
/// computes them.
fn agreement_line(label: &str, pairs: &[CodedPair]) {
    let a = agree(pairs);
    let kappas: Vec<String> = AreaCode::all().map(|c| format!("{c}:{}", show(a.kappa[c.index()]))).collect();
    println!("{label:<40} α {}  κ {}  ({} opinions)", show(a.alpha), kappas.join(" "), a.opinions);
}

fn score<'a>(model: &Model, test: impl IntoIterator<Item = &'a Example>) -> Scores {
    let mut s = Scores::default();
    for e in test {
        let got: Vec<_> = model.suggest(&e.text).into_iter().map(|a| a.area).collect();
        s.add(&got, &e.areas);
    }
    s
}

fn line(label: &str, s: &Scores, secs: f64) {
    println!(
        "{label:<40} P {:.3}  R {:.3}  F1 {:.3}  exact {:.3}  keys {:.2}  ({} opinions, {secs:.1} s)",
        s.precision(),
        s.recall(),
        s.f1(),
        s.exact_rate(),
        s.keys_per_opinion(),
        s.opinions
    );
}

/// Adds `b`'s totals to `a`.
fn merge(a: &mut Scores, b: &Scores) {
    a.opinions += b.opinions;
    a.true_pos += b.true_pos;
    a.false_pos += b.false_pos;
    a.false_neg += b.false_neg;
    a.exact += b.exact;
    a.keys += b.keys;
}

/// 4-fold cross-validation over the whole corpus, folds fixed by a hash of `seed` and the text: every
/// opinion is predicted once by a model that never saw it. Returns the scores over all lines and over the
/// lines of the first files alone (comparable across corpus additions), and the seconds per training.
fn k_fold(all: &[(usize, Example)], o: &TrainOptions, folds: u64) -> (Scores, Scores, f64) {
    let fold_of = |e: &Example| fnv1a(&[&o.seed.to_le_bytes()[..], b"k-fold", e.text.as_bytes()].concat()) % folds;
    let (mut total, mut first) = (Scores::default(), Scores::default());
    let t = Instant::now();
    for f in 0..folds {
        let train: Vec<Example> = all.iter().filter(|(_, e)| fold_of(e) != f).map(|(_, e)| e.clone()).collect();
        let model = Model::train(&train, o);
        let check = || all.iter().filter(|(_, e)| fold_of(e) == f);
        merge(&mut total, &score(&model, check().map(|(_, e)| e)));
        merge(&mut first, &score(&model, check().filter(|(n, _)| *n <= FIRST_FILES).map(|(_, e)| e)));
    }
    (total, first, t.elapsed().as_secs_f64() / folds as f64)
}

fn main() {
    let seeds: u64 = std::env::args().skip_while(|a| a != "--seeds").nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let numbered = load();
    let all: Vec<Example> = numbered.iter().map(|(_, e)| e.clone()).collect();
    let first_held: Vec<Example> = numbered
        .iter()
        .filter(|(n, e)| *n <= FIRST_FILES && corpus::held_out(&e.text))
        .map(|(_, e)| e.clone())
        .collect();
    let (train, test) = corpus::split(all.clone());
    println!(
        "corpus: {} lines, {} training, {} held out (fixed by a hash of the text)",
        all.len(),
        train.len(),
        test.len()
    );
    let second = second_coding();
    assert_eq!(second.len(), all.len(), "the second coding covers every corpus line");
    line("second coder against the corpus, held out", &second_scores(&second, &test), 0.0);
    line(&format!("second coder against the corpus, all {}", all.len()), &second_scores(&second, &all), 0.0);
    let pairs = |lines: &[Example], theirs: &dyn Fn(&Example) -> Vec<AreaCode>| -> Vec<CodedPair> {
        lines.iter().map(|e| CodedPair { first: e.areas.clone(), second: theirs(e) }).collect()
    };
    agreement_line("second coder and corpus, held out", &pairs(&test, &|e| second[&e.text].clone()));
    agreement_line("second coder and corpus, all lines", &pairs(&all, &|e| second[&e.text].clone()));
    // Held-out lines on which both coders chose the same areas: what is left once disputed lines are set aside.
    let agreed: Vec<Example> = test.iter().filter(|e| second[&e.text] == e.areas).cloned().collect();
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
        let secs = t.elapsed().as_secs_f64();
        line(&format!("seed {}: held out", o.seed), &score(&model, &test), secs);
        line(&format!("seed {}: held out of corpus-1..{FIRST_FILES}", o.seed), &score(&model, &first_held), secs);
        line(&format!("seed {}: held out, both coders agree", o.seed), &score(&model, &agreed), secs);
        let suggested = |e: &Example| model.suggest(&e.text).into_iter().map(|a| a.area).collect::<Vec<_>>();
        agreement_line(&format!("seed {}: model and corpus, held out", o.seed), &pairs(&test, &suggested));
        let (s, first, secs) = k_fold(&numbered, &o, 4);
        line(&format!("seed {}: 4-fold over all {} lines", o.seed, all.len()), &s, secs);
        line(&format!("seed {}: 4-fold, lines of corpus-1..{FIRST_FILES}", o.seed), &first, secs);
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
