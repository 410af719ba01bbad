//! Wire details shared by the client and the emulator, so both sides build the signed
//! message and the timestamp the same way (see `../shared/esia/README.md`).

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::applicant::LoginRole;
use crate::domain::names::PersonName;
use crate::domain::snils::Snils;

pub const AUTHORIZE_PATH: &str = "/aas/oauth2/v2/ac";
pub const TOKEN_PATH: &str = "/aas/oauth2/v3/te";
pub const LOGOUT_PATH: &str = "/idp/ext/Logout";
pub const PERSONS_PATH: &str = "/rs/prns";

const PERSON_SCOPES: &str = "openid fullname birthdate gender snils email mobile contacts";
const KID_SCOPES: &str = "kid_fullname kid_birthdate kid_gender kid_snils";

/// Every scope the emulator knows; ESIA rejects others with ESIA-007006.
/// The scopes of the methodical recommendations (person, kids, organization): a scope
/// outside them is ESIA-007006 unless the system's agreement adds it.
pub const KNOWN_SCOPES: &[&str] = &[
    "openid",
    "fullname",
    "birthdate",
    "birthplace",
    "gender",
    "snils",
    "inn",
    "id_doc",
    "foreign_passport_doc",
    "drivers_licence_doc",
    "military_doc",
    "medical_doc",
    "birth_cert_doc",
    "residence_doc",
    "temporary_residence_doc",
    "vehicles",
    "email",
    "mobile",
    "contacts",
    "addresses",
    "usr_org",
    "usr_avt",
    "self_employed",
    "kid_fullname",
    "kid_birthdate",
    "kid_gender",
    "kid_snils",
    "kid_inn",
    "kid_birth_cert_doc",
    "kid_medical_doc",
    "org_shortname",
    "org_fullname",
    "org_type",
    "org_ogrn",
    "org_inn",
    "org_leg",
    "org_kpp",
    "org_agencytype",
    "org_oktmo",
    "org_ctts",
    "org_addrs",
    "org_vhls",
    "org_grps",
    "org_emps",
    "org_brhs",
    "org_brhs_ctts",
    "org_brhs_addrs",
    "org_invts",
];

/// 152-ФЗ: ask only for what the role needs; children data only for parents.
pub fn scope_for(role: LoginRole) -> String {
    match role {
        LoginRole::Parent => format!("{PERSON_SCOPES} {KID_SCOPES}"),
        LoginRole::Student | LoginRole::Staff => PERSON_SCOPES.to_string(),
    }
}

/// `yyyy.MM.dd HH:mm:ss Z`, e.g. `2026.11.23 14:36:11 +0300`.
pub fn format_timestamp(at: DateTime<FixedOffset>) -> String {
    at.format("%Y.%m.%d %H:%M:%S %z").to_string()
}

pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y.%m.%d %H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The v2/v3 `client_secret` message: `client_id + scope + timestamp + state +
/// redirect_uri`, with `+ code` for the token request.
/// What `client_secret` signs for the scope: `scope`, then `scope_org` when it is sent.
pub fn signed_scope(scope: &str, scope_org: Option<&str>) -> String {
    format!("{scope}{}", scope_org.unwrap_or_default())
}

pub fn secret_message(
    client_id: &str,
    scope: &str,
    timestamp: &str,
    state: &str,
    redirect_uri: &str,
    code: Option<&str>,
) -> String {
    let mut msg = String::with_capacity(256);
    for part in [
        client_id,
        scope,
        timestamp,
        state,
        redirect_uri,
        code.unwrap_or(""),
    ] {
        msg.push_str(part);
    }
    msg
}

/// ESIA error codes this product reacts to, with the texts users see.
pub fn error_message(code: &str) -> &'static str {
    match code {
        "ESIA-007004" => "Вход отменён: разрешение на доступ к данным не было предоставлено.",
        "ESIA-007011" => "Код авторизации Госуслуг устарел или уже использован. Войдите ещё раз.",
        "ESIA-007015" => {
            "Время запроса к Госуслугам не совпадает со временем сервера. Попробуйте войти ещё раз."
        }
        "ESIA-007055" => "Вход возможен только с подтверждённой учётной записью Госуслуг.",
        "ESIA-007002" | "ESIA-007005" | "ESIA-007006" | "ESIA-007014" | "ESIA-007023"
        | "ESIA-007053" => {
            "Госуслуги отклонили запрос системы. Мы уже знаем о проблеме; попробуйте войти позже."
        }
        "ESIA-007008" => "Госуслуги перегружены. Попробуйте войти через несколько минут.",
        _ => "Госуслуги вернули ошибку. Попробуйте войти ещё раз позже.",
    }
}

/// Extracts `ESIA-0070xx` from an `error_description`.
/// The ESIA code of an OAuth error answer: from its description, or by its `error` value
/// when the description is missing.
pub fn code_of(err: &ErrorResponse) -> &str {
    if let Some(code) = err.error_description.as_deref().and_then(error_code) {
        return code;
    }
    match err.error.as_str() {
        "invalid_client" => "ESIA-007002",
        "access_denied" => "ESIA-007004",
        "unauthorized_client" => "ESIA-007005",
        "invalid_scope" => "ESIA-007006",
        "invalid_grant" => "ESIA-007011",
        "unsupported_grant_type" => "ESIA-007012",
        "invalid_request" => "ESIA-007014",
        _ => "ESIA-007007",
    }
}

pub fn error_code(description: &str) -> Option<&str> {
    let code = description.split(':').next()?.trim();
    // Only «ESIA-» and six digits: anything else (newlines included) never reaches a log.
    let digits = code.strip_prefix("ESIA-")?;
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    /// Only when `openid` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub state: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: String,
    /// `ESIA-0070xx: …`; not every answer carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The person-like fields a person and a kid share.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Names {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub birth_date: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub snils: Option<String>,
}

impl Names {
    pub fn name(&self) -> PersonName {
        PersonName::new(
            &self.last_name,
            &self.first_name,
            self.middle_name.as_deref().unwrap_or(""),
        )
    }

    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        self.birth_date.as_deref().and_then(parse_date)
    }

    /// A malformed СНИЛС from ESIA is treated as absent, never trusted for matching.
    pub fn snils(&self) -> Option<Snils> {
        self.snils.as_deref().and_then(|s| Snils::parse(s).ok())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    #[serde(flatten)]
    pub names: Names,
    #[serde(default)]
    pub trusted: bool,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub vrf_stu: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kid {
    pub id: i64,
    #[serde(flatten)]
    pub names: Names,
}

/// `{stateFacts, size, eTag, elements}`; with `?embed=(elements)` the elements are objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    // ESIA leaves these out of some answers (an empty collection has no elements).
    #[serde(default)]
    pub state_facts: Vec<String>,
    #[serde(default)]
    pub size: usize,
    #[serde(default)]
    pub e_tag: String,
    #[serde(default = "Vec::new")]
    pub elements: Vec<T>,
}

/// `dd.MM.yyyy`.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%d.%m.%Y").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamp_matches_esia_format() {
        let msk = FixedOffset::east_opt(3 * 3600).unwrap();
        let at = msk.with_ymd_and_hms(2026, 11, 23, 14, 36, 11).unwrap();
        let s = format_timestamp(at);
        assert_eq!(s, "2026.11.23 14:36:11 +0300");
        assert_eq!(parse_timestamp(&s).unwrap(), at.with_timezone(&Utc));
    }

    #[test]
    fn forged_codes_are_not_codes() {
        assert_eq!(error_code("ESIA-00\n\nxx: x"), None);
        assert_eq!(error_code("ESIA-0070O4: x"), None);
        assert_eq!(error_code("ESIA-007004: отказ"), Some("ESIA-007004"));
    }

    #[test]
    fn error_code_is_read_from_description() {
        assert_eq!(
            error_code("ESIA-007011: The provided authorization grant ..."),
            Some("ESIA-007011")
        );
        assert_eq!(error_code("OAuthErrorEnum"), None);
    }

    #[test]
    fn kids_scopes_only_for_parents() {
        assert!(scope_for(LoginRole::Parent).contains("kid_fullname"));
        assert!(!scope_for(LoginRole::Student).contains("kid_"));
    }

    #[test]
    fn fixture_shapes_deserialize() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/esia");
        let person = std::fs::read_to_string(dir.join("person.json"))
            .expect("../shared/esia must be beside the checkout");
        let p: Person = serde_json::from_str(&person).unwrap();
        assert!(p.trusted);
        let kids: Collection<Kid> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("kids-embedded.json")).unwrap())
                .unwrap();
        assert_eq!(kids.elements.len(), 2);
        let ctts: Collection<Contact> = serde_json::from_str(
            &std::fs::read_to_string(dir.join("contacts-embedded.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(ctts.elements[0].kind, "EML");
        let err: ErrorResponse =
            serde_json::from_str(&std::fs::read_to_string(dir.join("token-error.json")).unwrap())
                .unwrap();
        assert_eq!(code_of(&err), "ESIA-007011");
        // Without a description the `error` value tells; collections may leave fields out.
        let bare: ErrorResponse = serde_json::from_str(r#"{"error":"access_denied"}"#).unwrap();
        assert_eq!(code_of(&bare), "ESIA-007004");
        let empty: Collection<Contact> = serde_json::from_str(r#"{"size":0}"#).unwrap();
        assert!(empty.elements.is_empty() && empty.e_tag.is_empty());
        let tok: TokenResponse = serde_json::from_str(
            &std::fs::read_to_string(dir.join("token-response.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(tok.expires_in, 3600);
    }
}
