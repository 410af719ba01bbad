//! The actions of the appeal page: status, assignment, note and forwarding. Each parses its
//! form, calls one use case, and goes back with a word on what it did (or shows the
//! refusal next to the form).

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
use crate::web::templates::flash;
use crate::workflow::review::{self, Assignee};
use crate::workflow::{self, Refusal};

/// The version field of a form: absent or blank means «as read now»; anything unreadable
/// cannot be the version the page showed.
pub(super) fn version(raw: Option<&str>) -> Result<Option<i32>, Refusal> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| Refusal::ChangedMeanwhile),
    }
}

/// Where an action leads and what it says there.
pub(super) struct Done {
    pub message: String,
    /// The appeal's page unless the appeal left this inbox.
    pub to: Option<&'static str>,
}

impl Done {
    pub fn back(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            to: None,
        }
    }
}

/// Back to the appeal (or elsewhere) with the word on what happened; the page with the
/// refusal next to `form` when it was refused. `sent_text` is the text the form carried.
pub(super) async fn respond(
    state: &AppState,
    user: &StaffUser,
    number: &AppealNumber,
    form: Form,
    result: workflow::Result<Done>,
    sent_text: &str,
) -> AppResult<Response> {
    match result {
        Ok(done) => {
            flash(&user.session, done.message).await?;
            let back = format!("/staff/appeals/{number}");
            Ok(Redirect::to(done.to.unwrap_or(&back)).into_response())
        }
        Err(workflow::Error::Refused(r)) => refused(state, user, number, form, r, sent_text).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct StatusForm {
    status: Option<String>,
    resolution: Option<String>,
    version: Option<String>,
    confirm_unlinked: Option<String>,
}

pub(super) async fn status(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let text = form.resolution.as_deref().unwrap_or_default();
    let result = async {
        let to = form
            .status
            .as_deref()
            .and_then(Status::parse)
            .ok_or(Refusal::UnknownStatus)?;
        let version = version(form.version.as_deref())?;
        let confirmed = form.confirm_unlinked.as_deref() == Some("1");
        review::change_status(
            &state.workflow,
            &user.actor,
            &number,
            to,
            text,
            version,
            confirmed,
        )
        .await?;
        Ok(Done::back(format!("Статус изменён: «{}».", to.label())))
    }
    .await;
    respond(&state, &user, &number, Form::Status, result, text).await
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
        review::assign(&state.workflow, &user.actor, &number, assignee, version).await?;
        Ok(Done::back("Исполнитель сохранён."))
    }
    .await;
    respond(&state, &user, &number, Form::Assign, result, "").await
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
    let result = review::add_note(&state.workflow, &user.actor, &number, &text)
        .await
        .map(|()| Done::back("Заметка добавлена."));
    respond(&state, &user, &number, Form::Note, result, "").await
}

#[derive(Deserialize)]
pub(super) struct ExtendForm {
    reason: Option<String>,
    version: Option<String>,
}

/// «Продлить срок ответа».
pub(super) async fn extend(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<ExtendForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let reason = form.reason.as_deref().unwrap_or_default();
    let result = async {
        let version = version(form.version.as_deref())?;
        let until = review::extend(&state.workflow, &user.actor, &number, reason, version).await?;
        Ok(Done::back(format!(
            "Срок ответа продлён до {until}; заявителю отправлено письмо."
        )))
    }
    .await;
    respond(&state, &user, &number, Form::Extend, result, reason).await
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
        .await?;
        // The appeal has left this inbox: back to the inbox.
        Ok(Done {
            message: format!("Обращение № {number} перенаправлено."),
            to: Some("/staff/inbox"),
        })
    }
    .await;
    respond(&state, &user, &number, Form::Forward, result, "").await
}
