//! CSRF: a random token per session, embedded in every form as `csrf_token` and checked
//! on every POST before the handler runs.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::error::{AppError, AppResult};

const KEY: &str = "csrf";

/// The session's token, created on first use.
pub async fn token(session: &Session) -> AppResult<String> {
    if let Some(t) = session.get::<String>(KEY).await? {
        return Ok(t);
    }
    let t = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    session.insert(KEY, &t).await?;
    Ok(t)
}

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// Whether the form body carries the session's token (compared in constant time).
pub async fn matches(session: &Session, body: &[u8]) -> AppResult<bool> {
    let sent = serde_urlencoded::from_bytes::<TokenField>(body)
        .ok()
        .and_then(|f| f.csrf_token)
        .unwrap_or_default();
    is_token(session, &sent).await
}

/// Whether `sent` is the session's token (a multipart form sends it as a field of its own).
pub async fn is_token(session: &Session, sent: &str) -> AppResult<bool> {
    let expected = session.get::<String>(KEY).await?.unwrap_or_default();
    Ok(!expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes())))
}

/// A form with no field but its token: the button pressed is the whole request.
#[derive(serde::Deserialize)]
pub struct Button {}

/// A form whose `csrf_token` matched the session's; otherwise the request is refused
/// with 403 before any field is looked at.
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let session = req
            .extensions()
            .get::<Session>()
            .cloned()
            .ok_or(AppError::Csrf)?;
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("Не удалось прочитать форму.".into()))?;
        if !matches(&session, &body).await? {
            return Err(AppError::Csrf);
        }
        serde_urlencoded::from_bytes(&body)
            .map(CsrfForm)
            .map_err(|_| AppError::BadRequest("Форма заполнена неверно.".into()))
    }
}
