//! What double coding refuses to others while it runs: a state change, a note or mark, a link to a problem,
//! and ordinary tagging of what it settled. Each reads the opinion's coding status in the caller's
//! transaction.

use super::{CodingStatus, get, status_in};
use crate::store::audit::Actor;
use crate::store::sql::Sql;
use crate::store::{Result, StoreError};
use sea_orm::ConnectionTrait;

/// Refuses a change of state (需核实, 无效) of an opinion being double coded, or settled by it, to all but
/// its form's adjudicator (see [`refuse_while_coded`]); an opinion marked 需核实 also left both coders'
/// queues with one coding.
///
/// # Errors
/// `Conflict` saying who may change it; `NotFound` for an unknown opinion.
pub(crate) async fn refuse_state_change_in<C: ConnectionTrait>(txn: &C, opinion_id: i64, actor: &Actor) -> Result<()> {
    let (_, status) = status_in(txn, opinion_id).await?;
    refuse_while_coded(&status, actor, "它的状态（需核实、无效）只能由本表单的裁决人修改")?;
    refuse_if_settled(&status, actor)
}

/// Refuses a note or a 典型意见 mark on an opinion being double coded to all but its form's adjudicator
/// (see [`refuse_while_coded`]): a coder's note (“我归入领域3”) showed on the other's blind card.
///
/// # Errors
/// `Conflict` saying who may add one; `NotFound` for an unknown opinion.
pub(crate) async fn refuse_remark_in<C: ConnectionTrait>(txn: &C, opinion_id: i64, actor: &Actor) -> Result<()> {
    let (_, status) = status_in(txn, opinion_id).await?;
    refuse_while_coded(
        &status,
        actor,
        "备注和典型意见标记只能由本表单的裁决人添加（两位的归类一致或经裁决定稿后，人人可加）",
    )
}

/// Whether any form double codes now: most campaigns double code nothing, and one query then spares a
/// status per opinion.
pub(super) async fn any_form_double_coded<C: ConnectionTrait>(db: &C) -> Result<bool> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT COUNT(*) AS n FROM coding_forms WHERE percent > 0");
    Ok(db.query_one_raw(sql.statement()).await?.map(|r| get::<i64>(&r, "n")).transpose()?.unwrap_or(0) > 0)
}

/// Refuses linking opinions being double coded to a problem, to all but their adjudicator: the problem's
/// page shows them under its areas, the linking coder's judgement, to the other coder.
///
/// # Errors
/// `Conflict` naming the opinions (up to ten).
pub(crate) async fn refuse_links_while_coded_in<C: ConnectionTrait>(txn: &C, ids: &[i64], actor: &Actor) -> Result<()> {
    if !any_form_double_coded(txn).await? {
        return Ok(());
    }
    let mut held = Vec::new();
    for id in ids {
        let (_, status) = status_in(txn, *id).await?;
        if refuse_while_coded(&status, actor, "").is_err() {
            held.push(id.to_string());
        }
    }
    if held.is_empty() {
        return Ok(());
    }
    let more = if held.len() > 10 { format!(" 等 {} 条", held.len()) } else { String::new() };
    held.truncate(10);
    Err(StoreError::Conflict(format!(
        "意见 {}{more} 正在双人归类，归入问题会让另一位分析人员看到判断，只能由本表单的裁决人归入；两位的归类一致或经裁决定稿后再归入。没有归入任何意见。",
        held.join("、")
    )))
}

/// While an opinion is double coded, what both coders read of it (its state, its notes) is changed only by
/// its form's adjudicator, and not by one who coded it: the second coder would read the first's judgement.
fn refuse_while_coded(status: &CodingStatus, actor: &Actor, rule: &str) -> Result<()> {
    let coder = actor.id.is_some_and(|me| status.own(me).is_some());
    if status.open && (status.adjudicator != actor.id || coder) {
        return Err(StoreError::Conflict(format!("这条意见正在双人归类，{rule}，以免影响另一位的独立归类。")));
    }
    Ok(())
}

/// Refuses ordinary tagging (a save, an accept, an undo) of an opinion whose tags double coding settled, to
/// all but the adjudicator. Called with the opinion's row held, so an agreement landing meanwhile counts.
///
/// # Errors
/// `Conflict` saying who may change it; `NotFound` for an unknown opinion.
pub(crate) async fn refuse_if_settled_in<C: ConnectionTrait>(txn: &C, opinion_id: i64, actor: &Actor) -> Result<()> {
    refuse_if_settled(&status_in(txn, opinion_id).await?.1, actor)
}

/// Refuses any undo of an opinion being double coded (a coding recorded, none settled): the undo put back
/// the areas it had before coding began, and with them it left every coding queue, its second coding and
/// its adjudication never done; a coder's own coding is changed by saving other areas, not undone. Like a
/// bulk undo ([`coded_among_in`]), one not yet coded goes back to being an ordinary tagged opinion.
///
/// # Errors
/// `Conflict` saying to save the areas instead; `NotFound` for an unknown opinion.
pub(crate) async fn refuse_undo_while_coded_in<C: ConnectionTrait>(txn: &C, opinion_id: i64) -> Result<()> {
    let status = status_in(txn, opinion_id).await?.1;
    if status.open && !status.codings.is_empty() {
        return Err(StoreError::Conflict(
            "这条意见正在双人归类，不能撤销（撤销会放回双人归类之前的领域，它就不再等待第二位分析人员和裁决人）。要改动您的归类，请直接改选领域后保存。".into(),
        ));
    }
    Ok(())
}

/// Which of `ids` double coding has touched (a coding recorded, settled or not): a bulk undo leaves them.
///
/// # Errors
/// On a database failure.
pub(crate) async fn coded_among_in<C: ConnectionTrait>(txn: &C, ids: &[i64]) -> Result<std::collections::HashSet<i64>> {
    let mut sql = Sql::new(txn.get_database_backend());
    sql.push("SELECT DISTINCT opinion_id FROM codings WHERE opinion_id IN ").bind_list(ids);
    txn.query_all_raw(sql.statement()).await?.iter().map(|r| get::<i64>(r, "opinion_id")).collect()
}

/// Refuses to undo the adjudicator's decision itself (`last_tag_change` is its tags' audit entry): the
/// opinion would fall back to no areas with the decision still standing, in no queue at all.
///
/// # Errors
/// `Conflict` saying to change the areas instead.
pub(crate) async fn refuse_undoing_a_decision_in<C: ConnectionTrait>(
    txn: &C,
    opinion_id: i64,
    last_tag_change: i64,
) -> Result<()> {
    let mut sql = Sql::new(txn.get_database_backend());
    sql.push("SELECT MAX(id) AS id FROM audit_log WHERE action = 'coding_adjudicated' AND target = ")
        .bind(format!("opinion:{opinion_id}"));
    let decided = match txn.query_one_raw(sql.statement()).await? {
        Some(row) => get::<Option<i64>>(&row, "id")?,
        None => None,
    };
    // The decision's own tags are written just before its `coding_adjudicated` entry, in one transaction.
    if decided.is_some_and(|d| d > last_tag_change) {
        return Err(StoreError::Conflict(
            "裁决结果不能撤销（撤销会让这条意见没有领域、也不在任何队列里）。要改动，请直接勾选领域后保存。".into(),
        ));
    }
    Ok(())
}

/// [`refuse_if_settled_in`] on a status already read.
fn refuse_if_settled(status: &CodingStatus, actor: &Actor) -> Result<()> {
    if !status.settled_against(actor.id) {
        return Ok(());
    }
    Err(StoreError::Conflict(
        if status.decision.is_some() {
            "这条意见的领域已由裁决人裁决，只有本表单的裁决人可以修改。"
        } else {
            "这条意见的两份独立归类一致，领域已经定稿（可能刚刚完成），只有本表单的裁决人可以修改。"
        }
        .into(),
    ))
}
