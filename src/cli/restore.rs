//! `wenji restore SNAPSHOT`: puts a snapshot made by `wenji backup` in place of the SQLite database, with
//! every server stopped. The database it replaces is moved aside whole (with its -wal and -shm), never
//! deleted; staff sign in again.

use crate::config::Config;
use anyhow::Context as _;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The snapshot to restore (a file `wenji backup` wrote).
    pub snapshot: PathBuf,
}

pub async fn run(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let Some(db) = config.sqlite_path() else {
        anyhow::bail!("restore is for SQLite; restore PostgreSQL with pg_restore (see README, Backup and restore)");
    };
    // Through a link, the snapshot's -wal is beside the file it names (SQLite reads that one); the link's own
    // folder has none, and copying the file alone lost what only its -wal held.
    let snapshot = std::fs::canonicalize(&args.snapshot)
        .with_context(|| format!("reading {}; nothing was changed", args.snapshot.display()))?;
    let args = RestoreArgs { snapshot };
    // Read before the folder may be made (as whoever runs this): the files go to the database's owner.
    let owner = owner_of(&db).context("nothing was changed")?;
    let folder = super::folder_of(&db).to_owned();
    let folder_made = !folder.exists();
    // Held until the end: a server starting meanwhile is refused rather than opening a half-placed file.
    let _held = super::hold_data_folder(config, true)?;
    if folder_made {
        hand_over(&folder, owner, 0o700).context("nothing was changed")?;
    }
    if same_file(&args.snapshot, &db) {
        anyhow::bail!("{} is the database itself; nothing was changed", args.snapshot.display());
    }
    // Copied, synced and checked beside the database before anything moves: a full disk or a bad file
    // leaves the database where it is. The copy is what is checked, so what is placed is what passed.
    let part = super::part_beside(&db).context("nothing was changed")?;
    if crate::store::snapshot::has_a_wal_beside(&args.snapshot) {
        // Its latest commits are in its -wal (a folder a restore moved aside, a copy of a running server's
        // files): copied through SQLite with them, where copying the file alone lost acknowledged opinions.
        crate::store::snapshot::copy_with_its_wal(&args.snapshot, &part).await.with_context(|| {
            format!("copying {} with the -wal beside it; nothing was changed", args.snapshot.display())
        })?;
    } else {
        std::fs::copy(&args.snapshot, &part)
            .with_context(|| format!("copying {}; nothing was changed", args.snapshot.display()))?;
    }
    hand_over(&part, owner, 0o600).context("nothing was changed")?;
    std::fs::File::open(&part)?.sync_all().context("nothing was changed")?;
    crate::store::snapshot::check_snapshot(&part)
        .await
        .with_context(|| format!("{} is not a whole Wenji database; nothing was changed", args.snapshot.display()))?;
    let aside = move_aside(&db)?;
    if let Err(e) = super::place_named(part, &db) {
        let back = aside.as_deref().map(|a| move_back(a, &db));
        return Err(e.context(match back {
            Some(Ok(())) | None => "nothing was restored; the database is back where it was".to_owned(),
            Some(Err(b)) => format!(
                "nothing was restored, and moving the database back failed ({b}): it is in {}",
                aside.unwrap_or_default().display()
            ),
        }));
    }
    // From here the snapshot is in place: a failure says so, where the old database went, and that staff
    // sessions live on until a rerun ends them; the -wal and -shm opening it made are handed over anyway.
    let placed = match &aside {
        Some(folder) => format!(
            "the snapshot is in place (the database it replaced is in {}), but staff sessions were not ended: free what is wrong and run wenji restore again",
            folder.display()
        ),
        None => "the snapshot is in place, but staff sessions were not ended: free what is wrong and run wenji restore again".to_owned(),
    };
    let ended =
        async { super::open_existing(config).await?.end_all_sessions().await.map_err(anyhow::Error::from) }.await;
    // Opening it made a -wal and -shm as whoever runs this: the server's user must open them too.
    for file in ["-wal", "-shm"].map(|s| PathBuf::from(format!("{}{s}", db.display()))).iter().filter(|f| f.exists()) {
        hand_over(file, owner, 0o600).context("the snapshot is in place")?;
    }
    let ended = ended.context(placed)?;
    if let Some(moved) = &aside {
        hand_over(moved, owner, 0o700).context("the snapshot is in place")?;
    }
    match aside {
        Some(folder) => println!(
            "restored {} to {}; the database it replaced is in {}",
            args.snapshot.display(),
            db.display(),
            folder.display()
        ),
        None => println!("restored {} to {}", args.snapshot.display(), db.display()),
    }
    println!(
        "{ended} staff sessions ended: everyone signs in again. Accounts, passwords and links are as they were when the snapshot was taken: check those changed since. Start the server with the secret.key kept with the backup."
    );
    Ok(())
}

/// Who the database belongs to (the user the server runs as): the file's owner, or when there is none yet
/// the owner of the nearest folder above it that exists.
fn owner_of(db: &Path) -> anyhow::Result<(u32, u32)> {
    use std::os::unix::fs::MetadataExt as _;
    let absolute = std::path::absolute(db)?;
    let meta = absolute
        .ancestors()
        .find_map(|p| std::fs::metadata(p).ok())
        .with_context(|| format!("no folder of {} exists", db.display()))?;
    Ok((meta.uid(), meta.gid()))
}

/// Gives `path` to the database's owner with `mode`: copied, a snapshot kept its own mode (644), and a
/// restore run as root left a database the server's user could not open.
fn hand_over(path: &Path, (uid, gid): (u32, u32), mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    let meta = std::fs::metadata(path)?;
    if (meta.uid(), meta.gid()) != (uid, gid) {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| {
            format!(
                "giving {} to the database's owner (uid {uid}): run wenji restore as the user the server runs as",
                path.display()
            )
        })?;
    }
    Ok(())
}

/// The snapshot and the database are one file (named twice, or through a link).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Puts the files [`move_aside`] moved back beside the database, when the snapshot could not be placed.
fn move_back(aside: &Path, db: &Path) -> std::io::Result<()> {
    let folder = super::folder_of(db);
    for entry in std::fs::read_dir(aside)? {
        let from = entry?.path();
        std::fs::rename(&from, folder.join(from.file_name().unwrap_or_default()))?;
    }
    std::fs::remove_dir(aside)
}

/// Moves the database and its -wal and -shm into a new folder beside it, `before-restore-<time>`: a -wal
/// left beside the snapshot would be read as part of it (SQLite then reports the snapshot malformed).
fn move_aside(db: &Path) -> anyhow::Result<Option<PathBuf>> {
    let files: Vec<PathBuf> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    let folder = super::folder_of(db);
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S%.3f");
    let aside = folder.join(format!("before-restore-{stamp}"));
    std::fs::create_dir(&aside).with_context(|| format!("creating {}; nothing was restored", aside.display()))?;
    for f in &files {
        let to = aside.join(f.file_name().unwrap_or_default());
        std::fs::rename(f, &to).with_context(|| format!("moving {} aside", f.display()))?;
    }
    std::fs::File::open(folder)?.sync_all()?;
    Ok(Some(aside))
}
