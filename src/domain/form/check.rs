//! Turns a form file into a checked [`FormDef`], or names every problem with the file, the question and
//! the reason, so a bureau's IT person can fix a definition without reading code.

use super::raw::{RawChoice, RawForm, RawQuestion};
use super::{Choice, Condition, FormDef, MatrixRow, Question, QuestionKind};
use crate::domain::area::{AreaCode, Areas, Topic};
use crate::domain::unit::{Unit, is_code};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use std::collections::HashSet;
use std::fmt;

/// Longest text any question may accept; the request body limit (64 KiB) is sized from it.
pub const MAX_TEXT_LENGTH: usize = 5000;

/// What a form's answers may take of the 64 KiB request body, all written to their limits: a browser sends
/// them as multipart, up to 4 bytes a character and a part's headers each, besides the form's own fields.
const ANSWERS_ROOM: usize = 60 * 1024;

/// One problem in a form file.
#[derive(Debug, Clone, PartialEq)]
pub struct FormError {
    pub file: String,
    /// The question the problem is in, if it is in one.
    pub question: Option<String>,
    pub reason: String,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.question {
            Some(q) => write!(f, "{}: 题目 `{}`: {}", self.file, q, self.reason),
            None => write!(f, "{}: {}", self.file, self.reason),
        }
    }
}

impl std::error::Error for FormError {}

/// What a form may refer to: the areas, the units and the research topics.
pub struct Catalogues<'a> {
    pub areas: &'a Areas,
    pub units: &'a [Unit],
    pub topics: &'a [Topic],
}

/// The time zone the bureau writes dates in when a date has none (China Standard Time).
pub fn bureau_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The bureau's offset from UTC in milliseconds: `(ms + this) / 86_400_000` numbers its days.
pub fn bureau_offset_ms() -> i64 {
    i64::from(bureau_offset().local_minus_utc()) * 1000
}

/// Parses and checks one form file's text.
///
/// # Errors
/// Every problem found, each naming `file`, the question (when there is one) and the reason.
pub fn parse_form(file: &str, text: &str, cat: &Catalogues<'_>) -> Result<FormDef, Vec<FormError>> {
    let raw: RawForm = toml::from_str(text).map_err(|e| {
        vec![FormError {
            file: file.to_owned(),
            question: None,
            reason: format!("文件格式错误：{}", e.to_string().trim()),
        }]
    })?;
    let mut c = Checker { file, errors: Vec::new() };
    let def = c.form(raw, cat);
    if c.errors.is_empty() { Ok(def) } else { Err(c.errors) }
}

struct Checker<'f> {
    file: &'f str,
    errors: Vec<FormError>,
}

impl Checker<'_> {
    fn err(&mut self, question: Option<&str>, reason: impl Into<String>) {
        self.errors.push(FormError {
            file: self.file.to_owned(),
            question: question.map(str::to_owned),
            reason: reason.into(),
        });
    }

    fn form(&mut self, raw: RawForm, cat: &Catalogues<'_>) -> FormDef {
        if !is_code(&raw.slug) {
            self.err(None, format!("slug `{}` 只能由字母、数字、- 和 _ 组成（1 到 40 个字符）", raw.slug));
        }
        if raw.title.trim().is_empty() {
            self.err(None, "title 不能为空");
        }
        let opens_at = raw.opens_at.as_deref().and_then(|s| self.datetime("opens_at", s, false));
        let closes_at = raw.closes_at.as_deref().and_then(|s| self.datetime("closes_at", s, true));
        if let (Some(o), Some(c)) = (opens_at, closes_at)
            && c <= o
        {
            self.err(None, format!("closes_at（{c}）早于或等于 opens_at（{o}）"));
        }
        let categories = self.choices(None, "categories", &raw.categories, true);
        let category_label = raw.category_label.map(|l| l.trim().to_owned());
        if category_label.as_ref().is_some_and(|l| l.is_empty() || l.chars().count() > 30) {
            self.err(None, "category_label 应为 1 到 30 个字");
        }
        for u in &raw.units {
            if !cat.units.iter().any(|k| &k.code == u) {
                self.err(None, format!("units 中的单位代码 `{u}` 不在 units.toml 中"));
            }
        }
        if raw.questions.is_empty() {
            self.err(None, "表单没有任何题目（[[question]]）");
        }
        let mut questions: Vec<Question> = Vec::with_capacity(raw.questions.len());
        let mut seen = HashSet::new();
        for rq in raw.questions {
            if !is_code(&rq.id) {
                self.err(Some(&rq.id), "题目 id 只能由字母、数字、- 和 _ 组成");
            }
            if !seen.insert(rq.id.clone()) {
                self.err(Some(&rq.id), "题目 id 重复");
                continue;
            }
            if let Some(q) = self.question(rq, &questions, cat) {
                questions.push(q);
            }
        }
        // Answers written to their limits would otherwise be refused whole, after the citizen wrote them.
        let written_out: usize = questions.iter().map(|q| q.kind.max_length().unwrap_or(0) * 4 + 256).sum();
        if written_out > ANSWERS_ROOM {
            self.err(
                None,
                format!(
                    "各题 max_length 合计太大：全部写满时约 {} KB，超过一次提交留给答案的 {} KB（提交大小上限 64 KB），群众写满后会提交失败；请调小某些题的 max_length",
                    written_out / 1024,
                    ANSWERS_ROOM / 1024
                ),
            );
        }
        FormDef {
            slug: raw.slug,
            title: raw.title.trim().to_owned(),
            intro: raw.intro.trim().to_owned(),
            anonymous: raw.anonymous,
            opens_at,
            closes_at,
            categories,
            category_label,
            units: raw.units,
            questions,
        }
    }

    fn datetime(&mut self, field: &str, s: &str, end_of_day: bool) -> Option<DateTime<FixedOffset>> {
        let tz = bureau_offset();
        if let Ok(d) = DateTime::parse_from_rfc3339(s) {
            return Some(d);
        }
        for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
            if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
                return tz.from_local_datetime(&n).single();
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            let t = if end_of_day { d.and_hms_opt(23, 59, 59) } else { d.and_hms_opt(0, 0, 0) };
            return t.and_then(|n| tz.from_local_datetime(&n).single());
        }
        self.err(None, format!("{field} 的日期 `{s}` 无法识别（示例：2026-05-01 或 2026-05-01 08:00）"));
        None
    }

    fn choices(&mut self, q: Option<&str>, what: &str, raw: &[RawChoice], allow_empty: bool) -> Vec<Choice> {
        if raw.is_empty() && !allow_empty {
            self.err(q, format!("{what} 的选项列表为空"));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for c in raw {
            if !is_code(&c.code) {
                self.err(q, format!("{what} 中的选项代码 `{}` 只能由字母、数字、- 和 _ 组成", c.code));
            } else if !seen.insert(c.code.as_str()) {
                self.err(q, format!("{what} 中的选项代码 `{}` 重复", c.code));
            }
            if c.label.trim().is_empty() {
                self.err(q, format!("{what} 中的选项 `{}` 没有文字", c.code));
            }
            out.push(Choice { code: c.code.clone(), label: c.label.trim().to_owned() });
        }
        out
    }

    fn scale(&mut self, q: &str, scale: Option<&Vec<String>>) -> Vec<Choice> {
        let Some(scale) = scale else {
            self.err(Some(q), "缺少 scale（等级文字，如 [\"好\", \"较好\", \"一般\", \"差\"]）");
            return Vec::new();
        };
        if scale.len() < 2 {
            self.err(Some(q), "scale 至少需要 2 个等级");
        }
        let mut seen = HashSet::new();
        for s in scale {
            if s.trim().is_empty() {
                self.err(Some(q), "scale 中有空的等级文字");
            } else if !seen.insert(s.as_str()) {
                self.err(Some(q), format!("scale 中的等级 `{s}` 重复"));
            }
        }
        // Codes are positions, 1 = the first (best) label, so stored answers survive relabelling.
        scale
            .iter()
            .enumerate()
            .map(|(i, l)| Choice { code: (i + 1).to_string(), label: l.trim().to_owned() })
            .collect()
    }

    fn area(&mut self, q: &str, code: i64) -> Option<AreaCode> {
        match AreaCode::try_from(code) {
            Ok(a) => Some(a),
            Err(e) => {
                self.err(Some(q), e);
                None
            }
        }
    }

    fn lengths(&mut self, rq: &RawQuestion, default_max: usize) -> (usize, usize) {
        let min = rq.min_length.unwrap_or(0);
        let max = rq.max_length.unwrap_or(default_max);
        if max == 0 || max > MAX_TEXT_LENGTH {
            self.err(Some(&rq.id), format!("max_length 必须在 1 到 {MAX_TEXT_LENGTH} 之间"));
        }
        if min > max {
            self.err(Some(&rq.id), format!("min_length（{min}）大于 max_length（{max}）"));
        }
        (min, max)
    }

    fn question(&mut self, rq: RawQuestion, earlier: &[Question], cat: &Catalogues<'_>) -> Option<Question> {
        let id = rq.id.clone();
        let q = Some(id.as_str());
        if rq.title.trim().is_empty() {
            self.err(q, "title 不能为空");
        }
        let from_catalogue = |name: &str| -> Option<Vec<RawChoice>> {
            match name {
                "topics" => {
                    Some(cat.topics.iter().map(|t| RawChoice { code: t.code.clone(), label: t.name.clone() }).collect())
                }
                "units" => {
                    let places = cat.units.iter().filter(|u| !u.channel);
                    Some(places.map(|u| RawChoice { code: u.code.clone(), label: u.name.clone() }).collect())
                }
                _ => None,
            }
        };
        let choice_list = |this: &mut Self| -> Vec<Choice> {
            let raw = match (&rq.choices, &rq.choices_from) {
                (Some(_), Some(_)) => {
                    this.err(q, "choices 和 choices_from 只能写一个");
                    Vec::new()
                }
                (Some(c), None) => c.clone(),
                (None, Some(name)) => from_catalogue(name).unwrap_or_else(|| {
                    this.err(q, format!("choices_from = `{name}` 不存在（可用：topics、units）"));
                    Vec::new()
                }),
                (None, None) => Vec::new(),
            };
            this.choices(q, "choices", &raw, false)
        };
        let kind = match rq.kind.as_str() {
            "short_text" => {
                let (min_length, max_length) = self.lengths(&rq, 200);
                QuestionKind::ShortText { min_length, max_length }
            }
            "long_text" => {
                let (min_length, max_length) = self.lengths(&rq, 2000);
                QuestionKind::LongText { min_length, max_length }
            }
            "single_choice" => QuestionKind::SingleChoice { choices: choice_list(self) },
            "multiple_choice" => {
                let choices = choice_list(self);
                let min_selected = rq.min_selected.unwrap_or(0);
                let max_selected = rq.max_selected.unwrap_or(choices.len());
                if min_selected > max_selected || max_selected > choices.len().max(1) {
                    self.err(
                        q,
                        format!(
                            "min_selected（{min_selected}）/ max_selected（{max_selected}）与选项数 {} 不符",
                            choices.len()
                        ),
                    );
                }
                QuestionKind::MultipleChoice { choices, min_selected, max_selected }
            }
            "rating" => QuestionKind::Rating { scale: self.scale(&id, rq.scale.as_ref()) },
            "matrix" => {
                let scale = self.scale(&id, rq.scale.as_ref());
                let rows = match (&rq.rows, rq.rows_from.as_deref()) {
                    (Some(_), Some(_)) => {
                        self.err(q, "rows 和 rows_from 只能写一个");
                        Vec::new()
                    }
                    (None, Some("areas")) => cat
                        .areas
                        .iter()
                        .map(|a| MatrixRow { code: format!("a{}", a.code), label: a.name.clone(), area: Some(a.code) })
                        .collect(),
                    (None, Some(other)) => {
                        self.err(q, format!("rows_from = `{other}` 不存在（可用：areas）"));
                        Vec::new()
                    }
                    (Some(rows), None) => {
                        let mut seen = HashSet::new();
                        let mut out = Vec::new();
                        for r in rows {
                            if !is_code(&r.code) || !seen.insert(r.code.clone()) {
                                self.err(q, format!("矩阵行代码 `{}` 无效或重复", r.code));
                            }
                            let area = r.area.and_then(|a| self.area(&id, a));
                            let label = match (&r.label, area) {
                                (Some(l), _) => l.clone(),
                                (None, Some(a)) => cat.areas.name(a).to_owned(),
                                (None, None) => {
                                    self.err(q, format!("矩阵行 `{}` 没有 label", r.code));
                                    String::new()
                                }
                            };
                            out.push(MatrixRow { code: r.code.clone(), label, area });
                        }
                        out
                    }
                    (None, None) => Vec::new(),
                };
                if rows.is_empty() {
                    self.err(q, "矩阵题没有行（写 rows 或 rows_from = \"areas\"）");
                }
                QuestionKind::Matrix { rows, scale }
            }
            "number" => {
                if let (Some(a), Some(b)) = (rq.min, rq.max)
                    && a > b
                {
                    self.err(q, format!("min（{a}）大于 max（{b}）"));
                }
                QuestionKind::Number { min: rq.min, max: rq.max, integer: rq.integer }
            }
            "date" => {
                let mut d = |v: &Option<String>, name: &str| {
                    v.as_deref().and_then(|s| match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                        Ok(d) => Some(d),
                        Err(_) => {
                            self.err(
                                q,
                                format!("{name} 的日期 `{s}` 无法识别（格式 2026-05-01；max_date 也可写 \"today\"）"),
                            );
                            None
                        }
                    })
                };
                let not_after_today = rq.max_date.as_deref().is_some_and(|s| s.trim() == "today");
                let max_date = rq.max_date.clone().filter(|_| !not_after_today);
                let (min, max) = (d(&rq.min_date, "min_date"), d(&max_date, "max_date"));
                if let (Some(a), Some(b)) = (min, max)
                    && a > b
                {
                    self.err(q, "min_date 晚于 max_date");
                }
                QuestionKind::Date { min, max, not_after_today }
            }
            "phone" => QuestionKind::Phone,
            other => {
                self.err(q, format!("未知的题型 `{other}`（可用：short_text、long_text、single_choice、multiple_choice、rating、matrix、number、date、phone）"));
                return None;
            }
        };
        if rq.opinion && !kind.is_text() {
            self.err(q, "只有文字题（short_text、long_text）可以标为 opinion");
        }
        if let Some(purpose) = &rq.contact_purpose {
            if purpose.trim().is_empty() {
                self.err(q, "contact_purpose 不能为空：请说明为什么要留联系方式、谁能看到");
            }
            if rq.required {
                self.err(q, "联系方式题不能必填（required = false）");
            }
            if rq.opinion {
                self.err(q, "联系方式题不能同时是 opinion");
            }
        } else if matches!(kind, QuestionKind::Phone) {
            self.err(q, "phone 题必须写 contact_purpose，说明为什么要留电话、谁能看到");
        }
        let areas: Vec<AreaCode> = rq.areas.iter().filter_map(|a| self.area(&id, *a)).collect();
        let show_if = rq.show_if.as_ref().and_then(|c| {
            let mut any_of = c.any_of.clone();
            if let Some(e) = &c.equals {
                any_of.push(e.clone());
            }
            let Some(target) = earlier.iter().find(|e| e.id == c.question) else {
                self.err(q, format!("show_if 引用的题目 `{}` 不存在或不在本题之前", c.question));
                return None;
            };
            let Some(codes) = target.kind.choice_codes() else {
                self.err(q, format!("show_if 只能引用选择题或评分题，`{}` 不是", c.question));
                return None;
            };
            if any_of.is_empty() {
                self.err(q, "show_if 需要 equals 或 any_of");
            }
            for v in &any_of {
                if !codes.contains(&v.as_str()) {
                    self.err(q, format!("show_if 中的选项 `{v}` 不是题目 `{}` 的选项", c.question));
                }
            }
            Some(Condition { question: c.question.clone(), any_of })
        });
        Some(Question {
            id,
            title: rq.title.trim().to_owned(),
            help: rq.help.trim().to_owned(),
            required: rq.required,
            kind,
            show_if,
            opinion: rq.opinion,
            areas,
            contact_purpose: rq.contact_purpose.map(|p| p.trim().to_owned()),
            names_unit: rq.choices_from.as_deref() == Some("units"),
        })
    }
}
