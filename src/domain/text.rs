//! Text helpers shared by rules: the fingerprint that spots near-identical opinions.

use sha2::{Digest, Sha256};

/// A fingerprint equal for texts that differ only in spacing, punctuation, letter case or full/half width.
/// Analysts see opinions with the same fingerprint flagged as likely duplicates; none is ever dropped.
///
/// Every submitted opinion passes through here, so the common characters (ASCII and the CJK unified
/// ideographs) take a short path; the result is the same as the general rule's (a property test holds
/// them equal), since stored fingerprints must stay comparable.
pub fn fingerprint(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            'a'..='z' | '0'..='9' | '\u{4E00}'..='\u{9FFF}' => folded.push(c),
            'A'..='Z' => folded.push(c.to_ascii_lowercase()),
            '\0'..='\u{7F}' => {}
            _ => {
                if let Some(f) = fold(c) {
                    folded.push(f);
                }
            }
        }
    }
    hex::encode(&Sha256::digest(folded.as_bytes())[..12])
}

/// The general rule for one character: full width to half width, then kept lower-cased if it is a
/// letter or a digit.
fn fold(c: char) -> Option<char> {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    c.is_alphanumeric().then(|| c.to_lowercase().next().unwrap_or(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_short_path_agrees_with_the_general_rule(text in "\\PC{0,40}", cjk in "[一-龥，。！A-Za-z0-9 ]{0,40}") {
            for t in [&text, &cjk] {
                let general: String = t.chars().filter_map(fold).collect();
                proptest::prop_assert_eq!(fingerprint(t), hex::encode(&Sha256::digest(general.as_bytes())[..12]));
            }
        }
    }

    #[test]
    fn punctuation_and_spacing_do_not_change_the_fingerprint() {
        assert_eq!(fingerprint("办事效率低，群众跑多次。"), fingerprint(" 办事效率低 群众跑多次!"));
        assert_ne!(fingerprint("办事效率低"), fingerprint("办事效率高"));
    }
}
