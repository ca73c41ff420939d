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
    // A snapshot cut short (a full disk) would restore as an empty installation: it is removed.
    if let Err(e) = write_snapshot(&store, path).await {
        let _ = std::fs::remove_file(&args.path);
        return Err(e.context(format!("no snapshot written; {} removed", args.path.display())));
    }
    println!("snapshot written to {}", args.path.display());
    Ok(())
}

/// `VACUUM INTO` does not sync the file it writes: the snapshot and its folder entry are synced here, so a
/// snapshot reported written survives a power cut.
async fn write_snapshot(store: &crate::store::Store, path: &str) -> anyhow::Result<()> {
    store.backup_to(path).await?;
    std::fs::File::open(path)?.sync_all()?;
    let folder = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    std::fs::File::open(folder.unwrap_or(std::path::Path::new(".")))?.sync_all()?;
    Ok(())
}
