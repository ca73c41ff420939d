//! Receipts numbered from the response's id, without revealing it. A receipt of this kind is the id put
//! through a keyed permutation (a four-round Feistel network over 44 bits, HMAC-SHA256 as its round
//! function), written in nine letters of the receipt alphabet: `WJ-7K3M-Q9PXA`. The key lives in the
//! database, so whoever holds only receipts learns neither the order of two submissions nor how many
//! there are, and the server turns a receipt back into its row with no index on the receipt: storing a
//! submission touches one index fewer (see `store::direct`). Ids are never reused (`AUTOINCREMENT`), so a
//! receipt is never given twice.
//!
//! Random receipts (`WJ-7K3M-Q9PX`, eight letters) are still what PostgreSQL deployments store, and what
//! SQLite databases hold from before; the two kinds never collide because their lengths differ.

use super::submission::ReceiptCode;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bits of a numbered receipt: ids up to 2^44 (17 trillion).
const BITS: u32 = 44;
const HALF: u32 = BITS / 2;
const HALF_MASK: u64 = (1 << HALF) - 1;
const ROUNDS: u8 = 4;
/// Letters after `WJ-`, split four and five by a dash.
const LETTERS: usize = 9;

/// The secret permutation between response ids and numbered receipts.
#[derive(Clone)]
pub struct ReceiptKey(Hmac<Sha256>);

impl std::fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptKey(..)")
    }
}

impl ReceiptKey {
    pub fn new(secret: &[u8]) -> ReceiptKey {
        ReceiptKey(Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"))
    }

    /// The receipt of the response numbered `id`, or `None` for an id outside 1..2^44.
    pub fn receipt(&self, id: i64) -> Option<ReceiptCode> {
        let id = u64::try_from(id).ok().filter(|&n| n > 0 && n < 1 << BITS)?;
        Some(ReceiptCode::spell(self.permute(id), LETTERS))
    }

    /// The response id a numbered receipt stands for; `None` for anything else (a random receipt, a typo).
    pub fn id(&self, receipt: &str) -> Option<i64> {
        let n = ReceiptCode::number(receipt, LETTERS).filter(|&n| n < 1 << BITS)?;
        i64::try_from(self.unpermute(n)).ok().filter(|&id| id > 0)
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let mut mac = self.0.clone();
        mac.update(&[round]);
        mac.update(&half.to_le_bytes());
        let out = mac.finalize().into_bytes();
        u64::from_le_bytes(out[..8].try_into().expect("32 bytes")) & HALF_MASK
    }

    fn permute(&self, n: u64) -> u64 {
        let (mut left, mut right) = (n >> HALF, n & HALF_MASK);
        for r in 0..ROUNDS {
            (left, right) = (right, left ^ self.round(r, right));
        }
        (left << HALF) | right
    }

    fn unpermute(&self, n: u64) -> u64 {
        let (mut left, mut right) = (n >> HALF, n & HALF_MASK);
        for r in (0..ROUNDS).rev() {
            (left, right) = (right ^ self.round(r, left), left);
        }
        (left << HALF) | right
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> ReceiptKey {
        ReceiptKey::new(b"a test key, not the one in any database")
    }

    #[test]
    fn numbered_receipts_look_like_random_ones_but_longer() {
        let r = key().receipt(1).unwrap();
        assert_eq!(r.as_str().len(), 13);
        assert!(r.as_str().starts_with("WJ-"));
        assert_eq!(r.as_str().as_bytes()[7], b'-');
        assert!(!r.as_str()[3..].contains(['0', 'O', '1', 'I', 'L']));
        // Neighbouring ids give unrelated receipts.
        let next = key().receipt(2).unwrap();
        let shared = r.as_str().bytes().zip(next.as_str().bytes()).skip(3).filter(|(a, b)| a == b).count();
        assert!(shared < 6, "{r} and {next}");
    }

    #[test]
    fn random_receipts_and_garbage_stand_for_no_id() {
        let k = key();
        assert_eq!(k.id(ReceiptCode::from_random([7; 8]).as_str()), None);
        for s in ["", "WJ-", "WJ-AAAA-AAAA", "WJ-AAAA-AAAAAA", "XX-AAAA-AAAAA", "WJ-aaaa-aaaaa", "WJ-0AAA-AAAAA"] {
            assert_eq!(k.id(s), None, "{s}");
        }
        // Past 2^44: nine letters can spell more than 44 bits.
        assert_eq!(k.id("WJ-ZZZZ-ZZZZZ"), None);
    }

    #[test]
    fn ids_outside_the_range_have_no_receipt() {
        assert!(key().receipt(0).is_none());
        assert!(key().receipt(-5).is_none());
        assert!(key().receipt(1 << 44).is_none());
        assert!(key().receipt((1 << 44) - 1).is_some());
    }

    proptest! {
        #[test]
        fn a_receipt_reads_back_as_its_id(id in 1i64..(1 << 44)) {
            let k = key();
            let r = k.receipt(id).unwrap();
            prop_assert_eq!(k.id(r.as_str()), Some(id));
        }

        #[test]
        fn another_key_reads_a_receipt_as_another_id_or_none(id in 1i64..(1 << 44)) {
            let r = key().receipt(id).unwrap();
            prop_assert_ne!(ReceiptKey::new(b"another key").id(r.as_str()), Some(id));
        }

        #[test]
        fn distinct_ids_give_distinct_receipts(a in 1i64..(1 << 44), b in 1i64..(1 << 44)) {
            prop_assume!(a != b);
            prop_assert_ne!(key().receipt(a), key().receipt(b));
        }
    }
}
