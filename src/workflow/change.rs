//! Changing an appeal: the row, the roster, the history and the applicant's e-mail in one
//! transaction. Every use case that moves an appeal goes through here.

use chrono::Utc;

use super::{Refusal, Result, Workflow};
use crate::domain::appeal::Appeal;
use crate::domain::history::{Actor, EventKind};
use crate::domain::status::Status;
use crate::mail::messages::{self, AppealFacts};
use crate::store::appeals::{self as appeal_store, Applied, Change, Effects, Event, RosterChange};
use crate::store::directory;
use crate::store::outbox::NewMessage;

pub(super) struct Action {
    pub kind: EventKind,
    pub status: Option<Status>,
    /// Resolution, reason or question: shown to the applicant and e-mailed.
    pub text: Option<String>,
    pub actor_staff_id: Option<i32>,
    /// The applicant acts (answering a question); they are not e-mailed about their own step.
    pub by_applicant: bool,
    pub change: Change,
    pub roster: RosterChange,
    pub forwarded_to: Option<String>,
    /// Further e-mails (e.g. to the staff an appeal is forwarded to), same transaction.
    pub extra_mail: Vec<NewMessage>,
    /// Further history entries (e.g. where a forwarded appeal went).
    pub extra_events: Vec<Event>,
    /// Digest subscribers to queue the appeal for (a forward into their scope).
    pub digest_staff: Vec<i32>,
}

impl Action {
    pub fn new(kind: EventKind, actor_staff_id: Option<i32>) -> Self {
        Self {
            kind,
            status: None,
            text: None,
            actor_staff_id,
            by_applicant: false,
            change: Change::default(),
            roster: RosterChange::None,
            forwarded_to: None,
            extra_mail: Vec::new(),
            extra_events: Vec::new(),
            digest_staff: Vec::new(),
        }
    }

    /// A move to `status` with the text the applicant gets.
    pub fn status(status: Status, text: Option<String>, actor_staff_id: Option<i32>) -> Self {
        Self {
            status: Some(status),
            text,
            change: Change {
                status: Some(status),
                ..Default::default()
            },
            ..Self::new(EventKind::Status, actor_staff_id)
        }
    }
}

/// The organization's and the class's names, as the applicant's letters show them.
pub(super) async fn place_names(wf: &Workflow, a: &Appeal) -> Result<(String, String)> {
    let db = wf.db();
    let organization = directory::organization(db, a.organization_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let class = directory::class(db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    Ok((organization, class))
}

/// Applies `action` to `a` if nobody changed the appeal since it was read.
pub(super) async fn perform(wf: &Workflow, a: &Appeal, action: Action) -> Result<()> {
    let db = wf.db();
    let (organization, class) = place_names(wf, a).await?;
    let mut mail = action.extra_mail;
    if let Some(status) = action.status.filter(|_| !action.by_applicant)
        && let Some(facts) =
            AppealFacts::new(a, &organization, &class, wf.public_url(), wf.status_links())
    {
        mail.push(messages::status_changed(
            &facts,
            status,
            action.text.as_deref(),
            action.forwarded_to.as_deref(),
        )?);
    }
    let actor = match (action.by_applicant, action.actor_staff_id) {
        (true, _) => Actor::Applicant,
        (false, Some(_)) => Actor::Staff,
        (false, None) => Actor::System,
    };
    let mut events = vec![Event {
        kind: action.kind,
        to: action.status,
        actor,
        actor_staff_id: action.actor_staff_id,
        message: action.text,
    }];
    events.extend(action.extra_events);
    let effects = Effects {
        events,
        mail,
        digest_staff: action.digest_staff,
    };
    match appeal_store::apply(db, a, action.change, action.roster, effects, Utc::now()).await? {
        Applied::Done => Ok(()),
        Applied::Conflict => Err(Refusal::ChangedMeanwhile.into()),
        Applied::Taken => Err(Refusal::LinkedElsewhere.into()),
    }
}
