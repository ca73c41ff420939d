//! The disclosure policy: the one rule every leader-facing output follows (workbook, CSV, dashboard,
//! inbox). Leaders are the people the opinions criticise, so no view of theirs may single out a respondent.
//!
//! - **Frequency rule.** A unit or category with fewer than k respondents in the selection is not shown: its
//!   numbers go into one pooled row ("其他单位（合并）" / "其他类别"), whose members are not named.
//! - **Secondary suppression.** When the pooled groups together have fewer than k respondents, the smallest
//!   shown groups join the pool until it has k, so the pool (at least two groups) cannot be subtracted from
//!   the totals. When the whole selection has fewer than k respondents, nothing but "<k" is shown.
//! - **Rows** (quotes, raw data): a row shows its unit only when the unit is shown, and its category only
//!   when, within the row's unit group, that category has k respondents (same rule, per group). If the
//!   unit × category pattern that rows and tables publish together would let a hidden pair be solved
//!   ([`super::audit`]), rows show no category at all. A row's date is its day only when k respondents of
//!   its row group sent that day, else its week, month or nothing ([`super::dates`]).
//! - **No differencing.** A leader's selection is always one whole form: no date, unit or category
//!   filter. Two such selections never overlap, so no output can be subtracted from another. Views of
//!   one form taken on different days differ by releases of at least k per unit ([`super::release`]).

use super::audit::{Published, recoverable};
use super::dates::{DayNo, SentWithin, bureau_day, dates_of_group};
use super::release::{History, uneven_pairs};
use std::collections::{BTreeMap, BTreeSet};

/// k when nothing else is configured.
pub const DEFAULT_K: u32 = 5;
/// The row label of every unit not shown.
pub const OTHER_UNITS: &str = "其他单位（合并）";
/// The row label of every category not shown.
pub const OTHER_CATEGORIES: &str = "其他类别";

/// A unit or category code; `None` is "not given".
pub type Code = Option<String>;

/// Respondents per (unit, category, bureau day): what the policy decides from.
pub type RespondentDays = BTreeMap<(Code, Code, DayNo), u64>;

/// A row group as leaders see it: (the shown unit or `None` for the pool, the shown category or `None`).
type RowGroup = (Option<Code>, Option<Code>);

/// Which groups are shown: groups under k are pooled, and the smallest shown groups join the pool until it
/// has k respondents. Everything is pooled when the total is under k. Groups with no respondents are absent.
pub fn shown_groups<K: Ord + Clone>(counts: &BTreeMap<K, u64>, k: u64) -> BTreeSet<K> {
    shown_groups_beside(counts, k, |_| false, |_| false)
}

/// [`shown_groups`] where the groups `pooled` tells are in the pool whatever their count: they fill it
/// before any shown group is taken in; and the groups `named` tells stay shown whatever their count, never
/// taken in.
fn shown_groups_beside<K: Ord + Clone>(
    counts: &BTreeMap<K, u64>,
    k: u64,
    pooled: impl Fn(&K) -> bool,
    named: impl Fn(&K) -> bool,
) -> BTreeSet<K> {
    let total: u64 = counts.values().sum();
    if total < k {
        return BTreeSet::new();
    }
    let mut shown: BTreeSet<K> =
        counts.iter().filter(|(g, n)| (**n >= k || named(g)) && !pooled(g)).map(|(g, _)| g.clone()).collect();
    let mut pool: u64 = counts.iter().filter(|(g, _)| !shown.contains(*g)).map(|(_, n)| n).sum();
    while pool > 0 && pool < k {
        let takeable = counts.iter().filter(|(g, _)| shown.contains(*g) && !named(g));
        let Some((g, n)) = takeable.min_by_key(|(_, n)| **n) else { break };
        shown.remove(g);
        pool += n;
    }
    shown
}

/// What a leader-facing output of one selection may show, decided from its respondents per
/// (unit, category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    pub k: u64,
    /// The selection has fewer than k respondents (none included: whether anyone answered is not told
    /// either): no numbers but "<k", no rows.
    pub too_small: bool,
    units: BTreeSet<Code>,
    categories: BTreeSet<Code>,
    /// Per unit group (`Some(unit)` shown, `None` the pool), the categories its rows show.
    row_categories: BTreeMap<Option<Code>, BTreeSet<Code>>,
    /// Per row group, the date each of its days shows ([`dates_of_group`]).
    dates: BTreeMap<RowGroup, BTreeMap<DayNo, SentWithin>>,
    pub units_count: BTreeMap<Code, u64>,
    pub categories_count: BTreeMap<Code, u64>,
    /// Respondents per (unit, category), as decided over.
    pairs: BTreeMap<(Code, Code), u64>,
}

/// Which of the office's filters, hidden from leaders' rows, a selection names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub unit: bool,
    pub category: bool,
    pub dates: bool,
    /// Several rows ticked in a list the office narrowed by unit, category or dates: analysts see each row's
    /// category, so the choice may follow it.
    pub by_hand: bool,
}

impl Named {
    pub fn any(self) -> bool {
        self.unit || self.category || self.dates || self.by_hand
    }
}

impl Disclosure {
    /// Decides for respondents counted per (unit, category) with threshold `k` (0 or 1 hides nothing).
    pub fn decide(pairs: &BTreeMap<(Code, Code), u64>, k: u64) -> Disclosure {
        Disclosure::decide_with(pairs, k, &History::default())
    }

    /// [`Disclosure::decide`] for a selection that reached leaders as `history` tells: units pooled for good
    /// are not shown, and categories that came fewer than k at a time not on their unit's rows
    /// ([`super::release`]).
    fn decide_with(pairs: &BTreeMap<(Code, Code), u64>, k: u64, history: &History) -> Disclosure {
        let uneven = uneven_pairs(&history.releases, k);
        let mut units_count: BTreeMap<Code, u64> = BTreeMap::new();
        let mut categories_count: BTreeMap<Code, u64> = BTreeMap::new();
        for ((u, c), n) in pairs.iter().filter(|(_, n)| **n > 0) {
            *units_count.entry(u.clone()).or_default() += n;
            *categories_count.entry(c.clone()).or_default() += n;
        }
        let total: u64 = units_count.values().sum();
        // Units pooled for good count in the pool before a named unit is taken in to fill it: else a named
        // unit would drop into the pool while a pooled one grew past k. A unit released under its name stays
        // named under a k raised since: pooled, the rows leaders saw under its name would mark the pool's.
        let pooled_for_good = |u: &Code| u.as_ref().is_some_and(|u| history.pooled.contains(u));
        let released: BTreeSet<&Code> = history.releases.keys().map(|(u, _, _)| u).collect();
        // Released pools hold 0 or at least the first k. Only a database converted from a build before
        // releases has one under it, which leaders saw filled with its smallest named unit: that stands.
        let pooled: u64 = units_count.iter().filter(|(u, _)| pooled_for_good(u)).map(|(_, n)| n).sum();
        let names_kept = pooled == 0 || pooled >= history.first_k;
        let units = shown_groups_beside(&units_count, k, pooled_for_good, |u| {
            names_kept && released.contains(u) && !pooled_for_good(u)
        });
        let categories = shown_groups(&categories_count, k);
        let mut d = Disclosure {
            k,
            too_small: total < k,
            units,
            categories,
            row_categories: BTreeMap::new(),
            dates: BTreeMap::new(),
            units_count,
            categories_count,
            pairs: pairs.iter().filter(|(_, n)| **n > 0).map(|(p, n)| (p.clone(), *n)).collect(),
        };
        let mut by_group: BTreeMap<Option<Code>, BTreeMap<Code, u64>> = BTreeMap::new();
        // A group with any pair that came fewer than k at a time shows no category at all: shown on the
        // others, they would leave that pair's rows as the few that still read 其他类别.
        let mut uneven_groups: BTreeSet<Option<Code>> = BTreeSet::new();
        for ((u, c), n) in pairs.iter().filter(|(_, n)| **n > 0) {
            let group = d.unit_group(u.as_deref());
            if uneven.contains(&(u.clone(), c.clone())) {
                uneven_groups.insert(group.clone());
            }
            *by_group.entry(group).or_default().entry(c.clone()).or_default() += n;
        }
        d.row_categories = by_group
            .iter()
            .map(|(g, cats)| {
                let shown = shown_groups(cats, k)
                    .into_iter()
                    .filter(|c| d.categories.contains(c) && !uneven_groups.contains(g))
                    .collect();
                (g.clone(), shown)
            })
            .collect();
        if !recoverable(&d.row_pattern(&by_group)).is_empty() {
            d.row_categories.values_mut().for_each(BTreeSet::clear);
        }
        d
    }

    /// Decides for respondents counted per (unit, category, day): [`Disclosure::decide`] on the pairs, and
    /// the dates rows show.
    pub fn decide_dated(days: &RespondentDays, k: u64) -> Disclosure {
        let mut d = Disclosure::decide(&pairs_of(days), k);
        let mut by_group: BTreeMap<RowGroup, BTreeMap<DayNo, u64>> = BTreeMap::new();
        for ((u, c, day), n) in days.iter().filter(|(_, n)| **n > 0) {
            *by_group.entry(d.row_group(u.as_deref(), c.as_deref())).or_default().entry(*day).or_default() += n;
        }
        d.dates = by_group.into_iter().map(|(g, days)| (g, dates_of_group(&days, k))).collect();
        d
    }

    /// [`Disclosure::decide`] for a leader's selection, which reached leaders as `history` tells
    /// ([`super::release`]). Its rows show no dates: a row's date label, decided over a group that grew by
    /// later releases, would get finer than what was shown before and pin its day (one respondent's).
    pub fn decide_released(days: &RespondentDays, history: &History, k: u64) -> Disclosure {
        Disclosure::decide_with(&pairs_of(days), k, history)
    }

    fn row_group(&self, unit: Option<&str>, category: Option<&str>) -> RowGroup {
        let shown = self.row_shows_category(unit, category).then(|| category.map(str::to_owned));
        (self.unit_group(unit), shown)
    }

    /// When a row of this unit and category sent at `at_ms` was sent, as precisely as leaders may read it.
    /// A row the policy was not decided over (none should reach a leader) shows no date.
    pub fn row_sent(&self, unit: Option<&str>, category: Option<&str>, at_ms: i64) -> SentWithin {
        let group = self.dates.get(&self.row_group(unit, category));
        group.and_then(|days| days.get(&bureau_day(at_ms)).copied()).unwrap_or(SentWithin::Hidden)
    }

    /// `Some(unit)` when the unit is shown, `None` when it is in the pool.
    fn unit_group(&self, unit: Option<&str>) -> Option<Code> {
        let code = unit.map(str::to_owned);
        self.units.contains(&code).then_some(code)
    }

    /// Whether a leader's row hides what an office filter `named` picks it out by (its unit, its category or
    /// its day): a change made to every row so picked would show leaders which rows share it. A row not yet
    /// `released` is judged by what leaders see now, except by category or ticked: the release that brings
    /// it may pool a category shown now (a new category in its unit's batch, a small one pulling it in).
    pub fn hides_what_is_named(
        &self,
        named: Named,
        released: bool,
        unit: Option<&str>,
        category: Option<&str>,
        at_ms: i64,
    ) -> bool {
        self.too_small
            || (named.unit && !self.shows_unit(unit))
            || (!released && (named.category || named.by_hand))
            || (named.category && !self.row_shows_category(unit, category))
            || (named.dates && !matches!(self.row_sent(unit, category, at_ms), SentWithin::Day(_)))
    }

    /// Whether a unit is shown with its own numbers (and on rows).
    pub fn shows_unit(&self, unit: Option<&str>) -> bool {
        !self.too_small && self.units.contains(&unit.map(str::to_owned))
    }

    /// Whether a category is shown with its own numbers in the category table.
    pub fn shows_category(&self, category: Option<&str>) -> bool {
        !self.too_small && self.categories.contains(&category.map(str::to_owned))
    }

    /// Respondents per category as the rows show it, and those whose rows show 其他类别: no more than
    /// counting the rows tells. The true totals would place rows: beside the unit totals, 社会群众 7 where
    /// the rows show six tells that one of a unit's 其他类别 rows is 社会群众.
    pub fn categories_as_rows_show(&self) -> (BTreeMap<Code, u64>, u64) {
        let mut shown: BTreeMap<Code, u64> = BTreeMap::new();
        let mut pooled = 0;
        for ((unit, category), n) in &self.pairs {
            if self.row_shows_category(unit.as_deref(), category.as_deref()) {
                *shown.entry(category.clone()).or_default() += n;
            } else {
                pooled += n;
            }
        }
        (shown, pooled)
    }

    /// Whether rows may be shown at all.
    pub fn shows_rows(&self) -> bool {
        !self.too_small
    }

    /// Whether a row of this unit and category shows the category.
    pub fn row_shows_category(&self, unit: Option<&str>, category: Option<&str>) -> bool {
        !self.too_small
            && self.row_categories.get(&self.unit_group(unit)).is_some_and(|s| s.contains(&category.map(str::to_owned)))
    }

    /// The text for a hidden count: "<5" for k = 5.
    pub fn small_label(&self) -> String {
        format!("<{}", self.k)
    }

    /// What rows and the two tables publish together about respondents per (unit group, category):
    /// shown pairs exactly (rows can be counted), unit group totals, shown category totals, the category pool.
    fn row_pattern(&self, by_group: &BTreeMap<Option<Code>, BTreeMap<Code, u64>>) -> Published {
        let groups: Vec<&Option<Code>> = by_group.keys().collect();
        let cats: Vec<&Code> = self.categories_count.keys().collect();
        let cell = |g: usize, c: usize| g * cats.len() + c;
        let mut p = Published::new(groups.len() * cats.len());
        for (gi, g) in groups.iter().enumerate() {
            let shown = self.row_categories.get(*g);
            for (ci, c) in cats.iter().enumerate() {
                if shown.is_some_and(|s| s.contains(*c)) {
                    p.show(cell(gi, ci));
                }
            }
            p.sum((0..cats.len()).map(|ci| cell(gi, ci)));
        }
        let mut pooled = Vec::new();
        for (ci, c) in cats.iter().enumerate() {
            let col = (0..groups.len()).map(|gi| cell(gi, ci));
            if self.categories.contains(*c) { p.sum(col) } else { pooled.extend(col) }
        }
        p.sum(pooled);
        p
    }
}

/// Respondents per (unit, category), the days added up.
fn pairs_of(days: &RespondentDays) -> BTreeMap<(Code, Code), u64> {
    let mut pairs: BTreeMap<(Code, Code), u64> = BTreeMap::new();
    for ((u, c, _), n) in days {
        *pairs.entry((u.clone(), c.clone())).or_default() += n;
    }
    pairs
}

/// One row of a protected cross-table as a leader sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum TableRow<T> {
    Shown(String, T),
    /// Every group not shown, together.
    Pooled(T),
}

/// Lays out a table of groups `(code, label, numbers)`: shown groups in order, then the pooled row (when
/// anything is pooled). `add` sums two rows.
pub fn protect_rows<T: Default + Clone>(
    rows: Vec<(Code, String, T)>,
    shows: impl Fn(Option<&str>) -> bool,
    add: impl Fn(&mut T, &T),
) -> Vec<TableRow<T>> {
    let mut out = Vec::new();
    let mut pool: Option<T> = None;
    for (code, label, n) in rows {
        if shows(code.as_deref()) {
            out.push(TableRow::Shown(label, n));
        } else {
            add(pool.get_or_insert_with(T::default), &n);
        }
    }
    out.extend(pool.map(TableRow::Pooled));
    out
}

/// The privacy notice on every citizen form, generated from the policy so it says exactly what holds.
pub fn privacy_notice(k: u32) -> Vec<String> {
    vec![
        format!(
            "领导看到的统计表、意见摘录和下载文件都经过小单元保护：本次填写人少于 {k} 人的单位或身份类别不单独列出，只并入“其他单位（合并）”“其他类别”；不足 {k} 人的表单不向领导显示任何数字和意见。"
        ),
        format!(
            "领导只能按整份表单查看，不能按日期、单位或身份筛选；每个单位的新答卷满 {k} 份才成批向领导显示，前后两天的结果相减也看不出单独一份答卷；领导看不到提交日期和回执号。但若有人用同一单位的链接冒充多人填写、凑满一批，仍可能认出其中您的那一份；凭填写码填写的链接每码只能提交一份，可以防止这种情况。"
        ),
        "请注意：意见文字本身（例如提到只有您知道的具体事情、人名或时间）仍可能让人认出您。若希望匿名，请避免写入这类细节。".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Respondents of category 群众 per unit, all sent on one day.
    fn qz_on_one_day(units: &[(&str, u64)]) -> RespondentDays {
        units.iter().map(|&(unit, n)| ((Some(unit.to_owned()), Some("qz".to_owned()), 10), n)).collect()
    }

    /// `days` as reached leaders in one release.
    fn released_at_once(days: &RespondentDays) -> crate::domain::report::release::PairReleases {
        days.iter().map(|((u, c, _), n)| ((u.clone(), c.clone(), 1_000), *n)).collect()
    }

    fn pairs(list: &[(&str, &str, u64)]) -> BTreeMap<(Code, Code), u64> {
        list.iter().map(|(u, c, n)| ((Some((*u).to_owned()), Some((*c).to_owned())), *n)).collect()
    }

    #[test]
    fn units_under_k_are_pooled_and_a_pool_under_k_takes_in_the_smallest_shown_unit() {
        let d = Disclosure::decide(&pairs(&[("甲", "qz", 20), ("乙", "qz", 2), ("丙", "qz", 6)]), 5);
        assert!(d.shows_unit(Some("甲")));
        assert!(!d.shows_unit(Some("乙")), "2 respondents");
        assert!(!d.shows_unit(Some("丙")), "6, but joins the pool so 乙 cannot be subtracted out");
        let d = Disclosure::decide(&pairs(&[("甲", "qz", 20), ("乙", "qz", 2), ("丙", "qz", 4)]), 5);
        assert!(d.shows_unit(Some("甲")) && !d.shows_unit(Some("乙")) && !d.shows_unit(Some("丙")));
    }

    #[test]
    fn a_category_that_reached_leaders_fewer_than_k_at_a_time_is_not_shown_on_rows() {
        let u = |s: &str| Some(s.to_owned());
        // 甲's 司法所 came 3 then 2: shown now, it would tell which of yesterday's 其他类别 rows were 司法所.
        let days: RespondentDays = [((u("甲"), u("qz"), 1), 5), ((u("甲"), u("sfs"), 1), 5)].into();
        let releases = [((u("甲"), u("qz"), 10), 5), ((u("甲"), u("sfs"), 10), 3), ((u("甲"), u("sfs"), 20), 2)].into();
        let history = History { releases, ..History::default() };
        assert!(!Disclosure::decide_released(&days, &history, 5).row_shows_category(Some("甲"), Some("sfs")));
        let releases = [((u("甲"), u("qz"), 10), 5), ((u("甲"), u("sfs"), 10), 5)].into();
        let d = Disclosure::decide_released(&days, &History { releases, ..History::default() }, 5);
        assert!(d.row_shows_category(Some("甲"), Some("sfs")), "five at once");
        // 甲's first release: five 社会群众, one 司法所 and one 非党员. Shown later, 社会群众 would leave those two
        // rows as the only ones of that release still reading 其他类别: no category on 甲's rows at all.
        let days: RespondentDays = [
            ((u("甲"), u("qz"), 1), 10),
            ((u("甲"), u("dy"), 1), 5),
            ((u("甲"), u("sfs"), 1), 1),
            ((u("甲"), u("fdy"), 1), 1),
        ]
        .into();
        let releases = [
            ((u("甲"), u("qz"), 10), 5),
            ((u("甲"), u("sfs"), 10), 1),
            ((u("甲"), u("fdy"), 10), 1),
            ((u("甲"), u("qz"), 20), 5),
            ((u("甲"), u("dy"), 20), 5),
        ];
        let history = History { releases: releases.into(), ..History::default() };
        let d = Disclosure::decide_released(&days, &history, 5);
        assert!(!d.row_shows_category(Some("甲"), Some("qz")), "two pairs of 甲 came one at a time");
        let even = History {
            releases: [
                ((u("甲"), u("qz"), 10), 10),
                ((u("甲"), u("dy"), 10), 5),
                ((u("甲"), u("sfs"), 10), 1),
                ((u("甲"), u("fdy"), 10), 1),
            ]
            .into(),
            ..History::default()
        };
        assert!(
            !Disclosure::decide_released(&days, &even, 5).row_shows_category(Some("甲"), Some("qz")),
            "still uneven"
        );
        let pooled = History { pooled: ["甲".to_owned()].into(), ..History::default() };
        assert!(!Disclosure::decide_released(&days, &pooled, 5).shows_unit(Some("甲")), "in the pool for good");
    }

    #[test]
    fn a_unit_pooled_for_good_that_grew_past_k_fills_the_pool_before_a_named_unit_is_taken_in() {
        let days = qz_on_one_day(&[("甲", 5), ("乙", 5), ("丙", 3), ("丁", 7)]);
        let history = History { pooled: ["丙".to_owned(), "丁".to_owned()].into(), ..History::default() };
        let d = Disclosure::decide_released(&days, &history, 5);
        assert!(d.shows_unit(Some("甲")) && d.shows_unit(Some("乙")), "the pool has 10 without them");
        assert!(!d.shows_unit(Some("丙")) && !d.shows_unit(Some("丁")));
    }

    #[test]
    fn a_unit_released_under_its_name_stays_named_after_k_is_raised() {
        // Released at k = 5: 甲 6 and 乙 5 under their names, 丙 and 丁 pooled for good with 5. Then k = 10.
        let days = qz_on_one_day(&[("甲", 6), ("乙", 5), ("丙", 2), ("丁", 3)]);
        let history = History {
            releases: released_at_once(&days),
            pooled: ["丙".to_owned(), "丁".to_owned()].into(),
            first_k: 5,
        };
        let d = Disclosure::decide_released(&days, &history, 10);
        assert!(d.shows_unit(Some("甲")) && d.shows_unit(Some("乙")), "named at k = 5, they stay named");
        assert!(!d.shows_unit(Some("丙")) && !d.shows_unit(Some("丁")));
        // A database converted from a build before releases: 丙 and 丁 pooled for good with 3, under k, and
        // leaders saw the pool filled with 乙, the smallest named unit. It stays there.
        let converted = qz_on_one_day(&[("甲", 20), ("乙", 6), ("丙", 2), ("丁", 1)]);
        let history = History {
            releases: released_at_once(&converted),
            pooled: ["丙".to_owned(), "丁".to_owned()].into(),
            first_k: 5,
        };
        let d = Disclosure::decide_released(&converted, &history, 5);
        assert!(d.shows_unit(Some("甲")) && !d.shows_unit(Some("乙")), "乙 stays in the pool leaders saw it in");
        // Never released, the same counts are decided by the new k alone.
        let fresh = Disclosure::decide_released(&days, &History::default(), 10);
        assert!(!fresh.shows_unit(Some("甲")) && !fresh.shows_unit(Some("乙")));
    }

    #[test]
    fn a_selection_under_k_shows_nothing() {
        let d = Disclosure::decide(&pairs(&[("甲", "qz", 2), ("乙", "qz", 1)]), 5);
        assert!(d.too_small && !d.shows_rows() && !d.shows_unit(Some("甲")));
        assert_eq!(d.small_label(), "<5");
    }

    #[test]
    fn a_row_shows_its_category_only_when_the_pair_has_k_and_nothing_can_be_solved() {
        // 甲 has 6 群众 and 1 律师: 其他类别 inside 甲 would be one person, so 群众 joins it; and as the
        // category totals are published, 甲's split could still be solved: rows show no category.
        let d = Disclosure::decide(&pairs(&[("甲", "qz", 6), ("甲", "ls", 1), ("乙", "qz", 9), ("乙", "ls", 5)]), 5);
        assert!(d.shows_unit(Some("甲")));
        assert!(!d.row_shows_category(Some("甲"), Some("ls")));
        assert!(!d.row_shows_category(Some("甲"), Some("qz")), "else 甲's lawyer is 甲's total minus 6");
        assert!(
            recoverable(&d.row_pattern(&{
                let mut m: BTreeMap<Option<Code>, BTreeMap<Code, u64>> = BTreeMap::new();
                for ((u, c), n) in pairs(&[("甲", "qz", 6), ("甲", "ls", 1), ("乙", "qz", 9), ("乙", "ls", 5)]) {
                    *m.entry(d.unit_group(u.as_deref())).or_default().entry(c).or_default() += n;
                }
                m
            }))
            .is_empty()
        );
    }

    #[test]
    fn rows_lose_the_category_when_the_pattern_would_let_a_pair_be_solved() {
        // 律师 (ls) is hidden only inside 甲; its total (5) is shown in the category table, so
        // 甲's lawyers = 5 − lawyers shown elsewhere: rows must not show categories.
        let d = Disclosure::decide(
            &pairs(&[("甲", "qz", 6), ("甲", "ls", 2), ("甲", "qy", 5), ("乙", "ls", 5), ("乙", "qz", 5)]),
            5,
        );
        assert!(!d.row_shows_category(Some("乙"), Some("ls")));
        assert!(!d.row_shows_category(Some("甲"), Some("qz")));
    }

    #[test]
    fn a_rows_date_is_decided_within_its_row_group() {
        use super::super::dates::{SentWithin, bureau_day};
        let at = |d: &str| {
            let t: chrono::NaiveDate = d.parse().unwrap();
            t.and_hms_opt(2, 0, 0).unwrap().and_utc().timestamp_millis()
        };
        let mut days = RespondentDays::new();
        // 甲: 8 at a meeting, 1 two days later. 乙 and 丙 (3 and 2 on that later day) share the pool.
        days.insert((Some("甲".into()), Some("qz".into()), bureau_day(at("2026-12-01"))), 8);
        days.insert((Some("甲".into()), Some("qz".into()), bureau_day(at("2026-12-03"))), 1);
        days.insert((Some("乙".into()), Some("qz".into()), bureau_day(at("2026-12-03"))), 3);
        days.insert((Some("丙".into()), Some("qz".into()), bureau_day(at("2026-12-03"))), 2);
        let d = Disclosure::decide_dated(&days, 5);
        assert_eq!(d.row_sent(Some("甲"), Some("qz"), at("2026-12-03")), SentWithin::Hidden, "甲's straggler");
        assert_eq!(d.row_sent(Some("甲"), Some("qz"), at("2026-12-01")), SentWithin::Hidden, "joins it, else 1");
        assert_eq!(d.row_sent(Some("乙"), Some("qz"), at("2026-12-03")).label(), "2026-12-03", "the pool's 5");
        assert_eq!(d.row_sent(Some("乙"), Some("qz"), at("2026-12-09")), SentWithin::Hidden, "never counted");
    }

    #[test]
    fn protected_rows_name_only_shown_groups_and_pool_the_rest() {
        let rows =
            vec![(Some("a".into()), "甲".into(), 7u64), (Some("b".into()), "乙".into(), 2), (None, "无".into(), 3)];
        let t = protect_rows(rows, |c| c == Some("a"), |a, b| *a += b);
        assert_eq!(t, vec![TableRow::Shown("甲".into(), 7), TableRow::Pooled(5)]);
    }

    #[test]
    fn the_notice_names_k_and_the_residual_risk() {
        let n = privacy_notice(7).join("");
        assert!(n.contains("少于 7 人") && n.contains("意见文字本身"));
    }
}
