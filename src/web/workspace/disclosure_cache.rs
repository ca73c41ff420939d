//! Leaders' disclosure policy of each form, decided once per release for every leader's page: deciding it
//! scans the form's released respondents and release history (about a second at 100,000 opinions in a
//! debug build), which a leader paging through the inbox paid on every page.

use crate::domain::report::policy::Disclosure;
use crate::store::releases::ReleaseStamp;
use crate::web::kept::Kept;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Forms kept at once (a catalogue holds a few): past it, the policies no request is using are dropped.
const FORMS: usize = 16;

/// What a policy is decided from: the release cut leaders read, k, and the releases made. The released
/// rows up to a cut change only with a new release, and k only with a release or a restart.
pub type DecidedFrom = (i64, u64, ReleaseStamp);

/// One form's policy, kept at most 60 s: its key is exact while the database is only written by Wenji;
/// the life bounds what no key sees (a database swapped under a running server).
type Slot = Arc<Kept<DecidedFrom, Disclosure, 60_000>>;

#[derive(Debug, Default)]
pub struct DisclosureCache(Mutex<HashMap<String, Slot>>);

impl DisclosureCache {
    /// `form`'s policy decided from `from`, or `decide`'s, kept for the next requests. One request decides
    /// while the others for that form wait for its result rather than deciding it too.
    ///
    /// # Errors
    /// `decide`'s error; nothing is kept then.
    pub async fn get_or_decide<E>(
        &self,
        form: &str,
        from: DecidedFrom,
        decide: impl Future<Output = Result<Disclosure, E>>,
    ) -> Result<Arc<Disclosure>, E> {
        let slot = {
            let mut forms = self.0.lock().expect("the disclosure cache's lock is never poisoned");
            if forms.len() >= FORMS && !forms.contains_key(form) {
                forms.retain(|_, slot| Arc::strong_count(slot) > 1);
            }
            Arc::clone(forms.entry(form.to_owned()).or_default())
        };
        slot.get_or_build(from, decide).await
    }
}
