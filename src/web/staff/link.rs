//! `/staff/appeals/{number}/link`: «Исправить по Госуслугам и связать» and «Добавить в
//! список и связать». The first POST shows what will change and which appeals close; the
//! confirmed one makes the change.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::actions::{Done, respond, version};
use super::appeal::{Form, student_line};
use super::number_of;
use crate::domain::number::AppealNumber;
use crate::domain::roster::{Correction, RosterRole};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, ru_date};
use crate::workflow::linking::{self, Confirmation, LinkMode};
use crate::workflow::{self, Refusal, RefusalKind};

#[derive(Template)]
#[template(path = "staff/link_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    number: String,
    version: i32,
    fix: bool,
    mode: &'static str,
    roster_person_id: Option<i32>,
    corrections: Vec<Correction>,
    added: Vec<String>,
    closing: Vec<String>,
    staying_open: Vec<String>,
    needs_reason: bool,
    reason: String,
    message: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LinkForm {
    mode: Option<String>,
    roster_person_id: Option<String>,
    version: Option<String>,
    confirm: Option<String>,
    message: Option<String>,
    reason: Option<String>,
}

impl LinkForm {
    fn mode(&self) -> workflow::Result<LinkMode> {
        match self.mode.as_deref() {
            Some("fix") => self
                .roster_person_id
                .as_deref()
                .and_then(|v| v.parse().ok())
                .map(LinkMode::Fix)
                .ok_or(workflow::Error::NotFound),
            Some("create") => Ok(LinkMode::Create),
            _ => Err(Refusal::UnknownAction.into()),
        }
    }
}

/// The confirmation page (`status` 200, or 422 with `error` after a refused confirmation,
/// keeping what was typed); a plan the rules refuse goes back to the appeal page.
async fn confirm_page(
    state: &AppState,
    user: &StaffUser,
    number: &AppealNumber,
    mode: LinkMode,
    form: &LinkForm,
    error: Option<String>,
) -> AppResult<Response> {
    let plan = match version(form.version.as_deref()) {
        Ok(expected) => linking::plan(&state.workflow, &user.actor, number, mode, expected).await,
        Err(r) => Err(r.into()),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => return respond(state, user, number, Form::Link, Err(e), "").await,
    };
    let a = &plan.appeal;
    let s = &a.snapshot;
    let role = RosterRole::of_applicant(s.role);
    let mut added = vec![format!(
        "{}: {} ({})",
        role.label(),
        s.name.full(),
        ru_date(s.birth_date)
    )];
    added.extend(
        plan.student
            .map(|p| format!("Обучающийся: {}", student_line(p))),
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ConfirmPage {
        layout: Layout::new(&user.session).await?,
        number: a.number.clone(),
        version: a.version,
        fix: matches!(mode, LinkMode::Fix(_)),
        mode: match mode {
            LinkMode::Fix(_) => "fix",
            LinkMode::Create => "create",
        },
        roster_person_id: match mode {
            LinkMode::Fix(id) => Some(id),
            LinkMode::Create => None,
        },
        corrections: plan.corrections,
        added,
        closing: plan.closing,
        staying_open: plan.staying_open,
        needs_reason: plan.needs_reason,
        reason: form.reason.clone().unwrap_or_default(),
        message: form
            .message
            .clone()
            .unwrap_or_else(|| plan.message.to_string()),
        error,
    };
    Ok((status, html(page)?).into_response())
}

pub(super) async fn post(
    State(state): State<AppState>,
    user: StaffUser,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let number = number_of(&number)?;
    let mode = match form.mode() {
        Ok(mode) => mode,
        Err(workflow::Error::Refused(r)) => {
            return respond(&state, &user, &number, Form::Link, Err(r.into()), "").await;
        }
        Err(e) => return Err(e.into()),
    };
    if form.confirm.as_deref() != Some("1") {
        return confirm_page(&state, &user, &number, mode, &form, None).await;
    }
    let confirmation = Confirmation {
        version: version(form.version.as_deref()).map_err(AppError::from)?,
        message: form.message.as_deref().unwrap_or_default(),
        reason: form.reason.as_deref().unwrap_or_default(),
    };
    let result = linking::link(&state.workflow, &user.actor, &number, mode, confirmation).await;
    match result {
        // What was typed on the confirmation is wrong: show it again with the refusal.
        Err(workflow::Error::Refused(r)) if r.kind() == RefusalKind::Invalid => {
            confirm_page(&state, &user, &number, mode, &form, Some(r.message())).await
        }
        result => {
            let done = result.map(|closed| {
                let also = if closed.is_empty() {
                    String::new()
                } else {
                    format!(" Закрыты также: № {}.", closed.join(", № "))
                };
                Done::back(format!(
                    "Заявитель связан с записью организации, обращение закрыто как решённое.{also}"
                ))
            });
            respond(&state, &user, &number, Form::Link, done, "").await
        }
    }
}
