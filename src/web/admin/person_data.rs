//! `/admin/person-data`: everything stored about a person (152-ФЗ ст. 14), by СНИЛС or
//! e-mail, as one JSON file — for the administrator, whose scope is every organization.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Tabs;
use crate::domain::snils::Snils;
use crate::domain::staff::Scope;
use crate::web::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::Layout;
use crate::workflow::person_data;

#[derive(Deserialize)]
pub(super) struct Wanted {
    snils: Option<String>,
    email: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/person_data.html")]
struct PersonDataPage {
    layout: Layout,
    tabs: Tabs,
}

pub(super) async fn get(
    State(state): State<AppState>,
    user: StaffUser,
    Query(w): Query<Wanted>,
) -> AppResult<Response> {
    if user.actor.scope != Scope::All {
        return Err(AppError::Forbidden(
            "Выгрузка всех данных человека доступна администратору системы.".into(),
        ));
    }
    let email = w
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    let snils = match w.snils.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(Snils::parse(s).map_err(|e| AppError::BadRequest(format!("СНИЛС: {e}")))?),
        None => None,
    };
    if snils.is_none() && email.is_none() {
        let page = PersonDataPage {
            layout: Layout::new(&user.session).await?,
            tabs: Tabs {
                current: "/admin/audit",
            },
        };
        return Ok(html(page)?.into_response());
    }
    let found = person_data::gather(&state.workflow, snils.as_ref(), email.as_deref()).await?;
    let body = serde_json::to_string_pretty(&found.document)
        .map_err(|e| AppError::Unexpected(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"person-data.json\"",
            ),
        ],
        body,
    )
        .into_response())
}
