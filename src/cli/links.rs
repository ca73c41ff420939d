//! `wenji links …`: distribution links per unit, and their QR codes ready to print.

use crate::config::Config;
use crate::store::audit::Actor;
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum LinksCommand {
    /// Create a link binding responses to a unit (and optionally a respondent category).
    Create {
        #[arg(long)]
        form: String,
        #[arg(long)]
        unit: String,
        /// Fix the respondent category for everyone using this link.
        #[arg(long)]
        category: Option<String>,
        /// A note for admins, e.g. "海报 2026-05".
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List links with their addresses.
    List {
        #[arg(long)]
        form: Option<String>,
    },
    /// Revoke a link: its address and QR code stop working.
    Revoke { id: i64 },
    /// Enable a revoked link again: its address and QR code work again.
    Enable { id: i64 },
    /// Write a link's QR code to a file.
    Qr {
        id: i64,
        #[arg(long, value_enum, default_value_t = QrFormat::Svg)]
        format: QrFormat,
        /// Output file, which must not exist yet (default: exports/link-ID.svg or .png; -2, -3… when taken).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum QrFormat {
    Svg,
    Png,
}

/// The address links are printed with: `WENJI_PUBLIC_URL` when set here, else the one a server started with
/// it recorded (it may be set only in the server's environment), else where the last server started
/// listens, else where one would; with a warning when phones could not open it.
async fn link_address(config: &Config, store: &crate::store::Store) -> anyhow::Result<String> {
    let base = match (&config.public_url, store.link_address().await?) {
        (None, Some(recorded)) => {
            eprintln!(
                "note: links use {recorded}, the WENJI_PUBLIC_URL a server last started with; set WENJI_PUBLIC_URL \
                 here to print another"
            );
            recorded
        }
        (None, None) => store.listen_address().await?.unwrap_or_else(|| config.base_url(None)),
        (Some(_), _) => config.base_url(None),
    };
    let host = base.split("://").nth(1).unwrap_or_default();
    if ["127.", "localhost", "[::1]", "0.0.0.0", "[::]"].iter().any(|h| host.starts_with(h)) {
        eprintln!(
            "warning: links point at {base}, which phones cannot open; set WENJI_PUBLIC_URL to the address \
             citizens use (or start `wenji serve` with it once) before printing them"
        );
    }
    Ok(base)
}

pub async fn run(config: &Config, cmd: LinksCommand) -> anyhow::Result<()> {
    let store = super::open_migrated(config).await?;
    let catalog = super::load_forms(config)?;
    let secret = super::checked_secret(config, &store).await?;
    let base = link_address(config, &store).await?;
    let url_of = |l: &crate::store::links::Link| {
        format!(
            "{base}/f/{}?t={}",
            l.form_slug,
            secret.link_token(l.id, &l.form_slug, &l.unit_code, l.category_code.as_deref())
        )
    };
    match cmd {
        LinksCommand::Create { form, unit, category, label } => {
            let label = label.trim();
            // The web page's rules: a citizens' form (not the rating form), a unit it goes to, its own category.
            catalog.check_link(&form, &unit, category.as_deref(), label).map_err(|(field, why)| match field {
                // On the command line there is no list to choose from: name the forms links can be made for.
                "form" => anyhow::anyhow!("--form refused: {why}（可选：{}）", citizen_forms(&catalog)),
                _ => anyhow::anyhow!("--{field} refused: {why}"),
            })?;
            let f = catalog.form(&form).ok_or_else(|| anyhow::anyhow!("no form with slug {form}"))?;
            let l = store.create_link(&form, &unit, category.as_deref(), label, &Actor::system("cli")).await?;
            println!("link {} for {} / {}\n{}", l.id, f.title, catalog.unit_name(&unit), url_of(&l));
        }
        LinksCommand::List { form } => {
            if let Some(f) = form.as_deref().filter(|f| catalog.form(f).is_none()) {
                anyhow::bail!("--form {f}: there is no such form (forms: {})", citizen_forms(&catalog));
            }
            let codes = store.access_code_counts().await?;
            for l in store.links(form.as_deref()).await? {
                let state = match (l.revoked, l.needs_code) {
                    (true, _) => "revoked".to_owned(),
                    (false, false) => "active".to_owned(),
                    (false, true) => {
                        let c = codes.get(&l.id).copied().unwrap_or_default();
                        format!("active, codes {}/{} spent", c.spent, c.issued)
                    }
                };
                // The label ("海报 5月") tells two links of one unit apart; the address comes last, whole.
                println!(
                    "{:>4}  {:<10} {:<16} {:<26} {}  {}",
                    l.id,
                    l.form_slug,
                    l.unit_code,
                    state,
                    l.label,
                    url_of(&l)
                );
            }
        }
        LinksCommand::Revoke { id } => {
            store.set_link_revoked(id, true, &Actor::system("cli")).await.map_err(|e| no_link(id, e))?;
            println!("link {id} revoked");
        }
        LinksCommand::Enable { id } => {
            let l = store.set_link_revoked(id, false, &Actor::system("cli")).await.map_err(|e| no_link(id, e))?;
            println!("link {id} enabled\n{}", url_of(&l));
        }
        LinksCommand::Qr { id, format, out } => {
            out.as_deref().map(super::refuse_existing).transpose()?;
            let ext = match format {
                QrFormat::Svg => "svg",
                QrFormat::Png => "png",
            };
            super::refuse_other_extension(out.as_deref(), ext)?;
            let l = store.link(id).await.map_err(|e| no_link(id, e))?;
            let title = catalog.form(&l.form_slug).map_or(l.form_slug.clone(), |f| f.title.clone());
            let url = url_of(&l);
            let bytes = match format {
                QrFormat::Svg => crate::qr::svg(&url, &title, catalog.unit_name(&l.unit_code))
                    .map_err(|e| anyhow::anyhow!(e))?
                    .into_bytes(),
                QrFormat::Png => crate::qr::png(&url).map_err(|e| anyhow::anyhow!(e))?,
            };
            // A code already printed is never replaced: a taken default name gets -2, -3…
            let target = match out {
                Some(out) => super::Target::Named(out),
                None => super::Target::Free(config.exports_dir.clone(), format!("link-{id}.{ext}")),
            };
            let part = super::part_beside(&target.first())?;
            std::fs::write(&part, bytes)?;
            let path = target.place(part)?;
            println!("QR code for {url} written to {}", path.display());
        }
    }
    Ok(())
}

/// The slugs of the forms links are made for, for messages.
fn citizen_forms(catalog: &crate::domain::catalog::Catalog) -> String {
    let forms = catalog.forms.keys().filter(|slug| catalog.citizen_form(slug).is_some());
    forms.map(String::as_str).collect::<Vec<_>>().join("、")
}

/// "no link 99" (with `wenji links list` to find one) rather than a bare "not found".
fn no_link(id: i64, e: crate::store::StoreError) -> anyhow::Error {
    match e {
        crate::store::StoreError::NotFound => anyhow::anyhow!("there is no link {id} (`wenji links list` shows them)"),
        e => e.into(),
    }
}
