//! An appeal's history: what happened, who did it, and which entries the applicant sees.

use chrono::{DateTime, Utc};

use super::status::Status;

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Registered,
    Routed,
    Status,
    Reply,
    Note,
    Assigned,
    Roster,
    BindingCode,
    /// The answer term extended (59-ФЗ ст. 12 ч. 2).
    Extended,
}

impl EventKind {
    pub const ALL: [EventKind; 9] = [
        Self::Registered,
        Self::Routed,
        Self::Status,
        Self::Reply,
        Self::Note,
        Self::Assigned,
        Self::Roster,
        Self::BindingCode,
        Self::Extended,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Routed => "routed",
            Self::Status => "status",
            Self::Reply => "reply",
            Self::Note => "note",
            Self::Assigned => "assigned",
            Self::Roster => "roster",
            Self::BindingCode => "binding_code",
            Self::Extended => "extended",
        }
    }

    /// Notes, assignments and roster work are internal; the rest is the applicant's too.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            Self::Registered | Self::Routed | Self::Status | Self::Reply | Self::Extended
        )
    }
}

/// Who made a history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Applicant,
    Staff,
    System,
}

impl Actor {
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Applicant, Self::Staff, Self::System]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applicant => "applicant",
            Self::Staff => "staff",
            Self::System => "system",
        }
    }
}

/// One history entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EventKind,
    pub to_status: Option<Status>,
    pub actor: Actor,
    pub actor_staff_id: Option<i32>,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Entry {
    /// The line shown in the history: what happened, then the message.
    pub fn text(&self) -> String {
        let base = match self.kind {
            EventKind::Registered => "Обращение зарегистрировано.".to_string(),
            EventKind::Status => format!(
                "Статус изменён: {}.",
                self.to_status.map(Status::label).unwrap_or("—")
            ),
            EventKind::Reply => "Ответ заявителя:".to_string(),
            EventKind::Extended => "Срок ответа продлён".to_string(),
            _ => String::new(),
        };
        match &self.message {
            Some(m) if base.is_empty() => m.clone(),
            Some(m) => format!("{base} {m}"),
            None => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_actors_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("deleted"), None);
        assert_eq!(Actor::parse("staff"), Some(Actor::Staff));
        assert_eq!(Actor::parse("robot"), None);
    }

    #[test]
    fn status_entries_name_the_new_status() {
        let e = Entry {
            kind: EventKind::Status,
            to_status: Some(Status::Resolved),
            actor: Actor::Staff,
            actor_staff_id: Some(1),
            message: Some("Исправлено.".into()),
            created_at: Utc::now(),
        };
        assert_eq!(e.text(), "Статус изменён: Решено. Исправлено.");
        assert!(!EventKind::Note.is_public());
    }
}
