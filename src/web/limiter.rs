//! The per-client submit limiter: a token bucket per address, in memory only (never in the database),
//! with a generous burst because a whole office often shares one address.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

/// A keyed token bucket per client (an IPv6 client by its /64), and a wider one per IPv6 /48.
#[derive(Clone)]
pub struct SubmitLimiter {
    by_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_site: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

/// How many clients' worth of submissions one IPv6 /48 may send: a holder of a /48 has 65,536 /64s, each a
/// client to the per-client bucket; a carrier's phones that share a /48 at one meeting stay well under.
const CLIENTS_PER_SITE: u32 = 16;

/// The /48 an IPv6 address (already cut to its /64) belongs to; `None` for IPv4.
fn site_of(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V6(v6) => Some(IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !((1u128 << 80) - 1)))),
        IpAddr::V4(_) => None,
    }
}

impl std::fmt::Debug for SubmitLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubmitLimiter")
    }
}

impl SubmitLimiter {
    /// `burst` submissions at once, then `per_minute` a minute, per address.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        let quota = |burst: u32, per_minute: u32| {
            let per_minute = NonZeroU32::new(per_minute.max(1)).expect("at least one");
            Quota::per_minute(per_minute).allow_burst(NonZeroU32::new(burst.max(1)).expect("at least one"))
        };
        let site = quota(burst.saturating_mul(CLIENTS_PER_SITE), per_minute.saturating_mul(CLIENTS_PER_SITE));
        SubmitLimiter {
            by_client: Arc::new(RateLimiter::keyed(quota(burst, per_minute))),
            by_site: Arc::new(RateLimiter::keyed(site)),
        }
    }

    /// Whether this client may submit now; clients without a known address are not limited.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| {
            self.by_client.check_key(&ip).is_ok() && site_of(ip).is_none_or(|s| self.by_site.check_key(&s).is_ok())
        })
    }

    /// Forgets buckets that are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_client.retain_recent();
        self.by_site.retain_recent();
    }
}

/// Sign-in throttling: per client address (and per IPv6 /48, as [`CLIENTS_PER_SITE`] clients) and per
/// account name, in memory; a browser the account signed
/// in from before (a valid device token) is throttled on its own instead, so a flood of wrong guesses
/// from elsewhere cannot keep the account's owner out. Throttled attempts are counted here and written to
/// the audit log in aggregate (see [`LoginLimiter::check`]), so a flood cannot grow the database.
#[derive(Clone)]
pub struct LoginLimiter {
    by_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_site: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_name: Arc<DefaultKeyedRateLimiter<String>>,
    by_device: Arc<DefaultKeyedRateLimiter<String>>,
    throttled: Arc<Mutex<HashMap<String, Refused>>>,
}

/// Sign-in attempts refused under one key since the last sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refused {
    pub count: u64,
    /// The first refusal's own audit entry was stored (then the sweep needs an entry only for more).
    pub first_audited: bool,
}

/// What the limiter says of one sign-in attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginCheck {
    Allowed,
    /// Refused. `first` is true for the first refusal of `key` since the last [`LoginLimiter::forget_idle`]:
    /// only that one is audited at once; the rest are counted.
    Throttled {
        key: String,
        first: bool,
    },
}

/// The key of refusals by client address: the address itself is never stored.
pub const BY_ADDRESS: &str = "（同一地址的多个账号）";
/// Most distinct keys counted between sweeps; further ones are counted under [`BY_ADDRESS`].
const THROTTLED_KEYS_MAX: usize = 10_000;

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginLimiter")
    }
}

impl Default for LoginLimiter {
    /// 30 attempts at once per address then 10 a minute; 10 per account name (or per known browser of
    /// it) then 3 a minute.
    fn default() -> Self {
        let q = |burst: u32, per_min: u32| {
            Quota::per_minute(NonZeroU32::new(per_min).expect("nonzero"))
                .allow_burst(NonZeroU32::new(burst).expect("nonzero"))
        };
        LoginLimiter::new(q(30, 10), q(10, 3))
    }
}

impl LoginLimiter {
    /// A limiter with these quotas per client address and per account name (the latter also per known
    /// browser of an account).
    pub fn new(by_ip: Quota, by_name: Quota) -> Self {
        let by_site = Quota::with_period(by_ip.replenish_interval() / CLIENTS_PER_SITE)
            .expect("a nonzero period")
            .allow_burst(by_ip.burst_size().saturating_mul(NonZeroU32::new(CLIENTS_PER_SITE).expect("nonzero")));
        LoginLimiter {
            by_ip: Arc::new(RateLimiter::keyed(by_ip)),
            by_site: Arc::new(RateLimiter::keyed(by_site)),
            by_name: Arc::new(RateLimiter::keyed(by_name)),
            by_device: Arc::new(RateLimiter::keyed(by_name)),
            throttled: Arc::default(),
        }
    }

    /// Whether another sign-in attempt is allowed for this client and account. `device` is the nonce of
    /// the browser's valid device token for this account, if it has one.
    pub fn check(&self, ip: Option<IpAddr>, name: &str, device: Option<&str>) -> LoginCheck {
        // Random /64s from one /48 each made a wrong guess cost a password hash and an audit row.
        let ip_ok = device.is_some()
            || ip.is_none_or(|ip| {
                self.by_ip.check_key(&ip).is_ok() && site_of(ip).is_none_or(|s| self.by_site.check_key(&s).is_ok())
            });
        // One bucket and one count for every spelling of a name, as accounts are found in any letter case.
        let name = name.to_lowercase();
        let allowed = match device {
            Some(d) => self.by_device.check_key(&d.to_owned()).is_ok(),
            None => ip_ok && self.by_name.check_key(&name).is_ok(),
        };
        if allowed {
            return LoginCheck::Allowed;
        }
        let mut counts = self.throttled.lock().expect("throttle counts lock");
        let key = if ip_ok && (counts.len() < THROTTLED_KEYS_MAX || counts.contains_key(&name)) {
            name
        } else {
            BY_ADDRESS.to_owned()
        };
        let refused = counts.entry(key.clone()).or_default();
        refused.count += 1;
        LoginCheck::Throttled { key, first: refused.count == 1 }
    }

    /// Records that the first refusal of `key` was audited at once.
    pub fn first_refusal_audited(&self, key: &str) {
        if let Some(r) = self.throttled.lock().expect("throttle counts lock").get_mut(key) {
            r.first_audited = true;
        }
    }

    /// Puts back refusals a sweep took but could not audit, to be tried at the next sweep.
    pub fn give_back(&self, taken: Vec<(String, Refused)>) {
        let mut counts = self.throttled.lock().expect("throttle counts lock");
        for (key, r) in taken {
            let now = counts.entry(key).or_default();
            now.count += r.count;
            now.first_audited |= r.first_audited;
        }
    }

    /// Forgets buckets that are full again (memory stays bounded, as for the submit limiter) and hands
    /// back the refusals counted since the last call, by key.
    pub fn forget_idle(&self) -> Vec<(String, Refused)> {
        self.by_ip.retain_recent();
        self.by_site.retain_recent();
        self.by_name.retain_recent();
        self.by_device.retain_recent();
        let mut counts = std::mem::take(&mut *self.throttled.lock().expect("throttle counts lock"));
        let mut out: Vec<(String, Refused)> = counts.drain().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Keys held by the per-address and per-name buckets (for tests of pruning).
    pub fn tracked(&self) -> usize {
        self.by_ip.len() + self.by_site.len() + self.by_name.len() + self.by_device.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_site_rotating_through_its_64s_meets_a_limit_of_its_own() {
        let limiter = SubmitLimiter::new(2, 1);
        let client = |n: u16| Some(IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 7, n, 0, 0, 0, 1)));
        // Each /64 gets its burst of 2; the /48 gets 16 clients' worth, 32, then no more from any /64 in it.
        let allowed = (0..40).filter(|n| (0..2).all(|_| limiter.allow(client(*n)))).count();
        assert_eq!(allowed, 16);
        let elsewhere = Some(IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 8, 0, 0, 0, 0, 1)));
        assert!(limiter.allow(elsewhere), "another /48 has its own");
        let v4 = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
        assert!(limiter.allow(v4) && limiter.allow(v4) && !limiter.allow(v4), "IPv4 by address alone");
    }

    #[test]
    fn sign_ins_from_one_ipv6_site_rotating_its_64s_are_limited_as_sixteen_clients() {
        let l = LoginLimiter::default();
        let client = |n: u16| Some(IpAddr::from([0x2001, 0xdb8, 0x77, n, 0, 0, 0, 1]));
        // A new name from a new /64 each time: only the /48 bucket sees them together (30 × 16 at once).
        let allowed = (0..1000u16).filter(|&n| l.check(client(n), &format!("guess-{n}"), None) == LoginCheck::Allowed);
        assert_eq!(allowed.count(), 480);
        let swept = l.forget_idle();
        assert_eq!(swept, vec![(BY_ADDRESS.to_owned(), Refused { count: 520, first_audited: false })]);
        let elsewhere = Some(IpAddr::from([0x2001, 0xdb8, 0x78, 1, 0, 0, 0, 1]));
        assert_eq!(l.check(elsewhere, "guess-x", None), LoginCheck::Allowed, "another /48 has its own");
    }

    #[test]
    fn refusals_are_counted_once_per_key_and_handed_back_by_the_sweep() {
        let l = LoginLimiter::default();
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        let checks: Vec<LoginCheck> = (0..15).map(|_| l.check(ip, "someone", None)).collect();
        assert!(checks[..10].iter().all(|c| *c == LoginCheck::Allowed));
        assert_eq!(checks[10], LoginCheck::Throttled { key: "someone".into(), first: true });
        assert_eq!(checks[14], LoginCheck::Throttled { key: "someone".into(), first: false });
        for i in 0..40 {
            let _ = l.check(ip, &format!("n{i}"), None);
        }
        let swept = l.forget_idle();
        assert_eq!(swept.iter().find(|(k, _)| k == "someone").map(|(_, r)| r.count), Some(5));
        assert!(swept.iter().any(|(k, _)| k == BY_ADDRESS), "an address over its limit is counted under one key");
        assert!(swept.len() <= 2 + 10, "{swept:?}");
        assert!(l.forget_idle().is_empty(), "the counts start again after a sweep");
    }

    #[test]
    fn a_known_browser_of_an_account_is_throttled_on_its_own_not_by_a_flood_against_the_account() {
        let l = LoginLimiter::default();
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..40 {
            let _ = l.check(ip, "leader", None);
        }
        assert!(matches!(l.check(Some(IpAddr::from([10, 0, 0, 2])), "leader", None), LoginCheck::Throttled { .. }));
        assert_eq!(l.check(ip, "leader", Some("own-browser")), LoginCheck::Allowed, "address and account flooded");
        let own: Vec<LoginCheck> = (0..10).map(|_| l.check(ip, "leader", Some("own-browser"))).collect();
        assert!(matches!(own[9], LoginCheck::Throttled { .. }), "wrong guesses from it are limited too");
        assert_eq!(l.check(ip, "leader", Some("other-browser")), LoginCheck::Allowed);
    }

    #[test]
    fn every_spelling_of_a_name_shares_one_bucket_and_one_count() {
        let l = LoginLimiter::default();
        let spellings = ["Admin", "ADMIN", "admin", "aDmin", "adMin", "admIn", "admiN", "ADmin", "AdMin", "AdmIn"];
        for (i, name) in spellings.iter().cycle().take(30).enumerate() {
            let _ = l.check(Some(IpAddr::from([10, 0, 1, u8::try_from(i).unwrap()])), name, None);
        }
        let swept = l.forget_idle();
        assert_eq!(swept, vec![("admin".to_owned(), Refused { count: 20, first_audited: false })]);
    }

    #[test]
    fn one_ipv6_site_rotating_its_clients_rates_a_measure_as_sixteen_clients_at_most() {
        let l = RatingLimiter::default();
        let client = |n: u16| Some(IpAddr::from([0x2001, 0xdb8, 0xee, n, 0, 0, 0, 1]));
        let allowed = (0..2200u16).filter(|&n| l.allow(client(n), 1)).count();
        assert_eq!(allowed, 320, "twenty per measure for each of sixteen clients");
        assert!(l.allow(client(7), 2), "another measure has its own limit");
        assert!(l.allow(Some(IpAddr::from([0x2001, 0xdb8, 0xef, 1, 0, 0, 0, 1])), 1), "another site too");
        let v4 = Some(IpAddr::from([10, 0, 0, 9]));
        assert_eq!((0..30).filter(|_| l.allow(v4, 1)).count(), 20, "an IPv4 address rates twenty times");
    }

    #[test]
    fn the_sweep_forgets_the_buckets_of_names_and_addresses_seen_once() {
        let quick = Quota::with_period(std::time::Duration::from_millis(1)).expect("nonzero");
        let l = LoginLimiter::new(quick, quick);
        for i in 0..500u32 {
            let _ = l.check(Some(IpAddr::from(i.to_be_bytes())), &format!("name-{i}"), None);
        }
        assert_eq!(l.tracked(), 1000);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let _ = l.forget_idle();
        assert_eq!(l.tracked(), 0, "buckets full again are pruned, so a flood of names cannot grow memory");
    }
}

/// Ratings of one measure from one client (an IPv6 client by its /64, and its /48 as 16 clients): a
/// handful a visit, a few dozen an hour, where the submit bucket let one address post 120 at once and then
/// 60 a minute, stuffing a measure's 满意率 (ratings are anonymous: nothing stored can tell a person's
/// second rating). Without the /48 bucket, one site rotating its /64s rated a measure 2,200 times.
#[derive(Clone)]
pub struct RatingLimiter {
    by_client: Arc<DefaultKeyedRateLimiter<(IpAddr, i64)>>,
    by_site: Arc<DefaultKeyedRateLimiter<(IpAddr, i64)>>,
}

impl std::fmt::Debug for RatingLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RatingLimiter")
    }
}

/// Ratings of one measure one client may send at once, and then per hour.
pub const RATINGS_PER_HOUR: u32 = 20;

impl Default for RatingLimiter {
    /// [`RATINGS_PER_HOUR`] at once per client and measure, then as many an hour; 16 times that per site.
    fn default() -> Self {
        let quota = |n: u32| {
            let n = NonZeroU32::new(n).expect("nonzero");
            Quota::per_hour(n).allow_burst(n)
        };
        RatingLimiter {
            by_client: Arc::new(RateLimiter::keyed(quota(RATINGS_PER_HOUR))),
            by_site: Arc::new(RateLimiter::keyed(quota(RATINGS_PER_HOUR * CLIENTS_PER_SITE))),
        }
    }
}

impl RatingLimiter {
    /// Whether this client may rate `measure` now; clients without a known address are not limited.
    pub fn allow(&self, ip: Option<IpAddr>, measure: i64) -> bool {
        ip.is_none_or(|ip| {
            self.by_client.check_key(&(ip, measure)).is_ok()
                && site_of(ip).is_none_or(|s| self.by_site.check_key(&(s, measure)).is_ok())
        })
    }

    /// Forgets buckets that are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_client.retain_recent();
        self.by_site.retain_recent();
    }
}

/// Inbox searches one staff member runs at once. Each reads every opinion's text: sixteen parallel
/// searches from one analyst slowed every colleague's pages (SQLite's readers share the cores).
pub const SEARCHES_AT_ONCE: usize = 2;

/// How long a search waits for one of its owner's earlier searches to finish before it is refused.
const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Per staff member, turns for inbox searches (see [`SEARCHES_AT_ONCE`]); in memory, one entry per account.
#[derive(Debug, Default)]
pub struct SearchTurns(Mutex<HashMap<i64, Arc<tokio::sync::Semaphore>>>);

impl SearchTurns {
    /// A turn for `user`'s search, held until dropped; `None` when their earlier searches took longer
    /// than [`SEARCH_WAIT`].
    pub async fn take(&self, user: i64) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let turns = {
            let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(user).or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(SEARCHES_AT_ONCE))).clone()
        };
        tokio::time::timeout(SEARCH_WAIT, turns.acquire_owned()).await.ok()?.ok()
    }
}
