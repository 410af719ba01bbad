//! Checking a row's cells one field at a time, shared by every kind of import file.

use chrono::{Datelike, NaiveDate};
use validator::ValidateEmail;

use super::columns::Located;
use super::report::Report;
use super::sheet::{Cell, excel_date};
use crate::domain::directory::single_line;
use crate::domain::roster::{gender, parse_date};
use crate::domain::snils::Snils;

/// One row's cells, checked field by field: what is wrong goes into the report with the
/// row's line and the column's header, and the field is `None`.
pub struct RowCheck<'a> {
    pub line: usize,
    pub row: &'a [Cell],
    pub at: &'a Located,
    pub report: &'a mut Report,
    /// Rejections in the report before this row.
    before: usize,
}

impl<'a> RowCheck<'a> {
    pub fn new(line: usize, row: &'a [Cell], at: &'a Located, report: &'a mut Report) -> Self {
        let before = report.rejected.len();
        RowCheck {
            line,
            row,
            at,
            report,
            before,
        }
    }

    /// Whether nothing of this row was rejected.
    pub fn clean(&self) -> bool {
        self.report.rejected.len() == self.before
    }

    /// The cell of `key` as trimmed text, unchecked.
    pub fn raw(&self, key: &str) -> String {
        self.at.text(self.row, key)
    }

    pub fn reject(&mut self, key: &str, value: &str, why: impl Into<String>) {
        let header = self.at.header(key);
        self.report.reject(self.line, &header, value, why);
    }

    pub fn text(&mut self, key: &str, max: usize, required: bool) -> Option<String> {
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

    pub fn date(&mut self, key: &str, required: bool, today: NaiveDate) -> Option<NaiveDate> {
        let date = match self.at.cell(self.row, key) {
            Some(Cell::Date(d)) => Some(*d),
            // A bare number in a date column is an Excel day number; one before 1920 is
            // more likely a year or a typo than a birth date.
            Some(Cell::Number(n)) => excel_date(*n).filter(|d| d.year() >= 1920),
            Some(cell) if !cell.is_empty() => parse_date(&cell.text(), today),
            _ => {
                if required {
                    self.reject(key, "", "обязательное поле не заполнено");
                }
                return None;
            }
        };
        let date = date.filter(|d| *d <= today);
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

    pub fn snils(&mut self, key: &str) -> Option<Snils> {
        let raw = self.text(key, 20, false)?;
        match Snils::parse(&raw) {
            Ok(s) => Some(s),
            Err(e) => {
                self.reject(key, &raw, e.to_string());
                None
            }
        }
    }

    pub fn gender(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, 20, false)?;
        let g = gender(&raw);
        if g.is_none() {
            self.reject(key, &raw, "пол: М или Ж");
        }
        g.map(str::to_string)
    }

    pub fn email(&mut self, key: &str) -> Option<String> {
        let raw = self.text(key, 254, false)?;
        if !raw.validate_email() {
            self.reject(key, &raw, "неверный адрес электронной почты");
            return None;
        }
        Some(raw)
    }

    pub fn phone(&mut self, key: &str) -> Option<String> {
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
}
