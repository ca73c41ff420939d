//! The per-client submit limiter: a token bucket per address, in memory only (never in the database),
//! with a generous burst because a whole office often shares one address.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// A keyed token bucket.
#[derive(Clone)]
pub struct SubmitLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl std::fmt::Debug for SubmitLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubmitLimiter")
    }
}

impl SubmitLimiter {
    /// `burst` submissions at once, then `per_minute` a minute, per address.
    pub fn new(burst: u32, per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        let burst = NonZeroU32::new(burst.max(1)).expect("at least one");
        SubmitLimiter(Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))))
    }

    /// Whether this client may submit now; clients without a known address are not limited.
    pub fn allow(&self, ip: Option<IpAddr>) -> bool {
        ip.is_none_or(|ip| self.0.check_key(&ip).is_ok())
    }

    /// Forgets buckets that are full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

/// Sign-in throttling: per client address and per account name, in memory.
#[derive(Clone)]
pub struct LoginLimiter {
    by_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    by_name: Arc<DefaultKeyedRateLimiter<String>>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginLimiter")
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let q = |burst: u32, per_min: u32| {
            Quota::per_minute(NonZeroU32::new(per_min).expect("nonzero"))
                .allow_burst(NonZeroU32::new(burst).expect("nonzero"))
        };
        LoginLimiter { by_ip: Arc::new(RateLimiter::keyed(q(30, 10))), by_name: Arc::new(RateLimiter::keyed(q(10, 3))) }
    }
}

impl LoginLimiter {
    /// Whether another sign-in attempt is allowed for this client and account.
    pub fn allow(&self, ip: Option<IpAddr>, name: &str) -> bool {
        let ip_ok = ip.is_none_or(|ip| self.by_ip.check_key(&ip).is_ok());
        ip_ok && self.by_name.check_key(&name.to_lowercase()).is_ok()
    }
}
