//! The rows an export reads, in keyset batches so memory stays bounded however many opinions there are:
//! counts first (for progress), then opinions for the tallies, the opinions of each area, the untagged
//! ones, and the responses with their answers, tags and notes. Works the same on SQLite and PostgreSQL.

use super::entities::form_version;
use super::{Result, Store, StoreError};
use crate::domain::area::AreaCode;
use crate::domain::form::FormDef;
use crate::domain::form::answers::Answer;
use crate::domain::report::raw::{RawOpinion, RawResponse};
use crate::domain::report::{AreaSet, OpinionFact, QuotedOpinion, Scope};
use crate::domain::tagging::OpinionState;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryResult, Statement, Value,
};
use std::collections::HashMap;

/// How many rows each part of an export has, counted before it starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportCounts {
    pub opinions: u64,
    /// Tag assignments of counted (not 无效) opinions: the rows of the eight area sheets together.
    pub area_rows: u64,
    pub untagged: u64,
    pub responses: u64,
}

impl ReportCounts {
    /// Rows an xlsx export reads in all, for a progress bar.
    pub fn xlsx_work(&self) -> u64 {
        self.opinions + self.area_rows + self.untagged + self.responses
    }
}

/// Appends the scope's conditions on table alias `t` (which has form_slug, submitted_at, unit_code).
fn scope_sql(t: &str, scope: &Scope, values: &mut Vec<Value>) -> String {
    let mut parts = Vec::new();
    if !scope.forms.is_empty() {
        parts.push(format!("{t}.form_slug IN ({})", marks(scope.forms.len())));
        values.extend(scope.forms.iter().map(|f| Value::from(f.clone())));
    }
    if let Some(ms) = scope.from_ms() {
        parts.push(format!("{t}.submitted_at >= ?"));
        values.push(ms.into());
    }
    if let Some(ms) = scope.until_ms() {
        parts.push(format!("{t}.submitted_at < ?"));
        values.push(ms.into());
    }
    if !scope.units.is_empty() {
        parts.push(format!("{t}.unit_code IN ({})", marks(scope.units.len())));
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

/// Areas from a `group_concat` of codes (`"1,7"`); every export row carries them so no second query is
/// needed (each row through sqlx costs a thread hand-off, so fewer rows is the main lever).
fn areas_of(list: Option<String>) -> Result<AreaSet> {
    let mut set = AreaSet::default();
    for code in list.as_deref().unwrap_or_default().split(',').filter(|c| !c.is_empty()) {
        let n: i64 = code.trim().parse().map_err(|_| StoreError::Corrupt(format!("area list {code}")))?;
        set.insert(AreaCode::try_from(n).map_err(StoreError::Corrupt)?);
    }
    Ok(set)
}

/// Separators for answers packed into one text per response: JSON escapes both control characters.
const FIELD: &str = "\u{1f}";
const RECORD: &str = "\u{1e}";

impl Store {
    /// A statement with `?` placeholders, numbered `$1…` on PostgreSQL.
    fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
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

    /// The string-aggregate function: `group_concat` on SQLite, `string_agg` on PostgreSQL.
    fn agg(&self) -> &'static str {
        if self.is_sqlite() { "group_concat" } else { "string_agg" }
    }

    /// A subquery giving an opinion's area codes as `"1,7"`.
    fn areas_sql(&self, opinion: &str) -> String {
        format!(
            "(SELECT {}(CAST(t2.area_code AS TEXT), ',') FROM tag_assignments t2 WHERE t2.opinion_id = {opinion})",
            self.agg()
        )
    }

    async fn rows(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>> {
        Ok(self.db().query_all_raw(self.stmt(sql, values)).await?)
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
        let w = scope_sql("o", scope, &mut v);
        let opinions = self.count(&format!("SELECT COUNT(*) FROM opinions o WHERE {w}"), v.clone()).await?;
        let area_rows = self
            .count(
                &format!(
                    "SELECT COUNT(*) FROM tag_assignments t JOIN opinions o ON o.id = t.opinion_id \
                     WHERE o.state <> 'invalid' AND {w}"
                ),
                v.clone(),
            )
            .await?;
        let untagged = self
            .count(
                &format!(
                    "SELECT COUNT(*) FROM opinions o WHERE o.state <> 'invalid' AND NOT EXISTS \
                     (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id) AND {w}"
                ),
                v,
            )
            .await?;
        let mut v = Vec::new();
        let w = scope_sql("r", scope, &mut v);
        let responses = self.count(&format!("SELECT COUNT(*) FROM responses r WHERE {w}"), v).await?;
        Ok(ReportCounts { opinions, area_rows, untagged, responses })
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
        rows.into_iter()
            .map(|v| {
                serde_json::from_str(&v.definition)
                    .map(|d| (v.id, d))
                    .map_err(|e| StoreError::Corrupt(format!("form version {}: {e}", v.id)))
            })
            .collect()
    }

    /// The next batch of opinions (after id `after`) with their areas, for the tallies.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn opinion_facts(&self, scope: &Scope, after: i64, limit: u64) -> Result<Vec<(i64, OpinionFact)>> {
        let mut v = Vec::new();
        let w = scope_sql("o", scope, &mut v);
        v.push(after.into());
        v.push((limit as i64).into());
        let rows = self
            .rows(
                &format!(
                    "SELECT o.id, o.response_id, o.unit_code, o.category_code, o.state, {} FROM opinions o \
                     WHERE {w} AND o.id > ? ORDER BY o.id LIMIT ?",
                    self.areas_sql("o.id")
                ),
                v,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let state: String = r.try_get_by_index(4)?;
            out.push((
                r.try_get_by_index::<i64>(0)?,
                OpinionFact {
                    response_id: r.try_get_by_index(1)?,
                    unit: r.try_get_by_index(2)?,
                    category: r.try_get_by_index(3)?,
                    state: state_of(&state)?,
                    areas: areas_of(r.try_get_by_index(5)?)?,
                },
            ));
        }
        Ok(out)
    }

    /// The next batch of counted opinions tagged with `area` (representative ones, or the others), by id.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn area_opinions(
        &self,
        scope: &Scope,
        area: AreaCode,
        representative: bool,
        after: i64,
        limit: u64,
    ) -> Result<Vec<QuotedOpinion>> {
        let mut v = vec![Value::from(i16::from(area.get())), representative.into()];
        let w = scope_sql("o", scope, &mut v);
        v.push(after.into());
        v.push((limit as i64).into());
        let sql = format!(
            "SELECT o.id, r.receipt, o.form_slug, o.question_id, o.unit_code, o.category_code, o.text, \
             o.representative, o.state, o.submitted_at, {} FROM tag_assignments t \
             JOIN opinions o ON o.id = t.opinion_id JOIN responses r ON r.id = o.response_id \
             WHERE t.area_code = ? AND o.representative = ? AND o.state <> 'invalid' AND {w} \
             AND t.opinion_id > ? ORDER BY t.opinion_id LIMIT ?",
            self.areas_sql("o.id")
        );
        self.quoted(&sql, v).await
    }

    /// The next batch of counted opinions with no area yet, by id.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn untagged_opinions(&self, scope: &Scope, after: i64, limit: u64) -> Result<Vec<QuotedOpinion>> {
        let mut v = Vec::new();
        let w = scope_sql("o", scope, &mut v);
        v.push(after.into());
        v.push((limit as i64).into());
        let sql = format!(
            "SELECT o.id, r.receipt, o.form_slug, o.question_id, o.unit_code, o.category_code, o.text, \
             o.representative, o.state, o.submitted_at, CAST(NULL AS TEXT) FROM opinions o JOIN responses r ON r.id = o.response_id \
             WHERE o.state <> 'invalid' AND NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id) \
             AND {w} AND o.id > ? ORDER BY o.id LIMIT ?"
        );
        self.quoted(&sql, v).await
    }

    async fn quoted(&self, sql: &str, values: Vec<Value>) -> Result<Vec<QuotedOpinion>> {
        let mut out = Vec::new();
        for r in self.rows(sql, values).await? {
            let state: String = r.try_get_by_index(8)?;
            out.push(QuotedOpinion {
                id: r.try_get_by_index(0)?,
                receipt: r.try_get_by_index(1)?,
                form_slug: r.try_get_by_index(2)?,
                question_id: r.try_get_by_index(3)?,
                unit: r.try_get_by_index(4)?,
                category: r.try_get_by_index(5)?,
                text: r.try_get_by_index(6)?,
                representative: r.try_get_by_index(7)?,
                state: state_of(&state)?,
                submitted_at: r.try_get_by_index(9)?,
                areas: areas_of(r.try_get_by_index(10)?)?,
            });
        }
        Ok(out)
    }

    /// The next batch of responses (after id `after`) with answers, their opinions' areas, states and notes.
    /// Contact details are not read.
    ///
    /// # Errors
    /// On a database failure, or `Corrupt` when a stored answer no longer parses.
    pub async fn raw_responses(&self, scope: &Scope, after: i64, limit: u64) -> Result<Vec<RawResponse>> {
        let mut v: Vec<Value> = vec![FIELD.into(), RECORD.into()];
        let w = scope_sql("r", scope, &mut v);
        v.push(after.into());
        v.push((limit as i64).into());
        let agg = self.agg();
        let rows = self
            .rows(
                &format!(
                    "SELECT r.id, r.receipt, r.form_slug, r.form_version_id, r.unit_code, r.category_code, \
                     r.submitted_at, (SELECT {agg}(a.question_id || ? || a.value, ? ORDER BY a.id) FROM answers a \
                     WHERE a.response_id = r.id) FROM responses r WHERE {w} AND r.id > ? ORDER BY r.id LIMIT ?"
                ),
                v,
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut at: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get_by_index(0)?;
            let packed: Option<String> = r.try_get_by_index(7)?;
            let mut answers = Vec::new();
            for rec in packed.as_deref().unwrap_or_default().split(RECORD).filter(|x| !x.is_empty()) {
                let (q, value) =
                    rec.split_once(FIELD).ok_or_else(|| StoreError::Corrupt(format!("answer of response {id}")))?;
                let parsed: Answer = serde_json::from_str(value)
                    .map_err(|e| StoreError::Corrupt(format!("answer of response {id}: {e}")))?;
                answers.push((q.to_owned(), parsed));
            }
            at.insert(id, out.len());
            out.push(RawResponse {
                id,
                receipt: r.try_get_by_index(1)?,
                form_slug: r.try_get_by_index(2)?,
                form_version_id: r.try_get_by_index(3)?,
                unit: r.try_get_by_index(4)?,
                category: r.try_get_by_index(5)?,
                submitted_at: r.try_get_by_index(6)?,
                answers,
                opinions: Vec::new(),
            });
        }
        let (Some(first), Some(last)) = (out.first().map(|r| r.id), out.last().map(|r| r.id)) else {
            return Ok(out);
        };
        // Opinions of the batch by a range on response_id (in scope or not; those out of scope are skipped).
        let mut opinion_at: HashMap<i64, (usize, usize)> = HashMap::new();
        for o in self
            .rows(
                &format!(
                    "SELECT o.id, o.response_id, o.state, {} FROM opinions o \
                     WHERE o.response_id >= ? AND o.response_id <= ? ORDER BY o.id",
                    self.areas_sql("o.id")
                ),
                vec![first.into(), last.into()],
            )
            .await?
        {
            let rid: i64 = o.try_get_by_index(1)?;
            let state: String = o.try_get_by_index(2)?;
            if let Some(i) = at.get(&rid) {
                opinion_at.insert(o.try_get_by_index(0)?, (*i, out[*i].opinions.len()));
                out[*i].opinions.push(RawOpinion {
                    areas: areas_of(o.try_get_by_index(3)?)?,
                    state: state_of(&state)?,
                    notes: Vec::new(),
                });
            }
        }
        if opinion_at.is_empty() {
            return Ok(out);
        }
        for n in self
            .rows(
                "SELECT n.opinion_id, n.author, n.text FROM opinion_notes n JOIN opinions o ON o.id = n.opinion_id \
                 WHERE o.response_id >= ? AND o.response_id <= ? ORDER BY n.id",
                vec![first.into(), last.into()],
            )
            .await?
        {
            if let Some((i, j)) = opinion_at.get(&n.try_get_by_index::<i64>(0)?) {
                let author: String = n.try_get_by_index(1)?;
                let text: String = n.try_get_by_index(2)?;
                out[*i].opinions[*j].notes.push(format!("{author}：{text}"));
            }
        }
        Ok(out)
    }
}
