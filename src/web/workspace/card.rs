//! What analysts see about one opinion, built once for the tagging page (HTML) and its JSON API, plus the
//! label look-ups (form, question, unit, category, date) the inbox shares.

use crate::domain::area::AreaCode;
use crate::domain::form::answers::Answer;
use crate::domain::form::check::bureau_offset;
use crate::domain::tagging::{OpinionState, TagSource, highlight, suggest};
use crate::web::error::WebError;
use crate::web::state::Shared;
use crate::web::state::{AppState, LoadedForms};
use serde::Serialize;

/// A run of the opinion's text; `mark` runs are matched suggestion words.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub text: String,
    pub mark: bool,
}

/// One of the eight areas as a toggle on the tagging screen.
#[derive(Debug, Clone, Serialize)]
pub struct AreaChip {
    pub code: u8,
    pub name: String,
    pub on: bool,
    /// How the tag came to be, when it is on.
    pub source: Option<&'static str>,
    /// The same, as people read it (手动 / 采纳建议 / 批量).
    pub source_label: Option<&'static str>,
    pub suggested: bool,
    /// Ticked when the screen opens: tagged, or suggested for an opinion nobody has tagged yet.
    pub ticked: bool,
}

/// A suggested area, the words in the text that led to it (highlighted), and why, in words.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestionView {
    pub code: u8,
    pub name: String,
    pub matched: Vec<String>,
    pub why: String,
}

/// The suggestions for `text`: the model's when it has trained (keyword matching until then), plus
/// the areas of words analysts added.
///
/// # Errors
/// Storage failures reading the analysts' words.
pub async fn suggestions(state: &Shared, text: &str) -> Result<Vec<SuggestionView>, WebError> {
    let forms = state.forms();
    let areas = &forms.catalog.areas;
    let extra = state.store.area_keywords().await?;
    let view = |code: AreaCode, matched: Vec<String>, why: String| SuggestionView {
        code: code.get(),
        name: areas.name(code).to_owned(),
        matched,
        why,
    };
    let mut out: Vec<SuggestionView> = match state.suggester.current() {
        Some(model) => model
            .suggest(text)
            .into_iter()
            .map(|s| {
                let why = format!(
                    "模型判断把握 {:.0}%（本领域门槛 {:.0}%），主要依据：{}",
                    s.probability * 100.0,
                    s.threshold * 100.0,
                    if s.evidence.is_empty() { "整体用语".to_owned() } else { s.evidence.join("、") }
                );
                view(s.area, s.evidence, why)
            })
            .collect(),
        None => suggest(areas, &[], text)
            .into_iter()
            .map(|s| {
                let why = format!("关键词匹配（模型尚在训练）：{}", s.matched.join("、"));
                view(s.area, s.matched, why)
            })
            .collect(),
    };
    for (area, word) in extra.iter().filter(|(_, w)| !w.is_empty() && text.contains(w.as_str())) {
        match out.iter_mut().find(|v| v.code == area.get()) {
            Some(v) if !v.matched.contains(word) => {
                v.matched.push(word.clone());
                v.why.push_str(&format!("；含分析员补充的关键词「{word}」"));
            }
            Some(_) => {}
            None => out.push(view(*area, vec![word.clone()], format!("含分析员补充的关键词「{word}」"))),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct NoteLine {
    pub author: String,
    pub text: String,
    pub date: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OtherAnswer {
    pub question: String,
    pub answer: String,
}

/// Everything the tagging screen shows about one opinion.
#[derive(Debug, Clone, Serialize)]
pub struct OpinionCard {
    pub id: i64,
    pub text: String,
    /// The text split into runs; `true` runs are matched suggestion words.
    pub runs: Vec<Run>,
    pub form: String,
    pub question: String,
    pub unit: String,
    pub category: String,
    pub date: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub representative: bool,
    pub duplicate: bool,
    /// How many opinions its near-duplicate group (同类意见) holds, itself included.
    pub cluster_size: u64,
    pub areas: Vec<AreaChip>,
    pub suggestions: Vec<SuggestionView>,
    /// Nobody has tagged it yet: suggested areas arrive ticked and count only when a person saves.
    pub pretick: bool,
    pub notes: Vec<NoteLine>,
    pub others: Vec<OtherAnswer>,
    pub prev_id: Option<i64>,
    pub next_id: Option<i64>,
    pub next_pending: Option<i64>,
    /// The opinion is being coded independently by two analysts; the chips show only the viewer's own coding.
    pub double_coded: bool,
    /// The viewer is the second coder: no suggestion, no marked words, no tag source (see `for_viewer`).
    pub blind: bool,
}

impl OpinionCard {
    /// The stored areas the card shows, comma-separated (`none`): sent back with a save as `seen`.
    pub fn seen(&self) -> String {
        let on: Vec<String> = self.areas.iter().filter(|a| a.on).map(|a| a.code.to_string()).collect();
        if on.is_empty() { "none".to_owned() } else { on.join(",") }
    }
}

/// Formats a stored timestamp in the bureau's time zone.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.with_timezone(&bureau_offset()).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

impl LoadedForms {
    pub fn form_title(&self, slug: &str) -> String {
        self.catalog.forms.get(slug).map_or_else(|| slug.to_owned(), |f| f.title.clone())
    }
    pub fn question_title(&self, slug: &str, q: &str) -> String {
        self.catalog.forms.get(slug).and_then(|f| f.question(q)).map_or_else(|| q.to_owned(), |q| q.title.clone())
    }
    pub fn unit_name(&self, code: Option<&str>) -> String {
        match code {
            None => crate::domain::unit::NO_UNIT.into(),
            Some(c) => self.catalog.units.iter().find(|u| u.code == c).map_or_else(|| c.to_owned(), |u| u.name.clone()),
        }
    }
    /// The label of a respondent category, looked up in the opinion's form first, then in any form.
    pub fn category_label(&self, slug: &str, code: Option<&str>) -> String {
        let Some(code) = code else { return "（未填写）".into() };
        let own = self.catalog.forms.get(slug).and_then(|f| f.category_label(code));
        own.or_else(|| self.catalog.forms.values().find_map(|f| f.category_label(code)))
            .map_or_else(|| code.to_owned(), str::to_owned)
    }
    /// Every respondent category (code, label) across forms, without repeats.
    pub fn all_categories(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for f in self.catalog.forms.values() {
            for c in &f.categories {
                if !out.iter().any(|(k, _)| *k == c.code) {
                    out.push((c.code.clone(), c.label.clone()));
                }
            }
        }
        out
    }
}

/// Builds the card for opinion `id` as analyst `viewer` walks the opinions (their tagging order).
///
/// # Errors
/// `NotFound` for an unknown id; storage failures.
pub async fn build(state: &AppState, id: i64, viewer: i64) -> Result<OpinionCard, WebError> {
    let keys = state.queue_keys(viewer);
    let store = &state.store;
    let o = store.opinion(id).await?;
    let forms = state.forms();
    let areas = &forms.catalog.areas;
    let suggestions = suggestions(state, &o.text).await?;
    let words: Vec<String> = suggestions.iter().flat_map(|s| s.matched.iter().cloned()).collect();
    let on: Vec<(AreaCode, TagSource)> = o.tags.iter().map(|t| (t.area, t.source)).collect();
    let chips = AreaCode::all()
        .map(|a| {
            let tag = on.iter().find(|(x, _)| *x == a);
            AreaChip {
                code: a.get(),
                name: areas.name(a).to_owned(),
                on: tag.is_some(),
                source: tag.map(|(_, s)| s.as_str()),
                source_label: tag.map(|(_, s)| s.label()),
                suggested: suggestions.iter().any(|s| s.code == a.get()),
                ticked: tag.is_some() || (on.is_empty() && suggestions.iter().any(|s| s.code == a.get())),
            }
        })
        .collect();
    let def = forms.catalog.forms.get(&o.form_slug);
    let others = store
        .answers_of(o.response_id)
        .await?
        .into_iter()
        .filter(|(q, _)| *q != o.question_id)
        .filter_map(|(q, v)| {
            let a: Answer = serde_json::from_str(&v).ok()?;
            let question = def.and_then(|d| d.question(&q));
            let answer = match question {
                Some(qd) => a.display(&qd.kind),
                None => a.codes(),
            };
            Some(OtherAnswer { question: question.map_or(q, |qd| qd.title.clone()), answer })
        })
        .collect();
    Ok(OpinionCard {
        id,
        runs: highlight(&o.text, &words).into_iter().map(|(text, mark)| Run { text, mark }).collect(),
        form: forms.form_title(&o.form_slug),
        question: forms.question_title(&o.form_slug, &o.question_id),
        unit: forms.unit_name(o.unit_code.as_deref()),
        category: forms.category_label(&o.form_slug, o.category_code.as_deref()),
        date: date(o.submitted_at),
        state: o.state.as_str(),
        state_label: o.state.label(),
        representative: o.representative,
        duplicate: store.is_likely_duplicate(id).await?,
        cluster_size: store.cluster_members(id).await?.len() as u64,
        areas: chips,
        pretick: on.is_empty(),
        suggestions,
        notes: {
            let names = display_names(state).await?;
            o.notes
                .into_iter()
                .map(|n| NoteLine { author: shown_name(&names, n.author), text: n.text, date: date(n.at) })
                .collect()
        },
        others,
        prev_id: store.neighbour(id, false, keys).await?,
        next_id: store.neighbour(id, true, keys).await?,
        next_pending: store.next_to_code(id, viewer, keys).await?,
        double_coded: false,
        blind: false,
        text: o.text,
    })
}

/// The card as `viewer` may see it: while the opinion is double coded it shows the viewer's own coding
/// only, and to the second coder nothing of any suggestion; the next opinion is the viewer's next to code.
///
/// # Errors
/// `NotFound` for an unknown id; storage failures.
pub async fn for_viewer(state: &AppState, id: i64, viewer: i64) -> Result<OpinionCard, WebError> {
    let mut c = build(state, id, viewer).await?;
    let status = state.store.coding_status(id).await?;
    if !status.open {
        return Ok(c);
    }
    let own = status.own(viewer).map(|o| o.areas.clone()).unwrap_or_default();
    c.double_coded = true;
    c.blind = status.blind_for(viewer);
    c.pretick = own.is_empty() && !c.blind;
    for chip in &mut c.areas {
        chip.on = own.iter().any(|a| a.get() == chip.code);
        chip.source = None;
        chip.source_label = None;
        if c.blind {
            chip.suggested = false;
        }
        chip.ticked = chip.on || (c.pretick && chip.suggested);
    }
    if c.blind {
        c.suggestions.clear();
        c.runs = vec![Run { text: c.text.clone(), mark: false }];
    }
    Ok(c)
}

/// Each account's display name by login name: notes are stored under the login name and shown by name.
///
/// # Errors
/// On a database failure.
pub async fn display_names(state: &AppState) -> Result<std::collections::HashMap<String, String>, WebError> {
    Ok(state.store.users().await?.into_iter().map(|u| (u.username, u.display_name)).collect())
}

/// The display name for `author` (a login name), or the login name when the account is gone.
pub fn shown_name(names: &std::collections::HashMap<String, String>, author: String) -> String {
    names.get(&author).filter(|n| !n.trim().is_empty()).cloned().unwrap_or(author)
}

/// The states a person may pick, with labels, for select boxes.
pub fn states() -> Vec<(&'static str, &'static str)> {
    OpinionState::ALL.iter().map(|s| (s.as_str(), s.label())).collect()
}
