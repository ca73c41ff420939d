//! 原始数据: one row per response with every answer (labels, and codes beside choice answers), the areas
//! and states of its opinions, and analysts' notes. Contact details are never part of it. Columns come
//! from every stored version of the chosen forms, so an answer to a question later removed still has one.

use super::dates::SentWithin;
use super::policy::{Disclosure, OTHER_CATEGORIES, OTHER_UNITS};
use super::{AreaSet, local_time};
use crate::domain::area::Areas;
use crate::domain::form::answers::Answer;
use crate::domain::form::{Choice, FormDef, MatrixRow, QuestionKind};
use crate::domain::tagging::OpinionState;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One opinion of a response, as the raw sheet shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawOpinion {
    /// The question it answers.
    pub question: String,
    pub areas: AreaSet,
    pub state: OpinionState,
    pub notes: Vec<String>,
}

/// One response with everything the raw sheet shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RawResponse {
    pub id: i64,
    pub receipt: String,
    pub form_slug: String,
    pub form_version_id: i64,
    pub unit: Option<String>,
    pub category: Option<String>,
    pub submitted_at: i64,
    /// The release that took it to leaders (its cut), if one has.
    pub released_at: Option<i64>,
    pub answers: Vec<(String, Answer)>,
    pub opinions: Vec<RawOpinion>,
}

/// A leader's cell for a question whose rows in one release were not all asked it alike.
pub const ASKED_UNEVENLY: &str = "（本批答卷所答题目不一，不显示）";

/// Display names for codes: units, respondent categories and areas.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub units: HashMap<String, String>,
    pub categories: HashMap<String, String>,
    pub areas: Vec<String>,
}

impl Names {
    pub fn new(areas: &Areas, units: &[crate::domain::unit::Unit], forms: &[&FormDef]) -> Names {
        let mut categories = HashMap::new();
        for f in forms {
            for c in &f.categories {
                categories.entry(c.code.clone()).or_insert_with(|| c.label.clone());
            }
        }
        Names {
            units: units.iter().map(|u| (u.code.clone(), u.name.clone())).collect(),
            categories,
            areas: areas.iter().map(|a| a.name.clone()).collect(),
        }
    }
    /// A unit's name (the code itself when unknown).
    pub fn unit<'a>(&'a self, code: Option<&'a str>) -> &'a str {
        match code {
            None => crate::domain::unit::NO_UNIT,
            Some(c) => self.units.get(c).map_or(c, String::as_str),
        }
    }
    /// A respondent category's label (the code itself when unknown).
    pub fn category<'a>(&'a self, code: Option<&'a str>) -> &'a str {
        match code {
            None => "（未选择类别）",
            Some(c) => self.categories.get(c).map_or(c, String::as_str),
        }
    }
    /// Area names joined with 、, e.g. `理论学习、工作效能`.
    pub fn areas(&self, set: AreaSet) -> String {
        let mut out = String::new();
        for a in set.iter() {
            if !out.is_empty() {
                out.push('、');
            }
            match self.areas.get(a.index()) {
                Some(name) => out.push_str(name),
                None => out.push_str(&a.to_string()),
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Column {
    Receipt,
    Form,
    Unit,
    Category,
    SubmittedAt,
    Label(usize),
    Codes(usize),
    Areas,
    States,
    Notes,
}

/// The columns of the raw sheet for a set of form versions.
#[derive(Debug, Clone)]
pub struct RawLayout {
    /// (form slug, question id, kind) per question column group.
    questions: Vec<(String, String, QuestionKind)>,
    columns: Vec<Column>,
    headers: Vec<String>,
    /// Definitions by version id, for labels as the respondent saw them (the office's file; leaders read
    /// the newest version's).
    versions: HashMap<i64, FormDef>,
    titles: BTreeMap<String, String>,
    /// Leaders' view: labels as the policy allows, the day only, no receipt or notes.
    disclosure: Option<Disclosure>,
    /// Indexes into `questions` whose answers name a unit.
    unit_questions: HashSet<usize>,
    /// (release cut, index into `questions`): answers leaders do not read in that release's rows.
    asked_unevenly: HashSet<(i64, usize)>,
    /// Each question's newest title (also of questions a reload removed), by (form slug, question id).
    titles_by_question: HashMap<(String, String), String>,
}

impl RawLayout {
    /// Builds the columns from every stored version of the chosen forms, `versions` newest first.
    pub fn new(forms: &[String], versions: Vec<(i64, FormDef)>) -> RawLayout {
        let several = forms.len() > 1;
        let mut questions: Vec<(String, String, QuestionKind)> = Vec::new();
        let mut headers =
            vec!["回执号".to_owned(), "表单".into(), "单位".into(), "填写人类别".into(), "提交时间".into()];
        let mut columns = vec![Column::Receipt, Column::Form, Column::Unit, Column::Category, Column::SubmittedAt];
        let mut titles = BTreeMap::new();
        let mut unit_questions = HashSet::new();
        let mut titles_by_question = HashMap::new();
        for slug in forms {
            for (_, def) in versions.iter().filter(|(_, d)| &d.slug == slug) {
                titles.entry(slug.clone()).or_insert_with(|| def.title.clone());
                for q in &def.questions {
                    titles_by_question.entry((slug.clone(), q.id.clone())).or_insert_with(|| q.title.clone());
                    if q.contact_purpose.is_some() || matches!(q.kind, QuestionKind::Phone) {
                        continue;
                    }
                    if questions.iter().any(|(s, id, _)| s == slug && id == &q.id) {
                        continue;
                    }
                    let title = if several { format!("【{}】{}", def.title, q.title) } else { q.title.clone() };
                    let i = questions.len();
                    if q.names_unit {
                        unit_questions.insert(i);
                    }
                    questions.push((slug.clone(), q.id.clone(), q.kind.clone()));
                    headers.push(title.clone());
                    columns.push(Column::Label(i));
                    if q.kind.choice_codes().is_some() || matches!(q.kind, QuestionKind::Matrix { .. }) {
                        headers.push(format!("{title}（代码）"));
                        columns.push(Column::Codes(i));
                    }
                }
            }
        }
        headers.extend(["意见所属领域".to_owned(), "意见状态".into(), "分析备注".into()]);
        columns.extend([Column::Areas, Column::States, Column::Notes]);
        let versions = versions.into_iter().collect();
        RawLayout {
            questions,
            columns,
            headers,
            versions,
            titles,
            disclosure: None,
            unit_questions,
            asked_unevenly: HashSet::new(),
            titles_by_question,
        }
    }

    /// The leaders' view under `d`: no receipt (its holder could be asked to show it) and no analysts'
    /// notes; unit and category as the policy allows; the day only.
    pub fn protect(&mut self, d: Disclosure) {
        (self.columns, self.headers) = std::mem::take(&mut self.columns)
            .into_iter()
            .zip(std::mem::take(&mut self.headers))
            .filter(|(c, _)| !matches!(c, Column::Receipt | Column::Notes))
            .unzip();
        self.disclosure = Some(d);
    }

    /// Withholds from a leader's rows the answers to a question in each release whose rows were not all
    /// asked it alike: a question added, removed or given other choices by a reload would otherwise tell
    /// which rows of a batch were sent after the reload (one of them, perhaps). `released`: every (release
    /// cut, form version) pair of the released responses.
    pub fn withhold_unevenly_asked(&mut self, released: &[(i64, i64)]) {
        let mut versions_by_cut: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (cut, version) in released {
            versions_by_cut.entry(*cut).or_default().push(*version);
        }
        for (cut, versions) in &versions_by_cut {
            let mut by_form: BTreeMap<&str, Vec<&FormDef>> = BTreeMap::new();
            for d in versions.iter().filter_map(|v| self.versions.get(v)) {
                by_form.entry(d.slug.as_str()).or_default().push(d);
            }
            let uneven: BTreeMap<&str, _> = by_form
                .into_iter()
                .map(|(slug, defs)| (slug, crate::domain::form::questions_asked_unevenly(&defs)))
                .collect();
            for (i, (slug, id, _)) in self.questions.iter().enumerate() {
                if uneven.get(slug.as_str()).is_some_and(|u| u.contains(id.as_str())) {
                    self.asked_unevenly.insert((*cut, i));
                }
            }
        }
    }

    /// Whether any response row may be written.
    pub fn shows_rows(&self) -> bool {
        self.disclosure.as_ref().is_none_or(Disclosure::shows_rows)
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many stored versions of its forms the layout knows.
    pub fn version_count(&self) -> usize {
        self.versions.len()
    }

    /// Every form definition known to the layout, by version id.
    pub fn version(&self, id: i64) -> Option<&FormDef> {
        self.versions.get(&id)
    }

    /// The kind a response's answer to `question` has, in the version it answered.
    pub fn kind_of<'a>(&'a self, r: &RawResponse, question: &str) -> Option<&'a QuestionKind> {
        self.versions
            .get(&r.form_version_id)
            .and_then(|d| d.question(question))
            .map(|q| &q.kind)
            .or_else(|| self.questions.iter().find(|(s, id, _)| s == &r.form_slug && id == question).map(|(_, _, k)| k))
    }

    /// The kind to count `r`'s answer to `question` under in tables (测评): `None` where a leader's view
    /// withholds the answer (asked unevenly in the row's release); for leaders, matrix rows and grades in
    /// the newest version's labels, so a label a reload renamed does not split off the rows sent after it.
    pub fn tallied_kind<'a>(&'a self, r: &RawResponse, question: &str) -> Option<Cow<'a, QuestionKind>> {
        let answered = self.kind_of(r, question)?;
        if self.disclosure.is_none() {
            return Some(Cow::Borrowed(answered));
        }
        let i = self.questions.iter().position(|(s, id, _)| s == &r.form_slug && id == question)?;
        if r.released_at.is_some_and(|cut| self.asked_unevenly.contains(&(cut, i))) {
            return None;
        }
        let newest = |scale: &[Choice], newest_scale: &[Choice]| -> Vec<Choice> {
            scale.iter().map(|g| newest_scale.iter().find(|n| n.code == g.code).unwrap_or(g).clone()).collect()
        };
        match (answered, &self.questions[i].2) {
            (QuestionKind::Matrix { rows, scale }, QuestionKind::Matrix { rows: newest_rows, scale: newest_scale }) => {
                let rows =
                    rows.iter().map(|row| newest_rows.iter().find(|n| n.code == row.code).unwrap_or(row).clone());
                Some(Cow::Owned(QuestionKind::Matrix { rows: rows.collect(), scale: newest(scale, newest_scale) }))
            }
            (QuestionKind::Rating { scale }, QuestionKind::Rating { scale: newest_scale }) => {
                Some(Cow::Owned(QuestionKind::Rating { scale: newest(scale, newest_scale) }))
            }
            _ => Some(Cow::Borrowed(answered)),
        }
    }

    /// `r`'s answer to `question` as 测评 counts it, under [`RawLayout::tallied_kind`]: a matrix answer as it
    /// is, and a rating (总体评价) as a matrix of one row named by the question's newest title. `None`: not
    /// counted.
    pub fn appraised(
        &self,
        r: &RawResponse,
        question: &str,
        a: &Answer,
    ) -> Option<(QuestionKind, BTreeMap<String, String>)> {
        let kind = self.tallied_kind(r, question)?;
        match (a, kind.as_ref()) {
            (Answer::Matrix(m), QuestionKind::Matrix { .. }) => Some((kind.into_owned(), m.clone())),
            (Answer::Choice(grade), QuestionKind::Rating { scale }) => {
                let title = self.titles_by_question.get(&(r.form_slug.clone(), question.to_owned()))?;
                let row = MatrixRow { code: question.to_owned(), label: title.clone(), area: None };
                let one_row = QuestionKind::Matrix { rows: vec![row], scale: scale.clone() };
                Some((one_row, BTreeMap::from([(question.to_owned(), grade.clone())])))
            }
            _ => None,
        }
    }

    /// A leader's cell for an answer that would tell more than the row's own columns: a unit that the unit
    /// column would not name reads 其他单位（合并）; a date only its month, and nothing when the row's date
    /// shows nothing. `None`: the answer as it is.
    fn generalised(&self, i: usize, r: &RawResponse, a: &Answer) -> Option<String> {
        let d = self.disclosure.as_ref()?;
        if self.unit_questions.contains(&i) {
            let named = match a {
                Answer::Choice(c) => d.shows_unit(Some(c)),
                Answer::Choices(cs) => cs.iter().all(|c| d.shows_unit(Some(c))),
                _ => true,
            };
            return (!named).then(|| OTHER_UNITS.to_owned());
        }
        let Answer::Date(day) = a else { return None };
        Some(match d.row_sent(r.unit.as_deref(), r.category.as_deref(), r.submitted_at) {
            SentWithin::Hidden => SentWithin::Hidden.label(),
            _ => day.format("%Y年%m月").to_string(),
        })
    }

    /// The question of an opinion: its newest title. Leaders never read an opinion answering a question
    /// asked unevenly in its release ([`crate::store::releases`] holds it back), so one title serves all.
    pub fn opinion_question(&self, slug: &str, question: &str) -> String {
        self.titles_by_question
            .get(&(slug.to_owned(), question.to_owned()))
            .cloned()
            .unwrap_or_else(|| question.to_owned())
    }

    /// The opinions of a row whose areas and states a reader of this layout sees: for leaders, not those
    /// answering a question withheld in the row's release (their areas would tell the row apart as well).
    fn opinions_shown<'a>(&'a self, r: &'a RawResponse) -> impl Iterator<Item = &'a RawOpinion> {
        r.opinions.iter().filter(move |o| {
            if self.asked_unevenly.is_empty() {
                return true;
            }
            let withheld = |cut: i64| {
                let i = self.questions.iter().position(|(s, id, _)| s == &r.form_slug && id == &o.question);
                i.is_some_and(|i| self.asked_unevenly.contains(&(cut, i)))
            };
            self.disclosure.is_none() || !r.released_at.is_some_and(withheld)
        })
    }

    /// The cells of one response, in header order.
    pub fn cells<'a>(&'a self, r: &'a RawResponse, names: &'a Names) -> Vec<Cow<'a, str>> {
        let answer = |i: usize| {
            let (slug, id, _) = &self.questions[i];
            if slug != &r.form_slug {
                return None;
            }
            // Leaders read every row in the newest version's labels: a label renamed by a reload would
            // otherwise mark which rows of a released batch were sent after it.
            let kind =
                |q: &str| if self.disclosure.is_some() { Some(&self.questions[i].2) } else { self.kind_of(r, q) };
            r.answers.iter().find(|(q, _)| q == id).map(|(q, a)| (kind(q), a))
        };
        self.columns
            .iter()
            .map(|c| match c {
                Column::Receipt => Cow::Borrowed(r.receipt.as_str()),
                Column::Form => Cow::Borrowed(self.titles.get(&r.form_slug).unwrap_or(&r.form_slug).as_str()),
                Column::Unit => match &self.disclosure {
                    Some(d) if !d.shows_unit(r.unit.as_deref()) => Cow::Borrowed(OTHER_UNITS),
                    _ => Cow::Borrowed(names.unit(r.unit.as_deref())),
                },
                Column::Category => match &self.disclosure {
                    Some(d) if !d.row_shows_category(r.unit.as_deref(), r.category.as_deref()) => {
                        Cow::Borrowed(OTHER_CATEGORIES)
                    }
                    _ => Cow::Borrowed(names.category(r.category.as_deref())),
                },
                Column::SubmittedAt => match &self.disclosure {
                    Some(d) => Cow::Owned(d.row_sent(r.unit.as_deref(), r.category.as_deref(), r.submitted_at).label()),
                    None => Cow::Owned(local_time(r.submitted_at)),
                },
                Column::Label(i) | Column::Codes(i)
                    if self.disclosure.is_some()
                        && r.released_at.is_some_and(|cut| self.asked_unevenly.contains(&(cut, *i))) =>
                {
                    Cow::Borrowed(ASKED_UNEVENLY)
                }
                Column::Label(i) | Column::Codes(i) => match answer(*i) {
                    None => Cow::Borrowed(""),
                    Some((kind, a)) => match (self.generalised(*i, r, a), kind) {
                        (Some(g), _) => Cow::Owned(g),
                        (None, Some(kind)) if matches!(c, Column::Label(_)) => Cow::Owned(a.display(kind)),
                        (None, _) => Cow::Owned(a.codes()),
                    },
                },
                Column::Areas => {
                    let mut all = AreaSet::default();
                    self.opinions_shown(r).for_each(|o| all.union(o.areas));
                    Cow::Owned(names.areas(all))
                }
                Column::States => {
                    let mut states: Vec<&str> = Vec::new();
                    for o in self.opinions_shown(r) {
                        if !states.contains(&o.state.label()) {
                            states.push(o.state.label());
                        }
                    }
                    Cow::Owned(states.join("、"))
                }
                Column::Notes => Cow::Owned(
                    r.opinions.iter().flat_map(|o| o.notes.iter().map(String::as_str)).collect::<Vec<_>>().join("\n"),
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::{Choice, test_form as form, test_question as q};
    use std::collections::BTreeSet;

    #[test]
    fn choice_answers_show_labels_with_codes_beside_and_contacts_never_appear() {
        let choice = QuestionKind::SingleChoice { choices: vec![Choice { code: "y".into(), label: "有".into() }] };
        let mut phone = q("tel", QuestionKind::Phone);
        phone.contact_purpose = Some("回复".into());
        let def = form(vec![q("t", QuestionKind::LongText { min_length: 0, max_length: 10 }), q("c", choice), phone]);
        let layout = RawLayout::new(&["f".into()], vec![(1, def)]);
        assert_eq!(layout.headers()[5..], ["题目t", "题目c", "题目c（代码）", "意见所属领域", "意见状态", "分析备注"]);
        let r = RawResponse {
            id: 1,
            receipt: "WJ-1".into(),
            form_slug: "f".into(),
            form_version_id: 1,
            unit: None,
            category: Some("qz".into()),
            submitted_at: 0,
            released_at: None,
            answers: vec![("t".into(), Answer::Text("=1+1".into())), ("c".into(), Answer::Choice("y".into()))],
            opinions: vec![RawOpinion {
                question: "t".into(),
                areas: [crate::domain::area::AreaCode::try_from(2).unwrap()].into_iter().collect(),
                state: OpinionState::Tagged,
                notes: vec!["核实过".into()],
            }],
        };
        let names = Names { areas: (1..=8).map(|i| format!("领域{i}")).collect(), ..Default::default() };
        let cells = layout.cells(&r, &names);
        assert_eq!(cells[2], "（未指定单位）");
        assert_eq!(cells[5..], ["=1+1", "有", "y", "领域2", "已归类", "核实过"]);
    }

    /// A visit record names the unit visited and the day: for leaders the unit answer reads as the unit
    /// column would, and the day only as its month, so the one person met there that day is not pointed at.
    #[test]
    fn for_leaders_a_unit_answer_reads_as_the_unit_column_would_and_a_date_answer_only_its_month() {
        let choice = |code: &str, label: &str| Choice { code: code.into(), label: label.into() };
        let units = vec![choice("big", "大单位"), choice("mid", "中单位"), choice("lone", "小单位")];
        let mut visited = q("u", QuestionKind::SingleChoice { choices: units });
        visited.names_unit = true;
        let def = form(vec![visited, q("d", QuestionKind::Date { min: None, max: None, not_after_today: false })]);
        let mut layout = RawLayout::new(&["f".into()], vec![(1, def)]);
        let day = super::super::dates::bureau_day(0);
        let qz = Some("qz".to_owned());
        // 小单位's one respondent and 中单位 (smallest shown, so the pool reaches k) are pooled; 大单位 is shown.
        let days = [("big", 6), ("mid", 5), ("lone", 1)].map(|(u, n)| ((Some(u.to_owned()), qz.clone(), day), n));
        layout.protect(Disclosure::decide_dated(&days.into_iter().collect(), 5));
        let visit = |unit: &str| RawResponse {
            id: 1,
            receipt: "WJ-1".into(),
            form_slug: "f".into(),
            form_version_id: 1,
            unit: Some("big".into()),
            category: qz.clone(),
            submitted_at: 0,
            released_at: None,
            answers: vec![
                ("u".into(), Answer::Choice(unit.into())),
                ("d".into(), Answer::Date(chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap())),
            ],
            opinions: vec![],
        };
        let names = Names::default();
        assert_eq!(layout.headers()[3..7], ["提交时间", "题目u", "题目u（代码）", "题目d"]);
        assert_eq!(layout.cells(&visit("lone"), &names)[3..7], ["1970-01-01", OTHER_UNITS, OTHER_UNITS, "2026年12月"]);
        assert_eq!(layout.cells(&visit("mid"), &names)[4..6], [OTHER_UNITS, OTHER_UNITS]);
        assert_eq!(layout.cells(&visit("big"), &names)[4..7], ["大单位", "big", "2026年12月"]);
    }

    /// In each release, a question's answers show only if every row of it was asked the question alike:
    /// wording and labels may change, presence, requiredness and the possible answers may not.
    #[test]
    fn a_release_mixing_rows_asked_a_question_differently_withholds_its_answers_from_leaders() {
        let choices = |codes: &[&str]| QuestionKind::SingleChoice {
            choices: codes.iter().map(|c| Choice { code: (*c).into(), label: format!("选项{c}") }).collect(),
        };
        let v1 = form(vec![q("a", choices(&["x", "y"])), q("gone", choices(&["x"]))]);
        let mut v2 = form(vec![q("a", choices(&["x", "y"])), q("new", choices(&["x"]))]);
        v2.questions[0].title = "改了措辞".into();
        let QuestionKind::SingleChoice { choices: c } = &mut v2.questions[0].kind else { unreachable!() };
        c[0].label = "改了选项文字".into();
        let mut v3 = v2.clone();
        v3.questions[0].kind = choices(&["x", "y", "z"]);
        let mut v4 = v2.clone();
        v4.questions[1].required = true;
        let mut layout = RawLayout::new(&["f".into()], vec![(4, v4), (3, v3), (2, v2), (1, v1)]);
        let days = [((None, Some("qz".to_owned()), 0), 5)];
        layout.protect(Disclosure::decide_dated(&days.into_iter().collect(), 5));
        // Questions in order: a, new (from the newest), gone. Releases: 10 {1}, 20 {1, 2}, 30 {2}, 40 {2, 3},
        // 50 {2, 4}.
        layout.withhold_unevenly_asked(&[(10, 1), (20, 1), (20, 2), (30, 2), (40, 2), (40, 3), (50, 2), (50, 4)]);
        let withheld: BTreeSet<(i64, usize)> = layout.asked_unevenly.iter().copied().collect();
        assert_eq!(withheld, [(20, 1), (20, 2), (40, 0), (50, 1)].into_iter().collect());
        let row = |version: i64, released: i64| RawResponse {
            id: 1,
            receipt: "WJ-1".into(),
            form_slug: "f".into(),
            form_version_id: version,
            unit: None,
            category: Some("qz".into()),
            submitted_at: 0,
            released_at: Some(released),
            answers: vec![("a".into(), Answer::Choice("x".into())), ("new".into(), Answer::Choice("x".into()))],
            opinions: [("a", 1, OpinionState::Tagged), ("new", 8, OpinionState::Invalid)]
                .map(|(question, area, state)| RawOpinion {
                    question: question.into(),
                    areas: [crate::domain::area::AreaCode::try_from(area).unwrap()].into_iter().collect(),
                    state,
                    notes: vec![],
                })
                .to_vec(),
        };
        let last_two =
            |cells: Vec<Cow<'_, str>>| cells[cells.len() - 2..].iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let names = Names::default();
        assert_eq!(layout.headers()[3..7], ["提交时间", "改了措辞", "改了措辞（代码）", "题目new"]);
        assert_eq!(layout.cells(&row(2, 20), &names)[4..8], ["改了选项文字", "x", ASKED_UNEVENLY, ASKED_UNEVENLY]);
        assert_eq!(layout.cells(&row(2, 30), &names)[4..8], ["改了选项文字", "x", "选项x", "x"]);
        assert_eq!(layout.cells(&row(3, 40), &names)[4..6], [ASKED_UNEVENLY, ASKED_UNEVENLY]);
        // An opinion answering a withheld question lends the row neither its areas nor its state.
        assert_eq!(last_two(layout.cells(&row(2, 20), &names)), ["1", "已归类"]);
        assert_eq!(last_two(layout.cells(&row(2, 30), &names)), ["1、8", "已归类、无效"]);
    }
}
