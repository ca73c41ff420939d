//! Release in batches. A count that grows one by one tells someone who reads it every day who was just
//! added; figures shown to leaders and the public grow only in steps of k or more.

use std::collections::BTreeMap;

/// The last day of the last closed batch, if one has closed: walking the days in order, a batch closes at
/// the end of the first day on which `k` or more are waiting. What waits after it (at most k − 1) is not
/// shown yet; it joins the next batch.
pub fn released_through<D: Ord + Copy>(per_day: &BTreeMap<D, u64>, k: u64) -> Option<D> {
    let mut waiting = 0;
    let mut through = None;
    for (&day, &n) in per_day {
        waiting += n;
        if waiting >= k.max(1) {
            through = Some(day);
            waiting = 0;
        }
    }
    through
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
        assert_eq!(released_through(&days(&[5, 0, 1]), 5), Some(0));
        assert_eq!(released_through(&days(&[5, 0, 1, 0, 2]), 5), Some(0));
        assert_eq!(released_through(&days(&[5, 0, 1, 0, 2, 2]), 5), Some(5));
        assert_eq!(released_through(&days(&[4]), 5), None);
        assert_eq!(released_through(&days(&[]), 5), None);
    }

    proptest! {
        /// Between any two days, what is shown grows by nothing or by at least k.
        #[test]
        fn what_is_shown_grows_only_in_steps_of_k(counts in prop::collection::vec(0u64..4, 0..40), k in 1u64..7) {
            let shown = |upto: usize| {
                let seen = days(&counts[..upto]);
                released_through(&seen, k).map_or(0, |d| seen.range(..=d).map(|(_, n)| n).sum::<u64>())
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
