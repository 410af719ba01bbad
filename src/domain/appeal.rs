//! What an appeal carries besides the snapshot: the applicant's free-text comment and the
//! 59-ФЗ answer deadline.

use chrono::{DateTime, Utc};

use super::applicant::Snapshot;
use super::consent::Consent;
use super::status::Status;

/// An appeal as the application works with it: typed status and snapshot, read once at
/// the database edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appeal {
    pub id: i64,
    pub number: String,
    pub applicant_oid: String,
    pub snapshot: Snapshot,
    /// Groups open appeals about the same child at the same organization.
    pub subject_key: String,
    pub organization_id: i32,
    pub class_id: i32,
    pub comment: Option<String>,
    pub status: Status,
    pub assigned_staff_id: Option<i32>,
    /// Optimistic lock: every change increments it.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// A roster import made the applicant match this roster record exactly.
    pub roster_match: Option<i32>,
    /// The one extension of the answer term: when it was made and why.
    pub extension: Option<(DateTime<Utc>, String)>,
    pub answered_at: Option<DateTime<Utc>>,
    /// None for appeals filed before consent was asked for.
    pub consent: Option<Consent>,
}

impl Appeal {
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at < now
    }
}

pub const COMMENT_MAX_CHARS: usize = 2000;

/// Staff texts (resolutions, reasons, questions) may be longer than a comment.
pub const STAFF_TEXT_MAX_CHARS: usize = 4000;
pub const NOTE_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment(Option<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("Текст длиннее {0} символов.")]
    TooLong(usize),
    #[error("Текст содержит недопустимые управляющие или невидимые символы.")]
    ControlCharacters,
}

/// Free text from a form: trimmed, CRLF as LF, at most `max` characters. Line breaks and
/// tabs are kept; other control characters (often pasted from messengers) would corrupt
/// e-mails and exports, so they are refused, not stripped.
pub fn parse_text(raw: &str, max: usize) -> Result<Option<String>, TextError> {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim();
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || super::names::is_invisible(c))
    {
        return Err(TextError::ControlCharacters);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

impl Comment {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_text(raw, COMMENT_MAX_CHARS).map(Self)
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// Organization types: `type` in the API and `org_type` in the form (DESIGN.md).
pub const ORG_TYPES: [(&str, &str); 4] = [
    ("general", "Общеобразовательная"),
    ("preschool", "Дошкольная"),
    ("additional", "Дополнительного образования"),
    ("professional", "Профессиональная"),
];

pub const DEFAULT_ORG_TYPE: &str = "general";

pub fn is_org_type(s: &str) -> bool {
    ORG_TYPES.iter().any(|(code, _)| *code == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_comment_is_none() {
        assert_eq!(Comment::parse("  \r\n ").unwrap().into_inner(), None);
    }

    #[test]
    fn limit_counts_characters_not_bytes() {
        assert!(Comment::parse(&"ж".repeat(2000)).is_ok());
        assert_eq!(
            Comment::parse(&"ж".repeat(2001)),
            Err(TextError::TooLong(2000))
        );
    }

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_refused() {
        for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}'] {
            assert_eq!(
                Comment::parse(&format!("отец{c}ьнёбер")),
                Err(TextError::ControlCharacters)
            );
        }
    }

    #[test]
    fn control_characters_are_refused_but_newlines_kept() {
        assert_eq!(Comment::parse("a\u{0}b"), Err(TextError::ControlCharacters));
        assert_eq!(
            Comment::parse("a\u{1b}[31m"),
            Err(TextError::ControlCharacters)
        );
        assert_eq!(
            Comment::parse("строка 1\r\nстрока 2")
                .unwrap()
                .into_inner()
                .unwrap(),
            "строка 1\nстрока 2"
        );
    }
}
