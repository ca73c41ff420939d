//! Signed tokens (HMAC-SHA256 with the server secret): distribution-link tokens that bind a response to a
//! unit and cannot be forged or edited into another unit's, and the submission keys rendered into forms.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The server secret; at least 32 bytes.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// # Errors
    /// When the secret is shorter than 32 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < 32 { Err("the secret must be at least 32 bytes".into()) } else { Ok(Secret(bytes)) }
    }

    /// HMAC-SHA256 of `message` under the secret, not yet finalised.
    fn mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(message.as_bytes());
        mac
    }

    fn sign(&self, message: &str) -> String {
        URL_SAFE_NO_PAD.encode(&self.mac(message).finalize().into_bytes()[..16])
    }

    fn verify(&self, message: &str, sig: &str) -> bool {
        let Ok(given) = URL_SAFE_NO_PAD.decode(sig) else { return false };
        self.mac(message).verify_truncated_left(&given).is_ok() && given.len() == 16
    }

    /// A fingerprint of the secret, stored with the database so that a start with another secret is
    /// caught; it tells nothing of the secret itself.
    pub fn fingerprint(&self) -> String {
        hex::encode(&self.mac("wenji secret fingerprint v1").finalize().into_bytes()[..16])
    }

    /// The token printed in a distribution link: `{id}.{signature over id, form, unit and category}`.
    pub fn link_token(&self, id: i64, form: &str, unit: &str, category: Option<&str>) -> String {
        format!("{id}.{}", self.sign(&link_message(id, form, unit, category)))
    }

    /// The link id inside a token, not yet verified (the caller loads the link, then calls [`Self::link_token_valid`]).
    pub fn link_token_id(token: &str) -> Option<i64> {
        token.split_once('.').and_then(|(id, _)| id.parse().ok())
    }

    /// Whether `token` is the genuine token of this link.
    pub fn link_token_valid(&self, token: &str, id: i64, form: &str, unit: &str, category: Option<&str>) -> bool {
        match token.split_once('.') {
            Some((tid, sig)) => tid == id.to_string() && self.verify(&link_message(id, form, unit, category), sig),
            None => false,
        }
    }

    /// What is stored of a link's single-use code: keyed by the secret, so a copy of the database alone
    /// cannot try every code to find the unspent ones.
    pub fn access_code_hash(&self, link_id: i64, code: &crate::domain::access_code::AccessCode) -> String {
        hex::encode(self.mac(&format!("access code:{link_id}:{}", code.letters())).finalize().into_bytes())
    }

    /// Three secret numbers in 1..2^31 − 1 for one purpose and day: the keys of a hash that orders rows in a
    /// way that does not follow their arrival and that no reader can predict, the same on every instance
    /// all day (so pages stay put) and different the next.
    pub fn daily_order_keys(&self, purpose: &str, day: chrono::NaiveDate) -> [i64; 3] {
        let b = self.mac(&format!("order:{purpose}:{day}")).finalize().into_bytes();
        let key = |i: usize| {
            let n = u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().expect("4 bytes")) % 0x7fff_fffe;
            i64::from(n) + 1
        };
        [key(0), key(1), key(2)]
    }

    /// A fresh submission key for one rendering of a form: a random nonce and its signature.
    pub fn submission_key(&self, form: &str, nonce: [u8; 16]) -> String {
        let n = URL_SAFE_NO_PAD.encode(nonce);
        let sig = self.sign(&format!("sk:{form}:{n}"));
        format!("{n}.{sig}")
    }

    /// Whether a submission key came from a form this server rendered.
    pub fn submission_key_valid(&self, form: &str, key: &str) -> bool {
        key.split_once('.').is_some_and(|(n, sig)| self.verify(&format!("sk:{form}:{n}"), sig))
    }

    /// A device token for a browser that account `user_id` signed in from on `day` (days since 1970): a
    /// random nonce, the day and a signature over them, the account and its password hash (a new password
    /// voids every token). It signs no one in; it lets that browser's attempts skip the throttle that
    /// others' wrong guesses put on the account (OWASP's device cookies).
    pub fn device_token(&self, user_id: i64, password_hash: &str, nonce: [u8; 16], day: i64) -> String {
        let n = URL_SAFE_NO_PAD.encode(nonce);
        format!("{n}.{day}.{}", self.sign(&device_message(&n, day, user_id, password_hash)))
    }

    /// The nonce of `token` when it is a genuine device token of this account and password, issued at most
    /// [`DEVICE_DAYS`] before `today`.
    pub fn device_of<'t>(&self, token: &'t str, user_id: i64, password_hash: &str, today: i64) -> Option<&'t str> {
        let mut parts = token.splitn(3, '.');
        let (n, day, sig) = (parts.next()?, parts.next()?, parts.next()?);
        let day: i64 = day.parse().ok()?;
        let fresh = (0..=DEVICE_DAYS).contains(&(today - day));
        (fresh && self.verify(&device_message(n, day, user_id, password_hash), sig)).then_some(n)
    }
}

/// How long a device token vouches for its browser.
pub const DEVICE_DAYS: i64 = 183;

/// Nonce and day first: neither holds a colon, so no two tokens' fields give one message.
fn device_message(nonce: &str, day: i64, user_id: i64, password_hash: &str) -> String {
    format!("device:{nonce}:{day}:{user_id}:{password_hash}")
}

fn link_message(id: i64, form: &str, unit: &str, category: Option<&str>) -> String {
    format!("link:{id}:{form}:{unit}:{}", category.unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(vec![7; 32]).unwrap()
    }

    #[test]
    fn an_edited_link_token_is_refused() {
        let s = secret();
        let t = s.link_token(3, "zhengqiu", "sfs-qingxi", None);
        assert!(s.link_token_valid(&t, 3, "zhengqiu", "sfs-qingxi", None));
        assert!(!s.link_token_valid(&t, 3, "zhengqiu", "sfs-baishi", None));
        let edited = t.replacen('3', "4", 1);
        assert!(!s.link_token_valid(&edited, 4, "zhengqiu", "sfs-qingxi", None));
    }

    #[test]
    fn submission_keys_are_bound_to_their_form() {
        let s = secret();
        let k = s.submission_key("zhengqiu", [1; 16]);
        assert!(s.submission_key_valid("zhengqiu", &k));
        assert!(!s.submission_key_valid("ceping", &k));
        assert!(!s.submission_key_valid("zhengqiu", "abc.def"));
    }

    #[test]
    fn a_device_token_vouches_for_its_own_account_and_password_for_half_a_year() {
        let s = secret();
        let t = s.device_token(7, "$argon2id$hash-one", [2; 16], 20_000);
        assert!(s.device_of(&t, 7, "$argon2id$hash-one", 20_000).is_some());
        assert!(s.device_of(&t, 7, "$argon2id$hash-one", 20_000 + DEVICE_DAYS).is_some());
        assert!(s.device_of(&t, 7, "$argon2id$hash-one", 20_001 + DEVICE_DAYS).is_none(), "too old");
        assert!(s.device_of(&t, 8, "$argon2id$hash-one", 20_000).is_none(), "another account (a case twin too)");
        assert!(s.device_of(&t, 7, "$argon2id$hash-two", 20_000).is_none(), "a new password voids it");
        assert!(s.device_of(&t.replacen("20000", "20100", 1), 7, "$argon2id$hash-one", 20_100).is_none(), "redated");
        assert!(Secret::new(vec![8; 32]).unwrap().device_of(&t, 7, "$argon2id$hash-one", 20_000).is_none());
    }
}
