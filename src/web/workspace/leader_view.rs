//! What a leader's dashboard and inbox are computed over: one whole form as released to leaders at the last
//! midnight (never a date, unit or category filter, nothing that changes while one response comes in, and
//! each unit k responses at a time: see `domain::report::release`), with the disclosure policy decided
//! from its respondents.

use crate::domain::report::Scope;
use crate::domain::report::policy::{Disclosure, Named};
use crate::web::error::WebError;
use crate::web::state::AppState;
use std::sync::Arc;

/// A leader's selection: one form and what may be shown of it.
pub struct LeaderScope {
    pub form: String,
    /// The form as released to leaders at the last midnight ([`Scope::published`]).
    pub scope: Scope,
    pub disclosure: Arc<Disclosure>,
    /// Every form as (slug, title, selected), for the form switcher.
    pub forms: Vec<(String, String, bool)>,
}

/// Refuses a unit, category or date filter given to a leader's page, naming it: the views cover whole
/// forms only (two filtered results subtracted could single a person out).
///
/// # Errors
/// `BadRequest` naming the first filter given.
pub fn refuse_filters(filters: &[(&str, &str)]) -> Result<(), WebError> {
    match filters.iter().find(|(_, value)| !value.trim().is_empty()) {
        Some((field, _)) => Err(WebError::BadRequest(format!(
            "{}：领导视图不能按单位、身份或日期筛选（小单元保护：两次筛选的结果相减就可能认出个人）",
            crate::web::clean::field_name(field)
        ))),
        None => Ok(()),
    }
}

impl LeaderScope {
    /// The form named in `form` (when empty, the form with the most responses) and its disclosure.
    ///
    /// # Errors
    /// `BadRequest` naming the field for an unknown form; store errors as they come.
    pub async fn load(state: &AppState, form: &str) -> Result<LeaderScope, WebError> {
        let forms = state.forms();
        let cut = state.release_then_leader_cut().await;
        // Ratings of /gongkai are responses too, but never the form a leader lands on.
        let busiest = state.store.busiest_form(cut).await?.filter(|f| forms.catalog.citizen_form(f).is_some());
        let form = match form.trim() {
            "" => busiest.or_else(|| forms.catalog.citizen_forms().next().map(|f| f.slug.clone())).unwrap_or_default(),
            f if forms.catalog.citizen_form(f).is_some() => f.to_owned(),
            // Not the rating form: its rows are raters' grades, shown only as 整改台账's tallies.
            f if forms.catalog.forms.contains_key(f) => {
                return Err(WebError::BadRequest(format!("表单：表单 {f} 是群众评价，结果见整改台账")));
            }
            f => return Err(WebError::BadRequest(format!("表单：表单 {f} 不存在"))),
        };
        let scope = Scope::published(&form, cut);
        let k = state.small_cell_k().await?;
        let disclosure = state.leader_disclosure(&form, cut, k).await?;
        let list = forms.catalog.citizen_forms().map(|f| (f.slug.clone(), f.title.clone(), f.slug == form)).collect();
        Ok(LeaderScope { form, scope, disclosure, forms: list })
    }

    /// The responses it covers were released to leaders by this instant: the bureau's last midnight.
    pub fn until_ms(&self) -> i64 {
        self.scope.until_ms().unwrap_or(0)
    }

    /// The sentence every leader view carries.
    pub fn note(&self) -> String {
        let k = self.disclosure.k;
        let day = self.scope.to.map(|d| d.to_string()).unwrap_or_default();
        if self.disclosure.too_small {
            format!(
                "截至 {day} 24 时本表单纳入的答卷不足 {k} 份：为保护填写人，不显示任何数字和意见（显示为“<{k}”）。每个单位的新答卷满 {k} 份才成批纳入，今天的答卷最早明天纳入。"
            )
        } else {
            format!(
                "数据截至 {day} 24 时，按单位成批纳入：今天的答卷最早明天纳入，每个单位的新答卷满 {k} 份才一起纳入（不足的等凑满，办公室随时可见），以免刷新页面或前后两天相比就能看出某份答卷来自哪里、是谁交的。已做小单元保护：答卷少于 {k} 份的单位、类别并入“其他单位（合并）”“其他类别”，一周内凑不满 {k} 份的单位此后一直并入合并行（不论以后有多少份），各单位最后不足 {k} 份的答卷可能一直不纳入；不显示提交日期。领导视图按整份表单显示，不能按日期、单位或类别筛选。"
            )
        }
    }
}

/// Why [`withhold_what_leaders_cannot_place`] leaves opinions out, as the bulk preview, the problem chooser
/// and the refusal say it.
pub const WITHHELD_WHY: &str = "领导看到的这些意见不显示单位、身份或日期（小单元保护），或尚未纳入领导视图、纳入时身份可能并入“其他类别”；按单位、身份或日期筛选（或筛选后勾选）一起归类或归入问题，领导会从哪些意见同时变化看出它们同属一个单位、身份或日期。请按内容逐条处理，尚未纳入的也可等纳入后再处理。";

/// Leaves out of a change the rows whose leaders' view hides, or will hide, the unit, category or day the
/// office's filter names (decision 0001): all of them changing at once would tell leaders they share it. A
/// row not yet released counts by what leaders are shown now (a unit they do not see yet may be pooled),
/// and under a category filter, or among several rows `ticked` under such a filter, not at all (its release
/// may pool its category).
pub(crate) async fn withhold_what_leaders_cannot_place(
    state: &AppState,
    q: &super::inbox::InboxQuery,
    ids: Vec<i64>,
    ticked: bool,
) -> Result<(Vec<i64>, usize), WebError> {
    let named = |v: &str| !v.trim().is_empty();
    let (unit, category, dates) = (named(&q.unit), named(&q.category), named(&q.from) || named(&q.to));
    // Ticked in a list narrowed by what leaders may not see: the choice may follow the category column.
    let by_hand = ticked && ids.len() > 1 && (unit || category || dates);
    let named = Named { unit, category, dates, by_hand };
    if !named.any() {
        return Ok((ids, 0));
    }
    let cut = state.release_then_leader_cut().await;
    let k = state.small_cell_k().await?;
    let mut disclosures = std::collections::HashMap::new();
    let mut hidden = std::collections::HashSet::new();
    for p in state.store.placements(&ids).await? {
        if !disclosures.contains_key(&p.form_slug) {
            disclosures.insert(p.form_slug.clone(), state.leader_disclosure(&p.form_slug, cut, k).await?);
        }
        let (unit, category) = (p.unit_code.as_deref(), p.category_code.as_deref());
        let released = p.released_at.is_some();
        if disclosures[&p.form_slug].hides_what_is_named(named, released, unit, category, p.submitted_at) {
            hidden.insert(p.id);
        }
    }
    let kept: Vec<i64> = ids.into_iter().filter(|id| !hidden.contains(id)).collect();
    Ok((kept, hidden.len()))
}
