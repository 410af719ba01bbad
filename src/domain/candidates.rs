//! Roster candidates for an appeal: the school's roster persons closest to the ESIA data,
//! each with the reasons it was picked and the fields that differ (seed 003: staff compare
//! ESIA data with the roster and fix the mismatching record).

use chrono::NaiveDate;

use super::names::{PersonName, normalize};
use super::roster::Person;

/// One side of the comparison: who ESIA says the person is.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub name: &'a PersonName,
    pub birth_date: NaiveDate,
    pub snils: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    LastName,
    FirstName,
    MiddleName,
    BirthDate,
    Snils,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Best first: the order of the variants is the ranking.
    /// The same data, but not linked (no СНИЛС or passport on one side to link by).
    Exact,
    SameSnils,
    SpellingVariant,
    SameNameOtherBirthDate,
    OneLetterDifference,
    OneLetterOtherBirthDate,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Self::Exact => "данные совпадают, но запись не связана с Госуслугами",
            Self::SameSnils => "тот же СНИЛС",
            Self::SpellingVariant => {
                "ФИО отличается только «ё»/«е», регистром, пробелами или дефисом"
            }
            Self::SameNameOtherBirthDate => "то же ФИО, другая дата рождения",
            Self::OneLetterDifference => "та же дата рождения, ФИО отличается одной буквой",
            Self::OneLetterOtherBirthDate => "ФИО отличается одной буквой, другая дата рождения",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub entry: Person,
    pub reason: Reason,
    pub differs: Vec<Field>,
}

/// Levenshtein distance over characters, stopping early past `limit`.
fn distance_within(a: &str, b: &str, limit: usize) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > limit {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|m| *m > limit) {
            return false;
        }
        prev = cur;
    }
    prev[b.len()] <= limit
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn differing_fields(w: &Wanted<'_>, e: &Person) -> Vec<Field> {
    let mut out = Vec::new();
    if w.name.last != e.name.last {
        out.push(Field::LastName);
    }
    if w.name.first != e.name.first {
        out.push(Field::FirstName);
    }
    if w.name.middle != e.name.middle {
        out.push(Field::MiddleName);
    }
    if w.birth_date != e.birth_date {
        out.push(Field::BirthDate);
    }
    if w.snils.map(digits) != e.snils.as_deref().map(digits) {
        out.push(Field::Snils);
    }
    out
}

/// Ranks `entries` against `wanted`; entries that are no candidate at all are dropped,
/// and so is an exact match (nothing to fix: the person is simply not linked).
pub fn rank(wanted: &Wanted<'_>, entries: Vec<Person>) -> Vec<Candidate> {
    let wanted_norm = wanted.name.norm();
    let wanted_snils = wanted.snils.map(digits).filter(|s| !s.is_empty());
    let mut out: Vec<Candidate> = entries
        .into_iter()
        .filter_map(|entry| {
            let norm = normalize(&entry.name.full());
            let same_snils =
                wanted_snils.is_some() && entry.snils.as_deref().map(digits) == wanted_snils;
            let same_date = entry.birth_date == wanted.birth_date;
            let differs = differing_fields(wanted, &entry);
            // Equal data (or equal but for a СНИЛС the school never entered) is still worth
            // showing: it is the record to link, and «create» would duplicate it.
            let exact = differs.is_empty() || (differs == [Field::Snils] && entry.snils.is_none());
            let reason = if exact {
                Reason::Exact
            } else if same_snils {
                Reason::SameSnils
            } else if norm == wanted_norm && same_date {
                Reason::SpellingVariant
            } else if norm == wanted_norm {
                Reason::SameNameOtherBirthDate
            } else if distance_within(&norm, &wanted_norm, 1) {
                if same_date {
                    Reason::OneLetterDifference
                } else {
                    Reason::OneLetterOtherBirthDate
                }
            } else {
                return None;
            };
            Some(Candidate {
                entry,
                reason,
                differs,
            })
        })
        .collect();
    out.sort_by_key(|c| (c.reason, c.differs.len(), c.entry.id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn entry(id: i32, name: (&str, &str, &str), born: NaiveDate, snils: Option<&str>) -> Person {
        Person {
            id,
            organization_id: 1,
            role: crate::domain::roster::RosterRole::Parent,
            name: PersonName::new(name.0, name.1, name.2),
            birth_date: born,
            snils: snils.map(str::to_string),
            class_id: None,
            contacts: Default::default(),
        }
    }

    #[test]
    fn ranks_by_strength_and_highlights_differences() {
        let name = PersonName::new("Смирнова", "Елена", "Викторовна");
        let wanted = Wanted {
            name: &name,
            birth_date: d(1988, 1, 19),
            snils: Some("186-091-390 90"),
        };
        let ranked = rank(
            &wanted,
            vec![
                entry(1, ("Смирнова", "Алена", "Викторовна"), d(1988, 1, 19), None),
                entry(2, ("Смирнова", "Елена", "Викторовна"), d(1989, 1, 19), None),
                entry(
                    3,
                    ("Петрова", "Анна", "Ивановна"),
                    d(1990, 2, 2),
                    Some("18609139090"),
                ),
                entry(4, ("Сидорова", "Ольга", "Ивановна"), d(1988, 1, 19), None),
                entry(6, ("Смирнова", "Алена", "Викторовна"), d(1989, 1, 19), None),
                entry(
                    5,
                    ("Смирнова", "Елена", "Викторовна"),
                    d(1988, 1, 19),
                    Some("186-091-390 90"),
                ),
            ],
        );
        let ids: Vec<i32> = ranked.iter().map(|c| c.entry.id).collect();
        assert_eq!(ids, [5, 3, 2, 1, 6], "the stranger 4 is dropped");
        assert_eq!(ranked[0].reason, Reason::Exact);
        assert_eq!(ranked[2].differs, [Field::BirthDate, Field::Snils]);
        assert_eq!(ranked[3].reason, Reason::OneLetterDifference);
        assert_eq!(ranked[3].differs, [Field::FirstName, Field::Snils]);
        assert_eq!(ranked[4].reason, Reason::OneLetterOtherBirthDate);
        assert_eq!(
            ranked[4].differs,
            [Field::FirstName, Field::BirthDate, Field::Snils]
        );
    }

    #[test]
    fn yo_and_hyphen_variants_are_found() {
        let name = PersonName::new("Иванова-Петрова", "Алёна", "");
        let wanted = Wanted {
            name: &name,
            birth_date: d(2000, 1, 1),
            snils: None,
        };
        let ranked = rank(
            &wanted,
            vec![entry(
                7,
                ("Иванова - Петрова", "Алена", ""),
                d(2000, 1, 1),
                None,
            )],
        );
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].reason, Reason::SpellingVariant);
        assert_eq!(ranked[0].differs, [Field::LastName, Field::FirstName]);
    }

    #[test]
    fn edit_distance_limit() {
        assert!(distance_within("елена", "алена", 1));
        assert!(distance_within("елена", "елен", 1));
        assert!(!distance_within("елена", "алёнка", 1));
    }
}
