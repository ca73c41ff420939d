//! Text helpers shared by rules: the fingerprint that spots near-identical opinions, the visible length.

use sha2::{Digest, Sha256};
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Characters a reader sees, which alone count towards a minimum length: all but the invisible ones (see
/// [`is_visible`]).
pub fn visible_len(text: &str) -> usize {
    text.chars().filter(|&c| is_visible(c)).count()
}

/// Zero-width spaces and non-joiners, soft hyphens, the grapheme joiner, the Mongolian vowel separator,
/// invisible operators, the byte-order mark, and direction embeddings and overrides: inside an opinion they
/// only split words from search (局\u{200B}长, 局\u{00AD}长 are not found by 局长) or turn text around on a
/// page. What right-to-left writing needs (the marks U+200E/F, the isolates) and the joiner of emoji stay.
pub fn is_meaningless_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}' | '\u{200C}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Whether `text` shows nothing: only spaces and invisible characters (a measure of zero-width spaces
/// would be published blank).
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || !is_visible(c))
}

/// Whether a character draws anything by itself: not a format character (Unicode category Cf: zero-width
/// spaces and joiners, direction overrides, the byte-order mark), not a mark that only modifies the
/// character before it (variation selectors, combining accents), not a filler that draws nothing (the
/// Hangul fillers, blank Braille).
pub fn is_visible(c: char) -> bool {
    if matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}') {
        return false;
    }
    never_format(c)
        || !matches!(
            c.general_category(),
            GeneralCategory::Format | GeneralCategory::NonspacingMark | GeneralCategory::EnclosingMark
        )
}

/// `text` as a reader sees it, to tell whether an edit changed anything: format characters (category Cf:
/// zero-width joiners, direction marks) and variation selectors dropped, each run of spaces one space, no
/// space at either end. Combining accents stay: they change what is read.
pub fn visible_text(text: &str) -> String {
    let drawn = text.chars().filter(|&c| never_format(c) || !(is_variation_selector(c) || is_format(c)));
    let mut out = String::with_capacity(text.len());
    for c in drawn {
        if !c.is_whitespace() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn is_format(c: char) -> bool {
    c.general_category() == GeneralCategory::Format
}

/// The selectors of an emoji's or an ideograph's glyph variant (text or emoji style, a regional form).
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{180B}'..='\u{180D}' | '\u{180F}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// The characters most opinions are made of, none of them a format character: ASCII, CJK punctuation,
/// the CJK unified ideographs and the full-width forms. The category table is searched for the rest only
/// (for every character it was a sixth of a submission's CPU).
fn never_format(c: char) -> bool {
    c.is_ascii() || matches!(c, '\u{3000}'..='\u{303F}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF00}'..='\u{FFEF}')
}

/// A fingerprint equal for texts that differ only in spacing, punctuation, letter case or full/half width.
/// Analysts see opinions with the same fingerprint flagged as likely duplicates; none is ever dropped.
///
/// Every submitted opinion passes through here, so the common characters (ASCII, the CJK unified
/// ideographs and Chinese punctuation) take a short path; the result is the same as the general rule's
/// (tests hold them equal), since stored fingerprints must stay comparable.
pub fn fingerprint(text: &str) -> String {
    // The folded text is hashed as it is made, without being written out: runs of characters kept as
    // they are (most of a Chinese text) go to the hash straight from `text`.
    let mut hash = Sha256::new();
    let bytes = text.as_bytes();
    let (mut run, mut i) = (0, 0);
    let mut buf = [0; 4];
    while i < bytes.len() {
        // Kept without decoding: lower-case letters and digits, and the ideographs U+5000..U+9FFF, whose
        // UTF-8 starts with 0xE5..0xE9 (a Chinese text is mostly these).
        match bytes[i] {
            b'a'..=b'z' | b'0'..=b'9' => {
                i += 1;
                continue;
            }
            0xE5..=0xE9 => {
                i += 3;
                continue;
            }
            _ => {}
        }
        let c = text[i..].chars().next().expect("i is on a character boundary");
        let folded = quick_fold(c);
        if folded != Some(c) {
            hash.update(&bytes[run..i]);
            run = i + c.len_utf8();
            if let Some(f) = folded {
                hash.update(f.encode_utf8(&mut buf).as_bytes());
            }
        }
        i += c.len_utf8();
    }
    hash.update(&text.as_bytes()[run..]);
    hex::encode(&hash.finalize()[..12])
}

/// The characters the fingerprint is the hash of: letters and digits, lower-cased, full width folded to
/// half width. Texts with equal fingerprints have equal folded characters (near-duplicate groups rely on it).
pub fn folded_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter_map(quick_fold)
}

/// [`fold`], with short paths for the characters opinions are mostly made of. A test checks it against
/// `fold` for every character.
#[inline]
fn quick_fold(c: char) -> Option<char> {
    match c {
        'a'..='z' | '0'..='9' | '\u{4E00}'..='\u{9FFF}' => Some(c),
        'A'..='Z' => Some(c.to_ascii_lowercase()),
        '\0'..='\u{7F}' => None,
        // Chinese punctuation (、。《》「」…, “”—…): none of it is a letter or a digit, except the few
        // ideographic numbers and marks listed first.
        '\u{3005}'..='\u{3007}' | '\u{3021}'..='\u{3029}' | '\u{3031}'..='\u{3035}' | '\u{3038}'..='\u{303C}' => {
            Some(c)
        }
        '\u{2000}'..='\u{206F}' | '\u{3000}'..='\u{303F}' => None,
        _ => fold(c),
    }
}

/// The general rule for one character: full width to half width, then kept lower-cased if it is a
/// letter or a digit.
fn fold(c: char) -> Option<char> {
    let c = half_width(c);
    c.is_alphanumeric().then(|| c.to_lowercase().next().unwrap_or(c))
}

/// A full-width Latin letter or digit (ＡＢＣ１, as Chinese keyboards type them) as ASCII; any other
/// character as it is (a full-width comma is what Chinese text holds).
pub fn half_width(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        c => c,
    }
}

/// The words a search looks for, each to occur somewhere in an opinion: a query split at spaces (`领导 基层`
/// finds opinions with both), or one phrase when the whole query is quoted (`"领导 基层"`, `“领导 基层”`).
/// Invisible characters are dropped, as opinions are cleaned when stored; a query of quote marks alone is
/// looked for as written.
pub fn search_terms(query: &str) -> Vec<String> {
    let cleaned: String = query
        .chars()
        .filter(|&c| !is_meaningless_invisible(c))
        .map(|c| if c == '\u{3000}' { ' ' } else { c })
        .collect();
    let q = cleaned.trim();
    let quoted = [('"', '"'), ('“', '”'), ('「', '」')]
        .iter()
        .find_map(|(open, close)| q.strip_prefix(*open).and_then(|r| r.strip_suffix(*close)));
    if let Some(phrase) = quoted.map(str::trim).filter(|p| !p.is_empty()) {
        return vec![phrase.to_owned()];
    }
    let mut terms: Vec<String> = Vec::new();
    for t in q.split_whitespace().map(|t| t.trim_matches(|c| matches!(c, '"' | '“' | '”'))).filter(|t| !t.is_empty())
    {
        if !terms.iter().any(|x| x == t) {
            terms.push(t.to_owned());
        }
    }
    if terms.is_empty() && !q.is_empty() {
        terms.push(q.to_owned());
    }
    terms
}

/// The ways a search word may be written: as typed, and with full-width Latin letters and digits (ＡＢＣ１,
/// as Chinese keyboards type them) as ASCII, or the other way round. Punctuation is left as it is: a
/// full-width comma is what Chinese text holds.
pub fn search_variants(term: &str) -> Vec<String> {
    let half: String = term.chars().map(half_width).collect();
    // Search folds ASCII case only: a full-width word is looked for in each case.
    let full = |s: String| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c) } else { c })
            .collect()
    };
    let mut out = vec![term.to_owned()];
    let (upper, lower) = (full(half.to_ascii_uppercase()), full(half.to_ascii_lowercase()));
    for v in [half.clone(), full(half), upper, lower] {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn visible_text_drops_joiners_marks_and_selectors_and_collapses_spaces_but_keeps_accents() {
        use super::visible_text;
        let plain = visible_text("增加窗口 两个");
        for same in [
            "增加\u{200D}窗口 两个",
            "\u{200E}增加窗口 两个",
            "增加窗口\u{FE0F} 两个",
            "增加窗口  两个 ",
            "增加窗口\u{3000}\u{200B} 两个",
            " 增加窗口\t两个\u{E0100}",
        ] {
            assert_eq!(visible_text(same), plain, "{same:?}");
        }
        assert_ne!(visible_text("增加窗口两个"), plain, "a space between words is seen");
        assert_ne!(visible_text("cafe\u{301}"), visible_text("cafe"), "an accent is seen");
        assert_eq!(visible_text("\u{200D} \u{FE0F}"), "");
    }

    #[test]
    fn a_search_splits_at_spaces_keeps_a_quoted_phrase_and_finds_letters_in_either_width() {
        assert_eq!(search_terms("领导 基层"), ["领导", "基层"]);
        assert_eq!(search_terms("  领导\u{3000}基层 领导 "), ["领导", "基层"]);
        assert_eq!(search_terms("“领导 基层”"), ["领导 基层"]);
        assert_eq!(search_terms("\"作风\""), ["作风"]);
        assert_eq!(search_terms("局\u{200B}长"), ["局长"]);
        assert!(search_terms(" \u{200B} ").is_empty());
        assert_eq!(search_terms("\"\""), ["\"\""], "quote marks alone are looked for as written");
        assert_eq!(search_variants("ＡＰＰ预约"), ["ＡＰＰ预约", "APP预约", "ａｐｐ预约"]);
        assert_eq!(search_variants("app"), ["app", "ａｐｐ", "ＡＰＰ"]);
        assert_eq!(search_variants("难，跑"), ["难，跑"], "full-width punctuation stays");
    }

    use super::*;

    #[test]
    fn every_character_takes_the_short_path_to_the_general_rule() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(quick_fold(c), fold(c), "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_short_path_agrees_with_the_general_rule(text in "\\PC{0,40}", cjk in "[一-龥，。！A-Za-z0-9 \u{4000}-\u{4DFF}\u{A000}\u{FF21}]{0,40}") {
            for t in [&text, &cjk] {
                let general: String = t.chars().filter_map(fold).collect();
                proptest::prop_assert_eq!(&folded_chars(t).collect::<String>(), &general);
                proptest::prop_assert_eq!(fingerprint(t), hex::encode(&Sha256::digest(general.as_bytes())[..12]));
            }
        }
    }

    #[test]
    fn no_character_on_the_short_path_is_a_format_character() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|&c| never_format(c)) {
            assert_ne!(c.general_category(), GeneralCategory::Format, "{c:?}");
        }
    }

    #[test]
    fn invisible_format_characters_are_not_counted() {
        assert_eq!(visible_len("\u{202E}\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}\u{200E}"), 0);
        // Each splits 局长 from a search of it: dropped from the query and from the stored text alike.
        for c in ['\u{00AD}', '\u{034F}', '\u{180E}', '\u{200B}', '\u{200C}', '\u{2062}', '\u{FEFF}'] {
            assert!(is_meaningless_invisible(c), "U+{:04X}", u32::from(c));
            assert_eq!(search_terms(&format!("局{c}长")), ["局长"], "U+{:04X}", u32::from(c));
        }
        assert!(!is_meaningless_invisible('\u{200D}'), "the joiner of emoji stays");
        assert_eq!(visible_len("意见\u{200B}建议"), 4);
        assert_eq!(visible_len("abc 1"), 5);
    }

    #[test]
    fn fillers_blank_braille_and_lone_marks_are_blank() {
        for blank in
            ["\u{3164}\u{3164}", "\u{FFA0}", "\u{2800}\u{2800}", "\u{FE0F}\u{FE0F}", "\u{0301}", " \u{200B} \u{115F}"]
        {
            assert!(is_blank(blank), "{blank:?}");
            assert_eq!(visible_len(&blank.replace(' ', "")), 0, "{blank:?}");
        }
        assert!(!is_blank("加强学习\u{FE0F}"));
        assert_eq!(visible_len("e\u{0301}"), 1, "an accent on a letter counts once");
    }

    #[test]
    fn punctuation_and_spacing_do_not_change_the_fingerprint() {
        assert_eq!(fingerprint("办事效率低，群众跑多次。"), fingerprint(" 办事效率低 群众跑多次!"));
        assert_ne!(fingerprint("办事效率低"), fingerprint("办事效率高"));
    }
}
