//! The e-mails of the product, rendered from `templates/mail/` into outbox rows.

use askama::Template;

use crate::domain::appeal::Appeal;
use crate::domain::status::Status;
use crate::store::outbox::NewMessage;

/// What every applicant e-mail says about the appeal.
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
    /// The signed link to the status without a login, when links are on.
    pub status_url: Option<String>,
}

impl<'a> AppealFacts<'a> {
    /// `None` when the applicant's ESIA profile has no e-mail: nothing to send.
    pub fn new(
        a: &'a Appeal,
        organization: &'a str,
        class_name: &'a str,
        public_url: &str,
        links: Option<&crate::domain::status_link::StatusLinks>,
    ) -> Option<Self> {
        let snapshot = &a.snapshot;
        Some(Self {
            appeal_id: a.id,
            number: &a.number,
            recipient: snapshot.email.as_deref()?,
            greeting_name: format!("{} {}", snapshot.name.first, snapshot.name.middle)
                .trim()
                .to_string(),
            organization,
            class_name,
            subject_person: snapshot.subject_name().full(),
            url: format!("{public_url}/appeals/{}", a.number),
            status_url: links.map(|l| format!("{public_url}/s/{}", l.token(&a.number))),
        })
    }
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

#[derive(Template)]
#[template(path = "mail/status.txt")]
struct StatusText<'a> {
    f: &'a AppealFacts<'a>,
    headline: String,
    text_label: &'static str,
    text: Option<&'a str>,
    answerable: bool,
}

#[derive(Template)]
#[template(path = "mail/status.html")]
struct StatusHtml<'a> {
    f: &'a AppealFacts<'a>,
    headline: String,
    text_label: &'static str,
    text: Option<&'a str>,
    answerable: bool,
}

/// The e-mail for a status the applicant should know about; `text` is the resolution,
/// the reason or the question. `forwarded_to` names the new organization.
pub fn status_changed(
    f: &AppealFacts<'_>,
    status: Status,
    text: Option<&str>,
    forwarded_to: Option<&str>,
) -> Result<NewMessage, askama::Error> {
    let (headline, text_label) = match status {
        Status::InProgress => ("Ваше обращение взято в работу.".to_string(), ""),
        Status::NeedsInfo => (
            "Для рассмотрения обращения нужны дополнительные сведения.".to_string(),
            "Вопрос сотрудника",
        ),
        Status::Resolved => (
            "Ваше обращение рассмотрено: проблема решена.".to_string(),
            "Решение",
        ),
        Status::Rejected => (
            "Ваше обращение рассмотрено и отклонено.".to_string(),
            "Причина",
        ),
        Status::Forwarded => (
            format!(
                "Ваше обращение перенаправлено в организацию «{}», к компетенции которой относится решение вопроса (ст. 8 Федерального закона № 59-ФЗ).",
                forwarded_to.unwrap_or_default()
            ),
            "Пояснение",
        ),
        Status::New => ("Ваше обращение зарегистрировано.".to_string(), ""),
    };
    // A question is answered on the appeal page, never by replying to the e-mail.
    let answerable = status == Status::NeedsInfo;
    let subject = status.label().to_lowercase();
    notice(
        f,
        status.as_str(),
        &subject,
        headline,
        (text_label, text),
        answerable,
    )
}

/// «Срок рассмотрения продлён» (59-ФЗ ст. 12 ч. 2): the new date and the reason.
pub fn deadline_extended(
    f: &AppealFacts<'_>,
    until: &str,
    reason: &str,
) -> Result<NewMessage, askama::Error> {
    let headline = format!(
        "Срок рассмотрения вашего обращения продлён до {until} (ч. 2 ст. 12 Федерального закона № 59-ФЗ)."
    );
    let subject = format!("срок рассмотрения продлён до {until}");
    notice(
        f,
        "extended",
        &subject,
        headline,
        ("Причина", Some(reason)),
        false,
    )
}

/// A letter to the applicant about their appeal, in the status letter's layout.
fn notice(
    f: &AppealFacts<'_>,
    kind: &'static str,
    subject: &str,
    headline: String,
    (text_label, text): (&'static str, Option<&str>),
    answerable: bool,
) -> Result<NewMessage, askama::Error> {
    Ok(NewMessage {
        kind,
        appeal_id: Some(f.appeal_id),
        recipient: f.recipient.to_string(),
        subject: format!("Обращение № {}: {subject}", f.number),
        body_text: StatusText {
            f,
            headline: headline.clone(),
            text_label,
            text,
            answerable,
        }
        .render()?,
        body_html: StatusHtml {
            f,
            headline,
            text_label,
            text,
            answerable,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/staff_notice.txt")]
struct StaffNoticeText<'a> {
    headline: &'a str,
    number: &'a str,
    organization: &'a str,
    class_name: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/staff_notice.html")]
struct StaffNoticeHtml<'a> {
    headline: &'a str,
    number: &'a str,
    organization: &'a str,
    class_name: &'a str,
    url: &'a str,
}

/// Why staff are written to about one appeal.
#[derive(Debug, Clone, Copy)]
pub enum StaffNotice {
    /// A new (or forwarded) appeal is in their inbox.
    New,
    /// The applicant answered the question staff asked.
    Answered,
}

/// Tells staff about an appeal. No personal data: the link leads to the appeal page,
/// where access is checked and logged.
pub fn staff_notice(
    notice: StaffNotice,
    recipient: &str,
    a: &Appeal,
    organization: &str,
    class_name: &str,
    public_url: &str,
) -> Result<NewMessage, askama::Error> {
    let url = format!("{public_url}/staff/appeals/{}", a.number);
    let (number, url) = (a.number.as_str(), url.as_str());
    let (kind, subject, headline) = match notice {
        StaffNotice::New => (
            "staff_new",
            format!("Новое обращение № {number}"),
            "Поступило обращение о проблеме доступа.",
        ),
        StaffNotice::Answered => (
            "staff_answered",
            format!("Ответ заявителя по обращению № {number}"),
            "Заявитель ответил на вопрос сотрудника.",
        ),
    };
    Ok(NewMessage {
        kind,
        appeal_id: Some(a.id),
        recipient: recipient.to_string(),
        subject,
        body_text: StaffNoticeText {
            headline,
            number,
            organization,
            class_name,
            url,
        }
        .render()?,
        body_html: StaffNoticeHtml {
            headline,
            number,
            organization,
            class_name,
            url,
        }
        .render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/staff_digest.txt")]
struct StaffDigestText<'a> {
    numbers: &'a [String],
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/staff_digest.html")]
struct StaffDigestHtml<'a> {
    numbers: &'a [String],
    public_url: &'a str,
}

/// One e-mail for all appeals that arrived since the last digest.
pub fn staff_digest(
    recipient: &str,
    numbers: &[String],
    public_url: &str,
) -> Result<NewMessage, askama::Error> {
    Ok(NewMessage {
        kind: "staff_digest",
        appeal_id: None,
        recipient: recipient.to_string(),
        subject: format!("Новые обращения: {}", numbers.len()),
        body_text: StaffDigestText {
            numbers,
            public_url,
        }
        .render()?,
        body_html: StaffDigestHtml {
            numbers,
            public_url,
        }
        .render()?,
    })
}

/// One appeal in the deadline digest.
#[derive(Clone)]
pub struct DueLine {
    pub number: String,
    pub organization: String,
    pub due: String,
}

#[derive(Template)]
#[template(path = "mail/staff_deadlines.txt")]
struct StaffDeadlinesText<'a> {
    overdue: &'a [DueLine],
    soon: &'a [DueLine],
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/staff_deadlines.html")]
struct StaffDeadlinesHtml<'a> {
    overdue: &'a [DueLine],
    soon: &'a [DueLine],
    public_url: &'a str,
}

/// The morning digest of overdue appeals and those expiring within three working days.
pub fn staff_deadlines(
    recipient: &str,
    overdue: &[DueLine],
    soon: &[DueLine],
    public_url: &str,
) -> Result<NewMessage, askama::Error> {
    Ok(NewMessage {
        kind: "staff_deadlines",
        appeal_id: None,
        recipient: recipient.to_string(),
        subject: format!(
            "Сроки ответа: просрочено {}, истекает {}",
            overdue.len(),
            soon.len()
        ),
        body_text: StaffDeadlinesText {
            overdue,
            soon,
            public_url,
        }
        .render()?,
        body_html: StaffDeadlinesHtml {
            overdue,
            soon,
            public_url,
        }
        .render()?,
    })
}
