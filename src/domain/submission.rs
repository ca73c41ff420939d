//! Receipts and submission keys: what makes a submission idempotent and what the citizen keeps.

use super::form::answers::ValidAnswers;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// The receipt a citizen sees after submitting, e.g. `WJ-7K3M-Q9PX`. Reveals nothing about the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptCode(String);

/// Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
pub(crate) const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// The lowest `letters` digits of `n` in [`ALPHABET`] (base 31), lowest first: receipts and single-use
/// codes are spelt so.
pub(crate) fn spell(mut n: u64, letters: usize) -> String {
    let base = ALPHABET.len() as u64;
    (0..letters)
        .map(|_| {
            let c = char::from(ALPHABET[(n % base) as usize]);
            n /= base;
            c
        })
        .collect()
}

impl ReceiptCode {
    /// Builds a receipt from eight random bytes.
    pub fn from_random(bytes: [u8; 8]) -> Self {
        let letters = spell(u64::from_le_bytes(bytes), 8);
        ReceiptCode(format!("WJ-{}-{}", &letters[..4], &letters[4..]))
    }

    /// Reads a stored receipt back.
    pub fn from_stored(s: String) -> Self {
        ReceiptCode(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An idempotency key as the client sent it: 8 to 128 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionKey(String);

impl SubmissionKey {
    /// # Errors
    /// A Chinese message when the key is missing or malformed.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if (8..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(SubmissionKey(s.to_owned()))
        } else {
            Err("提交键无效：需要 8 到 128 个可见 ASCII 字符".to_owned())
        }
    }
    /// What is stored: a hash, so the key itself is never kept.
    pub fn stored_hash(&self, form_slug: &str) -> String {
        hex::encode(Sha256::digest(format!("{form_slug}\n{}", self.0)))
    }
}

/// A validated submission, ready to store.
#[derive(Debug, Clone)]
pub struct Submission {
    pub form_slug: String,
    /// The unit a link names, never the link: a link per person would otherwise point back at one.
    pub unit_code: Option<String>,
    pub category_code: Option<String>,
    pub answers: ValidAnswers,
    /// Each of `answers` as JSON, in the same order: what is stored, serialised once for both the store
    /// and the body hash.
    pub(crate) answer_json: Vec<String>,
    /// Opinion texts: (question id, text). Their fingerprints are made by the store, when it lists them:
    /// in a burst, only once the burst is over (see `store::direct`).
    pub opinions: Vec<(String, String)>,
    /// Contact answers, stored apart from the opinions: (question id, value).
    pub contacts: Vec<(String, String)>,
    pub key_hash: String,
    /// The link's single-use code, hashed, when the link asks for one: spent in the transaction that stores
    /// the response and never stored with it.
    pub code_hash: Option<String>,
    /// Hash of everything the respondent sent, to tell a retry from a different body under one key.
    pub body_hash: String,
}

/// The body hash: equal for equal answers, unit and category. The SHA-256 of the JSON of
/// `(unit, category, answers)`, fed from `answer_json` (each answer's JSON, in order) rather than from a
/// second serialisation of the texts.
pub(crate) fn body_hash(
    unit: Option<&str>,
    category: Option<&str>,
    answers: &ValidAnswers,
    answer_json: &[String],
) -> String {
    assert_eq!(answers.0.len(), answer_json.len(), "one JSON text per answer");
    let mut h = Sha256::new();
    h.update(b"[");
    h.update(json(&unit));
    h.update(b",");
    h.update(json(&category));
    h.update(b",[");
    for (i, ((q, _), a)) in answers.0.iter().zip(answer_json).enumerate() {
        h.update(if i == 0 { &b"["[..] } else { &b",["[..] });
        h.update(json(q));
        h.update(b",");
        h.update(a.as_bytes());
        h.update(b"]");
    }
    h.update(b"]]");
    hex::encode(h.finalize())
}

/// A small value (a code, a question id) as JSON.
fn json<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("codes and ids always serialise")
}

impl Submission {
    /// Builds a submission from validated answers: opinions are the non-empty answers to opinion
    /// questions, contact answers are set apart, and the body hash covers the rest (a replay with another
    /// phone number is the same submission).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        form: &crate::domain::form::FormDef,
        unit_code: Option<String>,
        category_code: Option<String>,
        answers: ValidAnswers,
        key: &SubmissionKey,
    ) -> Submission {
        use crate::domain::form::answers::Answer;
        let mut opinions = Vec::new();
        let mut contacts = Vec::new();
        for (qid, a) in &answers.0 {
            let Some(q) = form.question(qid) else { continue };
            match a {
                Answer::Text(t) if q.opinion => opinions.push((qid.clone(), t.clone())),
                _ if q.contact_purpose.is_some() => contacts.push((qid.clone(), a.display(&q.kind))),
                _ => {}
            }
        }
        let answer_json: Vec<String> =
            answers.0.iter().map(|(_, a)| serde_json::to_string(a).expect("answers always serialise")).collect();
        let (answers, answer_json): (Vec<_>, Vec<_>) =
            answers.0.into_iter().zip(answer_json).filter(|((q, _), _)| !contacts.iter().any(|(c, _)| c == q)).unzip();
        let answers = ValidAnswers(answers);
        // Over the stored answers only: a hash that covered a phone number could be reversed by trying them all.
        let body_hash = body_hash(unit_code.as_deref(), category_code.as_deref(), &answers, &answer_json);
        Submission {
            form_slug: form.slug.clone(),
            unit_code,
            category_code,
            answers,
            answer_json,
            opinions,
            contacts,
            key_hash: key.stored_hash(&form.slug),
            code_hash: None,
            body_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::answers::Answer;

    #[test]
    fn receipts_read_cleanly() {
        let r = ReceiptCode::from_random([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(r.as_str().len(), 12);
        assert!(r.as_str().starts_with("WJ-"));
        assert!(!r.as_str().contains(['0', 'O', '1', 'I', 'L']));
    }

    #[test]
    fn a_key_must_be_long_enough() {
        assert!(SubmissionKey::parse("short").is_err());
        assert!(SubmissionKey::parse("a-good-key-123").is_ok());
    }

    fn answer() -> impl proptest::strategy::Strategy<Value = Answer> {
        use proptest::prelude::*;
        prop_oneof![
            "\\PC{0,30}".prop_map(Answer::Text),
            "[a-z\"\\\\]{0,5}".prop_map(Answer::Choice),
            proptest::collection::vec("[a-z]{1,3}", 0..3).prop_map(Answer::Choices),
            proptest::collection::btree_map("[a-z]{1,3}", "[1-5]", 0..3).prop_map(Answer::Matrix),
            (-1e9f64..1e9).prop_map(Answer::Number),
            (700_000i32..740_000).prop_map(|d| Answer::Date(chrono::NaiveDate::from_num_days_from_ce_opt(d).unwrap())),
            "1[0-9]{10}".prop_map(Answer::Phone),
        ]
    }

    proptest::proptest! {
        #[test]
        fn the_body_hash_is_the_hash_of_the_whole_body_as_json(
            unit in proptest::option::of("\\PC{0,6}"),
            category in proptest::option::of("[a-z\"]{0,4}"),
            answers in proptest::collection::vec(("\\PC{0,8}", answer()), 0..6),
        ) {
            let answers = ValidAnswers(answers);
            let json: Vec<String> = answers.0.iter().map(|(_, a)| serde_json::to_string(a).unwrap()).collect();
            let whole = serde_json::to_vec(&(unit.as_deref(), category.as_deref(), &answers)).unwrap();
            proptest::prop_assert_eq!(
                body_hash(unit.as_deref(), category.as_deref(), &answers, &json),
                hex::encode(Sha256::digest(whole))
            );
        }
    }
}
