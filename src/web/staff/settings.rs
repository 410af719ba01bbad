//! `/staff/settings`: the notification preference.

use axum::extract::State;
use axum::response::Redirect;
use serde::Deserialize;

use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppResult;
use crate::web::session::StaffUser;
use crate::workflow::staff;

#[derive(Deserialize)]
pub(super) struct SettingsForm {
    notify_digest: Option<String>,
}

/// An e-mail per new appeal, or an hourly digest.
pub(super) async fn post(
    State(state): State<AppState>,
    user: StaffUser,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Redirect> {
    let digest = form.notify_digest.as_deref() == Some("1");
    staff::set_notify_digest(&state.workflow, &user.actor, digest).await?;
    Ok(Redirect::to("/staff/inbox"))
}
