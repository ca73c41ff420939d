//! The eight problem areas (八个方面) and the research topics, as the bureau defines them in `forms/`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The code of one of the eight areas: 1 to 8, in the order the campaign document lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct AreaCode(u8);

impl AreaCode {
    /// All eight codes in order.
    pub fn all() -> impl Iterator<Item = AreaCode> {
        (1..=8).map(AreaCode)
    }
    /// The code as a number 1..=8.
    pub fn get(self) -> u8 {
        self.0
    }
    /// The zero-based position, for arrays of eight.
    pub fn index(self) -> usize {
        usize::from(self.0 - 1)
    }
}

impl TryFrom<i64> for AreaCode {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        if (1..=8).contains(&v) {
            Ok(AreaCode(v as u8))
        } else {
            Err(format!("领域代码 {v} 不存在（只有 1 到 8）"))
        }
    }
}

impl From<AreaCode> for i64 {
    fn from(c: AreaCode) -> i64 {
        i64::from(c.0)
    }
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One problem area with its definition and the starting keywords used for suggestions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Area {
    pub code: AreaCode,
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// The full set of eight areas, indexed by code.
#[derive(Debug, Clone, PartialEq)]
pub struct Areas(Vec<Area>);

impl Areas {
    /// Builds the catalogue, requiring each of the eight codes exactly once.
    ///
    /// # Errors
    /// A message naming the missing or repeated code.
    pub fn new(mut list: Vec<Area>) -> Result<Self, String> {
        list.sort_by_key(|a| a.code);
        for (i, a) in list.iter().enumerate() {
            if a.code.index() != i {
                return Err(if a.code.index() < i {
                    format!("领域代码 {} 重复", a.code)
                } else {
                    format!("缺少领域代码 {}", i + 1)
                });
            }
            if a.name.trim().is_empty() {
                return Err(format!("领域 {} 没有名称", a.code));
            }
        }
        if list.len() != 8 {
            return Err(format!("应有 8 个领域，实际 {} 个", list.len()));
        }
        Ok(Areas(list))
    }
    pub fn get(&self, code: AreaCode) -> &Area {
        &self.0[code.index()]
    }
    pub fn iter(&self) -> impl Iterator<Item = &Area> {
        self.0.iter()
    }
    pub fn name(&self, code: AreaCode) -> &str {
        &self.get(code).name
    }
}

/// A research topic (调研课题), a second optional dimension for research-visit records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Topic {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
}
