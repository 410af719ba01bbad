//! `/staff/choose`: a person with several staff records (roles, schools) picks one.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;

use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffSession;
use crate::web::templates::Layout;
use crate::workflow::staff::{self, RoleChoice};

#[derive(Template)]
#[template(path = "staff/choose.html")]
struct ChoosePage {
    layout: Layout,
    choices: Vec<RoleChoice>,
}

pub(super) async fn get(
    State(state): State<AppState>,
    session: tower_sessions::Session,
) -> AppResult<Html<String>> {
    let s = StaffSession::load(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(html(ChoosePage {
        choices: staff::role_choices(&state.workflow, &s.records).await?,
        layout: Layout::new(&session).await?,
    })?)
}

#[derive(Deserialize)]
pub(super) struct ChooseForm {
    staff_id: Option<String>,
}

pub(super) async fn post(
    session: tower_sessions::Session,
    CsrfForm(form): CsrfForm<ChooseForm>,
) -> AppResult<Redirect> {
    let s = StaffSession::load(&session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let id = form
        .staff_id
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::NotFound)?;
    let next = s.choose(&session, id).await?.ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&next))
}
