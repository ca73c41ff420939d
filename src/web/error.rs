//! Web errors. Pages get an HTML page in Chinese; the JSON API gets `{"error": …, "fields": […]}`.
//! Internal details are logged, never shown.

use crate::domain::form::answers::FieldError;
use crate::store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

/// Errors a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404, message shown.
    #[error("{0}")]
    NotFound(String),
    /// 400, message shown.
    #[error("{0}")]
    BadRequest(String),
    /// 403, message shown.
    #[error("{0}")]
    Forbidden(String),
    /// 403 for a signed-in staff member whose role may not open the page; shown with a link back to `/w`.
    #[error("{0}")]
    WrongRole(String),
    /// 409, message shown.
    #[error("{0}")]
    Conflict(String),
    /// 422 with field errors, shown.
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    /// 415: the body's media type or character set is refused, message shown.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413: the body is over the limit, shown; a citizen's form page keeps what was typed in a local draft.
    #[error("body too large")]
    TooLarge { draft_kept: bool },
    /// 408: the body did not arrive within the body time limit, shown.
    #[error("body timed out")]
    BodyTimedOut,
    /// 429, shown.
    #[error("too many requests")]
    TooMany,
    /// 503: storage is full or busy; shown as "try again", detail logged.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 503: too many of one kind of costly work wait (password checks), message shown.
    #[error("busy: {0}")]
    Busy(String),
    /// 500: logged in full, shown as a generic message.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => WebError::NotFound("找不到该记录".into()),
            StoreError::Conflict(m) => WebError::Conflict(m),
            StoreError::Duplicate(e) => {
                tracing::info!(error = %e, "a change sent twice at once: the second refused");
                WebError::Conflict("同样的修改刚刚已经保存（可能点了两次），请刷新页面查看。".into())
            }
            StoreError::Unavailable(m) => WebError::Unavailable(m),
            StoreError::EditedMeanwhile => WebError::Conflict(crate::store::EDITED_MEANWHILE.into()),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Forbidden(_) | WebError::WrongRole(_) => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::BodyTimedOut => StatusCode::REQUEST_TIMEOUT,
            WebError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            WebError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::Unavailable(_) | WebError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a person may read.
    pub fn public_message(&self) -> String {
        match self {
            WebError::NotFound(m)
            | WebError::BadRequest(m)
            | WebError::Forbidden(m)
            | WebError::WrongRole(m)
            | WebError::Conflict(m)
            | WebError::Busy(m)
            | WebError::UnsupportedMediaType(m) => m.clone(),
            WebError::Invalid(fields) => {
                let said: Vec<&str> = fields.iter().map(|f| f.message.as_str()).collect();
                format!("提交的内容有误，请按提示修改：{}", said.join("；"))
            }
            WebError::TooLarge { draft_kept: true } => "提交的内容太长（超过 64 KB），没有保存。请返回上一页，删减后再提交（浏览器开着脚本时，您填写的内容仍在本机草稿中）。".into(),
            WebError::TooLarge { draft_kept: false } => "提交的内容太长（超过 64 KB），没有保存。请返回上一页，删减后再提交。".into(),
            WebError::BodyTimedOut => "提交超时：内容没有在限定时间内传完，请检查网络后重新提交。".into(),
            WebError::TooMany => "提交太频繁，请稍候一分钟再试。".into(),
            WebError::Unavailable(_) => "系统暂时无法保存，您的内容没有丢失，请稍后再提交。".into(),
            WebError::Internal(_) => "系统出错了，请稍后再试。".into(),
        }
    }

    fn log(&self) {
        match self {
            WebError::Internal(d) => tracing::error!(detail = %d, "internal error"),
            WebError::Unavailable(d) => tracing::warn!(detail = %d, "storage unavailable"),
            _ => {}
        }
    }

    /// The JSON form, for the API.
    pub fn into_json(self) -> Response {
        self.log();
        #[derive(Serialize)]
        struct Body {
            error: String,
            fields: Vec<FieldError>,
        }
        let status = self.status();
        let fields = match &self {
            WebError::Invalid(f) => f.clone(),
            _ => Vec::new(),
        };
        let mut r = (status, Json(Body { error: self.public_message(), fields })).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("30"));
        }
        r
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        // A staff page's error leads back to the page it was sent from (a form refused on the inbox).
        let back = matches!(self, WebError::WrongRole(_)).then(|| "/w".to_owned()).or_else(way_back);
        let page = super::pages::MessagePage {
            title: "出错了".into(),
            message: self.public_message(),
            back,
            head: None,
            kept: typed_kept(),
        };
        let mut r = (status, Html(page.render_string())).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            r.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("30"));
        }
        r
    }
}

/// What a staff request's error page needs from the request: the page it came from, and the text fields
/// its form carried (shown back to copy: a problem merged away meanwhile, a full disk).
struct RequestPage {
    back: std::sync::Mutex<Option<String>>,
    typed: std::sync::Mutex<Vec<(String, String)>>,
}

tokio::task_local! {
    static REQUEST_PAGE: RequestPage;
}

/// Keeps the staff page a request came from, while it runs, for [`WebError`]'s page.
pub async fn remember_way_back(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let referer = req.headers().get(axum::http::header::REFERER).and_then(|v| v.to_str().ok());
    // Only the path of a workspace page: the link can lead nowhere but this site's own pages.
    let page = referer
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .and_then(|u| u.path_and_query().and_then(|p| super::auth::page_to_return_to(p.as_str())));
    REQUEST_PAGE
        .scope(RequestPage { back: std::sync::Mutex::new(page), typed: Default::default() }, next.run(req))
        .await
}

/// The staff page the current request came from, if it is one a link can lead back to.
pub(crate) fn way_back() -> Option<String> {
    REQUEST_PAGE.try_with(|p| p.back.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()).ok().flatten()
}

/// Makes the error page lead to `page` instead: the page the request came from is gone (a problem merged
/// away meanwhile).
pub(crate) fn lead_back_to(page: &str) {
    let _outside_a_staff_request = REQUEST_PAGE.try_with(|p| {
        *p.back.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(page.to_owned());
    });
}

/// Keeps the text fields (label, text) a staff form carried, for an error page to show back.
pub(crate) fn keep_typed(fields: Vec<(String, String)>) {
    let _outside_a_staff_request = REQUEST_PAGE.try_with(|p| {
        *p.typed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = fields;
    });
}

fn typed_kept() -> Vec<(String, String)> {
    let kept = REQUEST_PAGE.try_with(|p| p.typed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone());
    kept.unwrap_or_default()
}

/// A JSON API error: the same errors, rendered as JSON.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}
