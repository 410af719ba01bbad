//! What can go wrong talking to ESIA. Every variant becomes a Russian message page; none
//! is a 500.

use super::jwt::JwtError;
use super::protocol;
use super::signer::SignError;

#[derive(Debug, thiserror::Error)]
pub enum EsiaError {
    /// ESIA redirected back with `error=` (or answered the token request with 400).
    #[error("ESIA returned {code}")]
    Protocol { code: String },
    #[error("ESIA REST answered HTTP {0}")]
    Rest(u16),
    #[error("ESIA is unreachable: {0}")]
    Unreachable(String),
    #[error("ESIA token rejected: {0}")]
    Token(#[from] JwtError),
    #[error("ESIA response is not as specified: {0}")]
    BadResponse(String),
    #[error("client_secret signing failed: {0}")]
    Signing(#[from] SignError),
}

impl EsiaError {
    pub fn user_message(&self) -> &'static str {
        match self {
            Self::Protocol { code } => protocol::error_message(code),
            Self::Rest(403) => {
                "Госуслуги не предоставили нужные сведения: разрешите доступ к данным профиля и войдите ещё раз."
            }
            Self::Rest(_) | Self::BadResponse(_) => {
                "Госуслуги вернули неожиданный ответ. Попробуйте войти ещё раз позже."
            }
            Self::Unreachable(_) => {
                "Портал Госуслуг сейчас недоступен. Попробуйте войти через несколько минут."
            }
            Self::Token(_) => "Не удалось проверить подлинность ответа Госуслуг. Войдите ещё раз.",
            Self::Signing(_) => "Не удалось подписать запрос к Госуслугам. Попробуйте позже.",
        }
    }
}

impl From<reqwest::Error> for EsiaError {
    fn from(e: reqwest::Error) -> Self {
        // The URL carries the person's oid: keep only the kind of failure.
        let decode = e.is_decode();
        let text = e.without_url().to_string();
        if decode {
            Self::BadResponse(text)
        } else {
            Self::Unreachable(text)
        }
    }
}
