//! The opinions linked to a problem, as its page lists them to the office: a page at a time, each with the
//! start of its text (a campaign's problem may gather thousands).

use crate::web::error::WebError;
use crate::web::state::AppState;
use serde::Deserialize;

/// Linked opinions listed per page on a problem's page: a campaign's problem may gather thousands.
pub const LINKED_PAGE: u64 = 100;

/// Characters of each linked opinion's text shown beside it (the store reads one more, to mark a cut).
const SNIPPET_CHARS: usize = 40;

/// One page of the opinions linked to a problem, each with the start of its text.
pub struct LinkedOpinions {
    pub rows: Vec<(i64, String)>,
    pub total: u64,
    /// Not the first page: a link back to it.
    pub later: bool,
    /// The last opinion of this page, when more follow.
    pub next_after: Option<i64>,
}

/// Which page of the linked opinions a problem's page shows: those after opinion `after`.
#[derive(Deserialize, Debug, Default)]
pub struct LinkedQuery {
    #[serde(default)]
    pub after: Option<i64>,
}

/// The page of problem `id`'s linked opinions after opinion `after`.
pub(super) async fn page(state: &AppState, id: i64, after: Option<i64>) -> Result<LinkedOpinions, WebError> {
    let (mut rows, total) = state.store.problem_opinions_page(id, after.unwrap_or(0), LINKED_PAGE + 1).await?;
    let more = rows.len() as u64 > LINKED_PAGE;
    rows.truncate(LINKED_PAGE as usize);
    for (_, text) in &mut rows {
        if let Some((cut, _)) = text.char_indices().nth(SNIPPET_CHARS) {
            text.truncate(cut);
            text.push('…');
        }
    }
    let next_after = rows.last().map(|r| r.0).filter(|_| more);
    Ok(LinkedOpinions { rows, total, later: after.is_some_and(|a| a > 0), next_after })
}
