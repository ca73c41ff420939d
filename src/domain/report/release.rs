//! What leaders are shown, release by release. Leaders' views are taken day after day, and two of them
//! subtract: a unit that grew by one response between two files points at that one response's text. So
//! responses reach leaders in releases, one at each of the bureau's midnights ([`plan`]):
//!
//! - **A unit's new responses go out together, at least k at a time**, under the unit's name.
//! - **A unit that never gathers k** goes, once its first waiting response is [`POOL_AFTER_DAYS`] days
//!   old, into the pool (其他单位（合并）) for good, with every other such unit of the form, when together
//!   they are at least k. From then on its responses go out with the pool's, k at a time. It is never
//!   named afterwards: named later, it would tell which of the pool's rows were its own.
//! - **A unit answering by single-use codes pools only with such units** ([`Before::coded`]): in a pool
//!   with an open link, a leader's own k − 1 responses through that link would go out beside the one coded
//!   response and point at it. Both pools read 其他单位（合并）, each still k at a time.
//! - **A category shows on a unit's rows only if it came k at a time too** ([`uneven_pairs`]): a row that
//!   read 其他类别 yesterday and 社会群众 today would tell which of yesterday's rows it was.
//!
//! Between any two leader views, then, every unit and the pool grew by 0 or at least k responses. The
//! office sees every response at once; only leaders' views (and the public's) wait.

use super::policy::Code;
use std::collections::{BTreeMap, BTreeSet};

/// How long a unit that has never gathered k waiting responses waits before it joins the pool.
pub const POOL_AFTER_DAYS: i64 = 7;

/// The responses of one (form, unit) waiting for a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub count: u64,
    /// When the oldest of them was sent (ms).
    pub oldest_ms: i64,
}

/// Everything a release is decided from.
#[derive(Debug, Clone, Default)]
pub struct Before {
    /// (form, unit) → its waiting responses.
    pub waiting: BTreeMap<(String, Code), Waiting>,
    /// The (form, unit) pairs that already have responses shown under their own name.
    pub named: BTreeSet<(String, Code)>,
    /// The (form, unit) pairs in the pool for good.
    pub pooled: BTreeSet<(String, String)>,
    /// The (form, unit) pairs answering by single-use codes: a link that needs codes, and no open link
    /// that does not. Read at each release, so a unit given an open link later pools with the open ones.
    pub coded: BTreeSet<(String, String)>,
}

/// What a release does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The (form, unit) pairs whose waiting responses all go out now.
    pub release: Vec<(String, Code)>,
    /// The units that join the pool for good now.
    pub newly_pooled: Vec<(String, String)>,
}

/// One pool's units that may go out together, and how many responses they wait with.
type PoolCandidates = (Vec<(String, String)>, u64);

/// Decides the release at `cut_ms` with threshold `k`.
pub fn plan(before: &Before, cut_ms: i64, k: u64) -> Plan {
    let k = k.max(1);
    let pool_after = cut_ms - POOL_AFTER_DAYS * 86_400_000;
    let mut out = Plan::default();
    // Per form, coded units apart: the pool's candidates (pooled units, and units that waited long
    // enough) and their count.
    let mut pool: BTreeMap<(&str, bool), PoolCandidates> = BTreeMap::new();
    for ((form, unit), w) in &before.waiting {
        let pooled = unit.as_ref().is_some_and(|u| before.pooled.contains(&(form.clone(), u.clone())));
        if !pooled && w.count >= k {
            out.release.push((form.clone(), unit.clone()));
            continue;
        }
        let Some(u) = unit else { continue };
        let never_named = !before.named.contains(&(form.clone(), unit.clone()));
        if pooled || (never_named && w.oldest_ms < pool_after) {
            let coded = before.coded.contains(&(form.clone(), u.clone()));
            let entry = pool.entry((form.as_str(), coded)).or_default();
            entry.0.push((form.clone(), u.clone()));
            entry.1 += w.count;
        }
    }
    for (members, _) in pool.into_values().filter(|(_, n)| *n >= k) {
        for m in members {
            out.release.push((m.0.clone(), Some(m.1.clone())));
            if !before.pooled.contains(&m) {
                out.newly_pooled.push(m);
            }
        }
    }
    out.release.sort();
    out
}

/// Respondents per (unit, category, release): how a selection reached leaders.
pub type PairReleases = BTreeMap<(Code, Code, i64), u64>;

/// How one form reached leaders: what its view must keep showing as before.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub releases: PairReleases,
    /// Units in the pool for good: never named, whatever their count.
    pub pooled: BTreeSet<String>,
}

/// The (unit, category) pairs that reached leaders fewer than k at a time in some release: their rows may
/// not show the category (it would tell which earlier rows it was).
pub fn uneven_pairs(releases: &PairReleases, k: u64) -> BTreeSet<(Code, Code)> {
    releases
        .iter()
        .filter(|(_, n)| **n > 0 && **n < k)
        .map(|((unit, category, _), _)| (unit.clone(), category.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::policy::{Disclosure, RespondentDays};
    use proptest::prelude::*;

    const DAY: i64 = 86_400_000;

    fn unit(u: &str) -> Code {
        Some(u.to_owned())
    }

    fn waiting(rows: &[(&str, u64, i64)]) -> BTreeMap<(String, Code), Waiting> {
        rows.iter()
            .map(|(u, n, day)| (("f".to_owned(), unit(u)), Waiting { count: *n, oldest_ms: day * DAY }))
            .collect()
    }

    #[test]
    fn a_unit_goes_out_under_its_name_only_with_k_waiting_responses() {
        let before = Before { waiting: waiting(&[("a", 4, 9), ("b", 5, 9)]), ..Before::default() };
        assert_eq!(plan(&before, 10 * DAY, 5).release, vec![("f".into(), unit("b"))]);
    }

    #[test]
    fn units_that_never_gather_k_join_the_pool_after_a_week_when_together_they_have_k() {
        let mut before = Before { waiting: waiting(&[("a", 2, 1), ("b", 2, 2), ("c", 1, 9)]), ..Before::default() };
        assert_eq!(plan(&before, 10 * DAY, 5), Plan::default(), "a and b are old enough, but only four");
        before.waiting = waiting(&[("a", 2, 1), ("b", 2, 2), ("c", 1, 2)]);
        let p = plan(&before, 10 * DAY, 5);
        assert_eq!(p.release.len(), 3);
        assert_eq!(p.newly_pooled.len(), 3);
        // A unit already named keeps waiting for k of its own.
        before.named.insert(("f".into(), unit("c")));
        assert_eq!(plan(&before, 10 * DAY, 5), Plan::default());
    }

    #[test]
    fn units_answering_by_codes_pool_only_with_each_other() {
        let mut before = Before {
            waiting: waiting(&[("open", 4, 1), ("coded", 1, 1), ("coded2", 3, 2)]),
            coded: [("f".to_owned(), "coded".to_owned()), ("f".to_owned(), "coded2".to_owned())].into(),
            ..Before::default()
        };
        // Five together, but the one coded response would go out beside four that anyone could have sent.
        assert_eq!(plan(&before, 10 * DAY, 5), Plan::default());
        before.waiting = waiting(&[("open", 5, 1), ("coded", 1, 1), ("coded2", 4, 2)]);
        let p = plan(&before, 10 * DAY, 5);
        assert_eq!(
            p.release,
            vec![("f".into(), unit("coded")), ("f".into(), unit("coded2")), ("f".into(), unit("open"))]
        );
        assert_eq!(p.newly_pooled, vec![("f".into(), "coded".into()), ("f".into(), "coded2".into())], "open: named");
    }

    #[test]
    fn a_pooled_unit_goes_out_with_the_pool_even_with_k_of_its_own() {
        let before = Before {
            waiting: waiting(&[("a", 6, 9)]),
            pooled: [("f".to_owned(), "a".to_owned())].into(),
            ..Before::default()
        };
        assert_eq!(plan(&before, 10 * DAY, 5), Plan { release: vec![("f".into(), unit("a"))], newly_pooled: vec![] });
    }

    #[test]
    fn a_pair_that_came_one_at_a_time_once_is_uneven() {
        let releases: PairReleases =
            [((unit("a"), unit("x"), 1), 5), ((unit("a"), unit("x"), 2), 1), ((unit("a"), unit("y"), 1), 6)].into();
        assert_eq!(uneven_pairs(&releases, 5), [(unit("a"), unit("x"))].into());
    }

    proptest! {
        /// Responses of five units arrive at random over a month and releases follow the plan: any two
        /// releases' views differ, per label a leader reads (a unit's name, or the pool), by 0 or at least k;
        /// and the policy shows each unit as the releases did (named units named, pooled ones pooled).
        #[test]
        fn two_leader_views_never_differ_by_fewer_than_k_under_one_label(
            days in proptest::collection::vec(proptest::collection::vec(0usize..5, 0..6), 1..30),
            k in 2u64..7,
            coded in proptest::collection::btree_set(0usize..5, 0..5),
        ) {
            let mut before = Before {
                coded: coded.iter().map(|u| ("f".to_owned(), u.to_string())).collect(),
                ..Before::default()
            };
            let mut sent: Vec<Vec<i64>> = vec![Vec::new(); 5];
            let mut views: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new()];
            let mut shown = [0u64; 5];
            for (d, arrivals) in days.iter().enumerate() {
                for &u in arrivals {
                    sent[u].push(d as i64 * DAY + 1);
                }
                before.waiting = (0..5)
                    .filter(|u| !sent[*u].is_empty())
                    .map(|u| {
                        (("f".to_owned(), Some(u.to_string())), Waiting { count: sent[u].len() as u64, oldest_ms: sent[u][0] })
                    })
                    .collect();
                let p = plan(&before, (d as i64 + 1) * DAY, k);
                before.pooled.extend(p.newly_pooled);
                let mut coded_in_pool = 0;
                for (_, u) in &p.release {
                    let i: usize = u.as_ref().unwrap().parse().unwrap();
                    if coded.contains(&i) && before.pooled.contains(&("f".to_owned(), i.to_string())) {
                        coded_in_pool += sent[i].len() as u64;
                    }
                    shown[i] += sent[i].len() as u64;
                    sent[i].clear();
                }
                // Coded responses leave the pool k at a time by themselves, whatever the open units add.
                prop_assert!(coded_in_pool == 0 || coded_in_pool >= k, "{coded_in_pool} coded responses pooled");
                for (f, u) in &p.release {
                    if !before.pooled.contains(&(f.clone(), u.clone().unwrap())) {
                        before.named.insert((f.clone(), u.clone()));
                    }
                }
                let mut view = BTreeMap::new();
                for (i, n) in shown.iter().enumerate().filter(|(_, n)| **n > 0) {
                    let pooled = before.pooled.contains(&("f".to_owned(), i.to_string()));
                    prop_assert!(!(pooled && before.named.contains(&("f".to_owned(), Some(i.to_string())))));
                    *view.entry(if pooled { "pool".to_owned() } else { i.to_string() }).or_default() += n;
                }
                let respondents: RespondentDays =
                    shown.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, n)| ((unit(&i.to_string()), None, 0), *n)).collect();
                let history = History { pooled: before.pooled.iter().map(|(_, u)| u.clone()).collect(), ..History::default() };
                let d = Disclosure::decide_released(&respondents, &history, k);
                for (label, _) in view.iter().filter(|(l, _)| *l != "pool") {
                    prop_assert!(d.shows_unit(Some(label)), "unit {label}, released under its name, is not shown (k = {k})");
                }
                views.push(view);
            }
            for (i, a) in views.iter().enumerate() {
                for b in &views[i + 1..] {
                    for (label, after) in b {
                        let grew = after - a.get(label).copied().unwrap_or(0);
                        prop_assert!(grew == 0 || grew >= k, "{label} grew by {grew} between two views (k = {k})");
                    }
                }
            }
        }
    }
}
