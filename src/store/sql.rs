//! A tiny builder for hand-written SQL that binds values with the right placeholder for the backend
//! (`?` on SQLite, `$n` on PostgreSQL). Used where sea-orm's query builder would hide what the query does.

use sea_orm::{DbBackend, Statement, Value};

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

    /// The statement, without copying the text and values.
    pub(crate) fn into_statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }

    pub(crate) fn statement(&self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text.clone(), self.values.clone())
    }
}
