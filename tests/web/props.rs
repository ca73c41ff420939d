//! Property tests (proptest) on the form engine: arbitrary answers never panic the validator, answers
//! generated within each shipped question's rules always validate, and arbitrary or mutated form files
//! never panic the form parser (they parse or come back as errors naming the file).

use proptest::prelude::*;
use std::sync::LazyLock;
use wenji::domain::catalog::Catalog;
use wenji::domain::form::answers::{Answer, RawAnswers, validate};
use wenji::domain::form::{FormDef, Question, QuestionKind, parse_form};

fn shipped_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir("forms")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    files.sort();
    files
}

static SHIPPED: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::from_files(&shipped_files()).expect("the shipped forms parse"));

fn shipped() -> &'static Catalog {
    &SHIPPED
}

/// The shipped forms and the test fixtures.
static FORMS: LazyLock<Vec<FormDef>> = LazyLock::new(|| {
    let cat = shipped();
    let mut forms: Vec<FormDef> = cat.forms.values().map(|f| f.as_ref().clone()).collect();
    let catalogues =
        wenji::domain::form::check::Catalogues { areas: &cat.areas, units: &cat.units, topics: &cat.topics };
    for p in std::fs::read_dir("tests/fixtures/forms").unwrap().map(|e| e.unwrap().path()) {
        forms.push(parse_form("fixture", &std::fs::read_to_string(p).unwrap(), &catalogues).unwrap());
    }
    forms
});

fn forms() -> &'static [FormDef] {
    &FORMS
}

/// Text of exactly `n` characters with no control characters and no surrounding space.
fn text(n: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    proptest::collection::vec(
        prop_oneof![
            Just('意'),
            Just('见'),
            Just('法'),
            proptest::char::range('a', 'z'),
            proptest::char::range('一', '龥'),
            Just('，')
        ],
        n,
    )
    .prop_map(|cs| cs.into_iter().collect())
    .boxed()
}

fn codes(list: &[wenji::domain::form::Choice]) -> Vec<String> {
    list.iter().map(|c| c.code.clone()).collect()
}

/// Raw values that answer `q` within its rules: (field name, values).
fn valid_answer(q: &Question) -> BoxedStrategy<Vec<(String, Vec<String>)>> {
    let id = q.id.clone();
    let one = move |s: BoxedStrategy<String>| {
        let id = id.clone();
        s.prop_map(move |v| vec![(id.clone(), vec![v])]).boxed()
    };
    match &q.kind {
        QuestionKind::ShortText { min_length, max_length } | QuestionKind::LongText { min_length, max_length } => {
            one(text((*min_length).max(1)..=(*max_length).min(300)))
        }
        QuestionKind::SingleChoice { choices } => one(proptest::sample::select(codes(choices)).boxed()),
        QuestionKind::Rating { scale } => one(proptest::sample::select(codes(scale)).boxed()),
        QuestionKind::MultipleChoice { choices, min_selected, max_selected } => {
            let id = q.id.clone();
            let (lo, hi) = ((*min_selected).max(1), (*max_selected).min(choices.len()));
            proptest::sample::subsequence(codes(choices), lo..=hi).prop_map(move |v| vec![(id.clone(), v)]).boxed()
        }
        QuestionKind::Matrix { rows, scale } => {
            let fields: Vec<String> = rows.iter().map(|r| format!("{}.{}", q.id, r.code)).collect();
            proptest::collection::vec(proptest::sample::select(codes(scale)), rows.len())
                .prop_map(move |picks| fields.iter().cloned().zip(picks.into_iter().map(|p| vec![p])).collect())
                .boxed()
        }
        QuestionKind::Number { min, max, integer } => {
            let (lo, hi) = (min.unwrap_or(-1e6), max.unwrap_or(1e6));
            if *integer {
                one((lo.ceil() as i64..=hi.floor() as i64).prop_map(|n| n.to_string()).boxed())
            } else {
                one((lo..=hi).prop_map(|n| n.to_string()).boxed())
            }
        }
        QuestionKind::Date { min, max, not_after_today } => {
            let lo = min.unwrap_or(chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap());
            let hi = max.unwrap_or(chrono::NaiveDate::from_ymd_opt(2040, 12, 31).unwrap());
            let hi = if *not_after_today { hi.min(today()) } else { hi };
            let days = (hi - lo).num_days();
            one((0..=days).prop_map(move |d| (lo + chrono::Duration::days(d)).format("%Y-%m-%d").to_string()).boxed())
        }
        QuestionKind::Phone => one("1[3-9][0-9]{9}".boxed()),
    }
}

/// The day the answers are given on.
fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
}

/// A full set of valid answers for `form` (every question answered; hidden ones are ignored).
fn valid_answers(form: &FormDef) -> BoxedStrategy<RawAnswers> {
    form.questions
        .iter()
        .map(valid_answer)
        .collect::<Vec<_>>()
        .prop_map(|parts| parts.into_iter().flatten().collect::<RawAnswers>())
        .boxed()
}

fn any_raw() -> impl Strategy<Value = RawAnswers> {
    let key = prop_oneof!["[a-z_]{1,12}", "[a-z_]{1,8}\\.[a-z0-9_]{1,6}", ".{0,10}"];
    let value =
        prop_oneof![".{0,40}", "[0-9.eE+-]{0,12}", "[0-9]{4}-[0-9]{2}-[0-9]{2}", "[a-z0-9]{1,4}", "\\PC{0,3000}"];
    proptest::collection::btree_map(key, proptest::collection::vec(value, 0..4), 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_answers_never_panic_the_validator_and_errors_name_a_question(raw in any_raw(), pick in any::<prop::sample::Index>()) {
        let form = pick.get(forms());
        if let Err(errors) = validate(form, &raw, today()) {
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert!(form.question(&e.field).is_some(), "error for unknown field {}", e.field);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn answers_within_the_rules_of_every_shipped_form_validate(
        (form, raw) in proptest::sample::select(forms().to_vec()).prop_flat_map(|f| { let s = valid_answers(&f); (Just(f), s) })
    ) {
        let valid = validate(&form, &raw, today());
        prop_assert!(valid.is_ok(), "{}: {:?}", form.slug, valid.err());
        for (qid, answer) in valid.unwrap().0 {
            if let Answer::Text(t) = answer {
                prop_assert_eq!(&t, &raw[&qid][0]);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_form_parser(text in "\\PC{0,400}") {
        let cat = shipped();
        let catalogues = wenji::domain::form::check::Catalogues { areas: &cat.areas, units: &cat.units, topics: &cat.topics };
        if let Err(errors) = parse_form("fuzz.toml", &text, &catalogues) {
            prop_assert!(errors.iter().all(|e| e.file == "fuzz.toml" && !e.reason.is_empty()));
        }
    }

    #[test]
    fn mutated_shipped_forms_parse_or_explain_themselves(
        file in proptest::sample::select(shipped_files()),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..40, "[\\[\\]=\"a-z0-9{},\\n#]{0,6}"), 1..4)
    ) {
        let cat = shipped();
        let catalogues = wenji::domain::form::check::Catalogues { areas: &cat.areas, units: &cat.units, topics: &cat.topics };
        let mut chars: Vec<char> = file.1.chars().collect();
        for (at, len, insert) in cuts {
            let start = at.index(chars.len().max(1)).min(chars.len());
            let end = (start + len).min(chars.len());
            chars.splice(start..end, insert.chars());
        }
        let text: String = chars.into_iter().collect();
        if let Err(errors) = parse_form(&file.0, &text, &catalogues) {
            prop_assert!(!errors.is_empty());
            prop_assert!(errors.iter().all(|e| e.file == file.0 && !e.reason.is_empty()));
        }
    }
}
