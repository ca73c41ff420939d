//! The analysis report's numbers, as a pure model: what an export counts and how. Opinions and responses
//! are fed in batches ([`Tally`]); [`Tally::finish`] gives the [`Report`] the workbook's tables are drawn
//! from. `policy` decides what leaders may see (`audit` checks it); `raw` lays out one row per response; `method` is the
//! "how every number was counted" text.

pub mod audit;
#[cfg(test)]
mod audit_props;
pub mod dates;
pub mod method;
pub mod policy;
pub mod raw;
pub mod release;

use super::area::AreaCode;
use super::form::{Choice, QuestionKind};
use super::tagging::OpinionState;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike};
use std::collections::BTreeMap;

/// The set of areas an opinion is tagged with, as a bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AreaSet(u8);

impl AreaSet {
    pub fn insert(&mut self, a: AreaCode) {
        self.0 |= 1 << a.index();
    }
    /// The set without `a`.
    pub fn without(self, a: AreaCode) -> AreaSet {
        AreaSet(self.0 & !(1 << a.index()))
    }
    pub fn contains(self, a: AreaCode) -> bool {
        self.0 & (1 << a.index()) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn iter(self) -> impl Iterator<Item = AreaCode> {
        AreaCode::all().filter(move |a| self.contains(*a))
    }
    /// Adds every area of `other`.
    pub fn union(&mut self, other: AreaSet) {
        self.0 |= other.0;
    }
}

impl FromIterator<AreaCode> for AreaSet {
    fn from_iter<I: IntoIterator<Item = AreaCode>>(iter: I) -> Self {
        let mut s = AreaSet::default();
        for a in iter {
            s.insert(a);
        }
        s
    }
}

/// What an export covers: one or several forms, an optional date range (days in the bureau's time zone,
/// both ends included) and optionally some units.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    pub forms: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[serde(default)]
    pub units: Vec<String>,
    /// A leader's selection: only responses released to leaders by the range's end ([`release`]).
    #[serde(default)]
    pub released: bool,
}

impl Scope {
    /// The first millisecond included, if the range has a start.
    pub fn from_ms(&self) -> Option<i64> {
        self.from.map(day_start_ms)
    }
    /// The first millisecond after the range, if it has an end.
    pub fn until_ms(&self) -> Option<i64> {
        self.to.and_then(|d| d.succ_opt()).map(day_start_ms)
    }

    /// What a leader's view of `form` covers at `now_ms`: the whole form as released to leaders at the
    /// bureau's last midnight ([`release`]). A view that changed while one response came in would date it to
    /// the minute (or name its writer to someone watching the room); leaders are given the day and nothing
    /// finer, and each unit's responses k at a time. At a release's cut (a midnight) it is that release's.
    pub fn published(form: &str, now_ms: i64) -> Scope {
        Scope {
            forms: vec![form.to_owned()],
            to: Some(last_published_day(now_ms)),
            released: true,
            ..Default::default()
        }
    }
}

/// The last day leaders' views cover at `now_ms`: the day before today in the bureau's time.
pub fn last_published_day(now_ms: i64) -> NaiveDate {
    let now =
        DateTime::from_timestamp_millis(now_ms).unwrap_or_default().with_timezone(&super::form::check::bureau_offset());
    now.date_naive().pred_opt().unwrap_or(NaiveDate::MIN)
}

/// Where leaders' views end at `now_ms`: the bureau's last midnight (ms).
pub fn published_until_ms(now_ms: i64) -> i64 {
    last_published_day(now_ms).succ_opt().map_or(0, day_start_ms)
}

/// The order of a protected file's rows: `(id, order)` pairs, where `order` is the row's
/// [`dates::SentWithin::order`], by that (oldest first, undated last) and within one date in random order.
/// Arrival order would let someone who saw who sent first match rows to people; leaders are given the
/// row's date as the policy allows it and nothing finer.
pub fn shuffled_within_dates(mut rows: Vec<(i64, i64)>, rng: &mut impl rand::Rng) -> Vec<i64> {
    use rand::seq::SliceRandom;
    rows.sort_unstable_by_key(|&(id, order)| (order, id));
    for one_date in rows.chunk_by_mut(|a, b| a.1 == b.1) {
        one_date.shuffle(rng);
    }
    rows.into_iter().map(|(id, _)| id).collect()
}

fn day_start_ms(d: NaiveDate) -> i64 {
    let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    super::form::check::bureau_offset().from_local_datetime(&naive).single().map_or(0, |t| t.timestamp_millis())
}

/// A stored timestamp as the bureau reads it: `2026-11-26 15:30` in China Standard Time.
pub fn local_time(ms: i64) -> String {
    let Some(t) = DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&super::form::check::bureau_offset()))
    else {
        return String::new();
    };
    // Written out by hand (an export formats a million of them); chrono's `%Y` for other years.
    if (0..=9999).contains(&t.year()) {
        format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// One opinion as the counts see it (unit and category are its response's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpinionFact<'a> {
    pub response_id: i64,
    pub unit: Option<&'a str>,
    pub category: Option<&'a str>,
    pub state: OpinionState,
    pub areas: AreaSet,
}

/// One opinion quoted on an area sheet or the 未归类 sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct QuotedOpinion {
    pub id: i64,
    pub receipt: String,
    pub form_slug: String,
    pub question_id: String,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub text: String,
    pub representative: bool,
    pub state: OpinionState,
    pub submitted_at: i64,
    /// Every area the opinion carries (the sheet's own area included).
    pub areas: AreaSet,
    /// The titles of the problems (问题清单) it was grouped into.
    pub problems: Vec<String>,
}

/// One row of a unit × area or category × area table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrossRow {
    /// Responses (respondents) from this unit or category.
    pub respondents: u64,
    /// Counted opinions (not 无效) tagged with each area.
    pub areas: [u64; 8],
    /// Counted opinions with at least one area, each once.
    pub tagged: u64,
}

impl CrossRow {
    /// The sum over the eight areas (an opinion with two areas counts twice).
    pub fn tag_total(&self) -> u64 {
        self.areas.iter().sum()
    }
    pub fn add(&mut self, o: &CrossRow) {
        self.respondents += o.respondents;
        self.tagged += o.tagged;
        for i in 0..8 {
            self.areas[i] += o.areas[i];
        }
    }
}

/// The distribution of an appraisal (民主测评) matrix: per row (usually one area), how many chose each grade.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Appraisal {
    /// The grades, best first, as the first definition seen names them.
    pub scale: Vec<Choice>,
    /// Rows in the order first seen: (label, area, counts per grade in `scale` order).
    pub rows: Vec<(String, Option<AreaCode>, Vec<u64>)>,
}

impl Appraisal {
    /// Counts one matrix answer of a question of `kind`.
    pub fn add(&mut self, kind: &QuestionKind, answer: &BTreeMap<String, String>) {
        let QuestionKind::Matrix { rows, scale } = kind else { return };
        for c in scale {
            if !self.scale.iter().any(|s| s.code == c.code) {
                self.scale.push(c.clone());
                for r in &mut self.rows {
                    r.2.push(0);
                }
            }
        }
        for row in rows {
            let Some(code) = answer.get(&row.code) else { continue };
            let Some(g) = self.scale.iter().position(|s| &s.code == code) else { continue };
            let i = match self.rows.iter().position(|r| r.0 == row.label && r.1 == row.area) {
                Some(i) => i,
                None => {
                    self.rows.push((row.label.clone(), row.area, vec![0; self.scale.len()]));
                    self.rows.len() - 1
                }
            };
            self.rows[i].2[g] += 1;
        }
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds every count of `other` (a pooled group's distribution).
    pub fn merge(&mut self, other: &Appraisal) {
        for c in &other.scale {
            if !self.scale.iter().any(|s| s.code == c.code) {
                self.scale.push(c.clone());
                self.rows.iter_mut().for_each(|r| r.2.push(0));
            }
        }
        for (label, area, counts) in &other.rows {
            let i = match self.rows.iter().position(|r| &r.0 == label && &r.1 == area) {
                Some(i) => i,
                None => {
                    self.rows.push((label.clone(), *area, vec![0; self.scale.len()]));
                    self.rows.len() - 1
                }
            };
            for (g, n) in counts.iter().enumerate() {
                if let Some(j) = self.scale.iter().position(|s| s.code == other.scale[g].code) {
                    self.rows[i].2[j] += n;
                }
            }
        }
    }

    /// The counts of the row (label, area) in `scale` order (zeros when absent).
    pub fn counts_in(&self, label: &str, area: Option<AreaCode>, scale: &[Choice]) -> Vec<u64> {
        let row = self.rows.iter().find(|r| r.0 == label && r.1 == area);
        scale
            .iter()
            .map(|c| {
                let j = self.scale.iter().position(|s| s.code == c.code);
                row.zip(j).map_or(0, |(r, j)| r.2[j])
            })
            .collect()
    }
}

/// Everything the summary, cross-table, co-occurrence and appraisal sheets show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Every opinion in scope, whatever its state.
    pub opinions: u64,
    /// Opinions per state, in [`OpinionState::ALL`] order.
    pub by_state: [u64; 4],
    /// Responses in scope.
    pub responses: u64,
    /// Counted opinions (not 无效) with at least one area.
    pub tagged: u64,
    /// Counted opinions per area.
    pub area_opinions: [u64; 8],
    /// Distinct responses with at least one counted opinion in each area.
    pub area_responses: [u64; 8],
    /// Per unit code (`None`: no unit) and per category code.
    pub by_unit: BTreeMap<Option<String>, CrossRow>,
    pub by_category: BTreeMap<Option<String>, CrossRow>,
    /// `[a][b]`: counted opinions tagged with both a and b; the diagonal is the area's own count.
    pub cooccurrence: [[u64; 8]; 8],
    pub appraisal: Appraisal,
    /// The same per unit (`None`: no unit); leaders see it under the disclosure policy.
    pub appraisal_by_unit: BTreeMap<Option<String>, Appraisal>,
}

impl Report {
    /// The sum of the eight area counts (each opinion once per area it carries).
    pub fn tag_total(&self) -> u64 {
        self.area_opinions.iter().sum()
    }
    /// An area's share of the tagged opinions (0 when nothing is tagged).
    pub fn area_share(&self, a: AreaCode) -> f64 {
        if self.tagged == 0 { 0.0 } else { self.area_opinions[a.index()] as f64 / self.tagged as f64 }
    }
    pub fn state_count(&self, s: OpinionState) -> u64 {
        self.by_state[OpinionState::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }
}

/// Accumulates a [`Report`] from batches, in bounded memory: distinct responses per area are kept as one
/// bit per response id.
#[derive(Debug, Default)]
pub struct Tally {
    report: Report,
    seen: [Vec<u64>; 8],
}

impl Tally {
    /// Counts one opinion.
    pub fn opinion(&mut self, o: &OpinionFact<'_>) {
        let r = &mut self.report;
        r.opinions += 1;
        r.by_state[OpinionState::ALL.iter().position(|s| *s == o.state).unwrap_or(0)] += 1;
        if o.state == OpinionState::Invalid || o.areas.is_empty() {
            return;
        }
        r.tagged += 1;
        let unit = r.by_unit.entry(o.unit.map(str::to_owned)).or_default();
        unit.tagged += 1;
        let cat = r.by_category.entry(o.category.map(str::to_owned)).or_default();
        cat.tagged += 1;
        for a in o.areas.iter() {
            let i = a.index();
            r.area_opinions[i] += 1;
            unit.areas[i] += 1;
            cat.areas[i] += 1;
            for b in o.areas.iter() {
                r.cooccurrence[i][b.index()] += 1;
            }
            if let Ok(id) = u64::try_from(o.response_id) {
                let (word, bit) = ((id / 64) as usize, id % 64);
                let bits = &mut self.seen[i];
                if bits.len() <= word {
                    bits.resize(word + 1, 0);
                }
                if bits[word] & (1 << bit) == 0 {
                    bits[word] |= 1 << bit;
                    r.area_responses[i] += 1;
                }
            }
        }
    }

    /// Counts one response (a respondent) of a unit and category.
    pub fn response(&mut self, unit: Option<&str>, category: Option<&str>) {
        let r = &mut self.report;
        r.responses += 1;
        r.by_unit.entry(unit.map(str::to_owned)).or_default().respondents += 1;
        r.by_category.entry(category.map(str::to_owned)).or_default().respondents += 1;
    }

    /// Counts one appraisal matrix answer of a respondent of `unit`.
    pub fn appraisal(&mut self, unit: Option<&str>, kind: &QuestionKind, answer: &BTreeMap<String, String>) {
        self.report.appraisal.add(kind, answer);
        self.report.appraisal_by_unit.entry(unit.map(str::to_owned)).or_default().add(kind, answer);
    }

    pub fn finish(self) -> Report {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: i64) -> AreaCode {
        AreaCode::try_from(n).unwrap()
    }

    fn fact<'a>(resp: i64, unit: &'a str, state: OpinionState, areas: &[i64]) -> OpinionFact<'a> {
        OpinionFact {
            response_id: resp,
            unit: Some(unit),
            category: Some("qz"),
            state,
            areas: areas.iter().map(|n| a(*n)).collect(),
        }
    }

    #[test]
    fn a_leaders_view_ends_at_the_bureaus_last_midnight() {
        // 2026-12-04 00:30 in Beijing is 2026-12-03 16:30 UTC: today there has just begun.
        let just_after = DateTime::parse_from_rfc3339("2026-12-03T16:30:00Z").unwrap().timestamp_millis();
        let scope = Scope::published("f", just_after);
        assert_eq!(scope.to, NaiveDate::from_ymd_opt(2026, 12, 3));
        let midnight = DateTime::parse_from_rfc3339("2026-12-03T16:00:00Z").unwrap().timestamp_millis();
        assert_eq!(scope.until_ms(), Some(midnight));
        assert_eq!(published_until_ms(just_after), midnight);
        assert_eq!(Scope::published("f", midnight - 1).until_ms(), Some(midnight - 86_400_000));
    }

    #[test]
    fn a_protected_files_rows_keep_their_dates_but_not_their_order_within_a_date() {
        use rand::SeedableRng;
        let day = |d: u32, h: u32| {
            let t = NaiveDate::from_ymd_opt(2026, 12, d).unwrap().and_hms_opt(h, 0, 0).unwrap();
            day_start_ms(t.date()) + i64::from(h) * 3_600_000
        };
        // Twenty responses on 3 December (Beijing), 00:00 to 19:00, then two on the 4th.
        let mut rows: Vec<(i64, i64)> = (0..20).map(|i| (i + 1, day(3, i as u32))).collect();
        rows.extend([(21, day(4, 0)), (22, day(4, 23))]);
        let rows =
            rows.into_iter().map(|(id, at)| (id, dates::SentWithin::Day(dates::bureau_day(at)).order())).collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let order = shuffled_within_dates(rows, &mut rng);
        let mut first_day = order[..20].to_vec();
        assert_ne!(first_day, (1..=20).collect::<Vec<_>>(), "not in arrival order");
        first_day.sort_unstable();
        assert_eq!(first_day, (1..=20).collect::<Vec<_>>(), "every row of the 3rd, once, before the 4th");
        assert!(order[20..].contains(&21) && order[20..].contains(&22));
    }

    #[test]
    fn an_opinion_with_two_areas_counts_once_in_each_and_once_as_tagged() {
        let mut t = Tally::default();
        t.opinion(&fact(1, "u1", OpinionState::Tagged, &[1, 7]));
        t.opinion(&fact(1, "u1", OpinionState::Tagged, &[7]));
        t.opinion(&fact(2, "u2", OpinionState::Pending, &[]));
        t.opinion(&fact(3, "u2", OpinionState::Invalid, &[7]));
        let r = t.finish();
        assert_eq!(r.opinions, 4);
        assert_eq!(r.tagged, 2);
        assert_eq!(r.area_opinions[0], 1);
        assert_eq!(r.area_opinions[6], 2);
        assert_eq!(r.area_responses[6], 1, "two opinions of one response are one response");
        assert_eq!(r.tag_total(), 3);
        assert_eq!(r.cooccurrence[0][6], 1);
        assert_eq!(r.cooccurrence[6][6], 2);
        assert_eq!(r.state_count(OpinionState::Invalid), 1);
        assert!((r.area_share(a(7)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn cross_rows_add_up_to_the_area_counts() {
        let mut t = Tally::default();
        for (i, u) in ["u1", "u2", "u2", "u3"].iter().enumerate() {
            t.response(Some(u), Some("qz"));
            t.opinion(&fact(i as i64 + 1, u, OpinionState::Tagged, &[(i as i64 % 8) + 1, 8]));
        }
        let r = t.finish();
        let mut sum = CrossRow::default();
        r.by_unit.values().for_each(|row| sum.add(row));
        assert_eq!(sum.areas, r.area_opinions);
        assert_eq!(sum.respondents, r.responses);
        assert_eq!(sum.tagged, r.tagged);
    }

    #[test]
    fn a_date_range_covers_whole_days_in_china_time() {
        let s = Scope {
            from: NaiveDate::from_ymd_opt(2026, 11, 26),
            to: NaiveDate::from_ymd_opt(2026, 11, 26),
            ..Default::default()
        };
        assert_eq!(s.until_ms().unwrap() - s.from_ms().unwrap(), 86_400_000);
        assert_eq!(local_time(s.from_ms().unwrap()), "2026-11-26 00:00");
    }

    #[test]
    fn local_time_reads_like_chrono_formats_it() {
        for ms in [0, 1_795_000_123_456, -62_000_000_000_000, 253_402_300_800_000, -1, 86_399_999] {
            let want = DateTime::from_timestamp_millis(ms)
                .map(|t| {
                    t.with_timezone(&crate::domain::form::check::bureau_offset()).format("%Y-%m-%d %H:%M").to_string()
                })
                .unwrap();
            assert_eq!(local_time(ms), want, "{ms}");
        }
    }

    #[test]
    fn appraisal_counts_each_grade_per_row() {
        let kind = QuestionKind::Matrix {
            rows: vec![crate::domain::form::MatrixRow {
                code: "a1".into(),
                label: "理论学习".into(),
                area: Some(a(1)),
            }],
            scale: ["好", "较好"]
                .iter()
                .enumerate()
                .map(|(i, l)| Choice { code: (i + 1).to_string(), label: (*l).into() })
                .collect(),
        };
        let mut ap = Appraisal::default();
        for g in ["1", "2", "2"] {
            ap.add(&kind, &BTreeMap::from([("a1".to_owned(), g.to_owned())]));
        }
        assert_eq!(ap.rows, vec![("理论学习".to_owned(), Some(a(1)), vec![1, 2])]);
    }
}
