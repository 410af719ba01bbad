//! A spreadsheet from the school system as rows of cells: `.xls` (BIFF8, what its
//! «Пакетное обновление» exports), `.xlsx`, or `.csv` in UTF-8 (with or without BOM) or
//! Windows-1251, separated by `;` or `,`. Only the first sheet of a workbook is read.

use std::path::Path;

use chrono::NaiveDate;

/// One cell as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A cell formatted as a date in a workbook (its serial number, read as a date).
    Date(NaiveDate),
}

impl Cell {
    /// The cell as text, as a person reads it (whole numbers without «.0»).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.format("%d.%m.%Y").to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.text().is_empty()
    }
}

/// The rows of the first sheet, each with its line number in the file (1-based).
pub struct Sheet {
    pub rows: Vec<(usize, Vec<Cell>)>,
}

/// Why a file could not be read at all (each message is shown to the person importing).
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("файл {0} не найден")]
    NotFound(String),
    #[error("файл {0} не удалось открыть (нет прав на чтение или это папка)")]
    Unreadable(String),
    #[error("формат файла не поддерживается: нужен .xls, .xlsx или .csv")]
    UnknownFormat,
    #[error(
        "файл не удалось прочитать как таблицу {kind}: он повреждён, зашифрован или в \
         другом формате (техническая причина: {detail})"
    )]
    Corrupt { kind: &'static str, detail: String },
    #[error("в файле нет ни одного листа с данными")]
    NoSheet,
}

fn unreadable(path: &Path, e: &std::io::Error) -> SheetError {
    let name = path.display().to_string();
    if e.kind() == std::io::ErrorKind::NotFound {
        SheetError::NotFound(name)
    } else {
        SheetError::Unreadable(name)
    }
}

pub fn read(path: &Path) -> Result<Sheet, SheetError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "csv" | "txt" => {
            let bytes = std::fs::read(path).map_err(|e| unreadable(path, &e))?;
            read_csv(&bytes)
        }
        // calamine has known panics on malformed files: a broken file is a broken file.
        "xls" | "xlsx" | "xlsm" => std::panic::catch_unwind(|| read_workbook(path, &extension))
            .unwrap_or_else(|_| {
                Err(SheetError::Corrupt {
                    kind: "Excel",
                    detail: "структура файла нарушена".into(),
                })
            }),
        _ => Err(SheetError::UnknownFormat),
    }
}

/// Decodes a CSV file: a UTF-8 BOM or valid UTF-8 is UTF-8, anything else is taken as
/// Windows-1251 (what Excel saves «CSV» as on a Russian Windows).
fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1251.decode(bytes).0.into_owned(),
    }
}

/// The separator is the one of `;` and `,` that the most of the first 30 lines hold
/// more of (a title row above the header may have a comma in it; Russian Excel saves `;`,
/// because `,` is its decimal mark).
fn separator(text: &str) -> u8 {
    let (mut semicolon, mut comma) = (0, 0);
    for line in text.lines().take(30) {
        let (s, c) = (line.matches(';').count(), line.matches(',').count());
        if s > c {
            semicolon += 1;
        } else if c > s {
            comma += 1;
        }
    }
    if comma > semicolon { b',' } else { b';' }
}

pub fn read_csv(bytes: &[u8]) -> Result<Sheet, SheetError> {
    if bytes.contains(&0) {
        return Err(SheetError::Corrupt {
            kind: "CSV",
            detail: "в файле есть двоичные данные".into(),
        });
    }
    let text = decode(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator(&text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    // Line numbers from byte offsets (the reader's own line count lags on CRLF files);
    // a quoted cell may span lines, so a record's line is where it starts.
    let bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1usize);
    for record in reader.records() {
        let record = record.map_err(|e| SheetError::Corrupt {
            kind: "CSV",
            detail: e.to_string(),
        })?;
        let mut start = record
            .position()
            .map_or(counted_to, |p| p.byte() as usize)
            .max(counted_to);
        // With CRLF the reader ends a record at CR and starts the next at its LF.
        while bytes.get(start).is_some_and(|b| *b == b'\n' || *b == b'\r') {
            start += 1;
        }
        line += bytes[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let cells = record
            .iter()
            .map(|c| {
                if c.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(c.to_string())
                }
            })
            .collect();
        rows.push((line, cells));
    }
    Ok(Sheet { rows })
}

fn read_workbook(path: &Path, extension: &str) -> Result<Sheet, SheetError> {
    use calamine::{Data, Reader};
    let kind = if extension == "xls" {
        "Excel 97-2003"
    } else {
        "Excel"
    };
    let corrupt = |e: calamine::Error| SheetError::Corrupt {
        kind,
        detail: e.to_string(),
    };
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| match e {
        calamine::Error::Io(io) => unreadable(path, &io),
        other => corrupt(other),
    })?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or(SheetError::NoSheet)?
        .map_err(corrupt)?;
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, row)| {
            let cells = row
                .iter()
                .map(|cell| match cell {
                    Data::Empty | Data::Error(_) => Cell::Empty,
                    Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        Cell::Text(s.clone())
                    }
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(if *b { "да" } else { "нет" }.into()),
                    Data::DateTime(d) => excel_date(d.as_f64())
                        .map(Cell::Date)
                        .unwrap_or(Cell::Number(d.as_f64())),
                })
                .collect();
            (first_row + i + 1, cells)
        })
        .collect();
    Ok(Sheet { rows })
}

/// An Excel serial day number (1900 date system) as a date.
pub fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // Day 1 is 1900-01-01, and Excel counts a 29 February 1900 that never was: from day
    // 61 on, the epoch is 1899-12-30.
    let epoch = if serial < 61.0 {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    };
    epoch.checked_add_days(chrono::Days::new(serial.trunc() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_1251_with_semicolons_is_read() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Регион;Код\nКамчатский край;41001\n");
        let sheet = read_csv(&bytes).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[1].1[0].text(), "Камчатский край");
        assert_eq!(sheet.rows[1].0, 2);
    }

    #[test]
    fn line_numbers_count_crlf_and_quoted_line_breaks() {
        let sheet = read_csv("t;;\r\n;;\r\nh;x\r\n\"a\r\nb\";b\r\nc;d\r\n".as_bytes()).unwrap();
        let lines: Vec<usize> = sheet.rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 6]);
    }

    #[test]
    fn utf8_with_bom_and_commas_is_read() {
        let sheet = read_csv("\u{feff}Регион,Код\n\"Край, южный\",7\n".as_bytes()).unwrap();
        assert_eq!(sheet.rows[0].1[0].text(), "Регион");
        assert_eq!(sheet.rows[1].1[0].text(), "Край, южный");
    }

    #[test]
    fn a_comma_in_the_title_does_not_decide_the_separator() {
        let sheet =
            read_csv("Список МБОУ «СОШ № 1», 2025/2026\nФамилия;Имя\nИванов;Артём\n".as_bytes())
                .unwrap();
        assert_eq!(sheet.rows[1].1.len(), 2);
    }

    #[test]
    fn binary_data_is_not_csv() {
        assert!(matches!(
            read_csv(b"PK\x03\x04\0\0"),
            Err(SheetError::Corrupt { .. })
        ));
    }

    #[test]
    fn excel_serial_numbers_are_dates() {
        assert_eq!(excel_date(45658.0), NaiveDate::from_ymd_opt(2025, 1, 1));
        assert_eq!(excel_date(1.0), NaiveDate::from_ymd_opt(1900, 1, 1));
        assert_eq!(excel_date(-3.0), None);
    }
}
