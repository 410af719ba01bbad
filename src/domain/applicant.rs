//! The person behind an ESIA login, as read from ESIA and kept in the server-side session.
//! An appeal stores a copy of it as its immutable snapshot.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::names::PersonName;
use super::snils::Snils;

/// Which entry button the person used; it decides what ESIA is asked for and who the
/// subject of an appeal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginRole {
    Parent,
    Student,
    Staff,
}

impl LoginRole {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "parent" => Some(Self::Parent),
            "student" => Some(Self::Student),
            "staff" => Some(Self::Staff),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::Student => "student",
            Self::Staff => "staff",
        }
    }

    /// «Роль» on the appeal form, as СГО names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Parent => "Родитель",
            Self::Student => "Обучающийся",
            Self::Staff => "Сотрудник",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Child {
    /// The kid's id in the parent's ESIA profile.
    pub esia_id: String,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub snils: Option<Snils>,
}

/// Who the person is, as ESIA says: kept in the session and copied into every appeal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub oid: String,
    pub role: LoginRole,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub snils: Option<Snils>,
    /// A verified e-mail of the ESIA profile: the one letters go to.
    pub email: Option<String>,
    /// An e-mail the profile has but ESIA has not verified: it only prefills the form's
    /// question for an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unverified_email: Option<String>,
    /// A confirmed («подтверждённая») ESIA account.
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    #[serde(flatten)]
    pub identity: Identity,
    pub kids: Vec<Child>,
}

impl std::ops::Deref for Applicant {
    type Target = Identity;
    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl Applicant {
    pub fn kid(&self, esia_id: &str) -> Option<&Child> {
        self.kids.iter().find(|k| k.esia_id == esia_id)
    }

    pub fn age_on(&self, today: NaiveDate) -> u32 {
        full_years(self.birth_date, today)
    }
}

/// The immutable copy of the ESIA claims an appeal keeps: the applicant and, for a
/// parent, only the child the appeal is about (152-ФЗ: no more than the purpose needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub identity: Identity,
    pub child: Option<Child>,
    /// The e-mail was typed in the form: ESIA had no verified one.
    #[serde(default)]
    pub email_from_applicant: bool,
}

impl std::ops::Deref for Snapshot {
    type Target = Identity;
    fn deref(&self) -> &Identity {
        &self.identity
    }
}

impl Snapshot {
    /// `typed_email`: the address the applicant gave when ESIA had no verified one.
    pub fn new(applicant: &Applicant, child: Option<Child>, typed_email: Option<String>) -> Self {
        let mut identity = applicant.identity.clone();
        identity.unverified_email = None;
        let email_from_applicant = identity.email.is_none() && typed_email.is_some();
        if email_from_applicant {
            identity.email = typed_email;
        }
        Self {
            identity,
            child,
            email_from_applicant,
        }
    }

    /// What an appeal keeps of the person after the retention term (152-ФЗ): the role
    /// and whether the account was confirmed, for statistics; no name, date, СНИЛС,
    /// e-mail or ESIA id.
    pub fn anonymized(&self) -> Snapshot {
        let unknown = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default();
        let nobody = PersonName::new("Обезличено", "", "");
        Snapshot {
            identity: Identity {
                oid: String::new(),
                role: self.identity.role,
                name: nobody.clone(),
                birth_date: unknown,
                snils: None,
                email: None,
                unverified_email: None,
                confirmed: self.identity.confirmed,
            },
            child: self.child.as_ref().map(|_| Child {
                esia_id: String::new(),
                name: nobody,
                birth_date: unknown,
                snils: None,
            }),
            email_from_applicant: false,
        }
    }

    /// The child the appeal is about, for a parent's appeal.
    pub fn child_name(&self) -> Option<String> {
        self.child.as_ref().map(|c| c.name.full())
    }

    /// The person whose access is the problem: the child, or a student themself.
    pub fn subject_name(&self) -> &PersonName {
        self.child.as_ref().map(|c| &c.name).unwrap_or(&self.name)
    }

    pub fn subject_birth_date(&self) -> NaiveDate {
        self.child
            .as_ref()
            .map(|c| c.birth_date)
            .unwrap_or(self.birth_date)
    }

    /// Groups appeals about the same person: two parents of one child file separately,
    /// and ESIA gives each parent its own id for the kid, so the key is name + birth date.
    pub fn subject_key(&self) -> String {
        subject_key(self.subject_name(), self.subject_birth_date())
    }

    /// What staff search by: applicant and child names in normal form.
    pub fn search_text(&self) -> String {
        match &self.child {
            Some(c) => format!("{} {}", self.name.norm(), c.name.norm()),
            None => self.name.norm(),
        }
    }
}

/// The key appeals about one person share, and that a roster record of that person has.
pub fn subject_key(name: &PersonName, birth_date: NaiveDate) -> String {
    format!("{}|{}", name.norm(), birth_date)
}

/// Completed years between two dates (a birthday on 29 February counts on 1 March in
/// common years, as Russian civil law does).
pub fn full_years(born: NaiveDate, today: NaiveDate) -> u32 {
    let mut years = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn age_counts_completed_years() {
        assert_eq!(full_years(d(2012, 11, 24), d(2026, 11, 23)), 13);
        assert_eq!(full_years(d(2012, 11, 23), d(2026, 11, 23)), 14);
        assert_eq!(full_years(d(2012, 2, 29), d(2026, 2, 28)), 13);
        assert_eq!(full_years(d(2012, 2, 29), d(2026, 3, 1)), 14);
    }
}
