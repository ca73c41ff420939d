//! The append-only audit log: who did what, when, before and after. There is no update or delete here.

use super::entities::audit;
use super::{Result, Store, now_ms};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// One audited action.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Who did it: a user, or the system / the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    pub name: String,
    /// The one-time token of the staff form this write came from, if it carries one: the write's audit
    /// entry claims it in the same transaction, so the form sent twice writes once (`StoreError::Duplicate`).
    pub once: Option<String>,
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor { id: None, name: name.to_owned(), once: None }
    }

    /// A staff member's account, without a form's one-time token.
    pub fn staff(id: i64, name: &str) -> Actor {
        Actor { id: Some(id), name: name.to_owned(), once: None }
    }
}

pub(crate) async fn append_in<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<String>,
    after: Option<String>,
) -> Result<()> {
    if let Some(token) = &actor.once {
        // Per action: recording progress also audits the measure's new status, in the same transaction.
        let claim = format!("{token}:{action}");
        let mut sql = super::sql::Sql::new(db.get_database_backend());
        sql.push("INSERT INTO staff_once (token, at) VALUES (").bind(claim).push(", ").bind(now_ms()).push(")");
        db.execute_raw(sql.into_statement()).await?;
    }
    entry(now_ms(), actor, action, target, before, after).insert(db).await?;
    Ok(())
}

/// One audit entry stamped `at`, for appending alone ([`append_in`]) or many in one statement.
pub(crate) fn entry(
    at: i64,
    actor: &Actor,
    action: &str,
    target: &str,
    before: Option<String>,
    after: Option<String>,
) -> audit::ActiveModel {
    audit::ActiveModel {
        at: Set(at),
        actor_id: Set(actor.id),
        actor_name: Set(actor.name.clone()),
        action: Set(action.to_owned()),
        target: Set(target.to_owned()),
        before: Set(before),
        after: Set(after),
        ..Default::default()
    }
}

/// An entry to append (see [`Store::audit_all`]).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: Actor,
    pub action: &'static str,
    pub target: String,
    pub after: Option<String>,
}

impl Store {
    /// Appends `entries` in one transaction: all or none.
    ///
    /// # Errors
    /// On a database failure, when none is stored.
    pub async fn audit_all(&self, entries: &[NewEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let w = self.write_txn().await?;
        let done = async {
            for e in entries {
                append_in(w.conn(), &e.actor, e.action, &e.target, None, e.after.clone()).await?;
            }
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Appends one entry, in a transaction of its own: on SQLite an autocommitted `INSERT … RETURNING`
    /// can lose the commit's error (a full disk) once its row is read, so the entry would be missing
    /// while the caller went on as if it were stored.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        before: Option<String>,
        after: Option<String>,
    ) -> Result<()> {
        let w = self.bookkeeping_txn().await?;
        let done = append_in(w.conn(), actor, action, target, before, after).await;
        w.finish(done).await
    }

    /// Entries newest first, optionally of one action and/or one actor, before an id (keyset paging).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn audit_entries(
        &self,
        action: Option<&str>,
        actor: Option<&str>,
        before_id: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditEntry>> {
        let mut q = audit::Entity::find().order_by_desc(audit::Column::Id).limit(limit);
        if let Some(a) = action {
            q = q.filter(audit::Column::Action.eq(a));
        }
        if let Some(a) = actor {
            q = q.filter(audit::Column::ActorName.eq(a));
        }
        if let Some(b) = before_id {
            q = q.filter(audit::Column::Id.lt(b));
        }
        Ok(q.all(self.db())
            .await?
            .into_iter()
            .map(|m| AuditEntry {
                id: m.id,
                at: m.at,
                actor_id: m.actor_id,
                actor_name: m.actor_name,
                action: m.action,
                target: m.target,
                before: m.before,
                after: m.after,
            })
            .collect())
    }
}
