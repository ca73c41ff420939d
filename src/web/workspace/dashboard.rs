//! `GET /w/dashboard` (leaders, admins and analysts): counts per area as a bar chart drawn on the server
//! as SVG (no script), counts per unit and per respondent category, tagging progress, and the place where
//! downloads live (the exports page, `/w/exports`).

use crate::domain::area::AreaCode;
use crate::domain::user::Role;
use crate::store::inbox::Progress;
use crate::web::auth::Staff;
use crate::web::error::WebError;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

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
    pub name: String,
    pub progress: Progress,
    pub bars: Vec<Bar>,
    pub chart_h: u32,
    pub by_unit: Vec<(String, u64)>,
    pub by_category: Vec<(String, u64)>,
    pub can_download: bool,
}

/// `GET /w/dashboard`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Result<DashboardPage, WebError> {
    staff.require(&[Role::Leader, Role::Admin, Role::Analyst])?;
    let store = &state.store;
    let forms = state.forms();
    let counts = store.area_counts().await?;
    let items: Vec<(String, u64)> =
        AreaCode::all().map(|a| (format!("{} {}", a, forms.catalog.areas.name(a)), counts[a.index()])).collect();
    let bars = bars(&items);
    let by_unit =
        store.opinion_counts_by(true).await?.into_iter().map(|(k, n)| (forms.unit_name(k.as_deref()), n)).collect();
    let by_category = store
        .opinion_counts_by(false)
        .await?
        .into_iter()
        .map(|(k, n)| (forms.category_label("", k.as_deref()), n))
        .collect();
    Ok(DashboardPage {
        name: staff.user.display_name.clone(),
        progress: store.progress().await?,
        chart_h: bars.len() as u32 * ROW_H,
        bars,
        by_unit,
        by_category,
        can_download: staff.user.role.can_download(),
    })
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
