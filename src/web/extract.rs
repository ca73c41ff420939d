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
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let trusted = &state.settings.trusted_proxies;
        let Some(peer) = peer.filter(|p| trusted.contains(p)) else { return Ok(ClientIp(peer.map(limited_as))) };
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
        Ok(ClientIp(Some(limited_as(client.unwrap_or(peer)))))
    }
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
    use super::limited_as;
    use std::net::IpAddr;

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
