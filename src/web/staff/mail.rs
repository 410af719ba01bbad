//! `/staff/mail`: dead and long-pending e-mails for the administrator, with re-queueing.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;

use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::security::html;
use crate::web::session::StaffUser;
use crate::web::templates::{Layout, flash, ru_datetime};
use crate::workflow::mail;

pub struct Row {
    pub id: i64,
    pub state: &'static str,
    pub dead: bool,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    pub error: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "staff/mail.html")]
struct MailPage {
    layout: Layout,
    rows: Vec<Row>,
}

pub(super) async fn get(State(state): State<AppState>, user: StaffUser) -> AppResult<Html<String>> {
    let offset = state.workflow.offset();
    let rows = mail::troubled(&state.workflow, &user.actor)
        .await?
        .into_iter()
        .map(|m| {
            let dead = m.status == crate::store::outbox::DEAD;
            Row {
                id: m.id,
                state: if dead {
                    "не отправлено"
                } else {
                    "ждёт отправки"
                },
                dead,
                recipient: m.recipient,
                subject: m.subject,
                attempts: m.attempts,
                error: m.last_error.unwrap_or_default(),
                created: ru_datetime(m.created_at, offset),
            }
        })
        .collect();
    Ok(html(MailPage {
        layout: Layout::new(&user.session).await?,
        rows,
    })?)
}

#[derive(Deserialize)]
pub(super) struct RequeueForm {
    id: Option<String>,
}

pub(super) async fn requeue(
    State(state): State<AppState>,
    user: StaffUser,
    CsrfForm(form): CsrfForm<RequeueForm>,
) -> AppResult<Redirect> {
    // No id: every dead message; an id that is no number is a mistake, not «all».
    let id = match form.id.as_deref() {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| AppError::BadRequest("Неизвестное письмо.".into()))?,
        ),
    };
    let n = mail::requeue(&state.workflow, &user.actor, id).await?;
    flash(
        &user.session,
        format!("Поставлено в очередь повторно: {n}."),
    )
    .await?;
    Ok(Redirect::to("/staff/mail"))
}
