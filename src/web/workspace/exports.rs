//! `/w/exports`: leaders and admins choose forms, dates, units and a format; the export runs as a
//! background job with a progress page that refreshes itself; the finished file is downloaded (audited)
//! only by its creator or an administrator, and only from the exports folder. A person may run
//! [`JOBS_PER_USER`] jobs at once, everyone [`JOBS_OVERALL`]; files are deleted after the retention period.

use crate::domain::report::Scope;
use crate::domain::user::Role;
use crate::export::{ExportParams, Format};
use crate::store::StoreError;
use crate::store::export_jobs::{Admission, ExportJob, JobCaps, JobStatus};
use crate::web::auth::{CsrfForm, Staff};
use crate::web::error::WebError;
use crate::web::extract::Id;
use crate::web::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const DOWNLOADERS: &[Role] = &[Role::Leader, Role::Admin];
/// Exports one person may have queued or running at once, and everyone together: each holds a
/// database reader and writes a file, so a few at a time keep the server answering citizens.
pub const JOBS_PER_USER: u64 = 2;
pub const JOBS_OVERALL: u64 = 6;
/// How often a running job writes its progress, which is also its heartbeat.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// A queued or running job whose heartbeat is older than this has no server running it any more.
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

/// Whether `staff` may see and download `job`: administrators, and its creator unless it is a full
/// (unprotected) file, which only administrators may open.
fn may_open(staff: &Staff, job: &ExportJob) -> bool {
    staff.user.role == Role::Admin || (job.created_by == staff.user.id && !is_unprotected(job))
}

/// The jobs `staff` may see: administrators everyone's, leaders their own.
fn visible_to(staff: &Staff) -> Option<i64> {
    (staff.user.role != Role::Admin).then_some(staff.user.id)
}

/// One job as the pages show it.
pub struct JobRow {
    pub id: i64,
    pub format: String,
    pub status: &'static str,
    pub percent: i64,
    pub done: i64,
    pub total: i64,
    pub created_at: String,
    pub file_name: Option<String>,
    pub error: Option<String>,
    pub running: bool,
    /// What a running job is doing when that is not reading rows: preparing, or writing the file.
    pub stage: Option<&'static str>,
    /// Done: the counts are final.
    pub finished: bool,
    /// Finished without a count to show: a protected selection under k.
    pub count_hidden: bool,
    /// The office's full file: administrators only.
    pub unprotected: bool,
}

impl From<&ExportJob> for JobRow {
    fn from(j: &ExportJob) -> Self {
        let percent = if j.status == JobStatus::Done {
            100
        } else if j.total > 0 {
            (j.done * 100 / j.total).clamp(0, 99)
        } else {
            0
        };
        // The runner's (0, 0) is a selection being prepared, and reaching the total leaves only the file
        // to write ([`crate::export::Progress`]).
        let running = matches!(j.status, JobStatus::Queued | JobStatus::Running);
        let stage = match (running, j.total) {
            (false, _) => None,
            (true, 0) => Some("正在准备…"),
            (true, t) => (j.done >= t).then_some("正在写入文件（最后一步）"),
        };
        JobRow {
            id: j.id,
            format: j.format.clone(),
            status: j.status.label(),
            percent,
            done: j.done,
            total: j.total,
            created_at: crate::domain::report::local_time(j.created_at),
            file_name: j.file_name.as_deref().map(display_name),
            error: j.error.clone(),
            running,
            stage,
            finished: j.status == JobStatus::Done,
            count_hidden: j.status == JobStatus::Done && j.total == 0 && !is_unprotected(j),
            unprotected: is_unprotected(j),
        }
    }
}

/// Whether a job is the office's unprotected file. A record that does not say (written before the
/// disclosure policy, so its file was not protected) or does not parse counts as one: admins only.
fn is_unprotected(j: &ExportJob) -> bool {
    let params: Option<serde_json::Value> = serde_json::from_str(&j.params).ok();
    params.and_then(|p| p.get("unprotected").and_then(serde_json::Value::as_bool)).unwrap_or(true)
}

/// Only administrators see or download an unprotected file; to others it does not exist.
/// The name people see: the stored name without its `job id-` prefix.
fn display_name(stored: &str) -> String {
    stored.split_once('-').map_or(stored, |(_, rest)| rest).to_owned()
}

#[derive(Template, WebTemplate)]
#[template(path = "exports.html")]
pub struct ExportsPage {
    pub head: super::head::StaffHead,
    pub csrf: String,
    pub forms: Vec<(String, String)>,
    pub units: Vec<(String, String)>,
    pub jobs: Vec<JobRow>,
    pub error: Option<String>,
    /// The k in force: the batch size of releases too ([`AppState::small_cell_k`]).
    pub k: u64,
    /// Administrators may ask for the unprotected file.
    pub can_unprotect: bool,
    /// The form ticked when the page opens: the one with the most responses up to the last midnight, as
    /// on a leader's dashboard (a default that a first click can export as it is).
    /// The forms ticked: the busiest, or what was posted when the page comes back with an error.
    pub checked: Vec<String>,
    /// What else was posted, kept when the page comes back with an error.
    pub chosen: ExportForm,
}

#[derive(Template, WebTemplate)]
#[template(path = "export_job.html")]
pub struct JobPage {
    pub head: super::head::StaffHead,
    pub job: JobRow,
    pub k: u64,
}

/// The export request as the form posts it.
#[derive(Deserialize, Debug, Default, Clone)]
pub struct ExportForm {
    #[serde(default)]
    pub form: Vec<String>,
    #[serde(default)]
    pub unit: Vec<String>,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub format: String,
    /// The administrator's explicit choice of the full, unprotected file.
    #[serde(default)]
    pub unprotected: String,
}

fn parse_day(s: &str, field: &str) -> Result<Option<NaiveDate>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| format!("{field}：请按 2026-11-26 的格式填写日期"))
}

impl ExportForm {
    /// Whether the unprotected file was asked for: its box ticked (`1`), not merely a field sent (`0`
    /// asked for it before).
    pub fn wants_unprotected(&self) -> bool {
        matches!(self.unprotected.trim(), "1" | "on" | "true")
    }

    /// Turns the posted form into export parameters with the k in force, naming the field at fault.
    fn params(&self, state: &AppState, small_cell_k: u32) -> Result<ExportParams, String> {
        let format = Format::parse(self.format.trim()).ok_or("格式：请选择 Excel 工作簿或 CSV")?;
        let params = ExportParams {
            scope: Scope {
                forms: self.form.clone(),
                from: parse_day(&self.from, "开始日期")?,
                to: parse_day(&self.to, "结束日期")?,
                units: self.unit.iter().filter(|u| !u.is_empty()).cloned().collect(),
                released: false,
            },
            format,
            small_cell_k,
            unprotected: self.wants_unprotected(),
            generated_at: crate::store::now_ms(),
        };
        params.check(&state.forms().catalog).map_err(|e| e.to_string())?;
        Ok(params)
    }
}

async fn page_with(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    posted: Option<&ExportForm>,
) -> Result<ExportsPage, WebError> {
    let forms = state.forms();
    let jobs = state.store.recent_export_jobs(20, visible_to(staff)).await?;
    // The rating form only for a full file: a protected one of it is refused (each row is a rater's grade).
    let offered: Vec<(String, String)> = forms
        .catalog
        .forms
        .values()
        .filter(|f| staff.user.role == Role::Admin || forms.catalog.citizen_form(&f.slug).is_some())
        .map(|f| (f.slug.clone(), f.title.clone()))
        .collect();
    let busiest = state.store.busiest_form(state.release_then_leader_cut().await).await?;
    let first_citizen_form = offered.iter().map(|(s, _)| s).find(|s| forms.catalog.citizen_form(s).is_some());
    let preselected = busiest.or_else(|| first_citizen_form.cloned()).unwrap_or_default();
    let chosen = posted.cloned().unwrap_or_else(|| ExportForm { format: "xlsx".into(), ..ExportForm::default() });
    let checked = if posted.is_some() { chosen.form.clone() } else { vec![preselected] };
    Ok(ExportsPage {
        head: staff.head(),
        csrf: staff.csrf.clone(),
        forms: offered,
        checked,
        chosen,
        units: forms.catalog.units.iter().map(|u| (u.code.clone(), u.name.clone())).collect(),
        jobs: jobs.iter().filter(|j| may_open(staff, j)).map(JobRow::from).collect(),
        error,
        k: state.small_cell_k().await?,
        can_unprotect: staff.user.role == Role::Admin,
    })
}

/// `GET /w/exports`.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Result<ExportsPage, WebError> {
    staff.require(DOWNLOADERS)?;
    page_with(&state, &staff, None, None).await
}

/// `POST /w/exports`: starts a job and shows its progress.
pub async fn start(
    State(state): State<AppState>,
    CsrfForm(staff, f): CsrfForm<ExportForm>,
) -> Result<Response, WebError> {
    staff.require(DOWNLOADERS)?;
    if f.wants_unprotected() {
        staff.require(&[Role::Admin])?;
    }
    let k = u32::try_from(state.small_cell_k().await?).unwrap_or(u32::MAX);
    let params = match f.params(&state, k) {
        Ok(p) => p,
        Err(msg) => {
            let page = page_with(&state, &staff, Some(msg), Some(&f)).await?;
            return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let json = serde_json::to_string(&params).map_err(|e| WebError::Internal(e.to_string()))?;
    let actor = super::login::actor(&staff);
    let caps = JobCaps { per_user: JOBS_PER_USER, overall: JOBS_OVERALL };
    let busy = match state
        .store
        .create_export_job(params.format.extension(), &json, &actor, params.unprotected, caps)
        .await?
    {
        Admission::Started(job) => {
            tokio::spawn(run_job(state.clone(), job.id, params));
            return Ok(Redirect::to(&format!("/w/exports/{}", job.id)).into_response());
        }
        Admission::YoursBusy => format!("您已有 {JOBS_PER_USER} 个导出正在进行，请等其完成后再导出。"),
        Admission::AllBusy => "系统正在生成的导出较多，请一两分钟后再试。".to_owned(),
    };
    let page = page_with(&state, &staff, Some(busy), Some(&f)).await?;
    let mut r = (axum::http::StatusCode::TOO_MANY_REQUESTS, page).into_response();
    r.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("30"));
    Ok(r)
}

/// Runs one job, writing its progress to the database about twice a second.
async fn run_job(state: AppState, id: i64, params: ExportParams) {
    let catalog = Arc::new(state.forms().catalog.clone());
    let stored_name = format!("{id}-{}", params.file_name(&catalog));
    let path = state.settings.exports_dir.join(&stored_name);
    let counters = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let c = counters.clone();
    let progress: crate::export::Progress = Arc::new(move |done, total| {
        c[0].store(done, Ordering::Relaxed);
        c[1].store(total, Ordering::Relaxed);
    });
    let store = state.store.clone();
    let (protected, k) = (!params.unprotected, u64::from(params.small_cell_k));
    if protected {
        crate::reporting::release_then_leader_cut(&store, params.generated_at, k).await;
    }
    let export = crate::reporting::run(&store, catalog, params, &path, crate::export::sheet::EXCEL_MAX_ROWS, progress);
    tokio::pin!(export);
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    let result = loop {
        tokio::select! {
            r = &mut export => break r,
            _ = tick.tick() => {
                let (d, t) = (counters[0].load(Ordering::Relaxed), counters[1].load(Ordering::Relaxed));
                // A protected job keeps only its share done (per mille): its row count, read while it runs,
                // would be the exact size of a form the policy shows as "<k".
                // The office's full file also reads what arrives while it runs: never past its count.
                let (d, t) = match t {
                    0 => (0, 0),
                    t if protected => ((d * 1000 / t).min(1000), 1000),
                    t => (d.min(t), t),
                };
                if let Err(StoreError::EditedMeanwhile) = store.set_export_progress(id, d, t).await {
                    return drop_late_file(id, &path).await;
                }
            }
        }
    };
    // A protected selection under k shows no count at all (the policy's "<k"), so none is kept.
    let end = match result {
        Ok(w) => Ok(if protected && w.responses < k { 0 } else { counters[1].load(Ordering::Relaxed) }),
        Err(e) => {
            tracing::error!(job = id, error = %e, "export failed");
            Err("导出失败，请稍后重试或联系管理员")
        }
    };
    // The end is retried until it is stored (a full disk may refuse it for a while): a job left "running"
    // would hold its creator's export slot and keep the progress page waiting until the next restart.
    let mut wait = END_RETRY_FIRST;
    loop {
        let saved = match end {
            Ok(rows) => store.finish_export_job(id, &stored_name, rows).await,
            Err(message) => store.fail_export_job(id, message).await,
        };
        match saved {
            Ok(()) | Err(StoreError::NotFound) => break,
            Err(StoreError::EditedMeanwhile) => return drop_late_file(id, &path).await,
            Err(e) => tracing::warn!(job = id, error = %e, retry_in = ?wait, "could not record the export's end"),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(END_RETRY_MAX);
    }
}

/// Whether `name` is a name job `job` gives its file in the exports folder, the file or the partial one
/// being written: `{id}-`, then whatever title the form had, then the job's minute and format.
fn is_job_file(job: &ExportJob, name: &str) -> bool {
    let Ok(params) = serde_json::from_str::<ExportParams>(&job.params) else { return false };
    let end = params.file_name_end();
    name.starts_with(&format!("{}-", job.id)) && (name.ends_with(&end) || name.ends_with(&format!("{end}.part")))
}

/// Another server failed job `id` as silent while this one ran it (it stalled): its people were told to
/// export again, so its file is not offered beside that message.
async fn drop_late_file(id: i64, path: &std::path::Path) {
    tracing::warn!(job = id, "the export ended elsewhere while it ran; stopped, its file removed");
    // Stopped while running, it left its partial file (the one `reporting::run` writes before the rename);
    // any the writer thread finishes after this, the sweep of stopped jobs' files removes.
    let extension = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    for file in [path.to_path_buf(), crate::reporting::partial_path(path, &extension)] {
        let _ = tokio::fs::remove_file(file).await;
    }
}

/// How soon, and at most how long apart, a job's end is tried again when the database refuses it.
const END_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(250);
const END_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(10);

/// Export job `id` if `staff` may open it. Someone else's job reads exactly as one that does not exist (the
/// office's unprotected exports are not confirmed one by one; ids still run across everyone's jobs).
async fn job_for(state: &AppState, staff: &Staff, id: i64) -> Result<crate::store::export_jobs::ExportJob, WebError> {
    staff.require(DOWNLOADERS)?;
    match state.store.export_job(id).await {
        Ok(job) if may_open(staff, &job) => Ok(job),
        Ok(_) | Err(crate::store::StoreError::NotFound) => Err(WebError::NotFound("找不到该导出".into())),
        Err(e) => Err(e.into()),
    }
}

/// `GET /w/exports/{id}`: the job's progress; refreshes itself (a `Refresh` header) until it ends.
pub async fn show(State(state): State<AppState>, staff: Staff, Id(id): Id) -> Result<Response, WebError> {
    let job = job_for(&state, &staff, id).await?;
    let row = JobRow::from(&job);
    let running = row.running;
    let mut r = JobPage { head: staff.head(), job: row, k: state.small_cell_k().await? }.into_response();
    if running {
        r.headers_mut().insert(header::REFRESH, axum::http::HeaderValue::from_static("2"));
    }
    Ok(r)
}

/// `GET /w/exports/{id}/download`: streams the finished file; audited.
pub async fn download(
    State(state): State<AppState>,
    method: axum::http::Method,
    staff: Staff,
    Id(id): Id,
) -> Result<Response, WebError> {
    let job = job_for(&state, &staff, id).await?;
    let Some(name) = job.file_name.filter(|_| job.status == JobStatus::Done) else {
        return Err(match (job.status, job.error) {
            // Past its retention the file is gone and the job says so; it did not stop being finished.
            (JobStatus::Done, Some(why)) => WebError::NotFound(why),
            _ => WebError::Conflict("该导出尚未完成".into()),
        });
    };
    // Only a plain file name this server wrote, inside the exports folder.
    if !is_plain_file_name(&name) || !name.starts_with(&format!("{id}-")) {
        return Err(WebError::NotFound("文件不存在".into()));
    }
    let path = state.settings.exports_dir.join(&name);
    // A file past its retention has no name any more, so a named one missing here was never in this folder.
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(job = id, error = %e, "an export's file is not in WENJI_EXPORTS_DIR (instances need one shared folder)");
        WebError::NotFound("导出文件不在本服务器上，请重新导出或联系管理员".into())
    })?;
    let len = file.metadata().await.map_err(|e| WebError::Internal(e.to_string()))?.len();
    // A HEAD sends no file: nothing was downloaded to audit.
    if method != axum::http::Method::HEAD {
        let actor = super::login::actor(&staff);
        state.store.audit(&actor, "download", &format!("export:{id}"), None, Some(name.clone())).await?;
    }
    let mime = if job.format == "csv" {
        "text/csv; charset=utf-8"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    let shown = display_name(&name);
    let disposition = super::attachment(&format!("export-{id}.{}", job.format), &shown);
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// A name that stays inside the folder it is joined to: one ordinary component, no separator, not `.`/`..`.
fn is_plain_file_name(name: &str) -> bool {
    let mut parts = std::path::Path::new(name).components();
    !name.contains(['/', '\\']) && matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(_)), None))
}

/// Deletes the files of jobs finished longer than `retention` ago (the job stays listed, without its
/// file). Runs periodically while the server serves.
///
/// # Errors
/// On a database failure; a file already gone is not an error.
pub async fn delete_expired_files(state: &AppState, retention: std::time::Duration) -> Result<usize, WebError> {
    let cutoff = crate::store::now_ms() - i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let expired = state.store.export_files_finished_before(cutoff).await?;
    for (id, name) in &expired {
        if !is_plain_file_name(name) {
            // Never written by this server: nothing to delete here, but it must not stay listed unseen.
            tracing::error!(job = id, "an expired export's file name is not a plain name; its file was not deleted");
            state.store.forget_export_file(*id).await?;
            continue;
        }
        match tokio::fs::remove_file(state.settings.exports_dir.join(name)).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(job = id, error = %e, "could not delete an expired export");
                continue;
            }
        }
        state.store.forget_export_file(*id).await?;
    }
    delete_leftover_files(state).await?;
    Ok(expired.len())
}

/// Deletes what jobs left behind that nobody can download: the file or partial file of a job that failed
/// or whose server stopped. Only a name a job gives its file ([`is_job_file`]) is touched: a backup, a
/// command line's file or one an operator named `2026-…` stays.
async fn delete_leftover_files(state: &AppState) -> Result<(), WebError> {
    let Ok(mut dir) = tokio::fs::read_dir(&state.settings.exports_dir).await else { return Ok(()) };
    while let Ok(Some(entry)) = dir.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.split_once('-').and_then(|(id, _)| id.parse::<i64>().ok()) else { continue };
        let kept = match state.store.export_job(id).await {
            Ok(job) if !is_job_file(&job, &name) => true,
            Ok(job) => match job.status {
                JobStatus::Queued | JobStatus::Running => true,
                JobStatus::Done => job.file_name.as_deref() == Some(name.as_str()),
                JobStatus::Failed => false,
            },
            Err(StoreError::NotFound) => true,
            Err(e) => return Err(e.into()),
        };
        if !kept {
            match tokio::fs::remove_file(entry.path()).await {
                Ok(()) => tracing::info!(job = id, file = %name, "deleted an export file no job can offer"),
                Err(e) => tracing::warn!(job = id, error = %e, "could not delete a left-over export file"),
            }
        }
    }
    Ok(())
}
