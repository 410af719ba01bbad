//! `/staff/settings`: the notification preference.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;

use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::AppResult;
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, flash};
use crate::workflow::staff;

#[derive(Template)]
#[template(path = "staff/settings.html")]
struct SettingsPage {
    layout: Layout,
    who: String,
    notify_digest: bool,
}

pub(super) async fn get(user: StaffUser) -> AppResult<Html<String>> {
    let me = &user.actor;
    Ok(html(SettingsPage {
        layout: Layout::new(&user.session).await?,
        who: format!("{}, {}", me.name(), me.role_label()),
        notify_digest: me.staff.notify_digest,
    })?)
}

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
    flash(&user.session, "Настройки уведомлений сохранены.").await?;
    Ok(Redirect::to("/staff/settings"))
}
