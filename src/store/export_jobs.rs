//! Background export jobs: what was asked, by whom, how far it has got, and the file it produced.

use super::audit::{Actor, append_in};
use super::entities::export_job;
use super::{Result, Store, StoreError, now_ms};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, QueryOrder, QuerySelect, QueryTrait};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<JobStatus> {
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Failed]
            .into_iter()
            .find(|j| j.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            JobStatus::Queued => "排队中",
            JobStatus::Running => "正在生成",
            JobStatus::Done => "已完成",
            JobStatus::Failed => "失败",
        }
    }
}

/// One export job.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportJob {
    pub id: i64,
    pub format: String,
    /// The export's parameters as JSON.
    pub params: String,
    pub status: JobStatus,
    pub done: i64,
    pub total: i64,
    /// The file's name inside the exports folder, once written.
    pub file_name: Option<String>,
    pub error: Option<String>,
    pub created_by: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

impl TryFrom<export_job::Model> for ExportJob {
    type Error = StoreError;
    fn try_from(m: export_job::Model) -> Result<Self> {
        Ok(ExportJob {
            id: m.id,
            format: m.format,
            params: m.params,
            status: JobStatus::parse(&m.status)
                .ok_or_else(|| StoreError::Corrupt(format!("job status {}", m.status)))?,
            done: m.done,
            total: m.total,
            file_name: m.file_name,
            error: m.error,
            created_by: m.created_by,
            created_at: m.created_at,
            finished_at: m.finished_at,
        })
    }
}

/// How many queued or running jobs one person, and everyone together, may have.
#[derive(Debug, Clone, Copy)]
pub struct JobCaps {
    pub per_user: u64,
    pub overall: u64,
}

/// What asking for an export got.
#[derive(Debug)]
pub enum Admission {
    Started(ExportJob),
    /// The person already has `per_user` jobs.
    YoursBusy,
    /// Everyone together has `overall` jobs.
    AllBusy,
}

impl Admission {
    /// The job, if one was started.
    pub fn started(self) -> Option<ExportJob> {
        match self {
            Admission::Started(job) => Some(job),
            _ => None,
        }
    }
}

/// Jobs queued or running: what the caps count.
fn active_jobs() -> sea_orm::Select<export_job::Entity> {
    use sea_orm::{ColumnTrait, QueryFilter};
    export_job::Entity::find()
        .filter(export_job::Column::Status.is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
}

/// PostgreSQL: the transaction lock of export admission ("WENX"), per schema.
const ADMISSION_LOCK: i32 = 0x5745_4e58;

impl Store {
    /// Records a new queued job asked for by `by`, audited as `export_requested` (or `export_unprotected`
    /// for the full, unprotected file) with its parameters, in the same transaction, unless `caps` are
    /// reached. The count and the insert share one transaction (on PostgreSQL under a lock per schema,
    /// SQLite has one writer), so requests racing on several instances cannot pass the caps together.
    ///
    /// # Errors
    /// On a database failure; `Corrupt` when `by` is not a user.
    pub async fn create_export_job(
        &self,
        format: &str,
        params: &str,
        by: &Actor,
        unprotected: bool,
        caps: JobCaps,
    ) -> Result<Admission> {
        use sea_orm::{ColumnTrait, ConnectionTrait, PaginatorTrait, QueryFilter};
        let created_by = by.id.ok_or_else(|| StoreError::Corrupt("an export job asked for by no user".into()))?;
        let w = self.write_txn().await?;
        let done = async {
            if !self.is_sqlite() {
                let lock = format!("SELECT pg_advisory_xact_lock({ADMISSION_LOCK}, hashtext(current_schema()))");
                w.conn().execute_unprepared(&lock).await.map_err(StoreError::classify)?;
            }
            if active_jobs().filter(export_job::Column::CreatedBy.eq(created_by)).count(w.conn()).await?
                >= caps.per_user
            {
                return Ok(Admission::YoursBusy);
            }
            if active_jobs().count(w.conn()).await? >= caps.overall {
                return Ok(Admission::AllBusy);
            }
            let m = export_job::ActiveModel {
                format: Set(format.to_owned()),
                params: Set(params.to_owned()),
                status: Set(JobStatus::Queued.as_str().to_owned()),
                done: Set(0),
                total: Set(0),
                file_name: Set(None),
                error: Set(None),
                created_by: Set(created_by),
                created_at: Set(now_ms()),
                finished_at: Set(None),
                heartbeat_at: Set(now_ms()),
                ..Default::default()
            }
            .insert(w.conn())
            .await?;
            let action = if unprotected { "export_unprotected" } else { "export_requested" };
            append_in(w.conn(), by, action, &format!("export:{}", m.id), None, Some(params.to_owned())).await?;
            Ok(Admission::Started(ExportJob::try_from(m)?))
        }
        .await;
        w.finish(done).await
    }

    /// One job.
    ///
    /// # Errors
    /// `NotFound` for an unknown id.
    pub async fn export_job(&self, id: i64) -> Result<ExportJob> {
        export_job::Entity::find_by_id(id).one(self.db()).await?.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The most recent jobs, newest first: everyone's, or those `created_by` one user.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn recent_export_jobs(&self, limit: u64, created_by: Option<i64>) -> Result<Vec<ExportJob>> {
        use sea_orm::{ColumnTrait, QueryFilter};
        export_job::Entity::find()
            .apply_if(created_by, |q, user| q.filter(export_job::Column::CreatedBy.eq(user)))
            .order_by_desc(export_job::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// How many jobs are queued or running: everyone's, or those `created_by` one user.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn active_export_jobs(&self, created_by: Option<i64>) -> Result<u64> {
        use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
        Ok(active_jobs()
            .apply_if(created_by, |q, user| q.filter(export_job::Column::CreatedBy.eq(user)))
            .count(self.db())
            .await?)
    }

    /// The files of jobs finished before `before_ms` (milliseconds since the epoch): id and file name.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn export_files_finished_before(&self, before_ms: i64) -> Result<Vec<(i64, String)>> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let jobs = export_job::Entity::find()
            .filter(export_job::Column::FileName.is_not_null())
            .filter(export_job::Column::FinishedAt.lt(before_ms))
            .all(self.db())
            .await?;
        Ok(jobs.into_iter().filter_map(|j| Some((j.id, j.file_name?))).collect())
    }

    /// Records that a job's file was deleted (its retention ended); the job stays listed.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn forget_export_file(&self, id: i64) -> Result<()> {
        self.update_job(id, false, |a| {
            a.file_name = Set(None);
            a.error = Set(Some("文件已过保留期限并已删除，如需要请重新导出".to_owned()));
        })
        .await
    }

    /// Changes the fields `f` sets on job `id`; with `live_only`, only while it is queued or running:
    /// `EditedMeanwhile` when it has ended meanwhile (another server failed it as silent), so a late runner
    /// never turns a failed job back into a running or finished one.
    async fn update_job(&self, id: i64, live_only: bool, f: impl FnOnce(&mut export_job::ActiveModel)) -> Result<()> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let mut change = <export_job::ActiveModel as Default>::default();
        f(&mut change);
        // In a transaction: an autocommitted write on SQLite can lose its commit's error.
        let w = self.write_txn().await?;
        let done = async {
            let mut update = export_job::Entity::update_many().set(change).filter(export_job::Column::Id.eq(id));
            if live_only {
                let live = [JobStatus::Queued.as_str(), JobStatus::Running.as_str()];
                update = update.filter(export_job::Column::Status.is_in(live));
            }
            if update.exec(w.conn()).await?.rows_affected == 0 {
                let exists = export_job::Entity::find_by_id(id).one(w.conn()).await?.is_some();
                return Err(if exists { StoreError::EditedMeanwhile } else { StoreError::NotFound });
            }
            Ok(())
        }
        .await;
        w.finish(done).await
    }

    /// Marks a job running with its progress; this is also its heartbeat.
    ///
    /// # Errors
    /// `EditedMeanwhile` when the job has ended meanwhile; on a database failure.
    pub async fn set_export_progress(&self, id: i64, done: u64, total: u64) -> Result<()> {
        self.update_job(id, true, |a| {
            a.status = Set(JobStatus::Running.as_str().to_owned());
            a.heartbeat_at = Set(now_ms());
            a.done = Set(i64::try_from(done).unwrap_or(i64::MAX));
            a.total = Set(i64::try_from(total).unwrap_or(i64::MAX));
        })
        .await
    }

    /// Marks a job done with the file it wrote and the rows it read: the progress ticks may never have
    /// run for a quick job, so the final count is recorded here.
    ///
    /// # Errors
    /// `EditedMeanwhile` when the job has ended meanwhile (failed as silent); on a database failure.
    pub async fn finish_export_job(&self, id: i64, file_name: &str, rows: u64) -> Result<()> {
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        self.update_job(id, true, |a| {
            a.status = Set(JobStatus::Done.as_str().to_owned());
            a.file_name = Set(Some(file_name.to_owned()));
            a.finished_at = Set(Some(now_ms()));
            a.done = Set(rows);
            a.total = Set(rows);
        })
        .await
    }

    /// Marks a job failed with a message people may read.
    ///
    /// # Errors
    /// `EditedMeanwhile` when the job has ended meanwhile; on a database failure.
    pub async fn fail_export_job(&self, id: i64, error: &str) -> Result<()> {
        self.update_job(id, true, |a| {
            a.status = Set(JobStatus::Failed.as_str().to_owned());
            a.error = Set(Some(error.to_owned()));
            a.finished_at = Set(Some(now_ms()));
        })
        .await
    }

    /// Marks jobs left queued or running by a stopped server as failed, so nobody waits for them: those
    /// whose heartbeat is older than `silent_for`. Jobs another live server runs keep beating and stay.
    ///
    /// # Errors
    /// On a database failure.
    pub async fn fail_abandoned_export_jobs(&self, silent_for: std::time::Duration) -> Result<u64> {
        use sea_orm::{ColumnTrait, QueryFilter};
        let silent_since = now_ms().saturating_sub(i64::try_from(silent_for.as_millis()).unwrap_or(i64::MAX));
        let r = export_job::Entity::update_many()
            .col_expr(export_job::Column::Status, sea_orm::sea_query::Expr::value(JobStatus::Failed.as_str()))
            .col_expr(
                export_job::Column::Error,
                sea_orm::sea_query::Expr::value("导出中断（服务已停止或重启），请重新导出"),
            )
            .col_expr(export_job::Column::FinishedAt, sea_orm::sea_query::Expr::value(now_ms()))
            .filter(export_job::Column::Status.is_in([JobStatus::Queued.as_str(), JobStatus::Running.as_str()]))
            .filter(export_job::Column::HeartbeatAt.lt(silent_since));
        let w = self.bookkeeping_txn().await?;
        let done = r.exec(w.conn()).await.map(|r| r.rows_affected).map_err(StoreError::classify);
        w.finish(done).await
    }
}
