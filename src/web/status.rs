//! `/s/{token}`: an appeal's status from the link in the applicant's e-mails, without a
//! login — the number, the organization, the status, the term and the answer, nothing of
//! the ESIA snapshot. A wrong, forged or expired token is an ordinary 404. The route is
//! logged by its template, so the token never reaches a log.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use tower_sessions::Session;

use super::AppState;
use super::error::AppResult;
use super::security::html;
use super::templates::{Layout, Terms};
use crate::workflow::applicant;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    number: String,
    organization: String,
    status: &'static str,
    terms: Terms,
    answer: Option<String>,
}

async fn status_get(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let v = applicant::status_by_link(&state.workflow, &token).await?;
    Ok(html(StatusPage {
        layout: Layout::new(&session).await?,
        number: v.appeal.number.clone(),
        organization: v.organization,
        status: v.appeal.status.label(),
        terms: Terms::of(&v.appeal, state.workflow.deadlines()),
        answer: v.answer,
    })?)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/s/{token}", get(status_get))
}
