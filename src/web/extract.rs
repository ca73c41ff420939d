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

/// A urlencoded form body whose rejections become Chinese error pages (413 when over the body limit).
pub struct CitizenForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for CitizenForm<T> {
    type Rejection = super::error::WebError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum_extra::extract::Form::<T>::from_request(req, state).await {
            Ok(axum_extra::extract::Form(v)) => Ok(CitizenForm(v)),
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => Err(super::error::WebError::TooLarge),
            Err(_) => Err(super::error::WebError::BadRequest("提交的内容无法识别，请刷新页面后重试。".into())),
        }
    }
}
