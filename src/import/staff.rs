//! Rows of a staff file → staff records by СНИЛС and role, each row checked on its own.

use std::collections::HashMap;

use super::check::RowCheck;
use super::columns::{Layout, Located};
use super::report::Report;
use super::sheet::Row;
use crate::domain::directory::{CODE_MAX_CHARS, NAME_MAX_CHARS};
use crate::domain::names::PersonName;
use crate::domain::snils::Snils;
use crate::domain::staff::{StaffEntry, StaffRole, Unit};

pub const LAYOUT: Layout = Layout {
    kind: "staff",
    columns: &[
        ("snils", true),
        ("last_name", true),
        ("first_name", true),
        // Required as a column (a cell may be empty), so a file without it does not
        // wipe everyone's.
        ("middle_name", true),
        ("role", true),
        ("organization_code", false),
        ("municipality", false),
        ("region", false),
        ("email", false),
    ],
};

/// Longest part of a person's name the roster keeps.
const PERSON_NAME_MAX_CHARS: usize = 100;

/// The valid records of the file; the rest go into `report.rejected`.
pub fn entries(rows: &[Row], at: &Located, report: &mut Report) -> Vec<StaffEntry> {
    let mut entries = Vec::new();
    let mut seen: HashMap<(String, StaffRole, Unit), usize> = HashMap::new();
    for (line, row) in rows {
        let line = *line;
        let mut check = RowCheck::new(line, row, at, report);
        let mut field = |key: &str, max: usize, required: bool| check.text(key, max, required);
        let snils_text = field("snils", 20, true);
        let last = field("last_name", PERSON_NAME_MAX_CHARS, true);
        let first = field("first_name", PERSON_NAME_MAX_CHARS, true);
        let middle = field("middle_name", PERSON_NAME_MAX_CHARS, false);
        let role_text = field("role", NAME_MAX_CHARS, true);
        let code = field("organization_code", CODE_MAX_CHARS, false);
        let municipality = field("municipality", NAME_MAX_CHARS, false);
        let region = field("region", NAME_MAX_CHARS, false);
        let email = check.email("email");
        let snils = snils_text.as_deref().and_then(|t| match Snils::parse(t) {
            Ok(s) => Some(s),
            Err(e) => {
                check.reject("snils", t, e.to_string());
                None
            }
        });
        let role = role_text.as_deref().and_then(|t| {
            let role = StaffRole::from_import(t);
            if role.is_none() {
                check.reject(
                    "role",
                    t,
                    "неизвестная роль: ответственный, администратор школы, муниципальный \
                     оператор, региональный оператор или администратор",
                );
            }
            role
        });
        let unit = role.and_then(|role| match role {
            StaffRole::Responsible | StaffRole::SchoolAdmin => match code.clone() {
                Some(code) => Some(Unit::Organization(code)),
                None => {
                    check.reject(
                        "organization_code",
                        "",
                        "для этой роли нужен код организации",
                    );
                    None
                }
            },
            StaffRole::MunicipalOperator => match municipality.clone() {
                Some(m) => Some(Unit::Municipality(m)),
                None => {
                    check.reject(
                        "municipality",
                        "",
                        "для муниципального оператора нужен муниципальный район",
                    );
                    None
                }
            },
            StaffRole::RegionalOperator => Some(Unit::Region(region.clone())),
            StaffRole::Admin => Some(Unit::Everywhere),
        });
        if let (Some(snils), Some(role), Some(unit)) = (&snils, role, &unit)
            && let Some(first) = seen.insert((snils.digits().to_string(), role, unit.clone()), line)
        {
            check.reject(
                "snils",
                &snils.to_string(),
                format!("та же запись (СНИЛС, роль, место работы) уже есть в строке {first}"),
            );
        }
        if !check.clean() {
            continue;
        }
        if let (Some(snils), Some(last), Some(first), Some(role), Some(unit)) =
            (snils, last, first, role, unit)
        {
            entries.push(StaffEntry {
                line,
                snils,
                name: PersonName::new(&last, &first, middle.as_deref().unwrap_or_default()),
                role,
                unit,
                email,
            });
        }
    }
    entries
}
