//! Fixture personas the emulator serves, read from `config/esia-personas.toml`.

use std::path::Path;

use serde::Deserialize;

/// Fields a persona and each of its kids share. (`flatten` rules out
/// `deny_unknown_fields`; `load` checks the kids' ids instead.)
#[derive(Debug, Clone, Deserialize)]
pub struct PersonFields {
    pub last_name: String,
    pub first_name: String,
    /// Empty: none (ESIA leaves the field out).
    #[serde(default)]
    pub middle_name: String,
    pub birth_date: String,
    pub gender: String,
    /// Empty: none (a kid without СНИЛС).
    #[serde(default)]
    pub snils: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Persona {
    pub id: String,
    pub label: String,
    pub oid: i64,
    pub trusted: bool,
    #[serde(flatten)]
    pub person: PersonFields,
    #[serde(default)]
    pub email: Option<String>,
    /// `false`: the e-mail is `NOT_VERIFIED` in ESIA.
    #[serde(default = "verified")]
    pub email_verified: bool,
    #[serde(default)]
    pub mobile: Option<String>,
    /// A landline (`PHN`, not verified).
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub kids: Vec<PersonaKid>,
    /// Scopes this person's consent does not grant (the token lacks them).
    #[serde(default)]
    pub withheld_scopes: Vec<String>,
}

fn verified() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct PersonaKid {
    pub id: i64,
    #[serde(flatten)]
    pub person: PersonFields,
}

#[derive(Deserialize)]
struct PersonaFile {
    persona: Vec<Persona>,
}

pub fn load(path: &Path) -> anyhow::Result<Vec<Persona>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read personas file {}: {e}", path.display()))?;
    let file: PersonaFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("personas file {}: {e}", path.display()))?;
    let mut ids = std::collections::HashSet::new();
    for p in &file.persona {
        if !ids.insert(p.id.as_str()) {
            anyhow::bail!(
                "personas file {}: persona {} appears twice",
                path.display(),
                p.id
            );
        }
    }
    Ok(file.persona)
}
