//! The campaign catalogue: the areas, topics, units and forms read from the bureau's `forms/` files.

use super::area::{Area, Areas, Topic};
use super::form::check::Catalogues;
use super::form::{FormDef, FormError, parse_form};
use super::unit::{Unit, is_code};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// Everything loaded from `forms/`, checked.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub areas: Areas,
    pub topics: Vec<Topic>,
    pub units: Vec<Unit>,
    /// Forms by slug.
    pub forms: BTreeMap<String, FormDef>,
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
        let mut forms: BTreeMap<String, FormDef> = BTreeMap::new();
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
                    forms.insert(f.slug.clone(), f);
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() { Ok(Catalog { areas, topics, units, forms }) } else { Err(errors) }
    }

    pub fn form(&self, slug: &str) -> Option<&FormDef> {
        self.forms.get(slug)
    }

    pub fn unit(&self, code: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.code == code)
    }

    pub fn unit_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.unit(code).map_or(code, |u| u.name.as_str())
    }
}

fn check_units(units: Vec<Unit>) -> Result<Vec<Unit>, Vec<FormError>> {
    let mut seen = HashSet::new();
    let mut errors = Vec::new();
    for u in &units {
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
