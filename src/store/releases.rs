//! Releases to leaders (`responses.released_at`, `opinions.released_at`, `leader_releases`,
//! `leader_pooled_units`): at each of the bureau's midnights, the responses the release plan lets go are
//! marked released with that midnight; leaders' views read released rows only
//! ([`crate::domain::report::release`]).

use super::entities::form_version;
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::form::{FormDef, questions_asked_unevenly};
use crate::domain::report::release::{Before, History, Waiting, plan};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet};

/// See [`Store::register_stamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterStamp {
    release: Option<(i64, u64, u64)>,
    audited: u64,
}

/// See [`Store::release_stamp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseStamp {
    latest: Option<Release>,
    made: u64,
}

/// What one release did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Release {
    pub cut_ms: i64,
    /// Responses released at this cut.
    pub released: u64,
    /// Responses sent before the cut that still wait for k of their unit.
    pub waiting: u64,
}

impl Release {
    /// The bureau's day the release ends: the day before its cut.
    pub fn day(&self) -> String {
        crate::domain::report::last_published_day(self.cut_ms).to_string()
    }
}

/// Takes back from leaders the opinions answering a question that the rows of their release were not all
/// asked alike ([`questions_asked_unevenly`]): the raw sheet withholds those answers, and the same text
/// as an opinion (inbox, quote sheets, problems) would tell the late rows apart. `cut`: the release just
/// made; `None` (at start) every release, so those made before this rule are mended too. Returns how
/// many it took back.
pub(crate) async fn withhold_unevenly_asked_in<C: ConnectionTrait>(db: &C, cut: Option<i64>) -> Result<u64> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(backend);
    sql.push("SELECT form_slug AS f, released_at AS t, form_version_id AS v FROM responses WHERE ");
    match cut {
        Some(cut) => sql.push("released_at = ").bind(cut),
        None => sql.push("released_at IS NOT NULL"),
    };
    sql.push(" GROUP BY form_slug, released_at, form_version_id");
    let mut releases: BTreeMap<(String, i64), Vec<i64>> = BTreeMap::new();
    for r in db.query_all_raw(sql.into_statement()).await? {
        releases.entry((r.try_get("", "f")?, r.try_get("", "t")?)).or_default().push(r.try_get("", "v")?);
    }
    releases.retain(|_, versions| versions.len() > 1);
    let ids: BTreeSet<i64> = releases.values().flatten().copied().collect();
    let mut defs: BTreeMap<i64, FormDef> = BTreeMap::new();
    for chunk in ids.into_iter().collect::<Vec<_>>().chunks(500) {
        let rows = form_version::Entity::find().filter(form_version::Column::Id.is_in(chunk.to_vec())).all(db).await?;
        for v in rows {
            let (id, def) = super::report::stored_definition(v)?;
            defs.insert(id, def);
        }
    }
    let mut withheld = 0;
    for ((form, cut), versions) in &releases {
        let asked: Vec<&FormDef> = versions.iter().filter_map(|v| defs.get(v)).collect();
        let uneven = questions_asked_unevenly(&asked);
        if uneven.is_empty() {
            continue;
        }
        let mut sql = Sql::new(backend);
        sql.push("UPDATE opinions SET released_at = NULL WHERE form_slug = ").bind(form.clone());
        sql.push(" AND released_at = ").bind(*cut).push(" AND question_id IN ");
        sql.bind_tuple(uneven.into_iter().map(|q| sea_orm::Value::from(q.to_owned())));
        withheld += db.execute_raw(sql.into_statement()).await?.rows_affected();
    }
    Ok(withheld)
}

/// PostgreSQL's advisory lock of the instance making a release (see [`Store::release_to_leaders`]).
const RELEASE_LOCK: i32 = 0x5745_4e52;

/// A response (of the table `responses`) sent well before any code was issued to a link of its unit: it
/// cannot have come with one. The issue and the response may be timed by two instances' clocks, so ten
/// minutes before the minute count as after it.
const NO_CODES_YET: &str = "NOT EXISTS (SELECT 1 FROM links l JOIN audit_log a ON a.action = 'access_codes_issued' \
     AND a.target = 'link:' || l.id WHERE l.form_slug = responses.form_slug AND l.unit_code = responses.unit_code \
     AND responses.submitted_at >= (a.at / 60000) * 60000 - 600000)";

impl Store {
    /// [`withhold_unevenly_asked_in`] on its own, at start: releases made before the rule are mended before
    /// any leader reads them.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn withhold_unevenly_asked(&self) -> Result<u64> {
        let w = self.write_txn().await?;
        let done = withhold_unevenly_asked_in(w.conn(), None).await;
        w.finish(done).await
    }

    /// Makes the release at `cut_ms` (the bureau's last midnight) unless one at or after it was made: the
    /// responses sent before the cut and not yet released that [`plan`] lets go are released with the cut.
    /// One transaction, so a leader's view sees a release whole or not at all; instances making it
    /// together agree (the cut is the key of `leader_releases`, claimed first).
    ///
    /// Gives the cut leaders' views read now: `cut_ms`, or the latest release's while this one is being
    /// made elsewhere (`cut_ms` too when nothing was ever released: any cut shows nothing).
    ///
    /// # Errors
    /// On a database failure (a full disk is `Unavailable`).
    pub async fn release_to_leaders(&self, cut_ms: i64, k: u64) -> Result<i64> {
        let shown_before = match self.latest_release().await? {
            Some(r) if r.cut_ms >= cut_ms => return Ok(cut_ms),
            Some(r) => r.cut_ms,
            None => cut_ms,
        };
        // One at a time per process; the others show the releases made before meanwhile.
        let Ok(_releasing) = self.releasing.try_lock() else { return Ok(shown_before) };
        let w = self.write_txn().await?;
        let done = async {
            let db = w.conn();
            let backend = db.get_database_backend();
            // The claim comes first: an instance that finds the cut taken leaves at once instead of planning
            // the release again. On PostgreSQL one that finds another instance making a release leaves too
            // (its INSERT would wait for the other's claim row, the whole release). k never drops between
            // releases (a `wenji export` run with a smaller k would otherwise release smaller batches).
            if backend == sea_orm::DbBackend::Postgres {
                let sql =
                    format!("SELECT pg_try_advisory_xact_lock({RELEASE_LOCK}, hashtext(current_schema())) AS free");
                let row = db.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?;
                if !row.map(|r| r.try_get::<bool>("", "free")).transpose()?.unwrap_or(false) {
                    return Ok(shown_before);
                }
            }
            let sql = "SELECT MAX(k) AS k FROM leader_releases";
            let row = db.query_one_raw(sea_orm::Statement::from_string(backend, sql)).await?;
            let before_k = row.map(|r| r.try_get::<Option<i64>>("", "k")).transpose()?.flatten().unwrap_or(0);
            let k = k.max(u64::try_from(before_k).unwrap_or(0));
            let mut sql = Sql::new(backend);
            // `rules` 2 (migrations 000073, 000075): an instance of an older build names none, or a smaller
            // one, so it cannot claim a cut beside this one and release what these rules hold back.
            sql.push("INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k, rules) VALUES ");
            sql.bind_tuple([cut_ms.into(), 0i64.into(), 0i64.into(), now_ms().into(), as_i64(k).into(), 2i64.into()]);
            sql.push(" ON CONFLICT (cut_ms) DO NOTHING");
            if db.execute_raw(sql.into_statement()).await?.rows_affected() == 0 {
                return Ok(cut_ms);
            }
            let shown_before_releases = release_what_an_older_build_showed_in(db, cut_ms, k).await?;
            // An instance not yet upgraded stores responses without the mark; those sent before any code
            // was issued to a link of their unit (none came with a code) are open.
            let sql = format!("UPDATE responses SET with_code = FALSE WHERE with_code IS NULL AND {NO_CODES_YET}");
            db.execute_raw(sea_orm::Statement::from_string(backend, sql)).await?;
            let mut before = Before::default();
            let mut sql = Sql::new(backend);
            sql.push(
                "SELECT form_slug AS f, unit_code AS u, with_code AS c, COUNT(*) AS n, MIN(submitted_at) AS t \
                 FROM responses WHERE released_at IS NULL AND submitted_at < ",
            )
            .bind(cut_ms)
            .push(" GROUP BY form_slug, unit_code, with_code");
            // Responses stored without the mark after their unit's codes (migration 000071, or an instance
            // not yet upgraded): whether each came with a code is unknown, so none goes out.
            let mut held = 0;
            for r in db.query_all_raw(sql.into_statement()).await? {
                let count = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
                let waiting = Waiting { count, oldest_ms: r.try_get("", "t")? };
                match r.try_get::<Option<bool>>("", "c")? {
                    Some(coded) => {
                        before.waiting.insert((r.try_get("", "f")?, r.try_get("", "u")?, coded), waiting);
                    }
                    None => held += count,
                }
            }
            let sql = "SELECT DISTINCT form_slug AS f, unit_code AS u FROM responses WHERE released_at IS NOT NULL";
            for r in db.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await? {
                before.named.insert((r.try_get("", "f")?, r.try_get("", "u")?));
            }
            let sql = "SELECT form_slug AS f, unit_code AS u FROM leader_pooled_units";
            for r in db.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await? {
                before.pooled.insert((r.try_get("", "f")?, r.try_get("", "u")?));
            }
            let plan = plan(&before, cut_ms, k);
            for (form, unit) in &plan.newly_pooled {
                let mut sql = Sql::new(backend);
                sql.push("INSERT INTO leader_pooled_units (form_slug, unit_code, cut_ms) VALUES ");
                sql.bind_tuple([form.clone().into(), unit.clone().into(), cut_ms.into()]);
                db.execute_raw(sql.into_statement()).await?;
            }
            // One UPDATE per form and part (coded or open) for all its released units (one per unit walked
            // the form's waiting rows each time: 12.5 s instead of 2 s for 200,000 responses in 20 units),
            // then each form's opinions.
            let mut released = 0;
            let mut by_form: BTreeMap<(&str, bool), (Vec<sea_orm::Value>, bool)> = BTreeMap::new();
            for part @ (form, unit, coded) in &plan.release {
                released += before.waiting.get(part).map_or(0, |w| w.count);
                let (units, without_unit) = by_form.entry((form.as_str(), *coded)).or_default();
                match unit {
                    Some(u) => units.push(u.clone().into()),
                    None => *without_unit = true,
                }
            }
            let forms: BTreeSet<&str> = by_form.keys().map(|(form, _)| *form).collect();
            for ((form, coded), (units, without_unit)) in by_form {
                let mut sql = Sql::new(backend);
                sql.push("UPDATE responses SET released_at = ").bind(cut_ms);
                sql.push(" WHERE released_at IS NULL AND submitted_at < ").bind(cut_ms);
                sql.push(" AND with_code = ").bind(coded);
                sql.push(" AND form_slug = ").bind(form.to_owned()).push(" AND (");
                if !units.is_empty() {
                    sql.push("unit_code IN ").bind_tuple(units).push(if without_unit { " OR " } else { "" });
                }
                sql.push(if without_unit { "unit_code IS NULL)" } else { ")" });
                db.execute_raw(sql.into_statement()).await?;
            }
            // Then each form's opinions once, whichever of its parts went out.
            for form in forms {
                let mut sql = Sql::new(backend);
                sql.push("UPDATE opinions SET released_at = ").bind(cut_ms);
                sql.push(" WHERE released_at IS NULL AND response_id IN (SELECT id FROM responses WHERE form_slug = ")
                    .bind(form.to_owned())
                    .push(" AND released_at = ")
                    .bind(cut_ms)
                    .push(")");
                db.execute_raw(sql.into_statement()).await?;
            }
            withhold_unevenly_asked_in(db, Some(cut_ms)).await?;
            let total: u64 = before.waiting.values().map(|w| w.count).sum::<u64>() + held;
            let mut sql = Sql::new(backend);
            sql.push("UPDATE leader_releases SET released = ").bind(as_i64(released + shown_before_releases));
            sql.push(", waiting = ").bind(as_i64(total - released));
            sql.push(" WHERE cut_ms = ").bind(cut_ms);
            db.execute_raw(sql.into_statement()).await?;
            Ok(cut_ms)
        }
        .await;
        match w.finish(done).await {
            // Another instance, its clock a little ahead, pooled the same unit at its own cut.
            Err(StoreError::Duplicate(_)) => Ok(shown_before),
            other => other,
        }
    }

    /// How `form` reached leaders by `cut_ms`: respondents per (unit, category, release) and the units
    /// in the pool for good.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn release_history(&self, form: &str, cut_ms: i64) -> Result<History> {
        let backend = self.db().get_database_backend();
        let mut history = History::default();
        let mut sql = Sql::new(backend);
        sql.push(
            "SELECT unit_code AS u, category_code AS c, released_at AS t, COUNT(*) AS n FROM responses \
             WHERE form_slug = ",
        )
        .bind(form.to_owned())
        .push(" AND released_at <= ")
        .bind(cut_ms)
        .push(" GROUP BY unit_code, category_code, released_at");
        for r in self.db().query_all_raw(sql.into_statement()).await? {
            let n = u64::try_from(r.try_get::<i64>("", "n")?).unwrap_or(0);
            history.releases.insert((r.try_get("", "u")?, r.try_get("", "c")?, r.try_get("", "t")?), n);
        }
        let mut sql = Sql::new(backend);
        sql.push("SELECT unit_code AS u FROM leader_pooled_units WHERE form_slug = ").bind(form.to_owned());
        sql.push(" AND cut_ms <= ").bind(cut_ms);
        for r in self.db().query_all_raw(sql.into_statement()).await? {
            history.pooled.insert(r.try_get("", "u")?);
        }
        let mut sql = Sql::new(backend);
        sql.push("SELECT CAST(COALESCE(MIN(k), 0) AS BIGINT) AS k FROM leader_releases WHERE k > 0 AND cut_ms <= ");
        sql.bind(cut_ms);
        if let Some(r) = self.db().query_one_raw(sql.into_statement()).await? {
            history.first_k = u64::try_from(r.try_get::<i64>("", "k")?).unwrap_or(0);
        }
        Ok(history)
    }

    /// Every release to leaders as (cut, k), oldest first: the batch size each day was released under.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn release_sizes(&self) -> Result<Vec<(i64, u64)>> {
        let backend = self.db().get_database_backend();
        let sql = "SELECT cut_ms, k FROM leader_releases ORDER BY cut_ms";
        let mut out = Vec::new();
        for r in self.db().query_all_raw(sea_orm::Statement::from_string(backend, sql)).await? {
            out.push((r.try_get::<i64>("", "cut_ms")?, u64::try_from(r.try_get::<i64>("", "k")?).unwrap_or(0)));
        }
        Ok(out)
    }

    /// What leaders' views hold, for the office: the latest release's cut, the responses released so far,
    /// and those that still waited at that cut.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn release_totals(&self) -> Result<Option<(Release, u64)>> {
        // SUM of a BIGINT is NUMERIC on PostgreSQL.
        self.latest_release_with("(SELECT CAST(SUM(released) AS BIGINT) FROM leader_releases)").await
    }

    /// The latest release, if any was made.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn latest_release(&self) -> Result<Option<Release>> {
        Ok(self.latest_release_with("CAST(0 AS BIGINT)").await?.map(|(r, _)| r))
    }

    /// What changes whenever the published register may: the latest release and the newest audit entry
    /// (every change to problems and measures is audited), in one query.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn register_stamp(&self) -> Result<RegisterStamp> {
        let newest = "(SELECT COALESCE(MAX(id), 0) FROM audit_log)";
        Ok(match self.latest_release_with(newest).await? {
            Some((r, audited)) => RegisterStamp { release: Some((r.cut_ms, r.released, r.waiting)), audited },
            None => RegisterStamp { release: None, audited: 0 },
        })
    }

    /// What changes whenever the responses released by any cut, or the units pooled, may: every such change
    /// is made in the transaction that adds a release (a row of `leader_releases`), so the releases made and
    /// the latest one, in one query.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn release_stamp(&self) -> Result<ReleaseStamp> {
        let made = "(SELECT COUNT(*) FROM leader_releases)";
        Ok(match self.latest_release_with(made).await? {
            Some((latest, made)) => ReleaseStamp { latest: Some(latest), made },
            None => ReleaseStamp { latest: None, made: 0 },
        })
    }

    /// The latest release and the value of the SQL expression `extra` beside it, in one query.
    async fn latest_release_with(&self, extra: &str) -> Result<Option<(Release, u64)>> {
        let sql = format!(
            "SELECT cut_ms, released, waiting, {extra} AS extra FROM leader_releases ORDER BY cut_ms DESC LIMIT 1"
        );
        let row =
            self.db().query_one_raw(sea_orm::Statement::from_string(self.db().get_database_backend(), sql)).await?;
        row.map(|r| {
            let n = |c: &str| r.try_get::<i64>("", c).map(|v| u64::try_from(v).unwrap_or(0));
            Ok((
                Release { cut_ms: r.try_get("", "cut_ms")?, released: n("released")?, waiting: n("waiting")? },
                n("extra")?,
            ))
        })
        .transpose()
    }
}

/// A database upgraded from a build before releases (migration 000066 applied with responses already
/// stored) showed leaders every response sent before the midnight of the upgrade, live, each unit under k
/// pooled in the view. Before its first release, that is recorded as a release of its own (those units in
/// the pool for good), so later releases grow each unit and the pool from what leaders saw by 0 or k: a
/// unit of 4 shown pooled, named later with one more, pointed at the fifth. Gives how many it released at
/// `claimed` itself (the upgrade's midnight is the cut being made), which that release counts.
async fn release_what_an_older_build_showed_in<C: ConnectionTrait>(db: &C, claimed: i64, k: u64) -> Result<u64> {
    let backend = db.get_database_backend();
    let count = |sql: Sql| async move {
        let row = db.query_one_raw(sql.into_statement()).await?;
        Ok::<_, StoreError>(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
    };
    let mut sql = Sql::new(backend);
    sql.push("SELECT COUNT(*) FROM leader_releases WHERE cut_ms <> ").bind(claimed);
    if count(sql).await? > 0 {
        return Ok(0);
    }
    let mut sql = Sql::new(backend);
    sql.push("SELECT applied_at FROM seaql_migrations WHERE version = 'm20261205_000066_leader_releases'");
    let Some(row) = db.query_one_raw(sql.into_statement()).await? else { return Ok(0) };
    let upgraded_ms = row.try_get_by_index::<i64>(0)?.saturating_mul(1000);
    let cut = crate::domain::report::published_until_ms(upgraded_ms);
    let mut sql = Sql::new(backend);
    sql.push("SELECT COUNT(*) FROM responses WHERE released_at IS NULL AND submitted_at < ").bind(cut);
    let shown = count(sql).await?;
    if shown == 0 || cut > claimed {
        return Ok(0);
    }
    tracing::warn!(
        responses = shown,
        "this database comes from a build before releases to leaders: what its leaders saw (sent before the \
         midnight of the upgrade) is recorded as the first release, its units under k pooled for good"
    );
    // A release of its own, unless its midnight is the cut being claimed (the first leader view on the day
    // of the upgrade): then it is part of that release.
    if cut < claimed {
        let mut sql = Sql::new(backend);
        sql.push("INSERT INTO leader_releases (cut_ms, released, waiting, made_at, k, rules) VALUES ");
        sql.bind_tuple([cut.into(), shown.into(), 0i64.into(), now_ms().into(), as_i64(k).into(), 2i64.into()]);
        db.execute_raw(sql.into_statement()).await?;
    }
    let mut sql = Sql::new(backend);
    sql.push("INSERT INTO leader_pooled_units (form_slug, unit_code, cut_ms) SELECT form_slug, unit_code, ")
        .bind(cut)
        .push(" FROM responses WHERE unit_code IS NOT NULL AND submitted_at < ")
        .bind(cut)
        .push(" GROUP BY form_slug, unit_code HAVING COUNT(*) < ")
        .bind(as_i64(k));
    db.execute_raw(sql.into_statement()).await?;
    let mut sql = Sql::new(backend);
    sql.push("UPDATE responses SET released_at = ").bind(cut);
    sql.push(" WHERE released_at IS NULL AND submitted_at < ").bind(cut);
    db.execute_raw(sql.into_statement()).await?;
    let mut sql = Sql::new(backend);
    sql.push("UPDATE opinions SET released_at = ").bind(cut);
    sql.push(" WHERE released_at IS NULL AND response_id IN (SELECT id FROM responses WHERE released_at = ")
        .bind(cut)
        .push(")");
    db.execute_raw(sql.into_statement()).await?;
    withhold_unevenly_asked_in(db, Some(cut)).await?;
    Ok(if cut == claimed { u64::try_from(shown).unwrap_or(0) } else { 0 })
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
