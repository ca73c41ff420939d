//! `GET /w/dashboard` (leaders, admins and analysts): counts per area as a bar chart drawn on the server
//! as SVG (no script), counts per unit and per respondent category, tagging progress, and the place where
//! downloads live (the exports page, `/w/exports`). The office sees every opinion; a leader sees one whole
//! form (`?form=`) under the disclosure policy: respondents per shown unit and category, the rest pooled.

use super::leader_view::LeaderScope;
use crate::domain::agreement::{METHOD, agree, show};
use crate::domain::area::AreaCode;
use crate::domain::report::policy::{OTHER_CATEGORIES, OTHER_UNITS, TableRow, protect_rows};
use crate::domain::tagging::OpinionState;
use crate::domain::user::Role;
use crate::store::inbox::Progress;
use crate::web::auth::Staff;
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;

/// One bar of the chart, laid out in SVG units.
pub struct Bar {
    pub label: String,
    pub count: u64,
    pub y: u32,
    pub width: u32,
    pub text_x: u32,
}

/// Chart geometry.
pub const CHART_W: u32 = 640;
pub const LABEL_W: u32 = 150;
pub const ROW_H: u32 = 30;

/// Lays out bars for `(label, count)` pairs, the longest bar filling the plot width.
pub fn bars(items: &[(String, u64)]) -> Vec<Bar> {
    let plot = CHART_W - LABEL_W - 60;
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    items
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let width = u32::try_from(*n * u64::from(plot) / max).unwrap_or(plot);
            Bar { label: label.clone(), count: *n, y: i as u32 * ROW_H, width, text_x: LABEL_W + width + 6 }
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub head: super::head::StaffHead,
    pub name: String,
    /// `None` when the leader's form is too small to show anything.
    pub progress: Option<Progress>,
    pub bars: Vec<Bar>,
    pub chart_h: u32,
    /// What the unit and category tables count: opinions (office) or respondents (leaders).
    pub counting: &'static str,
    pub by_unit: Vec<(String, u64)>,
    pub by_category: Vec<(String, u64)>,
    pub can_download: bool,
    /// A leader's form switcher and protection note.
    pub leader_forms: Vec<(String, String, bool)>,
    pub protection: Option<String>,
    /// Double-coding agreement, for the office only.
    pub agreement: Option<AgreementView>,
    /// Valid opinions and their near-duplicate groups (意见 N 条，归并为 M 组): totals only, never per unit.
    pub groups: Option<crate::store::clusters::GroupCount>,
    /// For the office: what leaders' views hold (the last release, responses released in all).
    pub released: Option<(crate::store::releases::Release, u64)>,
    /// The batch size releases use (k, or a larger one used before).
    pub batch: u64,
}

/// Double-coding agreement as the dashboard shows it.
pub struct AgreementView {
    /// Opinions coded by both coders (n).
    pub opinions: usize,
    pub identical: usize,
    pub alpha: String,
    /// (area label, κ) in area order.
    pub kappa: Vec<(String, String)>,
    /// Disagreements waiting for an adjudicator.
    pub disputes: u64,
    pub method: &'static str,
}

async fn agreement(state: &AppState) -> Result<Option<AgreementView>, WebError> {
    let store = &state.store;
    let pairs = store.coded_pairs(&crate::domain::report::Scope::default()).await?;
    if pairs.is_empty() && store.coding_forms().await?.is_empty() {
        return Ok(None);
    }
    let g = agree(&pairs);
    let forms = state.forms();
    Ok(Some(AgreementView {
        opinions: g.opinions,
        identical: g.identical,
        alpha: show(g.alpha),
        kappa: AreaCode::all()
            .map(|a| (format!("{} {}", a, forms.catalog.areas.name(a)), show(g.kappa[a.index()])))
            .collect(),
        disputes: store.dispute_count().await?,
        method: METHOD,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    #[serde(default)]
    pub form: String,
    /// Filters the dashboard does not offer, read only to refuse them to a leader by name.
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

/// `GET /w/dashboard`.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<DashboardQuery>,
) -> Result<DashboardPage, WebError> {
    staff.require(&[Role::Leader, Role::Admin, Role::Analyst])?;
    if staff.user.role == Role::Leader {
        let filters = [("unit", &q.unit), ("category", &q.category), ("from", &q.from), ("to", &q.to)];
        super::leader_view::refuse_filters(&filters.map(|(f, v)| (f, v.as_str())))?;
        return leader_page(&state, &staff, &q.form).await;
    }
    let store = &state.store;
    let forms = state.forms();
    let counts = store.area_counts().await?;
    let items: Vec<(String, u64)> =
        AreaCode::all().map(|a| (format!("{} {}", a, forms.catalog.areas.name(a)), counts[a.index()])).collect();
    let bars = bars(&items);
    let mut units = store.opinion_counts_by(true).await?;
    forms.catalog.sort_by_unit(&mut units, |(k, _)| k.as_deref());
    let by_unit = units.into_iter().map(|(k, n)| (forms.unit_name(k.as_deref()), n)).collect();
    let by_category = store
        .opinion_counts_by(false)
        .await?
        .into_iter()
        .map(|(k, n)| (forms.category_label("", k.as_deref()), n))
        .collect();
    Ok(DashboardPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        progress: Some(store.progress().await?),
        chart_h: bars.len() as u32 * ROW_H,
        bars,
        counting: "意见数",
        by_unit,
        by_category,
        can_download: staff.user.role.can_download(),
        leader_forms: Vec::new(),
        protection: None,
        agreement: agreement(&state).await?,
        groups: Some(store.group_count(None, None).await?),
        released: store.release_totals().await?,
        batch: state.small_cell_k().await?,
    })
}

/// A leader's dashboard: one form, every number under the disclosure policy.
async fn leader_page(state: &AppState, staff: &Staff, form: &str) -> Result<DashboardPage, WebError> {
    let scope = LeaderScope::load(state, form).await?;
    let d = &scope.disclosure;
    let forms = state.forms();
    let mut page = DashboardPage {
        head: staff.head(),
        name: staff.user.display_name.clone(),
        progress: None,
        bars: Vec::new(),
        chart_h: 0,
        counting: "答卷（份）",
        by_unit: Vec::new(),
        by_category: Vec::new(),
        can_download: staff.user.role.can_download(),
        protection: Some(scope.note()),
        leader_forms: scope.forms.clone(),
        agreement: None,
        groups: None,
        released: None,
        batch: scope.disclosure.k,
    };
    if d.too_small {
        return Ok(page);
    }
    // No near-duplicate group count for leaders: an opinion joins the group of its most similar earlier
    // one, released or not, so two texts a leader sent around a guess of a held-back one made one group.
    let (states, areas) = state.store.form_counts(&scope.form, scope.until_ms()).await?;
    let at = |s: OpinionState| states[OpinionState::ALL.iter().position(|x| *x == s).unwrap_or(0)];
    page.progress = Some(Progress {
        total: states.iter().sum(),
        pending: at(OpinionState::Pending),
        tagged: at(OpinionState::Tagged),
        verify: at(OpinionState::Verify),
        invalid: at(OpinionState::Invalid),
    });
    let items: Vec<(String, u64)> =
        AreaCode::all().map(|a| (format!("{} {}", a, forms.catalog.areas.name(a)), areas[a.index()])).collect();
    page.bars = bars(&items);
    page.chart_h = page.bars.len() as u32 * ROW_H;
    let flat = |rows: Vec<TableRow<u64>>, other: &str| -> Vec<(String, u64)> {
        rows.into_iter()
            .map(|r| match r {
                TableRow::Shown(label, n) => (label, n),
                TableRow::Pooled(n) => (other.to_owned(), n),
            })
            .collect()
    };
    let mut units: Vec<_> = d.units_count.iter().map(|(c, n)| (c.clone(), forms.unit_name(c.as_deref()), *n)).collect();
    forms.catalog.sort_by_unit(&mut units, |(c, _, _)| c.as_deref());
    page.by_unit = flat(protect_rows(units, |c| d.shows_unit(c), |a, b| *a += b), OTHER_UNITS);
    let (shown, pooled) = d.categories_as_rows_show();
    page.by_category = shown.iter().map(|(c, n)| (forms.category_label(&scope.form, c.as_deref()), *n)).collect();
    if pooled > 0 {
        page.by_category.push((OTHER_CATEGORIES.to_owned(), pooled));
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_bar_fills_the_plot_and_others_are_proportional() {
        let b = bars(&[("a".into(), 10), ("b".into(), 5), ("c".into(), 0)]);
        assert_eq!(b[0].width, CHART_W - LABEL_W - 60);
        assert_eq!(b[1].width, b[0].width / 2);
        assert_eq!(b[2].width, 0);
        assert_eq!(b[2].y, 2 * ROW_H);
    }
}
