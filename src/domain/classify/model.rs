//! One-vs-rest logistic regression per area (sparse, by gradient descent), with one threshold for all areas
//! tuned on cross-validated predictions of the training data, and the features that weighed most as evidence.

use super::corpus::{Example, fnv1a};
use super::features::Vocabulary;
use crate::domain::area::AreaCode;

/// Training settings; the defaults are the ones measured in `docs/decisions/0004-suggestion-model.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Decides which fold each example falls in; same seed and data, same model.
    pub seed: u64,
    /// Folds for tuning the thresholds (each fold is once the validation part).
    pub folds: usize,
    /// L2 penalty of the logistic regression.
    pub l2: f64,
    /// Starting step of gradient descent.
    pub rate: f64,
    /// Passes over the training rows.
    pub epochs: usize,
    /// An n-gram becomes a feature when it appears in this many texts.
    pub min_docs: usize,
    /// At most this many features (the most frequent), to bound memory as tags accumulate.
    pub max_features: usize,
    /// At most this many weighted rows (the last examples given win), for the same reason.
    pub max_rows: usize,
    /// The areas' keywords from `forms/areas.toml`, each area's one extra feature.
    pub keywords: Vec<(AreaCode, String)>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 21,
            folds: 4,
            l2: 1e-5,
            rate: 0.5,
            epochs: 60,
            min_docs: 2,
            max_features: 5000,
            max_rows: 20000,
            keywords: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct AreaModel {
    /// Empty when the training data had no example with (or without) this area: it never fires.
    weights: Vec<f64>,
    bias: f64,
    threshold: f64,
}

/// A trained classifier for the eight areas.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    vocab: Vocabulary,
    areas: Vec<AreaModel>,
    /// Examples (unweighted) it learnt from.
    pub trained_on: usize,
}

/// One suggested area: how sure the model is, the bar it had to pass, and the words that weighed most.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaScore {
    pub area: AreaCode,
    pub probability: f64,
    pub threshold: f64,
    pub evidence: Vec<String>,
}

/// Share of its threshold the best area must reach to be suggested alone when no area passes.
const FALLBACK: f64 = 0.5;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Fits one area's weights on `rows` (feature vectors with their labels) by stochastic gradient descent
/// on the logistic loss with an L2 penalty, visiting rows in a fixed order; `None` with a single class.
fn fit(dim: usize, rows: &[(&[(usize, f64)], bool)], o: &TrainOptions) -> Option<(Vec<f64>, f64)> {
    let pos = rows.iter().filter(|(_, y)| *y).count();
    if pos == 0 || pos == rows.len() || dim == 0 {
        return None;
    }
    let mut w = vec![0.0f64; dim];
    let mut b = 0.0f64;
    // Rows interleaved by a seeded hash of their position, so classes do not come in blocks.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| fnv1a(&[o.seed.to_le_bytes(), (i as u64).to_le_bytes()].concat()));
    // Weights decay lazily: `scale` multiplies all of w, so a step touches only the row's features.
    let mut scale = 1.0f64;
    let mut t = 0.0f64;
    // The weights at the end of each epoch of the second half, averaged: the step hardly decays, so the
    // last row visited would otherwise move the result.
    let (mut avg_w, mut avg_b, mut averaged) = (vec![0.0f64; dim], 0.0f64, 0.0f64);
    for epoch in 0..o.epochs {
        for &i in &order {
            let (x, y) = rows[i];
            t += 1.0;
            let rate = o.rate / (1.0 + o.rate * o.l2 * t);
            let z = b + scale * x.iter().map(|&(j, v)| w[j] * v).sum::<f64>();
            let g = sigmoid(z) - if y { 1.0 } else { 0.0 };
            scale *= 1.0 - rate * o.l2;
            for &(j, v) in x {
                w[j] -= rate * g * v / scale;
            }
            b -= rate * g;
            if scale < 1e-6 {
                w.iter_mut().for_each(|x| *x *= scale);
                scale = 1.0;
            }
        }
        if 2 * epoch >= o.epochs {
            avg_w.iter_mut().zip(&w).for_each(|(a, x)| *a += x * scale);
            avg_b += b;
            averaged += 1.0;
        }
    }
    avg_w.iter_mut().for_each(|x| *x /= averaged);
    Some((avg_w, avg_b / averaged))
}

/// The weighted rows: each example repeated `weight` times, keeping the last `max_rows`.
fn rows_of<'a>(ex: &[&'a Example], max_rows: usize) -> Vec<(usize, &'a Example)> {
    let mut out: Vec<(usize, &Example)> = Vec::new();
    for (i, e) in ex.iter().enumerate().rev() {
        for _ in 0..e.weight.max(1) {
            if out.len() >= max_rows {
                break;
            }
            out.push((i, e));
        }
    }
    out.reverse();
    out
}

/// Trains all eight areas on `examples` with `vocab`; thresholds are left at 0.5.
fn train_areas(vocab: &Vocabulary, examples: &[&Example], o: &TrainOptions) -> Vec<AreaModel> {
    let vecs: Vec<Vec<(usize, f64)>> = examples.iter().map(|e| vocab.vector(&e.text)).collect();
    let rows = rows_of(examples, o.max_rows);
    AreaCode::all()
        .map(|a| {
            let labelled: Vec<(&[(usize, f64)], bool)> =
                rows.iter().map(|(i, e)| (vecs[*i].as_slice(), e.areas.contains(&a))).collect();
            match fit(vocab.len(), &labelled, o) {
                Some((weights, bias)) => AreaModel { weights, bias, threshold: 0.5 },
                None => AreaModel { weights: Vec::new(), bias: 0.0, threshold: 1.0 },
            }
        })
        .collect()
}

fn probability(m: &AreaModel, v: &[(usize, f64)]) -> Option<f64> {
    if m.weights.is_empty() {
        return None;
    }
    Some(sigmoid(m.bias + v.iter().map(|&(i, x)| m.weights[i] * x).sum::<f64>()))
}

/// The threshold with the fewest wrong calls (false ticks plus missed areas, each one key on the tagging
/// screen) over (probability, truth) pairs; ties go to the higher one.
fn best_threshold(scored: &[(f64, bool)]) -> f64 {
    let mut best = (usize::MAX, 0.5);
    for step in 10..=90 {
        let t = f64::from(step) / 100.0;
        let wrong = scored.iter().filter(|&&(p, y)| (p >= t) != y).count();
        if wrong <= best.0 {
            best = (wrong, t);
        }
    }
    best.1
}

impl Model {
    /// Trains on `examples` (later examples win when `max_rows` cuts), tuning one threshold for all areas on
    /// their pooled out-of-fold predictions (per-area bars overfit the few examples of each area).
    /// Deterministic: the same examples and options give the same model.
    pub fn train(examples: &[Example], o: &TrainOptions) -> Model {
        let all: Vec<&Example> = examples.iter().collect();
        let keywords: Vec<(usize, String)> = o.keywords.iter().map(|(a, w)| (a.index(), w.clone())).collect();
        let vocab = Vocabulary::build(examples.iter().map(|e| e.text.as_str()), o.min_docs, o.max_features, &keywords);
        let fold_of = |e: &Example| {
            let mut key = o.seed.to_le_bytes().to_vec();
            key.extend_from_slice(e.text.as_bytes());
            (fnv1a(&key) % o.folds.max(2) as u64) as usize
        };
        let mut scored: Vec<(f64, bool)> = Vec::new();
        for f in 0..o.folds.max(2) {
            let train: Vec<&Example> = all.iter().copied().filter(|e| fold_of(e) != f).collect();
            let check: Vec<&Example> = all.iter().copied().filter(|e| fold_of(e) == f).collect();
            let models = train_areas(&vocab, &train, o);
            for e in check {
                let v = vocab.vector(&e.text);
                for a in AreaCode::all() {
                    if let Some(p) = probability(&models[a.index()], &v) {
                        scored.push((p, e.areas.contains(&a)));
                    }
                }
            }
        }
        let mut areas = train_areas(&vocab, &all, o);
        let shared = best_threshold(&scored);
        for m in areas.iter_mut() {
            if !m.weights.is_empty() {
                m.threshold = shared;
            }
        }
        Model { vocab, areas, trained_on: examples.len() }
    }

    /// Each area's probability for `text` (`None` for an area the model could not learn).
    pub fn probabilities(&self, text: &str) -> Vec<(AreaCode, Option<f64>)> {
        let v = self.vocab.vector(text);
        AreaCode::all().map(|a| (a, probability(&self.areas[a.index()], &v))).collect()
    }

    /// The areas whose probability passes their threshold, most certain first; nothing when unsure.
    /// When none passes, the single most likely area still comes if it reaches `FALLBACK` of its bar:
    /// nearly every opinion has an area, and one right tick saves a key.
    pub fn suggest(&self, text: &str) -> Vec<AreaScore> {
        let v = self.vocab.vector(text);
        let mut all: Vec<AreaScore> = AreaCode::all()
            .filter_map(|a| {
                let m = &self.areas[a.index()];
                let p = probability(m, &v)?;
                Some(AreaScore { area: a, probability: p, threshold: m.threshold, evidence: Vec::new() })
            })
            .collect();
        all.sort_by(|a, b| (b.probability / b.threshold).total_cmp(&(a.probability / a.threshold)));
        let passing = all.iter().take_while(|s| s.probability >= s.threshold).count();
        let keep = match all.first() {
            Some(s) if passing == 0 && s.probability >= FALLBACK * s.threshold => 1,
            _ => passing,
        };
        all.truncate(keep);
        for s in &mut all {
            s.evidence = self.evidence(&self.areas[s.area.index()], &v);
        }
        all
    }

    /// Up to three n-grams of the text that pushed this area up most; words of two or more characters
    /// first, and none contained in another already chosen.
    fn evidence(&self, m: &AreaModel, v: &[(usize, f64)]) -> Vec<String> {
        let mut pushes: Vec<(f64, &str)> = v
            .iter()
            .filter(|&&(i, _)| m.weights[i] > 0.0)
            .filter_map(|&(i, x)| Some((m.weights[i] * x, self.vocab.word(i)?)))
            .collect();
        pushes.sort_by(|a, b| {
            let long = |w: &str| w.chars().count() >= 2;
            long(b.1).cmp(&long(a.1)).then(b.0.total_cmp(&a.0)).then(a.1.cmp(b.1))
        });
        let mut out: Vec<String> = Vec::new();
        for (_, w) in pushes {
            if out.len() == 3 {
                break;
            }
            if !out.iter().any(|o| o.contains(w) || w.contains(o.as_str())) {
                out.push(w.to_owned());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::classify::corpus;

    fn sample() -> Vec<Example> {
        corpus::parse(
            "7 办事效率低，推诿扯皮\n7 窗口效率太低，跑了好几趟\n7 拖拉推诿，效率不高\n\
             8 接受宴请，廉政意识淡薄\n8 利用职务之便收受礼品，廉政问题\n8 公车私用，吃喝宴请\n\
             6 司法所人手少，调解员补贴低\n6,7 司法所调解效率低，群众等不起\n1 中心组学习走过场\n1 学习走过场，念文件\n",
        )
        .unwrap()
    }

    #[test]
    fn the_same_examples_and_seed_give_the_same_model_and_suggestions() {
        let eight = AreaCode::try_from(8).unwrap();
        let o = TrainOptions { keywords: vec![(eight, "宴请".into())], ..TrainOptions::default() };
        let a = Model::train(&sample(), &o);
        let b = Model::train(&sample(), &o);
        assert_eq!(a, b);
        let text = "窗口办事效率低，还接受宴请";
        assert_eq!(a.suggest(text), b.suggest(text));
        assert_eq!(a.probabilities(text), b.probabilities(text));
    }

    #[test]
    fn it_learns_the_areas_of_its_examples_and_gives_the_words_as_evidence() {
        let m = Model::train(&sample(), &TrainOptions { folds: 2, ..TrainOptions::default() });
        let p = m.probabilities("推诿扯皮，效率低");
        assert!(p[6].1.unwrap() > p[7].1.unwrap(), "{p:?}");
        let s = m.suggest("廉政意识淡薄，接受宴请");
        let eight = s.iter().find(|s| s.area.get() == 8).expect("area 8 suggested");
        assert!(eight.evidence.iter().any(|w| w.contains("廉政") || w.contains("宴请")), "{:?}", eight.evidence);
    }

    #[test]
    fn thresholds_are_set_for_the_fewest_wrong_ticks_not_the_best_f1() {
        // A bar at 0.2 catches all three true areas with three false ticks (F1 0.67, 3 keys to fix);
        // a bar over 0.4 misses two and ticks nothing wrong (F1 0.5, 2 keys to fix).
        let scored = [(0.9, true), (0.2, true), (0.25, true), (0.3, false), (0.35, false), (0.4, false)];
        assert!(best_threshold(&scored) > 0.4, "{}", best_threshold(&scored));
    }

    /// A model whose area 1 says 0.5 and area 2 says 0.3 for any text, with the given bars.
    fn fixed(t1: f64, t2: f64) -> Model {
        let vocab = Vocabulary::build(["效率"].into_iter(), 1, 10, &[]);
        let area = |p: f64, threshold: f64| AreaModel {
            weights: vec![0.0; vocab.len()],
            bias: (p / (1.0 - p)).ln(),
            threshold,
        };
        let none = AreaModel { weights: Vec::new(), bias: 0.0, threshold: 1.0 };
        let mut areas = vec![area(0.5, t1), area(0.3, t2)];
        areas.resize(8, none);
        Model { vocab, areas, trained_on: 0 }
    }

    #[test]
    fn when_no_area_passes_the_best_comes_alone_if_it_reaches_half_its_bar() {
        let codes = |m: &Model| m.suggest("效率低").iter().map(|s| s.area.get()).collect::<Vec<_>>();
        assert_eq!(codes(&fixed(0.8, 0.9)), vec![1], "0.5 is over half of 0.8");
        assert_eq!(codes(&fixed(1.1, 0.9)), Vec::<u8>::new(), "0.5 is under half of 1.1, 0.3 under half of 0.9");
        assert_eq!(codes(&fixed(0.45, 0.25)), vec![2, 1], "both pass, surest (by share of its bar) first");
    }

    #[test]
    fn an_area_without_examples_is_never_suggested() {
        let m = Model::train(&sample(), &TrainOptions::default());
        assert!(m.probabilities("改革创新")[4].1.is_none());
        assert!(m.suggest("改革创新").iter().all(|s| s.area.get() != 5));
    }
}
