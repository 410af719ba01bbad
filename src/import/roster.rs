//! Rows of a roster file (one student per row, parents in the column groups «Родитель 1:
//! …» and «Родитель 2: …») → checked rows. What the classes are and who is already on
//! the roster is the use case's business.

use std::collections::HashMap;

use chrono::NaiveDate;
use validator::ValidateEmail;

use super::columns::{Layout, Located};
use super::report::Report;
use super::sheet::{Cell, Sheet, excel_date};
use crate::domain::directory::{CLASS_MAX_CHARS, single_line};
use crate::domain::names::PersonName;
use crate::domain::roster::{Contacts, Entry, RosterRow, gender, parse_date};
use crate::domain::snils::Snils;

pub const LAYOUT: Layout = Layout {
    kind: "roster",
    columns: &[
        ("last_name", true),
        ("first_name", true),
        ("middle_name", false),
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

/// One row's cells, checked field by field into the report.
struct RowCheck<'a> {
    line: usize,
    row: &'a [Cell],
    at: &'a Located,
    report: &'a mut Report,
    today: NaiveDate,
}

impl RowCheck<'_> {
    fn reject(&mut self, key: &str, value: &str, why: impl Into<String>) {
        let header = self.at.header(key);
        self.report.reject(self.line, &header, value, why);
    }

    fn text(&mut self, key: &str, max: usize, required: bool) -> Option<String> {
        let raw = self.at.text(self.row, key);
        match single_line(&raw, max) {
            Ok(Some(v)) => Some(v),
            Ok(None) if required => {
                self.reject(key, "", "обязательное поле не заполнено");
                None
            }
            Ok(None) => None,
            Err(why) => {
                self.reject(key, &raw, why);
                None
            }
        }
    }

    fn date(&mut self, key: &str, required: bool) -> Option<NaiveDate> {
        let date = match self.at.cell(self.row, key) {
            Some(Cell::Date(d)) => Some(*d),
            Some(Cell::Number(n)) => excel_date(*n),
            Some(cell) if !cell.is_empty() => parse_date(&cell.text(), self.today),
            _ => {
                if required {
                    self.reject(key, "", "обязательное поле не заполнено");
                }
                return None;
            }
        };
        let date = date.filter(|d| *d <= self.today);
        if date.is_none() {
            let raw = self.at.text(self.row, key);
            self.reject(
                key,
                &raw,
                "дата не распознана: нужна ДД.ММ.ГГГГ или ГГГГ-ММ-ДД",
            );
        }
        date
    }

    fn snils(&mut self, key: &str) -> Option<Snils> {
        let raw = self.text(key, 20, false)?;
        match Snils::parse(&raw) {
            Ok(s) => Some(s),
            Err(e) => {
                self.reject(key, &raw, e.to_string());
                None
            }
        }
    }

    fn gender(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, 20, false)?;
        let g = gender(&raw);
        if g.is_none() {
            self.reject(key, &raw, "пол: М или Ж");
        }
        g.map(str::to_string)
    }

    fn email(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, 254, false)?;
        if !raw.validate_email() {
            self.reject(key, &raw, "неверный адрес электронной почты");
            return None;
        }
        Some(raw)
    }

    fn phone(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, 40, false)?;
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if !(10..=11).contains(&digits.len())
            || raw
                .chars()
                .any(|c| !(c.is_ascii_digit() || " +-()".contains(c)))
        {
            self.reject(key, &raw, "неверный номер телефона");
            return None;
        }
        Some(raw)
    }

    /// A parent group: empty means no parent; otherwise a name and a СНИЛС or birth date.
    fn parent(&mut self, prefix: &str) -> Option<Entry> {
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
        if group
            .iter()
            .all(|f| self.at.text(self.row, &key(f)).is_empty())
        {
            return None;
        }
        let last = self.text(&key("last_name"), NAME_MAX_CHARS, true);
        let first = self.text(&key("first_name"), NAME_MAX_CHARS, true);
        let middle = self.text(&key("middle_name"), NAME_MAX_CHARS, false);
        let birth_date = self.date(&key("birth_date"), false);
        let snils = self.snils(&key("snils"));
        let email = self.email(&key("email"));
        let phone = self.phone(&key("phone"));
        if snils.is_none()
            && birth_date.is_none()
            && self.at.text(self.row, &key("snils")).is_empty()
            && self.at.text(self.row, &key("birth_date")).is_empty()
        {
            self.reject(
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
}

/// The valid rows of the file; the rest go into `report.rejected`.
pub fn rows(sheet: &Sheet, at: &Located, report: &mut Report, today: NaiveDate) -> Vec<RosterRow> {
    let mut rows = Vec::new();
    let mut students: HashMap<(String, NaiveDate), usize> = HashMap::new();
    for (line, row) in sheet.rows.iter().skip(at.header_row + 1) {
        if row.iter().all(|c| c.is_empty()) {
            continue;
        }
        let before = report.rejected.len();
        let mut check = RowCheck {
            line: *line,
            row,
            at,
            report,
            today,
        };
        let last = check.text("last_name", NAME_MAX_CHARS, true);
        let first = check.text("first_name", NAME_MAX_CHARS, true);
        let middle = check.text("middle_name", NAME_MAX_CHARS, false);
        let birth_date = check.date("birth_date", true);
        let gender = check.gender("gender");
        let snils = check.snils("snils");
        let class = check.text("class", CLASS_MAX_CHARS, true);
        let parents: Vec<Entry> = ["p1", "p2"]
            .iter()
            .filter_map(|p| check.parent(p))
            .collect();
        if let (Some(last), Some(first), Some(born)) = (&last, &first, birth_date) {
            let name = PersonName::new(last, first, middle.as_deref().unwrap_or_default());
            if let Some(first_line) = students.insert((name.norm(), born), *line) {
                check.reject(
                    "last_name",
                    &name.full(),
                    format!(
                        "этот обучающийся (ФИО и дата рождения) уже есть в строке {first_line}"
                    ),
                );
            }
        }
        if report.rejected.len() > before {
            continue;
        }
        if let (Some(last), Some(first), Some(birth_date), Some(class)) =
            (last, first, birth_date, class)
        {
            rows.push(RosterRow {
                line: *line,
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
            });
        }
    }
    rows
}
