//! Form definitions: what a form asks, checked once when its file is loaded.
//!
//! `raw` is the file's shape (serde, TOML); `check` turns it into a [`FormDef`] or names every problem;
//! `answers` validates what a respondent submitted against a definition.

pub mod answers;
pub mod check;
mod raw;

use crate::domain::area::AreaCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use check::{FormError, parse_form};

/// A checked form definition. Built only by [`parse_form`], so every instance is valid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FormDef {
    pub slug: String,
    pub title: String,
    pub intro: String,
    /// An anonymous form stores nothing that points back at the person.
    pub anonymous: bool,
    pub opens_at: Option<DateTime<FixedOffset>>,
    pub closes_at: Option<DateTime<FixedOffset>>,
    /// Respondent categories the person picks from (or a link fixes).
    pub categories: Vec<Choice>,
    /// What the category choice asks, when not the respondent's identity (a visit record asks for the kind
    /// of place visited). Left out of the stored definition when not set, so other forms keep their version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_label: Option<String>,
    /// Units links may be issued for; empty means every unit.
    pub units: Vec<String>,
    pub questions: Vec<Question>,
}

/// One choice: a stable code and the label people read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// One question of a form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Question {
    pub id: String,
    pub title: String,
    pub help: String,
    pub required: bool,
    pub kind: QuestionKind,
    pub show_if: Option<Condition>,
    /// The answer is an opinion that analysts tag with areas.
    pub opinion: bool,
    /// Areas an opinion from this question usually belongs to (a hint for analysts).
    pub areas: Vec<AreaCode>,
    /// For contact fields: why the contact is asked and who sees it. Contact answers are stored apart.
    pub contact_purpose: Option<String>,
    /// The choices are the bureau's units (`choices_from = "units"`): leaders read such an answer only as
    /// far as they read the unit column. Left out of the definition when false, so versions keep their hash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub names_unit: bool,
}

impl Question {
    /// The question as what can be answered: without its wording, labels and area hints, which a reload
    /// may change without changing which answers are possible.
    pub fn as_asked(&self) -> Question {
        let unlabelled =
            |cs: &[Choice]| cs.iter().map(|c| Choice { code: c.code.clone(), label: String::new() }).collect();
        let kind = match &self.kind {
            QuestionKind::SingleChoice { choices } => QuestionKind::SingleChoice { choices: unlabelled(choices) },
            QuestionKind::MultipleChoice { choices, min_selected, max_selected } => QuestionKind::MultipleChoice {
                choices: unlabelled(choices),
                min_selected: *min_selected,
                max_selected: *max_selected,
            },
            QuestionKind::Rating { scale } => QuestionKind::Rating { scale: unlabelled(scale) },
            QuestionKind::Matrix { rows, scale } => QuestionKind::Matrix {
                rows: rows
                    .iter()
                    .map(|r| MatrixRow { code: r.code.clone(), label: String::new(), area: None })
                    .collect(),
                scale: unlabelled(scale),
            },
            other => other.clone(),
        };
        Question { title: String::new(), help: String::new(), areas: Vec::new(), kind, ..self.clone() }
    }
}

/// The kinds of question and their own limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    ShortText {
        min_length: usize,
        max_length: usize,
    },
    LongText {
        min_length: usize,
        max_length: usize,
    },
    SingleChoice {
        choices: Vec<Choice>,
    },
    MultipleChoice {
        choices: Vec<Choice>,
        min_selected: usize,
        max_selected: usize,
    },
    Rating {
        scale: Vec<Choice>,
    },
    Matrix {
        rows: Vec<MatrixRow>,
        scale: Vec<Choice>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    Date {
        min: Option<chrono::NaiveDate>,
        max: Option<chrono::NaiveDate>,
        /// `max_date = "today"`: a day that has not come yet is refused (a visit cannot be recorded ahead).
        /// Left out of the definition when false, so versions keep their hash.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        not_after_today: bool,
    },
    Phone,
}

/// One row of a matrix question; an appraisal row usually rates one area.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MatrixRow {
    pub code: String,
    pub label: String,
    pub area: Option<AreaCode>,
}

/// Show a question only when an earlier single/multiple choice or rating answer has one of these codes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Condition {
    pub question: String,
    pub any_of: Vec<String>,
}

/// The ids of the questions that `versions` (definitions of one form, as the rows of one release to
/// leaders answered it) did not all ask alike: added, removed, or with other possible answers, another
/// condition or requiredness ([`Question::as_asked`]). Their answers would tell which rows came after a
/// reload, so leaders read none of them in that release.
pub fn questions_asked_unevenly<'a>(versions: &[&'a FormDef]) -> std::collections::BTreeSet<&'a str> {
    let ids = versions.iter().flat_map(|d| d.questions.iter().map(|q| q.id.as_str()));
    ids.filter(|id| {
        let mut asked = versions.iter().map(|d| d.question(id).map(Question::as_asked));
        let first = asked.next().flatten();
        asked.any(|a| a != first)
    })
    .collect()
}

/// Why `after` may not replace `before`, a version responses answered: a rating or matrix scale whose grades
/// were added, removed or reordered. Answers keep a grade's position, so they would read as another grade
/// (差 as 较差, a reversed scale upside down). Renaming a grade in its place is allowed. One message per
/// question.
pub fn grades_moved(before: &FormDef, after: &FormDef) -> Vec<String> {
    let scale = |q: &Question| match &q.kind {
        QuestionKind::Rating { scale } | QuestionKind::Matrix { scale, .. } => {
            Some(scale.iter().map(|c| c.label.clone()).collect::<Vec<_>>())
        }
        _ => None,
    };
    let mut refused = Vec::new();
    for q in &after.questions {
        let (Some(new), Some(old)) = (scale(q), before.question(&q.id).and_then(scale)) else { continue };
        // A name kept must keep its place; a new name may only take the place of one that is gone.
        let moved = new.len() != old.len()
            || new.iter().enumerate().any(|(i, g)| old.iter().position(|o| o == g).is_some_and(|j| j != i));
        if moved {
            refused.push(format!(
                "题目“{}”（{}）的等级由“{}”改为“{}”：已提交的答卷按等级的位置记录，增删或调换等级会让它们被读成别的等级。\
                 只改某个等级的文字可以；要换一套等级，请新增一道题（换一个 id）。",
                q.title,
                q.id,
                old.join("/"),
                new.join("/")
            ));
        }
    }
    refused
}

impl FormDef {
    /// The category question's wording: the form's own, or "您的身份".
    pub fn category_question(&self) -> &str {
        self.category_label.as_deref().unwrap_or("您的身份")
    }

    /// The content hash that identifies this exact version of the definition.
    pub fn version_hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("a form definition always serialises");
        hex::encode(Sha256::digest(json))
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Whether the form takes submissions at `now`, or why not.
    pub fn availability(&self, now: DateTime<FixedOffset>) -> Availability {
        match (self.opens_at, self.closes_at) {
            (Some(open), _) if now < open => Availability::NotYetOpen(open),
            (_, Some(close)) if now > close => Availability::Closed(close),
            _ => Availability::Open,
        }
    }

    /// Whether any question collects contact details.
    pub fn has_contact_fields(&self) -> bool {
        self.questions.iter().any(|q| q.contact_purpose.is_some())
    }

    /// The label of a respondent category code.
    pub fn category_label(&self, code: &str) -> Option<&str> {
        self.categories.iter().find(|c| c.code == code).map(|c| c.label.as_str())
    }
}

/// Whether a form takes submissions now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Availability {
    Open,
    NotYetOpen(DateTime<FixedOffset>),
    Closed(DateTime<FixedOffset>),
}

impl Availability {
    /// The message shown to citizens when the form does not take submissions, in Chinese.
    pub fn message(&self) -> Option<String> {
        let fmt = |d: &DateTime<FixedOffset>| d.format("%Y年%m月%d日 %H:%M").to_string();
        match self {
            Availability::Open => None,
            Availability::NotYetOpen(d) => Some(format!("本表尚未开放，将于 {} 开始接受填写。", fmt(d))),
            Availability::Closed(d) => Some(format!("本表已于 {} 截止，不再接受提交。感谢您的关注。", fmt(d))),
        }
    }
}

impl QuestionKind {
    /// The choices a condition on this question may name, if it is a choice-like question.
    pub fn choice_codes(&self) -> Option<Vec<&str>> {
        match self {
            QuestionKind::SingleChoice { choices } | QuestionKind::MultipleChoice { choices, .. } => {
                Some(choices.iter().map(|c| c.code.as_str()).collect())
            }
            QuestionKind::Rating { scale } => Some(scale.iter().map(|c| c.code.as_str()).collect()),
            _ => None,
        }
    }

    /// Whether this kind holds free text (and so can be an opinion).
    pub fn is_text(&self) -> bool {
        matches!(self, QuestionKind::ShortText { .. } | QuestionKind::LongText { .. })
    }

    /// The maximum text length, for counters on the page.
    pub fn max_length(&self) -> Option<usize> {
        match self {
            QuestionKind::ShortText { max_length, .. } | QuestionKind::LongText { max_length, .. } => Some(*max_length),
            _ => None,
        }
    }

    /// The label of a choice or scale code.
    pub fn label_of(&self, code: &str) -> Option<&str> {
        let list = match self {
            QuestionKind::SingleChoice { choices } | QuestionKind::MultipleChoice { choices, .. } => choices,
            QuestionKind::Rating { scale } | QuestionKind::Matrix { scale, .. } => scale,
            _ => return None,
        };
        list.iter().find(|c| c.code == code).map(|c| c.label.as_str())
    }
}

/// A question `id` of `kind`, titled 题目`id`, optional: for tests.
#[cfg(test)]
pub(crate) fn test_question(id: &str, kind: QuestionKind) -> Question {
    Question {
        id: id.into(),
        title: format!("题目{id}"),
        help: String::new(),
        required: false,
        kind,
        show_if: None,
        opinion: false,
        areas: vec![],
        contact_purpose: None,
        names_unit: false,
    }
}

/// Form `f` (表) with `questions` and the one category 社会群众: for tests.
#[cfg(test)]
pub(crate) fn test_form(questions: Vec<Question>) -> FormDef {
    FormDef {
        slug: "f".into(),
        title: "表".into(),
        intro: String::new(),
        anonymous: true,
        opens_at: None,
        closes_at: None,
        categories: vec![Choice { code: "qz".into(), label: "社会群众".into() }],
        category_label: None,
        units: vec![],
        questions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rated(grades: &[&str]) -> FormDef {
        let scale = grades.iter().enumerate().map(|(i, g)| Choice { code: (i + 1).to_string(), label: (*g).into() });
        let mut question = test_question("overall", QuestionKind::Rating { scale: scale.collect() });
        question.title = "总体评价".into();
        test_form(vec![question])
    }

    #[test]
    fn a_grade_renamed_in_its_place_is_allowed_and_one_added_removed_or_moved_is_refused() {
        let before = rated(&["好", "较好", "一般", "差"]);
        assert!(grades_moved(&before, &before).is_empty());
        assert!(grades_moved(&before, &rated(&["好", "比较好", "一般", "差"])).is_empty(), "renamed in place");
        for after in [
            rated(&["好", "较好", "一般", "较差", "差"]),
            rated(&["好", "较好", "差"]),
            rated(&["差", "一般", "较好", "好"]),
            rated(&["好", "一般", "较好", "差"]),
        ] {
            let refused = grades_moved(&before, &after);
            assert_eq!(refused.len(), 1, "{after:?}");
            assert!(refused[0].contains("总体评价") && refused[0].contains("好/较好/一般/差"), "{refused:?}");
        }
    }
}
