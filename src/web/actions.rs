//! Changing an appeal: the row, the roster, the history and the applicant's e-mail in one
//! transaction. Used by the staff actions and by the automatic resolution at login.

use chrono::Utc;

use super::AppState;
use super::error::AppResult;
use crate::domain::applicant::Snapshot;
use crate::domain::status::Status;
use crate::mail::messages::{self, AppealFacts};
use crate::store::appeals::{self as appeal_store, Applied, Change, Effects, Event, RosterChange};
use crate::store::directory;
use crate::store::entities::appeal;

pub struct Action {
    pub kind: &'static str,
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
    pub extra_mail: Vec<crate::store::outbox::NewMessage>,
    /// Further history entries (e.g. where a forwarded appeal went).
    pub extra_events: Vec<Event>,
    /// Digest subscribers to queue the appeal for (a forward into their scope).
    pub digest_staff: Vec<i32>,
}

impl Action {
    pub fn status(status: Status, text: Option<String>, actor_staff_id: Option<i32>) -> Self {
        Self {
            kind: "status",
            status: Some(status),
            text,
            actor_staff_id,
            by_applicant: false,
            change: Change {
                status: Some(status),
                ..Default::default()
            },
            roster: RosterChange::None,
            forwarded_to: None,
            extra_mail: Vec::new(),
            extra_events: Vec::new(),
            digest_staff: Vec::new(),
        }
    }
}

pub async fn perform(state: &AppState, a: &appeal::Model, action: Action) -> AppResult<Applied> {
    let snapshot: Snapshot = serde_json::from_str(&a.snapshot).map_err(anyhow::Error::from)?;
    let organization = directory::organization(&state.db, a.organization_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let class = directory::class(&state.db, a.class_id)
        .await?
        .map(|c| c.name)
        .unwrap_or_default();
    let mut mail = action.extra_mail;
    if let Some(status) = action.status.filter(|_| !action.by_applicant)
        && let Some(facts) =
            AppealFacts::new(a, &snapshot, &organization, &class, &state.public_url)
    {
        mail.push(messages::status_changed(
            &facts,
            status,
            action.text.as_deref(),
            action.forwarded_to.as_deref(),
        )?);
    }
    let actor = match (action.by_applicant, action.actor_staff_id) {
        (true, _) => appeal_store::ACTOR_APPLICANT,
        (false, Some(_)) => appeal_store::ACTOR_STAFF,
        (false, None) => appeal_store::ACTOR_SYSTEM,
    };
    let mut events = vec![Event {
        kind: action.kind,
        to: action.status,
        actor,
        actor_staff_id: action.actor_staff_id,
        message: action.text,
    }];
    events.extend(action.extra_events);
    Ok(appeal_store::apply(
        &state.db,
        a,
        action.change,
        action.roster,
        Effects {
            events,
            mail,
            digest_staff: action.digest_staff,
        },
        Utc::now(),
    )
    .await?)
}

/// Said when a login links the applicant by itself.
pub const AUTO_LINKED_TEXT: &str = "Учётная запись Госуслуг связана с вашими данными в системе при входе. Обращение закрыто автоматически.";

/// Once the applicant is linked to a school's roster, the appeals they filed about that
/// school have done their job: resolve them with `text` and say so.
pub async fn resolve_after_link(
    state: &AppState,
    oid: &str,
    organization_id: i32,
    text: &str,
) -> AppResult<usize> {
    let mut resolved = 0;
    for a in appeal_store::open_of_applicant_at(&state.db, oid, organization_id).await? {
        let action = Action::status(Status::Resolved, Some(text.to_string()), None);
        if perform(state, &a, action).await? == Applied::Done {
            resolved += 1;
        }
    }
    Ok(resolved)
}
