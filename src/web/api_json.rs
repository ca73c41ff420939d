//! The API's JSON body: `application/json` in UTF-8 only, no key twice in one object (serde would keep
//! the last silently), and every refusal a JSON 4xx naming the field and the reason in Chinese.

use super::error::{ApiError, WebError};
use crate::domain::form::answers::FieldError;
use axum::extract::{FromRequest, Request};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;

/// A JSON body whose rejections (bad JSON, wrong content type, duplicate keys) come back as JSON 4xx errors.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        check_content_type(content_type.unwrap_or_default()).map_err(ApiError)?;
        let bytes = bytes::Bytes::from_request(req, state).await.map_err(|e| {
            ApiError(
                crate::web::clean::body_refused(&e).unwrap_or_else(|| WebError::BadRequest("请求体无法读取".into())),
            )
        })?;
        if let Some(key) = duplicate_key(&bytes) {
            return Err(ApiError(WebError::Invalid(vec![FieldError {
                field: key.clone(),
                message: format!("键“{key}”在同一个对象里出现了不止一次，请只给一个值。"),
            }])));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize::<_, T>(&mut de)
            .map_err(|e| ApiError(refusal(&e.path().to_string(), e.inner())))?;
        de.end().map_err(|e| ApiError(refusal("", &e)))?;
        Ok(ApiJson(value))
    }
}

/// Why a JSON body was refused, in Chinese and naming the member (`answers.team`), without serde's English
/// or the server's type names.
fn refusal(path: &str, e: &serde_json::Error) -> WebError {
    if e.to_string().starts_with("recursion limit exceeded") {
        return WebError::BadRequest("请求体的 JSON 嵌套太深（最多 128 层），请检查后重新发送。".into());
    }
    if e.classify() != serde_json::error::Category::Data {
        return WebError::BadRequest(format!(
            "请求体不是有效的 JSON（第 {} 行第 {} 列附近），请检查后重新发送。",
            e.line(),
            e.column()
        ));
    }
    let text = e.to_string();
    let named = |prefix: &str| text.strip_prefix(prefix).and_then(|t| t.split('`').next()).map(str::to_owned);
    let (field, message) = if let Some(key) = named("missing field `") {
        (key.clone(), format!("缺少“{key}”。"))
    } else if let Some(key) = named("unknown field `") {
        (key.clone(), format!("接口没有“{key}”这一项，请对照 /api/openapi.json。"))
    } else if path.starts_with("answers.") {
        (path.to_owned(), "回答应为文字、数字、选项代码的列表，或矩阵题的“行代码: 等级代码”对象。".to_owned())
    } else {
        let field = if path.is_empty() || path == "." { "body".to_owned() } else { path.to_owned() };
        (field, "值的类型不对（例如应为文字处给了数字、数组或 null），请对照 /api/openapi.json。".to_owned())
    };
    WebError::Invalid(vec![FieldError { field, message }])
}

/// Accepts `application/json` (or `…+json`), with no charset or UTF-8.
fn check_content_type(value: &str) -> Result<(), WebError> {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence != "application/json" && !(essence.starts_with("application/") && essence.ends_with("+json")) {
        return Err(WebError::BadRequest("Content-Type 必须是 application/json".into()));
    }
    for param in parts {
        let (name, charset) = param.split_once('=').unwrap_or((param, ""));
        let charset = charset.trim().trim_matches('"');
        if name.trim().eq_ignore_ascii_case("charset") && !charset.eq_ignore_ascii_case("utf-8") {
            let shown: String = charset.chars().filter(|c| c.is_ascii_graphic()).take(40).collect();
            return Err(WebError::UnsupportedMediaType(format!(
                "Content-Type：字符集只能是 UTF-8，收到的是“{shown}”。"
            )));
        }
    }
    Ok(())
}

/// The first key found twice in one object anywhere in `json`; `None` when there is none or when the
/// text is not JSON (the real parse then says why).
pub fn duplicate_key(json: &[u8]) -> Option<String> {
    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(json);
    let _ = Walk(&found).deserialize(&mut de);
    found.into_inner()
}

/// Walks any JSON value, noting the first duplicate key in `.0` and stopping there.
#[derive(Clone, Copy)]
struct Walk<'a>(&'a RefCell<Option<String>>);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                *self.0.borrow_mut() = Some(key);
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(self)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_in_any_object_is_found() {
        assert_eq!(duplicate_key(br#"{"answers":{"team":"a","team":"b"}}"#).as_deref(), Some("team"));
        assert_eq!(duplicate_key(br#"{"a":[{"x":1},{"y":{"m":1,"m":2}}]}"#).as_deref(), Some("m"));
        assert_eq!(duplicate_key(br#"{"answers":{"team":"a"},"answers":{}}"#).as_deref(), Some("answers"));
        assert_eq!(duplicate_key(br#"{"a":{"x":1},"b":{"x":1}}"#), None);
        assert_eq!(duplicate_key(b"not json"), None);
    }

    #[test]
    fn only_utf8_json_is_accepted() {
        assert!(check_content_type("application/json").is_ok());
        assert!(check_content_type("application/json; charset=UTF-8").is_ok());
        assert!(matches!(
            check_content_type("application/json; charset=latin1"),
            Err(WebError::UnsupportedMediaType(_))
        ));
        assert!(check_content_type("text/plain").is_err());
    }
}
