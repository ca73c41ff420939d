//! The campaign catalogue: the areas, topics, units and forms read from the bureau's `forms/` files.

use super::area::{Area, Areas, Topic};
use super::form::check::Catalogues;
use super::form::{FormDef, FormError, parse_form};
use super::unit::{Unit, is_code};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Everything loaded from `forms/`, checked.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub areas: Areas,
    pub topics: Vec<Topic>,
    pub units: Vec<Unit>,
    /// Forms by slug, shared so a request can hold one without copying it.
    pub forms: BTreeMap<String, Arc<FormDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreasFile {
    area: Vec<Area>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicsFile {
    topic: Vec<Topic>,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    unit: Vec<Unit>,
}

/// The file names with a fixed meaning; every other `.toml` file is one form.
pub const AREAS_FILE: &str = "areas.toml";
pub const TOPICS_FILE: &str = "topics.toml";
pub const UNITS_FILE: &str = "units.toml";

fn one_error(file: &str, reason: String) -> Vec<FormError> {
    vec![FormError { file: file.to_owned(), question: None, reason }]
}

impl Catalog {
    /// Builds the catalogue from `(file name, text)` pairs of the `forms/` folder.
    ///
    /// # Errors
    /// Every problem in every file, each naming the file, the question and the reason.
    pub fn from_files(files: &[(String, String)]) -> Result<Catalog, Vec<FormError>> {
        let find = |name: &str| files.iter().find(|(f, _)| f == name).map(|(_, t)| t.as_str());
        let mut errors = Vec::new();
        let areas = match find(AREAS_FILE) {
            None => Err(one_error(AREAS_FILE, "文件不存在：需要八个方面的定义".into())),
            Some(t) => toml::from_str::<AreasFile>(t)
                .map_err(|e| one_error(AREAS_FILE, format!("文件格式错误：{}", e.to_string().trim())))
                .and_then(|f| Areas::new(f.area).map_err(|e| one_error(AREAS_FILE, e))),
        };
        let topics = match find(TOPICS_FILE) {
            None => Ok(Vec::new()),
            Some(t) => toml::from_str::<TopicsFile>(t)
                .map(|f| f.topic)
                .map_err(|e| one_error(TOPICS_FILE, format!("文件格式错误：{}", e.to_string().trim()))),
        };
        let units = match find(UNITS_FILE) {
            None => Err(one_error(UNITS_FILE, "文件不存在：需要单位名单".into())),
            Some(t) => toml::from_str::<UnitsFile>(t)
                .map_err(|e| one_error(UNITS_FILE, format!("文件格式错误：{}", e.to_string().trim())))
                .and_then(|f| check_units(f.unit)),
        };
        let (areas, topics, units) = match (areas, topics, units) {
            (Ok(a), Ok(t), Ok(u)) => (a, t, u),
            (a, t, u) => {
                for e in [a.err(), t.err(), u.err()].into_iter().flatten() {
                    errors.extend(e);
                }
                return Err(errors);
            }
        };
        let cat = Catalogues { areas: &areas, units: &units, topics: &topics };
        let mut forms: BTreeMap<String, Arc<FormDef>> = BTreeMap::new();
        let mut slug_files: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in files {
            if [AREAS_FILE, TOPICS_FILE, UNITS_FILE].contains(&file.as_str()) {
                continue;
            }
            match parse_form(file, text, &cat) {
                Ok(f) => {
                    if let Some(other) = slug_files.insert(f.slug.clone(), file.clone()) {
                        errors.extend(one_error(file, format!("slug `{}` 与 {other} 重复", f.slug)));
                    }
                    forms.insert(f.slug.clone(), Arc::new(f));
                }
                Err(e) => errors.extend(e),
            }
        }
        // The built-in rating form of /gongkai, unless the bureau ships its own under the same slug.
        if !forms.contains_key(super::rectification::RATING_FORM_SLUG) {
            match parse_form("builtin:gongkai-pingjia", super::rectification::RATING_FORM_TOML, &cat) {
                Ok(f) => {
                    forms.insert(f.slug.clone(), Arc::new(f));
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() { Ok(Catalog { areas, topics, units, forms }) } else { Err(errors) }
    }

    pub fn form(&self, slug: &str) -> Option<&FormDef> {
        self.forms.get(slug).map(|f| f.as_ref())
    }

    /// A shared handle on one form, cheap to hold for a whole request.
    pub fn form_shared(&self, slug: &str) -> Option<Arc<FormDef>> {
        self.forms.get(slug).cloned()
    }

    /// A form citizens open at `/f/{slug}`, through the API or a distribution link: any form but the rating
    /// form of /gongkai, whose ratings come only through that page (each names a published measure).
    pub fn citizen_form(&self, slug: &str) -> Option<Arc<FormDef>> {
        self.citizen_forms().find(|f| f.slug == slug).cloned()
    }

    /// Every citizen form, by slug: the lists of forms to open, link, filter or double-code.
    pub fn citizen_forms(&self) -> impl Iterator<Item = &Arc<FormDef>> {
        self.forms.values().filter(|f| f.slug != super::rectification::RATING_FORM_SLUG)
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.code == code)
    }

    /// Sorts `rows` by their unit (`code` of each) in the order of units.toml, as every per-unit table lists
    /// them: codes it no longer lists after, by code, and rows of no unit last.
    pub fn sort_by_unit<T>(&self, rows: &mut [T], code: impl Fn(&T) -> Option<&str>) {
        let rank = |c: Option<&str>| match c {
            Some(c) => self.units.iter().position(|u| u.code == c).unwrap_or(self.units.len()),
            None => self.units.len() + 1,
        };
        rows.sort_by(|a, b| {
            let (a, b) = (code(a), code(b));
            rank(a).cmp(&rank(b)).then(a.cmp(&b))
        });
    }

    pub fn unit_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.unit(code).map_or(code, |u| u.name.as_str())
    }

    /// Checks a request for a distribution link: the form exists, the unit exists and the form is given
    /// to it, and a fixed category is one of the form's.
    ///
    /// # Errors
    /// The first problem, as `(field, message in Chinese)`; the field is `form`, `unit` or `category`.
    pub fn check_link(
        &self,
        form: &str,
        unit: &str,
        category: Option<&str>,
        label: &str,
    ) -> Result<(), (&'static str, String)> {
        let Some(f) = self.citizen_form(form) else {
            return Err(("form", "请选择一份表单".to_owned()));
        };
        // The web page's edge refuses control characters; `wenji links create` must not let one in either.
        if label.chars().any(char::is_control) {
            return Err(("label", "备注不能含换行、制表符等控制字符".to_owned()));
        }
        if label.chars().count() > LINK_LABEL_MAX {
            return Err(("label", format!("备注最多 {LINK_LABEL_MAX} 个字")));
        }
        if self.unit(unit).is_none() {
            return Err(("unit", "请从单位名单中选择发放单位".to_owned()));
        }
        if !f.units.is_empty() && !f.units.iter().any(|u| u == unit) {
            return Err(("unit", format!("《{}》不向{}发放", f.title, self.unit_name(unit))));
        }
        if let Some(c) = category
            && f.category_label(c).is_none()
        {
            return Err(("category", format!("《{}》没有这个身份类别", f.title)));
        }
        Ok(())
    }
}

/// The longest label a distribution link may have.
pub const LINK_LABEL_MAX: usize = 100;

fn check_units(units: Vec<Unit>) -> Result<Vec<Unit>, Vec<FormError>> {
    let mut seen = HashSet::new();
    // Names as a reader tells them apart (spaces, punctuation and invisible characters left out): a second
    // unit under a name citizens cannot tell from the first would be a link made for one person.
    let mut names: std::collections::HashMap<String, &str> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for u in &units {
        let name: String = crate::domain::text::folded_chars(&u.name).collect();
        if let Some(first) = names.get(&name).filter(|_| !name.is_empty()) {
            errors.push(FormError {
                file: UNITS_FILE.into(),
                question: None,
                reason: format!(
                    "单位 `{}` 的名称“{}”与单位 `{first}` 的名称相同（只差空格、标点或看不见的字符）：同名的单位可以把一个人单独分出来",
                    u.code, u.name
                ),
            });
        }
        names.entry(name).or_insert(u.code.as_str());
        if !is_code(&u.code) {
            errors.push(FormError {
                file: UNITS_FILE.into(),
                question: None,
                reason: format!("单位代码 `{}` 只能由字母、数字、- 和 _ 组成", u.code),
            });
        } else if !seen.insert(u.code.as_str()) {
            errors.push(FormError {
                file: UNITS_FILE.into(),
                question: None,
                reason: format!("单位代码 `{}` 重复", u.code),
            });
        }
        if u.name.trim().is_empty() {
            errors.push(FormError {
                file: UNITS_FILE.into(),
                question: None,
                reason: format!("单位 `{}` 没有名称", u.code),
            });
        }
    }
    if errors.is_empty() { Ok(units) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Catalog {
        let files = [
            (AREAS_FILE, include_str!("../../forms/areas.toml")),
            (TOPICS_FILE, include_str!("../../forms/topics.toml")),
            (UNITS_FILE, include_str!("../../forms/units.toml")),
            ("zhengqiu-yijian.toml", include_str!("../../forms/zhengqiu-yijian.toml")),
        ];
        let files: Vec<(String, String)> = files.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect();
        Catalog::from_files(&files).expect("the shipped forms load")
    }

    #[test]
    fn a_link_request_names_the_field_that_is_wrong() {
        let c = shipped();
        assert_eq!(c.check_link("zhengqiu", "jg-bgs", None, "海报"), Ok(()));
        assert_eq!(c.check_link("zhengqiu", "jg-bgs", Some("qz"), ""), Ok(()));
        assert_eq!(c.check_link("nope", "jg-bgs", None, "").unwrap_err().0, "form");
        assert_eq!(c.check_link("gongkai-pingjia", "jg-bgs", None, "").unwrap_err().0, "form");
        assert_eq!(c.check_link("zhengqiu", "nope", None, "").unwrap_err().0, "unit");
        assert_eq!(c.check_link("zhengqiu", "jg-bgs", Some("zz"), "").unwrap_err().0, "category");
        assert_eq!(c.check_link("zhengqiu", "jg-bgs", None, "海报\u{1b}[31m").unwrap_err().0, "label");
        assert_eq!(c.check_link("zhengqiu", "jg-bgs", None, &"长".repeat(101)).unwrap_err().0, "label");
    }

    #[test]
    fn two_units_may_not_share_a_name_citizens_cannot_tell_apart() {
        let units = |second: &str| {
            let toml = format!(
                "[[unit]]\ncode = \"sfs-qingxi\"\nname = \"青溪镇司法所\"\n[[unit]]\ncode = \"sfs-qingxi-2\"\nname = \"{second}\"\n"
            );
            let files: Vec<(String, String)> = [
                (AREAS_FILE, include_str!("../../forms/areas.toml").to_owned()),
                (TOPICS_FILE, include_str!("../../forms/topics.toml").to_owned()),
                (UNITS_FILE, toml),
            ]
            .into_iter()
            .map(|(n, t)| (n.to_owned(), t))
            .collect();
            Catalog::from_files(&files).map(|_| ()).map_err(|e| e.iter().map(|e| e.reason.clone()).collect::<Vec<_>>())
        };
        assert_eq!(units("松岭乡司法所"), Ok(()));
        for same in ["青溪镇司法所", "青溪镇 司法所", "青溪镇\u{200b}司法所", "青溪镇司法所。"]
        {
            let e = units(same).unwrap_err();
            assert!(e[0].contains("sfs-qingxi-2") && e[0].contains("单独分出来"), "{same:?}: {e:?}");
        }
    }

    #[test]
    fn the_built_in_rating_form_is_always_loaded() {
        let c = shipped();
        let f = c.form(crate::domain::rectification::RATING_FORM_SLUG).expect("built in");
        assert!(f.anonymous && f.questions.iter().all(|q| !q.opinion));
        assert_eq!(f.question("rating").unwrap().kind.label_of("3"), Some("不满意"));
    }

    #[test]
    fn the_rating_form_is_no_citizen_form_and_cannot_be_linked() {
        let c = shipped();
        let slug = crate::domain::rectification::RATING_FORM_SLUG;
        assert!(c.citizen_form(slug).is_none());
        assert!(c.citizen_forms().all(|f| f.slug != slug));
        assert!(c.citizen_form("zhengqiu").is_some());
        assert_eq!(c.check_link(slug, "jg-bgs", None, "").unwrap_err().0, "form");
    }
}
