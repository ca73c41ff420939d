//! `wenji backup PATH`: a consistent snapshot (SQLite `VACUUM INTO`) taken while the server serves.

use crate::config::Config;
use anyhow::Context as _;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the snapshot (must not exist yet).
    pub path: PathBuf,
}

pub async fn run(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    super::refuse_existing(&args.path)?;
    // A database behind this build is backed up as it is: that is the snapshot to keep before upgrading.
    let store = super::open_existing(config).await?;
    // Written under a name of its own, then placed: a snapshot cut short (a full disk) never stands under
    // the name given, where it would restore as an empty installation, and a run never removes another's.
    let part = super::part_beside(&args.path).context("no snapshot written")?;
    write_snapshot(&store, &part).await.context("no snapshot written")?;
    super::place_named(part, &args.path).context("no snapshot written")?;
    println!("snapshot written to {}", args.path.display());
    Ok(())
}

/// `VACUUM INTO` does not sync the file it writes: it is synced here (its folder entry by `place_new`), so
/// a snapshot reported written survives a power cut.
async fn write_snapshot(store: &crate::store::Store, part: &std::path::Path) -> anyhow::Result<()> {
    let path = part.to_str().ok_or_else(|| anyhow::anyhow!("the path must be UTF-8"))?;
    store.backup_to(path).await?;
    std::fs::File::open(part)?.sync_all()?;
    Ok(())
}
