//! Staff account names are one whatever their letter case: a phone that capitalises the first letter signs
//! in "Leader1" as leader1, and no second account "LEADER1" can be made beside it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::Statement;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let twins =
            "SELECT MIN(username), MAX(username) FROM users GROUP BY lower(username) HAVING COUNT(*) > 1 LIMIT 1";
        if let Some(row) = db.query_one_raw(Statement::from_string(m.get_database_backend(), twins)).await? {
            let (a, b): (String, String) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            return Err(DbErr::Migration(format!(
                "the accounts {a:?} and {b:?} differ only in letter case, and account names are now one whatever \
                 their case. Nothing changed: rename one (e.g. `UPDATE users SET username = '{b}-2' WHERE \
                 username = '{b}'`) and run `wenji migrate` again"
            )));
        }
        db.execute_unprepared("CREATE UNIQUE INDEX users_username_any_case ON users (lower(username))").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared("DROP INDEX users_username_any_case").await?;
        Ok(())
    }
}
