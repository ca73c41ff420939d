//! Text at the edge: every query parameter, path segment and staff form field is checked here before a
//! handler sees it. Control characters (NUL above all: PostgreSQL refuses it in text and SQLite's FTS5
//! reads it as the end of a query) and overlong values are refused with a 4xx naming the field.
//! Citizens' answers are not refused for them: `clean_text` drops control characters from opinions.

use super::error::WebError;
use super::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// Longest value of a field not listed in [`field_limit`], in characters.
pub const FIELD_MAX: usize = 200;

/// The longest value `name` may carry, in characters.
pub fn field_limit(name: &str) -> usize {
    match name {
        // A note on an opinion.
        "text" => super::workspace::tag::NOTE_MAX,
        // A search pasted from an opinion (the inbox searches its first 100 characters).
        "q" => 5 * FIELD_MAX,
        // The inbox filter as a query string (percent-encoded), carried by the bulk form; its parts are
        // checked again when it is read.
        "filter" => 60 * FIELD_MAX,
        // A problem's analysis, a measure's parts and its progress (问题清单, 整改台账).
        "description" | "root_cause" => crate::domain::problem::LONG_MAX,
        "action" | "target" | "evidence" => crate::domain::rectification::LONG_MAX,
        _ => FIELD_MAX,
    }
}

/// Whether `name` is a free-text field in which line breaks and tabs are allowed.
fn multiline(name: &str) -> bool {
    matches!(name, "text" | "description" | "root_cause" | "action" | "target" | "evidence")
}

/// The Chinese label of a staff form's text field, as its page shows it; `None` for choices, ids, tokens
/// and passwords (never shown back).
pub fn field_label(name: &str) -> Option<&'static str> {
    Some(match name {
        "title" => "标题",
        "description" => "问题描述",
        "root_cause" => "剖析根源与原因",
        "action" => "措施",
        "target" => "目标",
        "deadline" => "时限",
        "owner" => "责任",
        "on" => "进展日期",
        "evidence" => "进展情况与佐证材料",
        "text" => "备注",
        "label" => "说明",
        "display_name" => "姓名",
        "username" => "用户名",
        "keyword" | "word" => "关键词",
        _ => return None,
    })
}

/// How a message names field `name`: its label, or for fields not typed as text (a password, a filter, an
/// id) a Chinese name; an unknown name as it came (printable, at most 40 characters).
pub fn field_name(name: &str) -> String {
    let known = field_label(name).or(match name {
        "password" | "password2" => Some("密码"),
        "q" => Some("搜索"),
        "actor" => Some("操作人"),
        "unit" => Some("单位"),
        "category" => Some("身份"),
        "from" => Some("开始日期"),
        "to" => Some("结束日期"),
        "area" | "shown" | "suggested" => Some("领域"),
        "seen" => Some("页面版本"),
        "opinion" => Some("意见"),
        "at" => Some("批量修改时间"),
        "publish" => Some("公开"),
        "problem" => Some("问题"),
        "into" => Some("合并到"),
        "ids" => Some("所选意见"),
        "form" => Some("表单"),
        "page" | "before" => Some("翻页"),
        "state" | "status" => Some("状态"),
        "untagged" => Some("只看待归类"),
        "id" => Some("编号"),
        "op" => Some("操作"),
        "cause_type" => Some("原因类别"),
        "confirm" => Some("确认"),
        "format" => Some("格式"),
        "unprotected" => Some("完整数据"),
        "scope" => Some("范围"),
        "count" => Some("数量"),
        "upto" => Some("预览时的范围"),
        "percent" => Some("抽样比例"),
        "adjudicator" => Some("裁决人"),
        "preview" => Some("预览"),
        "token" => Some("链接"),
        "back" => Some("返回页面"),
        "linked" | "created" | "inline" | "done" | "issued" | "bulk" => Some("页面提示"),
        _ => None,
    });
    known.map_or_else(|| name.chars().filter(|c| !c.is_control()).take(40).collect(), str::to_owned)
}

/// Why a field's value is refused, in Chinese, naming it (by its label where it has one); `None` when it is
/// acceptable.
pub fn field_problem(name: &str, value: &str) -> Option<String> {
    let shown = field_name(name);
    if name.chars().any(char::is_control) || name.chars().count() > FIELD_MAX {
        return Some(format!("字段名 {shown} 无效"));
    }
    let line_break = |c: char| multiline(name) && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !line_break(c)) {
        return Some(format!("{shown}：含有不允许的控制字符"));
    }
    // A text people read (a label, a keyword, a note) must draw something, and not turn the text after it
    // around on another staff member's page (U+202E); ids, tokens and passwords are checked by their use.
    if field_label(name).is_some() {
        if !value.trim().is_empty() && crate::domain::text::is_blank(value) {
            return Some(format!("{shown}：只有看不见的字符，请填写文字"));
        }
        if value.chars().any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')) {
            return Some(format!("{shown}：含有改变文字方向的隐藏字符，请删去后再提交"));
        }
    }
    let limit = field_limit(name);
    let n = value.chars().count();
    (n > limit).then(|| format!("{shown}：太长（{n} 个字符，最多 {limit} 个）"))
}

/// Checks every (name, value) pair.
///
/// # Errors
/// `Invalid` naming the first field refused and why.
pub fn check_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<(), WebError> {
    for (name, value) in pairs {
        if let Some(message) = field_problem(name, value) {
            return Err(WebError::Invalid(vec![crate::domain::form::answers::FieldError {
                field: name.chars().filter(|c| !c.is_control()).take(40).collect(),
                message,
            }]));
        }
    }
    Ok(())
}

/// Checks a `application/x-www-form-urlencoded` string (a query string, a form body).
///
/// # Errors
/// As [`check_pairs`].
pub fn check_urlencoded(raw: &[u8]) -> Result<(), WebError> {
    let pairs: Vec<(String, String)> = super::form_body::form_pairs(raw);
    check_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
}

/// Middleware for every route: refuses a path or query string with control characters, characters that
/// are not UTF-8 once decoded, or overlong values, before any handler runs.
pub async fn refuse_hostile_uri(req: Request, next: Next) -> Response {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8();
    let bad_path = match &path {
        Ok(p) => p.chars().any(char::is_control) || p.chars().count() > 4 * FIELD_MAX,
        Err(_) => true,
    };
    // The API's clients read JSON, whatever went wrong.
    let api = req.uri().path().starts_with("/api/");
    let answer = |e: WebError| if api { e.into_json() } else { e.into_response() };
    if bad_path {
        return answer(WebError::BadRequest("地址中含有不允许的字符，请检查链接是否完整。".into()));
    }
    if let Some(query) = req.uri().query() {
        // WeChat adds its own parameters to a forwarded citizen link (`from`, `nsukey`, hundreds of
        // characters): those pages read only these, and the rest must not turn the link into an error.
        let path = req.uri().path();
        let citizen = path.starts_with("/f/") || path == "/gongkai" || path.starts_with("/gongkai/");
        // A value that is not UTF-8 once decoded is refused, not read with replacement characters (on
        // citizens' pages a token so garbled is refused by its signature).
        let mut pairs = match super::form_body::form_pairs_utf8(query.as_bytes()) {
            Some(pairs) => pairs,
            None if citizen => super::form_body::form_pairs(query.as_bytes()),
            None => return answer(WebError::BadRequest("地址中含有不允许的字符，请检查链接是否完整。".into())),
        };
        if citizen {
            pairs.retain(|(n, _)| CITIZEN_PARAMS.contains(&n.as_str()));
        }
        if let Err(e) = check_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))) {
            // A citizen opened a link and submitted nothing: "提交的内容有误：t：…" told them nothing they could do.
            if citizen {
                return answer(WebError::BadRequest("链接不完整或有误，请重新打开发放单位给的链接或二维码。".into()));
            }
            return answer(e);
        }
    }
    next.run(req).await
}

/// The query parameters citizens' pages read: the link token, and /gongkai's rated note and receipt.
const CITIZEN_PARAMS: [&str; 3] = ["t", "rated", "r"];

/// `path` when it is safe to send back in a `Location` header: a path on this site under `prefix`,
/// with no `//` or backslash (which browsers may read as another host) and no control characters
/// (which cannot go in a header at all).
pub fn local_path(path: &str, prefix: &str) -> Option<String> {
    let safe = path.starts_with(prefix)
        && prefix.starts_with('/')
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && axum::http::HeaderValue::from_str(path).is_ok();
    safe.then(|| path.to_owned())
}

/// A form body from someone not signed in (sign-in, first set-up): every field checked as above before it
/// is deserialised into `T`.
pub struct CheckedForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CheckedForm<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let bytes = Bytes::from_request(req, state).await.map_err(unreadable_body)?;
        check_urlencoded(&bytes)?;
        serde_html_form::from_bytes::<T>(&bytes).map(CheckedForm).map_err(not_understood)
    }
}

/// A body that could not be read: 413 over the limit, otherwise 400 asking for a fresh page.
pub fn unreadable_body(e: axum::extract::rejection::BytesRejection) -> WebError {
    body_refused(&e).unwrap_or_else(|| WebError::BadRequest("请求体无法读取，请刷新页面后重试。".into()))
}

/// What a body that could not be read says of itself: 413 over the size limit, 408 when it did not arrive
/// within the body time limit (`RequestBodyDeadlineLayer`); `None` for anything else.
pub fn body_refused(e: &axum::extract::rejection::BytesRejection) -> Option<WebError> {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return Some(WebError::TooLarge { draft_kept: false });
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return Some(WebError::BodyTimedOut);
        }
        cause = c.source();
    }
    None
}

/// A staff form serde could not read: its message is English and names no field, so the page says what it
/// can in Chinese and the detail goes to the debug log.
pub fn not_understood(e: serde_html_form::de::Error) -> WebError {
    tracing::debug!(error = %e, "staff form not understood");
    // serde names a missing field ("missing field `display_name`"): the page names it too.
    let text = e.to_string();
    let missing = text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match missing {
        Some(field) => {
            let name = field_name(field);
            WebError::BadRequest(format!("表单内容有误：缺少“{name}”一栏，请刷新页面后重新填写。"))
        }
        None => WebError::BadRequest(NOT_UNDERSTOOD.into()),
    }
}

/// Why a staff form was not understood, naming the field (`field`, given `times` times) where serde could
/// tell which.
pub fn field_not_understood(field: &str, times: usize) -> String {
    let name = field_name(field);
    if field.is_empty() || field == "." {
        NOT_UNDERSTOOD.to_owned()
    } else if times > 1 {
        format!("表单内容有误：“{name}”一栏出现了不止一次。")
    } else {
        format!("表单内容有误：“{name}”一栏的值无法识别（例如应填数字处填了别的内容）。")
    }
}

/// What [`not_understood`] says.
pub const NOT_UNDERSTOOD: &str =
    "表单内容有误：有一栏的值无法识别（例如应填数字处填了别的内容，或同一栏出现了两次），请刷新页面后重新填写。";

/// Checks the body of a signed-in user's form (used by `CsrfForm`): UTF-8 text (declared and actual) with
/// every field acceptable.
///
/// # Errors
/// The refusal's status and its message in Chinese, naming the field.
pub fn check_staff_body(content_type: &str, bytes: &[u8]) -> Result<(), (axum::http::StatusCode, String)> {
    use axum::http::StatusCode;
    let not_utf8 = || {
        let m = "提交的内容不是 UTF-8 编码的文字，没有保存（否则无法识别的字会被替换成乱码）。请用浏览器打开页面后重新提交。";
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, m.to_owned())
    };
    let (_, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    if super::form_body::charset(params)
        .is_some_and(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8"))
    {
        return Err(not_utf8());
    }
    let pairs = super::form_body::form_pairs_utf8(bytes).ok_or_else(not_utf8)?;
    match check_pairs(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str()))) {
        Err(WebError::Invalid(errors)) => {
            let said: Vec<String> = errors.into_iter().map(|e| e.message).collect();
            Err((StatusCode::UNPROCESSABLE_ENTITY, said.join("；")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_without_one_of_its_fields_is_refused_naming_it() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Setup {
            username: String,
            display_name: String,
        }
        let e = serde_html_form::from_str::<Setup>("username=a").unwrap_err();
        let WebError::BadRequest(said) = not_understood(e) else { panic!("not a 400") };
        assert_eq!(said, "表单内容有误：缺少“姓名”一栏，请刷新页面后重新填写。");
    }

    #[test]
    fn control_characters_and_overlong_values_are_named() {
        assert_eq!(field_problem("username", "a\0b").unwrap(), "用户名：含有不允许的控制字符");
        assert_eq!(field_problem("q", "a\0b").unwrap(), "搜索：含有不允许的控制字符");
        assert!(field_problem("username", &"x".repeat(60_000)).unwrap().starts_with("用户名：太长（60000 个字符"));
        assert!(field_problem("back", "/w/inbox\r\nX: y").is_some());
        assert!(field_problem("text", "第一行\r\n第二行").is_none());
        assert!(field_problem("text", "a\0").is_some());
        assert!(field_problem("label", "基层科 \u{200B}").is_none());
        assert_eq!(
            field_problem("label", "\u{202E}科层基").unwrap(),
            "说明：含有改变文字方向的隐藏字符，请删去后再提交"
        );
        for blank in ["\u{200B}", "\u{FEFF}", " \u{200B}\u{2060} "] {
            assert_eq!(field_problem("word", blank).unwrap(), "关键词：只有看不见的字符，请填写文字");
            assert_eq!(field_problem("text", blank).unwrap(), "备注：只有看不见的字符，请填写文字");
        }
        assert!(field_problem("text", " ").is_none(), "left empty: the form says what it needs");
        assert!(field_problem("password", "\u{200B}").is_none(), "not a text people read");
        assert!(check_urlencoded(b"q=a%00bcd").is_err());
        assert_eq!(local_path("/w/inbox?q=1", "/w/").as_deref(), Some("/w/inbox?q=1"));
        for bad in
            ["/w/inbox\r\nSet-Cookie: x=1", "/w/inbox\n", "//evil.example/w/", "/w/\\evil", "https://x/w/", "/w/\u{7f}"]
        {
            assert_eq!(local_path(bad, "/w/"), None, "{bad:?}");
        }
        assert!(check_urlencoded(b"q=%E5%9F%BA%E5%B1%82&unit=").is_ok());
    }
}
