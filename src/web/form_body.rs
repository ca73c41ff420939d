//! A citizen's form body, as the (name, value) pairs it holds, in order. The form page posts
//! `multipart/form-data`: Chinese goes over the wire as its own UTF-8 bytes, a third of its
//! percent-encoded length, which matters on a phone's connection. `application/x-www-form-urlencoded` is
//! still read, for pages opened before the change and for clients that post it.
//!
//! The crates decode (`multer`, `form_urlencoded`); this module refuses what is not UTF-8 text, which
//! would otherwise be stored with U+FFFD in place of every character it could not read.

use super::error::WebError;

/// A citizen's form body as its (name, value) pairs in order, with rejections as Chinese error pages (413
/// when over the body limit).
pub struct CitizenForm(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for CitizenForm {
    type Rejection = WebError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let unreadable = || WebError::BadRequest("提交的内容无法识别，请刷新页面后重试。".into());
        let not_utf8 = || {
            WebError::UnsupportedMediaType(
                "提交的内容不是 UTF-8 编码的文字，无法保存。请用浏览器打开表单页面后重新提交。".into(),
            )
        };
        let content_type =
            req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let (essence, params) = content_type.split_once(';').unwrap_or((content_type, ""));
        let essence = essence.trim();
        let boundary = if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            None
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            // Rebuilt without the space RFC 9110 allows before `;`, which `multer` does not read.
            Some(multer::parse_boundary(format!("multipart/form-data;{params}")).map_err(|_| unreadable())?)
        } else {
            return Err(unreadable());
        };
        if charset(params).is_some_and(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8")) {
            return Err(not_utf8());
        }
        // Only the opinion forms keep a draft on the phone (form.js); /gongkai's rating has none.
        let draft_kept = req.uri().path().starts_with("/f/");
        let body = match bytes::Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(e) => {
                return Err(match crate::web::clean::body_refused(&e) {
                    Some(WebError::TooLarge { .. }) => WebError::TooLarge { draft_kept },
                    refused => refused.unwrap_or_else(unreadable),
                });
            }
        };
        match boundary {
            None => form_pairs_utf8(&body).map(CitizenForm).ok_or_else(not_utf8),
            // A form of text fields only: the whole body is UTF-8 (part headers are ASCII).
            Some(_) if std::str::from_utf8(&body).is_err() => Err(not_utf8()),
            Some(boundary) => multipart_pairs(body, boundary).await.map(CitizenForm).ok_or_else(unreadable),
        }
    }
}

/// The `charset` parameter of a content type's parameters, unquoted, if given.
pub(crate) fn charset(params: &str) -> Option<&str> {
    params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"'))
    })
}

/// The (name, value) pairs of a `multipart/form-data` body as `multer` reads them, in order; `None` when
/// it refuses the body. A part without a name is skipped; a part with a file name is read as text like any
/// other (the form has no file fields: what such a part holds goes through the answers' validation as
/// typed text would). Bytes that are not UTF-8 become U+FFFD (the extractor refuses such bodies first).
async fn multipart_pairs(body: bytes::Bytes, boundary: String) -> Option<Vec<(String, String)>> {
    let whole = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut parts = multer::Multipart::new(whole, boundary);
    let mut pairs = Vec::new();
    while let Some(part) = parts.next_field().await.ok()? {
        let Some(name) = part.name().map(str::to_owned) else { continue };
        let value = part.bytes().await.ok()?;
        pairs.push((name, String::from_utf8_lossy(&value).into_owned()));
    }
    Some(pairs)
}

/// The (name, value) pairs of an `application/x-www-form-urlencoded` body (a form body, a query string),
/// as `form_urlencoded` decodes them: bytes that are not UTF-8 become U+FFFD.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// [`form_pairs`], or `None` when a name or value is not UTF-8 once percent-decoded. Checked on the whole
/// body decoded at once: the separators (`&`, `=`) are ASCII, which no UTF-8 sequence holds, so the whole
/// is UTF-8 exactly when every piece is.
pub(crate) fn form_pairs_utf8(body: &[u8]) -> Option<Vec<(String, String)>> {
    percent_encoding::percent_decode(body).decode_utf8().ok()?;
    Some(form_pairs(body))
}

#[cfg(test)]
mod tests {
    use super::{form_pairs, form_pairs_utf8, multipart_pairs};

    /// Any bytes at all, weighted towards what a form body is made of.
    fn body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"%".to_vec()),
            Just(b"+".to_vec()),
            Just(b"&".to_vec()),
            Just(b"=".to_vec()),
            "%[0-9a-fA-F]{2}".prop_map(String::into_bytes),
            "%[eE][0-9a-fA-F]".prop_map(String::into_bytes),
            "[a-z_]{1,6}".prop_map(String::into_bytes),
            "[意见建议\\u{1F600}]{1,3}".prop_map(String::into_bytes),
            any::<u8>().prop_map(|b| vec![b]),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// The whole-body check refuses a body exactly when one of its names or values, decoded alone, is
        /// not UTF-8; what it accepts is what `serde_html_form` (the staff forms' reader) reads.
        #[test]
        fn a_body_is_refused_exactly_when_a_piece_of_it_is_not_utf8(body in body()) {
            let piece_not_utf8 = body
                .split(|&b| b == b'&')
                .flat_map(|pair| pair.splitn(2, |&b| b == b'='))
                .any(|piece| percent_encoding::percent_decode(piece).decode_utf8().is_err());
            proptest::prop_assert_eq!(form_pairs_utf8(&body).is_none(), piece_not_utf8);
            let reference: Vec<(String, String)> = serde_html_form::from_bytes(&body).unwrap();
            proptest::prop_assert_eq!(form_pairs(&body), reference);
        }
    }

    /// A `multipart/form-data` body as a browser builds it for text fields (WHATWG HTML, "multipart/
    /// form-data encoding algorithm"): `"`, CR and LF in names escaped, values as their UTF-8 bytes.
    fn browser_multipart(boundary: &str, pairs: &[(String, String)]) -> Vec<u8> {
        let mut body = String::new();
        for (name, value) in pairs {
            let name = name.replace('"', "%22").replace('\r', "%0D").replace('\n', "%0A");
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        body.into_bytes()
    }

    fn read(body: Vec<u8>, boundary: &str) -> Option<Vec<(String, String)>> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(multipart_pairs(body.into(), boundary.to_owned()))
    }

    fn pairs() -> impl proptest::strategy::Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-z_;= \"]{1,8}", "[ a-z意见建议\u{1F600}\r\n\"%&=+-]{0,40}"), 0..8)
    }

    proptest::proptest! {
        /// Whatever a browser sends is read back as it was typed, in order.
        #[test]
        fn multipart_pairs_are_what_the_browser_sent(pairs in pairs()) {
            let boundary = "----WebKitFormBoundaryq2Zx8HcYf0aTlN7d";
            let body = browser_multipart(boundary, &pairs);
            let browser_names: Vec<(String, String)> =
                pairs.iter().map(|(n, v)| (n.replace('"', "%22"), v.clone())).collect();
            proptest::prop_assert_eq!(read(body, boundary), Some(browser_names));
        }
    }

    #[test]
    fn a_multipart_body_cut_short_is_refused() {
        let boundary = "b0undary";
        let good = browser_multipart(boundary, &[("q_team".into(), "意见".into())]);
        assert!(read(good[..good.len() - 14].to_vec(), boundary).is_none(), "cut before its closing boundary");
        assert!(read(b"no boundary here".to_vec(), boundary).is_none());
    }

    #[test]
    fn a_submission_decodes() {
        let body = b"_key=k1&q_team=%E6%84%8F%E8%A7%81+%E5%BB%BA%E8%AE%AE&&q_x&q_y=50%25%zz%e6=";
        let pairs = form_pairs(body);
        let expect = [("_key", "k1"), ("q_team", "意见 建议"), ("q_x", ""), ("q_y", "50%%zz\u{FFFD}=")];
        assert_eq!(pairs, expect.map(|(n, v)| (n.to_owned(), v.to_owned())));
        assert_eq!(form_pairs_utf8(body), None, "%e6 alone is not UTF-8");
    }

    /// RFC 9110 allows spaces before a parameter's `;`; `multer` alone refused them.
    #[tokio::test]
    async fn a_multipart_content_type_with_a_space_before_its_boundary_is_read() {
        use axum::extract::FromRequest;
        let body = browser_multipart("abc", &[("q_team".into(), "意见".into())]);
        let request = axum::http::Request::builder()
            .method("POST")
            .header("content-type", "multipart/form-data ; boundary=abc")
            .body(axum::body::Body::from(body))
            .unwrap();
        let Ok(super::CitizenForm(pairs)) = super::CitizenForm::from_request(request, &()).await else {
            panic!("refused")
        };
        assert_eq!(pairs, [("q_team".to_owned(), "意见".to_owned())]);
    }
}
