//! Near-duplicate opinions: paraphrases and template copies (one text sent by a unit's staff, lightly
//! edited) grouped by MinHash over character shingles, with a banded LSH index.
//!
//! Written here rather than taken from `gaoya` 0.2.2: that crate pulls in `smallvec` 2.0 beta, whose
//! blanket `From` impl breaks our error conversions (E0119); MinHash and banding are forty lines.
//!
//! An opinion joins the group of its most similar earlier opinion when their estimated Jaccard similarity
//! reaches [`THRESHOLD`]; otherwise it starts its own group, named by its own id. Placing opinions in id
//! order gives the same groups every time, so the stored groups can be rebuilt and extended.

use std::collections::HashMap;

/// Characters per shingle: Chinese words are mostly two characters, so bigrams catch reworded sentences.
pub const SHINGLE: usize = 2;
/// Estimated Jaccard similarity of the shingle sets at or above which two opinions are one group
/// (tuned on `tests/fixtures/cluster_pairs.tsv`: precision 1.00, recall 0.60, every template copy found;
/// see `docs/decisions/0003-near-duplicate-groups.md`).
pub const THRESHOLD: f64 = 0.55;
/// Texts with fewer significant characters than this are grouped only with exact copies ("无", "没有意见"
/// say too little to compare).
pub const MIN_CHARS: usize = 8;
/// Hash functions per signature, split into `BANDS` bands for the index.
const HASHES: usize = 96;
const BANDS: usize = 32;

/// A text's MinHash signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(Vec<u32>);

/// The characters that carry meaning: letters and digits, lowercased, full-width ASCII folded to
/// half-width; punctuation, spaces and invisible characters dropped. The fingerprint's own folding, so
/// texts with one fingerprint are exact copies here and always share a group.
pub fn significant_chars(text: &str) -> Vec<char> {
    crate::domain::text::folded_chars(text).collect()
}

/// The text's character shingles (overlapping runs of [`SHINGLE`] characters), each once.
pub fn shingles(text: &str, size: usize) -> Vec<String> {
    let chars = significant_chars(text);
    let mut out: Vec<String> = if chars.len() <= size {
        vec![chars.iter().collect()]
    } else {
        chars.windows(size).map(|w| w.iter().collect()).collect()
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// The exact Jaccard similarity of two texts' shingle sets (for tuning and tests).
pub fn jaccard(a: &str, b: &str, size: usize) -> f64 {
    let (a, b) = (shingles(a, size), shingles(b, size));
    let inter = a.iter().filter(|s| b.binary_search(s).is_ok()).count();
    let union = a.len() + b.len() - inter;
    if union == 0 { 0.0 } else { inter as f64 / union as f64 }
}

/// A 64-bit FNV-1a hash: stable across builds and restarts (std's hasher is not).
#[cfg(test)]
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(FNV_OFFSET, fnv_step)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
}

/// splitmix64: mixes a shingle's hash with one seed per hash function.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Makes signatures; fixed seeds, so a signature made today matches one made after a restart.
pub struct Signer {
    size: usize,
}

impl Default for Signer {
    fn default() -> Self {
        Signer::with_shingle(SHINGLE)
    }
}

impl Signer {
    pub fn with_shingle(size: usize) -> Signer {
        Signer { size }
    }

    /// The signature of `text`, or `None` when it is too short to group.
    pub fn sign(&self, text: &str) -> Option<Signature> {
        self.sign_chars(&significant_chars(text))
    }

    /// The signature of a text's significant characters (see [`significant_chars`]).
    pub fn sign_chars(&self, chars: &[char]) -> Option<Signature> {
        if chars.len() < MIN_CHARS {
            return None;
        }
        // Each distinct shingle's hash, without building the shingle as a string (this runs for every
        // opinion stored); the same hashes as `fnv1a` of the shingle's text.
        let mut hashes: Vec<u64> = chars
            .windows(self.size.min(chars.len()))
            .map(|w| {
                let mut buf = [0u8; 4];
                mix(w.iter().fold(FNV_OFFSET, |h, c| c.encode_utf8(&mut buf).bytes().fold(h, fnv_step)))
            })
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        // One multiply-shift hash function per position (odd multiplier, fixed seeds): a multiply and an
        // add per shingle and function, where a full mix cost four times as much.
        let (mul, add) = permutations();
        let mut sig = vec![u32::MAX; HASHES];
        for h in hashes {
            for ((min, a), b) in sig.iter_mut().zip(&mul).zip(&add) {
                *min = (*min).min((h.wrapping_mul(*a).wrapping_add(*b) >> 32) as u32);
            }
        }
        Some(Signature(sig))
    }
}

/// The multipliers (odd) and addends of the [`HASHES`] hash functions.
fn permutations() -> ([u64; HASHES], [u64; HASHES]) {
    let mut mul = [0; HASHES];
    let mut add = [0; HASHES];
    for i in 0..HASHES {
        mul[i] = mix(2 * i as u64) | 1;
        add[i] = mix(2 * i as u64 + 1);
    }
    (mul, add)
}

/// The estimated Jaccard similarity of two signatures: the share of hash functions whose minima agree.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count() as f64 / HASHES as f64
}

/// The most members of one group kept under one band key. Copies of one text would otherwise pile up under
/// the same keys, and placing each new copy would compare it with every earlier one (quadratic in a flood).
const PER_GROUP_IN_BAND: usize = 8;

/// The groups placed so far, and the index that finds an opinion's nearest earlier one: opinions whose
/// signatures agree on a whole band are candidates, then compared on the full signature.
pub struct Clusters {
    /// Band key → (opinion, its group), at most [`PER_GROUP_IN_BAND`] per group.
    bands: HashMap<(usize, u64), Vec<(i64, i64)>>,
    signatures: HashMap<i64, Signature>,
    /// Hash of a text's significant characters → the first opinion with them: an exact copy joins that
    /// opinion's group without being signed or searched (it is the search's answer: similarity 1, earliest).
    copies: HashMap<u64, i64>,
    group_of: HashMap<i64, i64>,
    threshold: f64,
}

fn band_keys(sig: &Signature) -> impl Iterator<Item = (usize, u64)> + '_ {
    sig.0
        .chunks(HASHES / BANDS)
        .enumerate()
        .map(|(b, rows)| (b, rows.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, r| mix(h ^ u64::from(*r)))))
}

/// In memory only (rebuilt at start), so std's keyed hasher will do; it resists crafted collisions.
fn text_key(chars: &[char]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    chars.hash(&mut h);
    h.finish()
}

impl Default for Clusters {
    fn default() -> Self {
        Clusters::with_threshold(THRESHOLD)
    }
}

impl Clusters {
    pub fn with_threshold(threshold: f64) -> Clusters {
        Clusters {
            bands: HashMap::new(),
            signatures: HashMap::new(),
            copies: HashMap::new(),
            group_of: HashMap::new(),
            threshold,
        }
    }

    /// Places opinion `id` with text `text` (ids come in increasing order): returns its group, the group
    /// of its first exact copy, else of its most similar earlier opinion at or above the threshold, or `id`.
    pub fn place_text(&mut self, id: i64, text: &str, signer: &Signer) -> i64 {
        let chars = significant_chars(text);
        let key = text_key(&chars);
        if let Some(group) = self.copy_group(id, key) {
            return group;
        }
        let group = self.place(id, signer.sign_chars(&chars));
        self.group_of.insert(id, group);
        self.copies.insert(key, id);
        group
    }

    /// Puts back an opinion already placed in `group`, with its text (after a restart). Returns the group
    /// it belongs in: `group`, or its first exact copy's when stored groups split them (short copies once
    /// stayed apart), for the caller to store.
    pub fn restore_text(&mut self, id: i64, text: &str, group: i64, signer: &Signer) -> i64 {
        let chars = significant_chars(text);
        let key = text_key(&chars);
        if let Some(group) = self.copy_group(id, key) {
            return group;
        }
        self.group_of.insert(id, group);
        self.copies.insert(key, id);
        self.restore(id, signer.sign_chars(&chars), group);
        group
    }

    /// The group of the first opinion with the text key `key`, which `id` then joins.
    fn copy_group(&mut self, id: i64, key: u64) -> Option<i64> {
        let group = self.group_of[self.copies.get(&key)?];
        self.group_of.insert(id, group);
        Some(group)
    }

    /// Places opinion `id` by its signature (ids come in increasing order): returns its group, the group
    /// of its most similar earlier opinion at or above the threshold, or `id` itself.
    pub fn place(&mut self, id: i64, signature: Option<Signature>) -> i64 {
        let Some(sig) = signature else { return id };
        let mut best: Option<(i64, f64)> = None;
        for key in band_keys(&sig) {
            for (near, _) in self.bands.get(&key).into_iter().flatten() {
                let s = similarity(&sig, &self.signatures[near]);
                if s >= self.threshold && best.is_none_or(|(b, bs)| s > bs || (s == bs && *near < b)) {
                    best = Some((*near, s));
                }
            }
        }
        let group = best.map_or(id, |(near, _)| self.group_of[&near]);
        self.restore(id, Some(sig), group);
        group
    }

    /// Puts back an opinion already placed in `group` by its signature (after a restart).
    pub fn restore(&mut self, id: i64, signature: Option<Signature>, group: i64) {
        let Some(sig) = signature else { return };
        self.group_of.insert(id, group);
        for key in band_keys(&sig) {
            let members = self.bands.entry(key).or_default();
            if members.iter().filter(|(_, g)| *g == group).count() < PER_GROUP_IN_BAND {
                members.push((id, group));
            }
        }
        self.signatures.insert(id, sig);
    }

    /// How many opinions the index holds.
    pub fn len(&self) -> usize {
        self.group_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.group_of.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place_all(texts: &[&str]) -> Vec<i64> {
        let signer = Signer::default();
        let mut c = Clusters::default();
        texts.iter().enumerate().map(|(i, t)| c.place_text(i as i64 + 1, t, &signer)).collect()
    }

    #[test]
    fn a_template_copy_joins_the_group_of_its_original() {
        let groups = place_all(&[
            "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张、办公用房困难等实际问题。",
            "窗口办事效率不高，群众办理公证要跑好几趟，希望简化手续。",
            "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张等实际问题！",
            "建议局领导多深入基层司法所调研，帮忙解决人员不足、经费紧张、办公用房困难这些实际问题。",
        ]);
        assert_eq!(groups, vec![1, 2, 1, 1]);
    }

    #[test]
    fn distinct_opinions_stay_apart_even_on_the_same_subject() {
        let groups = place_all(&[
            "建议局领导班子多深入基层司法所调研，帮助解决人员不足的问题。",
            "人民调解员补贴太低，很多调解员干了几年就不干了，队伍不稳定。",
            "社区矫正对象的管理要加强，定期走访，防止脱管漏管。",
            "希望律师事务所的收费更透明，在网站上公开收费标准。",
        ]);
        assert_eq!(groups, vec![1, 2, 3, 4]);
    }

    #[test]
    fn short_answers_are_grouped_only_with_exact_copies() {
        assert_eq!(place_all(&["无", "无", "没有意见。", "没 有 意 见", "没有", "无！"]), vec![1, 1, 3, 3, 5, 1]);
    }

    #[test]
    fn a_rebuilt_index_joins_short_copies_that_stored_groups_kept_apart() {
        let signer = Signer::default();
        let mut c = Clusters::default();
        assert_eq!(c.restore_text(1, "无", 1, &signer), 1);
        assert_eq!(c.restore_text(2, "无。", 2, &signer), 1, "moved to its first copy's group");
        assert_eq!(c.restore_text(3, "没有", 3, &signer), 3);
        assert_eq!(c.place_text(4, "无", &signer), 1);
    }

    #[test]
    fn texts_with_one_fingerprint_have_the_same_significant_characters() {
        use crate::domain::text::fingerprint;
        for (a, b) in [("İ无Ａ", "i无a"), ("办事效率低，群众跑多次。", " 办事效率低 群众跑多次!"), ("无", "无。")]
        {
            assert_eq!(fingerprint(a), fingerprint(b));
            assert_eq!(significant_chars(a), significant_chars(b), "{a:?} and {b:?}");
        }
    }

    #[test]
    fn punctuation_spacing_and_width_do_not_matter() {
        assert_eq!(significant_chars("Ａ b，\u{200b}办事 效率！"), "ab办事效率".chars().collect::<Vec<_>>());
        assert_eq!(jaccard("办事效率不高，要改进", "办事效率不高 要改进！", 2), 1.0);
    }

    #[test]
    fn a_group_is_named_by_its_first_opinion_and_chains_through_later_copies() {
        let signer = Signer::default();
        let mut c = Clusters::default();
        let a = "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张、办公用房困难等实际问题。";
        assert_eq!(c.place_text(10, a, &signer), 10);
        let mut again = Clusters::default();
        again.restore_text(10, a, 10, &signer);
        assert_eq!(again.place_text(11, a, &signer), 10, "a rebuilt index places like the first one");
        assert_eq!(again.place(12, signer.sign(a)), 10, "found by the search too");
        assert_eq!(again.len(), 3);
    }

    #[test]
    fn a_flood_of_copies_and_variants_keeps_the_index_small() {
        let signer = Signer::default();
        let mut c = Clusters::default();
        let base = "建议局领导班子多深入基层司法所调研，帮助解决人员不足、经费紧张、办公用房困难等实际问题";
        for id in 1..=2_000 {
            let text = if id % 2 == 0 { base.to_owned() } else { format!("{base}{id}") };
            assert_eq!(c.place_text(id, &text, &signer), 1, "opinion {id} joins the first one's group");
        }
        let widest = c.bands.values().map(Vec::len).max().unwrap_or(0);
        assert!(widest <= 8, "a band key holds {widest} members of one group");
        assert!(c.signatures.len() <= 1_001, "exact copies keep no signature of their own");
    }

    #[test]
    fn a_signature_is_the_minimum_of_each_seeded_hash_over_the_shingles() {
        let text = "窗口办事效率不高，群众办理公证要跑好几趟，希望简化手续。";
        let hashes: Vec<u64> = shingles(text, SHINGLE).iter().map(|s| mix(fnv1a(s))).collect();
        let expected: Vec<u32> = (0..HASHES as u64)
            .map(|i| {
                let (a, b) = (mix(2 * i) | 1, mix(2 * i + 1));
                hashes.iter().map(|h| (h.wrapping_mul(a).wrapping_add(b) >> 32) as u32).min().unwrap_or(0)
            })
            .collect();
        assert_eq!(Signer::default().sign(text), Some(Signature(expected)));
    }
}
