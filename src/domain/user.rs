//! Accounts: roles and the password rules.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, links, reloading forms, the audit log.
    Admin,
    /// Reads and tags opinions, writes notes.
    Analyst,
    /// Reads, sees the dashboard, downloads exports.
    Leader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Leader => "leader",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Analyst => "分析员",
            Role::Leader => "领导",
        }
    }
    pub fn can_tag(self) -> bool {
        matches!(self, Role::Analyst)
    }
    pub fn can_download(self) -> bool {
        matches!(self, Role::Leader | Role::Admin)
    }
    pub fn can_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "leader" => Ok(Role::Leader),
            other => Err(format!("unknown role `{other}` (admin, analyst or leader)")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Checks a user name: 2 to 32 letters, digits, `.`, `-` or `_`.
///
/// # Errors
/// The reason, in Chinese and English.
pub fn check_username(name: &str) -> Result<(), String> {
    let ok = (2..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok { Ok(()) } else { Err("用户名需 2 到 32 个字母、数字或 . - _".into()) }
}

const COMMON: &[&str] = &[
    "password",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "11111111",
    "88888888",
    "iloveyou",
    "admin123",
    "abc12345",
    "wenji123",
    "password1",
    // Common here, unknown to zxcvbn's English lists.
    "woaini",
    "5201314",
    "1314520",
    "admin",
];

/// Checks a new password against the rules.
///
/// # Errors
/// Why the password is refused.
pub fn check_password(username: &str, password: &str) -> Result<(), String> {
    // Whatever `wenji user` reads from a pipe must be a password the sign-in page can take.
    if password.chars().any(char::is_control) {
        return Err("密码不能含制表符、换行等控制字符".into());
    }
    if password.trim() != password {
        return Err("密码首尾不能是空格".into());
    }
    let n = password.chars().count();
    if n < 10 {
        return Err(format!("密码太短：至少 10 个字符，现在 {n} 个"));
    }
    if n > 200 {
        return Err("密码太长：最多 200 个字符".into());
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower.contains(c)) {
        return Err("密码包含常见密码".into());
    }
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名".into());
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err("密码重复字符太多".into());
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < 2 {
        return Err("密码需包含至少两类字符：小写、大写、数字、符号".into());
    }
    // Keyboard walks (1qaz2wsx3edc), words with digits (P@ssw0rd123): about 10^8 guesses at least.
    if zxcvbn::zxcvbn(password, &[username, "wenji"]).score() < zxcvbn::Score::Three {
        return Err("密码太容易猜到（键盘上的顺序、常见单词加数字之类）：请用更长、更随意的组合，例如几个不相关的词加数字和符号".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(check_password("zhang", "short").unwrap_err().contains("太短"));
        assert!(check_password("zhang", "password123x").unwrap_err().contains("常见"));
        assert!(check_password("zhangwei", "zhangwei-2026").unwrap_err().contains("用户名"));
        assert!(check_password("zhang", "aaaaaaaaaaaa").is_err());
        assert!(check_password("zhang", "Qiu-shui-2026!").is_ok());
        // Accepted before by the short list: keyboard walks, common words with digits, local favourites.
        for weak in
            ["1qaz2wsx3edc", "123qweasdzxc", "P@ssw0rd123", "Abc@123456", "147258369a", "woaini1314520", "admin@12345"]
        {
            assert!(check_password("zhang", weak).is_err(), "{weak}");
        }
        assert!(check_password("zhang", "a-Long-passw0rd").is_ok(), "the README's example");
    }
}
