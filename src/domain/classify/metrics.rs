//! How good suggestions are against the truth: micro precision, recall and F1 over areas, the share of
//! opinions suggested exactly, and the keys an analyst presses (one per area to toggle, plus Enter).

use crate::domain::area::AreaCode;

/// Totals over a set of opinions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    pub opinions: usize,
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
    pub exact: usize,
    pub keys: usize,
}

impl Scores {
    /// Adds one opinion: what was suggested and what is right.
    pub fn add(&mut self, suggested: &[AreaCode], truth: &[AreaCode]) {
        let tp = suggested.iter().filter(|a| truth.contains(a)).count();
        let fp = suggested.len() - tp;
        let fnn = truth.iter().filter(|a| !suggested.contains(a)).count();
        self.opinions += 1;
        self.true_pos += tp;
        self.false_pos += fp;
        self.false_neg += fnn;
        self.exact += usize::from(fp == 0 && fnn == 0);
        self.keys += keys_to_fix(suggested, truth);
    }
    pub fn precision(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }
    pub fn f1(&self) -> f64 {
        ratio(2 * self.true_pos, 2 * self.true_pos + self.false_pos + self.false_neg)
    }
    pub fn exact_rate(&self) -> f64 {
        ratio(self.exact, self.opinions)
    }
    pub fn keys_per_opinion(&self) -> f64 {
        ratio(self.keys, self.opinions)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Keys on the tagging screen, where suggested areas arrive ticked: one number key per area to add or
/// remove, then Enter.
pub fn keys_to_fix(suggested: &[AreaCode], truth: &[AreaCode]) -> usize {
    let wrong = suggested.iter().filter(|a| !truth.contains(a)).count();
    let missing = truth.iter().filter(|a| !suggested.contains(a)).count();
    wrong + missing + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(v: &[i64]) -> Vec<AreaCode> {
        v.iter().map(|x| AreaCode::try_from(*x).unwrap()).collect()
    }

    #[test]
    fn a_half_right_suggestion_costs_one_toggle_per_wrong_area() {
        assert_eq!(keys_to_fix(&a(&[6, 7]), &a(&[6, 7])), 1);
        assert_eq!(keys_to_fix(&a(&[6, 7]), &a(&[7])), 2);
        assert_eq!(keys_to_fix(&a(&[6]), &a(&[7, 8])), 4);
        assert_eq!(keys_to_fix(&[], &a(&[3])), 2);
    }

    #[test]
    fn scores_are_micro_averaged() {
        let mut s = Scores::default();
        s.add(&a(&[1, 2]), &a(&[1]));
        s.add(&a(&[3]), &a(&[3, 4]));
        assert_eq!((s.true_pos, s.false_pos, s.false_neg, s.exact, s.keys), (2, 1, 1, 0, 4));
        assert!((s.f1() - 4.0 / 6.0).abs() < 1e-12);
        assert!((s.keys_per_opinion() - 2.0).abs() < 1e-12);
    }
}
