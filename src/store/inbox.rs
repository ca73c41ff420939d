//! The inbox's queries: filtered, searched, keyset-paged lists of opinions, the counts shown above them,
//! and the walk through untagged opinions that the tagging screen follows.
//!
//! Search finds any substring, one character or more, whatever the case of its Latin letters: on SQLite a query of three or more characters goes
//! through the FTS5 trigram index (plus a direct scan of the newest opinions the background indexer has
//! not reached yet), a shorter one scans with `instr`; PostgreSQL uses `LIKE` over `opinion_search` (served
//! by its `pg_trgm` index when it exists) plus the opinions queued for it, or `strpos` for short queries.
//! On PostgreSQL the lists and counts run on connections that plan every query for its values (see
//! `Store::connect`).
//!
//! The counts by state come from `opinion_counts`, which triggers keep in step; the count of opinions
//! matching a filter stops at a cap, so no page has to count every opinion.

use super::sql::Sql;
use super::{Result, Store, StoreError};
use crate::domain::area::AreaCode;
use crate::domain::tagging::{OpinionState, TagSource};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use std::collections::HashMap;

/// An opinion's form, unit, category and time: what a leader's row of it is decided from.
#[derive(Debug, Clone)]
pub struct Placement {
    pub id: i64,
    pub form_slug: String,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub submitted_at: i64,
    /// When leaders' views took it in; `None` while it waits.
    pub released_at: Option<i64>,
}

/// What the inbox is narrowed to. Every field is optional; `Default` is "everything".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboxFilter {
    pub form: Option<String>,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub area: Option<AreaCode>,
    /// Only opinions without any tag.
    pub untagged: bool,
    pub state: Option<OpinionState>,
    /// Submitted at or after (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Submitted before (ms since the epoch).
    pub to_ms: Option<i64>,
    /// Released to leaders by this cut (a leader's inbox, see `store::releases`).
    pub released_by: Option<i64>,
    /// What the opinion must contain: every word of it, or the quoted phrase
    /// ([`crate::domain::text::search_terms`]).
    pub q: Option<String>,
}

impl InboxFilter {
    /// Whether anything narrows the list.
    pub fn is_active(&self) -> bool {
        *self != InboxFilter::default()
    }
}

/// How many opinions match a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Exact(u64),
    /// More than this many; counting stopped there.
    MoreThan(u64),
}

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub id: i64,
    pub response_id: i64,
    pub form_slug: String,
    pub question_id: String,
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub text: String,
    pub state: OpinionState,
    pub representative: bool,
    pub submitted_at: i64,
    /// A likely duplicate (疑似重复): another opinion of its group has the same fingerprint. Shown once
    /// the group keeper has placed it (within about a second; after a burst of submissions, once it pauses).
    pub duplicate: bool,
    pub areas: Vec<AreaCode>,
}

/// Where an inbox page starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InboxPaging {
    /// The office's: newest first, below this opinion id (keyset paging).
    Before(Option<i64>),
    /// A leader's: in text order, never arrival order (which would tell the order people sent them in) nor
    /// by day (which would place a row whose date the policy hides), after skipping `skip` rows. Equal texts
    /// ("无") go by a keyed hash of their ids ([`hashed_id`]), not by id. A leader's view ends at the last
    /// midnight, so pages do not shift while one reads them.
    ByText { skip: u64, keys: [i64; 3] },
}

/// SQL for a keyed hash of the id column `id` that both databases compute alike: xor with a key, multiply,
/// xor-shift, multiply, xor-shift, on 31-bit numbers (so no product leaves 62 bits). A multiplier alone keeps
/// arithmetic runs (every fifth id in a row), which would keep an alternation of arrivals visible. XOR is
/// `(a | b) - (a & b)`: SQLite has no operator for it. The keys are numbers of ours, written in as literals.
pub fn hashed_id(id: &str, [s, m1, m2]: [i64; 3]) -> String {
    const P: i64 = 2_147_483_647;
    let xor = |a: &str, b: &str| format!("(({a}) | ({b})) - (({a}) & ({b}))");
    let k0 = xor(&format!("CAST({id} AS BIGINT) % {P}"), &s.to_string());
    let k1 = format!("(({k0}) * {m1}) % {P}");
    let k2 = xor(&k1, &format!("({k1}) >> 16"));
    let k3 = format!("(({k2}) * {m2}) % {P}");
    xor(&k3, &format!("({k3}) >> 13"))
}

/// Appends to a query over `opinions o` (ending in its WHERE clause) the next row in the tagging order
/// after opinion `after` (from the start when `None`), or the one before it when not `forward`: a keyed
/// hash of the id, not the id. Analysts tagging in arrival order would let a leader who watches states
/// change learn that order (and so who filled in late), whatever dates the rows show. Ids are ours,
/// written in as literals.
pub(crate) fn queue_after(sql: &mut Sql, after: Option<i64>, forward: bool, keys: [i64; 3]) {
    let h = hashed_id("o.id", keys);
    let (beyond, order) = if forward { (">", "") } else { ("<", " DESC") };
    if let Some(after) = after {
        let mark = hashed_id(&after.to_string(), keys);
        sql.push(&format!(" AND ({h} {beyond} {mark} OR ({h} = {mark} AND o.id {beyond} {after}))"));
    }
    sql.push(&format!(" ORDER BY {h}{order}, o.id{order} LIMIT 1"));
}

/// How far tagging has come.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    pub total: u64,
    pub pending: u64,
    pub tagged: u64,
    pub verify: u64,
    pub invalid: u64,
}

impl Progress {
    /// Opinions no longer waiting (tagged, to be checked, or invalid), in percent.
    pub fn done_percent(&self) -> u64 {
        ((self.total - self.pending) * 100).checked_div(self.total).unwrap_or(0)
    }
}

/// 1 when another opinion of `o`'s near-duplicate group has its fingerprint, else 0. Looked up through the
/// groups (primary key, then the (cluster_id, fingerprint) index, migration 000064), so `opinions` needs no
/// index on its random fingerprints and a group of thousands costs one lookup.
const LIKELY_DUPLICATE: &str = "(CASE WHEN EXISTS (SELECT 1 FROM opinion_clusters c \
     JOIN opinion_clusters m ON m.cluster_id = c.cluster_id AND m.fingerprint = c.fingerprint \
     WHERE c.opinion_id = o.id AND m.opinion_id <> o.id) THEN 1 ELSE 0 END)";

fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    Ok(r.try_get::<T>("", col)?)
}

/// Appends ` WHERE …` for `f` (always a valid clause; `1=1` when nothing narrows).
fn where_clause(sql: &mut Sql, backend: DbBackend, f: &InboxFilter) {
    sql.push(" WHERE 1=1");
    if let Some(v) = &f.form {
        sql.push(" AND o.form_slug = ").bind(v.clone());
    }
    if let Some(v) = &f.unit {
        sql.push(" AND o.unit_code = ").bind(v.clone());
    }
    if let Some(v) = &f.category {
        sql.push(" AND o.category_code = ").bind(v.clone());
    }
    if let Some(a) = f.area {
        // `IN` rather than `EXISTS`: SQLite then starts from the area's entries in its index instead of
        // probing for every opinion (PostgreSQL plans both as the same semi-join).
        sql.push(" AND o.id IN (SELECT t.opinion_id FROM tag_assignments t WHERE t.area_code = ")
            .bind(i16::from(a.get()))
            .push(")");
    }
    if f.untagged {
        sql.push(" AND NOT EXISTS (SELECT 1 FROM tag_assignments t WHERE t.opinion_id = o.id)");
    }
    if let Some(s) = f.state {
        sql.push(" AND o.state = ").bind(s.as_str());
    }
    if let Some(v) = f.from_ms {
        sql.push(" AND o.submitted_at >= ").bind(v);
    }
    if let Some(v) = f.to_ms {
        sql.push(" AND o.submitted_at < ").bind(v);
    }
    if let Some(v) = f.released_by {
        sql.push(" AND o.released_at <= ").bind(v);
    }
    let terms = f.q.as_deref().map(crate::domain::text::search_terms).unwrap_or_default();
    for term in &terms {
        // Every word is to occur, in any of the ways it may be written (full-width letters or not).
        sql.push(" AND (");
        for (i, q) in crate::domain::text::search_variants(term).iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            push_text_match(sql, backend, q);
        }
        sql.push(")");
    }
}

/// One condition (no leading `AND`): the opinion's text contains `q`, Latin letters in either case.
fn push_text_match(sql: &mut Sql, backend: DbBackend, q: &str) {
    let long = q.chars().count() >= 3;
    // Case-blind only where the query has letters with a case: folding every row's text costs PostgreSQL
    // several times over, which a Chinese query never needs.
    let cased = q.chars().any(|c| c.is_lowercase() || c.is_uppercase());
    let (like, text, o_text, query) =
        if cased { ("ILIKE", "lower(text)", "lower(o.text)", "lower(") } else { ("LIKE", "text", "o.text", "(") };
    match backend {
        DbBackend::Postgres if long => {
            let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            // The trigram index, plus the opinions still queued for it (see `search_index`): each queued one
            // read by its key, since a join let the planner scan every opinion for a long pattern (seconds).
            sql.push(&format!("o.id IN (SELECT opinion_id FROM opinion_search WHERE text {like} "))
                .bind(pattern.clone())
                .push(&format!(
                    " ESCAPE '\\' UNION ALL SELECT p.opinion_id FROM search_pending p \
                     WHERE (SELECT x.text FROM opinions x WHERE x.id = p.opinion_id) {like} "
                ))
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        DbBackend::Postgres => {
            sql.push(&format!("strpos({o_text}, {query}")).bind(q.to_owned()).push(")) > 0");
        }
        _ if long => {
            // A NUL would end the FTS5 query early, leaving the phrase open (the web edge refuses it too).
            let phrase = format!("\"{}\"", q.replace('\0', "").replace('"', "\"\""));
            // The index, plus the newest opinions it has not reached yet (see `search_index`).
            sql.push("o.id IN (SELECT rowid FROM opinions_fts WHERE opinions_fts MATCH ")
                .bind(phrase)
                .push(
                    " UNION ALL SELECT id FROM opinions WHERE id > \
                     (SELECT indexed_upto FROM search_index_state WHERE id = 1) AND instr(",
                )
                .push(&format!("{text}, {query}"))
                .bind(q.to_owned())
                .push(")) > 0)");
        }
        _ => {
            sql.push(&format!("instr({o_text}, {query}")).bind(q.to_owned()).push(")) > 0");
        }
    }
}

fn state_of(s: &str) -> Result<OpinionState> {
    OpinionState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown opinion state {s}")))
}

impl Store {
    fn backend(&self) -> DbBackend {
        self.db().get_database_backend()
    }

    /// A page of the inbox, `limit` rows from where `paging` says.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn inbox_page(&self, f: &InboxFilter, paging: InboxPaging, limit: u64) -> Result<Vec<InboxRow>> {
        let b = self.backend();
        let mut sql = Sql::new(b);
        // Leaders get no 疑似重复 (decision 0001), and not asking for it keeps their whole-form sort from
        // evaluating it for every opinion of the form.
        let duplicate = match paging {
            InboxPaging::Before(_) => LIKELY_DUPLICATE,
            InboxPaging::ByText { .. } => "0",
        };
        sql.push(
            "SELECT o.id, o.response_id, o.form_slug, o.question_id, o.unit_code, o.category_code, o.text, o.state, \
             o.representative, o.submitted_at, ",
        )
        .push(duplicate)
        .push(" AS dup FROM opinions o");
        where_clause(&mut sql, b, f);
        let limit = i64::try_from(limit).unwrap_or(100);
        match paging {
            InboxPaging::Before(before) => {
                if let Some(id) = before {
                    sql.push(" AND o.id < ").bind(id);
                }
                sql.push(" ORDER BY o.id DESC LIMIT ").bind(limit);
            }
            InboxPaging::ByText { skip, keys } => {
                sql.push(" ORDER BY o.text, ")
                    .push(&hashed_id("o.id", keys))
                    .push(", o.id LIMIT ")
                    .bind(limit)
                    .push(" OFFSET ")
                    .bind(i64::try_from(skip).unwrap_or(i64::MAX));
            }
        }
        let rows = self.filtering().query_all_raw(sql.statement()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(InboxRow {
                id: get(r, "id")?,
                response_id: get(r, "response_id")?,
                form_slug: get(r, "form_slug")?,
                question_id: get(r, "question_id")?,
                unit_code: get(r, "unit_code")?,
                category_code: get(r, "category_code")?,
                text: get(r, "text")?,
                state: state_of(&get::<String>(r, "state")?)?,
                representative: get(r, "representative")?,
                submitted_at: get(r, "submitted_at")?,
                duplicate: get::<i32>(r, "dup")? != 0,
                areas: Vec::new(),
            });
        }
        let ids: Vec<i64> = out.iter().map(|r| r.id).collect();
        let mut areas = self.areas_of(&ids).await?;
        for r in &mut out {
            r.areas = areas.remove(&r.id).unwrap_or_default().into_iter().map(|(a, _)| a).collect();
        }
        Ok(out)
    }

    /// The tags of many opinions at once: id → [(area, source)] in area order.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn areas_of(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<(AreaCode, TagSource)>>> {
        let mut map: HashMap<i64, Vec<(AreaCode, TagSource)>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(self.backend());
            sql.push("SELECT opinion_id, area_code, source FROM tag_assignments WHERE opinion_id IN ")
                .bind_list(chunk)
                .push(" ORDER BY opinion_id, area_code");
            for r in self.db().query_all_raw(sql.statement()).await? {
                let area = AreaCode::try_from(i64::from(get::<i16>(&r, "area_code")?)).map_err(StoreError::Corrupt)?;
                let src: String = get(&r, "source")?;
                let src = TagSource::parse(&src).ok_or(StoreError::Corrupt(src))?;
                map.entry(get(&r, "opinion_id")?).or_default().push((area, src));
            }
        }
        Ok(map)
    }

    /// How many opinions match `f`, counted no further than `cap`: past it the count stops, so a broad
    /// filter costs no more than a narrow one.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn inbox_count(&self, f: &InboxFilter, cap: u64) -> Result<Matching> {
        let b = self.backend();
        let mut sql = Sql::new(b);
        sql.push("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM opinions o");
        where_clause(&mut sql, b, f);
        sql.push(" LIMIT ").bind(i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX)).push(") m");
        let r = self.filtering().query_one_raw(sql.statement()).await?.ok_or(StoreError::NotFound)?;
        let n = u64::try_from(get::<i64>(&r, "n")?).unwrap_or(0);
        Ok(if n > cap { Matching::MoreThan(cap) } else { Matching::Exact(n) })
    }

    /// The ids of every opinion matching `f` (for bulk tagging "all matching").
    ///
    /// # Errors
    /// On a database failure.
    pub async fn inbox_ids(&self, f: &InboxFilter) -> Result<Vec<i64>> {
        let b = self.backend();
        let mut sql = Sql::new(b);
        sql.push("SELECT o.id FROM opinions o");
        where_clause(&mut sql, b, f);
        sql.push(" ORDER BY o.id");
        let rows = self.filtering().query_all_raw(sql.statement()).await?;
        rows.iter().map(|r| get::<i64>(r, "id")).collect()
    }

    /// `ids` with what leaders' rows of them are decided from.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn placements(&self, ids: &[i64]) -> Result<Vec<Placement>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(1_000) {
            let mut sql = Sql::new(self.backend());
            sql.push(
                "SELECT id, form_slug, unit_code, category_code, submitted_at, released_at FROM opinions WHERE id IN (",
            );
            for (i, id) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "" } else { ", " }).bind(*id);
            }
            sql.push(")");
            for r in self.filtering().query_all_raw(sql.statement()).await? {
                out.push(Placement {
                    id: get(&r, "id")?,
                    form_slug: get(&r, "form_slug")?,
                    unit_code: get(&r, "unit_code")?,
                    category_code: get(&r, "category_code")?,
                    submitted_at: get(&r, "submitted_at")?,
                    released_at: get(&r, "released_at")?,
                });
            }
        }
        Ok(out)
    }

    /// Counts by state, for the numbers always shown above the inbox: read from `opinion_counts`, which
    /// the database keeps in step with every insert, delete and change of state.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn progress(&self) -> Result<Progress> {
        let mut sql = Sql::new(self.backend());
        // PostgreSQL keeps a row per state and connection slot; a slot alone may be negative.
        sql.push("SELECT state, CAST(SUM(n) AS BIGINT) AS n FROM opinion_counts GROUP BY state");
        let mut p = Progress::default();
        for r in self.db().query_all_raw(sql.statement()).await? {
            let n = u64::try_from(get::<i64>(&r, "n")?).unwrap_or(0);
            match state_of(&get::<String>(&r, "state")?)? {
                OpinionState::Pending => p.pending += n,
                OpinionState::Tagged => p.tagged += n,
                OpinionState::Verify => p.verify += n,
                OpinionState::Invalid => p.invalid += n,
            }
            p.total += n;
        }
        Ok(p)
    }

    /// The next opinion waiting to be tagged after `after` in the tagging order ([`queue_after`]), wrapping
    /// round to the first one (`after` 0: the first).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn next_pending(&self, after: i64, keys: [i64; 3]) -> Result<Option<i64>> {
        let one = |after: Option<i64>| {
            let mut sql = Sql::new(self.backend());
            sql.push("SELECT o.id FROM opinions o WHERE o.state = 'pending'");
            queue_after(&mut sql, after, true, keys);
            sql.statement()
        };
        self.first_wrapping(after, one).await
    }

    /// The `id` the query `one(Some(after))` finds, else the one `one(None)` finds unless it is `after`
    /// itself: a walk through opinions that wraps round to the start (`after` 0: from the start).
    pub(crate) async fn first_wrapping(
        &self,
        after: i64,
        one: impl Fn(Option<i64>) -> sea_orm::Statement,
    ) -> Result<Option<i64>> {
        if after > 0
            && let Some(r) = self.db().query_one_raw(one(Some(after))).await?
        {
            return Ok(Some(get(&r, "id")?));
        }
        match self.db().query_one_raw(one(None)).await? {
            Some(r) => Ok(Some(get::<i64>(&r, "id")?).filter(|id| *id != after)),
            None => Ok(None),
        }
    }

    /// The opinion just before or after `id` in the tagging order, whatever its state (the arrow keys).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn neighbour(&self, id: i64, forward: bool, keys: [i64; 3]) -> Result<Option<i64>> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT o.id FROM opinions o WHERE 1 = 1");
        queue_after(&mut sql, Some(id), forward, keys);
        match self.db().query_one_raw(sql.statement()).await? {
            Some(r) => Ok(Some(get(&r, "id")?)),
            None => Ok(None),
        }
    }

    /// Whether opinion `id` is a likely duplicate (see [`InboxRow::duplicate`]).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn is_likely_duplicate(&self, id: i64) -> Result<bool> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT ").push(LIKELY_DUPLICATE).push(" AS dup FROM opinions o WHERE o.id = ").bind(id);
        let r = self.db().query_one_raw(sql.statement()).await?.ok_or(StoreError::NotFound)?;
        Ok(get::<i32>(&r, "dup")? != 0)
    }

    /// A response's answers as (question id, value), in stored order.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn answers_of(&self, response_id: i64) -> Result<Vec<(String, String)>> {
        let mut sql = Sql::new(self.backend());
        sql.push("SELECT question_id, value FROM answers WHERE response_id = ").bind(response_id).push(" ORDER BY id");
        let rows = self.db().query_all_raw(sql.statement()).await?;
        rows.iter().map(|r| Ok((get(r, "question_id")?, get(r, "value")?))).collect()
    }

    /// Which of `ids` are stored opinions, in id order.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn existing_opinion_ids(&self, ids: &[i64]) -> Result<Vec<i64>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new(self.backend());
            sql.push("SELECT id FROM opinions WHERE id IN ").bind_list(chunk);
            for r in self.db().query_all_raw(sql.statement()).await? {
                out.push(get::<i64>(&r, "id")?);
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}
