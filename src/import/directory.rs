//! Rows of a directory file → organizations, each checked on its own: what is wrong
//! with a row is reported with its line and column, and the other rows still count.

use std::collections::HashMap;

use super::check::RowCheck;
use super::columns::{Layout, Located};
use super::report::Report;
use super::sheet::Row;
use crate::domain::directory::{
    CLASS_MAX_CHARS, CODE_MAX_CHARS, NAME_MAX_CHARS, OrganizationEntry, class_names, org_type,
};

pub const LAYOUT: Layout = Layout {
    kind: "directory",
    columns: &[
        ("region", true),
        ("municipality", true),
        ("locality", false),
        ("name", true),
        ("short_name", false),
        ("org_type", true),
        ("code", true),
        ("classes", false),
    ],
};

/// The valid organizations of the file; the rest go into `report.rejected`.
pub fn entries(rows: &[Row], at: &Located, report: &mut Report) -> Vec<OrganizationEntry> {
    let mut entries = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (line, row) in rows {
        let line = *line;
        let mut check = RowCheck::new(line, row, at, report);
        let mut field = |key: &str, max: usize, required: bool| check.text(key, max, required);
        let region = field("region", NAME_MAX_CHARS, true);
        let municipality = field("municipality", NAME_MAX_CHARS, true);
        let locality = field("locality", NAME_MAX_CHARS, false);
        let name = field("name", NAME_MAX_CHARS, true);
        let short_name = field("short_name", NAME_MAX_CHARS, false);
        let code = field("code", CODE_MAX_CHARS, true);
        let type_text = field("org_type", NAME_MAX_CHARS, true);
        let raw_classes = check.raw("classes");
        let kind = type_text.as_deref().and_then(|t| {
            let kind = org_type(t);
            if kind.is_none() {
                check.reject(
                    "org_type",
                    t,
                    "неизвестный тип: общеобразовательная, дошкольная, дополнительного \
                     образования или профессиональная",
                );
            }
            kind
        });
        let classes = class_names(&raw_classes);
        if let Some(long) = classes.iter().find(|c| c.chars().count() > CLASS_MAX_CHARS) {
            check.reject(
                "classes",
                long,
                format!("название класса длиннее {CLASS_MAX_CHARS} символов"),
            );
        }
        if let Some(code) = &code
            && let Some(first) = seen.insert(code.clone(), line)
        {
            check.reject(
                "code",
                code,
                format!("этот код уже встречался в строке {first}"),
            );
        }
        if !check.clean() {
            continue;
        }
        if let (Some(region), Some(municipality), Some(name), Some(org_type), Some(code)) =
            (region, municipality, name, kind, code)
        {
            entries.push(OrganizationEntry {
                line,
                region,
                municipality,
                locality: at.has("locality").then(|| locality.unwrap_or_default()),
                name,
                short_name: at.has("short_name").then_some(short_name),
                org_type,
                code,
                classes,
            });
        }
    }
    entries
}
