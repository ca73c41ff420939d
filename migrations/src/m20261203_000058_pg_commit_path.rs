//! PostgreSQL only: two costs leave the submission's transaction (issue 18, decision 0002).
//! - Search: the trigram index moves from `opinions.text` to `opinion_search`, which a background indexer
//!   fills from `search_pending` (a statement trigger queues each new opinion in the same transaction).
//!   Search reads the queued opinions directly, so nothing stored is ever missing from it.
//! - Counts: `opinion_counts` gets a slot per connection, so concurrent batches no longer queue on one
//!   row lock until the first commits; readers add the slots up.
//!
//! SQLite is unchanged: its FTS index is already filled after the commit, and it has one writer.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SEARCH_UP: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS opinion_search (\
       opinion_id BIGINT PRIMARY KEY REFERENCES opinions (id) ON DELETE CASCADE, text TEXT NOT NULL)",
    // No foreign key: it would cost a lookup per stored opinion; the indexer drops rows whose opinion is gone.
    "CREATE TABLE IF NOT EXISTS search_pending (opinion_id BIGINT PRIMARY KEY)",
    "CREATE OR REPLACE FUNCTION search_pending_follow() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       INSERT INTO search_pending (opinion_id) SELECT id FROM new_rows ORDER BY id ON CONFLICT DO NOTHING;
       RETURN NULL;
     END $$",
    "CREATE TRIGGER search_pending_ai AFTER INSERT ON opinions REFERENCING NEW TABLE AS new_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION search_pending_follow()",
    // A changed text is searched from `opinions` again until the indexer has taken the new one (texts are
    // not edited today; a row trigger, since PostgreSQL allows no transition table with a column list).
    "CREATE OR REPLACE FUNCTION search_pending_requeue() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       DELETE FROM opinion_search WHERE opinion_id = NEW.id;
       INSERT INTO search_pending (opinion_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
       RETURN NULL;
     END $$",
    "CREATE TRIGGER search_pending_au AFTER UPDATE OF text ON opinions FOR EACH ROW \
       WHEN (OLD.text IS DISTINCT FROM NEW.text) EXECUTE FUNCTION search_pending_requeue()",
    "INSERT INTO opinion_search (opinion_id, text) SELECT id, text FROM opinions ON CONFLICT DO NOTHING",
    "DROP INDEX IF EXISTS idx_opinions_text_trgm",
    // As before, the extension may be missing or not creatable by this account: search then scans.
    "DO $$ BEGIN \
       CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public; \
       CREATE INDEX IF NOT EXISTS idx_opinion_search_text_trgm ON opinion_search USING gin (text public.gin_trgm_ops); \
     EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm index not created: %', SQLERRM; \
     END $$",
];

const SEARCH_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS search_pending_au ON opinions",
    "DROP TRIGGER IF EXISTS search_pending_ai ON opinions",
    "DROP FUNCTION IF EXISTS search_pending_requeue()",
    "DROP FUNCTION IF EXISTS search_pending_follow()",
    "DROP TABLE IF EXISTS search_pending",
    "DROP TABLE IF EXISTS opinion_search",
    "DO $$ BEGIN \
       CREATE INDEX IF NOT EXISTS idx_opinions_text_trgm ON opinions USING gin (text public.gin_trgm_ops); \
     EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pg_trgm index not created: %', SQLERRM; \
     END $$",
];

// The same merge as before, into the connection's slot; within a slot rows are still changed in state
// order, and a transaction keeps its connection, so two transactions cannot wait on each other's rows.
pub(crate) const COUNTS_FUNCTION: &str =
    "CREATE OR REPLACE FUNCTION opinion_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s SMALLINT := pg_backend_pid() % 16;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO opinion_counts AS c (state, slot, n)
      SELECT state, s, COUNT(*) FROM new_rows GROUP BY state ORDER BY state
      ON CONFLICT (state, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO opinion_counts AS c (state, slot, n)
      SELECT state, s, -COUNT(*) FROM old_rows GROUP BY state ORDER BY state
      ON CONFLICT (state, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO opinion_counts AS c (state, slot, n)
      SELECT state, s, SUM(change) FROM (
          SELECT a.state, 1 AS change FROM new_rows a JOIN old_rows b ON b.id = a.id WHERE a.state <> b.state
          UNION ALL
          SELECT b.state, -1 FROM new_rows a JOIN old_rows b ON b.id = a.id WHERE a.state <> b.state
        ) moved GROUP BY state ORDER BY state
      ON CONFLICT (state, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    DELETE FROM opinion_counts;
  END IF;
  RETURN NULL;
END $$";

const COUNTS_UP: &[&str] = &[
    "ALTER TABLE opinion_counts ADD COLUMN IF NOT EXISTS slot SMALLINT NOT NULL DEFAULT 0",
    "ALTER TABLE opinion_counts DROP CONSTRAINT IF EXISTS opinion_counts_pkey",
    "ALTER TABLE opinion_counts ADD PRIMARY KEY (state, slot)",
    COUNTS_FUNCTION,
];

const COUNTS_DOWN: &[&str] = &[
    "CREATE TEMPORARY TABLE opinion_counts_merged AS SELECT state, SUM(n)::BIGINT AS n FROM opinion_counts GROUP BY state",
    "DELETE FROM opinion_counts",
    "ALTER TABLE opinion_counts DROP CONSTRAINT IF EXISTS opinion_counts_pkey",
    "ALTER TABLE opinion_counts DROP COLUMN slot",
    "INSERT INTO opinion_counts (state, n) SELECT state, n FROM opinion_counts_merged",
    "DROP TABLE opinion_counts_merged",
    "ALTER TABLE opinion_counts ADD PRIMARY KEY (state)",
    crate::m20261126_000012_opinion_counts::PG_FUNCTION,
];

async fn run(m: &SchemaManager<'_>, groups: &[&[&str]]) -> Result<(), DbErr> {
    let db = m.get_connection();
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for s in groups.iter().flat_map(|g| g.iter()) {
        db.execute_unprepared(s).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, &[SEARCH_UP, COUNTS_UP]).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        run(m, &[COUNTS_DOWN, SEARCH_DOWN]).await
    }
}
