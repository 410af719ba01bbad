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
    pub fn new(last: &str, first: &str, middle: &str) -> Self {
        Self {
            last: last.trim().to_string(),
            first: first.trim().to_string(),
            middle: middle.trim().to_string(),
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
