//! Writing the hand-back file in the roster layout: the same headers an import reads
//! (the first header text of each column in `config/import/`), so the school system —
//! and this service — can read it back.

use std::path::Path;

use super::columns::Aliases;
use super::roster::LAYOUT;
use crate::domain::roster::Person;
use crate::workflow::handback::Row;

/// The cells of a row, in the layout's column order.
fn cells(row: &Row) -> Vec<String> {
    let date = |p: &Person| p.birth_date.format("%d.%m.%Y").to_string();
    let snils = |p: &Person| {
        p.snils
            .as_deref()
            .and_then(|s| crate::domain::snils::Snils::parse(s).ok())
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    let s = &row.student;
    let gender = match s.contacts.gender.as_deref() {
        Some("M") => "М",
        Some("F") => "Ж",
        _ => "",
    };
    let mut out = vec![
        s.name.last.clone(),
        s.name.first.clone(),
        s.name.middle.clone(),
        date(s),
        gender.to_string(),
        snils(s),
        row.class.clone(),
    ];
    for i in 0..2 {
        match row.parents.get(i) {
            Some(p) => out.extend([
                p.name.last.clone(),
                p.name.first.clone(),
                p.name.middle.clone(),
                date(p),
                snils(p),
                p.contacts.email.clone().unwrap_or_default(),
                p.contacts.phone.clone().unwrap_or_default(),
            ]),
            None => out.extend(std::iter::repeat_n(String::new(), 7)),
        }
    }
    out
}

/// Writes `rows` to `out`: `.xlsx`, or `.csv` (UTF-8 with BOM, `;`, what Excel opens).
pub fn write(rows: &[Row], aliases: &Aliases, out: &Path) -> Result<(), String> {
    let headers: Vec<String> = LAYOUT
        .columns
        .iter()
        .map(|(key, _)| aliases.name(&LAYOUT, key))
        .collect();
    let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let extension = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "xlsx" => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (r, row) in std::iter::once(&headers).chain(&body).enumerate() {
                for (c, value) in row.iter().enumerate() {
                    sheet
                        .write_string(r as u32, c as u16, value)
                        .map_err(|e| e.to_string())?;
                }
            }
            book.save(out)
                .map_err(|e| format!("{}: {e}", out.display()))
        }
        "csv" => {
            let mut bytes = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(b';')
                    .terminator(csv::Terminator::CRLF)
                    .from_writer(&mut bytes);
                for row in std::iter::once(&headers).chain(&body) {
                    w.write_record(row).map_err(|e| e.to_string())?;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
            write_private(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))
        }
        _ => Err("файл для выгрузки: .xlsx или .csv".into()),
    }
}

/// A file that holds personal data (children's СНИЛС, parents' phones, a person's whole
/// record): readable by its owner only.
pub fn write_private(out: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(out)
        .and_then(|mut f| f.write_all(bytes))
}
