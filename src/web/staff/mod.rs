//! The staff workplace, one module per screen: choosing a role after sign-in, the inbox,
//! the appeal page with its actions, binding codes and settings. Every route acts through
//! the staff use cases, which answer «not found» for anything outside the staff member's
//! scope, whatever the URL or form says.

mod actions;
mod appeal;
mod binding_code;
mod bulk;
mod choose;
mod dashboard;
mod export;
mod inbox;
mod link;
mod mail;
mod settings;

use axum::Router;
use axum::response::Redirect;
use axum::routing::{get, post};

use super::AppState;
use super::error::{AppError, AppResult};
use crate::domain::number::AppealNumber;

/// The appeal number of a path; anything else is a page that does not exist.
fn number_of(raw: &str) -> AppResult<AppealNumber> {
    AppealNumber::parse(raw).ok_or(AppError::NotFound)
}

async fn staff_root() -> Redirect {
    Redirect::to("/staff/inbox")
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(staff_root))
        .route("/staff/choose", get(choose::get).post(choose::post))
        .route("/staff/inbox", get(inbox::get))
        .route("/staff/dashboard", get(dashboard::get))
        .route("/staff/inbox/bulk", post(bulk::post))
        .route("/staff/inbox/export", get(export::get))
        .route("/staff/settings", get(settings::get).post(settings::post))
        .route("/staff/mail", get(mail::get))
        .route("/staff/mail/requeue", post(mail::requeue))
        .route("/staff/appeals/{number}", get(appeal::get))
        .route("/staff/appeals/{number}/status", post(actions::status))
        .route("/staff/appeals/{number}/assign", post(actions::assign))
        .route("/staff/appeals/{number}/notes", post(actions::note))
        .route("/staff/appeals/{number}/forward", post(actions::forward))
        .route("/staff/appeals/{number}/extend", post(actions::extend))
        .route("/staff/appeals/{number}/link", post(link::post))
        .route("/staff/roster/{id}/binding-code", post(binding_code::post))
}
