//! The ESIA client: authorize redirect, code exchange with a signed `client_secret`, token
//! verification and the REST reads of the person, contacts and kids.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{FixedOffset, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::{Url, form_urlencoded};

use super::error::EsiaError;
use super::jwt::{self, JwtError};
use super::protocol::{self, Collection, Contact, ErrorResponse, Kid, Person, TokenResponse};
use super::signer::{Keyring, Signer};
use crate::domain::applicant::{Applicant, Child, Identity, LoginRole};
use crate::domain::eligibility;

/// Tolerated clock skew between this server and ESIA, in seconds.
const LEEWAY_SECS: i64 = 60;

pub struct EsiaClient {
    http: reqwest::Client,
    base_url: String,
    client_id: String,
    certificate_hash: String,
    redirect_uri: String,
    issuer: String,
    signer: Arc<dyn Signer>,
    keyring: Keyring,
    offset: FixedOffset,
}

pub struct EsiaClientConfig {
    pub base_url: String,
    pub client_id: String,
    pub certificate_hash: String,
    pub redirect_uri: String,
    pub issuer: String,
    pub signer: Arc<dyn Signer>,
    /// ESIA's token keys, by algorithm.
    pub keyring: Keyring,
    pub timeout: Duration,
    pub offset: FixedOffset,
}

/// Tokens whose signatures and claims have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedTokens {
    pub access_token: String,
    pub oid: String,
    pub is_tru: Option<bool>,
}

#[derive(Deserialize)]
struct IdTokenClaims {
    aud: String,
    iss: String,
    nbf: i64,
    exp: i64,
    #[serde(rename = "urn:esia:sbj")]
    sbj: Subject,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(rename = "urn:esia:sbj:oid")]
    oid: serde_json::Value,
    #[serde(rename = "urn:esia:sbj:is_tru", default)]
    is_tru: Option<bool>,
}

#[derive(Deserialize)]
struct AccessTokenClaims {
    client_id: String,
    iss: String,
    nbf: i64,
    exp: i64,
    #[serde(rename = "urn:esia:sbj_id")]
    sbj_id: serde_json::Value,
}

fn oid_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

impl EsiaClient {
    pub fn new(cfg: EsiaClientConfig) -> Result<Self, EsiaError> {
        Url::parse(&cfg.base_url)
            .map_err(|e| EsiaError::BadResponse(format!("esia.base_url: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EsiaError::Unreachable(e.to_string()))?;
        Ok(Self {
            http,
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            client_id: cfg.client_id,
            certificate_hash: cfg.certificate_hash,
            redirect_uri: cfg.redirect_uri,
            issuer: cfg.issuer,
            signer: cfg.signer,
            keyring: cfg.keyring,
            offset: cfg.offset,
        })
    }

    fn timestamp(&self) -> String {
        protocol::format_timestamp(Utc::now().with_timezone(&self.offset))
    }

    async fn client_secret(
        &self,
        scope: &str,
        timestamp: &str,
        state: &str,
        code: Option<&str>,
    ) -> Result<String, EsiaError> {
        let msg = protocol::secret_message(
            &self.client_id,
            scope,
            timestamp,
            state,
            &self.redirect_uri,
            code,
        );
        Ok(URL_SAFE_NO_PAD.encode(self.signer.sign(msg.as_bytes()).await?))
    }

    /// The v2/ac URL the browser is sent to; `state` must be kept in the session.
    pub async fn authorize_url(&self, role: LoginRole, state: &str) -> Result<String, EsiaError> {
        let scope = protocol::scope_for(role);
        let timestamp = self.timestamp();
        let secret = self.client_secret(&scope, &timestamp, state, None).await?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", &secret)
            .append_pair("client_certificate_hash", &self.certificate_hash)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &scope)
            .append_pair("response_type", "code")
            .append_pair("state", state)
            .append_pair("timestamp", &timestamp)
            .append_pair("access_type", "online")
            .finish();
        Ok(format!(
            "{}{}?{query}",
            self.base_url,
            protocol::AUTHORIZE_PATH
        ))
    }

    /// Exchanges an authorization code (v3/te) and verifies both tokens.
    pub async fn exchange(&self, code: &str, role: LoginRole) -> Result<VerifiedTokens, EsiaError> {
        let scope = protocol::scope_for(role);
        let timestamp = self.timestamp();
        // ESIA requires a fresh state for the token request and echoes it back.
        let state = uuid::Uuid::new_v4().to_string();
        let secret = self
            .client_secret(&scope, &timestamp, &state, Some(code))
            .await?;
        let form = [
            ("client_id", self.client_id.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("client_certificate_hash", &self.certificate_hash),
            ("client_secret", &secret),
            ("state", &state),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &scope),
            ("timestamp", &timestamp),
            ("token_type", "Bearer"),
        ];
        let resp = self
            .http
            .post(format!("{}{}", self.base_url, protocol::TOKEN_PATH))
            .form(&form)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        // ESIA has answered errors with 200 too: an `error` key is an error, whatever the
        // status.
        if let Ok(err) = serde_json::from_slice::<ErrorResponse>(&body) {
            return Err(EsiaError::Protocol {
                code: protocol::code_of(&err).to_string(),
            });
        }
        if !status.is_success() {
            return Err(EsiaError::BadResponse(format!(
                "token endpoint HTTP {status}"
            )));
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| EsiaError::BadResponse(e.to_string()))?;
        if tokens.state != state {
            return Err(EsiaError::BadResponse(
                "token response state mismatch".into(),
            ));
        }
        self.verify_tokens(tokens).await
    }

    async fn verify_tokens(&self, tokens: TokenResponse) -> Result<VerifiedTokens, EsiaError> {
        let now = Utc::now().timestamp();
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| EsiaError::BadResponse("no id_token in the token response".into()))?;
        let (_, id): (_, IdTokenClaims) = jwt::verify(id_token, &self.keyring).await?;
        jwt::check_times(id.nbf, id.exp, now, LEEWAY_SECS)?;
        if id.aud != self.client_id {
            return Err(JwtError::Claims("id_token aud is not our client_id").into());
        }
        if id.iss != self.issuer {
            return Err(JwtError::Claims("id_token iss is not ESIA").into());
        }
        let (_, access): (_, AccessTokenClaims) =
            jwt::verify(&tokens.access_token, &self.keyring).await?;
        jwt::check_times(access.nbf, access.exp, now, LEEWAY_SECS)?;
        if access.client_id != self.client_id {
            return Err(JwtError::Claims("access_token client_id is not ours").into());
        }
        if access.iss != self.issuer {
            return Err(JwtError::Claims("access_token iss is not ESIA").into());
        }
        let oid = oid_string(&id.sbj.oid).ok_or(JwtError::Claims("no subject oid"))?;
        if oid_string(&access.sbj_id).as_deref() != Some(oid.as_str()) {
            return Err(JwtError::Claims("tokens name different subjects").into());
        }
        Ok(VerifiedTokens {
            access_token: tokens.access_token,
            oid,
            is_tru: id.sbj.is_tru,
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        tokens: &VerifiedTokens,
        path: &str,
    ) -> Result<T, EsiaError> {
        let resp = self
            .http
            .get(format!(
                "{}{}/{}{}",
                self.base_url,
                protocol::PERSONS_PATH,
                tokens.oid,
                path
            ))
            .bearer_auth(&tokens.access_token)
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(EsiaError::Rest(resp.status().as_u16()));
        }
        Ok(resp.json().await?)
    }

    /// Reads the person, e-mail and (for parents) kids into an [`Applicant`].
    pub async fn load_applicant(
        &self,
        tokens: &VerifiedTokens,
        role: LoginRole,
    ) -> Result<Applicant, EsiaError> {
        let person: Person = self.get(tokens, "").await?;
        let contacts: Collection<Contact> = self.get(tokens, "/ctts?embed=(elements)").await?;
        let kids: Vec<Kid> = match role {
            LoginRole::Parent => {
                self.get::<Collection<Kid>>(tokens, "/kids?embed=(elements)")
                    .await?
                    .elements
            }
            _ => Vec::new(),
        };
        let birth_date = person
            .names
            .birth_date()
            .ok_or_else(|| EsiaError::BadResponse("person has no valid birthDate".into()))?;
        // Only a verified address is ESIA's word; an unverified one only prefills the
        // form's question. An address with control characters is no address at all.
        let email_with = |verified: bool| {
            contacts
                .elements
                .iter()
                .filter(|c| c.kind == "EML" && (c.vrf_stu == "VERIFIED") == verified)
                .map(|c| c.value.trim().to_string())
                .find(|e| !e.is_empty() && !e.chars().any(char::is_control))
        };
        let (email, unverified_email) = (email_with(true), email_with(false));
        let kids = kids
            .into_iter()
            .filter_map(|k| {
                Some(Child {
                    esia_id: k.id.to_string(),
                    name: k.names.name(),
                    birth_date: k.names.birth_date()?,
                    snils: k.names.snils(),
                })
            })
            .collect();
        Ok(Applicant {
            identity: Identity {
                oid: tokens.oid.clone(),
                role,
                name: person.names.name(),
                birth_date,
                snils: person.names.snils(),
                email,
                unverified_email,
                confirmed: eligibility::is_confirmed(tokens.is_tru, person.trusted),
            },
            kids,
        })
    }

    /// `scheme://host[:port]` of ESIA, for the CSP `form-action` list.
    pub fn origin(&self) -> String {
        Url::parse(&self.base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// ESIA's single logout; note the parameter is `redirect_url`, not `redirect_uri`.
    pub fn logout_url(&self, redirect_url: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_url", redirect_url)
            .finish();
        format!("{}{}?{query}", self.base_url, protocol::LOGOUT_PATH)
    }
}
