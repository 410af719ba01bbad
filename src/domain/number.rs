//! Appeal numbers: `YYYY-NNNNNN`, the year of registration and a per-year sequence that is
//! never reused (gaps after rolled-back transactions are acceptable).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealNumber {
    year: i32,
    seq: i64,
}

impl AppealNumber {
    pub fn new(year: i32, seq: i64) -> Self {
        Self { year, seq }
    }

    /// Parses a number from a URL; anything else is simply not an appeal.
    pub fn parse(s: &str) -> Option<Self> {
        let (year, seq) = s.split_once('-')?;
        let valid = year.len() == 4
            && seq.len() >= 6
            && seq.len() <= 12
            && year.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit());
        if !valid {
            return None;
        }
        let seq: i64 = seq.parse().ok()?;
        // Six digits are padded; a longer form must not have leading zeros, so each
        // number has exactly one spelling.
        if seq < 1 || (s.len() > 11 && s.as_bytes()[5] == b'0') {
            return None;
        }
        Some(Self {
            year: year.parse().ok()?,
            seq,
        })
    }
}

impl fmt::Display for AppealNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:06}", self.year, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_six_digits() {
        assert_eq!(AppealNumber::new(2026, 42).to_string(), "2026-000042");
        assert_eq!(
            AppealNumber::new(2026, 1_234_567).to_string(),
            "2026-1234567"
        );
    }

    #[test]
    fn parses_its_own_output_only() {
        assert_eq!(
            AppealNumber::parse("2026-000042"),
            Some(AppealNumber::new(2026, 42))
        );
        assert_eq!(
            AppealNumber::parse("2026-1234567"),
            Some(AppealNumber::new(2026, 1_234_567))
        );
        for bad in [
            "2026-42",
            "26-000042",
            "2026-00004a",
            "2026-000000",
            "2026-0000042",
            "x",
            "2026_000042",
        ] {
            assert_eq!(AppealNumber::parse(bad), None, "{bad}");
        }
    }
}
