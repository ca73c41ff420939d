//! What every handler shares: the store, the catalogue of forms, the submission writer, the secret.

use crate::domain::catalog::Catalog;
use crate::domain::signing::Secret;
use crate::store::Store;
use crate::store::submissions::SubmissionWriter;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// The loaded catalogue and the stored version id of each form's current definition.
#[derive(Debug)]
pub struct LoadedForms {
    pub catalog: Catalog,
    pub versions: BTreeMap<String, i64>,
}

/// Settings handlers need.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Base URL for links and QR codes.
    pub base_url: String,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Submissions a single client may burst before the limiter slows it.
    pub submit_burst: u32,
    /// Submissions per minute a single client regains.
    pub submit_per_minute: u32,
    pub exports_dir: PathBuf,
    pub forms_dir: PathBuf,
    /// Small-cell threshold for cross-tables meant for leaders.
    pub small_cell_k: u32,
    /// How long the submission writer must be idle before it fills the search index; `None` leaves the
    /// index to explicit calls (tests that check search over opinions not yet indexed).
    pub index_search_after_idle: Option<std::time::Duration>,
    /// Reverse proxies whose `X-Forwarded-For` names the client for the rate limiters.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The inbox counts the opinions matching a filter up to this many, then shows "more than" it
    /// (normally `web::workspace::inbox::COUNT_CAP`).
    pub inbox_count_cap: u64,
    /// How long a client may take over a request's headers, body and answer.
    pub timeouts: super::serve::Timeouts,
    /// Connections open at once; a further one closes the one idle longest, or waits while every one is busy
    /// (normally [`super::serve::MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// Finished exports' files are deleted this long after they were written.
    pub export_retention: std::time::Duration,
}

/// Shared application state: one pointer, so each request's copy costs one atomic increment (cloning
/// the fields one by one was about 2% of the CPU time of a submission under load).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every request shares (see [`AppState`]).
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub forms: Arc<RwLock<Arc<LoadedForms>>>,
    pub writer: SubmissionWriter,
    pub secret: Secret,
    pub settings: Arc<WebSettings>,
    /// The one-time token for creating the first administrator, while no account exists.
    pub setup_token: Arc<Mutex<Option<String>>>,
    pub limiter: super::limiter::SubmitLimiter,
    pub login_limiter: super::limiter::LoginLimiter,
    /// Each staff member's inbox searches at once.
    pub searches: super::limiter::SearchTurns,
    /// Ratings of one measure per client.
    pub ratings: super::limiter::RatingLimiter,
    /// The time sessions are judged by (tests move it forward).
    pub clock: crate::store::sessions::SessionClock,
    /// Places new opinions in near-duplicate groups, off the submission path (a pass every second).
    pub clusters: crate::store::clusters::ClusterKeeper,
    /// The area suggestion model, retrained in the background as tags are confirmed.
    pub suggester: Arc<super::suggester::Suggester>,
    /// /gongkai's register as last built.
    pub public_register: super::kept::RegisterCache,
    /// `/healthz`'s last answer.
    pub health: super::kept::HealthCache,
    /// Leaders' disclosure policy of each form as last decided.
    pub leader_disclosures: super::workspace::disclosure_cache::DisclosureCache,
    /// The SQLite database's folder, held shared while serving: `wenji restore` refuses to run under it.
    pub data_folder: Option<std::fs::File>,
}

impl Shared {
    /// Where leaders' and the public's views end now: the bureau's last midnight, with the release to
    /// leaders at it made first ([`crate::reporting::release_then_leader_cut`]).
    pub async fn release_then_leader_cut(&self) -> i64 {
        crate::reporting::release_then_leader_cut(
            &self.store,
            crate::store::now_ms(),
            u64::from(self.settings.small_cell_k),
        )
        .await
    }

    /// The keys of `analyst`'s tagging order today (`store::inbox::queue_after`): opinions come in an order
    /// no one can tie to their arrival, so a leader watching states change learns nothing of it; each
    /// analyst has their own, so two working at once rarely meet on one opinion.
    pub fn queue_keys(&self, analyst: i64) -> [i64; 3] {
        let today = crate::domain::rectification::bureau_today(crate::store::now_ms());
        self.secret.daily_order_keys(&format!("tag-queue:{analyst}"), today)
    }

    /// 问题清单 and 整改台账 as leaders read them now ([`crate::reporting::published_register`]); with
    /// `only`, the support and quotes of that problem alone.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn published_register(
        &self,
        only: Option<i64>,
    ) -> crate::store::Result<crate::domain::rectification::Register> {
        let k = self.small_cell_k().await?;
        crate::reporting::published_register(&self.store, only, k, self.release_then_leader_cut().await).await
    }

    /// The k in force for leaders' and the public's views, and the batch size of releases: the setting, or a
    /// larger k a release was made with ([`crate::reporting::batch_sizes`]). What went out under k is never
    /// shown finer: a restart with a smaller k relabelled released rows by their category.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn small_cell_k(&self) -> crate::store::Result<u64> {
        Ok(crate::reporting::batch_sizes(&self.store, u64::from(self.settings.small_cell_k)).await?.now)
    }

    /// 整改台账 as /gongkai shows it to anyone now ([`crate::reporting::public_register`]).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn public_register(&self) -> crate::store::Result<Arc<crate::domain::rectification::Register>> {
        let k = self.small_cell_k().await?;
        let cut = self.release_then_leader_cut().await;
        let stamp = self.store.register_stamp().await?;
        let build = crate::reporting::public_register(&self.store, k, cut);
        self.public_register.get_or_build((k, cut, stamp), build).await
    }

    /// The disclosure policy of `form` as released to leaders at `cut` under `k`, decided once per release
    /// ([`super::workspace::disclosure_cache`]).
    ///
    /// # Errors
    /// On a database failure.
    pub async fn leader_disclosure(
        &self,
        form: &str,
        cut: i64,
        k: u64,
    ) -> crate::store::Result<Arc<crate::domain::report::policy::Disclosure>> {
        // Read before deciding: what is decided is then at least as new as its key.
        let stamp = self.store.release_stamp().await?;
        let scope = crate::domain::report::Scope::published(form, cut);
        let decide = crate::reporting::disclosure_of(&self.store, &scope, k);
        self.leader_disclosures.get_or_decide(form, (cut, k, stamp), decide).await
    }

    /// The forms as loaded now (a reload swaps the whole set at once).
    pub fn forms(&self) -> Arc<LoadedForms> {
        self.forms.read().expect("forms lock is never poisoned").clone()
    }

    /// Whether another sign-in attempt is allowed (`device`: see [`super::limiter::LoginLimiter::check`]).
    pub fn login_check(
        &self,
        ip: Option<std::net::IpAddr>,
        name: &str,
        device: Option<&str>,
    ) -> super::limiter::LoginCheck {
        self.login_limiter.check(ip, name, device)
    }

    /// The periodic sweep: forgets idle rate-limiter buckets and writes one audit row per account (or
    /// per address, unnamed) whose sign-in attempts were refused since the last sweep, unless the one
    /// refusal was audited at once. All rows in one transaction; if it fails, the counts are kept for the
    /// next sweep, so no refusal goes unrecorded.
    ///
    /// # Errors
    /// When the audit log cannot be written.
    pub async fn sweep_limiters(&self) -> Result<(), crate::store::StoreError> {
        self.limiter.forget_idle();
        self.ratings.forget_idle();
        let taken = self.login_limiter.forget_idle();
        let entries: Vec<crate::store::audit::NewEntry> = taken
            .iter()
            .filter(|(_, r)| r.count > 1 || !r.first_audited)
            .map(|(key, r)| crate::store::audit::NewEntry {
                actor: crate::store::audit::Actor::system(key),
                action: "sign_in_throttled",
                target: format!("user:{key}"),
                after: Some(format!("count={}", r.count)),
            })
            .collect();
        if let Err(e) = self.store.audit_all(&entries).await {
            self.login_limiter.give_back(taken);
            return Err(e);
        }
        Ok(())
    }

    /// Records that the first refusal of `key` was audited at once (see [`Self::sweep_limiters`]).
    pub fn first_refusal_audited(&self, key: &str) {
        self.login_limiter.first_refusal_audited(key);
    }

    /// Whether the submit limiter lets this client submit now.
    pub fn submit_allowed(&self, ip: Option<std::net::IpAddr>) -> bool {
        self.limiter.allow(ip)
    }
}
