//! Automatic linking of an ESIA identity to roster persons (seed 002): ФИО, date of birth
//! and СНИЛС or passport must agree and the account must be confirmed. A parent may be on
//! the rosters of several organizations, so each organization is decided on its own:
//! exactly one match there links, two mean its roster is ambiguous and a human decides.

use chrono::NaiveDate;

use super::applicant::Applicant;
use super::names::normalize;
use super::snils::Snils;

/// What the matcher needs to know of a roster person.
#[derive(Debug, Clone)]
pub struct RosterCandidate {
    pub id: i32,
    pub organization_id: i32,
    pub name_norm: String,
    pub birth_date: NaiveDate,
    pub snils: Option<String>,
    pub passport: Option<String>,
}

/// The roster persons to link: one per organization where exactly one person matches.
pub fn match_applicant(
    applicant: &Applicant,
    passport: Option<&str>,
    candidates: &[RosterCandidate],
) -> Vec<i32> {
    if !applicant.confirmed {
        return Vec::new();
    }
    let name = applicant.name.norm();
    let snils = applicant.snils.as_ref().map(Snils::digits);
    let passport = passport.map(passport_norm);
    let hits: Vec<&RosterCandidate> = candidates
        .iter()
        .filter(|c| c.name_norm == name && c.birth_date == applicant.birth_date)
        .filter(|c| {
            let by_snils = match (snils, c.snils.as_deref()) {
                (Some(a), Some(b)) => Snils::parse(b).map(|b| b.digits() == a).unwrap_or(false),
                _ => false,
            };
            let by_passport = match (&passport, c.passport.as_deref()) {
                (Some(a), Some(b)) => !a.is_empty() && *a == passport_norm(b),
                _ => false,
            };
            by_snils || by_passport
        })
        .collect();
    let mut per_org: std::collections::BTreeMap<i32, Vec<i32>> = Default::default();
    for c in hits {
        per_org.entry(c.organization_id).or_default().push(c.id);
    }
    per_org
        .into_values()
        .filter(|ids| ids.len() == 1)
        .map(|ids| ids[0])
        .collect()
}

fn passport_norm(s: &str) -> String {
    normalize(s).chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::applicant::{Identity, LoginRole};
    use crate::domain::names::PersonName;

    fn born() -> NaiveDate {
        NaiveDate::from_ymd_opt(1986, 3, 14).unwrap()
    }

    fn applicant(confirmed: bool) -> Applicant {
        Applicant {
            identity: Identity {
                oid: "1000451732".into(),
                role: LoginRole::Parent,
                name: PersonName::new("Иванова", "Мария", "Петровна"),
                birth_date: born(),
                snils: Some(Snils::parse("134-587-260 76").unwrap()),
                email: None,
                unverified_email: None,
                confirmed,
            },
            kids: vec![],
        }
    }

    fn candidate(id: i32, name: &str, snils: Option<&str>) -> RosterCandidate {
        RosterCandidate {
            id,
            organization_id: 1,
            name_norm: normalize(name),
            birth_date: born(),
            snils: snils.map(str::to_string),
            passport: None,
        }
    }

    #[test]
    fn name_birth_date_and_snils_link() {
        let c = [candidate(7, "ИВАНОВА Мария Петровна", Some("13458726076"))];
        assert_eq!(match_applicant(&applicant(true), None, &c), vec![7]);
    }

    #[test]
    fn unconfirmed_accounts_never_auto_link() {
        let c = [candidate(7, "Иванова Мария Петровна", Some("13458726076"))];
        assert_eq!(
            match_applicant(&applicant(false), None, &c),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn a_name_alone_is_not_enough() {
        let c = [candidate(7, "Иванова Мария Петровна", None)];
        assert_eq!(
            match_applicant(&applicant(true), None, &c),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn passport_can_stand_in_for_snils() {
        let mut c = candidate(7, "Иванова Мария Петровна", None);
        c.passport = Some("30 05 123456".into());
        assert_eq!(
            match_applicant(&applicant(true), Some("3005 123456"), &[c]),
            vec![7]
        );
    }

    #[test]
    fn two_matches_are_ambiguous() {
        let c = [
            candidate(7, "Иванова Мария Петровна", Some("134-587-260 76")),
            candidate(8, "Иванова Мария Петровна", Some("13458726076")),
        ];
        assert_eq!(
            match_applicant(&applicant(true), None, &c),
            Vec::<i32>::new()
        );
    }

    #[test]
    fn each_organization_decides_on_its_own() {
        let mut other_school = candidate(9, "Иванова Мария Петровна", Some("13458726076"));
        other_school.organization_id = 2;
        let c = [
            candidate(7, "Иванова Мария Петровна", Some("13458726076")),
            candidate(8, "Иванова Мария Петровна", Some("13458726076")),
            other_school,
        ];
        assert_eq!(match_applicant(&applicant(true), None, &c), vec![9]);
    }

    #[test]
    fn one_letter_difference_does_not_link() {
        let c = [candidate(7, "Иванова Мариа Петровна", Some("13458726076"))];
        assert_eq!(
            match_applicant(&applicant(true), None, &c),
            Vec::<i32>::new()
        );
    }
}
