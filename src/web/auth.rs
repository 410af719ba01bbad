//! ESIA sign-in: `/login/esia` → ESIA → `/login/esia/callback` → account matching; and
//! `/logout`, which ends the session here and at ESIA.

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::csrf;
use super::error::{AppError, AppResult};
use super::session::{
    LOGIN_WINDOW_SECS, PendingLogin, SessionUser, StaffSession, anybody_signed_in,
    landing_after_login,
};
use crate::domain::applicant::{Applicant, LoginRole};
use crate::esia::{EsiaError, protocol};
use crate::workflow::{linking, staff};

#[derive(Deserialize)]
struct LoginQuery {
    role: Option<String>,
    /// The page that asked for a login (see `landing_after_login`).
    next: Option<String>,
}

async fn login_get(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> AppResult<Redirect> {
    let role = q
        .role
        .as_deref()
        .and_then(LoginRole::parse)
        .ok_or_else(|| {
            AppError::BadRequest("Выберите, кто входит: родитель, учащийся или сотрудник.".into())
        })?;
    let login = PendingLogin {
        state: uuid::Uuid::new_v4().to_string(),
        role,
        started_at: Utc::now().timestamp(),
        next: q.next.as_deref().and_then(|n| landing_after_login(role, n)),
    };
    let url = state.esia.authorize_url(role, &login.state).await?;
    login.store(&session).await?;
    Ok(Redirect::to(&url))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback_get(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let result = callback(&state, &session, q).await;
    state.metrics.login(result.is_ok());
    result
}

async fn callback(state: &AppState, session: &Session, q: CallbackQuery) -> AppResult<Response> {
    // The state is checked before anything else the callback says, error included: a
    // callback we did not start (forged, replayed, or from another browser) is refused.
    let pending = PendingLogin::take(session).await?;
    let pending = match (pending, q.state.as_deref()) {
        (Some(p), Some(s))
            if p.state == s && Utc::now().timestamp() - p.started_at <= LOGIN_WINDOW_SECS =>
        {
            p
        }
        _ => {
            return Err(AppError::BadRequest(
                "Ссылка входа устарела или недействительна. Начните вход заново с главной страницы.".into(),
            ));
        }
    };
    if q.error.is_some() {
        let description = q.error_description.unwrap_or_default();
        let code = protocol::error_code(&description)
            .unwrap_or("ESIA-007007")
            .to_string();
        return Err(EsiaError::Protocol { code }.into());
    }
    let code = q.code.filter(|c| !c.is_empty()).ok_or_else(|| {
        AppError::BadRequest("Госуслуги не передали код авторизации. Войдите ещё раз.".into())
    })?;
    let tokens = state.esia.exchange(&code, pending.role).await?;
    let applicant = state.esia.load_applicant(&tokens, pending.role).await?;
    if pending.role == LoginRole::Staff {
        return staff_sign_in(state, session, &applicant, pending.next).await;
    }
    let linked = linking::link_at_login(&state.workflow, &applicant).await?;
    SessionUser::sign_in(session, applicant).await?;
    let target = match pending.next {
        Some(next) => next,
        None if linked => "/home".into(),
        None => "/no-account".into(),
    };
    Ok(Redirect::to(&target).into_response())
}

async fn staff_sign_in(
    state: &AppState,
    session: &Session,
    person: &Applicant,
    next: Option<String>,
) -> AppResult<Response> {
    let records = staff::sign_in(&state.workflow, person).await?;
    let signed = StaffSession::sign_in(session, records).await?;
    tracing::info!(staff_id = ?signed.current, "staff signed in");
    let target = match (signed.current, next) {
        (Some(_), Some(next)) => next,
        (Some(_), None) => "/staff/inbox".into(),
        (None, next) => {
            if let Some(next) = next {
                StaffSession::land_after_choosing(session, next).await?;
            }
            "/staff/choose".into()
        }
    };
    Ok(Redirect::to(&target).into_response())
}

/// «Выход» must work for someone whose session already expired (the button was on a page
/// left open): with nobody signed in there is nothing to forge, so no token is needed.
async fn logout_post(
    State(state): State<AppState>,
    session: Session,
    body: axum::body::Bytes,
) -> AppResult<Redirect> {
    if !anybody_signed_in(&session).await? {
        session.flush().await?;
        return Ok(Redirect::to("/"));
    }
    if !csrf::matches(&session, &body).await? {
        return Err(AppError::Csrf);
    }
    session.flush().await?;
    Ok(Redirect::to(
        &state.esia.logout_url(&format!("{}/", state.public_url())),
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/esia", get(login_get))
        .route("/login/esia/callback", get(callback_get))
        .route("/logout", post(logout_post))
}
