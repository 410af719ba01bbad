//! Delivery: lettre SMTP in production; in development a directory that `/dev/mailbox`
//! shows (each message as `.eml` plus a `.json` summary).

use std::path::PathBuf;
use std::time::Duration;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use serde::{Deserialize, Serialize};

use super::smtp::SmtpServer;
use crate::config::{MailSettings, MailTransportKind};
use crate::store::entities::outbox;

pub enum Transport {
    Smtp(SmtpServer),
    Mailbox(PathBuf),
}

/// What the development mailbox shows of a message.
#[derive(Debug, Serialize, Deserialize)]
pub struct MailboxEntry {
    pub id: i64,
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message itself is unusable (bad address): retrying cannot help.
    #[error("message rejected: {0}")]
    Permanent(String),
    #[error("delivery failed: {0}")]
    Transient(String),
}

impl Transport {
    pub fn from_settings(s: &MailSettings) -> anyhow::Result<Self> {
        Ok(match s.transport {
            MailTransportKind::Smtp => Self::Smtp(
                SmtpServer::from_url(
                    s.smtp_url.expose(),
                    Duration::from_secs(s.send_timeout_secs),
                )
                .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?,
            ),
            MailTransportKind::File => Self::Mailbox(s.mailbox_dir.clone()),
        })
    }

    pub fn mailbox_dir(&self) -> Option<&PathBuf> {
        match self {
            Self::Mailbox(dir) => Some(dir),
            Self::Smtp(_) => None,
        }
    }

    pub async fn send(
        &self,
        row: &outbox::Model,
        from: &Mailbox,
        timeout: Duration,
    ) -> Result<(), SendError> {
        let email = message(row, from)?;
        match self {
            Self::Smtp(smtp) => {
                let bytes = email.formatted();
                let send = smtp.send(email.envelope(), &bytes);
                match tokio::time::timeout(timeout, send).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                    Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
                    Err(_) => Err(SendError::Transient("SMTP send timed out".into())),
                }
            }
            Self::Mailbox(dir) => {
                let io = |e: std::io::Error| SendError::Transient(e.to_string());
                tokio::fs::create_dir_all(dir).await.map_err(io)?;
                tokio::fs::write(dir.join(format!("{:010}.eml", row.id)), email.formatted())
                    .await
                    .map_err(io)?;
                let entry = MailboxEntry {
                    id: row.id,
                    message_id: message_id(row.id, from),
                    to: row.recipient.clone(),
                    subject: row.subject.clone(),
                    text: row.body_text.clone(),
                    html: row.body_html.clone(),
                    sent_at: chrono::Utc::now().to_rfc3339(),
                };
                let json = serde_json::to_vec_pretty(&entry)
                    .map_err(|e| SendError::Transient(e.to_string()))?;
                tokio::fs::write(dir.join(format!("{:010}.json", row.id)), json)
                    .await
                    .map_err(io)
            }
        }
    }
}

/// The e-mail of an outbox row: plain text and HTML alternatives.
pub fn message(row: &outbox::Model, from: &Mailbox) -> Result<Message, SendError> {
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|_| SendError::Permanent("invalid recipient address".into()))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(message_id(row.id, from)))
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|e| SendError::Permanent(e.to_string()))
}

/// Stable per outbox row, so a message retried after a crash is recognisably the same.
pub fn message_id(outbox_id: i64, from: &Mailbox) -> String {
    format!("<appeals-outbox-{outbox_id}@{}>", from.email.domain())
}

/// Reads the development mailbox, newest first.
pub async fn read_mailbox(dir: &std::path::Path) -> std::io::Result<Vec<MailboxEntry>> {
    let mut entries = Vec::new();
    let mut rd = match tokio::fs::read_dir(dir).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(entries),
        Err(e) => return Err(e),
    };
    while let Some(item) = rd.next_entry().await? {
        if item.path().extension().is_some_and(|x| x == "json")
            && let Ok(bytes) = tokio::fs::read(item.path()).await
            && let Ok(entry) = serde_json::from_slice::<MailboxEntry>(&bytes)
        {
            entries.push(entry);
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.id));
    Ok(entries)
}
