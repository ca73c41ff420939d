//! `wenji export`: writes the report workbook or the raw CSV for one or more forms, with a progress bar.

use crate::config::Config;
use crate::domain::report::Scope;
use crate::export::{ExportParams, Format};
use crate::store::audit::Actor;
use chrono::NaiveDate;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Form slug; several (e.g. --form zhengqiu --form ceping) with --unprotected only.
    #[arg(long = "form", required_unless_present = "register")]
    pub forms: Vec<String>,
    /// Writes the 整改台账 workbook for posting (published measures, A4 landscape, overdue highlighted,
    /// ratings summarised) instead of the report workbook.
    #[arg(long, conflicts_with_all = ["forms", "unprotected", "from", "to", "units"])]
    pub register: bool,
    #[arg(long, value_enum, default_value_t = Format::Xlsx)]
    pub format: Format,
    /// First day included (YYYY-MM-DD, China time); with --unprotected only.
    #[arg(long)]
    pub from: Option<NaiveDate>,
    /// Last day included (YYYY-MM-DD, China time); with --unprotected only.
    #[arg(long)]
    pub to: Option<NaiveDate>,
    /// Only these units (codes from units.toml); repeat for several; with --unprotected only.
    #[arg(long = "unit")]
    pub units: Vec<String>,
    /// Output file, which must not exist yet (default: exports/<form title>-<date>-<time>.xlsx).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The disclosure policy's k: units and categories with fewer respondents are pooled (default: the k
    /// the server was started with, else 5; another than the server's is refused).
    #[arg(long, env = "WENJI_SMALL_CELL_K", value_parser = crate::config::small_cell_k())]
    pub small_cell_k: Option<u32>,
    /// The office's full detail without small-cell protection (receipts, notes, every unit, date and unit
    /// filters). Never hand it to leaders; each use is written to the audit log.
    #[arg(long)]
    pub unprotected: bool,
}

pub async fn run(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    args.out.as_deref().map(super::refuse_existing).transpose()?;
    if args.register && args.format != crate::export::Format::Xlsx {
        anyhow::bail!("--register writes the register as xlsx only: leave out --format");
    }
    super::refuse_other_extension(args.out.as_deref(), args.format.extension())?;
    // The database first: run in the wrong folder, "no database here" says more than a missing forms folder.
    let store = super::open_migrated(config).await?;
    if args.out.is_none() {
        config.prepare_exports_dir()?;
    }
    let catalog = Arc::new(super::load_forms(config)?);
    store.sync_catalog(&catalog).await?;
    store.withhold_unevenly_asked().await?;
    let small_cell_k = the_servers_k(&store, args.small_cell_k, args.unprotected).await?;
    // As the server does: never below a k a release was made with (the released rows would read finer).
    let in_force = crate::reporting::batch_sizes(&store, u64::from(small_cell_k)).await?.now;
    let small_cell_k = u32::try_from(in_force).unwrap_or(u32::MAX);
    if args.register {
        return register(config, &store, &catalog, args.out, small_cell_k).await;
    }
    let params = ExportParams {
        scope: Scope { forms: args.forms, from: args.from, to: args.to, units: args.units, released: false },
        format: args.format,
        small_cell_k,
        unprotected: args.unprotected,
        generated_at: crate::store::now_ms(),
    };
    params.check(&catalog)?;
    if !params.unprotected {
        let day = crate::domain::report::last_published_day(params.generated_at);
        let k = params.small_cell_k;
        eprintln!(
            "受保护的导出只含 {day} 及以前、已向领导纳入的答卷：今天的答卷最早明天纳入，每个单位的新答卷满 {k} 份才成批纳入（与领导视图相同，见 docs/decisions/0001）。"
        );
    } else {
        eprintln!(
            "警告：--unprotected 导出完整数据（回执号、分析备注、每个单位），未做小单元保护，不得交给领导；本次导出记入审计日志。"
        );
    }
    let target = match args.out {
        Some(out) => super::Target::Named(out),
        None => super::Target::Free(config.exports_dir.clone(), params.file_name(&catalog)),
    };
    let part = super::part_beside(&target.first())?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} 行 ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let b = bar.clone();
    let progress: crate::export::Progress = Arc::new(move |done, total| {
        b.set_length(total);
        b.set_position(done);
    });
    let started = std::time::Instant::now();
    if !params.unprotected {
        crate::reporting::release_then_leader_cut(&store, params.generated_at, u64::from(params.small_cell_k)).await;
    }
    let written =
        crate::reporting::run(&store, catalog, params.clone(), &part, crate::export::sheet::EXCEL_MAX_ROWS, progress)
            .await?;
    bar.finish_and_clear();
    let path = target.place(part)?;
    let action = if params.unprotected { "export_unprotected" } else { "export_requested" };
    audited_or_removed(&store, &path, action, serde_json::to_string(&params).ok()).await?;
    println!(
        "wrote {} ({} responses, {} opinions) in {:.1} s",
        path.display(),
        written.responses,
        written.opinions,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `wenji export --register`: the posting workbook, audited like every export.
async fn register(
    config: &Config,
    store: &crate::store::Store,
    catalog: &crate::domain::catalog::Catalog,
    out: Option<PathBuf>,
    small_cell_k: u32,
) -> anyhow::Result<()> {
    let now = crate::store::now_ms();
    // For posting: support and ratings as leaders and the public see them, up to the last midnight.
    let k = u64::from(small_cell_k);
    let until = crate::reporting::release_then_leader_cut(store, now, k).await;
    let reg = crate::reporting::published_register(store, None, k, until).await?;
    let bytes = crate::export::register::posting_workbook(&reg, catalog, now)?;
    let stamp = crate::domain::report::local_time(now).replace([' ', ':'], "-");
    let target = match out {
        Some(out) => super::Target::Named(out),
        None => super::Target::Free(config.exports_dir.clone(), format!("整改台账-{stamp}.xlsx")),
    };
    let part = super::part_beside(&target.first())?;
    std::fs::write(&part, bytes)?;
    let path = target.place(part)?;
    audited_or_removed(store, &path, "register_export", None).await?;
    let published = reg.measures.iter().filter(|m| m.published_at.is_some()).count();
    println!("wrote {} ({published} published measures)", path.display());
    Ok(())
}

/// Audits the file just written at `path`, or deletes it when the entry cannot be stored: no export
/// leaves the command without its entry.
async fn audited_or_removed(
    store: &crate::store::Store,
    path: &std::path::Path,
    action: &str,
    after: Option<String>,
) -> anyhow::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Err(e) = store.audit(&Actor::system("cli"), action, &format!("file:{name}"), None, after).await {
        let removed = std::fs::remove_file(path);
        anyhow::bail!(
            "the export could not be audited ({e}); {} was {}",
            path.display(),
            if removed.is_ok() { "deleted" } else { "NOT deleted: delete it by hand" }
        );
    }
    Ok(())
}

/// The k of a leaders' file: the server's (recorded at its start), unless given here. Another k than the
/// server's is refused: two leaders' files made with different k subtract to what either hides.
async fn the_servers_k(store: &crate::store::Store, given: Option<u32>, unprotected: bool) -> anyhow::Result<u32> {
    let recorded = store.recorded_small_cell_k().await?;
    match (given, recorded) {
        (Some(k), Some(server)) if k != server && !unprotected => anyhow::bail!(
            "--small-cell-k / WENJI_SMALL_CELL_K is {k}, but the server was started with {server}: leaders' files \
             made with two values of k can be subtracted to show what each hides. Leave it unset (the server's is \
             used), or start the server with {k}"
        ),
        (Some(k), _) => Ok(k),
        (None, server) => Ok(server.unwrap_or(crate::domain::report::policy::DEFAULT_K)),
    }
}
