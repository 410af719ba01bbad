//! The e-mails the applicant receives, rendered into outbox rows.

use askama::Template;

use crate::store::outbox::NewMessage;

pub struct AppealFacts<'a> {
    pub appeal_id: i64,
    pub number: &'a str,
    pub recipient: &'a str,
    /// «Имя Отчество» for the greeting.
    pub greeting_name: String,
    pub organization: &'a str,
    pub class_name: &'a str,
    pub subject_person: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "mail/registered.txt")]
struct RegisteredText<'a> {
    f: &'a AppealFacts<'a>,
}

#[derive(Template)]
#[template(path = "mail/registered.html")]
struct RegisteredHtml<'a> {
    f: &'a AppealFacts<'a>,
}

/// «Обращение № … зарегистрировано»: sent when the appeal is accepted.
pub fn registered(f: &AppealFacts<'_>) -> Result<NewMessage, askama::Error> {
    Ok(NewMessage {
        kind: "registered",
        appeal_id: Some(f.appeal_id),
        recipient: f.recipient.to_string(),
        subject: format!("Обращение № {} зарегистрировано", f.number),
        body_text: RegisteredText { f }.render()?,
        body_html: RegisteredHtml { f }.render()?,
    })
}
