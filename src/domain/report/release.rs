//! What leaders are shown, release by release. Leaders' views are taken day after day, and two of them
//! subtract: a unit that grew by one response between two files points at that one response's text. So
//! responses reach leaders in releases, one at each of the bureau's midnights ([`plan`]):
//!
//! - **A unit's new responses go out together, at least k at a time**, under the unit's name.
//! - **A unit that never gathers k** goes, once its first waiting response is [`POOL_AFTER_DAYS`] days
//!   old, into the pool (其他单位（合并）) for good, with every other such unit of the form, when together
//!   they are at least k. From then on its responses go out with the pool's, k at a time. It is never
//!   named afterwards: named later, it would tell which of the pool's rows were its own.
//! - **Responses sent with a single-use code go out only among such responses**, k at a time, under the
//!   unit's name or in a pool of their own: beside open responses, a leader's own k − 1 sent through any
//!   open link (before the codes, beside them, after they were dropped, or another pooled unit's) would go
//!   out with the one coded response and point at it. Both pools read 其他单位（合并）.
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

/// The responses of one unit of one form that go out together: those sent with a single-use code
/// (`true`) or those sent without.
pub type Part = (String, Code, bool);

/// Everything a release is decided from.
#[derive(Debug, Clone, Default)]
pub struct Before {
    /// Each part's waiting responses.
    pub waiting: BTreeMap<Part, Waiting>,
    /// The (form, unit) pairs that already have responses shown under their own name.
    pub named: BTreeSet<(String, Code)>,
    /// The (form, unit) pairs in the pool for good.
    pub pooled: BTreeSet<(String, String)>,
}

/// What a release does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The parts whose waiting responses all go out now.
    pub release: Vec<Part>,
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
    let is_pooled =
        |form: &String, unit: &Code| unit.as_ref().is_some_and(|u| before.pooled.contains(&(form.clone(), u.clone())));
    // Parts with k of their own go out under their unit's name; that unit then joins no pool now.
    let mut named_now = BTreeSet::new();
    for ((form, unit, coded), w) in &before.waiting {
        if !is_pooled(form, unit) && w.count >= k {
            out.release.push((form.clone(), unit.clone(), *coded));
            named_now.insert((form.clone(), unit.clone()));
        }
    }
    // Per form, coded responses apart: the pool's candidates (pooled units, and units that waited long
    // enough) and their count.
    let mut pool: BTreeMap<(&str, bool), PoolCandidates> = BTreeMap::new();
    for ((form, unit, coded), w) in &before.waiting {
        let Some(u) = unit else { continue };
        let named =
            before.named.contains(&(form.clone(), unit.clone())) || named_now.contains(&(form.clone(), unit.clone()));
        if is_pooled(form, unit) || (!named && w.oldest_ms < pool_after) {
            let entry = pool.entry((form.as_str(), *coded)).or_default();
            entry.0.push((form.clone(), u.clone()));
            entry.1 += w.count;
        }
    }
    for ((_, coded), (members, _)) in pool.into_iter().filter(|(_, (_, n))| *n >= k) {
        for m in members {
            out.release.push((m.0.clone(), Some(m.1.clone()), coded));
            if !before.pooled.contains(&m) && !out.newly_pooled.contains(&m) {
                out.newly_pooled.push(m);
            }
        }
    }
    out.release.sort();
    out.newly_pooled.sort();
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
    /// The smallest k a release used (0: none recorded one).
    pub first_k: u64,
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

    /// Open responses waiting: (unit, count, day of the oldest).
    fn waiting(rows: &[(&str, u64, i64)]) -> BTreeMap<Part, Waiting> {
        parts(&rows.iter().map(|&(u, n, day)| (u, false, n, day)).collect::<Vec<_>>())
    }

    /// Responses waiting: (unit, sent with a code, count, day of the oldest).
    fn parts(rows: &[(&str, bool, u64, i64)]) -> BTreeMap<Part, Waiting> {
        rows.iter()
            .map(|&(u, coded, n, day)| (("f".to_owned(), unit(u), coded), Waiting { count: n, oldest_ms: day * DAY }))
            .collect()
    }

    #[test]
    fn a_unit_goes_out_under_its_name_only_with_k_waiting_responses() {
        let before = Before { waiting: waiting(&[("a", 4, 9), ("b", 5, 9)]), ..Before::default() };
        assert_eq!(plan(&before, 10 * DAY, 5).release, vec![("f".into(), unit("b"), false)]);
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
    fn coded_responses_go_out_only_among_coded_responses() {
        // Four a leader sent through open links (another unit's, or the coded unit's own before its codes)
        // beside one coded response: nothing goes out, named or pooled.
        let mut before =
            Before { waiting: parts(&[("open", false, 4, 1), ("coded", true, 1, 1)]), ..Before::default() };
        assert_eq!(plan(&before, 10 * DAY, 5), Plan::default());
        before.waiting = parts(&[("coded", false, 4, 1), ("coded", true, 1, 1)]);
        assert_eq!(plan(&before, 10 * DAY, 5), Plan::default());
        // Five coded from two units go out in the coded pool; the open four keep waiting.
        before.waiting = parts(&[("coded", false, 4, 1), ("coded", true, 1, 1), ("coded2", true, 4, 2)]);
        let p = plan(&before, 10 * DAY, 5);
        assert_eq!(p.release, vec![("f".into(), unit("coded"), true), ("f".into(), unit("coded2"), true)]);
        assert_eq!(p.newly_pooled, vec![("f".into(), "coded".into()), ("f".into(), "coded2".into())]);
        // A unit's five coded go out under its name, its open four not with them.
        before.waiting = parts(&[("coded", false, 4, 9), ("coded", true, 5, 9)]);
        assert_eq!(plan(&before, 10 * DAY, 5).release, vec![("f".into(), unit("coded"), true)]);
    }

    #[test]
    fn a_unit_named_now_joins_no_pool_with_its_other_part() {
        let before =
            Before { waiting: parts(&[("a", false, 5, 1), ("a", true, 2, 1), ("b", true, 3, 1)]), ..Before::default() };
        let p = plan(&before, 10 * DAY, 5);
        assert_eq!(p.release, vec![("f".into(), unit("a"), false)], "a is named; b's three wait");
        assert!(p.newly_pooled.is_empty());
    }

    #[test]
    fn a_pooled_unit_goes_out_with_the_pool_even_with_k_of_its_own() {
        let before = Before {
            waiting: waiting(&[("a", 6, 9)]),
            pooled: [("f".to_owned(), "a".to_owned())].into(),
            ..Before::default()
        };
        assert_eq!(
            plan(&before, 10 * DAY, 5),
            Plan { release: vec![("f".into(), unit("a"), false)], newly_pooled: vec![] }
        );
    }

    #[test]
    fn a_pair_that_came_one_at_a_time_once_is_uneven() {
        let releases: PairReleases =
            [((unit("a"), unit("x"), 1), 5), ((unit("a"), unit("x"), 2), 1), ((unit("a"), unit("y"), 1), 6)].into();
        assert_eq!(uneven_pairs(&releases, 5), [(unit("a"), unit("x"))].into());
    }

    proptest! {
        /// Responses of five units arrive at random over a month, some with a code, and releases follow
        /// the plan: any two releases' views differ, per label a leader reads (a unit's name, or the pool),
        /// by 0 or at least k, and so do the coded responses alone; and the policy shows each unit as the
        /// releases did (named units named, pooled ones pooled).
        #[test]
        fn two_leader_views_never_differ_by_fewer_than_k_under_one_label(
            days in proptest::collection::vec(proptest::collection::vec((0usize..5, any::<bool>()), 0..6), 1..30),
            k in 2u64..7,
        ) {
            let mut before = Before::default();
            // Per unit, per open (0) or coded (1): when each waiting response was sent.
            let mut sent: Vec<[Vec<i64>; 2]> = vec![Default::default(); 5];
            let mut views: Vec<BTreeMap<String, [u64; 2]>> = vec![BTreeMap::new()];
            let mut shown = [[0u64; 2]; 5];
            for (d, arrivals) in days.iter().enumerate() {
                for &(u, coded) in arrivals {
                    sent[u][usize::from(coded)].push(d as i64 * DAY + 1);
                }
                before.waiting = (0..5)
                    .flat_map(|u| [(u, false), (u, true)])
                    .filter(|&(u, c)| !sent[u][usize::from(c)].is_empty())
                    .map(|(u, c)| {
                        let times = &sent[u][usize::from(c)];
                        (("f".to_owned(), Some(u.to_string()), c), Waiting { count: times.len() as u64, oldest_ms: times[0] })
                    })
                    .collect();
                let p = plan(&before, (d as i64 + 1) * DAY, k);
                before.pooled.extend(p.newly_pooled);
                for (_, u, c) in &p.release {
                    let i: usize = u.as_ref().unwrap().parse().unwrap();
                    shown[i][usize::from(*c)] += sent[i][usize::from(*c)].len() as u64;
                    sent[i][usize::from(*c)].clear();
                }
                for (f, u, _) in &p.release {
                    if !before.pooled.contains(&(f.clone(), u.clone().unwrap())) {
                        before.named.insert((f.clone(), u.clone()));
                    }
                }
                let mut view: BTreeMap<String, [u64; 2]> = BTreeMap::new();
                for (i, n) in shown.iter().enumerate().filter(|(_, n)| n[0] + n[1] > 0) {
                    let pooled = before.pooled.contains(&("f".to_owned(), i.to_string()));
                    prop_assert!(!(pooled && before.named.contains(&("f".to_owned(), Some(i.to_string())))));
                    let label = view.entry(if pooled { "pool".to_owned() } else { i.to_string() }).or_default();
                    label[0] += n[0];
                    label[1] += n[1];
                }
                let respondents: RespondentDays = shown
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n[0] + n[1] > 0)
                    .map(|(i, n)| ((unit(&i.to_string()), None, 0), n[0] + n[1]))
                    .collect();
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
                        let before = a.get(label).copied().unwrap_or_default();
                        let (grew, coded) = (after[0] + after[1] - before[0] - before[1], after[1] - before[1]);
                        prop_assert!(grew == 0 || grew >= k, "{label} grew by {grew} between two views (k = {k})");
                        // Coded responses come k at a time by themselves, whatever open responses came beside.
                        prop_assert!(coded == 0 || coded >= k, "{label} grew by {coded} coded responses (k = {k})");
                    }
                }
            }
        }
    }
}
