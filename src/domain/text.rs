//! Text helpers shared by rules: the fingerprint that spots near-identical opinions.

use sha2::{Digest, Sha256};

/// A fingerprint equal for texts that differ only in spacing, punctuation, letter case or full/half width.
/// Analysts see opinions with the same fingerprint flagged as likely duplicates; none is ever dropped.
pub fn fingerprint(text: &str) -> String {
    let folded: String = text
        .chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            (c.is_alphanumeric()).then(|| c.to_lowercase().next().unwrap_or(c))
        })
        .collect();
    hex::encode(&Sha256::digest(folded.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_spacing_do_not_change_the_fingerprint() {
        assert_eq!(fingerprint("办事效率低，群众跑多次。"), fingerprint(" 办事效率低 群众跑多次!"));
        assert_ne!(fingerprint("办事效率低"), fingerprint("办事效率高"));
    }
}
