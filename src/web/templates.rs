//! What every page template gets: the shared layout context.

use tower_sessions::Session;

use super::csrf;
use super::error::AppResult;

/// Passed to every page as `layout`: the logout form needs the CSRF token, the header
/// needs to know whether someone is signed in.
pub struct Layout {
    pub csrf_token: String,
    pub signed_in: bool,
    /// Staff pages show the staff menu.
    pub staff: bool,
}

impl Layout {
    /// Anonymous visitors see no form, so they get no token — and no session row.
    pub async fn new(session: &Session) -> AppResult<Self> {
        let signed_in = super::session::anybody_signed_in(session).await?;
        let csrf_token = if signed_in {
            csrf::token(session).await?
        } else {
            String::new()
        };
        Ok(Self {
            csrf_token,
            signed_in,
            staff: false,
        })
    }

    pub async fn staff(session: &Session) -> AppResult<Self> {
        Ok(Self {
            staff: true,
            ..Self::new(session).await?
        })
    }
}

/// `ДД.ММ.ГГГГ`, as Russian forms write dates.
pub fn ru_date(d: chrono::NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

pub fn ru_datetime(t: chrono::DateTime<chrono::Utc>, offset: chrono::FixedOffset) -> String {
    t.with_timezone(&offset)
        .format("%d.%m.%Y %H:%M")
        .to_string()
}
