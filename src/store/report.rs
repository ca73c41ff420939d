//! The rows an export reads, in keyset batches so memory stays bounded however many opinions there are:
//! counts first (for progress), then the representative opinions, every other counted opinion (each read
//! once, whatever its number of areas), and the responses with their answers and opinions (areas, state,
//! notes). Works the same on SQLite and PostgreSQL.
//!
//! Each batch comes back from the database as one JSON text (an array of rows, nested lists inside), not as
//! thousands of driver rows: every driver row costs a hand-off between the SQLite worker thread and the
//! runtime, and those hand-offs, not SQLite, were most of an export's time.

use super::entities::form_version;
use super::{Result, Store, StoreError};
use crate::domain::area::AreaCode;
use crate::domain::form::FormDef;
use crate::domain::form::answers::Answer;
use crate::domain::report::policy::{Code, RespondentDays};
use crate::domain::report::raw::{RawOpinion, RawResponse};
use crate::domain::report::{AreaSet, QuotedOpinion, Scope};
use crate::domain::tagging::OpinionState;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement, Value};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// How many rows an export reads, counted before it starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCounts {
    pub opinions: u64,
    /// Opinions not marked 无效: the rows of the area sheets and 未归类, each read once.
    pub counted: u64,
    pub responses: u64,
}

impl ReportCounts {
    /// Rows an xlsx export reads in all, for a progress bar (every opinion also comes with its response).
    pub fn xlsx_work(&self) -> u64 {
        self.counted + self.responses
    }
}

/// How a scope condition may be evaluated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scan {
    /// Any index may serve it (counts).
    Indexed,
    /// The query walks the table by id: on SQLite the scope columns are written `+col`, so the planner
    /// keeps to the id order instead of taking the (form_slug, …) index and sorting everything after the
    /// keyset position again for every batch (quadratic in the table size).
    ById,
}

/// Appends the scope's conditions on table alias `t` (which has form_slug, submitted_at, unit_code).
fn scope_sql(t: &str, scope: &Scope, values: &mut Vec<Value>, plus: &str) -> String {
    let mut parts = Vec::new();
    if !scope.forms.is_empty() {
        parts.push(format!("{plus}{t}.form_slug IN ({})", marks(scope.forms.len())));
        values.extend(scope.forms.iter().map(|f| Value::from(f.clone())));
    }
    if let Some(ms) = scope.from_ms() {
        parts.push(format!("{plus}{t}.submitted_at >= ?"));
        values.push(ms.into());
    }
    match scope.until_ms() {
        // A leader's selection: what was released to leaders by its last midnight.
        Some(ms) if scope.released => {
            parts.push(format!("{plus}{t}.released_at <= ?"));
            values.push(ms.into());
        }
        Some(ms) => {
            parts.push(format!("{plus}{t}.submitted_at < ?"));
            values.push(ms.into());
        }
        None => {}
    }
    if !scope.units.is_empty() {
        parts.push(format!("{plus}{t}.unit_code IN ({})", marks(scope.units.len())));
        values.extend(scope.units.iter().map(|u| Value::from(u.clone())));
    }
    if parts.is_empty() { "1 = 1".into() } else { parts.join(" AND ") }
}

fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn state_of(s: &str) -> Result<OpinionState> {
    OpinionState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown opinion state {s}")))
}

fn areas_of(codes: Option<Vec<i64>>) -> Result<AreaSet> {
    let mut set = AreaSet::default();
    for n in codes.unwrap_or_default() {
        set.insert(AreaCode::try_from(n).map_err(StoreError::Corrupt)?);
    }
    Ok(set)
}

/// A quoted opinion as the batch JSON carries it: id, receipt, form, question, unit, category, text,
/// representative (0/1), state, submitted_at, area codes, the titles of the problems it is linked to.
#[derive(Deserialize)]
struct QuotedRow(
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
    i64,
    Option<Vec<i64>>,
    Option<Vec<String>>,
);

/// An opinion inside a response row: state, area codes, notes as (author, text).
#[derive(Deserialize)]
struct RawOpinionRow(String, Option<Vec<i64>>, Option<Vec<(String, String)>>, String);

/// A response: id, receipt, form, version, unit, category, submitted_at, answers as (question, JSON value),
/// opinions, released_at.
#[derive(Deserialize)]
struct RawRow(
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    i64,
    Option<Vec<(String, String)>>,
    Option<Vec<RawOpinionRow>>,
    Option<i64>,
);

/// A stored form version as (version id, definition).
pub(crate) fn stored_definition(v: form_version::Model) -> Result<(i64, FormDef)> {
    serde_json::from_str(&v.definition)
        .map(|d| (v.id, d))
        .map_err(|e| StoreError::Corrupt(format!("form version {}: {e}", v.id)))
}

impl Store {
    /// A statement with `?` placeholders, numbered `$1…` on PostgreSQL.
    pub(super) fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        let backend = self.db().get_database_backend();
        let sql = if backend == DbBackend::Postgres {
            let mut out = String::with_capacity(sql.len() + 16);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            sql.to_owned()
        };
        Statement::from_sql_and_values(backend, sql, values)
    }

    pub(super) fn scope_sql(&self, t: &str, scope: &Scope, values: &mut Vec<Value>, scan: Scan) -> String {
        let plus = if scan == Scan::ById && self.is_sqlite() { "+" } else { "" };
        scope_sql(t, scope, values, plus)
    }

    /// A correlated subquery giving the rows of `from` as a JSON array of arrays of `cols`, in `order`
    /// (NULL on PostgreSQL when there are none).
    fn json_list(&self, cols: &str, order: &str, from: &str) -> String {
        if self.is_sqlite() {
            format!("(SELECT json_group_array(json_array({cols}) ORDER BY {order}) FROM {from})")
        } else {
            format!("(SELECT json_agg(json_build_array({cols}) ORDER BY {order}) FROM {from})")
        }
    }

    /// A subquery giving an opinion's area codes as a JSON array.
    fn areas_sql(&self, opinion: &str) -> String {
        let agg = if self.is_sqlite() { "json_group_array" } else { "json_agg" };
        format!("(SELECT {agg}(t2.area_code) FROM tag_assignments t2 WHERE t2.opinion_id = {opinion})")
    }

    /// The titles of the problems `opinion` is linked to, as a JSON array (oldest problem first).
    fn problems_sql(&self, opinion: &str) -> String {
        let agg = if self.is_sqlite() { "json_group_array(title)" } else { "json_agg(title ORDER BY id)" };
        format!(
            "(SELECT {agg} FROM (SELECT pr.id AS id, pr.title AS title FROM problem_opinions po \
             JOIN problems pr ON pr.id = po.problem_id WHERE po.opinion_id = {opinion} ORDER BY pr.id) linked)"
        )
    }

    /// Runs `inner` (a batch query whose rows are `b`) and returns its rows, built from `cols`, parsed from
    /// the one JSON text the database returns.
    async fn json_batch<T: DeserializeOwned>(&self, cols: &str, inner: &str, values: Vec<Value>) -> Result<Vec<T>> {
        let sql = if self.is_sqlite() {
            format!("SELECT json_group_array(json_array({cols})) FROM ({inner}) b")
        } else {
            format!("SELECT CAST(json_agg(json_build_array({cols})) AS TEXT) FROM ({inner}) b")
        };
        let row = self.db().query_one_raw(self.stmt(&sql, values)).await?;
        let text: Option<String> = row.map(|r| r.try_get_by_index(0)).transpose()?.flatten();
        match text {
            None => Ok(Vec::new()),
            Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("export batch: {e}"))),
        }
    }

    async fn count(&self, sql: &str, values: Vec<Value>) -> Result<u64> {
        let row = self.db().query_one_raw(self.stmt(sql, values)).await?;
        let n: i64 = row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Counts every part of an export of `scope`.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn report_counts(&self, scope: &Scope) -> Result<ReportCounts> {
        let mut v = Vec::new();
        let w = self.scope_sql("o", scope, &mut v, Scan::Indexed);
        let opinions = self.count(&format!("SELECT COUNT(*) FROM opinions o WHERE {w}"), v.clone()).await?;
        let counted =
            self.count(&format!("SELECT COUNT(*) FROM opinions o WHERE o.state <> 'invalid' AND {w}"), v).await?;
        let mut v = Vec::new();
        let w = self.scope_sql("r", scope, &mut v, Scan::Indexed);
        let responses = self.count(&format!("SELECT COUNT(*) FROM responses r WHERE {w}"), v).await?;
        Ok(ReportCounts { opinions, counted, responses })
    }

    /// Respondents (responses) in scope per (unit, category, bureau day): what the disclosure policy
    /// decides from.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn respondent_days(&self, scope: &Scope) -> Result<RespondentDays> {
        // Integer division gives the bureau's day on both databases (timestamps are after 1970).
        let mut v = vec![crate::domain::form::check::bureau_offset_ms().into()];
        let w = self.scope_sql("r", scope, &mut v, Scan::Indexed);
        let sql = format!(
            "SELECT r.unit_code AS u, r.category_code AS c, (r.submitted_at + ?) / 86400000 AS d, COUNT(*) AS n \
             FROM responses r WHERE {w} GROUP BY r.unit_code, r.category_code, d"
        );
        let mut out = BTreeMap::new();
        for r in self.db().query_all_raw(self.stmt(&sql, v)).await? {
            let n: i64 = r.try_get("", "n")?;
            out.insert((r.try_get("", "u")?, r.try_get("", "c")?, r.try_get("", "d")?), u64::try_from(n).unwrap_or(0));
        }
        Ok(out)
    }

    /// The form with the most responses released to leaders by `until_ms` (a leader's view opens on it), if any has
    /// one; the ratings of /gongkai are not a form of opinions.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn busiest_form(&self, until_ms: i64) -> Result<Option<String>> {
        let sql = "SELECT r.form_slug AS f FROM responses r WHERE r.form_slug <> ? AND r.released_at <= ? \
                   GROUP BY r.form_slug ORDER BY COUNT(*) DESC, r.form_slug LIMIT 1";
        let rating = crate::domain::rectification::RATING_FORM_SLUG;
        let row = self.db().query_one_raw(self.stmt(sql, vec![rating.into(), until_ms.into()])).await?;
        Ok(row.map(|r| r.try_get("", "f")).transpose()?)
    }

    /// One form's opinions per state (in [`OpinionState::ALL`] order) and counted opinions per area, of
    /// those released to leaders by `until_ms`: the leader's dashboard, over the same selection as a leader's export.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn form_counts(&self, form: &str, until_ms: i64) -> Result<([u64; 4], [u64; 8])> {
        let mut states = [0u64; 4];
        let sql = "SELECT o.state AS s, COUNT(*) AS n FROM opinions o WHERE o.form_slug = ? AND o.released_at <= ? \
                   GROUP BY o.state";
        for r in self.db().query_all_raw(self.stmt(sql, vec![form.into(), until_ms.into()])).await? {
            let state = state_of(&r.try_get::<String>("", "s")?)?;
            let i = OpinionState::ALL.iter().position(|x| *x == state).unwrap_or(0);
            states[i] = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
        }
        let mut areas = [0u64; 8];
        let sql = "SELECT t.area_code AS a, COUNT(*) AS n FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id \
                   WHERE o.form_slug = ? AND o.released_at <= ? AND o.state <> 'invalid' GROUP BY t.area_code";
        for r in self.db().query_all_raw(self.stmt(sql, vec![form.into(), until_ms.into()])).await? {
            let a = AreaCode::try_from(i64::from(r.try_get::<i16>("", "a")?)).map_err(StoreError::Corrupt)?;
            areas[a.index()] = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
        }
        Ok((states, areas))
    }

    /// Every stored definition of the given forms, newest first: (version id, definition).
    ///
    /// # Errors
    /// On a database failure, or `Corrupt` when a stored definition no longer parses.
    pub async fn report_versions(&self, forms: &[String]) -> Result<Vec<(i64, FormDef)>> {
        let rows = form_version::Entity::find()
            .filter(form_version::Column::Slug.is_in(forms.iter().cloned()))
            .order_by_desc(form_version::Column::Id)
            .all(self.db())
            .await?;
        rows.into_iter().map(stored_definition).collect()
    }

    /// A batch of the counted opinions in scope that are representative and carry an area: the first rows
    /// of their area sheets.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn representative_opinions(&self, scope: &Scope, batch: Batch<'_>) -> Result<Vec<QuotedOpinion>> {
        self.quoted_batch(scope, REPRESENTATIVE, batch).await
    }

    /// A batch of every other counted opinion in scope: those with areas go on their area sheets after the
    /// representative ones, those without on 未归类.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn other_opinions(&self, scope: &Scope, batch: Batch<'_>) -> Result<Vec<QuotedOpinion>> {
        self.quoted_batch(scope, OTHERS, batch).await
    }

    /// Every opinion [`Store::representative_opinions`] (or, with `representative` false,
    /// [`Store::other_opinions`]) would read, as (id, `order` of its unit, category and time): a protected
    /// file orders them itself.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn quoted_order(
        &self,
        scope: &Scope,
        representative: bool,
        order: impl Fn(Option<&str>, Option<&str>, i64) -> i64,
    ) -> Result<Vec<(i64, i64)>> {
        let mut v = Vec::new();
        let w = self.scope_sql("o", scope, &mut v, Scan::ById);
        let which = if representative { REPRESENTATIVE } else { OTHERS };
        self.ordered("o", &format!("FROM opinions o WHERE {which} AND {w}"), v, order).await
    }

    async fn quoted_batch(&self, scope: &Scope, which: &str, batch: Batch<'_>) -> Result<Vec<QuotedOpinion>> {
        let mut v = Vec::new();
        let w = self.scope_sql("o", scope, &mut v, Scan::ById);
        let rows = batch.sql("o.id", &mut v);
        let inner = format!(
            "SELECT {QUOTED_COLUMNS} FROM opinions o JOIN responses r ON r.id = o.response_id \
             WHERE {which} AND {w} {rows}"
        );
        let mut out = self.quoted(&inner, v).await?;
        batch.arrange(&mut out, |o| o.id);
        Ok(out)
    }

    /// The (id, `order(u, c, at)`) rows of `from_where` (a `FROM … WHERE …` over table alias `t`, which
    /// has the id, unit, category and time columns), read in keyset chunks into a vector counted first: a
    /// million rows are 16 MB as pairs, but half as much again while a vector grows, and far more as one
    /// result set.
    async fn ordered(
        &self,
        t: &str,
        from_where: &str,
        values: Vec<Value>,
        order: impl Fn(Option<&str>, Option<&str>, i64) -> i64,
    ) -> Result<Vec<(i64, i64)>> {
        const CHUNK: i64 = 10_000;
        let rows = self.count(&format!("SELECT COUNT(*) {from_where}"), values.clone()).await?;
        let mut out = Vec::with_capacity(usize::try_from(rows).unwrap_or(0));
        let columns = format!("{t}.id AS id, {t}.unit_code AS u, {t}.category_code AS c, {t}.submitted_at AS at");
        let chunk = format!("SELECT {columns} {from_where} AND {t}.id > ? ORDER BY {t}.id LIMIT ?");
        let mut after = 0i64;
        loop {
            let mut v = values.clone();
            v.extend([Value::from(after), Value::from(CHUNK)]);
            let rows = self.db().query_all_raw(self.stmt(&chunk, v)).await?;
            for r in &rows {
                let (u, c): (Code, Code) = (r.try_get("", "u")?, r.try_get("", "c")?);
                out.push((r.try_get("", "id")?, order(u.as_deref(), c.as_deref(), r.try_get("", "at")?)));
            }
            match out.last() {
                Some(&(last, _)) if rows.len() as i64 == CHUNK => after = last,
                _ => return Ok(out),
            }
        }
    }

    /// Reads a batch of [`QUOTED_COLUMNS`] rows with their areas.
    async fn quoted(&self, inner: &str, values: Vec<Value>) -> Result<Vec<QuotedOpinion>> {
        let cols = format!(
            "b.id, b.receipt, b.form_slug, b.question_id, b.unit_code, b.category_code, b.body, b.rep, b.state, \
             b.submitted_at, {}, {}",
            self.areas_sql("b.id"),
            self.problems_sql("b.id")
        );
        let mut rows: Vec<QuotedRow> = self.json_batch(&cols, inner, values).await?;
        rows.sort_by_key(|r| r.0);
        rows.into_iter()
            .map(|r| {
                Ok(QuotedOpinion {
                    id: r.0,
                    receipt: r.1,
                    form_slug: r.2,
                    question_id: r.3,
                    unit: r.4,
                    category: r.5,
                    text: r.6,
                    representative: r.7 != 0,
                    state: state_of(&r.8)?,
                    submitted_at: r.9,
                    areas: areas_of(r.10)?,
                    problems: r.11.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The next batch of responses (after id `after`) with answers, their opinions' areas, states and notes.
    /// Contact details are not read.
    ///
    /// # Errors
    /// On a database failure, or `Corrupt` when a stored answer no longer parses.
    pub async fn raw_responses(&self, scope: &Scope, batch: Batch<'_>) -> Result<Vec<RawResponse>> {
        let mut v: Vec<Value> = Vec::new();
        let w = self.scope_sql("r", scope, &mut v, Scan::ById);
        let rows = batch.sql("r.id", &mut v);
        let inner = format!(
            "SELECT r.id, r.receipt, r.form_slug, r.form_version_id, r.unit_code, r.category_code, r.submitted_at, \
             r.released_at FROM responses r WHERE {w} {rows}"
        );
        let notes = self.json_list("n.author, n.text", "n.id", "opinion_notes n WHERE n.opinion_id = o.id");
        // Leaders read released opinions only: a release holds back those answering a question its rows
        // were not all asked alike (`store::releases`), from every count as from every cell.
        let released = if scope.released { " AND o.released_at IS NOT NULL" } else { "" };
        let opinions = self.json_list(
            &format!("o.state, {}, {notes}, o.question_id", self.areas_sql("o.id")),
            "o.id",
            &format!("opinions o WHERE o.response_id = b.id{released}"),
        );
        let answers = self.json_list("a.question_id, a.value", "a.id", "answers a WHERE a.response_id = b.id");
        let cols = format!(
            "b.id, b.receipt, b.form_slug, b.form_version_id, b.unit_code, b.category_code, b.submitted_at, \
             {answers}, {opinions}, b.released_at"
        );
        let mut rows: Vec<RawRow> = self.json_batch(&cols, &inner, v).await?;
        rows.sort_by_key(|r| r.0);
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r.0;
            let mut answers = Vec::new();
            for (q, value) in r.7.unwrap_or_default() {
                let parsed: Answer = serde_json::from_str(&value)
                    .map_err(|e| StoreError::Corrupt(format!("answer of response {id}: {e}")))?;
                answers.push((q, parsed));
            }
            let mut opinions = Vec::new();
            for o in r.8.unwrap_or_default() {
                opinions.push(RawOpinion {
                    question: o.3,
                    areas: areas_of(o.1)?,
                    state: state_of(&o.0)?,
                    notes: o
                        .2
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(author, text)| format!("{author}：{text}"))
                        .collect(),
                });
            }
            out.push(RawResponse {
                id,
                receipt: r.1,
                form_slug: r.2,
                form_version_id: r.3,
                unit: r.4,
                category: r.5,
                submitted_at: r.6,
                released_at: r.9,
                answers,
                opinions,
            });
        }
        batch.arrange(&mut out, |r| r.id);
        Ok(out)
    }

    /// Which form versions each release of `form` up to `cut_ms` took to leaders, as (release cut, version
    /// id) pairs.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn released_versions(&self, form: &str, cut_ms: i64) -> Result<Vec<(i64, i64)>> {
        let sql = "SELECT DISTINCT released_at AS t, form_version_id AS v FROM responses \
                   WHERE form_slug = ? AND released_at <= ?";
        let rows = self.db().query_all_raw(self.stmt(sql, vec![form.into(), cut_ms.into()])).await?;
        rows.iter().map(|r| Ok((r.try_get("", "t")?, r.try_get("", "v")?))).collect()
    }

    /// Every response [`Store::raw_responses`] would read, as (id, `order` of its unit, category and time).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn response_order(
        &self,
        scope: &Scope,
        order: impl Fn(Option<&str>, Option<&str>, i64) -> i64,
    ) -> Result<Vec<(i64, i64)>> {
        let mut v = Vec::new();
        let w = self.scope_sql("r", scope, &mut v, Scan::ById);
        self.ordered("r", &format!("FROM responses r WHERE {w}"), v, order).await
    }
}

/// Which rows an export batch reads.
#[derive(Debug, Clone, Copy)]
pub enum Batch<'a> {
    /// The next `limit` rows after this id, in id (arrival) order: the office's file.
    After(i64, u64),
    /// Exactly these rows, in this order: a protected file, which orders its rows itself.
    Ids(&'a [i64]),
}

impl Batch<'_> {
    /// The SQL after the batch query's conditions, on id column `id`.
    fn sql(&self, id: &str, values: &mut Vec<Value>) -> String {
        match self {
            Batch::After(after, limit) => {
                values.push((*after).into());
                values.push(i64::try_from(*limit).unwrap_or(i64::MAX).into());
                format!("AND {id} > ? ORDER BY {id} LIMIT ?")
            }
            Batch::Ids([]) => "AND 1 = 0".to_owned(),
            Batch::Ids(ids) => {
                values.extend(ids.iter().map(|i| Value::from(*i)));
                format!("AND {id} IN ({})", marks(ids.len()))
            }
        }
    }

    /// Puts `rows` (read in id order) in the batch's order.
    fn arrange<T>(&self, rows: &mut [T], id: impl Fn(&T) -> i64) {
        if let Batch::Ids(ids) = self {
            let at: std::collections::HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            rows.sort_by_key(|r| at.get(&id(r)).copied().unwrap_or(usize::MAX));
        }
    }
}

/// Which counted opinions head their area sheets (representative, with an area), and which come after or
/// go on 未归类 (every other counted one).
const REPRESENTATIVE: &str = "o.representative = TRUE AND o.state <> 'invalid' \
     AND EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id)";
const OTHERS: &str = "o.state <> 'invalid' AND (o.representative = FALSE \
     OR NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id))";

/// The columns of a quoted opinion, named as [`Store::quoted`] reads them from the batch.
const QUOTED_COLUMNS: &str = "o.id, r.receipt, o.form_slug, o.question_id, o.unit_code, o.category_code, \
    o.text AS body, CASE WHEN o.representative THEN 1 ELSE 0 END AS rep, o.state, o.submitted_at";
