//! Small extractors. The client address is used only in memory, by the submit rate limiter; it is never
//! stored or logged.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// The peer address, when the server was started with connect info (tests without a socket have none).
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
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
