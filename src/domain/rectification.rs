//! 整改台账 (四明确一公开): a measure's four required parts (措施, 目标, 时限, 责任), its status, when it is
//! overdue (judged on the bureau's calendar day, Asia/Shanghai), when it may be published, and citizens'
//! ratings, which arrive as submissions of the built-in rating form [`RATING_FORM_TOML`].

use super::batches::{BatchSizes, released_through};
use super::form::answers::FieldError;
use super::problem::text_field;
use chrono::{DateTime, NaiveDate};
use std::collections::BTreeMap;

/// Longest 措施 / 目标 / progress evidence, in characters.
pub const LONG_MAX: usize = 2000;
/// Longest 责任 (a leader or unit), in characters.
pub const OWNER_MAX: usize = 100;

/// Where a measure stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureStatus {
    NotStarted,
    InProgress,
    Done,
}

impl MeasureStatus {
    pub const ALL: [MeasureStatus; 3] = [MeasureStatus::NotStarted, MeasureStatus::InProgress, MeasureStatus::Done];

    pub fn as_str(self) -> &'static str {
        match self {
            MeasureStatus::NotStarted => "not_started",
            MeasureStatus::InProgress => "in_progress",
            MeasureStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<MeasureStatus> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MeasureStatus::NotStarted => "未开始",
            MeasureStatus::InProgress => "推进中",
            MeasureStatus::Done => "已完成",
        }
    }

    /// The status once progress is recorded: a measure with progress has started (citizens saw 未开始 beside
    /// its 最新进展).
    pub fn after_progress(self) -> MeasureStatus {
        match self {
            MeasureStatus::NotStarted => MeasureStatus::InProgress,
            other => other,
        }
    }
}

/// A measure as typed on the page.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MeasureInput {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: String,
    #[serde(default)]
    pub deadline: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub status: String,
    /// The measure's version the form showed (empty when creating).
    #[serde(default)]
    pub seen: String,
}

/// A checked measure. A draft may lack any of the four parts; publishing needs all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureDraft {
    pub action: String,
    pub target: String,
    pub deadline: Option<NaiveDate>,
    pub owner: String,
    pub status: MeasureStatus,
}

/// Parses a `YYYY-MM-DD` deadline in a plausible range.
///
/// # Errors
/// The message for the page when it is not such a date.
pub fn parse_deadline(s: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let lo = NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date");
    let hi = NaiveDate::from_ymd_opt(2100, 12, 31).expect("a valid date");
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if (lo..=hi).contains(&d) => Ok(Some(d)),
        Ok(_) => Err("时限应在 2000 年到 2100 年之间".into()),
        Err(_) => Err("时限应为日期，格式 2027-08-31".into()),
    }
}

impl TryFrom<&MeasureInput> for MeasureDraft {
    type Error = Vec<FieldError>;

    fn try_from(input: &MeasureInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let action = text_field(&mut errors, "action", "措施", &input.action, false, LONG_MAX);
        let target = text_field(&mut errors, "target", "目标", &input.target, false, LONG_MAX);
        let owner = text_field(&mut errors, "owner", "责任", &input.owner, false, OWNER_MAX);
        let deadline = parse_deadline(&input.deadline).unwrap_or_else(|m| {
            errors.push(FieldError { field: "deadline".into(), message: m });
            None
        });
        let status = match input.status.trim() {
            "" => MeasureStatus::NotStarted,
            s => MeasureStatus::parse(s).unwrap_or_else(|| {
                errors.push(FieldError {
                    field: "status".into(), message: "状态只能是未开始、推进中或已完成".into()
                });
                MeasureStatus::NotStarted
            }),
        };
        if errors.is_empty() { Ok(MeasureDraft { action, target, deadline, owner, status }) } else { Err(errors) }
    }
}

impl MeasureDraft {
    /// Which of the four parts (四明确) are still missing; publishing needs none missing.
    pub fn missing_for_publication(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if super::text::is_blank(&self.action) {
            missing.push("措施");
        }
        if super::text::is_blank(&self.target) {
            missing.push("目标");
        }
        if self.deadline.is_none() {
            missing.push("时限");
        }
        if super::text::is_blank(&self.owner) {
            missing.push("责任");
        }
        missing
    }

    pub fn is_publishable(&self) -> bool {
        self.missing_for_publication().is_empty()
    }
}

/// A stored measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub id: i64,
    pub problem_id: i64,
    pub draft: MeasureDraft,
    /// When it was published (ms); `None` while a draft or withdrawn.
    pub published_at: Option<i64>,
    /// When it was first published (ms), kept when withdrawn; `None` for a draft never published.
    pub first_published_at: Option<i64>,
    /// Changes with every edit (see [`crate::domain::problem::Problem::version`]).
    pub version: i64,
}

/// One dated progress entry with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub measure_id: i64,
    pub on: NaiveDate,
    pub evidence: String,
    pub author: String,
}

/// A change to one of a published measure's four parts, said in public beside it: citizens who read
/// (and rated) a deadline or a target see that it moved, when, and from what.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureChange {
    pub measure_id: i64,
    pub on: NaiveDate,
    /// The part as /gongkai names it (完成时限…).
    pub part: String,
    pub before: String,
    pub after: String,
}

impl MeasureChange {
    /// One line for the public page.
    pub fn line(&self) -> String {
        format!("{}，{}由“{}”改为“{}”", self.on.format("%Y年%m月%d日"), self.part, self.before, self.after)
    }
}

/// The four parts that differ between `before` and `after`, named and written as /gongkai shows them;
/// the status is progress, not a change of the plan.
pub fn public_changes(before: &MeasureDraft, after: &MeasureDraft) -> Vec<(&'static str, String, String)> {
    let day = |d: Option<NaiveDate>| d.map(|d| d.format("%Y年%m月%d日").to_string()).unwrap_or_default();
    [
        ("整改措施", before.action.clone(), after.action.clone()),
        ("整改目标", before.target.clone(), after.target.clone()),
        ("完成时限", day(before.deadline), day(after.deadline)),
        ("责任领导/单位", before.owner.clone(), after.owner.clone()),
    ]
    .into_iter()
    // An edit seen by nobody (a joiner, a direction mark, a doubled space) would be a permanent public line
    // saying “增加窗口” became “增加窗口”.
    .filter(|(_, b, a)| super::text::visible_text(b) != super::text::visible_text(a))
    .collect()
}

/// The whole chain as read at one moment: problems, their support and quotes, measures, progress and
/// ratings. Pages and exports are made from it.
#[derive(Debug, Clone, Default)]
pub struct Register {
    pub problems: Vec<super::problem::Problem>,
    pub support: BTreeMap<i64, super::problem::Support>,
    pub quotes: BTreeMap<i64, Vec<String>>,
    pub measures: Vec<Measure>,
    /// Progress per measure, oldest first.
    pub progress: BTreeMap<i64, Vec<Progress>>,
    /// Changes made to each measure since it was first published, oldest first.
    pub changes: BTreeMap<i64, Vec<MeasureChange>>,
    /// Every rating read, in the order they came ([`Register::set_ratings`]); `ratings` and `comments`
    /// are counted from it.
    pub rated: Vec<CitizenRating>,
    pub ratings: BTreeMap<i64, RatingTally>,
    /// Non-empty rating comments per measure: oldest first for the office, in text order once published.
    pub comments: BTreeMap<i64, Vec<String>>,
    /// Measures rated by fewer than k people (none included), whose ratings and comments a published
    /// register leaves out ([`Register::published`]), and that k.
    pub withheld: std::collections::BTreeSet<i64>,
    pub withheld_below: u64,
}

impl Register {
    /// Keeps `rated` and counts the tallies and comments of every rating in it (the office's view).
    pub fn set_ratings(&mut self, rated: Vec<CitizenRating>) {
        (self.ratings, self.comments) = tally(&rated);
        self.rated = rated;
    }

    /// The register as leaders and the public read it (read up to the last midnight):
    /// - a measure's ratings are shown in batches of k or more ([`super::batches`]): one rating shown is
    ///   one person's grade, and a tally that grew by one from one day to the next would show the grade of
    ///   whoever rated that day. A measure rated by 1 to k − 1 people shows no tally and no comment; totals
    ///   count only what is shown; each day's k is the one its release was made under (`sizes`), so a k
    ///   changed later re-cuts no batch;
    /// - comments come in text order, not in the order people rated;
    /// - a problem names a unit only for supporters whose form shows it (`form_shows(form, unit)`, each
    ///   form's disclosure policy); the others count towards the pool.
    pub fn published(mut self, sizes: &BatchSizes, form_shows: impl Fn(&str, Option<&str>) -> bool) -> Register {
        let mut per_day: BTreeMap<i64, BTreeMap<NaiveDate, u64>> = BTreeMap::new();
        for r in &self.rated {
            *per_day.entry(r.measure_id).or_default().entry(r.day).or_default() += 1;
        }
        let through: BTreeMap<i64, NaiveDate> =
            per_day.iter().filter_map(|(m, days)| Some((*m, released_through(days, |d| sizes.of_day(d))?))).collect();
        // Unrated published measures read like those rated by 1 to k − 1: the note's appearing would say
        // someone rated. A draft, which citizens cannot rate, has no note.
        self.withheld = (self.measures.iter())
            .filter(|m| m.published_at.is_some() && !through.contains_key(&m.id))
            .map(|m| m.id)
            .collect();
        self.withheld_below = sizes.now;
        let shown: Vec<CitizenRating> = std::mem::take(&mut self.rated)
            .into_iter()
            .filter(|r| through.get(&r.measure_id).is_some_and(|d| r.day <= *d))
            .collect();
        self.set_ratings(shown);
        for c in self.comments.values_mut() {
            c.sort();
        }
        for s in self.support.values_mut() {
            s.pool_supporters_their_forms_pool(&form_shows);
        }
        self
    }

    /// A measure's ratings in one line ("满意 3 · 基本满意 1 · 不满意 0"), the note for a withheld one, or
    /// nothing without ratings.
    pub fn rating_line(&self, measure_id: i64) -> String {
        if self.withheld.contains(&measure_id) {
            return format!("评价不足 {} 人次，暂不公布", self.withheld_below);
        }
        self.ratings.get(&measure_id).filter(|t| t.total() > 0).map(RatingTally::summary).unwrap_or_default()
    }

    /// A measure's changes since it was first published, oldest first, one line each as /gongkai says
    /// them; none for a draft never published.
    pub fn change_lines(&self, measure_id: i64) -> Vec<String> {
        self.changes.get(&measure_id).into_iter().flatten().map(MeasureChange::line).collect()
    }

    pub fn problem(&self, id: i64) -> Option<&super::problem::Problem> {
        self.problems.iter().find(|p| p.id == id)
    }

    pub fn measures_of(&self, problem_id: i64) -> impl Iterator<Item = &Measure> {
        self.measures.iter().filter(move |m| m.problem_id == problem_id)
    }

    pub fn latest_progress(&self, measure_id: i64) -> Option<&Progress> {
        self.progress.get(&measure_id).and_then(|p| p.last())
    }

    /// Problem ids ordered by support (see [`super::problem::by_support`]).
    pub fn problems_by_support(&self) -> Vec<i64> {
        let mut list: Vec<(i64, super::problem::Support, ())> =
            self.problems.iter().map(|p| (p.id, self.support.get(&p.id).cloned().unwrap_or_default(), ())).collect();
        super::problem::by_support(&mut list);
        list.into_iter().map(|(id, _, ())| id).collect()
    }
}

/// The bureau's calendar day (Asia/Shanghai, UTC+8 all year) at `now_ms`.
pub fn bureau_today(now_ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .with_timezone(&super::form::check::bureau_offset())
        .date_naive()
}

/// Overdue: not done, and the deadline day is over (the deadline day itself still counts as in time).
pub fn is_overdue(deadline: Option<NaiveDate>, status: MeasureStatus, today: NaiveDate) -> bool {
    status != MeasureStatus::Done && deadline.is_some_and(|d| today > d)
}

/// A citizen's rating of a published measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Satisfied,
    Fair,
    Unsatisfied,
}

impl Rating {
    pub const ALL: [Rating; 3] = [Rating::Satisfied, Rating::Fair, Rating::Unsatisfied];

    /// The code the rating form stores (its scale's position, from 1).
    pub fn code(self) -> &'static str {
        match self {
            Rating::Satisfied => "1",
            Rating::Fair => "2",
            Rating::Unsatisfied => "3",
        }
    }

    pub fn parse(code: &str) -> Option<Rating> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Rating::Satisfied => "满意",
            Rating::Fair => "基本满意",
            Rating::Unsatisfied => "不满意",
        }
    }
}

/// One citizen's rating as stored: the measure, the bureau's day it came in, the grade, the comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenRating {
    pub measure_id: i64,
    pub day: NaiveDate,
    pub rating: Rating,
    pub comment: String,
}

/// Tallies and non-empty comments per measure, comments in the order given.
fn tally(rated: &[CitizenRating]) -> (BTreeMap<i64, RatingTally>, BTreeMap<i64, Vec<String>>) {
    let mut tallies: BTreeMap<i64, RatingTally> = BTreeMap::new();
    let mut comments: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in rated {
        tallies.entry(r.measure_id).or_default().add(r.rating);
        if !r.comment.trim().is_empty() {
            comments.entry(r.measure_id).or_default().push(r.comment.clone());
        }
    }
    (tallies, comments)
}

/// Ratings of one measure, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingTally {
    pub satisfied: u64,
    pub fair: u64,
    pub unsatisfied: u64,
}

impl RatingTally {
    pub fn add(&mut self, r: Rating) {
        match r {
            Rating::Satisfied => self.satisfied += 1,
            Rating::Fair => self.fair += 1,
            Rating::Unsatisfied => self.unsatisfied += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.satisfied + self.fair + self.unsatisfied
    }

    /// 满意率: (满意 + 基本满意) / all, as a fraction; `None` without ratings.
    pub fn satisfaction(&self) -> Option<f64> {
        let t = self.total();
        #[allow(clippy::cast_precision_loss)]
        (t > 0).then(|| (self.satisfied + self.fair) as f64 / t as f64)
    }

    /// 满意率 as posted, in whole percent: 100% only when nobody was dissatisfied and 0% only when nobody was
    /// satisfied (199 of 200 rounded to 100% hid the one who was not); `None` without ratings.
    pub fn satisfaction_percent(&self) -> Option<String> {
        let share = self.satisfaction()?;
        let whole = (share * 100.0).round().clamp(0.0, 100.0);
        let whole = match (self.unsatisfied, self.satisfied + self.fair) {
            (0, _) | (_, 0) => whole,
            _ => whole.clamp(1.0, 99.0),
        };
        Some(format!("{whole:.0}%"))
    }

    /// "满意 3 · 基本满意 1 · 不满意 0".
    pub fn summary(&self) -> String {
        format!("满意 {} · 基本满意 {} · 不满意 {}", self.satisfied, self.fair, self.unsatisfied)
    }
}

/// The slug of the built-in rating form.
pub const RATING_FORM_SLUG: &str = "gongkai-pingjia";
/// The rating form's question ids.
pub const RATING_MEASURE: &str = "measure";
pub const RATING_VALUE: &str = "rating";
pub const RATING_COMMENT: &str = "comment";

/// The built-in rating form: a rating on /gongkai is a submission of it, so it goes through the citizen
/// form's path (validation, idempotency key, rate limit, anonymity). Its comment is not an opinion to tag.
pub const RATING_FORM_TOML: &str = r#"
slug = "gongkai-pingjia"
title = "整改措施群众评价"
intro = "对公开的整改措施作出评价。匿名填写。"
anonymous = true

[[question]]
id = "measure"
kind = "short_text"
title = "整改措施编号"
required = true
max_length = 20

[[question]]
id = "rating"
kind = "rating"
title = "您对这项整改措施的评价"
required = true
scale = ["满意", "基本满意", "不满意"]

[[question]]
id = "comment"
kind = "long_text"
title = "意见或建议（选填）"
max_length = 500
"#;

#[cfg(test)]
mod tests {

    #[test]
    fn the_satisfaction_rate_reads_100_or_0_percent_only_when_every_rater_agreed() {
        let tally = |satisfied, fair, unsatisfied| RatingTally { satisfied, fair, unsatisfied }.satisfaction_percent();
        assert_eq!(tally(199, 0, 1).as_deref(), Some("99%"));
        assert_eq!(tally(399, 0, 1).as_deref(), Some("99%"));
        assert_eq!(tally(1, 0, 199).as_deref(), Some("1%"));
        assert_eq!(tally(0, 1, 399).as_deref(), Some("1%"));
        assert_eq!(tally(3, 1, 0).as_deref(), Some("100%"));
        assert_eq!(tally(0, 0, 4).as_deref(), Some("0%"));
        assert_eq!(tally(2, 0, 1).as_deref(), Some("67%"));
        assert_eq!(tally(0, 0, 0), None);
    }

    use super::*;

    #[test]
    fn a_direction_override_or_zero_width_space_never_reaches_a_published_measure() {
        let input = MeasureInput {
            action: "加强\u{202E}督办落实\u{202C}".into(),
            target: "\u{200B}按期办结\u{FEFF}".into(),
            deadline: "2027-08-31".into(),
            owner: "办公室\u{2060}".into(),
            ..Default::default()
        };
        let d = MeasureDraft::try_from(&input).unwrap();
        assert_eq!((d.action.as_str(), d.target.as_str(), d.owner.as_str()), ("加强督办落实", "按期办结", "办公室"));
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Milliseconds of a UTC instant written as `YYYY-MM-DDTHH:MM:SSZ`.
    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn a_published_register_withholds_the_ratings_of_published_measures_only() {
        let measure = |id, published_at| Measure {
            id,
            problem_id: 1,
            draft: MeasureDraft::try_from(&MeasureInput { action: "整改".into(), ..Default::default() }).unwrap(),
            published_at,
            first_published_at: published_at,
            version: 1,
        };
        let register = Register { measures: vec![measure(1, Some(1)), measure(2, None)], ..Default::default() };
        let published = register.published(&crate::domain::batches::BatchSizes::new([], 5), |_, _| true);
        assert_eq!(published.withheld.into_iter().collect::<Vec<_>>(), [1], "a draft reads as not yet rated");
    }

    #[test]
    fn overdue_starts_the_day_after_the_deadline_in_shanghai() {
        let deadline = Some(day("2027-08-31"));
        let open = MeasureStatus::InProgress;
        // The day before, the day itself (to its last minute in Shanghai), then the day after.
        assert!(!is_overdue(deadline, open, bureau_today(at("2027-08-30T12:00:00Z"))));
        assert!(!is_overdue(deadline, open, bureau_today(at("2027-08-30T16:00:00Z"))), "00:00 on the 31st, Shanghai");
        assert!(!is_overdue(deadline, open, bureau_today(at("2027-08-31T15:59:59Z"))), "23:59:59 on the 31st");
        assert!(is_overdue(deadline, open, bureau_today(at("2027-08-31T16:00:00Z"))), "00:00 on 1 September");
        assert!(is_overdue(deadline, MeasureStatus::NotStarted, day("2027-09-01")));
        assert!(!is_overdue(deadline, MeasureStatus::Done, day("2027-09-30")), "done is never overdue");
        assert!(!is_overdue(None, open, day("2099-01-01")), "a draft without a deadline");
    }

    #[test]
    fn a_measure_is_publishable_only_with_all_four_parts() {
        let full = MeasureInput {
            action: "推行一次办结".into(),
            target: "群众办事最多跑一次".into(),
            deadline: "2027-08-31".into(),
            owner: "分管副局长、办公室".into(),
            status: String::new(),
            seen: String::new(),
        };
        assert!(MeasureDraft::try_from(&full).unwrap().is_publishable());
        for (field, name) in [("action", "措施"), ("target", "目标"), ("deadline", "时限"), ("owner", "责任")] {
            let mut m = full.clone();
            match field {
                "action" => m.action = " ".into(),
                "target" => m.target = String::new(),
                "deadline" => m.deadline = String::new(),
                _ => m.owner = String::new(),
            }
            assert_eq!(MeasureDraft::try_from(&m).unwrap().missing_for_publication(), [name]);
        }
    }

    #[test]
    fn bad_measure_fields_are_named() {
        let m = MeasureInput { deadline: "2027-02-30".into(), status: "later".into(), ..Default::default() };
        let e = MeasureDraft::try_from(&m).unwrap_err();
        assert_eq!(e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["deadline", "status"]);
        assert!(parse_deadline("1999-12-31").is_err() && parse_deadline("31/08/2027").is_err());
        let long = MeasureInput { owner: "长".repeat(OWNER_MAX + 1), ..Default::default() };
        assert_eq!(MeasureDraft::try_from(&long).unwrap_err()[0].field, "owner");
    }

    #[test]
    fn ratings_tally_and_give_a_satisfaction_rate() {
        let mut t = RatingTally::default();
        assert_eq!(t.satisfaction(), None);
        for code in ["1", "1", "2", "3"] {
            t.add(Rating::parse(code).unwrap());
        }
        assert_eq!(t.summary(), "满意 2 · 基本满意 1 · 不满意 1");
        assert_eq!(t.satisfaction(), Some(0.75));
        assert_eq!(Rating::parse("4"), None);
    }
}
