//! Person names as ESIA and the roster spell them, and the normal form both are compared in.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    pub last: String,
    pub first: String,
    /// Empty when the person has no patronymic.
    pub middle: String,
}

impl PersonName {
    /// Control, bidi-override and zero-width characters are dropped: a name from ESIA or a
    /// roster file shows on staff pages and goes into SQL parameters (PostgreSQL refuses NUL).
    pub fn new(last: &str, first: &str, middle: &str) -> Self {
        let clean = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_control() && !is_invisible(*c))
                .collect::<String>()
                .trim()
                .to_string()
        };
        Self {
            last: clean(last),
            first: clean(first),
            middle: clean(middle),
        }
    }

    /// «Фамилия Имя Отчество» as shown to people.
    pub fn full(&self) -> String {
        [&self.last, &self.first, &self.middle]
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The form names are matched and searched in: see [`normalize`].
    pub fn norm(&self) -> String {
        normalize(&self.full())
    }
}

/// Lower case, «ё» as «е», any run of white space as one space, hyphens without spaces
/// around them. Registrars write «Ё» inconsistently and people type «Иванова -Петрова»;
/// neither should make a match fail.
/// Characters that change how text reads without showing: bidi overrides and isolates,
/// zero-width spaces and joiners, the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

pub fn normalize(s: &str) -> String {
    let lowered: String = s
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            '‐' | '‑' | '–' | '—' => '-',
            c if c.is_whitespace() => ' ',
            c => c,
        })
        .collect();
    let spaced = lowered
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    spaced.replace(" -", "-").replace("- ", "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_control_and_invisible_characters() {
        let n = PersonName::new("Ива\u{0}нова", "\u{202E}Мария", " Петровна\u{200B} ");
        assert_eq!(n.full(), "Иванова Мария Петровна");
    }

    #[test]
    fn yo_case_spaces_and_hyphens_fold() {
        assert_eq!(normalize("  Артём   СЕРГЕЕВИЧ "), "артем сергеевич");
        assert_eq!(normalize("Иванова - Петрова"), "иванова-петрова");
        assert_eq!(normalize("Иванова–Петрова"), "иванова-петрова");
    }

    #[test]
    fn full_name_skips_missing_patronymic() {
        assert_eq!(PersonName::new("Ли", "Анна", "").full(), "Ли Анна");
        assert_eq!(
            PersonName::new("Ёлкин", "Пётр", "Ильич").norm(),
            "елкин петр ильич"
        );
    }
}
