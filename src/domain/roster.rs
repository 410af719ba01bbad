//! People on a school's roster, as the school information system lists them.

use chrono::{Datelike, NaiveDate};

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
    pub contacts: Contacts,
}

/// What a roster keeps besides the keys, from the school system's file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    /// `M` or `F`.
    pub gender: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A person of a roster file: a student (birth date required) or a parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: PersonName,
    pub birth_date: Option<NaiveDate>,
    pub snils: Option<Snils>,
    pub contacts: Contacts,
}

/// A person's key before staff corrected it through an appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub name_norm: String,
    pub birth_date: NaiveDate,
    pub snils: Option<String>,
}

/// A row of a roster file: one student, the class, up to two parents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub line: usize,
    pub student: Entry,
    pub birth_date: NaiveDate,
    pub class: String,
    pub parents: Vec<Entry>,
}

/// A date as the school system's files write it: `ДД.ММ.ГГГГ` or `ГГГГ-ММ-ДД`, between
/// 1900 and today.
pub fn parse_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let text = text.trim();
    let date = NaiveDate::parse_from_str(text, "%d.%m.%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .ok()?;
    (date.year() >= 1900 && date <= today).then_some(date)
}

/// `M` or `F` from «М», «Ж», «мужской», «женский», «M», «F».
pub fn gender(text: &str) -> Option<&'static str> {
    let t = super::names::normalize(text);
    match t.as_str() {
        "м" | "муж" | "мужской" | "m" | "male" => Some("M"),
        "ж" | "жен" | "женский" | "f" | "female" => Some("F"),
        _ => None,
    }
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
    fn dates_come_in_two_spellings_and_not_from_the_future() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(
            parse_date("12.05.2014", today),
            NaiveDate::from_ymd_opt(2014, 5, 12)
        );
        assert_eq!(
            parse_date("2014-05-12", today),
            NaiveDate::from_ymd_opt(2014, 5, 12)
        );
        assert_eq!(parse_date("31.02.2014", today), None);
        assert_eq!(parse_date("01.01.2030", today), None);
        assert_eq!(gender("Ж"), Some("F"));
        assert_eq!(gender("мужской"), Some("M"));
    }

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
            contacts: Contacts::default(),
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
