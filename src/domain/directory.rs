//! One organization of the region's directory as the school system describes it, and
//! the rules a directory row must meet.

use super::appeal::{ORG_TYPES, parse_text};
use super::names::normalize;

/// A valid row of a directory file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationEntry {
    /// The row's line in the file.
    pub line: usize,
    pub region: String,
    pub municipality: String,
    /// `None`: the file has no such column, so the organization keeps what it has.
    pub locality: Option<String>,
    pub name: String,
    /// `None` as for `locality`; `Some(None)`: the file leaves it empty.
    pub short_name: Option<Option<String>>,
    /// `general`, `preschool`, `additional` or `professional`.
    pub org_type: &'static str,
    /// The school system's code: the key.
    pub code: String,
    /// Class names, each once, in the file's order.
    pub classes: Vec<String>,
}

/// The longest name the directory keeps (full names of Russian schools run to ~300).
pub const NAME_MAX_CHARS: usize = 500;
pub const CLASS_MAX_CHARS: usize = 20;
pub const CODE_MAX_CHARS: usize = 64;

/// An organization type from its Russian name («общеобразовательная», «дошкольная»,
/// «дополнительного образования», «профессиональная», any case, also the short forms
/// «ОО», «ДОО», «УДО», «СПО») or its code.
pub fn org_type(text: &str) -> Option<&'static str> {
    let t = normalize(text).replace(' ', "");
    if let Some((code, _)) = ORG_TYPES.iter().find(|(code, _)| *code == t) {
        return Some(code);
    }
    let code = if t.starts_with("общеобразоват") || t == "оо" || t == "школа" {
        "general"
    } else if t.starts_with("дошкол") || t == "доо" || t == "детскийсад" {
        "preschool"
    } else if t.starts_with("дополнит") || t == "удо" || t == "одо" {
        "additional"
    } else if t.starts_with("профессион") || t == "спо" || t == "поо" {
        "professional"
    } else {
        return None;
    };
    Some(code)
}

/// Class names from «1а, 1б; 2а»: separated by commas or semicolons, blanks dropped,
/// each once.
pub fn class_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text
        .split([',', ';'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

/// A single-line name: no control or invisible characters, at most `max` characters.
pub fn single_line(text: &str, max: usize) -> Result<Option<String>, String> {
    if text.contains('\n') {
        return Err("значение в несколько строк".into());
    }
    parse_text(text, max).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_russian_names_and_codes() {
        assert_eq!(org_type("Общеобразовательная"), Some("general"));
        assert_eq!(org_type("дошкольная"), Some("preschool"));
        assert_eq!(org_type("Дополнительного образования"), Some("additional"));
        assert_eq!(org_type("ПРОФЕССИОНАЛЬНАЯ"), Some("professional"));
        assert_eq!(org_type("general"), Some("general"));
        assert_eq!(org_type("вуз"), None);
    }

    #[test]
    fn classes_are_split_and_kept_once() {
        assert_eq!(class_names("1а, 1б;2а ,, 1а"), vec!["1а", "1б", "2а"]);
        assert!(class_names(" ").is_empty());
    }
}
