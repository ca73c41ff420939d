//! `wenji user …`: add, list, disable, enable and reset accounts. Passwords are typed at the terminal
//! without echo, or piped on standard input; never on the command line.

use crate::config::Config;
use crate::domain::user::{Role, check_password, check_username};
use crate::store::audit::Actor;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add an account; the password is typed without echo, or read from standard input (one line).
    Add {
        /// Sign-in name (2–32 of a-z 0-9 . - _).
        name: String,
        /// admin, analyst or leader.
        #[arg(long)]
        role: Role,
        /// The name shown in the workspace (defaults to the sign-in name).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List accounts.
    List,
    /// Disable an account and end its sessions.
    Disable { name: String },
    /// Enable a disabled account.
    Enable { name: String },
    /// Set a new password (typed without echo, or one line of standard input) and end the account's sessions.
    ResetPassword { name: String },
}

/// Reads a password: typed at a terminal without echo, or one line of standard input from a script.
fn read_password(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(prompt)?);
    }
    eprintln!("{prompt}(read from standard input)");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let store = super::open_migrated(config).await?;
    let cli = Actor::system("cli");
    match cmd {
        UserCommand::Add { name, role, display_name } => {
            check_username(&name).map_err(|e| anyhow::anyhow!(e))?;
            let pw = read_password(&format!("password for {name}: "))?;
            check_password(&name, &pw).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
            let hash = tokio::task::spawn_blocking(move || crate::domain_password::hash(&pw))
                .await?
                .map_err(|e| anyhow::anyhow!(e))?;
            let u = store.create_user(&name, display_name.as_deref().unwrap_or(&name), role, &hash, &cli).await?;
            println!("added {} ({})", u.username, u.role);
        }
        UserCommand::List => {
            for u in store.users().await? {
                println!("{:<20} {:<8} {}", u.username, u.role.as_str(), if u.active { "active" } else { "disabled" });
            }
        }
        UserCommand::Disable { name } | UserCommand::Enable { name } if store.user_by_name(&name).await?.is_none() => {
            anyhow::bail!("no user named {name}");
        }
        UserCommand::Disable { name } => {
            let u = store.user_by_name(&name).await?.ok_or_else(|| anyhow::anyhow!("no user named {name}"))?;
            store.set_user_active(u.id, false, &cli).await?;
            println!("disabled {name}; their sessions are ended");
        }
        UserCommand::Enable { name } => {
            let u = store.user_by_name(&name).await?.ok_or_else(|| anyhow::anyhow!("no user named {name}"))?;
            store.set_user_active(u.id, true, &cli).await?;
            println!("enabled {name}");
        }
        UserCommand::ResetPassword { name } => {
            let u = store.user_by_name(&name).await?.ok_or_else(|| anyhow::anyhow!("no user named {name}"))?;
            let pw = read_password(&format!("new password for {name}: "))?;
            check_password(&name, &pw).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
            let hash = tokio::task::spawn_blocking(move || crate::domain_password::hash(&pw))
                .await?
                .map_err(|e| anyhow::anyhow!(e))?;
            store.set_password_hash(u.id, &hash, &cli).await?;
            println!("password of {name} reset; their sessions are ended");
        }
    }
    Ok(())
}
