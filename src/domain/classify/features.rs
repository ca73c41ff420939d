//! Character n-grams (1 to 3 characters, within runs of letters, plus each run's first and last two
//! characters marked by position) as the classifier's features.
//! Chinese has no spaces; n-grams of characters find 2- and 3-character words without a dictionary and
//! tolerate the typos citizens make.

use std::collections::{BTreeMap, BTreeSet};

/// Marks a clause's first two characters (never inside a run of letters, so no n-gram has it).
pub const START: char = '^';
/// Marks a clause's last two characters.
pub const END: char = '$';

/// The n-grams of `text`, each once, in a fixed order, with the marked first and last two characters of
/// each run.
pub fn ngrams(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for run in runs(text) {
        for n in 1..=3 {
            for w in run.windows(n) {
                out.insert(w.iter().collect());
            }
        }
        // A clause's first and last two characters again, marked: its subject and its complaint often
        // stand there (`^窗口`, `不高$`).
        if let ([a, b, ..], [.., y, z]) = (run.as_slice(), run.as_slice()) {
            out.insert(format!("{START}{a}{b}"));
            out.insert(format!("{y}{z}{END}"));
        }
    }
    out
}

/// Runs of letters and digits, lower-cased, as character vectors; punctuation and spaces split runs.
fn runs(text: &str) -> Vec<Vec<char>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The n-grams seen in at least `min_docs` texts (the `max` most frequent), numbered in sorted order.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    index: BTreeMap<String, usize>,
    words: Vec<String>,
    /// The areas' keywords (area index, word): one extra feature per area, on when any of its words occurs.
    keywords: Vec<(usize, String)>,
}

/// The value of an area's keyword feature, beside n-grams of unit length in total.
const KEYWORD_VALUE: f64 = 0.5;

impl Vocabulary {
    pub fn build<'a>(
        texts: impl Iterator<Item = &'a str>,
        min_docs: usize,
        max: usize,
        keywords: &[(usize, String)],
    ) -> Vocabulary {
        let mut df: BTreeMap<String, usize> = BTreeMap::new();
        for t in texts {
            for g in ngrams(t) {
                *df.entry(g).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, usize)> = df.into_iter().filter(|(_, n)| *n >= min_docs).collect();
        if kept.len() > max {
            kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            kept.truncate(max);
            kept.sort();
        }
        let words: Vec<String> = kept.into_iter().map(|(g, _)| g).collect();
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i)).collect();
        let keywords = keywords.iter().filter(|(_, w)| !w.is_empty()).cloned().collect();
        Vocabulary { index, words, keywords }
    }
    /// The number of features: n-grams, then one keyword feature per area.
    pub fn len(&self) -> usize {
        self.words.len() + 8
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    /// The n-gram of feature `i` (`None` for the keyword features).
    pub fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }
    /// The features of `text`: (index, value) pairs, binary presence scaled to unit length.
    pub fn vector(&self, text: &str) -> Vec<(usize, f64)> {
        let mut idx: Vec<usize> = ngrams(text).iter().filter_map(|g| self.index.get(g).copied()).collect();
        idx.sort_unstable();
        let v = if idx.is_empty() { 0.0 } else { 1.0 / (idx.len() as f64).sqrt() };
        let mut out: Vec<(usize, f64)> = idx.into_iter().map(|i| (i, v)).collect();
        for a in 0..8 {
            if self.keywords.iter().any(|(k, w)| *k == a && text.contains(w.as_str())) {
                out.push((self.words.len() + a, KEYWORD_VALUE));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngrams_stay_within_runs_of_letters() {
        let g = ngrams("拍脑袋，决策");
        assert!(g.contains("拍脑袋") && g.contains("脑袋") && g.contains("决策") && g.contains("策"));
        assert!(!g.contains("袋决"), "punctuation splits runs");
        assert!(g.contains("^拍脑") && g.contains("脑袋$") && g.contains("^决策") && g.contains("决策$"));
        assert!(!ngrams("好").iter().any(|w| w.contains(START) || w.contains(END)), "no marks under two characters");
    }
}
