//! The disclosure audit: given what a table publishes (some cells, and sums over sets of cells such as
//! row and column totals or a pooled row), which hidden cells do the published figures determine exactly?
//! As sdcTable and τ-ARGUS check it: a hidden cell is determined iff its unit vector lies in the row space
//! of the published equations restricted to the hidden cells. Exact integer elimination, no floats.

use std::collections::BTreeMap;

/// What one output publishes about a set of cells, numbered `0..cells`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    cells: usize,
    /// Cells whose value is shown.
    shown: Vec<bool>,
    /// Published linear figures: (cell, coefficient) terms; their values do not matter for the audit.
    sums: Vec<Vec<(usize, i128)>>,
}

impl Published {
    /// `cells` cells, all hidden, no sums yet.
    pub fn new(cells: usize) -> Published {
        Published { cells, shown: vec![false; cells], sums: Vec::new() }
    }
    /// The value of `cell` is published.
    pub fn show(&mut self, cell: usize) {
        self.shown[cell] = true;
    }
    /// The sum of `cells` is published (a margin, a total, a pooled row).
    pub fn sum(&mut self, cells: impl IntoIterator<Item = usize>) {
        self.sums.push(cells.into_iter().map(|c| (c, 1)).collect());
    }
    /// A known linear relation, e.g. a row's 标签合计 minus its eight areas is 0.
    pub fn relation(&mut self, terms: impl IntoIterator<Item = (usize, i128)>) {
        self.sums.push(terms.into_iter().collect());
    }
    /// Adds everything `other` publishes about the same cells (two outputs seen together).
    pub fn merge(&mut self, other: &Published) {
        for (a, b) in self.shown.iter_mut().zip(&other.shown) {
            *a |= *b;
        }
        self.sums.extend(other.sums.iter().cloned());
    }
    pub fn is_shown(&self, cell: usize) -> bool {
        self.shown[cell]
    }
    pub fn len(&self) -> usize {
        self.cells
    }
    pub fn is_empty(&self) -> bool {
        self.cells == 0
    }
}

/// The hidden cells that the published figures determine exactly, in order. Empty means the output is safe.
pub fn recoverable(p: &Published) -> Vec<usize> {
    let (hidden, mut rows) = hidden_system(p);
    let pivots = reduce(&mut rows, hidden.len());
    // In reduced row echelon form, e_h is in the row space iff some row is a multiple of e_h.
    pivots
        .into_iter()
        .filter(|(row, col)| rows[*row].iter().enumerate().all(|(j, x)| j == *col || *x == 0))
        .map(|(_, col)| hidden[col])
        .collect()
}

/// Whether the published figures determine the sum of `cells` (hidden or not) exactly: the sum's vector,
/// restricted to the hidden cells, lies in the row space.
pub fn determines_sum(p: &Published, cells: &[usize]) -> bool {
    let (hidden, mut rows) = hidden_system(p);
    let mut target = vec![0i128; hidden.len()];
    for c in cells {
        if let Ok(i) = hidden.binary_search(c) {
            target[i] += 1;
        }
    }
    if target.iter().all(|x| *x == 0) {
        return true;
    }
    let before = reduce(&mut rows.clone(), hidden.len()).len();
    rows.push(target);
    reduce(&mut rows, hidden.len()).len() == before
}

/// The hidden cells in order and each published figure restricted to them (shown cells are known numbers).
fn hidden_system(p: &Published) -> (Vec<usize>, Vec<Vec<i128>>) {
    let hidden: Vec<usize> = (0..p.cells).filter(|c| !p.shown[*c]).collect();
    let column: BTreeMap<usize, usize> = hidden.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let rows = p
        .sums
        .iter()
        .map(|s| {
            let mut row = vec![0i128; hidden.len()];
            for (c, k) in s {
                if let Some(i) = column.get(c) {
                    row[*i] += k;
                }
            }
            row
        })
        .filter(|r| r.iter().any(|x| *x != 0))
        .collect();
    (hidden, rows)
}

/// Brings `rows` to reduced row echelon form over the integers (each row divided by its gcd); gives
/// (row, pivot column) pairs.
fn reduce(rows: &mut [Vec<i128>], width: usize) -> Vec<(usize, usize)> {
    let mut pivots = Vec::new();
    let mut r = 0;
    for col in 0..width {
        let Some(p) = (r..rows.len()).find(|i| rows[*i][col] != 0) else { continue };
        rows.swap(r, p);
        for i in 0..rows.len() {
            if i == r || rows[i][col] == 0 {
                continue;
            }
            let (a, b) = (rows[r][col], rows[i][col]);
            let pivot_row = rows[r].clone();
            for (x, y) in rows[i].iter_mut().zip(&pivot_row) {
                *x = *x * a - *y * b;
            }
            normalise(&mut rows[i]);
        }
        pivots.push((r, col));
        r += 1;
        if r == rows.len() {
            break;
        }
    }
    pivots
}

fn normalise(row: &mut [i128]) {
    let g = row.iter().fold(0i128, |g, x| gcd(g, x.abs()));
    if g > 1 {
        row.iter_mut().for_each(|x| *x /= g);
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// A rows × columns table of cells (cell `r * cols + c`), for building [`Published`] systems.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
}

impl Grid {
    pub fn cell(&self, r: usize, c: usize) -> usize {
        r * self.cols + c
    }
    pub fn row(&self, r: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.cols).map(move |c| self.cell(r, c))
    }
    pub fn col(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.rows).map(move |r| self.cell(r, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_hidden_cell_in_a_row_with_a_published_total_is_recoverable() {
        // 2 × 2 table with row and column totals; only (0, 0) hidden.
        let g = Grid { rows: 2, cols: 2 };
        let mut p = Published::new(4);
        for c in [g.cell(0, 1), g.cell(1, 0), g.cell(1, 1)] {
            p.show(c);
        }
        for r in 0..2 {
            p.sum(g.row(r));
        }
        for c in 0..2 {
            p.sum(g.col(c));
        }
        assert_eq!(recoverable(&p), vec![0]);
    }

    #[test]
    fn four_hidden_cells_in_a_rectangle_are_not_recoverable_from_the_margins() {
        let g = Grid { rows: 3, cols: 3 };
        let mut p = Published::new(9);
        for c in 0..9 {
            p.show(c);
        }
        let mut p2 = Published::new(9);
        for c in 0..9 {
            if ![g.cell(0, 0), g.cell(0, 1), g.cell(1, 0), g.cell(1, 1)].contains(&c) {
                p2.show(c);
            }
        }
        for r in 0..3 {
            p2.sum(g.row(r));
        }
        for c in 0..3 {
            p2.sum(g.col(c));
        }
        assert!(recoverable(&p2).is_empty());
        assert!(recoverable(&p).is_empty(), "nothing hidden, nothing to recover");
    }

    #[test]
    fn a_pool_of_one_row_gives_that_row_away_and_a_pool_of_two_does_not() {
        let mut one = Published::new(3);
        one.show(0);
        one.show(1);
        one.sum([2]);
        assert_eq!(recoverable(&one), vec![2]);
        let mut two = Published::new(3);
        two.show(0);
        two.sum([1, 2]);
        two.sum([0, 1, 2]);
        assert!(recoverable(&two).is_empty());
    }

    #[test]
    fn two_outputs_together_can_leak_what_each_alone_hides() {
        // Units a, b, c: the first output pools {a, b}, the second pools {b, c} and shows a.
        let mut first = Published::new(3);
        first.show(2);
        first.sum([0, 1]);
        let mut second = Published::new(3);
        second.show(0);
        second.sum([1, 2]);
        assert!(recoverable(&first).is_empty());
        assert!(recoverable(&second).is_empty());
        first.merge(&second);
        assert_eq!(recoverable(&first), vec![1]);
    }
}
