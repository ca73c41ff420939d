//! How many opinions are in each state, kept by the database itself, so the counts always shown above the
//! inbox (and on the tagging screen and the dashboard) are read from a few rows instead of counting every
//! opinion on every page. Triggers on `opinions` follow each insert, delete and change of state in the
//! same transaction. SQLite: row triggers. PostgreSQL: statement triggers over the transition tables, so a
//! batch of submissions or a bulk tag change updates each state's row once; rows are always changed in
//! state order, so two transactions cannot wait on each other's rows.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum OpinionCounts {
    Table,
    State,
    N,
}

const FILL: &str = "INSERT INTO opinion_counts (state, n) SELECT state, COUNT(*) FROM opinions GROUP BY state";

const SQLITE_UP: &[&str] = &[
    "CREATE TRIGGER IF NOT EXISTS opinion_counts_ai AFTER INSERT ON opinions BEGIN \
       INSERT INTO opinion_counts (state, n) VALUES (new.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER IF NOT EXISTS opinion_counts_ad AFTER DELETE ON opinions BEGIN \
       INSERT INTO opinion_counts (state, n) VALUES (old.state, -1) ON CONFLICT (state) DO UPDATE SET n = n - 1; END",
    "CREATE TRIGGER IF NOT EXISTS opinion_counts_au AFTER UPDATE OF state ON opinions \
       WHEN new.state IS NOT old.state BEGIN \
       INSERT INTO opinion_counts (state, n) VALUES (old.state, -1) ON CONFLICT (state) DO UPDATE SET n = n - 1; \
       INSERT INTO opinion_counts (state, n) VALUES (new.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1; END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS opinion_counts_au",
    "DROP TRIGGER IF EXISTS opinion_counts_ad",
    "DROP TRIGGER IF EXISTS opinion_counts_ai",
];

// One function for the three statement triggers: each adds (state, change) rows, merged in state order.
pub(crate) const PG_FUNCTION: &str =
    "CREATE OR REPLACE FUNCTION opinion_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO opinion_counts AS c (state, n)
      SELECT state, COUNT(*) FROM new_rows GROUP BY state ORDER BY state
      ON CONFLICT (state) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO opinion_counts AS c (state, n)
      SELECT state, -COUNT(*) FROM old_rows GROUP BY state ORDER BY state
      ON CONFLICT (state) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO opinion_counts AS c (state, n)
      SELECT state, SUM(change) FROM (
          SELECT a.state, 1 AS change FROM new_rows a JOIN old_rows b ON b.id = a.id WHERE a.state <> b.state
          UNION ALL
          SELECT b.state, -1 FROM new_rows a JOIN old_rows b ON b.id = a.id WHERE a.state <> b.state
        ) moved GROUP BY state ORDER BY state
      ON CONFLICT (state) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    DELETE FROM opinion_counts;
  END IF;
  RETURN NULL;
END $$";

const PG_UP: &[&str] = &[
    PG_FUNCTION,
    "CREATE TRIGGER opinion_counts_ai AFTER INSERT ON opinions REFERENCING NEW TABLE AS new_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION opinion_counts_follow()",
    "CREATE TRIGGER opinion_counts_ad AFTER DELETE ON opinions REFERENCING OLD TABLE AS old_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION opinion_counts_follow()",
    "CREATE TRIGGER opinion_counts_au AFTER UPDATE ON opinions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
       FOR EACH STATEMENT EXECUTE FUNCTION opinion_counts_follow()",
    "CREATE TRIGGER opinion_counts_at AFTER TRUNCATE ON opinions FOR EACH STATEMENT EXECUTE FUNCTION opinion_counts_follow()",
];

const PG_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS opinion_counts_at ON opinions",
    "DROP TRIGGER IF EXISTS opinion_counts_au ON opinions",
    "DROP TRIGGER IF EXISTS opinion_counts_ad ON opinions",
    "DROP TRIGGER IF EXISTS opinion_counts_ai ON opinions",
    "DROP FUNCTION IF EXISTS opinion_counts_follow()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OpinionCounts::Table)
                .if_not_exists()
                .col(string_len(OpinionCounts::State, 16).primary_key())
                .col(big_integer(OpinionCounts::N))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let triggers = match db.get_database_backend() {
            DbBackend::Sqlite => SQLITE_UP,
            DbBackend::Postgres => PG_UP,
            _ => &[],
        };
        for s in triggers {
            db.execute_unprepared(s).await?;
        }
        db.execute_unprepared("DELETE FROM opinion_counts").await?;
        db.execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let triggers = match db.get_database_backend() {
            DbBackend::Sqlite => SQLITE_DOWN,
            DbBackend::Postgres => PG_DOWN,
            _ => &[],
        };
        for s in triggers {
            db.execute_unprepared(s).await?;
        }
        m.drop_table(Table::drop().table(OpinionCounts::Table).to_owned()).await
    }
}
