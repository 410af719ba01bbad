//! The actions of the appeal page: status, assignment, note, forwarding, and linking the
//! applicant to the roster. Each parses its form, calls one use case, and goes back to
//! the appeal (or shows the refusal next to the form).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::appeal::{Form, refused};
use super::number_of;
use crate::domain::number::AppealNumber;
use crate::domain::status::Status;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::session::StaffUser;
use crate::workflow::review::{self, Assignee};
use crate::workflow::{self, Refusal, linking};

/// The version field of a form: absent or blank means «as read now»; anything unreadable
/// cannot be the version the page showed.
fn version(raw: Option<&str>) -> Result<Option<i32>, Refusal> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| Refusal::ChangedMeanwhile),
    }
}

/// Back to the appeal (or `after`) when the action went through; the page with the
/// refusal next to `form` when it was refused.
async fn respond(
    state: &AppState,
    user: &StaffUser,
    number: &AppealNumber,
    form: Form,
    result: workflow::Result<()>,
    after: Option<&str>,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            let back = format!("/staff/appeals/{number}");
            Ok(Redirect::to(after.unwrap_or(&back)).into_response())
        }
        Err(workflow::Error::Refused(r)) => refused(state, user, number, form, r).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    status: Option<String>,
    resolution: Option<String>,
    version: Option<String>,
}

pub(super) async fn status(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let result = async {
        let to = form
            .status
            .as_deref()
            .and_then(Status::parse)
            .ok_or(Refusal::UnknownStatus)?;
        let text = form.resolution.as_deref().unwrap_or_default();
        let version = version(form.version.as_deref())?;
        review::change_status(&state.workflow, &user.actor, &number, to, text, version).await
    }
    .await;
    respond(&state, &user, &number, Form::Status, result, None).await
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    staff_id: Option<String>,
    version: Option<String>,
}

pub(super) async fn assign(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let assignee = match form.staff_id.as_deref().unwrap_or_default() {
        "" => Assignee::Nobody,
        "me" => Assignee::Me,
        id => Assignee::Staff(id.parse().map_err(|_| AppError::NotFound)?),
    };
    let result = async {
        let version = version(form.version.as_deref())?;
        review::assign(&state.workflow, &user.actor, &number, assignee, version).await
    }
    .await;
    respond(&state, &user, &number, Form::Assign, result, None).await
}

#[derive(Deserialize)]
pub(super) struct NoteForm {
    text: Option<String>,
}

pub(super) async fn note(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let text = form.text.unwrap_or_default();
    let result = review::add_note(&state.workflow, &user.actor, &number, &text).await;
    respond(&state, &user, &number, Form::Note, result, None).await
}

#[derive(Deserialize)]
pub(super) struct ForwardForm {
    organization_id: Option<String>,
    resolution: Option<String>,
    version: Option<String>,
}

pub(super) async fn forward(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<ForwardForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let target = form.organization_id.as_deref().and_then(|v| v.parse().ok());
    let result = async {
        let reason = form.resolution.as_deref().unwrap_or_default();
        let version = version(form.version.as_deref())?;
        review::forward(
            &state.workflow,
            &user.actor,
            &number,
            target,
            reason,
            version,
        )
        .await
    }
    .await;
    // The appeal has left this inbox: back to the inbox.
    respond(
        &state,
        &user,
        &number,
        Form::Forward,
        result,
        Some("/staff/inbox"),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    mode: Option<String>,
    roster_person_id: Option<String>,
    version: Option<String>,
}

pub(super) async fn link(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let wf = &state.workflow;
    let result = async {
        let version = version(form.version.as_deref())?;
        match form.mode.as_deref() {
            Some("fix") => {
                let person = form
                    .roster_person_id
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .ok_or(workflow::Error::NotFound)?;
                linking::fix_and_link(wf, &user.actor, &number, person, version).await
            }
            Some("create") => linking::add_from_snapshot(wf, &user.actor, &number, version).await,
            _ => Err(Refusal::UnknownAction.into()),
        }
    }
    .await;
    respond(&state, &user, &number, Form::Link, result, None).await
}
