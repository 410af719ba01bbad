//! What the server-side session holds, and the extractor for the signed-in person.
//! Identity comes only from here, never from a form field.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::AppState;
use super::error::{AppError, AppResult};
use crate::domain::applicant::{Applicant, LoginRole};
use crate::workflow::staff::{self as staff_flow, StaffActor};

const USER: &str = "user";
const STAFF: &str = "staff";
const LOGIN: &str = "login";

/// An ESIA login in flight: the `state` we sent and the role button pressed.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub role: LoginRole,
    pub started_at: i64,
}

/// How long a person may take on the ESIA side before the `state` is void.
pub const LOGIN_WINDOW_SECS: i64 = 600;

impl PendingLogin {
    pub async fn store(&self, session: &Session) -> AppResult<()> {
        Ok(session.insert(LOGIN, self).await?)
    }

    /// Takes the pending login out of the session: a `state` is good for one callback.
    pub async fn take(session: &Session) -> AppResult<Option<Self>> {
        Ok(session.remove::<Self>(LOGIN).await?)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub applicant: Applicant,
    pub signed_in_at: i64,
}

impl SessionUser {
    pub async fn load(session: &Session) -> AppResult<Option<Self>> {
        Ok(session.get::<Self>(USER).await?)
    }

    /// A new id at login, so a session id planted before login is worthless after it.
    pub async fn sign_in(session: &Session, applicant: Applicant) -> AppResult<()> {
        session.clear().await;
        session.cycle_id().await?;
        let user = Self {
            applicant,
            signed_in_at: Utc::now().timestamp(),
        };
        Ok(session.insert(USER, user).await?)
    }
}

/// The signed-in person; absent or past the absolute timeout → 401 page.
pub struct SignedIn {
    pub applicant: Applicant,
    pub session: Session,
}

fn session_of(parts: &Parts) -> AppResult<Session> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(AppError::Unauthenticated)
}

/// Past the absolute timeout a sign-in is over, however active it was.
async fn expire_if_old(state: &AppState, session: &Session, signed_in_at: i64) -> AppResult<()> {
    let max_age = state.settings.session.absolute_timeout_minutes * 60;
    if Utc::now().timestamp() - signed_in_at > max_age {
        session.flush().await?;
        return Err(AppError::Unauthenticated);
    }
    Ok(())
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = session_of(parts)?;
        let user = SessionUser::load(&session)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        expire_if_old(state, &session, user.signed_in_at).await?;
        Ok(Self {
            applicant: user.applicant,
            session,
        })
    }
}

/// A staff sign-in: the active staff records of the person (matched by СНИЛС) and the
/// one they work as now; several records (roles, schools) mean a choice after login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaffSession {
    pub records: Vec<i32>,
    pub current: Option<i32>,
    pub signed_in_at: i64,
}

impl StaffSession {
    pub async fn load(session: &Session) -> AppResult<Option<Self>> {
        Ok(session.get::<Self>(STAFF).await?)
    }

    pub async fn sign_in(session: &Session, records: Vec<i32>) -> AppResult<Self> {
        session.clear().await;
        session.cycle_id().await?;
        let current = (records.len() == 1).then(|| records[0]);
        let s = Self {
            records,
            current,
            signed_in_at: Utc::now().timestamp(),
        };
        session.insert(STAFF, &s).await?;
        Ok(s)
    }

    pub async fn choose(mut self, session: &Session, id: i32) -> AppResult<bool> {
        if !self.records.contains(&id) {
            return Ok(false);
        }
        self.current = Some(id);
        session.insert(STAFF, &self).await?;
        Ok(true)
    }
}

/// The signed-in staff member, acting as one staff record with its scope.
pub struct StaffUser {
    pub actor: StaffActor,
    pub session: Session,
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = session_of(parts)?;
        let staff_session = StaffSession::load(&session)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        expire_if_old(state, &session, staff_session.signed_in_at).await?;
        let id = staff_session
            .current
            .ok_or(AppError::Redirect("/staff/choose"))?;
        let actor = staff_flow::actor(&state.workflow, id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Self { actor, session })
    }
}

/// Whether anybody (applicant or staff) is signed in, for the page header.
pub async fn anybody_signed_in(session: &Session) -> AppResult<bool> {
    Ok(SessionUser::load(session).await?.is_some() || StaffSession::load(session).await?.is_some())
}
