//! Double coding: which opinions are sampled, and how far two coders agree (Cohen's κ per area,
//! Krippendorff's α overall). Pure arithmetic; no crate for either measure builds here, and each is a
//! few lines checked against its authors' published worked examples (tests below).

use super::area::AreaCode;
use std::collections::BTreeMap;

/// Highest sample percentage (every opinion).
pub const ALL_PERCENT: u8 = 100;

/// A form's double-coding sample: `percent` of its opinions, picked by `salt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    percent: u8,
    salt: i64,
}

/// The modulus and odd multiplier of the sample hash (Fibonacci hashing over 2^31): small enough that
/// SQLite and PostgreSQL compute it in 64-bit integers without overflow, see [`Sample::SQL_BUCKET`].
const MODULUS: i64 = 1 << 31;
const MULTIPLIER: i64 = 1_327_217_885;

impl Sample {
    /// A sample of `percent` (1 to 100) with `salt` (0 to 2^31 − 1).
    ///
    /// # Errors
    /// A message naming the field when `percent` or `salt` is out of range.
    pub fn new(percent: i64, salt: i64) -> Result<Sample, String> {
        if !(1..=i64::from(ALL_PERCENT)).contains(&percent) {
            return Err(format!("抽样比例：抽样比例须为 1 到 100 之间的整数（收到 {percent}）"));
        }
        if !(0..MODULUS).contains(&salt) {
            return Err(format!("抽样种子：须在 0 到 {} 之间", MODULUS - 1));
        }
        Ok(Sample { percent: percent as u8, salt })
    }

    pub fn percent(self) -> u8 {
        self.percent
    }

    pub fn salt(self) -> i64 {
        self.salt
    }

    /// The bucket (0–99) of an opinion id; the same as [`Sample::SQL_BUCKET`] computes in the database.
    pub fn bucket(self, opinion_id: i64) -> i64 {
        (opinion_id + self.salt).rem_euclid(MODULUS) * MULTIPLIER % MODULUS * 100 / MODULUS
    }

    /// Whether an opinion is double coded. Raising the percentage keeps every opinion already sampled.
    pub fn contains(self, opinion_id: i64) -> bool {
        self.bucket(opinion_id) < i64::from(self.percent)
    }

    /// [`Sample::bucket`] in SQL over the columns `{id}` and `{salt}` (ids are positive).
    pub const SQL_BUCKET: &'static str =
        "((((({id}) + ({salt})) % 2147483648) * 1327217885 % 2147483648) * 100 / 2147483648)";
}

/// Cohen's κ for two raters over nominal ratings: (pₒ − pₑ) / (1 − pₑ). `None` when there are no
/// ratings or chance agreement is already perfect (both raters used one and the same value throughout).
pub fn cohen_kappa<T: Ord + Clone>(pairs: &[(T, T)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let mut first: BTreeMap<T, f64> = BTreeMap::new();
    let mut second: BTreeMap<T, f64> = BTreeMap::new();
    let mut same = 0.0;
    for (a, b) in pairs {
        *first.entry(a.clone()).or_default() += 1.0;
        *second.entry(b.clone()).or_default() += 1.0;
        if a == b {
            same += 1.0;
        }
    }
    let po = same / n;
    let pe: f64 = first.iter().map(|(k, na)| na / n * second.get(k).copied().unwrap_or(0.0) / n).sum();
    if (1.0 - pe).abs() < f64::EPSILON {
        return None;
    }
    Some((po - pe) / (1.0 - pe))
}

/// Krippendorff's α for nominal data: `units` holds each unit's values from however many coders gave one
/// (missing values simply absent). Units with fewer than two values are not pairable and are left out.
/// α = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k over the coincidence matrix. `None` when fewer than two
/// pairable values exist or only one value occurs (no expected disagreement).
pub fn krippendorff_alpha_nominal<T: Ord + Clone>(units: &[Vec<T>]) -> Option<f64> {
    let mut coincidences: BTreeMap<(T, T), f64> = BTreeMap::new();
    for values in units.iter().filter(|v| v.len() >= 2) {
        let m = values.len() as f64;
        for (i, c) in values.iter().enumerate() {
            for (j, k) in values.iter().enumerate() {
                if i != j {
                    *coincidences.entry((c.clone(), k.clone())).or_default() += 1.0 / (m - 1.0);
                }
            }
        }
    }
    let mut totals: BTreeMap<T, f64> = BTreeMap::new();
    for ((c, _), o) in &coincidences {
        *totals.entry(c.clone()).or_default() += o;
    }
    let n: f64 = totals.values().sum();
    let observed: f64 = coincidences.iter().filter(|((c, k), _)| c != k).map(|(_, o)| o).sum();
    let sum_sq: f64 = totals.values().map(|x| x * x).sum();
    let expected = n * n - sum_sq;
    if n < 2.0 || expected <= 0.0 {
        return None;
    }
    Some(1.0 - (n - 1.0) * observed / expected)
}

/// One opinion coded independently by both coders: the areas of the first and of the second.
#[derive(Debug, Clone, PartialEq)]
pub struct CodedPair {
    pub first: Vec<AreaCode>,
    pub second: Vec<AreaCode>,
}

impl CodedPair {
    /// Whether both chose exactly the same areas.
    pub fn agrees(&self) -> bool {
        let (mut a, mut b) = (self.first.clone(), self.second.clone());
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    }
}

/// Agreement over the opinions coded by both coders.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// Opinions coded by both.
    pub opinions: usize,
    /// Opinions where both chose exactly the same areas.
    pub identical: usize,
    /// Cohen's κ of each area (index = code − 1): present/absent as the first coder against the second.
    pub kappa: [Option<f64>; 8],
    /// Krippendorff's α (binary) over all 8 × `opinions` area decisions pooled.
    pub alpha: Option<f64>,
}

/// How [`agree`] computes its figures, in the words of the dashboard and the 说明 sheet.
pub const METHOD: &str = "只统计两位分析人员都已独立归类的意见（n 条）。每个领域的 Cohen κ：把“是否归入该领域”看作是/否两类，\
第一位与第二位归类人员的判断对比，κ = (实际一致率 − 偶然一致率) ÷ (1 − 偶然一致率)。总体 Krippendorff α（名义/二值）：\
把每条意见的 8 个领域各看作一个“是/否”判断单元（共 8n 个单元，每单元两位归类人员），由一致性矩阵计算 \
α = 1 − (N − 1)·不一致对数 ÷ Σ nc·nk。两者为 1 表示完全一致，0 表示与随机一致相当；两人在某领域始终只给同一个值时无法计算，显示“—”。\
第一位、第二位指先后归类的两人（不一定是同两个人），裁决结果不参与计算。";

/// κ per area and the pooled α over `pairs`.
pub fn agree(pairs: &[CodedPair]) -> Agreement {
    let mut kappa = [None; 8];
    for area in AreaCode::all() {
        let ratings: Vec<(bool, bool)> =
            pairs.iter().map(|p| (p.first.contains(&area), p.second.contains(&area))).collect();
        kappa[area.index()] = cohen_kappa(&ratings);
    }
    let units: Vec<Vec<bool>> = pairs
        .iter()
        .flat_map(|p| AreaCode::all().map(move |a| vec![p.first.contains(&a), p.second.contains(&a)]))
        .collect();
    Agreement {
        opinions: pairs.len(),
        identical: pairs.iter().filter(|p| p.agrees()).count(),
        kappa,
        alpha: krippendorff_alpha_nominal(&units),
    }
}

/// A coefficient as people read it: three decimals, or "—" when it cannot be computed.
pub fn show(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(yy: usize, yn: usize, ny: usize, nn: usize) -> Vec<(bool, bool)> {
        let mut v = vec![(true, true); yy];
        v.extend(vec![(true, false); yn]);
        v.extend(vec![(false, true); ny]);
        v.extend(vec![(false, false); nn]);
        v
    }

    fn close(x: Option<f64>, want: f64, places: i32) {
        let x = x.expect("defined");
        let tol = 0.5 * 10f64.powi(-places);
        assert!((x - want).abs() <= tol, "{x} is not {want} to {places} places");
    }

    #[test]
    fn cohen_kappa_matches_the_wikipedia_worked_examples() {
        // "Simple example": 50 grant proposals, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: κ = 0.4.
        close(cohen_kappa(&table(20, 5, 10, 15)), 0.4, 4);
        // "Same percentages but different numbers": pₒ = 0.60 both times, κ = 0.1304 and 0.2593.
        close(cohen_kappa(&table(45, 15, 25, 15)), 0.1304, 4);
        close(cohen_kappa(&table(25, 35, 5, 35)), 0.2593, 4);
    }

    #[test]
    fn cohen_kappa_of_perfect_agreement_is_one_and_of_one_value_is_undefined() {
        close(cohen_kappa(&table(3, 0, 0, 7)), 1.0, 9);
        assert_eq!(cohen_kappa(&table(0, 0, 0, 9)), None);
        assert_eq!(cohen_kappa::<bool>(&[]), None);
    }

    fn units<const N: usize>(coders: &[[Option<u8>; N]]) -> Vec<Vec<u8>> {
        (0..N).map(|u| coders.iter().filter_map(|c| c[u]).collect()).collect()
    }

    #[test]
    fn krippendorff_alpha_matches_his_2011_worked_examples() {
        // Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011).
        // A: binary data, two observers, no missing data: α = 0.095.
        let a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0].map(Some);
        let b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0].map(Some);
        close(krippendorff_alpha_nominal(&units(&[a, b])), 0.095, 3);
        // B: nominal data, two observers (a–e as 1–5), no missing data: α = 0.692.
        let ben = [1, 1, 2, 2, 4, 3, 3, 3, 5, 4, 4, 1].map(Some);
        let gerry = [2, 1, 2, 2, 2, 3, 3, 3, 5, 4, 4, 4].map(Some);
        close(krippendorff_alpha_nominal(&units(&[ben, gerry])), 0.692, 3);
        // C: nominal data, four observers, missing data: α = 0.743.
        let n = None;
        let s = Some;
        let c = [
            [s(1), s(2), s(3), s(3), s(2), s(1), s(4), s(1), s(2), n, n, n],
            [s(1), s(2), s(3), s(3), s(2), s(2), s(4), s(1), s(2), s(5), n, s(3)],
            [n, s(3), s(3), s(3), s(2), s(3), s(4), s(2), s(2), s(5), s(1), n],
            [s(1), s(2), s(3), s(3), s(2), s(4), s(4), s(1), s(2), s(5), s(1), n],
        ];
        close(krippendorff_alpha_nominal(&units(&c)), 0.743, 3);
    }

    #[test]
    fn alpha_of_one_value_everywhere_is_undefined() {
        assert_eq!(krippendorff_alpha_nominal(&[vec![1, 1], vec![1, 1]]), None);
        assert_eq!(krippendorff_alpha_nominal::<u8>(&[vec![1]]), None);
    }

    fn areas(v: &[u8]) -> Vec<AreaCode> {
        v.iter().map(|a| AreaCode::try_from(i64::from(*a)).unwrap()).collect()
    }

    #[test]
    fn agreement_pools_area_decisions_and_counts_identical_opinions() {
        let pairs = vec![
            CodedPair { first: areas(&[1, 3]), second: areas(&[3, 1]) },
            CodedPair { first: areas(&[1]), second: areas(&[1, 4]) },
            CodedPair { first: areas(&[2]), second: areas(&[2]) },
        ];
        let g = agree(&pairs);
        assert_eq!((g.opinions, g.identical), (3, 2));
        close(g.kappa[0], 1.0, 9);
        // Area 4: the second coder said yes once, the first never: pₒ = 2/3, pₑ = 2/3, κ = 0.
        close(g.kappa[3], 0.0, 9);
        // Area 8: nobody ever chose it, so κ cannot be computed.
        assert_eq!(g.kappa[7], None);
        // 24 units of two values, one disagreement; yes 9 times, no 39 times: α = 1 − 47·2 / (2·9·39).
        close(g.alpha, 1.0 - 47.0 * 2.0 / (2.0 * 9.0 * 39.0), 9);
    }

    #[test]
    fn the_sample_is_stable_nested_and_near_its_percentage() {
        let s20 = Sample::new(20, 12345).unwrap();
        let s30 = Sample::new(30, 12345).unwrap();
        let hits = (1..=10_000).filter(|id| s20.contains(*id)).count();
        assert!((1_800..=2_200).contains(&hits), "{hits} of 10000 at 20%");
        assert!((1..=10_000).filter(|id| s20.contains(*id)).all(|id| s30.contains(id)));
        assert!((1..=100).all(|id| Sample::new(100, 7).unwrap().contains(id)));
        let other = Sample::new(20, 999).unwrap();
        assert_ne!(
            (1..=50).filter(|id| s20.contains(*id)).collect::<Vec<_>>(),
            (1..=50).filter(|id| other.contains(*id)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_sample_refuses_percentages_outside_one_to_a_hundred() {
        for bad in [0, -1, 101, i64::MAX, i64::MIN] {
            assert!(Sample::new(bad, 1).unwrap_err().starts_with("抽样比例："), "{bad}");
        }
        assert!(Sample::new(50, -1).is_err());
    }
}
