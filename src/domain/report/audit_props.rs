//! The audit run over generated tables: whatever the counts, nothing a leader's outputs publish together
//! (both cross-tables, the pooled rows, the totals, the rows that can be counted by unit and category)
//! determines a hidden cell, a hidden unit's total or a hidden category's total.

use super::audit::{Grid, Published, determines_sum, recoverable};
use super::policy::{Code, Disclosure};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Columns of a cross-table: respondents, eight areas, 标签合计, 意见条数.
const COLS: usize = 11;

/// The unit × area table as a leader reads it: shown rows, the unnamed pooled row, the 合计 row, and in
/// every row 标签合计 = the eight areas.
fn cross_table(shown: &[bool]) -> Published {
    let g = Grid { rows: shown.len(), cols: COLS };
    let mut p = Published::new(g.rows * g.cols);
    for (r, s) in shown.iter().enumerate() {
        if *s {
            g.row(r).for_each(|c| p.show(c));
        }
        p.relation([(g.cell(r, 9), 1)].into_iter().chain((1..9).map(|a| (g.cell(r, a), -1))));
    }
    for c in 0..COLS {
        p.sum(g.col(c));
        p.sum((0..g.rows).filter(|r| !shown[*r]).map(|r| g.cell(r, c)));
    }
    p
}

/// Respondents per (unit, category) as every leader output publishes them together.
fn unit_by_category(pairs: &BTreeMap<(Code, Code), u64>, d: &Disclosure) -> (Published, Grid, Vec<Code>, Vec<Code>) {
    let units: Vec<Code> = d.units_count.keys().cloned().collect();
    let cats: Vec<Code> = d.categories_count.keys().cloned().collect();
    let g = Grid { rows: units.len(), cols: cats.len() };
    let mut p = Published::new(g.rows * g.cols);
    let shown_u: Vec<bool> = units.iter().map(|u| d.shows_unit(u.as_deref())).collect();
    let shown_c: Vec<bool> = cats.iter().map(|c| d.shows_category(c.as_deref())).collect();
    // Unit table: shown rows, the pool, the total. Category table likewise.
    for (r, s) in shown_u.iter().enumerate() {
        if *s {
            p.sum(g.row(r));
        }
    }
    p.sum((0..g.rows).filter(|r| !shown_u[*r]).flat_map(|r| g.row(r)));
    p.sum(0..g.rows * g.cols);
    for (c, s) in shown_c.iter().enumerate() {
        if *s {
            p.sum(g.col(c));
        }
    }
    p.sum((0..g.cols).filter(|c| !shown_c[*c]).flat_map(|c| g.col(c)));
    // Rows: per shown unit and per pool, how many rows show each category.
    for (ci, c) in cats.iter().enumerate() {
        for (r, u) in units.iter().enumerate().filter(|(r, _)| shown_u[*r]) {
            if d.row_shows_category(u.as_deref(), c.as_deref()) {
                p.show(g.cell(r, ci));
            }
        }
        let pooled: Vec<usize> = (0..g.rows).filter(|r| !shown_u[*r]).collect();
        if let Some(first) = pooled.first()
            && d.row_shows_category(units[*first].as_deref(), c.as_deref())
        {
            p.sum(pooled.iter().map(|r| g.cell(*r, ci)));
        }
    }
    let _ = pairs;
    (p, g, units, cats)
}

fn pairs_strategy() -> impl Strategy<Value = BTreeMap<(Code, Code), u64>> {
    prop::collection::vec((0u8..10, 0u8..5, 1u64..12), 1..30).prop_map(|v| {
        let mut m = BTreeMap::new();
        for (u, c, n) in v {
            let u = (u < 9).then(|| format!("u{u}"));
            let c = (c < 4).then(|| format!("c{c}"));
            *m.entry((u, c)).or_insert(0) += n;
        }
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1200))]

    #[test]
    fn no_generated_table_lets_a_leader_solve_a_hidden_cell(pairs in pairs_strategy(), k in 2u64..8) {
        let d = Disclosure::decide(&pairs, k);
        if d.too_small {
            return Ok(());
        }
        let shown: Vec<bool> = d.units_count.keys().map(|u| d.shows_unit(u.as_deref())).collect();
        let table = cross_table(&shown);
        prop_assert!(recoverable(&table).is_empty(), "unit table {shown:?}");
        let (p, g, units, cats) = unit_by_category(&pairs, &d);
        prop_assert!(recoverable(&p).is_empty(), "a unit × category cell is solvable: {pairs:?}");
        for (r, u) in units.iter().enumerate() {
            if !d.shows_unit(u.as_deref()) {
                prop_assert!(!determines_sum(&p, &g.row(r).collect::<Vec<_>>()), "unit {u:?}'s total: {pairs:?}");
            }
        }
        for (c, cat) in cats.iter().enumerate() {
            if !d.shows_category(cat.as_deref()) {
                prop_assert!(!determines_sum(&p, &g.col(c).collect::<Vec<_>>()), "category {cat:?}: {pairs:?}");
            }
        }
        // Every shown group and the pool have k respondents.
        let pool: u64 = d.units_count.iter().filter(|(u, _)| !d.shows_unit(u.as_deref())).map(|(_, n)| n).sum();
        prop_assert!(pool == 0 || pool >= k);
        prop_assert!(d.units_count.iter().all(|(u, n)| !d.shows_unit(u.as_deref()) || *n >= k));
    }
}

#[test]
fn the_audit_finds_the_cell_a_pool_of_one_unit_leaks() {
    // The rule before this policy could pool a single unit whose count the total then gives away.
    let table = cross_table(&[true, true, false]);
    let leaked = recoverable(&table);
    assert!(leaked.contains(&(2 * COLS)), "the lone pooled unit's respondents: {leaked:?}");
}
