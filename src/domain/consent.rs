//! Consent to the processing of personal data (152-ФЗ ст. 9). Since 01.09.2025 it is a
//! document of its own, given apart from anything else the person signs or reads (ч. 1 as
//! amended by 156-ФЗ of 24.06.2025): a step of its own before the first appeal. The text
//! lives in `templates/consent/`; each wording is a version, and a person who agreed to an
//! older one is asked again.

use chrono::{DateTime, Utc};

/// The wording in force: `templates/consent/v1.html`. A new wording gets a new file and a
/// new version; the old file stays, since appeals name the version they were filed under.
pub const VERSION: &str = "1";

/// The consent an appeal was filed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub version: String,
    pub given_at: DateTime<Utc>,
}
