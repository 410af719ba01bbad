//! Rows of a roster file (one student per row, parents in the column groups «Родитель 1:
//! …» and «Родитель 2: …») → checked rows. What the classes are and who is already on
//! the roster is the use case's business.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::check::RowCheck;
use super::columns::{Layout, Located};
use super::report::Report;
use super::sheet::Cell;
use crate::domain::directory::CLASS_MAX_CHARS;
use crate::domain::names::PersonName;
use crate::domain::roster::{Contacts, Entry, RosterRow};

pub const LAYOUT: Layout = Layout {
    kind: "roster",
    columns: &[
        ("last_name", true),
        ("first_name", true),
        // Required as a column (a cell may be empty): it is part of the key, and a file
        // without it would make everyone a new person.
        ("middle_name", true),
        ("birth_date", true),
        ("gender", false),
        ("snils", false),
        ("class", true),
        ("p1_last_name", false),
        ("p1_first_name", false),
        ("p1_middle_name", false),
        ("p1_birth_date", false),
        ("p1_snils", false),
        ("p1_email", false),
        ("p1_phone", false),
        ("p2_last_name", false),
        ("p2_first_name", false),
        ("p2_middle_name", false),
        ("p2_birth_date", false),
        ("p2_snils", false),
        ("p2_email", false),
        ("p2_phone", false),
    ],
};

const NAME_MAX_CHARS: usize = 100;

/// A parent group: empty means no parent; otherwise a name and a СНИЛС or birth date.
fn parent(this: &mut RowCheck<'_>, prefix: &str, today: NaiveDate) -> Option<Entry> {
    let key = |field: &str| format!("{prefix}_{field}");
    let group = [
        "last_name",
        "first_name",
        "middle_name",
        "birth_date",
        "snils",
        "email",
        "phone",
    ];
    if group.iter().all(|f| this.raw(&key(f)).is_empty()) {
        return None;
    }
    let last = this.text(&key("last_name"), NAME_MAX_CHARS, true);
    let first = this.text(&key("first_name"), NAME_MAX_CHARS, true);
    let middle = this.text(&key("middle_name"), NAME_MAX_CHARS, false);
    let birth_date = this.date(&key("birth_date"), false, today);
    let snils = this.snils(&key("snils"));
    let email = this.email(&key("email"));
    let phone = this.phone(&key("phone"));
    if snils.is_none()
        && birth_date.is_none()
        && this.raw(&key("snils")).is_empty()
        && this.raw(&key("birth_date")).is_empty()
    {
        this.reject(
            &key("snils"),
            "",
            "у родителя нужен СНИЛС или дата рождения",
        );
    }
    Some(Entry {
        name: PersonName::new(&last?, &first?, middle.as_deref().unwrap_or_default()),
        birth_date,
        snils,
        contacts: Contacts {
            gender: None,
            email,
            phone,
        },
    })
}

/// Checks a roster file's rows one at a time, remembering the students met so far (the
/// same student twice in a file is an error).
pub struct Checker {
    today: NaiveDate,
    students: HashMap<(String, NaiveDate), usize>,
}

impl Checker {
    pub fn new(today: NaiveDate) -> Self {
        Checker {
            today,
            students: HashMap::new(),
        }
    }

    /// The row, if it is valid; what is wrong with it goes into `report.rejected`.
    pub fn row(
        &mut self,
        line: usize,
        row: &[Cell],
        at: &Located,
        report: &mut Report,
    ) -> Option<RosterRow> {
        let today = self.today;
        let mut check = RowCheck::new(line, row, at, report);
        let last = check.text("last_name", NAME_MAX_CHARS, true);
        let first = check.text("first_name", NAME_MAX_CHARS, true);
        let middle = check.text("middle_name", NAME_MAX_CHARS, false);
        let birth_date = check.date("birth_date", true, today);
        let gender = check.gender("gender");
        let snils = check.snils("snils");
        let class = check.text("class", CLASS_MAX_CHARS, true);
        let parents: Vec<Entry> = ["p1", "p2"]
            .iter()
            .filter_map(|p| parent(&mut check, p, today))
            .collect();
        if let (Some(last), Some(first), Some(born)) = (&last, &first, birth_date) {
            let name = PersonName::new(last, first, middle.as_deref().unwrap_or_default());
            if let Some(first_line) = self.students.insert((name.norm(), born), line) {
                check.reject(
                    "last_name",
                    &name.full(),
                    format!(
                        "этот обучающийся (ФИО и дата рождения) уже есть в строке {first_line}"
                    ),
                );
            }
        }
        if !check.clean() {
            return None;
        }
        let (last, first, birth_date, class) = (last?, first?, birth_date?, class?);
        Some(RosterRow {
            line,
            student: Entry {
                name: PersonName::new(&last, &first, middle.as_deref().unwrap_or_default()),
                birth_date: Some(birth_date),
                snils,
                contacts: Contacts {
                    gender,
                    email: None,
                    phone: None,
                },
            },
            birth_date,
            class,
            parents,
        })
    }
}
