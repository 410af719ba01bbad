//! Appeal statuses, the transitions staff may make, and which of them the applicant is told.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    InProgress,
    NeedsInfo,
    Resolved,
    Rejected,
    Forwarded,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::InProgress,
        Status::NeedsInfo,
        Status::Resolved,
        Status::Rejected,
        Status::Forwarded,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::NeedsInfo => "needs_info",
            Self::Resolved => "resolved",
            Self::Rejected => "rejected",
            Self::Forwarded => "forwarded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::New => "Зарегистрировано",
            Self::InProgress => "На рассмотрении",
            Self::NeedsInfo => "Требуются сведения",
            Self::Resolved => "Решено",
            Self::Rejected => "Отклонено",
            Self::Forwarded => "Перенаправлено",
        }
    }

    /// Forwarded appeals are open: the receiving organization answers them.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::New | Self::InProgress | Self::NeedsInfo | Self::Forwarded
        )
    }

    /// Closed appeals stay closed: a new problem is a new appeal with its own deadline.
    /// Forwarding again is allowed (the next organization may not be competent either).
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (Forwarded, Forwarded) => true,
            (a, b) if a == b => false,
            (a, InProgress | NeedsInfo | Resolved | Rejected | Forwarded) => a.is_open(),
            _ => false,
        }
    }

    /// The `status` values of open appeals.
    pub fn open_values() -> Vec<&'static str> {
        Self::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect()
    }

    /// Statuses staff set with the status form (forwarding has its own form).
    pub const SETTABLE: [Status; 4] = [
        Status::InProgress,
        Status::NeedsInfo,
        Status::Resolved,
        Status::Rejected,
    ];

    /// A resolution or rejection text is part of the answer 59-ФЗ requires.
    pub fn requires_text(self) -> bool {
        matches!(
            self,
            Self::NeedsInfo | Self::Resolved | Self::Rejected | Self::Forwarded
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_appeals_move_forward_closed_ones_do_not() {
        assert!(Status::New.can_move_to(Status::InProgress));
        assert!(Status::NeedsInfo.can_move_to(Status::Resolved));
        assert!(!Status::Resolved.can_move_to(Status::New));
        assert!(!Status::Rejected.can_move_to(Status::InProgress));
        assert!(!Status::InProgress.can_move_to(Status::New));
        assert!(!Status::New.can_move_to(Status::New));
        assert!(Status::Forwarded.can_move_to(Status::Resolved));
        assert!(Status::Forwarded.can_move_to(Status::Forwarded));
        assert!(!Status::Resolved.can_move_to(Status::Forwarded));
    }

    #[test]
    fn round_trips_and_rejects_unknown() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("closed"), None);
    }
}
