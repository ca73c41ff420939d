//! An answer built once for many requests: answers that cost real work and are the same for every caller
//! for a while (/gongkai's register, the health check) would otherwise let a few clients fill both cores
//! or the disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// The answer last built from key `K`, served while the key is unchanged and for at most `LIFE_MS`.
#[derive(Debug)]
pub struct Kept<K, V, const LIFE_MS: u64>(tokio::sync::Mutex<Option<(K, Instant, Arc<V>)>>);

impl<K, V, const LIFE_MS: u64> Default for Kept<K, V, LIFE_MS> {
    fn default() -> Self {
        Kept(tokio::sync::Mutex::new(None))
    }
}

impl<K: PartialEq, V, const LIFE_MS: u64> Kept<K, V, LIFE_MS> {
    /// The answer built from `from`, or `build`'s, kept for the next requests. One request builds while
    /// the others wait for its answer rather than building it too; a failed build is not kept.
    pub async fn get_or_build<E>(&self, from: K, build: impl Future<Output = Result<V, E>>) -> Result<Arc<V>, E> {
        let mut kept = self.0.lock().await;
        if let Some((built, at, answer)) = kept.as_ref()
            && *built == from
            && at.elapsed() < Duration::from_millis(LIFE_MS)
        {
            return Ok(Arc::clone(answer));
        }
        let answer = Arc::new(build.await?);
        *kept = Some((from, Instant::now(), Arc::clone(&answer)));
        Ok(answer)
    }
}

/// /gongkai's register. It is the same for everyone until a release, a change to the register (every one
/// is audited) or a new k, and building it cost about 17 ms of CPU in a release build. Within 5 s it also
/// shows what the audit log does not record (an opinion marked 无效 moving a problem's support) or what
/// another instance changed. Kept from k, the release cut, and the latest release and audit entry.
pub type RegisterCache =
    Kept<(u64, i64, crate::store::releases::RegisterStamp), crate::domain::rectification::Register, 5_000>;

/// `/healthz`'s answer. On SQLite each check writes and syncs a file beside the database: unkept, a client
/// polling in a loop would make the disk sync thousands of times a second beside citizens' commits.
/// Monitoring sees a full or read-only disk within a second.
pub type HealthCache = Kept<(), (axum::http::StatusCode, String), 1_000>;

#[cfg(test)]
mod tests {
    use super::Kept;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn many_callers_at_once_share_one_build_until_the_answer_is_too_old_or_its_key_changes() {
        let kept: Arc<Kept<u8, u32, 200>> = Arc::default();
        let builds = Arc::new(AtomicU32::new(0));
        let build = |builds: Arc<AtomicU32>| async move {
            builds.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok::<_, ()>(7)
        };
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (kept, builds) = (Arc::clone(&kept), Arc::clone(&builds));
            callers.spawn(async move { *kept.get_or_build(1, build(builds)).await.unwrap() });
        }
        assert_eq!(callers.join_all().await, vec![7; 50]);
        assert_eq!(builds.load(Ordering::SeqCst), 1, "fifty callers at once, one build");
        kept.get_or_build(2, build(Arc::clone(&builds))).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 2, "a new key builds anew");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        kept.get_or_build(2, build(Arc::clone(&builds))).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 3, "an answer older than its life is built anew");
        assert_eq!(kept.get_or_build(3, async { Err::<u32, _>("down") }).await.err(), Some("down"));
        kept.get_or_build(3, build(Arc::clone(&builds))).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 4, "a failed build is not kept");
    }
}
