//! /gongkai's register, built once for many requests. It is the same for everyone until a release, a change
//! to the register (every one is audited) or a new k, and building it cost about 17 ms of CPU in a release
//! build: a few clients reloading /gongkai filled two cores.

use crate::domain::rectification::Register;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a built register serves at most: what the audit log does not record (an opinion marked 无效
/// moving a problem's support), or what another instance changed, shows within this.
const LIFE: Duration = Duration::from_secs(5);

/// What a built register was built from: k, the release cut, and the latest release and audit entry.
type Built = (u64, i64, crate::store::releases::RegisterStamp);

#[derive(Debug, Default)]
pub struct RegisterCache(tokio::sync::Mutex<Option<(Built, Instant, Arc<Register>)>>);

impl RegisterCache {
    /// The register built from `from`, or `build`'s, kept for the next requests. One request builds while
    /// the others wait for its result rather than building it too.
    pub async fn get_or_build<E>(
        &self,
        from: Built,
        build: impl Future<Output = Result<Register, E>>,
    ) -> Result<Arc<Register>, E> {
        let mut kept = self.0.lock().await;
        if let Some((built, at, register)) = kept.as_ref()
            && *built == from
            && at.elapsed() < LIFE
        {
            return Ok(Arc::clone(register));
        }
        let register = Arc::new(build.await?);
        *kept = Some((from, Instant::now(), Arc::clone(&register)));
        Ok(register)
    }
}
