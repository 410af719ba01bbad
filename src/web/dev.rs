//! `/dev/mailbox`: the development mail viewer. Mounted only with the file transport, so
//! it cannot exist where real mail is sent.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;

use super::AppState;
use super::error::{AppError, AppResult};
use super::security::html;
use crate::mail::transport::{MailboxEntry, read_mailbox};

#[derive(Template)]
#[template(path = "dev/mailbox.html")]
struct MailboxPage {
    messages: Vec<MailboxEntry>,
}

#[derive(Template)]
#[template(path = "dev/message.html")]
struct MessagePage {
    message: MailboxEntry,
}

async fn entries(state: &AppState) -> AppResult<Vec<MailboxEntry>> {
    let dir = state.transport.mailbox_dir().ok_or(AppError::NotFound)?;
    read_mailbox(dir)
        .await
        .map_err(|e| AppError::Unexpected(e.into()))
}

async fn mailbox_get(State(state): State<AppState>) -> AppResult<Html<String>> {
    Ok(html(MailboxPage {
        messages: entries(&state).await?,
    })?)
}

async fn message_get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let message = entries(&state)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(AppError::NotFound)?;
    Ok(html(MessagePage { message })?)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dev/mailbox", get(mailbox_get))
        .route("/dev/mailbox/{id}", get(message_get))
}
