//! Use cases: one function per thing a person does. Each takes typed input and the store,
//! decides with the rules of `domain/`, persists through `store/` (one transaction per
//! change, its e-mails in the outbox) and returns a typed outcome or a typed refusal.
//! Nothing here knows HTTP: no requests, responses, sessions or templates of pages.

pub mod admin;
pub mod applicant;
pub mod binding;
mod change;
pub mod dashboard;
pub mod escalation;
pub mod handback;
pub mod import;
pub mod inbox;
pub mod linking;
pub mod mail;
pub mod notices;
pub mod person_data;
pub mod retention;
pub mod review;
pub mod staff;

use std::sync::Arc;

use crate::domain::calendar::Calendar;
use crate::domain::deadlines::{Deadlines, Rules};
use crate::domain::status_link::StatusLinks;
use chrono::{FixedOffset, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use crate::domain::appeal::TextError;
use crate::domain::eligibility;
use crate::domain::status::Status;
use crate::store::registrar::Registrar;

/// What every use case works with: the database, the registrar of new appeals, the public address
/// for links in e-mails and the region's time zone. Cheap to clone.
#[derive(Clone)]
pub struct Workflow(Arc<Context>);

struct Context {
    db: DatabaseConnection,
    registrar: Registrar,
    public_url: String,
    offset: FixedOffset,
    deadlines: Deadlines,
    status_links: Option<StatusLinks>,
}

impl Workflow {
    /// With the default 59-ФЗ terms on the `holidays-ru` calendar; see [`Self::with_deadlines`].
    pub fn new(db: DatabaseConnection, public_url: String, offset: FixedOffset) -> Self {
        let deadlines = Deadlines {
            calendar: Calendar::default(),
            rules: Rules::default(),
            offset,
        };
        Self(Arc::new(Context {
            registrar: Registrar::new(db.clone()),
            db,
            public_url,
            offset,
            deadlines,
            status_links: None,
        }))
    }

    /// The configured terms, calendar corrections and status-link key (before the
    /// workflow is shared).
    pub fn configured(
        self,
        calendar: Calendar,
        rules: Rules,
        status_links: Option<StatusLinks>,
    ) -> Self {
        let c = &self.0;
        let deadlines = Deadlines {
            calendar,
            rules,
            offset: c.offset,
        };
        Self(Arc::new(Context {
            db: c.db.clone(),
            registrar: Registrar::new(c.db.clone()),
            public_url: c.public_url.clone(),
            offset: c.offset,
            deadlines,
            status_links,
        }))
    }

    /// The signer of status links, when a key is configured.
    pub fn status_links(&self) -> Option<&StatusLinks> {
        self.0.status_links.as_ref()
    }

    pub fn deadlines(&self) -> &Deadlines {
        &self.0.deadlines
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.0.db
    }

    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// The region's offset from UTC: dates are shown and appeals numbered in it.
    pub fn offset(&self) -> FixedOffset {
        self.0.offset
    }

    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.0.offset).date_naive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The person may not do this now; the refusal says why, in their words.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Nothing of that name, or nothing this person may see: the two look the same.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] DbErr),
    #[error("e-mail not rendered: {0}")]
    Render(#[from] askama::Error),
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Self::Refused(r)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How a refusal should be understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The input is incomplete or wrong; correcting it helps.
    Invalid,
    /// The appeal is not in a state for this (changed meanwhile, closed, linked).
    Conflict,
    /// The person may not do this at all.
    Forbidden,
    /// A request no page of ours sends.
    Malformed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Somebody else changed the appeal after the page was read.
    ChangedMeanwhile,
    Transition {
        from: Status,
        to: Status,
    },
    CannotForward(Status),
    AlreadyClosed(Status),
    AssignClosed,
    UnknownStatus,
    TextRequired(Status),
    Text(TextError),
    EmptyNote,
    ForwardTarget,
    ForwardReason,
    AssigneeOutOfScope,
    /// «Добавить в список» while similar records exist needs a reason.
    NewRecordReason,
    /// «Решено» for an applicant who is still not linked needs a confirmation.
    ResolveUnlinked,
    /// The roster record already signs in with another ESIA account.
    LinkedElsewhere,
    /// The roster record is linked already: a binding code would be pointless.
    AlreadyLinked,
    UnknownAction,
    NoReplyExpected,
    EmptyReply,
    /// Staff changed the appeal while the applicant was writing an answer.
    ReplyOvertaken,
    CodeEmpty,
    CodeUnknown,
    /// Too many codes tried by this account or from this address within an hour.
    TooManyCodes,
    Ineligible(eligibility::Refusal),
    StaffUnconfirmed,
    NotStaff,
    StaffWithoutUnit,
    /// The admin pages are for school administrators and operators.
    NotAdmin,
    /// An import that cannot start or go on, in the words of the person importing.
    Import(String),
    /// 59-ФЗ allows one extension of the answer term.
    AlreadyExtended,
    ExtensionReason,
    ExtendClosed,
}

const CHANGED_MEANWHILE: &str = "Обращение уже изменил другой сотрудник. Ниже — актуальное состояние; повторите действие, если оно ещё нужно.";

impl Refusal {
    pub fn kind(&self) -> RefusalKind {
        match self {
            Self::ChangedMeanwhile
            | Self::Transition { .. }
            | Self::CannotForward(_)
            | Self::AlreadyClosed(_)
            | Self::AssignClosed
            | Self::LinkedElsewhere
            | Self::AlreadyLinked
            | Self::ReplyOvertaken => RefusalKind::Conflict,
            Self::UnknownStatus
            | Self::TextRequired(_)
            | Self::Text(_)
            | Self::EmptyNote
            | Self::ForwardTarget
            | Self::ForwardReason
            | Self::AssigneeOutOfScope
            | Self::NewRecordReason
            | Self::ResolveUnlinked
            | Self::CodeEmpty
            | Self::CodeUnknown => RefusalKind::Invalid,
            Self::TooManyCodes => RefusalKind::Forbidden,
            Self::Ineligible(_)
            | Self::StaffUnconfirmed
            | Self::NotStaff
            | Self::StaffWithoutUnit
            | Self::NotAdmin => RefusalKind::Forbidden,
            Self::Import(_) | Self::ExtensionReason => RefusalKind::Invalid,
            Self::AlreadyExtended | Self::ExtendClosed => RefusalKind::Conflict,
            Self::UnknownAction | Self::NoReplyExpected | Self::EmptyReply => {
                RefusalKind::Malformed
            }
        }
    }

    /// The heading of a page that shows nothing but the refusal.
    pub fn title(&self) -> &'static str {
        match self {
            Self::ChangedMeanwhile | Self::ReplyOvertaken => "Обращение изменилось",
            Self::LinkedElsewhere | Self::AlreadyLinked => "Запись уже связана",
            Self::AlreadyClosed(_) | Self::AssignClosed => "Обращение закрыто",
            Self::Transition { .. } | Self::CannotForward(_) => "Действие недоступно",
            _ => match self.kind() {
                RefusalKind::Forbidden => "Доступ запрещён",
                _ => "Ошибка в запросе",
            },
        }
    }

    /// What the person is told.
    pub fn message(&self) -> String {
        match self {
            Self::ChangedMeanwhile => CHANGED_MEANWHILE.to_string(),
            Self::Transition { from, to } => format!(
                "Нельзя перевести обращение из статуса «{}» в «{}».",
                from.label(),
                to.label()
            ),
            Self::CannotForward(from) => format!(
                "Обращение в статусе «{}» перенаправить нельзя.",
                from.label()
            ),
            Self::AlreadyClosed(from) => {
                format!("Обращение в статусе «{}» уже закрыто.", from.label())
            }
            Self::AssignClosed => {
                "Обращение закрыто: назначать исполнителя больше не нужно.".to_string()
            }
            Self::UnknownStatus => "Неизвестный статус.".to_string(),
            Self::TextRequired(Status::NeedsInfo) => {
                "Напишите, какие сведения нужны от заявителя.".to_string()
            }
            Self::TextRequired(Status::Rejected) => "Укажите причину отказа.".to_string(),
            Self::TextRequired(_) => {
                "Укажите текст решения: он будет отправлен заявителю.".to_string()
            }
            Self::Text(e) => e.to_string(),
            Self::EmptyNote => "Заметка пуста.".to_string(),
            Self::ForwardTarget => "Выберите другую организацию из списка.".to_string(),
            Self::ForwardReason => "Укажите, почему обращение направляется в другую организацию: заявитель получит это пояснение.".to_string(),
            Self::AssigneeOutOfScope => "Назначить можно только сотрудника, который работает с обращениями этой организации.".to_string(),
            Self::NewRecordReason => "В списке есть похожие записи: напишите, почему нужна новая.".to_string(),
            Self::ResolveUnlinked => "Заявитель не связан — всё равно закрыть как решённое? Войдя снова, он по-прежнему увидит «Запись не найдена».".to_string(),
            Self::LinkedElsewhere => "Эта запись уже связана с другой учётной записью Госуслуг. Проверьте данные: возможно, это другой человек.".to_string(),
            Self::AlreadyLinked => "Эта запись уже связана с учётной записью Госуслуг; новый код не нужен. Если связь ошибочна, обратитесь к администратору.".to_string(),
            Self::UnknownAction => "Неизвестное действие.".to_string(),
            Self::NoReplyExpected => "Сейчас по этому обращению ответ не требуется.".to_string(),
            Self::EmptyReply => "Напишите ответ на вопрос сотрудника.".to_string(),
            Self::ReplyOvertaken => "Пока вы писали ответ, сотрудник изменил обращение. Откройте его заново: ваш текст не сохранён, скопируйте его перед обновлением.".to_string(),
            Self::CodeEmpty => {
                "Введите код привязки, выданный в образовательной организации.".to_string()
            }
            Self::CodeUnknown => {
                "Код не найден, уже использован или срок его действия истёк.".to_string()
            }
            Self::TooManyCodes => "Слишком много попыток ввести код. Попробуйте через час и проверьте код у сотрудника школы.".to_string(),
            Self::Ineligible(r) => r.message().to_string(),
            Self::StaffUnconfirmed => {
                "Сотрудники входят только с подтверждённой учётной записью Госуслуг.".to_string()
            }
            Self::NotStaff => "Ваша учётная запись Госуслуг не найдена среди сотрудников. Обратитесь к администратору: в вашей карточке сотрудника должен быть указан СНИЛС.".to_string(),
            Self::StaffWithoutUnit => {
                "У вашей учётной записи сотрудника не указана организация.".to_string()
            }
            Self::NotAdmin => "Раздел администрирования доступен администраторам школ и операторам. Выберите такую роль при входе или обратитесь к администратору.".to_string(),
            Self::Import(why) => why.clone(),
            Self::AlreadyExtended => "Срок ответа уже продлевался: по ч. 2 ст. 12 Федерального закона № 59-ФЗ его продлевают только один раз.".to_string(),
            Self::ExtensionReason => "Укажите причину продления: заявитель получит её в письме.".to_string(),
            Self::ExtendClosed => "Обращение закрыто: продлевать срок не нужно.".to_string(),
        }
    }
}

/// The version a form was rendered from, against the appeal as read now. A client that
/// sends none acts on the version just read (the UPDATE still refuses if it changed since).
fn check_version(expected: Option<i32>, current: i32) -> std::result::Result<(), Refusal> {
    match expected {
        Some(v) if v != current => Err(Refusal::ChangedMeanwhile),
        _ => Ok(()),
    }
}
