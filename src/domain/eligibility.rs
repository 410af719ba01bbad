//! Who may file an appeal (seed 002: a confirmed account, and children data for a parent;
//! seed 000/004: students under 14 sign in with the school's login instead).

use chrono::NaiveDate;

use super::applicant::{Applicant, LoginRole};

pub const MIN_STUDENT_AGE: u32 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unconfirmed,
    NoChildren,
    StudentUnder14,
    NotAnApplicant,
}

impl Refusal {
    /// The exact wording users see; the no-children text is fixed by the design.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unconfirmed => {
                "Подать обращение можно только с подтверждённой учётной записью портала Госуслуг."
            }
            Self::NoChildren => {
                "Для возможности подачи обращения в организацию необходимо заполнить сведения по детским учетным записям в личном кабинете родителя на портале Госуслуги."
            }
            Self::StudentUnder14 => {
                "Обучающиеся младше 14 лет входят в систему по логину и паролю, выданным в школе. Если войти не получается, обращение может подать родитель через «Вход для родителей»."
            }
            Self::NotAnApplicant => {
                "Обращение о проблеме доступа подают родители и обучающиеся. Сотрудникам следует обратиться к администратору своей организации."
            }
        }
    }
}

pub fn check(applicant: &Applicant, today: NaiveDate) -> Result<(), Refusal> {
    match applicant.role {
        LoginRole::Staff => Err(Refusal::NotAnApplicant),
        _ if !applicant.confirmed => Err(Refusal::Unconfirmed),
        LoginRole::Parent if applicant.kids.is_empty() => Err(Refusal::NoChildren),
        LoginRole::Student if applicant.age_on(today) < MIN_STUDENT_AGE => {
            Err(Refusal::StudentUnder14)
        }
        _ => Ok(()),
    }
}

/// ESIA says «confirmed» in two places: `is_tru` in the id_token (absent when not
/// confirmed) and `trusted` in the person resource. Either is authoritative on its own;
/// `lvl` is not reliably sent and is never required.
pub fn is_confirmed(id_token_is_tru: Option<bool>, person_trusted: bool) -> bool {
    id_token_is_tru.unwrap_or(false) || person_trusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::applicant::{Child, Identity};
    use crate::domain::names::PersonName;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn applicant(role: LoginRole, confirmed: bool, kids: usize, born: i32) -> Applicant {
        Applicant {
            identity: Identity {
                oid: "1".into(),
                role,
                name: PersonName::new("Иванова", "Мария", "Петровна"),
                birth_date: NaiveDate::from_ymd_opt(born, 1, 1).unwrap(),
                snils: None,
                email: None,
                unverified_email: None,
                confirmed,
            },
            kids: (0..kids)
                .map(|i| Child {
                    esia_id: i.to_string(),
                    name: PersonName::new("Иванов", "Артём", ""),
                    birth_date: NaiveDate::from_ymd_opt(2014, 5, 12).unwrap(),
                    snils: None,
                })
                .collect(),
        }
    }

    #[test]
    fn confirmed_parent_with_kids_may_file() {
        assert_eq!(
            check(&applicant(LoginRole::Parent, true, 2, 1986), today()),
            Ok(())
        );
    }

    #[test]
    fn unconfirmed_is_refused_before_kids_are_looked_at() {
        assert_eq!(
            check(&applicant(LoginRole::Parent, false, 0, 1986), today()),
            Err(Refusal::Unconfirmed)
        );
    }

    #[test]
    fn parent_without_kids_gets_the_exact_text() {
        let r = check(&applicant(LoginRole::Parent, true, 0, 1986), today()).unwrap_err();
        assert_eq!(r, Refusal::NoChildren);
        assert!(
            r.message()
                .starts_with("Для возможности подачи обращения в организацию")
        );
    }

    #[test]
    fn student_needs_14_years() {
        assert_eq!(
            check(&applicant(LoginRole::Student, true, 0, 2011), today()),
            Ok(())
        );
        assert_eq!(
            check(&applicant(LoginRole::Student, true, 0, 2013), today()),
            Err(Refusal::StudentUnder14)
        );
    }

    #[test]
    fn either_esia_source_confirms() {
        assert!(is_confirmed(Some(true), false));
        assert!(is_confirmed(None, true));
        assert!(!is_confirmed(None, false));
        assert!(!is_confirmed(Some(false), false));
    }
}
