//! Double coding: a form's setting (sample, adjudicator), each coder's independent coding, the queue of
//! disagreements and the adjudicator's decision. Final tags (`tag_assignments`, what reports use) are
//! written only when both coders agree or the adjudicator decides; every coding and decision is audited
//! in the transaction that stores it.

use super::audit::{Actor, append_in};
use super::opinions::replace_tags_in;
use super::sql::Sql;
use super::{Result, Store, StoreError, now_ms};
use crate::domain::agreement::{CodedPair, Sample};
use crate::domain::area::AreaCode;
use crate::domain::tagging::TagSource;
use sea_orm::{ConnectionTrait, QueryResult};

mod guards;
pub(crate) use guards::{
    coded_among_in, refuse_if_settled_in, refuse_links_while_coded_in, refuse_remark_in, refuse_state_change_in,
    refuse_undo_while_coded_in, refuse_undoing_a_decision_in,
};

/// Why a second coder's save from a card that showed a suggestion was refused.
pub const SHOWN_BEFORE_BLIND: &str = "另一位分析人员刚刚完成了这条意见的第一份归类，您需要在看不到建议的情况下独立归类；您的选择没有保存，请重新打开这条意见再选。";

/// Why the form's adjudicator's coding was refused: a disagreement they coded could be decided by nobody.
pub const ADJUDICATOR_DOES_NOT_CODE: &str =
    "您是本表单双人归类的裁决人，不参与独立归类（否则您参与的分歧将无人可以裁决）；这条意见留给另外两位分析人员。";

/// A form's double-coding setting; `sample` is `None` when it is turned off.
#[derive(Debug, Clone, PartialEq)]
pub struct CodingForm {
    pub form: String,
    pub sample: Option<Sample>,
    pub salt: i64,
    pub adjudicator_id: Option<i64>,
}

/// One coder's independent coding of an opinion.
#[derive(Debug, Clone, PartialEq)]
pub struct Coding {
    /// 1 for whoever coded first, 2 for the second.
    pub slot: i16,
    pub user_id: i64,
    pub coder: String,
    pub areas: Vec<AreaCode>,
    pub at: i64,
}

/// Where an opinion stands in double coding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CodingStatus {
    /// Its form double codes it (and it was not tagged before that began).
    pub open: bool,
    pub codings: Vec<Coding>,
    pub decision: Option<Vec<AreaCode>>,
    /// Its form's adjudicator, the one who may still change decided tags.
    pub adjudicator: Option<i64>,
}

impl CodingStatus {
    /// `user`'s own coding, if any.
    pub fn own(&self, user: i64) -> Option<&Coding> {
        self.codings.iter().find(|c| c.user_id == user)
    }
    /// Someone else has coded it already: `user` would be (or is) the second coder and must see neither
    /// that coding nor any suggestion.
    pub fn blind_for(&self, user: i64) -> bool {
        self.open && self.codings.iter().any(|c| c.user_id != user)
    }
    /// Its final tags came from double coding (the adjudicator's decision, or two equal codings) and its
    /// form names an adjudicator, who alone changes them. Without one (double coding turned off and the
    /// adjudicator cleared) they are ordinary tags again, rather than tags nobody may change.
    pub fn settled(&self) -> bool {
        let agreed = matches!(self.codings.as_slice(), [a, b] if a.areas == b.areas);
        self.adjudicator.is_some() && (self.decision.is_some() || agreed)
    }
    /// [`CodingStatus::settled`] and `user` is not the adjudicator: a coder could otherwise overrule the
    /// outcome alone by tagging again, or by a change of mind sent as the other coder's equal coding landed.
    pub fn settled_against(&self, user: Option<i64>) -> bool {
        self.settled() && self.adjudicator != user
    }
}

/// What a coding led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodingOutcome {
    /// Waiting for the second coder.
    Waiting,
    /// Both chose the same areas: they are now the final tags.
    Agreed,
    /// They differ: the opinion waits in the adjudication queue.
    Disputed,
}

/// A disagreement waiting for the adjudicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    pub opinion_id: i64,
    pub form_slug: String,
    pub text: String,
    pub first: Coding,
    pub second: Coding,
}

fn areas_text(areas: &[AreaCode]) -> String {
    let mut a = areas.to_vec();
    a.sort();
    a.dedup();
    a.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

fn parse_areas(s: &str) -> Result<Vec<AreaCode>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let n: i64 = p.parse().map_err(|_| StoreError::Corrupt(format!("coding areas {s}")))?;
            AreaCode::try_from(n).map_err(StoreError::Corrupt)
        })
        .collect()
}

fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> Result<T> {
    Ok(r.try_get::<T>("", col)?)
}

fn form_of(r: &QueryResult) -> Result<CodingForm> {
    let percent: i16 = get(r, "percent")?;
    let salt: i64 = get(r, "salt")?;
    let sample =
        if percent == 0 { None } else { Some(Sample::new(i64::from(percent), salt).map_err(StoreError::Corrupt)?) };
    Ok(CodingForm { form: get(r, "form_slug")?, sample, salt, adjudicator_id: get(r, "adjudicator_id")? })
}

async fn coding_form_in<C: ConnectionTrait>(db: &C, form: &str) -> Result<Option<CodingForm>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT form_slug, percent, salt, adjudicator_id FROM coding_forms WHERE form_slug = ").bind(form);
    db.query_one_raw(sql.statement()).await?.as_ref().map(form_of).transpose()
}

async fn codings_in<C: ConnectionTrait>(db: &C, opinion_id: i64) -> Result<Vec<Coding>> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push("SELECT slot, user_id, coder_name, areas, created_at FROM codings WHERE opinion_id = ")
        .bind(opinion_id)
        .push(" ORDER BY slot");
    db.query_all_raw(sql.statement())
        .await?
        .iter()
        .map(|r| {
            Ok(Coding {
                slot: get(r, "slot")?,
                user_id: get(r, "user_id")?,
                coder: get(r, "coder_name")?,
                areas: parse_areas(&get::<String>(r, "areas")?)?,
                at: get(r, "created_at")?,
            })
        })
        .collect()
}

async fn status_in<C: ConnectionTrait>(db: &C, opinion_id: i64) -> Result<(String, CodingStatus)> {
    let mut sql = Sql::new(db.get_database_backend());
    sql.push(
        "SELECT o.form_slug, (SELECT COUNT(*) FROM tag_assignments t WHERE t.opinion_id = o.id) AS tags, \
         (SELECT d.areas FROM coding_decisions d WHERE d.opinion_id = o.id) AS decided FROM opinions o WHERE o.id = ",
    )
    .bind(opinion_id);
    let r = db.query_one_raw(sql.statement()).await?.ok_or(StoreError::NotFound)?;
    let form: String = get(&r, "form_slug")?;
    let tags: i64 = get(&r, "tags")?;
    let decision = get::<Option<String>>(&r, "decided")?.map(|s| parse_areas(&s)).transpose()?;
    let codings = codings_in(db, opinion_id).await?;
    let setting = coding_form_in(db, &form).await?;
    let adjudicator = setting.as_ref().and_then(|f| f.adjudicator_id);
    let sampled = setting.and_then(|f| f.sample).is_some_and(|s| s.contains(opinion_id));
    let settled = decision.is_some() || codings.len() == 2 && codings[0].areas == codings[1].areas;
    // An opinion tagged before its form began double coding stays an ordinary one.
    let open = sampled && !settled && (!codings.is_empty() || tags == 0);
    Ok((form, CodingStatus { open, codings, decision, adjudicator }))
}

impl Store {
    /// Every form's double-coding setting.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn coding_forms(&self) -> Result<Vec<CodingForm>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push("SELECT form_slug, percent, salt, adjudicator_id FROM coding_forms ORDER BY form_slug");
        self.db().query_all_raw(sql.statement()).await?.iter().map(form_of).collect()
    }

    /// Turns double coding on (`sample`) or off (`None`) for `form` and names its adjudicator. A form's
    /// salt is kept from its first setting (`new_salt` only seeds a new form), so raising the percentage
    /// keeps every opinion already sampled.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn set_double_coding(
        &self,
        form: &str,
        sample_percent: u8,
        new_salt: i64,
        adjudicator_id: Option<i64>,
        actor: &Actor,
    ) -> Result<CodingForm> {
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            let before = coding_form_in(txn, form).await?;
            let salt = before.as_ref().map_or(new_salt, |f| f.salt);
            let mut sql = Sql::new(txn.get_database_backend());
            if before.is_some() {
                sql.push("UPDATE coding_forms SET percent = ")
                    .bind(i16::from(sample_percent))
                    .push(", adjudicator_id = ")
                    .bind(adjudicator_id)
                    .push(", updated_at = ")
                    .bind(now_ms())
                    .push(" WHERE form_slug = ")
                    .bind(form);
            } else {
                sql.push("INSERT INTO coding_forms (form_slug, percent, salt, adjudicator_id, updated_at) VALUES ")
                    .bind_tuple([
                        form.into(),
                        i16::from(sample_percent).into(),
                        salt.into(),
                        adjudicator_id.into(),
                        now_ms().into(),
                    ]);
            }
            txn.execute_raw(sql.statement()).await?;
            let describe =
                |p: u8, a: Option<i64>| format!("percent={p} adjudicator={}", a.map_or("-".into(), |a| a.to_string()));
            append_in(
                txn,
                actor,
                "double_coding_set",
                &format!("form:{form}"),
                before.as_ref().map(|f| describe(f.sample.map_or(0, Sample::percent), f.adjudicator_id)),
                Some(describe(sample_percent, adjudicator_id)),
            )
            .await?;
            coding_form_in(txn, form).await?.ok_or(StoreError::NotFound)
        }
        .await;
        w.finish(done).await
    }

    /// Those of `ids` still being double coded, which only the coders and the adjudicator may tag, or
    /// settled by it ([`CodingStatus::settled`]), which the adjudicator alone may change: bulk changes
    /// leave both.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn under_double_coding(&self, ids: &[i64]) -> Result<Vec<i64>> {
        // Most campaigns double code nothing: one query then spares a status per opinion.
        if self.coding_forms().await?.is_empty() {
            return Ok(Vec::new());
        }
        let mut open = Vec::new();
        for id in ids {
            match status_in(self.db(), *id).await {
                Ok((_, s)) if s.open || s.settled() => open.push(*id),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(open)
    }

    /// Where opinion `id` stands in double coding.
    ///
    /// # Errors
    /// `NotFound` for an unknown opinion.
    pub async fn coding_status(&self, opinion_id: i64) -> Result<CodingStatus> {
        Ok(status_in(self.db(), opinion_id).await?.1)
    }

    /// Records `actor`'s independent coding of an opinion being double coded (replacing their own earlier
    /// one while the other coder has not finished). When both have coded and agree, their areas become
    /// the final tags (sources from `source_of`); when they differ the opinion waits for adjudication.
    /// `saw_suggestion`: the card the coding came from showed the model's suggestion.
    ///
    /// # Errors
    /// `Conflict` when the opinion is not (or no longer) being double coded, or two others coded it, or
    /// ([`SHOWN_BEFORE_BLIND`]) `actor` is its second coder and saw a suggestion.
    pub async fn record_coding(
        &self,
        opinion_id: i64,
        areas: &[AreaCode],
        source_of: impl Fn(AreaCode) -> TagSource,
        saw_suggestion: bool,
        actor: &Actor,
    ) -> Result<CodingOutcome> {
        let user = actor.id.ok_or_else(|| StoreError::Conflict("只有分析人员可以归类".into()))?;
        let text = areas_text(areas);
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            // Held first: a coder's second thoughts and the other coder's first coding, sent at once, must
            // each see the other's, or an agreement is lost or a dispute settled.
            super::opinions::opinion_locked(txn, opinion_id).await?;
            let (_, status) = status_in(txn, opinion_id).await?;
            if !status.open {
                return Err(StoreError::Conflict("这条意见不在双人归类中，或已经定稿".into()));
            }
            if status.adjudicator == Some(user) {
                return Err(StoreError::Conflict(ADJUDICATOR_DOES_NOT_CODE.into()));
            }
            // Judged here, under the row: the first coding may have landed after the card was drawn, and
            // the model's guess must not count as the second coder's independent coding.
            if saw_suggestion && status.blind_for(user) {
                return Err(StoreError::Conflict(SHOWN_BEFORE_BLIND.into()));
            }
            let mut sql = Sql::new(txn.get_database_backend());
            let slot = match status.own(user) {
                Some(_) if status.codings.len() == 2 => {
                    return Err(StoreError::Conflict("两位分析人员都已归类，分歧由裁决人处理，不能再修改".into()));
                }
                Some(own) => {
                    sql.push("UPDATE codings SET areas = ")
                        .bind(text.clone())
                        .push(", created_at = ")
                        .bind(now_ms())
                        .push(" WHERE opinion_id = ")
                        .bind(opinion_id)
                        .push(" AND slot = ")
                        .bind(own.slot);
                    own.slot
                }
                None if status.codings.len() >= 2 => {
                    return Err(StoreError::Conflict("这条意见已由两位分析人员独立归类".into()));
                }
                None => {
                    let slot = status.codings.len() as i16 + 1;
                    sql.push("INSERT INTO codings (opinion_id, slot, user_id, coder_name, areas, created_at) VALUES ")
                        .bind_tuple([
                            opinion_id.into(),
                            slot.into(),
                            user.into(),
                            actor.name.clone().into(),
                            text.clone().into(),
                            now_ms().into(),
                        ]);
                    slot
                }
            };
            txn.execute_raw(sql.statement()).await?;
            append_in(
                txn,
                actor,
                "coding_recorded",
                &format!("opinion:{opinion_id}"),
                Some(format!("slot={slot}")),
                Some(text.clone()),
            )
            .await?;
            let codings = codings_in(txn, opinion_id).await?;
            if codings.len() < 2 {
                return Ok(CodingOutcome::Waiting);
            }
            if codings[0].areas != codings[1].areas {
                return Ok(CodingOutcome::Disputed);
            }
            replace_tags_in(txn, opinion_id, None, areas, source_of, actor).await?;
            append_in(txn, actor, "coding_agreed", &format!("opinion:{opinion_id}"), None, Some(text.clone())).await?;
            Ok(CodingOutcome::Agreed)
        }
        .await;
        // Two coders racing for the last slot: the database's keys decide, the loser is told.
        let done = match done {
            Err(StoreError::Duplicate(_)) => Err(StoreError::Conflict("另一位分析人员刚刚完成了这条意见的归类".into())),
            other => other,
        };
        w.finish(done).await
    }

    /// The disagreements waiting for `adjudicator` (the forms that named them), oldest first: those still in
    /// their form's sample, and not coded by the adjudicator.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn disputes(&self, adjudicator: i64, limit: u64) -> Result<Vec<Dispute>> {
        let mut out = Vec::new();
        for (id, form_slug, text) in self.decidable(Some(adjudicator)).await? {
            if out.len() as u64 >= limit {
                break;
            }
            let mut c = codings_in(self.db(), id).await?;
            if c.len() != 2 {
                continue;
            }
            let second = c.pop().expect("two codings");
            let first = c.pop().expect("two codings");
            out.push(Dispute { opinion_id: id, form_slug, text, first, second });
        }
        Ok(out)
    }

    /// The disagreements an adjudicator can decide, as (opinion id, form, text), oldest first: of
    /// `adjudicator`, or of every form that names one. Still in their form's sample (see `adjudicate`),
    /// and coded by others than the adjudicator.
    async fn decidable(&self, adjudicator: Option<i64>) -> Result<Vec<(i64, String, String)>> {
        self.disagreements(adjudicator, false).await
    }

    /// Open disagreements, per form, that its adjudicator coded and so cannot decide (named after coding):
    /// the admin names another adjudicator for them.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn disputes_coded_by_their_adjudicator(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut out = std::collections::BTreeMap::new();
        for (_, form, _) in self.disagreements(None, true).await? {
            *out.entry(form).or_default() += 1;
        }
        Ok(out)
    }

    /// [`Store::decidable`], or (`coded_by_adjudicator`) those its adjudicator coded instead.
    async fn disagreements(
        &self,
        adjudicator: Option<i64>,
        coded_by_adjudicator: bool,
    ) -> Result<Vec<(i64, String, String)>> {
        let mut sql = Sql::new(self.db().get_database_backend());
        sql.push(
            "SELECT o.id, o.form_slug, o.text FROM opinions o JOIN coding_forms f ON f.form_slug = o.form_slug \
             JOIN codings a ON a.opinion_id = o.id AND a.slot = 1 JOIN codings b ON b.opinion_id = o.id AND b.slot = 2 \
             WHERE a.areas <> b.areas AND NOT EXISTS (SELECT 1 FROM coding_decisions d WHERE d.opinion_id = o.id) AND ",
        );
        sql.push(if coded_by_adjudicator {
            "(a.user_id = f.adjudicator_id OR b.user_id = f.adjudicator_id)"
        } else {
            "a.user_id <> f.adjudicator_id AND b.user_id <> f.adjudicator_id"
        });
        match adjudicator {
            Some(a) => sql.push(" AND f.adjudicator_id = ").bind(a),
            None => sql.push(" AND f.adjudicator_id IS NOT NULL"),
        };
        sql.push(" ORDER BY o.id");
        let forms: std::collections::HashMap<String, CodingForm> =
            self.coding_forms().await?.into_iter().map(|f| (f.form.clone(), f)).collect();
        let mut out = Vec::new();
        for r in self.db().query_all_raw(sql.statement()).await? {
            let (id, form): (i64, String) = (get(&r, "id")?, get(&r, "form_slug")?);
            if forms.get(&form).and_then(|f| f.sample).is_some_and(|s| s.contains(id)) {
                out.push((id, form, get(&r, "text")?));
            }
        }
        Ok(out)
    }

    /// Disagreements waiting for an adjudicator, over every form (as the adjudicators' queues list them).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn dispute_count(&self) -> Result<u64> {
        Ok(self.decidable(None).await?.len() as u64)
    }

    /// The adjudicator decides a disagreement: `areas` become the final tags. The audit entry keeps both
    /// codings (before) and the decision (after).
    ///
    /// # Errors
    /// `Conflict` when the opinion has no open disagreement or `actor` is not its form's adjudicator.
    pub async fn adjudicate(&self, opinion_id: i64, areas: &[AreaCode], actor: &Actor) -> Result<()> {
        let text = areas_text(areas);
        let w = self.write_txn().await?;
        let txn = w.conn();
        let done = async {
            super::opinions::opinion_locked(txn, opinion_id).await?;
            let (form, status) = status_in(txn, opinion_id).await?;
            let adjudicator = coding_form_in(txn, &form).await?.and_then(|f| f.adjudicator_id);
            if adjudicator.is_none() || adjudicator != actor.id {
                return Err(StoreError::Conflict("只有本表单指定的裁决人可以裁决".into()));
            }
            let [a, b] = status.codings.as_slice() else {
                return Err(StoreError::Conflict("这条意见还没有两份独立归类".into()));
            };
            if status.decision.is_some() || a.areas == b.areas {
                return Err(StoreError::Conflict("这条意见没有待裁决的分歧".into()));
            }
            if actor.id.is_some_and(|me| me == a.user_id || me == b.user_id) {
                return Err(StoreError::Conflict(
                    "您是这条意见的两位归类人之一，不能裁决自己参与的分歧；请管理员另指定裁决人。".into(),
                ));
            }
            // Out of the sample now (its percentage lowered, or double coding off): it is tagged as any
            // other opinion, and a decision would overwrite those tags unseen.
            if !status.open {
                return Err(StoreError::Conflict(
                    "这条意见已不在双人归类的抽样中（管理员改了抽样比例或关闭了双人归类），不再裁决；请在归类页面查看它现在的领域。"
                        .into(),
                ));
            }
            let both =
                format!("slot1 {}: {}; slot2 {}: {}", a.coder, areas_text(&a.areas), b.coder, areas_text(&b.areas));
            let mut sql = Sql::new(txn.get_database_backend());
            sql.push("INSERT INTO coding_decisions (opinion_id, user_id, areas, created_at) VALUES ").bind_tuple([
                opinion_id.into(),
                actor.id.into(),
                text.clone().into(),
                now_ms().into(),
            ]);
            txn.execute_raw(sql.statement()).await?;
            replace_tags_in(txn, opinion_id, None, areas, |_| TagSource::Typed, actor).await?;
            append_in(
                txn,
                actor,
                "coding_adjudicated",
                &format!("opinion:{opinion_id}"),
                Some(both),
                Some(text.clone()),
            )
            .await?;
            Ok(())
        }
        .await;
        // Two decisions sent at once (two pages, two servers): the database's key keeps the first; the
        // other is told its choice was not stored, whether or not it was the same.
        match w.finish(done).await {
            Err(StoreError::Duplicate(_)) => Err(StoreError::Conflict(
                "这条分歧刚刚已经裁决（可能在另一个页面）；您这次的选择没有保存，请刷新查看裁决结果。".into(),
            )),
            other => other,
        }
    }

    /// Both codings of every opinion coded twice within `scope` (its forms, days, units; released to
    /// leaders by its end when `released`), for agreement: a file's κ covers the opinions in that file.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn coded_pairs(&self, scope: &crate::domain::report::Scope) -> Result<Vec<CodedPair>> {
        let mut values = Vec::new();
        let within = self.scope_sql("o", scope, &mut values, crate::store::report::Scan::Indexed);
        let sql = format!(
            "SELECT a.areas AS first, b.areas AS second FROM codings a \
             JOIN codings b ON b.opinion_id = a.opinion_id AND b.slot = 2 \
             JOIN opinions o ON o.id = a.opinion_id WHERE a.slot = 1 AND {within} ORDER BY a.opinion_id"
        );
        self.db()
            .query_all_raw(self.stmt(&sql, values))
            .await?
            .iter()
            .map(|r| {
                Ok(CodedPair {
                    first: parse_areas(&get::<String>(r, "first")?)?,
                    second: parse_areas(&get::<String>(r, "second")?)?,
                })
            })
            .collect()
    }

    /// The next opinion `user` should tag after `after` (wrapping round): a pending one that is either
    /// not double coded, or double coded with a slot free that `user` does not already hold and a form
    /// that does not name `user` its adjudicator.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn next_to_code(&self, after: i64, user: i64, keys: [i64; 3]) -> Result<Option<i64>> {
        if !guards::any_form_double_coded(self.db()).await? {
            return self.next_pending(after, keys).await;
        }
        let bucket = Sample::SQL_BUCKET.replace("{id}", "o.id").replace("{salt}", "f.salt");
        let one = |after: Option<i64>| {
            let mut sql = Sql::new(self.db().get_database_backend());
            sql.push(
                "SELECT o.id FROM opinions o LEFT JOIN coding_forms f ON f.form_slug = o.form_slug AND f.percent > 0 \
                 WHERE o.state = 'pending'",
            )
            .push(&format!(
                " AND (f.form_slug IS NULL OR {bucket} >= f.percent OR (NOT EXISTS \
                 (SELECT 1 FROM codings c WHERE c.opinion_id = o.id AND c.user_id = "
            ))
            .bind(user)
            .push(") AND (SELECT COUNT(*) FROM codings c WHERE c.opinion_id = o.id) < 2 AND ")
            // The adjudicator decides the disagreements; one they coded nobody could decide.
            .push("(f.adjudicator_id IS NULL OR f.adjudicator_id <> ")
            .bind(user)
            .push(")))");
            crate::store::inbox::queue_after(&mut sql, after, true, keys);
            sql.statement()
        };
        self.first_wrapping(after, one).await
    }
}
