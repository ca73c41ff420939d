//! Runs an export: reads the report rows from the [`Store`] in keyset batches on the async side and feeds
//! them through a bounded channel to the xlsx/CSV writer on a blocking thread, so memory stays bounded.
//! This file wires the store to `export/`, which itself knows neither the database nor the runtime.

use crate::domain::batches::BatchSizes;
use crate::domain::catalog::Catalog;
use crate::domain::rectification::Register;
use crate::domain::report::policy::Disclosure;
use crate::domain::report::raw::{Names, RawLayout};
use crate::domain::report::{Scope, shuffled_within_dates};
use crate::export::{BATCH, Context, ExportError, ExportParams, Feed, Format, Progress, RAW_BATCH, csv, xlsx};
use crate::store::Store;
use crate::store::report::Batch;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The register (问题清单 and 整改台账) as leaders and the public read it at `until_ms`, the bureau's last
/// midnight: see [`Register::published`]; each form's units are shown as that form's leader views show them.
/// With `only`, the support and quotes of that problem alone ([`Store::register_of`]).
///
/// # Errors
/// On a database failure.
pub async fn published_register(
    store: &Store,
    only: Option<i64>,
    k: u64,
    until_ms: i64,
) -> crate::store::Result<Register> {
    let reg = store.register_of(only, k, Some(until_ms)).await?;
    let forms: BTreeSet<String> =
        reg.support.values().flat_map(|s| s.by_unit_form.keys().map(|(_, f)| f.clone())).collect();
    let mut policies = BTreeMap::new();
    for form in forms {
        let policy = disclosure_of(store, &Scope::published(&form, until_ms), k).await?;
        policies.insert(form, policy);
    }
    let sizes = batch_sizes(store, k).await?;
    Ok(reg.published(&sizes, |form, unit| policies.get(form).is_some_and(|d| d.shows_unit(unit))))
}

/// The batch size each day was released to leaders under ([`BatchSizes`]), from the releases made.
///
/// # Errors
/// On a database failure.
pub async fn batch_sizes(store: &Store, k: u64) -> crate::store::Result<BatchSizes> {
    let releases = store.release_sizes().await?;
    Ok(BatchSizes::new(
        releases.into_iter().map(|(cut, k)| (crate::domain::rectification::bureau_today(cut - 1), k)),
        k,
    ))
}

/// The disclosure policy of a selection, decided from its respondents per unit, category and day: what
/// every leader-facing view of it may show.
///
/// # Errors
/// On a database failure.
pub async fn disclosure_of(store: &Store, scope: &Scope, k: u64) -> crate::store::Result<Disclosure> {
    let days = store.respondent_days(scope).await?;
    if let (true, [form], Some(cut)) = (scope.released, scope.forms.as_slice(), scope.until_ms()) {
        Ok(Disclosure::decide_released(&days, &store.release_history(form, cut).await?, k))
    } else {
        Ok(Disclosure::decide_dated(&days, k))
    }
}

/// The raw layout of one form: what the leaders' inbox needs to name opinions' questions as their
/// workbook does ([`RawLayout::opinion_question`]).
///
/// # Errors
/// On a database failure.
pub async fn question_titles(store: &Store, form: &str) -> crate::store::Result<RawLayout> {
    let forms = [form.to_owned()];
    Ok(RawLayout::new(&forms, store.report_versions(&forms).await?))
}

/// Protects `layout` for leaders reading `form` as released at `cut`, withholding what a form reload
/// changed inside a release ([`RawLayout::withhold_unevenly_asked`]); a form never reloaded needs no
/// look at its releases.
async fn protect_for_leaders(
    store: &Store,
    layout: &mut RawLayout,
    form: &str,
    cut: i64,
    d: Disclosure,
) -> crate::store::Result<()> {
    layout.protect(d);
    if layout.version_count() > 1 {
        layout.withhold_unevenly_asked(&store.released_versions(form, cut).await?);
    }
    Ok(())
}

/// Where leaders' and the public's views end at `now_ms`: the bureau's last midnight, with the release at
/// it made first ([`Store::release_to_leaders`]). A release that fails now (a full disk) is tried again by
/// the next view; meanwhile views show, and are dated by, the latest release made ([`released_cut`]).
pub async fn release_then_leader_cut(store: &Store, now_ms: i64, k: u64) -> i64 {
    let cut = crate::domain::report::published_until_ms(now_ms);
    match store.release_to_leaders(cut, k).await {
        Ok(shown) => shown,
        Err(e) => {
            tracing::warn!(error = %e, "the release to leaders at the last midnight failed; views show the earlier ones");
            released_cut(store, cut).await
        }
    }
}

/// The cut of the latest release made by `cut` (`cut` itself when none was made: nothing is released).
/// Views read the same rows at either; the label must name the release they show, not the one that
/// failed or is still being made.
pub async fn released_cut(store: &Store, cut: i64) -> i64 {
    match store.latest_release().await {
        Ok(Some(r)) => r.cut_ms.min(cut),
        _ => cut,
    }
}

/// The register as /gongkai shows it to anyone, with no units: [`published_register`] without deciding
/// each form's policy (a scan of its responses per request), every unit pooled.
///
/// # Errors
/// On a database failure.
pub async fn public_register(store: &Store, k: u64, until_ms: i64) -> crate::store::Result<Register> {
    let sizes = batch_sizes(store, k).await?;
    Ok(store.register(k, Some(until_ms)).await?.published(&sizes, |_, _| false))
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub path: PathBuf,
    pub responses: u64,
    pub opinions: u64,
}

/// Where [`run`] writes the `extension` file for `path` until it is complete (renamed then): `….xlsx.part`.
pub fn partial_path(path: &Path, extension: &str) -> PathBuf {
    path.with_extension(format!("{extension}.part"))
}

/// Runs an export of `params` into `path` (the file appears only when complete). A protected one reads
/// the releases made so far: call [`release_then_leader_cut`] first (not here: the web's runner writes its
/// progress while this runs, and a release would hold the one writer it waits for).
///
/// # Errors
/// `Invalid` for unknown forms or units; store, xlsx, CSV and file errors as they come.
pub async fn run(
    store: &Store,
    catalog: Arc<Catalog>,
    params: ExportParams,
    path: &Path,
    max_rows: u32,
    progress: Progress,
) -> Result<Written, ExportError> {
    params.check(&catalog)?;
    let cut = released_cut(store, crate::domain::report::published_until_ms(params.generated_at)).await;
    let params = params.published(cut);
    let scope = params.scope.clone();
    let versions = store.report_versions(&scope.forms).await?;
    let defs: Vec<&crate::domain::form::FormDef> =
        scope.forms.iter().filter_map(|f| catalog.form(f)).chain(versions.iter().map(|(_, d)| d)).collect();
    let names = Names::new(&catalog.areas, &catalog.units, &defs);
    let mut layout = RawLayout::new(&scope.forms, versions);
    let disclosure = if params.unprotected {
        None
    } else {
        Some(disclosure_of(store, &scope, u64::from(params.small_cell_k)).await?)
    };
    if let Some(d) = &disclosure {
        match (scope.released, scope.forms.as_slice(), scope.until_ms()) {
            (true, [form], Some(cut)) => protect_for_leaders(store, &mut layout, form, cut, d.clone()).await?,
            _ => layout.protect(d.clone()),
        }
    }
    let counts = store.report_counts(&scope).await?;
    let format = params.format;
    let total = match format {
        Format::Xlsx => counts.xlsx_work(),
        Format::Csv => counts.responses,
    };
    // Over the file's responses only: a protected file's κ must not move as today's opinions are coded.
    let pairs = store.coded_pairs(&scope).await?;
    let agreement = (!pairs.is_empty()).then(|| crate::domain::agreement::agree(&pairs));
    // A protected file's 问题清单 and 整改台账 count what its other sheets count: responses up to its last day.
    let k = u64::from(params.small_cell_k);
    let register = if params.unprotected {
        store.register(k, None).await?
    } else {
        // A protected file always ends at a midnight; if it did not, its register would end at the last one.
        let until = scope.until_ms().unwrap_or_else(|| crate::domain::report::published_until_ms(params.generated_at));
        published_register(store, None, k, until).await?
    };
    let register = Some(Arc::new(register));
    let groups = match scope.forms.as_slice() {
        // One whole form, in the office's file only: never a count of a filtered selection, and never for
        // leaders (groups form across opinions they are not shown; see the dashboard).
        [f] if params.unprotected && scope.from.is_none() && scope.units.is_empty() && scope.to.is_none() => {
            let g = store.group_count(Some(f), scope.until_ms()).await?;
            Some((g.opinions, g.groups))
        }
        _ => None,
    };
    let protected = disclosure.clone();
    let ctx =
        Context { params, disclosure, names, layout, catalog, max_rows, rows: total, agreement, register, groups };
    let tmp = partial_path(path, format.extension());
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Feed>(4);
    let out = tmp.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<(), ExportError> {
        match format {
            Format::Xlsx => {
                let mut w = xlsx::ReportWorkbook::new(ctx)?;
                while let Some(f) = rx.blocking_recv() {
                    w.feed(f)?;
                }
                w.save(&out)
            }
            Format::Csv => {
                let mut w = csv::RawCsv::create(&out, ctx)?;
                while let Some(f) = rx.blocking_recv() {
                    w.feed(f)?;
                }
                w.finish()
            }
        }
    });
    progress(0, total);
    let read = read_all(store, &scope, format, protected.as_ref(), total, &progress, &tx).await;
    drop(tx);
    if read.is_ok() {
        progress(total, total);
    }
    let wrote = writer.await.map_err(|e| ExportError::Writer(e.to_string()))?;
    // A writer failure explains a closed channel better than the reader's error does.
    if let Err(e) = wrote.and(read) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)?;
    Ok(Written { path: path.to_owned(), responses: counts.responses, opinions: counts.opinions })
}

/// How an export walks its rows: the office's file in id (arrival) order by keyset; a protected file through
/// the ids it ordered itself, each date's rows shuffled ([`shuffled_within_dates`]).
enum Walk {
    After(i64),
    Listed(Vec<i64>, usize),
}

impl Walk {
    fn new(protected: Option<Vec<(i64, i64)>>) -> Walk {
        match protected {
            None => Walk::After(0),
            Some(order) => Walk::Listed(shuffled_within_dates(order, &mut rand::rng()), 0),
        }
    }

    /// The next batch of at most `limit` rows, or `None` at the end.
    fn batch(&self, limit: u64) -> Option<Batch<'_>> {
        match self {
            Walk::After(after) => Some(Batch::After(*after, limit)),
            Walk::Listed(ids, at) => {
                let end = ids.len().min(at + usize::try_from(limit).unwrap_or(usize::MAX));
                (*at < ids.len()).then(|| Batch::Ids(&ids[*at..end]))
            }
        }
    }

    /// Moves past a batch whose last row was `last`; false when a keyset walk has reached the end.
    fn advance(&mut self, last: Option<i64>, limit: u64) -> bool {
        match (self, last) {
            (Walk::After(_), None) => false,
            (Walk::After(after), Some(id)) => {
                *after = id;
                true
            }
            (Walk::Listed(_, at), _) => {
                *at += usize::try_from(limit).unwrap_or(usize::MAX);
                true
            }
        }
    }
}

async fn read_all(
    store: &Store,
    scope: &Scope,
    format: Format,
    protected: Option<&Disclosure>,
    total: u64,
    progress: &Progress,
    tx: &tokio::sync::mpsc::Sender<Feed>,
) -> Result<(), ExportError> {
    let closed = || ExportError::Writer("the writer stopped early".into());
    // Short of the total until the last row is read: reaching it says the file is being written.
    let progress = |done: u64| progress(done.min(total.saturating_sub(1)), total);
    let mut done = 0u64;
    if format == Format::Xlsx {
        // Representative quotes head every area sheet, so they come first; then every other counted
        // opinion, once, for all eight area sheets and 未归类 at the same time.
        for representative in [true, false] {
            let order = match protected {
                Some(d) => {
                    Some(store.quoted_order(scope, representative, |u, c, at| d.row_sent(u, c, at).order()).await?)
                }
                None => None,
            };
            let mut walk = Walk::new(order);
            while let Some(b) = walk.batch(BATCH) {
                let batch = if representative {
                    store.representative_opinions(scope, b).await?
                } else {
                    store.other_opinions(scope, b).await?
                };
                if !walk.advance(batch.last().map(|b| b.id), BATCH) {
                    break;
                }
                done += batch.len() as u64;
                tx.send(Feed::Quoted(batch)).await.map_err(|_| closed())?;
                progress(done);
            }
        }
    }
    tx.send(Feed::RawStart).await.map_err(|_| closed())?;
    let order = match protected {
        Some(d) => Some(store.response_order(scope, |u, c, at| d.row_sent(u, c, at).order()).await?),
        None => None,
    };
    let mut walk = Walk::new(order);
    while let Some(b) = walk.batch(RAW_BATCH) {
        let batch = store.raw_responses(scope, b).await?;
        if !walk.advance(batch.last().map(|b| b.id), RAW_BATCH) {
            break;
        }
        done += batch.len() as u64;
        tx.send(Feed::Raw(batch)).await.map_err(|_| closed())?;
        progress(done);
    }
    Ok(())
}
