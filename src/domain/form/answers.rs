//! Validates what a respondent submitted against a [`FormDef`]: every problem is named by its question,
//! in Chinese, so the page can show it beside the question with everything typed kept.

use super::{FormDef, Question, QuestionKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Submitted values by field name, as they arrive: a question id maps to its values; a matrix row is
/// `question.row`. Choice questions may carry several values; text questions one.
pub type RawAnswers = BTreeMap<String, Vec<String>>;

/// One validated answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    Text(String),
    Choice(String),
    Choices(Vec<String>),
    Matrix(BTreeMap<String, String>),
    Number(f64),
    Date(NaiveDate),
    Phone(String),
}

impl Answer {
    /// The answer as people read it, with choice codes replaced by labels.
    pub fn display(&self, kind: &QuestionKind) -> String {
        let label = |c: &str| kind.label_of(c).unwrap_or(c).to_owned();
        match self {
            Answer::Text(t) | Answer::Phone(t) => t.clone(),
            Answer::Choice(c) => label(c),
            Answer::Choices(cs) => cs.iter().map(|c| label(c)).collect::<Vec<_>>().join("；"),
            Answer::Matrix(m) => {
                let rows = match kind {
                    QuestionKind::Matrix { rows, .. } => rows.as_slice(),
                    _ => &[],
                };
                rows.iter()
                    .filter_map(|r| m.get(&r.code).map(|v| format!("{}：{}", r.label, label(v))))
                    .collect::<Vec<_>>()
                    .join("；")
            }
            Answer::Number(n) => format_number(*n),
            Answer::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }

    /// The codes behind the answer (choice codes, matrix `row=code` pairs), for exports that want codes.
    pub fn codes(&self) -> String {
        match self {
            Answer::Choice(c) => c.clone(),
            Answer::Choices(cs) => cs.join(";"),
            Answer::Matrix(m) => m.iter().map(|(r, v)| format!("{r}={v}")).collect::<Vec<_>>().join(";"),
            other => other.display(&QuestionKind::Phone),
        }
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// A problem with one field, shown beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldError {
    /// The question id (or `category`).
    pub field: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

/// A complete, valid set of answers in form order; questions hidden by their condition are left out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ValidAnswers(pub Vec<(String, Answer)>);

impl ValidAnswers {
    pub fn get(&self, id: &str) -> Option<&Answer> {
        self.0.iter().find(|(q, _)| q == id).map(|(_, a)| a)
    }
}

/// Cleans free text: trims, turns CR LF and the other line breaks into LF, drops other control characters but tabs,
/// and the invisible characters that pasted text carries without meaning (see
/// [`crate::domain::text::is_meaningless_invisible`]).
pub fn clean_text(s: &str) -> String {
    let s = s.trim();
    // Most text has nothing to drop: control bytes (and 0xC2, which starts U+0080..U+009F; 0xE2 and 0xEF,
    // which start the invisible ones) are looked for 32 at a time without stopping early, so the check
    // compiles to vector instructions (byte by byte was 2% of CPU).
    let suspect =
        |b: u8| (b < 0x20) & (b != b'\n') & (b != b'\t') | (b == 0x7F) | (b == 0xC2) | (b == 0xE2) | (b == 0xEF);
    if !s.as_bytes().chunks(32).any(|chunk| chunk.iter().fold(false, |any, &b| any | suspect(b))) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push('\n');
            }
            '\n' | '\t' => out.push(c),
            // Other line breaks (Word's Shift+Enter is a vertical tab) stay breaks, not lines run together.
            '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            c if c.is_control() || crate::domain::text::is_meaningless_invisible(c) => {}
            c => out.push(c),
        }
    }
    // Dropping a control character can leave new outer whitespace.
    let trimmed = out.trim();
    if trimmed.len() == out.len() { out } else { trimmed.to_owned() }
}

/// Validates `raw` against `form` on the bureau's day `today`.
///
/// # Errors
/// Every field problem, in form order.
pub fn validate(form: &FormDef, raw: &RawAnswers, today: NaiveDate) -> Result<ValidAnswers, Vec<FieldError>> {
    let mut out = ValidAnswers::default();
    let mut errors = Vec::new();
    for q in &form.questions {
        if !shown(q, &out) {
            continue;
        }
        match answer(q, raw).and_then(|a| not_ahead_of(today, q, a)) {
            Ok(Some(a)) => out.0.push((q.id.clone(), a)),
            Ok(None) if q.required => {
                let ask = if q.kind.choice_codes().is_some() || matches!(q.kind, QuestionKind::Matrix { .. }) {
                    "此题为必答题，请选择。"
                } else {
                    "此题为必答题，请填写。"
                };
                errors.push(err(q, ask));
            }
            Ok(None) => {}
            Err(message) => errors.push(FieldError { field: q.id.clone(), message }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Refuses a day after `today` where the question asks for one that has come (`max_date = "today"`).
fn not_ahead_of(today: NaiveDate, q: &Question, a: Option<Answer>) -> Result<Option<Answer>, String> {
    match (&q.kind, &a) {
        (QuestionKind::Date { not_after_today: true, .. }, Some(Answer::Date(d))) if *d > today => {
            Err(format!("这一天还没有到，请填写今天（{today}）或之前的日期。"))
        }
        _ => Ok(a),
    }
}

/// A digit, sign or point typed on a Chinese keyboard's full-width layout, as its ASCII self.
fn half_width(c: char) -> char {
    match c {
        '０'..='９' => crate::domain::text::half_width(c),
        '－' => '-',
        '＋' => '+',
        '．' => '.',
        c => c,
    }
}

/// Whether `q` is shown, given the answers before it.
fn shown(q: &Question, before: &ValidAnswers) -> bool {
    let Some(cond) = &q.show_if else { return true };
    match before.get(&cond.question) {
        Some(Answer::Choice(c)) => cond.any_of.contains(c),
        Some(Answer::Choices(cs)) => cs.iter().any(|c| cond.any_of.contains(c)),
        _ => false,
    }
}

/// Whether `key` (a question id, or `id.row` for a matrix row) is a field of `form`.
fn has_field(form: &FormDef, key: &str) -> bool {
    let (id, row) = key.split_once('.').map_or((key, None), |(q, r)| (q, Some(r)));
    form.question(id).is_some_and(|q| match (&q.kind, row) {
        (QuestionKind::Matrix { rows, .. }, Some(row)) => rows.iter().any(|r| r.code == row),
        (QuestionKind::Matrix { .. }, None) => false,
        (_, row) => row.is_none(),
    })
}

/// What an HTML post typed into fields the form no longer has (it was reloaded with a question renamed or
/// removed while the citizen wrote), as (field, text): shown back to them, never silently dropped.
pub fn typed_into_unknown_fields(form: &FormDef, raw: &RawAnswers) -> Vec<(String, String)> {
    raw.iter()
        .filter(|(key, _)| !has_field(form, key))
        .filter_map(|(key, v)| Some((key.clone(), written(v)?)))
        .collect()
}

/// The text answers of a post that cannot be taken (the form closed, or its link was revoked, while the
/// citizen wrote), as (question, text), so the refusal shows them back.
pub fn typed_text_answers(form: &FormDef, raw: &RawAnswers) -> Vec<(String, String)> {
    form.questions
        .iter()
        .filter(|q| matches!(q.kind, QuestionKind::ShortText { .. } | QuestionKind::LongText { .. }))
        .filter_map(|q| Some((q.title.clone(), written(raw.get(&q.id)?)?)))
        .collect()
}

/// A field's values as text to show back: the non-blank ones, a line each; `None` when nothing was written.
pub fn written(values: &[String]) -> Option<String> {
    let text: Vec<&str> = values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    (!text.is_empty()).then(|| text.join("\n"))
}

/// What [`validate`] would leave out silently, for clients that name every field themselves (the JSON
/// API): fields that are no question of the form (or no row of a matrix), and answers to questions
/// hidden by their condition. The HTML form, which posts every field, checks the second part only.
pub fn unexpected(form: &FormDef, raw: &RawAnswers) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for key in raw.keys() {
        if !has_field(form, key) {
            errors.push(FieldError {
                field: key.clone(), message: format!("表中没有“{key}”这一题，请删去。")
            });
        }
    }
    errors.extend(answered_though_hidden(form, raw));
    errors
}

/// Whether a field holds nothing a person could read (spaces and zero-width characters): left in a hidden
/// question, it is no answer to refuse.
fn invisible_only(values: Option<&Vec<String>>) -> bool {
    values.is_some_and(|vs| vs.iter().all(|v| crate::domain::text::is_blank(v)))
}

/// Answers given to questions their condition hides (the HTML form without its script shows every
/// question, with when to answer it): refused with what to change, since [`validate`] would drop them.
pub fn answered_though_hidden(form: &FormDef, raw: &RawAnswers) -> Vec<FieldError> {
    // Only answers that a condition reads, or that a hidden question was given, need reading here:
    // [`validate`] reads the rest (long opinion texts among them) anyway.
    let conditions: Vec<&str> =
        form.questions.iter().filter_map(|q| q.show_if.as_ref()).map(|c| c.question.as_str()).collect();
    let mut errors = Vec::new();
    let mut before = ValidAnswers::default();
    for q in &form.questions {
        let visible = shown(q, &before);
        if visible && !conditions.contains(&q.id.as_str()) {
            continue;
        }
        let given = answer(q, raw);
        if visible {
            if let Ok(Some(a)) = given {
                before.0.push((q.id.clone(), a));
            }
        } else if !matches!(given, Ok(None))
            && !invisible_only(raw.get(&q.id))
            && let Some(cond) = &q.show_if
        {
            let n = form.questions.iter().position(|x| x.id == cond.question).map_or(0, |p| p + 1);
            let target = form.question(&cond.question);
            let wanted: Vec<&str> =
                cond.any_of.iter().map(|v| target.and_then(|t| t.kind.label_of(v)).unwrap_or(v)).collect();
            errors.push(err(
                q,
                &format!(
                    "按第 {n} 题的回答，此题不需要填写，这里的内容不会保存：要保存，请把第 {n} 题改为“{}”；否则请清空此题。",
                    wanted.join("”或“")
                ),
            ));
        }
    }
    errors
}

fn err(q: &Question, m: &str) -> FieldError {
    FieldError { field: q.id.clone(), message: m.to_owned() }
}

fn single<'a>(raw: &'a RawAnswers, key: &str) -> Result<Option<&'a str>, String> {
    match raw.get(key).map(Vec::as_slice) {
        None | Some([]) => Ok(None),
        Some([v]) => Ok(Some(v.as_str()).filter(|v| !v.trim().is_empty())),
        Some(_) => Err("此题只能有一个答案。".to_owned()),
    }
}

fn answer(q: &Question, raw: &RawAnswers) -> Result<Option<Answer>, String> {
    match &q.kind {
        QuestionKind::ShortText { min_length, max_length } | QuestionKind::LongText { min_length, max_length } => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            let text = clean_text(v);
            // Invisible format characters (zero-width, direction overrides) are not text a person wrote.
            // Spaces and control characters alone are nothing typed; with invisible characters among them
            // (zero-width, direction marks) the writer is told why nothing counts.
            if crate::domain::text::is_blank(&text) {
                return if v.chars().all(|c| c.is_whitespace() || c.is_control()) {
                    Ok(None)
                } else {
                    Err("只有看不见的格式字符（零宽字符、方向控制符等），不算文字，请重新填写。".to_owned())
                };
            }
            let n = crate::domain::text::visible_len(&text);
            if n < *min_length {
                return Err(format!("请至少写 {min_length} 个字（现在 {n} 个）。"));
            }
            let n = text.chars().count();
            if n > *max_length {
                return Err(format!("最多 {max_length} 个字，现在 {n} 个，请精简。"));
            }
            Ok(Some(Answer::Text(text)))
        }
        QuestionKind::SingleChoice { choices } => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            if !choices.iter().any(|c| c.code == v) {
                return Err("请从给出的选项中选择。".to_owned());
            }
            Ok(Some(Answer::Choice(v.to_owned())))
        }
        QuestionKind::Rating { scale } => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            if !scale.iter().any(|c| c.code == v) {
                return Err("请从给出的等级中选择。".to_owned());
            }
            Ok(Some(Answer::Choice(v.to_owned())))
        }
        QuestionKind::MultipleChoice { choices, min_selected, max_selected } => {
            let mut picked: Vec<String> = Vec::new();
            for v in raw.get(&q.id).map(Vec::as_slice).unwrap_or_default() {
                if v.trim().is_empty() {
                    continue;
                }
                if !choices.iter().any(|c| &c.code == v) {
                    return Err("请从给出的选项中选择。".to_owned());
                }
                if !picked.contains(v) {
                    picked.push(v.clone());
                }
            }
            if picked.is_empty() {
                return Ok(None);
            }
            if picked.len() < *min_selected {
                return Err(format!("请至少选择 {min_selected} 项。"));
            }
            if picked.len() > *max_selected {
                return Err(format!("最多选择 {max_selected} 项。"));
            }
            // Keep the form's order so equal answers compare equal.
            picked.sort_by_key(|p| choices.iter().position(|c| &c.code == p));
            Ok(Some(Answer::Choices(picked)))
        }
        QuestionKind::Matrix { rows, scale } => {
            let mut m = BTreeMap::new();
            let mut missing = Vec::new();
            for r in rows {
                match single(raw, &format!("{}.{}", q.id, r.code))? {
                    Some(v) if scale.iter().any(|c| c.code == v) => {
                        m.insert(r.code.clone(), v.to_owned());
                    }
                    Some(_) => return Err(format!("「{}」请从给出的等级中选择。", r.label)),
                    None => missing.push(r.label.as_str()),
                }
            }
            if m.is_empty() {
                return Ok(None);
            }
            if q.required && !missing.is_empty() {
                return Err(format!("还有 {} 行未评：{}。", missing.len(), missing.join("、")));
            }
            Ok(Some(Answer::Matrix(m)))
        }
        QuestionKind::Number { min, max, integer } => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            let typed: String = v.trim().chars().map(half_width).collect();
            let n: f64 = typed.parse().ok().filter(|n: &f64| n.is_finite()).ok_or("请填写数字。")?;
            if *integer && n.fract() != 0.0 {
                return Err("请填写整数。".to_owned());
            }
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                return Err(match (min, max) {
                    (Some(a), Some(b)) => format!("请填写 {} 到 {} 之间的数。", format_number(*a), format_number(*b)),
                    (Some(a), None) => format!("请填写不小于 {} 的数。", format_number(*a)),
                    (None, Some(b)) => format!("请填写不大于 {} 的数。", format_number(*b)),
                    (None, None) => "请填写数字。".to_owned(),
                });
            }
            Ok(Some(Answer::Number(n)))
        }
        QuestionKind::Date { min, max, .. } => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map_err(|_| "请按 2026-05-01 的格式填写日期。".to_owned())?;
            if min.is_some_and(|m| d < m) || max.is_some_and(|m| d > m) {
                return Err(match (min, max) {
                    (Some(a), Some(b)) => format!("请填写 {a} 到 {b} 之间的日期。"),
                    (Some(a), None) => format!("请填写 {a} 或之后的日期。"),
                    (None, Some(b)) => format!("请填写 {b} 或之前的日期。"),
                    (None, None) => "日期不在允许的范围内。".to_owned(),
                });
            }
            Ok(Some(Answer::Date(d)))
        }
        QuestionKind::Phone => {
            let Some(v) = single(raw, &q.id)? else { return Ok(None) };
            // As typed on a phone: full-width digits from a Chinese keyboard read as digits; spaces and
            // invisible characters pasted with the number are dropped.
            let p: String = v
                .chars()
                .filter(|c| !c.is_whitespace() && crate::domain::text::is_visible(*c))
                .map(half_width)
                .collect();
            check_phone(&p)?;
            Ok(Some(Answer::Phone(p)))
        }
    }
}

/// A number the office can call back: a mobile number (11 digits, 13x to 19x), a landline with its area
/// code (10 to 12 digits from 0, an extension after a last `-`), a 400/800 service number; China's `+86`
/// (or `0086`) before either; or another country's number after `+`. A local number without its area code
/// is not enough: the office calls from another town.
fn check_phone(p: &str) -> Result<(), String> {
    const SHAPE: &str = "请填写有效的电话号码：只用数字（可带 - 或 +86），手机 11 位，座机带区号。";
    let shaped = p.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+') && !p.chars().skip(1).any(|c| c == '+');
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    if !shaped || digits.is_empty() {
        return Err(SHAPE.into());
    }
    // China's code before the national number (whose landline trunk 0 is then left out).
    // (A number of this country never starts with 86: landlines start with 0, mobiles with 1.)
    let china = digits.strip_prefix("0086").or_else(|| digits.strip_prefix("86"));
    let national = match china {
        Some(rest) if rest.starts_with('0') || (rest.starts_with('1') && rest.len() == 11) => rest.to_owned(),
        Some(rest) => format!("0{rest}"),
        None if p.starts_with('+') || digits.starts_with("00") => {
            // Another country's number: as E.164 allows.
            let n = digits.trim_start_matches("00").len();
            return if (8..=15).contains(&n) { Ok(()) } else { Err(SHAPE.into()) };
        }
        None => digits.clone(),
    };
    let n = national.len();
    let b = national.as_bytes();
    // An extension: the last of three or more groups, of 1 to 6 digits.
    let groups: Vec<&str> = p.split('-').filter(|g| !g.is_empty()).collect();
    let extension = match groups.as_slice() {
        [_, _, .., last] if groups.len() >= 3 && (1..=6).contains(&last.len()) => last.len(),
        _ => 0,
    };
    match b[0] {
        b'1' if n != 11 => Err(format!("手机号码应为 11 位，现在是 {n} 位，请核对。")),
        b'1' if (b'3'..=b'9').contains(&b[1]) => Ok(()),
        b'1' => Err("手机号码应以 13 到 19 开头，请核对。".into()),
        b'0' if n > 1 && b[1] == b'0' => Err(SHAPE.into()),
        b'0' if (10..=12).contains(&n) || (10..=12).contains(&n.saturating_sub(extension)) => Ok(()),
        b'0' => Err(format!("座机号码连区号应为 10 到 12 位（如 0755-12345678），现在是 {n} 位，请核对。")),
        b'4' | b'8' if n == 10 && (national.starts_with("400") || national.starts_with("800")) => Ok(()),
        _ => Err("座机号码请带区号（如 0755-12345678）；手机号码以 1 开头，共 11 位。".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{QuestionKind, RawAnswers, answer, check_phone, clean_text};
    use crate::domain::form::Question;

    fn refusal(kind: QuestionKind, value: &str) -> String {
        let q = Question {
            id: "q".into(),
            title: "t".into(),
            help: String::new(),
            required: false,
            kind,
            show_if: None,
            opinion: false,
            areas: Vec::new(),
            contact_purpose: None,
            names_unit: false,
        };
        let raw = RawAnswers::from([("q".to_owned(), vec![value.to_owned()])]);
        answer(&q, &raw).expect_err("refused")
    }

    #[test]
    fn a_phone_number_typed_full_width_or_pasted_with_invisible_characters_is_read_as_its_digits() {
        let q = |v: &str| {
            let q = Question {
                id: "q".into(),
                title: "t".into(),
                help: String::new(),
                required: false,
                kind: QuestionKind::Phone,
                show_if: None,
                opinion: false,
                areas: Vec::new(),
                contact_purpose: None,
                names_unit: false,
            };
            answer(&q, &RawAnswers::from([("q".to_owned(), vec![v.to_owned()])]))
        };
        for typed in
            ["13800138000\u{200B}", "１３８００１３８０００", "\u{FEFF}138 0013 8000", "０７５５－１２３４５６７"]
        {
            let Ok(Some(crate::domain::form::answers::Answer::Phone(p))) = q(typed) else {
                panic!("{typed:?} refused")
            };
            assert!(p.chars().all(|c| c.is_ascii_digit() || c == '-'), "{p}");
        }
        assert!(q("abc").is_err());
    }

    #[test]
    fn a_phone_number_the_office_cannot_call_back_is_refused_saying_what_is_wrong() {
        for ok in [
            "13800138000",
            "+8613800138000",
            "008613800138000",
            "8613800138000",
            "010-12345678",
            "0755-1234567",
            "02112345678",
            "+86-10-12345678",
            "+86-010-12345678",
            "86-0755-12345678",
            "010-12345678-123",
            "400-800-8888",
            "+852-91234567",
        ] {
            assert_eq!(check_phone(ok), Ok(()), "{ok}");
        }
        for nonsense in ["10000000000", "0000000000", "+123", "0086-1234"] {
            assert!(check_phone(nonsense).is_err(), "{nonsense}");
        }
        let refused = |p: &str| check_phone(p).expect_err(p);
        assert_eq!(refused("1381234"), "手机号码应为 11 位，现在是 7 位，请核对。");
        assert_eq!(refused("138001380001"), "手机号码应为 11 位，现在是 12 位，请核对。");
        assert!(refused("87654321").contains("座机号码请带区号"), "a local number without its area code");
        assert!(refused("").contains("只用数字"));
        assert!(refused("0755-123").contains("现在是 7 位"));
        assert!(refused("138+00138000").contains("只用数字"));
        assert!(refused("--").contains("只用数字"));
    }

    #[test]
    fn text_of_spaces_and_invisible_characters_is_never_stored_as_an_opinion() {
        let text = QuestionKind::LongText { min_length: 0, max_length: 100 };
        for invisible in ["\u{200e}\u{200f} \u{2066}\u{2069}", "\u{200e}\u{3000}\u{200e}", "\u{200b} \u{200b}"] {
            assert!(refusal(text.clone(), invisible).starts_with("只有看不见的格式字符"), "{invisible:?}");
        }
    }

    #[test]
    fn a_number_or_date_out_of_range_is_refused_in_a_whole_sentence_naming_the_bound() {
        let number = |min, max| QuestionKind::Number { min, max, integer: true };
        assert_eq!(refusal(number(Some(1.0), Some(9.0)), "10"), "请填写 1 到 9 之间的数。");
        assert_eq!(refusal(number(Some(5.0), None), "3"), "请填写不小于 5 的数。");
        assert_eq!(refusal(number(None, Some(5.0)), "6"), "请填写不大于 5 的数。");
        assert_eq!(
            refusal(number(None, Some(5.0)), "１２"),
            "请填写不大于 5 的数。",
            "full-width digits read as digits"
        );
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let date = |min, max| QuestionKind::Date { min, max, not_after_today: false };
        assert_eq!(refusal(date(day("2026-01-01"), None), "2025-12-31"), "请填写 2026-01-01 或之后的日期。");
        assert_eq!(refusal(date(None, day("2026-12-31")), "2027-01-01"), "请填写 2026-12-31 或之前的日期。");
    }

    proptest::proptest! {
        #[test]
        fn any_phone_number_typed_is_answered_without_a_panic(p in "[0-9+\\-]{0,20}") {
            let _ = check_phone(&p);
        }

        #[test]
        fn clean_text_keeps_its_meaning(s in "[ a中é§\r\n\t\u{1}\u{7f}\u{85}\u{b}\u{c}\u{2028}\u{3000}\u{200b}\u{200d}\u{202e}\u{2068}\u{feff}，“]{0,24}") {
            // The rule written plainly; `clean_text` does the same in one pass.
            let invisible = ['\u{200b}', '\u{202e}', '\u{feff}'];
            let plain = s.replace("\r\n", "\n").replace(['\r', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}'], "\n").chars()
                .filter(|c| (!c.is_control() || *c == '\n' || *c == '\t') && !invisible.contains(c))
                .collect::<String>().trim().to_owned();
            proptest::prop_assert_eq!(clean_text(&s), plain);
        }
    }
}
