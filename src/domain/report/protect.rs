//! Small-cell protection for the leaders' cross-tables. A unit or category with fewer than k respondents
//! is shown as "<k" and its numbers go into one pooled row, so the column totals still equal the real
//! totals and every number shown comes from at least k respondents. When the pooled rows together still
//! have fewer than k respondents, the smallest shown rows are moved into the pool until it has k (they
//! read "已并入合并行"); when even everything together has fewer than k, the whole table reads "<k".

use super::CrossRow;

/// Why a row's numbers are not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Fewer than k respondents.
    Small,
    /// Enough respondents, but moved into the pool so the pool reaches k.
    Merged,
}

/// One row of a protected table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedRow {
    pub label: String,
    /// `Ok(numbers)` when shown; `Err(why)` when hidden.
    pub cells: Result<CrossRow, Hidden>,
}

/// A cross-table ready for leaders.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtectedTable {
    pub k: u64,
    pub rows: Vec<ProtectedRow>,
    /// The pooled numbers of the hidden rows and how many rows were pooled; `None` when nothing is hidden.
    pub pooled: Option<(usize, CrossRow)>,
    /// Every row together (equals the sum of shown rows and the pool).
    pub total: CrossRow,
    /// Everything together has fewer than k respondents: nothing but "<k" is shown.
    pub all_hidden: bool,
}

impl ProtectedTable {
    /// The text for a hidden cell: "<5" for k = 5.
    pub fn small_label(&self) -> String {
        format!("<{}", self.k)
    }
}

/// Protects `rows` (label, numbers) with threshold `k`; rows keep their order. `k = 0` or `1` hides nothing.
pub fn protect(rows: Vec<(String, CrossRow)>, k: u64) -> ProtectedTable {
    let mut total = CrossRow::default();
    rows.iter().for_each(|(_, r)| total.add(r));
    let mut hidden: Vec<Option<Hidden>> =
        rows.iter().map(|(_, r)| (r.respondents < k).then_some(Hidden::Small)).collect();
    let pool_n = |h: &[Option<Hidden>]| -> u64 {
        rows.iter().zip(h).filter(|(_, h)| h.is_some()).map(|((_, r), _)| r.respondents).sum()
    };
    if hidden.iter().any(Option::is_some) {
        while pool_n(&hidden) < k {
            let smallest = rows
                .iter()
                .enumerate()
                .filter(|(i, _)| hidden[*i].is_none())
                .min_by_key(|(i, (_, r))| (r.respondents, *i))
                .map(|(i, _)| i);
            match smallest {
                Some(i) => hidden[i] = Some(Hidden::Merged),
                None => break,
            }
        }
    }
    let all_hidden = k > 0 && total.respondents < k && !rows.is_empty();
    let mut pooled: Option<(usize, CrossRow)> = None;
    let rows = rows
        .into_iter()
        .zip(hidden)
        .map(|((label, r), h)| match h {
            None => ProtectedRow { label, cells: Ok(r) },
            Some(why) => {
                let p = pooled.get_or_insert((0, CrossRow::default()));
                p.0 += 1;
                p.1.add(&r);
                ProtectedRow { label, cells: Err(why) }
            }
        })
        .collect();
    ProtectedTable { k, rows, pooled, total, all_hidden }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64, a1: u64) -> CrossRow {
        let mut r = CrossRow { respondents: n, tagged: a1, ..Default::default() };
        r.areas[0] = a1;
        r
    }

    fn sum_shown(t: &ProtectedTable) -> CrossRow {
        let mut s = CrossRow::default();
        t.rows.iter().filter_map(|r| r.cells.as_ref().ok()).for_each(|r| s.add(r));
        if let Some((_, p)) = &t.pooled {
            s.add(p);
        }
        s
    }

    #[test]
    fn small_units_are_hidden_and_pooled_so_totals_still_add_up() {
        let t = protect(vec![("甲".into(), row(20, 9)), ("乙".into(), row(3, 2)), ("丙".into(), row(4, 1))], 5);
        assert_eq!(t.rows[1].cells, Err(Hidden::Small));
        assert_eq!(t.rows[2].cells, Err(Hidden::Small));
        assert_eq!(t.pooled.unwrap().1.respondents, 7);
        assert_eq!(sum_shown(&t), t.total);
        assert!(!t.all_hidden);
    }

    #[test]
    fn a_pool_under_k_takes_in_the_smallest_shown_unit() {
        let t = protect(vec![("甲".into(), row(20, 9)), ("乙".into(), row(2, 2)), ("丙".into(), row(6, 1))], 5);
        assert_eq!(t.rows[1].cells, Err(Hidden::Small));
        assert_eq!(t.rows[2].cells, Err(Hidden::Merged), "丙 joins the pool so 乙 cannot be subtracted out");
        assert!(t.rows[0].cells.is_ok());
        assert!(t.pooled.unwrap().1.respondents >= 5);
        assert_eq!(sum_shown(&t), t.total);
    }

    #[test]
    fn a_table_with_fewer_than_k_respondents_in_all_is_hidden_entirely() {
        let t = protect(vec![("甲".into(), row(2, 1)), ("乙".into(), row(1, 1))], 5);
        assert!(t.all_hidden);
        assert!(t.rows.iter().all(|r| r.cells.is_err()));
        assert_eq!(t.small_label(), "<5");
    }

    #[test]
    fn nothing_is_hidden_when_every_unit_has_k() {
        let t = protect(vec![("甲".into(), row(5, 1)), ("乙".into(), row(9, 1))], 5);
        assert!(t.pooled.is_none());
        assert_eq!(sum_shown(&t), t.total);
    }
}
