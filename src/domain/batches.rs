//! Release in batches. A count that grows one by one tells someone who reads it every day who was just
//! added; figures shown to leaders and the public grow only in steps of k or more.

use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The last day of the last closed batch, if one has closed: walking the days in order, a batch closes at
/// the end of the first day on which `k_of(day)` or more are waiting. What waits after it (fewer) is not
/// shown yet; it joins the next batch.
pub fn released_through<D: Ord + Copy>(per_day: &BTreeMap<D, u64>, k_of: impl Fn(D) -> u64) -> Option<D> {
    let mut waiting = 0;
    let mut through = None;
    for (&day, &n) in per_day {
        waiting += n;
        if waiting >= k_of(day).max(1) {
            through = Some(day);
            waiting = 0;
        }
    }
    through
}

/// The batch size each day was released under: the k of the first release to leaders that covered it
/// (stored with the release, never below an earlier one's), and `now` for days none covers yet. Batches
/// then close where they closed, whatever k a server starts with later: re-cut under a new k, a tally
/// grew by one person's rating overnight.
#[derive(Debug, Clone, Default)]
pub struct BatchSizes {
    /// (the last day a release covered, its k), oldest first.
    covered: Vec<(NaiveDate, u64)>,
    /// The batch size of releases from now on: the setting, or a larger k used before.
    pub now: u64,
}

impl BatchSizes {
    /// From the releases made, as (last day covered, k) in any order, and the server's k. A release with
    /// k 0 (made before releases recorded their k) tells nothing: its days take a later release's k.
    pub fn new(releases: impl IntoIterator<Item = (NaiveDate, u64)>, k: u64) -> BatchSizes {
        let mut covered: Vec<(NaiveDate, u64)> = releases.into_iter().filter(|(_, k)| *k > 0).collect();
        covered.sort_unstable();
        let now = covered.iter().map(|(_, k)| *k).fold(k, u64::max);
        BatchSizes { covered, now }
    }

    /// The batch size `day` was, or will be, released under.
    pub fn of_day(&self, day: NaiveDate) -> u64 {
        self.covered.iter().find(|(last, _)| *last >= day).map_or(self.now, |(_, k)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn days(counts: &[u64]) -> BTreeMap<u32, u64> {
        counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(d, n)| (u32::try_from(d).unwrap(), *n)).collect()
    }

    #[test]
    fn a_late_one_waits_until_k_more_have_come() {
        // Five at the meeting on day 0, one late on day 2, four more on day 5.
        assert_eq!(released_through(&days(&[5, 0, 1]), |_| 5), Some(0));
        assert_eq!(released_through(&days(&[5, 0, 1, 0, 2]), |_| 5), Some(0));
        assert_eq!(released_through(&days(&[5, 0, 1, 0, 2, 2]), |_| 5), Some(5));
        assert_eq!(released_through(&days(&[4]), |_| 5), None);
        assert_eq!(released_through(&days(&[]), |_| 5), None);
    }

    #[test]
    fn a_k_changed_later_re_cuts_no_batch_already_closed() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        // Ratings: three on the 15th, two on the 16th, one on the 17th; releases covered the 15th and
        // 16th at k = 5, then the server restarted with another k.
        let per_day: BTreeMap<NaiveDate, u64> = [(day(15), 3), (day(16), 2), (day(17), 1)].into_iter().collect();
        for k in [3, 6] {
            let sizes = BatchSizes::new([(day(15), 5), (day(16), 5), (day(17), k.max(5))], k);
            assert_eq!(released_through(&per_day, |d| sizes.of_day(d)), Some(day(16)), "k = {k}");
            let cut_afresh = released_through(&per_day, |_| k);
            assert_ne!(cut_afresh, Some(day(16)), "k = {k}: re-cut, the 17th's one rating would show");
        }
        assert_eq!(BatchSizes::new([(day(15), 5)], 3).now, 5, "k never drops below one used before");
        assert_eq!(BatchSizes::new([(day(15), 5)], 7).of_day(day(20)), 7);
        let unrecorded = BatchSizes::new([(day(15), 0), (day(16), 5)], 5);
        assert_eq!(unrecorded.of_day(day(15)), 5, "a release that did not record its k is not a batch of 1");
    }

    proptest! {
        /// Between any two days, what is shown grows by nothing or by at least k.
        #[test]
        fn what_is_shown_grows_only_in_steps_of_k(counts in prop::collection::vec(0u64..4, 0..40), k in 1u64..7) {
            let shown = |upto: usize| {
                let seen = days(&counts[..upto]);
                released_through(&seen, |_| k).map_or(0, |d| seen.range(..=d).map(|(_, n)| n).sum::<u64>())
            };
            for a in 0..=counts.len() {
                for b in a..=counts.len() {
                    let step = shown(b) - shown(a);
                    prop_assert!(step == 0 || step >= k, "{step} between day {a} and {b}");
                }
            }
            let all: u64 = counts.iter().sum();
            prop_assert!(all - shown(counts.len()) < k, "at most k - 1 wait");
        }
    }
}
