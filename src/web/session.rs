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
/// An appeal form typed before the sign-in expired (see `ApplicantForm`).
pub const DRAFT: &str = "appeal_draft";
const STAFF: &str = "staff";
const LOGIN: &str = "login";

/// An ESIA login in flight: the `state` we sent, the role button pressed and the page to
/// land on afterwards.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub role: LoginRole,
    pub started_at: i64,
    #[serde(default)]
    pub next: Option<String>,
}

/// A page a login may lead back to: a path of this site for the role signing in, never
/// another site (`//host`, `/\host`) and nothing the login pages themselves serve.
pub fn landing_after_login(role: LoginRole, next: &str) -> Option<String> {
    let ok_chars = next
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_.?=&%".contains(c));
    let staff_page = ["/staff", "/admin"]
        .iter()
        .any(|p| next == *p || next.starts_with(&format!("{p}/")));
    let applicant_page = ["/appeals/", "/my/appeals", "/home", "/no-account", "/link"]
        .iter()
        .any(|p| next.starts_with(p));
    let fits = match role {
        LoginRole::Staff => staff_page,
        LoginRole::Parent | LoginRole::Student => applicant_page,
    };
    // Browsers resolve «..» and «%2e%2e» alike: neither may appear in the path.
    let path = next.split('?').next().unwrap_or_default();
    let plain = next.starts_with('/')
        && !next.starts_with("//")
        && !path.contains("..")
        && !path.contains('%');
    (plain && ok_chars && next.len() <= 200 && fits).then(|| next.to_string())
}

/// Where a staff member who has to choose a role goes after choosing.
const AFTER_CHOOSE: &str = "after_choose";

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

    /// A new id at login, so a session id planted before login is worthless after it. A
    /// form kept when the previous sign-in expired survives it.
    pub async fn sign_in(session: &Session, applicant: Applicant) -> AppResult<()> {
        let draft = session.get::<serde_json::Value>(DRAFT).await?;
        session.clear().await;
        session.cycle_id().await?;
        // Only the person who typed it gets it back (see `take_draft`).
        if let Some(draft) = draft {
            session.insert(DRAFT, draft).await?;
        }
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

fn too_old(state: &AppState, signed_in_at: i64) -> bool {
    Utc::now().timestamp() - signed_in_at > state.settings.session.absolute_timeout_minutes * 60
}

/// Past the absolute timeout a sign-in is over, however active it was.
async fn expire_if_old(state: &AppState, session: &Session, signed_in_at: i64) -> AppResult<()> {
    if too_old(state, signed_in_at) {
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
        let Some(user) = SessionUser::load(&session).await? else {
            return Err(if StaffSession::load(&session).await?.is_some() {
                AppError::WrongRole { staff_page: false }
            } else {
                AppError::Unauthenticated
            });
        };
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

    /// Acts as record `id`; returns the page to go to, `None` for a record not theirs.
    pub async fn choose(mut self, session: &Session, id: i32) -> AppResult<Option<String>> {
        if !self.records.contains(&id) {
            return Ok(None);
        }
        self.current = Some(id);
        session.insert(STAFF, &self).await?;
        let next = session.remove::<String>(AFTER_CHOOSE).await?;
        Ok(Some(next.unwrap_or_else(|| "/staff/inbox".into())))
    }

    /// Remembers where to go once a role is chosen.
    pub async fn land_after_choosing(session: &Session, next: String) -> AppResult<()> {
        Ok(session.insert(AFTER_CHOOSE, next).await?)
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
        let Some(staff_session) = StaffSession::load(&session).await? else {
            return Err(if SessionUser::load(&session).await?.is_some() {
                AppError::WrongRole { staff_page: true }
            } else {
                AppError::Unauthenticated
            });
        };
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

/// A form of a signed-in applicant, CSRF-checked. When the sign-in reached its absolute
/// timeout while the form was filled in, what was typed is kept in the session under the
/// applicant's ESIA id and the person is asked to sign in again; the form then opens with
/// it for that same person (`take_draft`). Nothing is kept for a request of nobody signed
/// in (an idle session is gone with its cookie; a request from another site has none).
pub struct ApplicantForm<T> {
    pub user: SignedIn,
    pub form: T,
}

#[derive(Serialize, Deserialize)]
struct Draft<T> {
    oid: String,
    form: T,
}

/// A kept form is the appeal form: a few kilobytes at most.
const DRAFT_MAX_BYTES: usize = 16 * 1024;

impl<T> axum::extract::FromRequest<AppState> for ApplicantForm<T>
where
    T: serde::de::DeserializeOwned + Serialize + Send,
{
    type Rejection = AppError;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = session_of(&parts)?;
        let expired = SessionUser::load(&session)
            .await?
            .filter(|u| too_old(state, u.signed_in_at));
        let Some(expired) = expired else {
            let user = SignedIn::from_request_parts(&mut parts, state).await?;
            let req = axum::extract::Request::from_parts(parts, body);
            let super::csrf::CsrfForm(form) =
                super::csrf::CsrfForm::from_request(req, state).await?;
            return Ok(Self { user, form });
        };
        let req = axum::extract::Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .ok()
            .filter(|b| b.len() <= DRAFT_MAX_BYTES);
        // The token of the expired sign-in still proves the form is this site's.
        let ours = match &bytes {
            Some(b) => super::csrf::matches(&session, b).await?,
            None => false,
        };
        session.flush().await?;
        let form = bytes
            .filter(|_| ours)
            .and_then(|b| serde_urlencoded::from_bytes::<T>(&b).ok());
        let Some(form) = form else {
            return Err(AppError::Unauthenticated);
        };
        keep_draft(&session, &expired.applicant.oid, form).await?;
        Err(AppError::FormKept)
    }
}

/// Keeps what `oid` typed into the appeal form until the form opens for them again.
pub async fn keep_draft<T: Serialize>(session: &Session, oid: &str, form: T) -> AppResult<()> {
    let draft = Draft {
        oid: oid.to_string(),
        form,
    };
    Ok(session.insert(DRAFT, draft).await?)
}

/// The form kept when `oid`'s sign-in expired, once; anybody else's is dropped.
pub async fn take_draft<T: serde::de::DeserializeOwned>(
    session: &Session,
    oid: &str,
) -> AppResult<Option<T>> {
    Ok(session
        .remove::<Draft<T>>(DRAFT)
        .await?
        .filter(|d| d.oid == oid)
        .map(|d| d.form))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_own_pages_of_the_role_are_landings() {
        let ok = |r, p| landing_after_login(r, p).is_some();
        assert!(ok(LoginRole::Parent, "/appeals/2026-000001"));
        assert!(ok(LoginRole::Staff, "/staff/appeals/2026-000001"));
        assert!(!ok(LoginRole::Parent, "/staff/inbox"));
        assert!(!ok(LoginRole::Staff, "/appeals/2026-000001"));
        assert!(!ok(LoginRole::Parent, "//evil.example/appeals/"));
        assert!(!ok(LoginRole::Parent, "https://evil.example/appeals/"));
        assert!(!ok(LoginRole::Parent, "/appeals/\\evil"));
        assert!(!ok(LoginRole::Parent, "/login/esia"));
        assert!(!ok(LoginRole::Parent, "/appeals/../staff/inbox"));
        assert!(!ok(LoginRole::Parent, "/appeals/%2e%2e/staff/inbox"));
        assert!(ok(LoginRole::Staff, "/staff/inbox?q=%D0%B0"));
    }
}
