//! Tagging rules: how a tag came to be, the opinion states, and keyword suggestions with highlights.

use super::area::{AreaCode, Areas};
use serde::{Deserialize, Serialize};

/// How a tag was applied; every tag records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    /// An analyst pressed the area's key or clicked it.
    Typed,
    /// An analyst confirmed a keyword suggestion.
    Suggested,
    /// Applied to many opinions at once from a filtered list.
    Bulk,
}

impl TagSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TagSource::Typed => "typed",
            TagSource::Suggested => "suggested",
            TagSource::Bulk => "bulk",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "typed" => Some(TagSource::Typed),
            "suggested" => Some(TagSource::Suggested),
            "bulk" => Some(TagSource::Bulk),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TagSource::Typed => "手动",
            TagSource::Suggested => "采纳建议",
            TagSource::Bulk => "批量",
        }
    }
}

/// Where an opinion stands: 待归类 / 已归类 / 需核实 / 无效.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpinionState {
    Pending,
    Tagged,
    Verify,
    Invalid,
}

impl OpinionState {
    pub const ALL: [OpinionState; 4] =
        [OpinionState::Pending, OpinionState::Tagged, OpinionState::Verify, OpinionState::Invalid];
    pub fn as_str(self) -> &'static str {
        match self {
            OpinionState::Pending => "pending",
            OpinionState::Tagged => "tagged",
            OpinionState::Verify => "verify",
            OpinionState::Invalid => "invalid",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            OpinionState::Pending => "待归类",
            OpinionState::Tagged => "已归类",
            OpinionState::Verify => "需核实",
            OpinionState::Invalid => "无效",
        }
    }
    /// The state after the tag set changed: tagging moves a pending opinion to tagged and back;
    /// 需核实 and 无效 are set by a person and stay until a person changes them.
    pub fn after_tags(self, tag_count: usize) -> OpinionState {
        match self {
            OpinionState::Pending | OpinionState::Tagged if tag_count > 0 => OpinionState::Tagged,
            OpinionState::Pending | OpinionState::Tagged => OpinionState::Pending,
            other => other,
        }
    }
    /// The states a person can give an opinion with `tag_count` areas: 待归类 and 已归类 follow from its
    /// areas, so only the one they give is offered (the other would be set back at once).
    pub fn choices(tag_count: usize) -> [OpinionState; 3] {
        [OpinionState::Pending.after_tags(tag_count), OpinionState::Verify, OpinionState::Invalid]
    }
    /// Why an opinion with `tag_count` areas is not in the state `asked`, when its areas decide that.
    pub fn why_not(asked: OpinionState, tag_count: usize) -> Option<&'static str> {
        match asked {
            OpinionState::Tagged if tag_count == 0 => Some("没有领域的意见不能标为“已归类”，请先为它选择领域"),
            OpinionState::Pending if tag_count > 0 => {
                Some("已有领域的意见不能标为“待归类”；要改回待归类，请先去掉它的领域")
            }
            _ => None,
        }
    }
}

/// One suggested area and the words in the text that led to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub area: AreaCode,
    pub matched: Vec<String>,
}

/// Matches each area's keywords (from `forms/` plus words analysts added) against `text`.
/// Areas come back strongest first (most distinct words matched), ties in area order.
pub fn suggest(areas: &Areas, extra: &[(AreaCode, String)], text: &str) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    for area in areas.iter() {
        let words = area
            .keywords
            .iter()
            .map(String::as_str)
            .chain(extra.iter().filter(|(a, _)| *a == area.code).map(|(_, w)| w.as_str()));
        let mut matched: Vec<String> = Vec::new();
        for w in words {
            if !w.is_empty() && text.contains(w) && !matched.iter().any(|m| m == w) {
                matched.push(w.to_owned());
            }
        }
        if !matched.is_empty() {
            out.push(Suggestion { area: area.code, matched });
        }
    }
    out.sort_by(|a, b| b.matched.len().cmp(&a.matched.len()).then(a.area.cmp(&b.area)));
    out
}

/// Splits `text` into runs, marking the runs that are one of `words` (longest word wins; Latin letters in
/// either case, as search finds them), for highlighting.
pub fn highlight(text: &str, words: &[String]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut rest = text;
    let mut plain = String::new();
    while !rest.is_empty() {
        let starts = |w: &&String| !w.is_empty() && rest.get(..w.len()).is_some_and(|p| p.eq_ignore_ascii_case(w));
        let hit = words.iter().filter(starts).max_by_key(|w| w.len());
        if let Some(w) = hit {
            if !plain.is_empty() {
                out.push((std::mem::take(&mut plain), false));
            }
            out.push((rest[..w.len()].to_owned(), true));
            rest = &rest[w.len()..];
        } else {
            let c = rest.chars().next().expect("rest is not empty");
            plain.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    if !plain.is_empty() {
        out.push((plain, false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_each_matched_word() {
        let runs = highlight("办事效率不高，服务基层不够", &["效率".into(), "基层".into()]);
        assert_eq!(
            runs,
            vec![
                ("办事".into(), false),
                ("效率".into(), true),
                ("不高，服务".into(), false),
                ("基层".into(), true),
                ("不够".into(), false)
            ]
        );
    }

    #[test]
    fn tagging_moves_pending_to_tagged_but_leaves_invalid_alone() {
        assert_eq!(OpinionState::Pending.after_tags(1), OpinionState::Tagged);
        assert_eq!(OpinionState::Tagged.after_tags(0), OpinionState::Pending);
        assert_eq!(OpinionState::Invalid.after_tags(2), OpinionState::Invalid);
    }

    #[test]
    fn a_person_is_offered_only_the_states_an_opinions_areas_allow_and_told_why_not_the_other() {
        use OpinionState::*;
        assert_eq!(OpinionState::choices(0), [Pending, Verify, Invalid]);
        assert_eq!(OpinionState::choices(2), [Tagged, Verify, Invalid]);
        assert!(OpinionState::why_not(Tagged, 0).is_some_and(|w| w.contains("请先为它选择领域")));
        assert!(OpinionState::why_not(Pending, 1).is_some_and(|w| w.contains("去掉它的领域")));
        assert_eq!(OpinionState::why_not(Tagged, 1), None);
        assert_eq!(OpinionState::why_not(Invalid, 0), None);
    }
}
