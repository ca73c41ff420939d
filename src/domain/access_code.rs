//! Single-use codes for a small unit's link: the office prints one per member, and a response through that
//! link is taken only with a code not yet spent. They stop outsiders (a leader among them) from filling the
//! unit's batch with responses of their own, which no threshold rule can tell from citizens'.

use super::submission::{ALPHABET, spell};
use std::fmt;

/// Letters in a code: 31^8 ≈ 8.5 × 10^11, so guessing one of a unit's codes is hopeless at the submit limit.
const LETTERS: usize = 8;

/// A code as printed on a slip, e.g. `7K3M-Q9PX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCode(String);

impl AccessCode {
    /// A code from eight random bytes.
    pub fn from_random(bytes: [u8; 8]) -> Self {
        AccessCode(spell(u64::from_le_bytes(bytes), LETTERS))
    }

    /// Reads a code as a citizen types it: either width, any case, with or without the dash and spaces.
    ///
    /// # Errors
    /// A Chinese message saying what a code looks like.
    pub fn parse(typed: &str) -> Result<Self, String> {
        let folded: String = typed
            .chars()
            .map(super::text::half_width)
            .filter(|c| {
                let dash = matches!(c, '-' | '－' | '—' | '–' | '_' | '＿');
                !(c.is_whitespace() || dash || super::text::is_meaningless_invisible(*c))
            })
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if folded.is_empty() {
            return Err("请填写发给您的填写码。".into());
        }
        if folded.chars().count() != LETTERS || !folded.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(format!(
                "填写码是 {LETTERS} 位字母和数字（如 7K3M-Q9PX，没有 0、1、O、I、L），请对照纸条重新输入。"
            ));
        }
        Ok(AccessCode(folded))
    }

    /// The letters alone, as hashed.
    pub fn letters(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", &self.0[..4], &self.0[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_back_however_it_is_typed() {
        let code = AccessCode::from_random([9, 8, 7, 6, 5, 4, 3, 2]);
        let printed = code.to_string();
        assert_eq!(printed.len(), 9);
        let lower = printed.to_lowercase();
        let spaced = printed.replace('-', " ");
        let wide: String =
            printed.chars().map(|c| if c == '-' { '－' } else { char::from_u32(c as u32 + 0xFEE0).unwrap() }).collect();
        for typed in [printed.as_str(), &lower, &spaced, &wide, &format!(" {printed}\u{200B}\n")] {
            assert_eq!(AccessCode::parse(typed), Ok(code.clone()), "{typed:?}");
        }
    }

    #[test]
    fn a_code_of_letters_that_are_never_printed_is_refused() {
        for typed in ["", "  ", "7K3M-Q9P", "7K3M-Q9PXX", "7K3M-Q9P0", "OK3M-Q9PX", "7K3M\0Q9PX"] {
            assert!(AccessCode::parse(typed).is_err(), "{typed:?}");
        }
        assert_eq!(AccessCode::parse("").unwrap_err(), "请填写发给您的填写码。");
    }

    #[test]
    fn codes_use_only_the_printed_alphabet() {
        for seed in 0..200u64 {
            let c = AccessCode::from_random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_le_bytes());
            assert!(c.letters().bytes().all(|b| ALPHABET.contains(&b)), "{c}");
        }
    }
}
