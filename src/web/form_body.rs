//! A citizen's form body, as the (name, value) pairs it holds, in order. The form page posts
//! `multipart/form-data` (see [`multipart_pairs`]): Chinese goes over the wire as its own UTF-8 bytes, a
//! third of its percent-encoded length, which matters on a phone's connection.
//! `application/x-www-form-urlencoded` (see [`form_pairs`]) is still read, for pages opened before the
//! change and for clients that post it.
//!
//! Both are decoded here rather than by a general crate: a submission's body is several KB of text and
//! decoding it was the largest cost of a submission in the request handler (`multer`, built for streams
//! of any size, took about 8% of the server's CPU under load, mostly setting up its searches and header
//! maps for each part). The tests check both decoders against the crates (`serde_html_form`, `multer`).

use super::error::WebError;
use memchr::memmem;

/// A citizen's form body as its (name, value) pairs in order, with rejections as Chinese error pages (413
/// when over the body limit).
pub struct CitizenForm(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for CitizenForm {
    type Rejection = WebError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let unreadable = || WebError::BadRequest("提交的内容无法识别，请刷新页面后重试。".into());
        let content_type =
            req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let (essence, params) = content_type.split_once(';').unwrap_or((content_type, ""));
        let essence = essence.trim();
        let boundary = if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            None
        } else if essence.eq_ignore_ascii_case("multipart/form-data") {
            Some(boundary(params).ok_or_else(unreadable)?.to_owned())
        } else {
            return Err(unreadable());
        };
        // Text that is not UTF-8 would be stored with U+FFFD for every character it could not read.
        let not_utf8 = || {
            WebError::UnsupportedMediaType(
                "提交的内容不是 UTF-8 编码的文字，无法保存。请用浏览器打开表单页面后重新提交。".into(),
            )
        };
        if charset(params).is_some_and(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8")) {
            return Err(not_utf8());
        }
        let body = match bytes::Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(WebError::TooLarge),
            Err(_) => return Err(unreadable()),
        };
        match boundary {
            None => form_pairs_utf8(&body).map(CitizenForm).ok_or_else(not_utf8),
            // A form of text fields only: the whole body is UTF-8 (part headers are ASCII).
            Some(_) if simdutf8::basic::from_utf8(&body).is_err() => Err(not_utf8()),
            Some(boundary) => multipart_pairs(&body, &boundary).map(CitizenForm).ok_or_else(unreadable),
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

/// The `boundary` parameter of a multipart content type's parameters (`; boundary=…`), unquoted: 1 to 70
/// characters (RFC 2046).
fn boundary(params: &str) -> Option<&str> {
    let value = params.split(';').find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim())
    })?;
    let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
    (1..=70).contains(&value.len()).then_some(value)
}

/// The (name, value) pairs of a `multipart/form-data` body (RFC 7578) with `boundary`, in order; `None`
/// when it is not well-formed: no opening or closing delimiter, a part's headers not ended by an empty
/// line or not `Name: value` lines. A part without a `name` in its `Content-Disposition` is skipped; a
/// part with a file name is read as text like any other (the form has no file fields: whatever such a
/// part holds goes through the answers' validation as typed text would). Values that are not UTF-8 get
/// U+FFFD for their bad bytes, as in [`form_pairs`].
pub fn multipart_pairs(body: &[u8], boundary: &str) -> Option<Vec<(String, String)>> {
    // The blank line that ends a part's headers, searched for with one searcher built once: building
    // one for every part (`memmem::find`) was about 2% of the CPU time of a request under load.
    static HEADERS_END: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new(b"\r\n\r\n"));
    // Every delimiter but the first follows a line break; the first may also open the body.
    let delimiter = [b"\r\n--", boundary.as_bytes()].concat();
    let next_delimiter = memmem::Finder::new(&delimiter);
    let mut at = if body.starts_with(&delimiter[2..]) {
        delimiter.len() - 2
    } else {
        next_delimiter.find(body)? + delimiter.len()
    };
    let mut pairs = Vec::new();
    loop {
        let rest = &body[at..];
        if rest.starts_with(b"--") {
            // The close delimiter; what follows it is an epilogue, ignored.
            return Some(pairs);
        }
        // Transport padding (spaces or tabs) may follow a delimiter before its line break.
        let padding = rest.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        let part = rest[padding..].strip_prefix(b"\r\n")?;
        let (headers, value_at) = if part.starts_with(b"\r\n") {
            (&part[..0], 2)
        } else {
            let end = HEADERS_END.find(part)?;
            (&part[..end], end + 4)
        };
        let value_len = next_delimiter.find(&part[value_at..])?;
        if let Some(name) = part_name(headers)? {
            pairs.push((name, text(&part[value_at..value_at + value_len])));
        }
        at = body.len() - part.len() + value_at + value_len + delimiter.len();
    }
}

/// The `name` of a part from its header lines: `Some(None)` when it has none, `None` when a line is not a
/// header.
fn part_name(headers: &[u8]) -> Option<Option<String>> {
    let mut name = None;
    for line in headers.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = memchr::memchr(b':', line)?;
        if line[..colon].eq_ignore_ascii_case(b"content-disposition") {
            name = disposition_name(&line[colon + 1..]);
        }
    }
    Some(name)
}

/// The `name` parameter of a `Content-Disposition: form-data; name="…"` value: a quoted string (in which
/// `\"` stands for a quote) or a bare token. Names that are not UTF-8 count as none.
fn disposition_name(value: &[u8]) -> Option<String> {
    let mut rest = value;
    while let Some(semicolon) = memchr::memchr(b';', rest) {
        rest = rest[semicolon + 1..].trim_ascii_start();
        let eq = memchr::memchr(b'=', rest)?;
        let is_name = rest[..eq].trim_ascii().eq_ignore_ascii_case(b"name");
        let after = rest[eq + 1..].trim_ascii_start();
        let (raw, len) = match after.strip_prefix(b"\"") {
            Some(quoted) => {
                let mut end = 0;
                loop {
                    end += memchr::memchr(b'"', &quoted[end..])?;
                    if end == 0 || quoted[end - 1] != b'\\' {
                        break;
                    }
                    end += 1;
                }
                (&quoted[..end], end + 2)
            }
            None => {
                let end = memchr::memchr2(b';', b' ', after).unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        if is_name {
            let name = std::str::from_utf8(raw).ok()?;
            return Some(if name.contains("\\\"") { name.replace("\\\"", "\"") } else { name.to_owned() });
        }
        rest = &after[len..];
    }
    None
}

/// `bytes` as text, with U+FFFD for bytes that are not UTF-8. Checked with `simdutf8`, which checks Chinese
/// text many bytes at a time (the standard library's check goes about a character at a time: it was 2%
/// of the server's CPU).
fn text(bytes: &[u8]) -> String {
    simdutf8::basic::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes).into_owned(), str::to_owned)
}

#[cfg(test)]
fn utf8_lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The (name, value) pairs of an `application/x-www-form-urlencoded` body, decoded exactly as the
/// `form_urlencoded` crate (and so `serde_html_form`) does: pairs split on `&`, empty ones skipped, the
/// name ending at the first `=`; `+` is a space, `%` with two hex digits a byte and any other `%` itself;
/// bytes that are not UTF-8 become U+FFFD. One pass per component instead of three.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    pairs_decoded(body, |c| Some(decode_component(c).unwrap_or_else(|lossy| lossy))).unwrap_or_default()
}

/// [`form_pairs`], or `None` when a name or value is not UTF-8 once percent-decoded.
pub(crate) fn form_pairs_utf8(body: &[u8]) -> Option<Vec<(String, String)>> {
    pairs_decoded(body, |c| decode_component(c).ok())
}

fn pairs_decoded(body: &[u8], decode: impl Fn(&[u8]) -> Option<String>) -> Option<Vec<(String, String)>> {
    // memchr finds the separators many bytes at a time: a submission's body is several KB long.
    let mut pairs = Vec::new();
    let mut start = 0;
    for end in memchr::memchr_iter(b'&', body).chain(std::iter::once(body.len())) {
        let pair = &body[start..end];
        start = end + 1;
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b'=', pair) {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Some(pairs)
}

/// The value of each hex digit; 0xFF for every other byte.
const HEX: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            d @ b'0'..=b'9' => d - b'0',
            l @ b'a'..=b'f' => l - b'a' + 10,
            u @ b'A'..=b'F' => u - b'A' + 10,
            _ => 0xFF,
        };
        b += 1;
    }
    table
};

/// A percent-decoded component; `Err` with U+FFFD for each byte that is not UTF-8 when it is not.
fn decode_component(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut rest = raw;
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        out.push(match b {
            b'%' => match tail {
                [high, low, after @ ..] if HEX[usize::from(*high)] | HEX[usize::from(*low)] < 16 => {
                    rest = after;
                    HEX[usize::from(*high)] << 4 | HEX[usize::from(*low)]
                }
                _ => b'%',
            },
            b'+' => b' ',
            b => b,
        });
    }
    String::from_utf8(out).map_err(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::{form_pairs, multipart_pairs};

    /// Any bytes at all, weighted towards what a form body is made of.
    fn body() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"%".to_vec()),
            Just(b"+".to_vec()),
            Just(b"&".to_vec()),
            Just(b"=".to_vec()),
            "%[0-9a-fA-F]{2}".prop_map(String::into_bytes),
            "%[0-9a-zA-Z%]{0,2}".prop_map(String::into_bytes),
            "[a-z_]{1,6}".prop_map(String::into_bytes),
            "[意见建议\\u{1F600}]{1,3}".prop_map(String::into_bytes),
            any::<u8>().prop_map(|b| vec![b]),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn pairs_are_decoded_as_serde_html_form_decodes_them(body in body()) {
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

    /// What `multer` makes of a multipart body: its pairs, in order, or `None` when it refuses it.
    fn multer_pairs(body: Vec<u8>, boundary: &str) -> Option<Vec<(String, String)>> {
        let whole =
            futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes::Bytes::from(body)) });
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let mut parts = multer::Multipart::new(whole, boundary);
            let mut pairs = Vec::new();
            while let Some(part) = parts.next_field().await.ok()? {
                let Some(name) = part.name().map(str::to_owned) else { continue };
                pairs.push((name, super::utf8_lossy(part.bytes().await.ok()?.to_vec())));
            }
            Some(pairs)
        })
    }

    fn pairs() -> impl proptest::strategy::Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(("[a-z_;= \"]{1,8}", "[ a-z意见建议\u{1F600}\r\n\"%&=+-]{0,40}"), 0..8)
    }

    proptest::proptest! {
        #[test]
        fn multipart_pairs_are_what_the_browser_sent_and_what_multer_reads(pairs in pairs()) {
            let boundary = "----WebKitFormBoundaryq2Zx8HcYf0aTlN7d";
            let body = browser_multipart(boundary, &pairs);
            let browser_names: Vec<(String, String)> =
                pairs.iter().map(|(n, v)| (n.replace('"', "%22"), v.clone())).collect();
            proptest::prop_assert_eq!(multipart_pairs(&body, boundary), Some(browser_names));
            proptest::prop_assert_eq!(multipart_pairs(&body, boundary), multer_pairs(body, boundary));
        }

        /// Cut short, or with bytes changed, a body is refused or read, never a panic; whatever is read
        /// from a body cut short is also what `multer` reads.
        #[test]
        fn damaged_multipart_is_refused_or_read_like_multer(
            pairs in pairs(), cut in proptest::num::usize::ANY, flips in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 0..4)
        ) {
            let boundary = "b0undary";
            let mut body = browser_multipart(boundary, &pairs);
            body.truncate(cut % (body.len() + 1));
            let ours = multipart_pairs(&body, boundary);
            if ours.is_some() {
                proptest::prop_assert_eq!(ours, multer_pairs(body.clone(), boundary));
            }
            for (at, byte) in flips {
                if !body.is_empty() {
                    let at = at % body.len();
                    body[at] = byte;
                }
            }
            let _ = multipart_pairs(&body, boundary);
        }
    }

    #[test]
    fn broken_multipart_is_refused_and_bad_utf8_is_replaced() {
        let boundary = "b0undary";
        let good = browser_multipart(boundary, &[("q_team".into(), "意见".into())]);
        assert!(multipart_pairs(&good[..good.len() - 14], boundary).is_none(), "cut before its closing boundary");
        assert!(multipart_pairs(b"no boundary here", boundary).is_none());
        let no_headers_end = b"--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n--b0undary--";
        assert!(multipart_pairs(no_headers_end, boundary).is_none());
        let mut bad = good.clone();
        let at = bad.windows(3).position(|w| w == "意".as_bytes()).unwrap();
        bad[at] = 0xFF;
        let expect = [("q_team".to_owned(), "\u{FFFD}\u{FFFD}\u{FFFD}见".to_owned())];
        assert_eq!(multipart_pairs(&bad, boundary).unwrap(), expect);
        assert_eq!(multer_pairs(bad, boundary).unwrap(), expect);
    }

    #[test]
    fn names_quoted_escaped_bare_or_missing_and_a_preamble() {
        let body = b"preamble\r\n--b\r\ncontent-disposition: form-data; filename=\"x;y\"; NAME=\"a\\\"b\"\r\n\r\n1\r\n\
            --b \t\r\nContent-Type: text/plain\r\nContent-Disposition: form-data; name=bare\r\n\r\n2\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\n3\r\n--b\r\n\r\nno headers\r\n--b--\r\nepilogue";
        let expect = [("a\"b", "1"), ("bare", "2")].map(|(n, v)| (n.to_owned(), v.to_owned()));
        assert_eq!(multipart_pairs(body, "b").unwrap(), expect);
        assert_eq!(super::boundary(" boundary=\"----x\"; charset=utf-8"), Some("----x"));
        assert_eq!(super::boundary(" charset=utf-8"), None);
        assert_eq!(super::boundary(&format!("boundary={}", "x".repeat(71))), None);
    }

    #[test]
    fn a_submission_decodes() {
        let body = b"_key=k1&q_team=%E6%84%8F%E8%A7%81+%E5%BB%BA%E8%AE%AE&&q_x&q_y=50%25%zz%e6=";
        let pairs = form_pairs(body);
        let expect = [("_key", "k1"), ("q_team", "意见 建议"), ("q_x", ""), ("q_y", "50%%zz\u{FFFD}=")];
        assert_eq!(pairs, expect.map(|(n, v)| (n.to_owned(), v.to_owned())));
    }
}
