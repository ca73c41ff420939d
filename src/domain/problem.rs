//! 问题清单: a problem distilled from opinions ("梳理归类，剖析根源与原因"), the rules for writing one,
//! and how its support is shown (leaders see units only through the disclosure policy).

use super::area::AreaCode;
use super::form::answers::FieldError;
use super::report::policy::{Code, shown_groups};
use std::collections::BTreeMap;

/// Longest title, in characters.
pub const TITLE_MAX: usize = 100;
/// Longest description or root-cause analysis, in characters.
pub const LONG_MAX: usize = 2000;
/// Representative quotes shown per problem.
pub const QUOTES: usize = 3;

/// The first `n` quotes of `texts` (in the order given) that say something new: a text repeated by several
/// people (the same words, whatever the spaces and punctuation) is quoted once.
pub fn distinct_quotes(texts: impl IntoIterator<Item = String>, n: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    texts
        .into_iter()
        .filter(|t| seen.insert(t.chars().filter(|c| c.is_alphanumeric()).collect::<String>()))
        .take(n)
        .collect()
}

/// The optional kind of root cause, as the analysis report groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CauseType {
    Thinking,
    Institution,
    Conduct,
    Supervision,
    Objective,
}

impl CauseType {
    pub const ALL: [CauseType; 5] =
        [CauseType::Thinking, CauseType::Institution, CauseType::Conduct, CauseType::Supervision, CauseType::Objective];

    pub fn as_str(self) -> &'static str {
        match self {
            CauseType::Thinking => "thinking",
            CauseType::Institution => "institution",
            CauseType::Conduct => "conduct",
            CauseType::Supervision => "supervision",
            CauseType::Objective => "objective",
        }
    }

    pub fn parse(s: &str) -> Option<CauseType> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            CauseType::Thinking => "思想认识",
            CauseType::Institution => "制度机制",
            CauseType::Conduct => "能力作风",
            CauseType::Supervision => "监督管理",
            CauseType::Objective => "客观条件",
        }
    }
}

/// A problem as typed on the page, before it is checked.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProblemInput {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub area: Vec<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub cause_type: String,
    /// The problem's version the form showed (empty when creating).
    #[serde(default)]
    pub seen: String,
}

/// A checked problem: a title, one or more of the eight areas, a description and the root-cause analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct ProblemDraft {
    pub title: String,
    pub areas: Vec<AreaCode>,
    pub description: String,
    pub root_cause: String,
    pub cause_type: Option<CauseType>,
}

/// Trims and checks a text field: required or not, at most `max` characters.
pub(crate) fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    value: &str,
    required: bool,
    max: usize,
) -> String {
    // Cleaned as opinions are: a direction override would turn published text around on /gongkai.
    let cleaned: String = value.chars().filter(|&c| !super::text::is_meaningless_invisible(c)).collect();
    let v = cleaned.trim();
    let n = v.chars().count();
    if required && super::text::is_blank(v) {
        errors.push(FieldError { field: field.into(), message: format!("请填写{label}") });
    } else if n > max {
        errors.push(FieldError {
            field: field.into(), message: format!("{label}太长（{n} 个字符，最多 {max} 个）")
        });
    }
    v.to_owned()
}

impl TryFrom<&ProblemInput> for ProblemDraft {
    type Error = Vec<FieldError>;

    fn try_from(input: &ProblemInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text_field(&mut errors, "title", "标题", &input.title, true, TITLE_MAX);
        let description = text_field(&mut errors, "description", "问题描述", &input.description, true, LONG_MAX);
        let root_cause = text_field(&mut errors, "root_cause", "根源与原因", &input.root_cause, true, LONG_MAX);
        let mut areas: Vec<AreaCode> = Vec::new();
        for a in &input.area {
            match a.trim().parse::<i64>().ok().and_then(|n| AreaCode::try_from(n).ok()) {
                Some(code) if !areas.contains(&code) => areas.push(code),
                Some(_) => {}
                None => {
                    errors.push(FieldError {
                        field: "area".into(), message: "领域只能从八个方面中选择".into()
                    });
                    break;
                }
            }
        }
        areas.sort();
        if areas.is_empty() && !errors.iter().any(|e| e.field == "area") {
            errors.push(FieldError { field: "area".into(), message: "请至少选择一个方面".into() });
        }
        let cause_type = match input.cause_type.trim() {
            "" => None,
            s => {
                let c = CauseType::parse(s);
                if c.is_none() {
                    errors.push(FieldError {
                        field: "cause_type".into(), message: "原因类型只能从列表中选择".into()
                    });
                }
                c
            }
        };
        if errors.is_empty() {
            Ok(ProblemDraft { title, areas, description, root_cause, cause_type })
        } else {
            Err(errors)
        }
    }
}

/// A stored problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub id: i64,
    pub draft: ProblemDraft,
    pub created_by: String,
    /// Changes with every edit: a form sends back the version it showed, so an edit made meanwhile by
    /// someone else is not silently overwritten.
    pub version: i64,
}

/// The areas as stored: codes joined by commas ("1,7").
pub fn areas_to_string(areas: &[AreaCode]) -> String {
    areas.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// The stored areas back; unknown codes are skipped.
pub fn areas_from_string(s: &str) -> Vec<AreaCode> {
    s.split(',').filter_map(|p| p.trim().parse::<i64>().ok()).filter_map(|n| AreaCode::try_from(n).ok()).collect()
}

/// How many opinions and responses support a problem, and where they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Support {
    pub opinions: u64,
    pub responses: u64,
    /// Distinct responses per unit (`None`: no unit) and the form they came from (a response has one form).
    pub by_unit_form: BTreeMap<(Code, String), u64>,
    /// Supporters (responses) taken out of `by_unit_form` because their form pools their unit
    /// ([`Support::pool_supporters_their_forms_pool`]): never named, they count towards the pool.
    pub pooled_by_forms: u64,
}

impl Support {
    /// Distinct responses per unit, over its forms.
    pub fn by_unit(&self) -> BTreeMap<Code, u64> {
        let mut units: BTreeMap<Code, u64> = BTreeMap::new();
        for ((unit, _), n) in &self.by_unit_form {
            *units.entry(unit.clone()).or_default() += n;
        }
        units
    }

    /// Moves out of `by_unit_form`, into `pooled_by_forms`, every supporter whose form does not show its
    /// unit (`form_shows(form, unit)` is that form's disclosure policy), so a problem never names a unit for
    /// a quote its form pools. Supporter by supporter, never the whole unit: which named unit dropped out
    /// when one opinion was linked would tell the unit of a pooled opinion.
    pub fn pool_supporters_their_forms_pool(&mut self, form_shows: impl Fn(&str, Option<&str>) -> bool) {
        let mut moved = 0;
        self.by_unit_form.retain(|(unit, form), n| {
            let shown = form_shows(form, unit.as_deref());
            moved += if shown { 0 } else { *n };
            shown
        });
        self.pooled_by_forms += moved;
    }
}

/// The units a leader may see named for one problem: those the disclosure policy shows for the problem's
/// respondents (k or more, with secondary suppression), no counts; `true` when others are pooled. Supporters
/// of units their forms pool are in the pool from the start, so it still reaches k or is empty.
pub fn leader_units(support: &Support, k: u64) -> (Vec<Code>, bool) {
    // Keyed (pooled from the start, unit): the one `true` key is never named.
    let mut counts: BTreeMap<(bool, Code), u64> = support.by_unit().into_iter().map(|(u, n)| ((false, u), n)).collect();
    if support.pooled_by_forms > 0 {
        counts.insert((true, None), support.pooled_by_forms);
    }
    let shown = shown_groups(&counts, k);
    let pooled = counts.keys().any(|g| g.0 || !shown.contains(g));
    (shown.into_iter().filter(|g| !g.0).map(|(_, u)| u).collect(), pooled)
}

/// Orders problems by support: distinct responses, then opinions, then the older first.
pub fn by_support<T>(list: &mut [(i64, Support, T)]) {
    list.sort_by(|a, b| b.1.responses.cmp(&a.1.responses).then(b.1.opinions.cmp(&a.1.opinions)).then(a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_several_people_sent_is_quoted_once() {
        let texts =
            ["公证处排队时间长。", "公证处排队时间长。", "公证处 排队时间长！", "窗口人员态度冷淡", "调解员补贴太低"];
        assert_eq!(
            distinct_quotes(texts.map(str::to_owned), 3),
            ["公证处排队时间长。", "窗口人员态度冷淡", "调解员补贴太低"]
        );
    }

    fn input(title: &str, areas: &[&str]) -> ProblemInput {
        ProblemInput {
            title: title.into(),
            area: areas.iter().map(|s| (*s).to_owned()).collect(),
            description: "群众反映办事要跑多次".into(),
            root_cause: "服务意识不强".into(),
            cause_type: String::new(),
            seen: String::new(),
        }
    }

    #[test]
    fn a_problem_needs_a_title_an_area_a_description_and_a_root_cause() {
        let ok = ProblemDraft::try_from(&input("办事效率低", &["7", "6", "7"])).unwrap();
        assert_eq!(areas_to_string(&ok.areas), "6,7");
        let e = ProblemDraft::try_from(&ProblemInput::default()).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "description", "root_cause", "area"]);
        let e = ProblemDraft::try_from(&input("\u{200B}", &["9"])).unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["title", "area"]);
        let mut bad = input("x", &["1"]);
        bad.cause_type = "nope".into();
        assert_eq!(ProblemDraft::try_from(&bad).unwrap_err()[0].field, "cause_type");
        bad.cause_type = "institution".into();
        assert_eq!(ProblemDraft::try_from(&bad).unwrap().cause_type, Some(CauseType::Institution));
    }

    #[test]
    fn leaders_see_only_units_the_policy_shows_and_a_pool_for_the_rest() {
        let s = Support {
            opinions: 20,
            responses: 18,
            by_unit_form: [
                ((Some("a".to_owned()), "f".to_owned()), 10),
                ((Some("b".to_owned()), "f".into()), 2),
                ((None, "f".into()), 6),
            ]
            .into_iter()
            .collect(),
            ..Support::default()
        };
        let (units, pooled) = leader_units(&s, 5);
        assert_eq!(units, vec![Some("a".to_owned())], "b has 2; the pool takes the unit-less 6 to reach k");
        assert!(pooled);
        let small = Support {
            opinions: 3,
            responses: 3,
            by_unit_form: [((Some("a".to_owned()), "f".to_owned()), 3)].into_iter().collect(),
            ..Support::default()
        };
        assert_eq!(leader_units(&small, 5), (vec![], true));
    }

    fn support(supporters: &[(&str, &str, u64)]) -> Support {
        let mut s = Support::default();
        for (unit, form, n) in supporters {
            let unit = Some((*unit).to_owned());
            s.responses += n;
            s.opinions += n;
            *s.by_unit_form.entry((unit, (*form).to_owned())).or_default() += n;
        }
        s
    }

    #[test]
    fn a_problem_never_names_a_unit_for_supporters_their_form_pools() {
        let unit = |u: &str| Some(u.to_owned());
        // Form g pools unit b (say, by secondary suppression); form f shows both.
        let form_g_pools_b = |f: &str, u: Option<&str>| !(f == "g" && u == Some("b"));
        let mut s = support(&[("a", "f", 6), ("b", "g", 6)]);
        assert_eq!(leader_units(&s, 5), (vec![unit("a"), unit("b")], false), "six each: both named");
        s.pool_supporters_their_forms_pool(form_g_pools_b);
        assert_eq!(leader_units(&s, 5), (vec![unit("a")], true), "b's six go to 其他单位");
        let mut s = support(&[("a", "f", 6), ("b", "g", 3)]);
        s.pool_supporters_their_forms_pool(form_g_pools_b);
        assert_eq!(leader_units(&s, 5), (vec![], true), "a pool of three is never shown beside a");
    }

    #[test]
    fn which_pooled_unit_a_linked_opinion_came_from_changes_nothing_a_leader_reads() {
        // Form f names a and b; form g pools a, c and d. One opinion of g joins a problem f supports.
        let form_shows = |f: &str, u: Option<&str>| f == "f" && matches!(u, Some("a" | "b"));
        let seen = |pooled_unit: &str| {
            let mut s = support(&[("a", "f", 6), ("b", "f", 5), (pooled_unit, "g", 1)]);
            s.pool_supporters_their_forms_pool(form_shows);
            leader_units(&s, 5)
        };
        assert_eq!(seen("a"), seen("c"), "from a (named by f) or from c, the same names");
        assert_eq!(seen("c"), seen("d"));
        assert!(seen("a").1, "the one from g is in the pool");
    }

    #[test]
    fn problems_are_ordered_by_distinct_responses_then_opinions() {
        let s = |r, o| Support { opinions: o, responses: r, ..Support::default() };
        let mut list = vec![(1, s(2, 9), ()), (2, s(5, 5), ()), (3, s(5, 6), ()), (4, s(2, 9), ())];
        by_support(&mut list);
        assert_eq!(list.iter().map(|x| x.0).collect::<Vec<_>>(), [3, 2, 1, 4]);
    }
}
