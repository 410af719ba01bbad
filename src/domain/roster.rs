//! People on a school's roster, as the school information system lists them.

use chrono::NaiveDate;

use super::applicant::LoginRole;
use super::names::PersonName;

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
