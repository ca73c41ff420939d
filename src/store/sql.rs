//! A tiny builder for hand-written SQL that binds values with the right placeholder for the backend
//! (`?` on SQLite, `$n` on PostgreSQL). Used where sea-orm's query builder would hide what the query does.

use sea_orm::{DbBackend, Statement, Value};

/// Bound parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535), so a whole
/// batch goes in one multi-row INSERT per table.
pub(crate) const PARAMS_PER_STATEMENT: usize = 16_000;

/// SQL text plus its bound values.
pub(crate) struct Sql {
    backend: DbBackend,
    pub(crate) text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend) -> Sql {
        Sql { backend, text: String::new(), values: Vec::new() }
    }

    /// Appends raw SQL (never user input).
    pub(crate) fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub(crate) fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// Appends `(?, ?, …)` bound to `ids`.
    pub(crate) fn bind_list(&mut self, ids: &[i64]) -> &mut Self {
        self.bind_tuple(ids.iter().map(|id| Value::from(*id)))
    }

    /// Appends `(?, ?, …)` bound to `values`: an `IN` list or one row of a multi-row `VALUES`.
    pub(crate) fn bind_tuple(&mut self, values: impl IntoIterator<Item = Value>) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(",");
            }
            self.bind(v);
        }
        self.push(")")
    }

    /// Appends the rows of a multi-row `VALUES`, `(…),(…)`, each bound to its values.
    pub(crate) fn bind_rows<R: IntoIterator<Item = Value>>(&mut self, rows: impl IntoIterator<Item = R>) -> &mut Self {
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                self.push(",");
            }
            self.bind_tuple(row);
        }
        self
    }

    /// The statement, without copying the text and values.
    pub(crate) fn into_statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }

    pub(crate) fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone())
    }
}

/// `rows` in pieces of a power of two rows each (at most `max`), largest first. A multi-row statement's
/// text depends on its row count; with these sizes a batch reuses a few prepared statements per table
/// (SQLite's statement cache, PostgreSQL's per connection) instead of preparing one per count.
pub(crate) fn sized_chunks<T>(rows: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = 1 << rest.len().min(max.max(1)).ilog2();
        let (piece, after) = rest.split_at(n);
        rest = after;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::{Sql, sized_chunks};
    use sea_orm::{DbBackend, Value};

    #[test]
    fn rows_of_a_multi_row_values_are_comma_separated_tuples_with_the_backends_placeholders() {
        let rows = [[Value::from(1i64), Value::from("a")], [Value::from(2i64), Value::from("b")]];
        let mut lite = Sql::new(DbBackend::Sqlite);
        lite.push("VALUES ").bind_rows(rows.clone());
        assert_eq!(lite.text, "VALUES (?,?),(?,?)");
        let mut pg = Sql::new(DbBackend::Postgres);
        pg.push("VALUES ").bind_rows(rows);
        assert_eq!(pg.text, "VALUES ($1,$2),($3,$4)");
        assert_eq!(pg.into_statement().values.map(|v| v.0.len()), Some(4));
    }

    #[test]
    fn rows_go_in_power_of_two_pieces_largest_first_and_none_is_lost() {
        let rows: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = sized_chunks(&rows, 1_000).map(<[u32]>::len).collect();
        assert_eq!(sizes, [256, 32, 8, 4]);
        assert_eq!(sized_chunks(&rows, 1_000).flatten().copied().collect::<Vec<_>>(), rows);
        let capped: Vec<usize> = sized_chunks(&rows, 100).map(<[u32]>::len).collect();
        assert_eq!(capped, [64, 64, 64, 64, 32, 8, 4]);
        assert_eq!(sized_chunks(&rows[..0], 10).count(), 0);
    }
}
