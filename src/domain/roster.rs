//! People on a school's roster, as the school information system lists them.

use chrono::NaiveDate;

use super::applicant::{LoginRole, subject_key};
use super::names::PersonName;
use super::snils::Snils;

/// A roster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i32,
    pub organization_id: i32,
    pub role: RosterRole,
    pub name: PersonName,
    pub birth_date: NaiveDate,
    pub snils: Option<String>,
    pub class_id: Option<i32>,
}

impl Person {
    /// The key of the appeals about this person (see `Snapshot::subject_key`).
    pub fn subject_key(&self) -> String {
        subject_key(&self.name, self.birth_date)
    }
}

/// One field «Исправить по Госуслугам» changes in a roster record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

/// What correcting `before` to the ESIA data changes. ESIA without a СНИЛС says nothing
/// about it: the school's value stays.
pub fn corrections(
    before: &Person,
    name: &PersonName,
    birth_date: NaiveDate,
    snils: Option<&Snils>,
) -> Vec<Correction> {
    let date = |d: NaiveDate| d.format("%d.%m.%Y").to_string();
    let mut out = Vec::new();
    let mut field = |field, from: String, to: String| {
        if from != to {
            out.push(Correction { field, from, to });
        }
    };
    field("Фамилия", before.name.last.clone(), name.last.clone());
    field("Имя", before.name.first.clone(), name.first.clone());
    field("Отчество", before.name.middle.clone(), name.middle.clone());
    field("Дата рождения", date(before.birth_date), date(birth_date));
    if let Some(new) = snils {
        let old_digits: String = before
            .snils
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if old_digits != new.digits() {
            let old = before.snils.clone().unwrap_or_else(|| "не указан".into());
            field("СНИЛС", old, new.to_string());
        }
    }
    out
}

/// Whether a roster record can be linked by the applicant an appeal is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Unlinked,
    /// Linked to the applicant's own ESIA account.
    ThisApplicant,
    /// Linked to somebody else's ESIA account.
    Other,
}

impl LinkState {
    pub fn of(linked_oids: &[String], applicant_oid: &str) -> Self {
        if linked_oids.is_empty() {
            Self::Unlinked
        } else if linked_oids.iter().any(|o| o != applicant_oid) {
            Self::Other
        } else {
            Self::ThisApplicant
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterRole {
    Student,
    Parent,
    Employee,
}

impl RosterRole {
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Student, Self::Parent, Self::Employee]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Parent => "parent",
            Self::Employee => "employee",
        }
    }

    /// As the school information system names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Student => "Обучающийся",
            Self::Parent => "Родитель",
            Self::Employee => "Сотрудник",
        }
    }

    /// The roster record an applicant who signed in with `role` has: a student's own, or a
    /// parent's (legal representatives file as parents).
    pub fn of_applicant(role: LoginRole) -> Self {
        match role {
            LoginRole::Student => Self::Student,
            LoginRole::Parent | LoginRole::Staff => Self::Parent,
        }
    }

    /// Only students and parents sign in to the school system through an appeal.
    pub fn can_be_bound(self) -> bool {
        matches!(self, Self::Student | Self::Parent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_name_each_changed_field() {
        let before = Person {
            id: 1,
            organization_id: 1,
            role: RosterRole::Parent,
            name: PersonName::new("Смирнова", "Алена", "Викторовна"),
            birth_date: NaiveDate::from_ymd_opt(1989, 1, 19).unwrap(),
            snils: None,
            class_id: None,
        };
        let esia = PersonName::new("Смирнова", "Елена", "Викторовна");
        let snils = Snils::parse("186-091-390 90").unwrap();
        let c = corrections(
            &before,
            &esia,
            NaiveDate::from_ymd_opt(1988, 1, 19).unwrap(),
            Some(&snils),
        );
        let pairs: Vec<_> = c
            .iter()
            .map(|c| (c.field, c.from.as_str(), c.to.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Имя", "Алена", "Елена"),
                ("Дата рождения", "19.01.1989", "19.01.1988"),
                ("СНИЛС", "не указан", "186-091-390 90"),
            ]
        );
        assert!(corrections(&before, &before.name, before.birth_date, None).is_empty());
        assert_eq!(LinkState::of(&[], "1"), LinkState::Unlinked);
        assert_eq!(LinkState::of(&["1".into()], "1"), LinkState::ThisApplicant);
        assert_eq!(LinkState::of(&["2".into()], "1"), LinkState::Other);
    }

    #[test]
    fn roles_round_trip() {
        for r in [
            RosterRole::Student,
            RosterRole::Parent,
            RosterRole::Employee,
        ] {
            assert_eq!(RosterRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(RosterRole::parse("teacher"), None);
        assert_eq!(
            RosterRole::of_applicant(LoginRole::Student),
            RosterRole::Student
        );
    }
}
