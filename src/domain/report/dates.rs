//! How precisely a leader sees when a row was sent. A row's day beside its unit and category points at a
//! person as surely as a name when that unit sent one response that day (the one who missed the meeting
//! and filled in later). So each row group (shown unit or the pool, shown category or 其他类别) gets its
//! dates generalised: the day when k of the group's respondents sent that day, else the week, else the
//! month, else no date; every date a leader reads is shared by at least k respondents of the row's group.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta};
use std::collections::BTreeMap;

/// A day as a number: days since 1970-01-01 in the bureau's time.
pub type DayNo = i64;

/// The bureau's day of a stored timestamp (ms).
pub fn bureau_day(ms: i64) -> DayNo {
    (ms + crate::domain::form::check::bureau_offset_ms()).div_euclid(86_400_000)
}

fn date_of(day: DayNo) -> NaiveDate {
    let epoch = DateTime::UNIX_EPOCH.date_naive();
    TimeDelta::try_days(day).and_then(|d| epoch.checked_add_signed(d)).unwrap_or(NaiveDate::MIN)
}

/// When a row was sent, as precisely as a leader may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SentWithin {
    Day(DayNo),
    /// The week (Monday to Sunday) starting on this day.
    Week(DayNo),
    /// The month starting on this day.
    Month(DayNo),
    /// No date: too few of the group sent in any period around it.
    Hidden,
}

impl SentWithin {
    /// What the row's date cell says.
    pub fn label(self) -> String {
        match self {
            SentWithin::Day(d) => date_of(d).to_string(),
            SentWithin::Week(d) => format!("{} 至 {}", date_of(d), date_of(d + 6)),
            SentWithin::Month(d) => date_of(d).format("%Y年%m月").to_string(),
            SentWithin::Hidden => "日期不显示".to_owned(),
        }
    }

    /// Rows are listed by this: periods by their first day (a day before the week it starts), undated last.
    pub fn order(self) -> i64 {
        match self {
            SentWithin::Day(d) => d * 4,
            SentWithin::Week(d) => d * 4 + 1,
            SentWithin::Month(d) => d * 4 + 2,
            SentWithin::Hidden => i64::MAX,
        }
    }

    fn week_of(day: DayNo) -> SentWithin {
        // 1970-01-01 was a Thursday: Monday is three days before a multiple of seven.
        SentWithin::Week((day + 3).div_euclid(7) * 7 - 3)
    }

    fn month_of(day: DayNo) -> SentWithin {
        let d = date_of(day);
        SentWithin::Month(day - i64::from(d.day0()))
    }
}

/// The date each day of one row group shows, from the group's respondents per day. Days with k go by day;
/// the rest of a week by the week when together they are k, the rest of a month likewise; what remains
/// has no date. When what remains is 1 to k − 1, the smallest dated periods lose their dates too, until it
/// has k (otherwise "the undated rows" would be those few). A group under k shows no dates at all.
pub fn dates_of_group(days: &BTreeMap<DayNo, u64>, k: u64) -> BTreeMap<DayNo, SentWithin> {
    let mut shown: BTreeMap<DayNo, SentWithin> = days.keys().map(|d| (*d, SentWithin::Hidden)).collect();
    let levels: [fn(DayNo) -> SentWithin; 3] = [SentWithin::Day, SentWithin::week_of, SentWithin::month_of];
    for level in levels {
        let mut periods: BTreeMap<SentWithin, u64> = BTreeMap::new();
        for (d, n) in days.iter().filter(|(d, _)| shown[*d] == SentWithin::Hidden) {
            *periods.entry(level(*d)).or_default() += n;
        }
        for (d, label) in shown.iter_mut().filter(|(_, s)| **s == SentWithin::Hidden) {
            if periods[&level(*d)] >= k {
                *label = level(*d);
            }
        }
    }
    let mut sizes: BTreeMap<SentWithin, u64> = BTreeMap::new();
    for (d, n) in days {
        *sizes.entry(shown[d]).or_default() += n;
    }
    let mut undated = sizes.remove(&SentWithin::Hidden).unwrap_or(0);
    let mut by_size: Vec<(u64, SentWithin)> = sizes.into_iter().map(|(s, n)| (n, s)).collect();
    by_size.sort();
    for (n, period) in by_size {
        if undated == 0 || undated >= k {
            break;
        }
        shown.values_mut().filter(|s| **s == period).for_each(|s| *s = SentWithin::Hidden);
        undated += n;
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> DayNo {
        (s.parse::<NaiveDate>().unwrap() - DateTime::UNIX_EPOCH.date_naive()).num_days()
    }

    fn group(list: &[(&str, u64)]) -> BTreeMap<DayNo, u64> {
        list.iter().map(|(d, n)| (day(d), *n)).collect()
    }

    #[test]
    fn a_day_with_k_respondents_shows_its_day_and_a_lone_later_day_does_not() {
        // Six at the meeting on Tuesday 1 December, five more over two days of the next week.
        let g = group(&[("2026-12-01", 6), ("2026-12-08", 2), ("2026-12-09", 3)]);
        let s = dates_of_group(&g, 5);
        assert_eq!(s[&day("2026-12-01")], SentWithin::Day(day("2026-12-01")));
        assert_eq!(s[&day("2026-12-01")].label(), "2026-12-01");
        assert_eq!(s[&day("2026-12-08")], SentWithin::Week(day("2026-12-07")), "2 + 3 in the week of the 7th");
        assert_eq!(s[&day("2026-12-09")].label(), "2026-12-07 至 2026-12-13");

        // One who missed the meeting fills in on Thursday: alone in its week and in the rest of December,
        // so undated; an undated set of one would name it, so the smallest dated period joins it.
        let g = group(&[("2026-12-01", 6), ("2026-12-03", 1), ("2026-12-08", 2), ("2026-12-09", 3)]);
        let s = dates_of_group(&g, 5);
        assert_eq!(s[&day("2026-12-03")], SentWithin::Hidden);
        assert_eq!(s[&day("2026-12-08")], SentWithin::Hidden, "the week (5) joined the undated rows");
        assert_eq!(s[&day("2026-12-09")], SentWithin::Hidden);
        assert_eq!(s[&day("2026-12-01")], SentWithin::Day(day("2026-12-01")), "the meeting keeps its day");
    }

    #[test]
    fn the_rest_of_a_month_shows_the_month_when_it_has_k() {
        let g = group(&[("2026-11-02", 2), ("2026-11-11", 2), ("2026-11-25", 1), ("2026-12-01", 9)]);
        let s = dates_of_group(&g, 5);
        assert_eq!(s[&day("2026-11-11")].label(), "2026年11月");
        assert_eq!(s[&day("2026-11-02")], s[&day("2026-11-25")]);
        assert_eq!(s[&day("2026-12-01")].label(), "2026-12-01");
    }

    #[test]
    fn weeks_start_on_monday_across_a_new_year() {
        assert_eq!(SentWithin::week_of(day("2027-01-01")), SentWithin::Week(day("2026-12-28")));
        assert_eq!(SentWithin::week_of(day("2026-12-28")), SentWithin::Week(day("2026-12-28")));
        assert_eq!(SentWithin::week_of(day("2026-12-27")), SentWithin::Week(day("2026-12-21")));
        assert_eq!(SentWithin::month_of(day("2026-02-28")).label(), "2026年02月");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        /// Whatever the days, each date a leader reads (undated included) is shared by k or more respondents
        /// of the group, or by none; and a day is shown only when k sent that day.
        #[test]
        fn every_date_shown_is_shared_by_at_least_k(
            counts in proptest::collection::btree_map(20_400i64..20_500, 1u64..7, 1..30),
            k in 2u64..7,
        ) {
            let total: u64 = counts.values().sum();
            prop_assume!(total >= k);
            let s = dates_of_group(&counts, k);
            let mut sizes: BTreeMap<SentWithin, u64> = BTreeMap::new();
            for (d, n) in &counts {
                *sizes.entry(s[d]).or_default() += n;
                if let SentWithin::Day(x) = s[d] {
                    prop_assert!(x == *d && *n >= k);
                }
            }
            for (period, n) in sizes {
                prop_assert!(n >= k, "{} holds {} of k = {}", period.label(), n, k);
            }
        }
    }
}
