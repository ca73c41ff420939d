//! Small extractors. The client address is used only in memory, by the rate limiters; it is never
//! stored or logged.

use super::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The client's address: the peer's, or, when the peer is a trusted reverse proxy, the address that proxy
/// reports in `X-Forwarded-For` (the rightmost one that is not itself a trusted proxy; a client can
/// prepend anything, but not what the proxies append). `None` when the server runs without connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let trusted = &state.settings.trusted_proxies;
        let Some(peer) = peer.filter(|p| trusted.contains(p)) else { return Ok(ClientIp(peer)) };
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let client = forwarded
            .iter()
            .rev()
            .map(|a| a.parse::<IpAddr>().ok())
            .find(|a| a.is_none_or(|a| !trusted.contains(&a)))
            .flatten();
        // A missing or garbled header leaves the proxy's own address: one shared bucket, never none.
        Ok(ClientIp(Some(client.unwrap_or(peer))))
    }
}

/// A urlencoded form body as its (name, value) pairs in order, with rejections as Chinese error pages (413
/// when over the body limit). Decoded by [`form_pairs`]: a citizen's submission is mostly percent-encoded
/// Chinese, and decoding it was the largest cost of a submission in the request handler.
pub struct CitizenForm(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for CitizenForm {
    type Rejection = super::error::WebError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let unreadable = || super::error::WebError::BadRequest("提交的内容无法识别，请刷新页面后重试。".into());
        let urlencoded = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !urlencoded {
            return Err(unreadable());
        }
        match bytes::Bytes::from_request(req, state).await {
            Ok(body) => Ok(CitizenForm(form_pairs(&body))),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(super::error::WebError::TooLarge),
            Err(_) => Err(unreadable()),
        }
    }
}

/// The (name, value) pairs of an `application/x-www-form-urlencoded` body, decoded exactly as the
/// `form_urlencoded` crate (and so `serde_html_form`) does: pairs split on `&`, empty ones skipped, the
/// name ending at the first `=`; `+` is a space, `%` with two hex digits a byte and any other `%` itself;
/// bytes that are not UTF-8 become U+FFFD. One pass per component instead of three.
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
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
        pairs.push((decode_component(name), decode_component(value)));
    }
    pairs
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

fn decode_component(raw: &[u8]) -> String {
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
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::form_pairs;

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

    #[test]
    fn a_submission_decodes() {
        let body = b"_key=k1&q_team=%E6%84%8F%E8%A7%81+%E5%BB%BA%E8%AE%AE&&q_x&q_y=50%25%zz%e6=";
        let pairs = form_pairs(body);
        let expect = [("_key", "k1"), ("q_team", "意见 建议"), ("q_x", ""), ("q_y", "50%%zz\u{FFFD}=")];
        assert_eq!(pairs, expect.map(|(n, v)| (n.to_owned(), v.to_owned())));
    }
}
