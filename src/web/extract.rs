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
/// An IPv6 address is cut to its /64 ([`limited_as`]).
pub struct ClientIp(pub Option<IpAddr>);

/// The address the rate limiters count a client under: an IPv6 address's /64, which one household or host
/// holds whole (a client rotating through it escaped every limit); an IPv4 address, mapped or not, itself.
pub fn limited_as(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
        v4 => v4,
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
            return Ok(ClientIp(None));
        };
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        Ok(ClientIp(Some(client_address(peer, &state.settings.trusted_proxies, &forwarded))))
    }
}

/// The address a request from `peer` counts under, given the trusted proxies and the `X-Forwarded-For`
/// entries in order. Addresses compare canonically: a server bound to `[::]` sees an IPv4 proxy as
/// `::ffff:127.0.0.1`, which went untrusted and put every client in the proxy's one bucket.
fn client_address(peer: IpAddr, trusted: &[IpAddr], forwarded: &[&str]) -> IpAddr {
    let is_trusted = |a: IpAddr| trusted.iter().any(|t| t.to_canonical() == a.to_canonical());
    if !is_trusted(peer) {
        if !forwarded.is_empty() {
            // Said once (no address logged): a proxy left out of the setting put every citizen in one bucket.
            // Outside the request's span: the line names no route that would tie it to one citizen's post.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                tracing::warn!(
                    parent: None,
                    "a request carried X-Forwarded-For from an address not in WENJI_TRUSTED_PROXIES, so the header was ignored; behind a reverse proxy, set WENJI_TRUSTED_PROXIES to its address, or every client shares its one submit limit"
                );
            });
        }
        return limited_as(peer);
    }
    let client =
        forwarded.iter().rev().map(|a| forwarded_address(a)).find(|a| a.is_none_or(|a| !is_trusted(a))).flatten();
    // A missing or garbled header leaves the proxy's own address: one shared bucket, never none.
    limited_as(client.unwrap_or(peer))
}

/// One `X-Forwarded-For` entry: an address, or one with a port (`10.0.0.7:5123`, `[2001:db8::1]:443`) or
/// in brackets (`[2001:db8::1]`), as some proxies write them.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|a| a.to_canonical())
}

/// A record's number from the path (`/w/problems/{id}`), refused in Chinese when it is not one: axum's
/// own `Path<i64>` answers in English plain text.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = super::error::WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let bad = || super::error::WebError::BadRequest("地址中的编号无效：应为数字。".into());
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state).await.map_err(|_| bad())?;
        raw.parse().map(Id).map_err(|_| bad())
    }
}

/// A query string read into `T`, refused in Chinese naming the parameter (axum's own `Query` answers in
/// English plain text, on citizen pages too).
pub struct Query<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = super::error::WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default().as_bytes();
        serde_path_to_error::deserialize(serde_html_form::Deserializer::from_bytes(raw)).map(Query).map_err(|e| {
            let path = e.path().to_string();
            // serde_html_form gathers a repeated key into a list, which a one-value field then refuses.
            let times = super::form_body::form_pairs(raw).iter().filter(|(k, _)| *k == path).count();
            super::error::WebError::BadRequest(query_refusal(&path, times))
        })
    }
}

/// Why a query string was refused, naming the parameter (`path`, given `times` times).
fn query_refusal(path: &str, times: usize) -> String {
    if path.is_empty() || path == "." {
        "地址参数有误，无法识别，请检查链接是否完整。".to_owned()
    } else if times > 1 {
        format!("地址参数 {path} 出现了不止一次，请只保留一个。")
    } else {
        format!("地址参数 {path} 的值无法识别，请检查链接是否完整。")
    }
}

#[cfg(test)]
mod tests {
    use super::{client_address, limited_as};
    use std::net::IpAddr;

    #[test]
    fn a_trusted_proxy_is_trusted_as_an_ipv4_mapped_peer_and_its_forwarded_entries_are_read_in_any_form() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted = [ip("127.0.0.1"), ip("2001:db8::99")];
        // A server bound to [::] sees its IPv4 proxy as ::ffff:127.0.0.1.
        assert_eq!(client_address(ip("::ffff:127.0.0.1"), &trusted, &["10.1.1.1"]), ip("10.1.1.1"));
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &["10.1.1.2:5123"]), ip("10.1.1.2"));
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &["[2001:db8:7::1]:443"]), ip("2001:db8:7::"));
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &["[2001:db8:7::1]"]), ip("2001:db8:7::"));
        // The rightmost entry not a trusted proxy counts; a client's own prefix does not.
        assert_eq!(
            client_address(ip("127.0.0.1"), &trusted, &["6.6.6.6", "10.1.1.3", "::ffff:127.0.0.1"]),
            ip("10.1.1.3")
        );
        // Garbage leaves the proxy's bucket; an untrusted peer counts as itself, whatever it forwards.
        assert_eq!(client_address(ip("127.0.0.1"), &trusted, &["not-an-address"]), ip("127.0.0.1"));
        assert_eq!(client_address(ip("10.9.9.9"), &trusted, &["10.1.1.4"]), ip("10.9.9.9"));
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_slash_64_and_an_ipv4_one_by_its_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(limited_as(ip("2001:db8:1:3::1")), limited_as(ip("2001:db8:1:3:ffff::a")));
        assert_eq!(limited_as(ip("2001:db8:1:3::1")), ip("2001:db8:1:3::"));
        assert_ne!(limited_as(ip("2001:db8:1:3::1")), limited_as(ip("2001:db8:1:4::1")));
        assert_eq!(limited_as(ip("::ffff:10.0.0.7")), ip("10.0.0.7"));
        assert_ne!(limited_as(ip("10.0.0.7")), limited_as(ip("10.0.0.8")));
    }
}
