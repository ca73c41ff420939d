//! Near-duplicate groups (同类意见): placing new opinions off the submission path, and the reads the
//! inbox, the tagging screen, bulk tagging and the reports use.
//!
//! [`ClusterKeeper`] holds the MinHash index in memory. It is rebuilt from the stored groups (signatures
//! are recomputed from the texts) on its first pass, then each pass places the opinions not yet placed,
//! in id order, and stores their groups in a few large transactions. `serve` runs a pass every second; an opinion
//! not yet placed counts as a group of its own.
//!
//! On PostgreSQL several instances share one database, and an index that missed the opinions another
//! instance placed would keep copies apart: one instance at a time keeps the groups, the one holding
//! [`KEEPER_LOCK`]; another takes over (rebuilding from the stored groups) when it goes away.
//!
//! A pass looks only past the highest opinion placed so far (a scan from the first opinion would read
//! every stored text each second). On SQLite that is exact: one writer commits opinions in id order. On
//! PostgreSQL concurrent batches may commit a lower id late, so a pass also looks [`PG_LOOKBACK`] ids back,
//! and every [`PG_FULL_PASS_EVERY`]th pass (and the first) looks at every opinion.

use super::sql::{Sql, sized_chunks};
use super::{Result, Store};
use crate::domain::cluster::{Clusters, Signer};
use sea_orm::{ConnectionTrait, Statement, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Opinions read and placed per step.
const STEP: u64 = 500;
/// Placed groups are stored once this many have gathered (and at the end of a pass): each store takes
/// the writer's turn from the submissions, so a few large transactions a second rather than many small.
const STORE_EVERY: usize = 5_000;
/// PostgreSQL: how far below the highest placed id a pass still looks for late commits (more than the
/// opinions of every batch two instances can have in flight).
const PG_LOOKBACK: i64 = 20_000;
/// PostgreSQL: every this many passes, one looks at every opinion.
const PG_FULL_PASS_EVERY: u64 = 600;

/// PostgreSQL: the advisory lock held by the instance that keeps the groups ("WENJ").
const KEEPER_LOCK: i32 = 0x5745_4e4a;

/// Whether this instance keeps the groups now.
#[derive(Debug)]
enum Lease {
    /// It kept them since its last pass (always so on SQLite).
    Kept,
    /// It has just taken them over: another instance may have placed opinions meanwhile.
    Taken,
    /// Another instance keeps them.
    Elsewhere,
}

/// The in-memory index and the task that keeps `opinion_clusters` up to date.
#[derive(Clone, Default)]
pub struct ClusterKeeper {
    inner: Arc<tokio::sync::Mutex<Option<Placed>>>,
    signer: Arc<Signer>,
}

/// The index, the highest opinion id placed, and how many passes have run.
struct Placed {
    clusters: Clusters,
    upto: i64,
    passes: u64,
}

impl std::fmt::Debug for ClusterKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKeeper")
    }
}

impl ClusterKeeper {
    /// Places every opinion not yet placed; returns how many it placed.
    ///
    /// # Errors
    /// On a database failure (the next pass tries again from where the stored groups end).
    pub async fn catch_up(&self, store: &Store) -> Result<usize> {
        let mut guard = self.inner.lock().await;
        match store.keeper_lease().await? {
            Lease::Kept => {}
            Lease::Taken => *guard = None,
            Lease::Elsewhere => {
                *guard = None;
                return Ok(0);
            }
        }
        if guard.is_none() {
            let (clusters, upto) = self.rebuild(store).await?;
            *guard = Some(Placed { clusters, upto, passes: 0 });
        }
        let index = guard.as_mut().expect("built above");
        let backend = store.db().get_database_backend();
        let pg = backend == sea_orm::DatabaseBackend::Postgres;
        let mut from = match index.passes {
            0 => i64::MIN,
            n if pg && n % PG_FULL_PASS_EVERY == 0 => i64::MIN,
            _ if pg => index.upto.saturating_sub(PG_LOOKBACK),
            _ => index.upto,
        };
        index.passes += 1;
        let mut placed = 0;
        let mut placed_rows: Vec<Placement> = Vec::new();
        loop {
            let mut sql = Sql::new(backend);
            sql.push(
                "SELECT o.id, o.text, o.fingerprint FROM opinions o \
                 LEFT JOIN opinion_clusters c ON c.opinion_id = o.id WHERE o.id > ",
            )
            .bind(from)
            .push(" AND c.opinion_id IS NULL ORDER BY o.id LIMIT ")
            .bind(STEP as i64);
            let rows = store.db().query_all_raw(sql.statement()).await?;
            for r in &rows {
                let id: i64 = r.try_get("", "id")?;
                let text: String = r.try_get("", "text")?;
                let group = index.clusters.place_text(id, &text, &self.signer);
                placed_rows.push(Placement { id, group, fingerprint: r.try_get("", "fingerprint")? });
                from = id;
            }
            if placed_rows.len() >= STORE_EVERY || (rows.is_empty() && !placed_rows.is_empty()) {
                store_groups(store, &placed_rows).await?;
                placed += placed_rows.len();
                index.upto = index.upto.max(from);
                placed_rows.clear();
            }
            if rows.is_empty() {
                return Ok(placed);
            }
        }
    }

    /// The index of every stored group, in id order, and the highest id placed. Exact copies that stored
    /// groups keep apart (short texts were once left alone) are moved to their first copy's group.
    async fn rebuild(&self, store: &Store) -> Result<(Clusters, i64)> {
        let mut clusters = Clusters::default();
        let mut moves: Vec<(i64, i64)> = Vec::new();
        let mut after = i64::MIN;
        loop {
            let mut sql = Sql::new(store.db().get_database_backend());
            sql.push(
                "SELECT o.id, o.text, c.cluster_id FROM opinions o JOIN opinion_clusters c ON c.opinion_id = o.id \
                 WHERE o.id > ",
            )
            .bind(after)
            .push(" ORDER BY o.id LIMIT ")
            .bind(STEP as i64 * 4);
            let rows = store.db().query_all_raw(sql.statement()).await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get("", "id")?;
                let text: String = r.try_get("", "text")?;
                let stored: i64 = r.try_get("", "cluster_id")?;
                let group = clusters.restore_text(id, &text, stored, &self.signer);
                if group != stored {
                    moves.push((group, id));
                }
                after = id;
            }
        }
        if !moves.is_empty() {
            moves.sort_unstable();
            let w = store.write_txn().await?;
            let done = async {
                for run in moves.chunk_by(|a, b| a.0 == b.0) {
                    for chunk in run.chunks(500) {
                        let mut sql = Sql::new(w.conn().get_database_backend());
                        sql.push("UPDATE opinion_clusters SET cluster_id = ")
                            .bind(chunk[0].0)
                            .push(" WHERE opinion_id IN ")
                            .bind_list(&chunk.iter().map(|(_, id)| *id).collect::<Vec<_>>());
                        w.conn().execute_raw(sql.statement()).await?;
                    }
                }
                Ok(())
            }
            .await;
            w.finish(done).await?;
        }
        Ok((clusters, after))
    }
}

/// One opinion placed in its group, with its fingerprint (the inbox's 疑似重复 looks it up by group).
struct Placement {
    id: i64,
    group: i64,
    fingerprint: String,
}

/// Stores placed opinions' groups in one write transaction, in statements of at most `STEP` rows
/// (power-of-two pieces, so the same few prepared statements serve every pass).
async fn store_groups(store: &Store, placed: &[Placement]) -> Result<()> {
    let w = store.write_txn().await?;
    let done = async {
        for chunk in sized_chunks(placed, STEP as usize) {
            let mut ins = Sql::new(w.conn().get_database_backend());
            ins.push("INSERT INTO opinion_clusters (opinion_id, cluster_id, fingerprint) VALUES ");
            ins.bind_rows(chunk.iter().map(|p| [p.id.into(), p.group.into(), Value::from(p.fingerprint.clone())]))
                .push(" ON CONFLICT (opinion_id) DO NOTHING");
            w.conn().execute_raw(ins.into_statement()).await?;
        }
        Ok(())
    }
    .await;
    w.finish(done).await
}

/// Opinions and their near-duplicate groups in one scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCount {
    pub opinions: u64,
    /// Groups: each placed group once, each opinion not yet placed as its own.
    pub groups: u64,
}

impl Store {
    /// PostgreSQL: whether this instance holds [`KEEPER_LOCK`] on its kept connection, taking it when free.
    /// (A replaced connection has lost the lock: taking it again counts as a takeover.)
    async fn keeper_lease(&self) -> Result<Lease> {
        let Some(lease) = &self.keeper_lease else { return Ok(Lease::Kept) };
        let conn = lease.conn().await?;
        // Keyed by schema too: campaigns (and tests) in schemas of one database each have their keeper.
        // CASE tries the lock only when this connection does not hold it already, so it never stacks.
        let sql = format!(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND pid = pg_backend_pid() AND classid = {KEEPER_LOCK} \
             AND objid = hashtext(current_schema())::oid AND objsubid = 2) THEN 'kept' \
             WHEN pg_try_advisory_lock({KEEPER_LOCK}, hashtext(current_schema())) THEN 'taken' \
             ELSE 'elsewhere' END AS lease"
        );
        let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await?;
        Ok(match row.map(|r| r.try_get::<String>("", "lease")).transpose()?.as_deref() {
            Some("kept") => Lease::Kept,
            Some("taken") => Lease::Taken,
            _ => Lease::Elsewhere,
        })
    }

    /// The opinions in `opinion`'s group, itself included, in id order; just `[opinion]` when it is
    /// alone or not yet placed, empty when there is no such opinion. (For linking a whole group to a
    /// problem as well as for tagging it.)
    ///
    /// # Errors
    /// On a database failure.
    pub async fn cluster_members(&self, opinion: i64) -> Result<Vec<i64>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT d.opinion_id FROM opinion_clusters c JOIN opinion_clusters d ON d.cluster_id = c.cluster_id \
             WHERE c.opinion_id = ",
        )
        .bind(opinion)
        .push(" ORDER BY d.opinion_id");
        let mut ids = Vec::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            ids.push(r.try_get::<i64>("", "opinion_id")?);
        }
        if ids.is_empty() {
            return self.existing_opinion_ids(&[opinion]).await;
        }
        Ok(ids)
    }

    /// For each of `ids` that shares its group with others, the group's size.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn cluster_sizes(&self, ids: &[i64]) -> Result<HashMap<i64, u64>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(400) {
            let mut sql = Sql::new(self.db().get_database_backend());
            sql.push(
                "SELECT c.opinion_id, COUNT(*) AS n FROM opinion_clusters c \
                 JOIN opinion_clusters d ON d.cluster_id = c.cluster_id WHERE c.opinion_id IN ",
            )
            .bind_list(chunk)
            .push(" GROUP BY c.opinion_id HAVING COUNT(*) > 1");
            for r in self.db().query_all_raw(sql.statement()).await? {
                out.insert(r.try_get::<i64>("", "opinion_id")?, r.try_get::<i64>("", "n")? as u64);
            }
        }
        Ok(out)
    }

    /// Valid opinions (not 无效) and the groups they fall into, over every form or one, of those sent before
    /// `until_ms` when given.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn group_count(&self, form: Option<&str>, until_ms: Option<i64>) -> Result<GroupCount> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT COUNT(*) AS opinions, COUNT(DISTINCT c.cluster_id) AS placed, \
             COUNT(*) - COUNT(c.opinion_id) AS unplaced \
             FROM opinions o LEFT JOIN opinion_clusters c ON c.opinion_id = o.id WHERE o.state <> 'invalid'",
        );
        if let Some(f) = form {
            sql.push(" AND o.form_slug = ").bind(f.to_owned());
        }
        if let Some(ms) = until_ms {
            sql.push(" AND o.released_at <= ").bind(ms);
        }
        let row = self.db().query_one_raw(sql.statement()).await?;
        let Some(r) = row else { return Ok(GroupCount::default()) };
        let opinions = r.try_get::<i64>("", "opinions")? as u64;
        let placed = r.try_get::<i64>("", "placed")? as u64;
        let unplaced = r.try_get::<i64>("", "unplaced")? as u64;
        Ok(GroupCount { opinions, groups: placed + unplaced })
    }
}
