//! `wenji backup PATH`: a consistent snapshot (SQLite `VACUUM INTO`) taken while the server serves.

use crate::config::Config;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the snapshot (must not exist yet).
    pub path: PathBuf,
}

pub async fn run(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    super::refuse_existing(&args.path)?;
    let store = super::open_migrated(config).await?;
    let path = args.path.to_str().ok_or_else(|| anyhow::anyhow!("the path must be UTF-8"))?;
    store.backup_to(path).await?;
    println!("snapshot written to {}", args.path.display());
    Ok(())
}
