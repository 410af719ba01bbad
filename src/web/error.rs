//! One error type for every handler, mapped once to a response. The response carries only
//! the message; `security::render_errors` turns it into a page in the site's layout (or
//! JSON under `/api`) with the request id, so the user never sees a stack trace or SQL.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::esia::EsiaError;
use crate::workflow::{self, Refusal, RefusalKind};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but in the other role: a page for staff opened by an applicant, or the
    /// other way round.
    #[error("page for the other role (staff page: {staff_page})")]
    WrongRole { staff_page: bool },
    /// The sign-in expired while the appeal form was being filled; what was typed is kept
    /// in the session for the form to open with after the next sign-in.
    #[error("sign-in expired, the form is kept")]
    FormKept,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Someone else changed the thing first; the message says what to do.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// A use case said no; the refusal names itself.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Not an error for the user: the next step is elsewhere (e.g. choosing a role).
    #[error("redirect to {0}")]
    Redirect(&'static str),
    /// The client sent too many requests; it may try again after `retry_after` seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },
    /// The database cannot be reached now: the person is told to come back, not that
    /// something broke.
    #[error("database unavailable: {0}")]
    Unavailable(anyhow::Error),
    #[error(transparent)]
    Esia(#[from] EsiaError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Which sign-in an error page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOffer {
    None,
    /// The roles whose pages the requested path belongs to (decided by `render_errors`).
    ForPath,
    Staff,
    Applicant,
}

/// What `render_errors` needs to draw the page.
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub title: &'static str,
    pub message: String,
    pub login: LoginOffer,
    /// The page to land on after the offered sign-in, when it is not the requested one.
    pub next: Option<&'static str>,
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        if crate::store::is_transient(&e) {
            Self::Unavailable(e.into())
        } else {
            Self::Unexpected(e.into())
        }
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

impl From<workflow::Error> for AppError {
    fn from(e: workflow::Error) -> Self {
        match e {
            workflow::Error::Refused(r) => r.into(),
            workflow::Error::NotFound => Self::NotFound,
            workflow::Error::Store(e) => e.into(),
            workflow::Error::Render(e) => Self::Unexpected(e.into()),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    /// The session store is the database: when it fails, the service is unavailable.
    fn from(e: tower_sessions::session::Error) -> Self {
        match e {
            tower_sessions::session::Error::Store(_) => Self::Unavailable(e.into()),
            e => Self::Unexpected(e.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Unexpected(e.into())
    }
}

impl AppError {
    fn parts(&self) -> (StatusCode, ErrorView) {
        let view = |title, message: &str, retry_login: bool| ErrorView {
            title,
            message: message.to_string(),
            login: if retry_login {
                LoginOffer::ForPath
            } else {
                LoginOffer::None
            },
            next: None,
        };
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, view("Ошибка в запросе", m, false)),
            Self::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                view(
                    "Требуется вход",
                    "Сеанс истёк или вход не выполнен. Войдите через Госуслуги ещё раз.",
                    true,
                ),
            ),
            Self::FormKept => {
                let mut v = view(
                    "Сеанс истёк",
                    "Сеанс истёк, но введённое в форме не потеряно: войдите через Госуслуги снова, и форма откроется заполненной.",
                    false,
                );
                v.login = LoginOffer::Applicant;
                v.next = Some("/appeals/form");
                (StatusCode::UNAUTHORIZED, v)
            }
            Self::WrongRole { staff_page } => {
                let (title, message, login) = if *staff_page {
                    (
                        "Эта страница для сотрудников",
                        "Вы вошли как заявитель. Чтобы открыть эту страницу, выйдите и войдите через Госуслуги как сотрудник.",
                        LoginOffer::Staff,
                    )
                } else {
                    (
                        "Эта страница для заявителей",
                        "Вы вошли как сотрудник. Чтобы открыть эту страницу, выйдите и войдите через Госуслуги как родитель или обучающийся.",
                        LoginOffer::Applicant,
                    )
                };
                let mut v = view(title, message, false);
                v.login = login;
                (StatusCode::FORBIDDEN, v)
            }
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                view(
                    "Форма устарела",
                    "Форма устарела или отправлена не с этого сайта. Обновите страницу и повторите действие.",
                    false,
                ),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, view("Доступ запрещён", m, false)),
            Self::Conflict(m) => (StatusCode::CONFLICT, view("Обращение изменилось", m, false)),
            Self::Refused(r) => {
                let status = match r.kind() {
                    RefusalKind::Invalid | RefusalKind::Malformed => StatusCode::BAD_REQUEST,
                    RefusalKind::Conflict => StatusCode::CONFLICT,
                    RefusalKind::Forbidden => StatusCode::FORBIDDEN,
                };
                (status, view(r.title(), &r.message(), false))
            }
            Self::Redirect(_) => (
                StatusCode::SEE_OTHER,
                view("Переход", "Продолжите на следующей странице.", false),
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                view(
                    "Страница не найдена",
                    "Такой страницы нет или у вас нет к ней доступа.",
                    false,
                ),
            ),
            Self::Esia(e) => {
                let status = match e {
                    EsiaError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    EsiaError::Protocol { code } if code == "ESIA-007004" => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_GATEWAY,
                };
                (
                    status,
                    view("Не удалось войти через Госуслуги", e.user_message(), true),
                )
            }
            Self::TooManyRequests { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                view(
                    "Слишком много запросов",
                    &format!(
                        "С вашего адреса пришло слишком много запросов. Подождите {retry_after} с и повторите."
                    ),
                    false,
                ),
            ),
            Self::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                view(
                    "Сервис временно недоступен",
                    "Сервис временно недоступен. Ваши данные не потеряны; попробуйте ещё раз через минуту.",
                    false,
                ),
            ),
            Self::Unexpected(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                view(
                    "Внутренняя ошибка",
                    "Произошла внутренняя ошибка. Ваши данные не потеряны; попробуйте ещё раз через минуту.",
                    false,
                ),
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Redirect(to) = self {
            return axum::response::Redirect::to(to).into_response();
        }
        let (status, view) = self.parts();
        match &self {
            // The full cause chain is logged once, here; it never reaches the user.
            Self::Unexpected(e) => tracing::error!(error = ?e, "unexpected error"),
            Self::Unavailable(e) => tracing::error!(error = %e, "database unavailable"),
            Self::Esia(e) => tracing::warn!(error = %e, "ESIA error"),
            _ => tracing::debug!(error = %self, "request refused"),
        }
        let retry_after = match &self {
            Self::TooManyRequests { retry_after } => Some(*retry_after),
            Self::Unavailable(_) => Some(30),
            _ => None,
        };
        let mut resp = status.into_response();
        if let Some(seconds) = retry_after {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        resp.extensions_mut().insert(view);
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_with_retry_after() {
        let err: AppError =
            sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout).into();
        let resp = err.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()["retry-after"], "30");
        let view = resp.extensions().get::<ErrorView>().expect("a page");
        assert_eq!(view.title, "Сервис временно недоступен");
        let other: AppError = sea_orm::DbErr::Custom("bug".into()).into();
        assert_eq!(
            other.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
