//! СНИЛС: 11 digits with a checksum, written `XXX-XXX-XXX YY`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Snils(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnilsError {
    #[error("СНИЛС должен состоять из 11 цифр")]
    Length,
    #[error("контрольное число СНИЛС не совпадает")]
    Checksum,
}

impl Snils {
    /// Accepts any punctuation between the digits (ESIA sends `000-000-600 06`, imports
    /// often carry bare digits).
    pub fn parse(s: &str) -> Result<Self, SnilsError> {
        let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
        let other = s
            .chars()
            .any(|c| !(c.is_ascii_digit() || c == '-' || c == ' '));
        if digits.len() != 11 || other {
            return Err(SnilsError::Length);
        }
        let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
        let number: u64 = digits[..9].parse().map_err(|_| SnilsError::Length)?;
        // The checksum is defined only for numbers above 001-001-998.
        if number > 1_001_998 {
            let sum: u32 = d[..9]
                .iter()
                .enumerate()
                .map(|(i, v)| v * (9 - i as u32))
                .sum();
            let expected = match sum % 101 {
                100 => 0,
                s => s,
            };
            if expected != d[9] * 10 + d[10] {
                return Err(SnilsError::Checksum);
            }
        }
        Ok(Self(digits))
    }

    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Snils {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{} {}", &d[0..3], &d[3..6], &d[6..9], &d[9..11])
    }
}

impl TryFrom<String> for Snils {
    type Error = SnilsError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Snils> for String {
    fn from(s: Snils) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esia_format_parses_and_prints_back() {
        let s = Snils::parse("134-587-260 76").unwrap();
        assert_eq!(s.digits(), "13458726076");
        assert_eq!(s.to_string(), "134-587-260 76");
    }

    #[test]
    fn wrong_checksum_and_length_are_rejected() {
        assert_eq!(Snils::parse("134-587-260 77"), Err(SnilsError::Checksum));
        assert_eq!(Snils::parse("134-587-260"), Err(SnilsError::Length));
        assert_eq!(Snils::parse("134-587-260 7a"), Err(SnilsError::Length));
    }

    #[test]
    fn checksum_remainder_100_means_00() {
        // 9*1+8*1+...: construct a number whose weighted sum is 100 or 101.
        let base = "112233445";
        let sum: u32 = base
            .chars()
            .enumerate()
            .map(|(i, c)| c.to_digit(10).unwrap() * (9 - i as u32))
            .sum();
        let check = match sum % 101 {
            100 => 0,
            s => s,
        };
        assert!(Snils::parse(&format!("{base}{check:02}")).is_ok());
    }
}
