//! A faithful ESIA emulator for development and tests: the same endpoints, parameter
//! checks and error codes as ESIA (see `../shared/esia/`), signed JWTs, fixture persons.
//! There is no public test double of ESIA; without one nobody could run the product.

mod personas;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use url::form_urlencoded;

use super::jwt;
use super::protocol::{self, Collection, ErrorResponse, TokenResponse};
use super::signer::{Ed25519Signer, Ed25519Verifier, Signer, Verifier, signer_from_spec};
pub use personas::Persona;

/// ESIA accepts request timestamps within this many seconds of its own clock.
const TIMESTAMP_WINDOW_SECS: i64 = 300;

pub struct EmulatorConfig {
    /// Where the emulator serves: its REST links point here.
    pub base_url: String,
    pub extra_scopes: Vec<String>,
    pub client_id: String,
    pub certificate_hash: String,
    pub redirect_uri: String,
    pub issuer: String,
    pub signing_key: String,
    pub client_public_key: String,
    pub personas_file: std::path::PathBuf,
    pub code_ttl_secs: i64,
}

struct IssuedCode {
    persona: usize,
    scope: String,
    redirect_uri: String,
    /// `access_type=offline`: a refresh token comes with the tokens.
    offline: bool,
    issued_at: i64,
    used: bool,
}

/// An authorization request checked on arrival, waiting while the person chooses who to
/// be (ESIA keeps it in its own session: the timestamp is not checked again).
struct Pending {
    params: HashMap<String, String>,
    at: i64,
}

/// How long a checked request waits for the person on the chooser.
const PENDING_SECS: i64 = 1800;

pub struct Emulator {
    base_url: String,
    extra_scopes: Vec<String>,
    client_id: String,
    certificate_hash: String,
    redirect_uri: String,
    issuer: String,
    signer: Arc<dyn Signer>,
    client_verifier: Ed25519Verifier,
    personas: Vec<Persona>,
    code_ttl_secs: i64,
    // Development-only state: codes live for a minute and a restart simply voids them.
    codes: Mutex<HashMap<String, IssuedCode>>,
    pending: Mutex<HashMap<String, Pending>>,
    /// Access tokens issued, by token: ESIA knows its own tokens without checking their
    /// signatures, whatever it signed them with.
    issued: Mutex<HashMap<String, Value>>,
}

/// ESIA's OAuth error: `error` value plus the `ESIA-0070xx: text` description.
#[derive(Debug, Clone, Copy)]
struct EsiaFault {
    error: &'static str,
    code: &'static str,
    text: &'static str,
}

const fn fault(error: &'static str, code: &'static str, text: &'static str) -> EsiaFault {
    EsiaFault { error, code, text }
}

const INVALID_PARAM: EsiaFault = fault(
    "invalid_request",
    "007003",
    "The request contains an invalid parameter value.",
);
const DENIED: EsiaFault = fault(
    "access_denied",
    "007004",
    "The resource owner or authorization server denied the request.",
);
const UNAUTHORIZED_CLIENT: EsiaFault = fault(
    "unauthorized_client",
    "007005",
    "The client is not authorized to request an access token using this method.",
);
const BAD_SCOPE: EsiaFault = fault(
    "invalid_scope",
    "007006",
    "The requested scope is invalid, unknown, or malformed.",
);
const BAD_GRANT: EsiaFault = fault(
    "invalid_grant",
    "007011",
    "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
);
const BAD_GRANT_TYPE: EsiaFault = fault(
    "unsupported_grant_type",
    "007012",
    "The authorization grant type is not supported.",
);
const MISSING_PARAM: EsiaFault = fault(
    "invalid_request",
    "007014",
    "The request does not contain the mandatory parameter",
);
const BAD_TIME: EsiaFault = fault(
    "invalid_request",
    "007015",
    "The request timestamp is invalid.",
);
const BAD_REDIRECT: EsiaFault = fault(
    "invalid_request",
    "007023",
    "The redirect_uri is not registered for the client.",
);
const BAD_SECRET: EsiaFault = fault(
    "access_denied",
    "007053",
    "OAuthErrorEnum.clientSecretWrong",
);

impl EsiaFault {
    fn description(&self) -> String {
        format!("ESIA-{}: {}", self.code, self.text)
    }
}

#[derive(Template)]
#[template(path = "emulator/chooser.html")]
struct ChooserPage<'a> {
    personas: &'a [Persona],
    base_query: String,
}

#[derive(Template)]
#[template(path = "emulator/error.html")]
struct ErrorPage {
    description: String,
}

fn html(t: impl Template, status: StatusCode) -> Response {
    match t.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

impl Emulator {
    pub fn new(cfg: EmulatorConfig) -> anyhow::Result<Arc<Self>> {
        // ESIA signs with RS256 or GOST (`rs256:…`, `command:…`); a bare Ed25519 seed is
        // only a faster test key.
        let signer: Arc<dyn Signer> = if cfg.signing_key.contains(':') {
            signer_from_spec(&cfg.signing_key)?
        } else {
            Arc::new(Ed25519Signer::from_base64_seed(&cfg.signing_key)?)
        };
        Ok(Arc::new(Self {
            base_url: cfg.base_url.trim_end_matches('/').to_string(),
            extra_scopes: cfg.extra_scopes,
            client_id: cfg.client_id,
            certificate_hash: cfg.certificate_hash,
            redirect_uri: cfg.redirect_uri,
            issuer: cfg.issuer,
            signer,
            client_verifier: Ed25519Verifier::from_base64(&cfg.client_public_key)?,
            personas: personas::load(&cfg.personas_file)?,
            code_ttl_secs: cfg.code_ttl_secs,
            codes: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            issued: Mutex::new(HashMap::new()),
        }))
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(protocol::AUTHORIZE_PATH, get(authorize))
            .route(protocol::TOKEN_PATH, post(token))
            .route("/rs/prns/{oid}", get(person))
            .route("/rs/prns/{oid}/{collection}", get(collection))
            .route("/rs/prns/{oid}/{collection}/{id}", get(element))
            .route(protocol::LOGOUT_PATH, get(logout))
            .with_state(self)
    }

    pub fn personas(&self) -> &[Persona] {
        &self.personas
    }

    async fn secret_ok(&self, p: &HashMap<String, String>, code: Option<&str>) -> bool {
        let scope = protocol::signed_scope(&p["scope"], p.get("scope_org").map(String::as_str));
        let msg = protocol::secret_message(
            &p["client_id"],
            &scope,
            &p["timestamp"],
            &p["state"],
            &p["redirect_uri"],
            code,
        );
        let Some(sig) = decode_secret(&p["client_secret"]) else {
            return false;
        };
        self.client_verifier
            .verify(msg.as_bytes(), &sig)
            .await
            .unwrap_or(false)
    }

    /// ESIA registers a system's redirect address by its site: any page of it will do.
    fn redirect_allowed(&self, uri: &str) -> bool {
        same_origin(uri, &self.redirect_uri)
    }

    /// Known scopes (the recommendations' list and the agreement's extras); `openid`
    /// is optional.
    fn scope_ok(&self, scope: &str) -> bool {
        let well_formed =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        scope.split(' ').all(|s| {
            well_formed(s)
                && (protocol::KNOWN_SCOPES.contains(&s) || self.extra_scopes.iter().any(|x| x == s))
        })
    }

    /// The checks both endpoints share, in ESIA's order.
    async fn check_common(
        &self,
        p: &HashMap<String, String>,
        required: &[&str],
        code: Option<&str>,
    ) -> Result<(), EsiaFault> {
        if required
            .iter()
            .any(|k| p.get(*k).is_none_or(|v| v.is_empty()))
        {
            return Err(MISSING_PARAM);
        }
        if p["client_id"] != self.client_id {
            return Err(UNAUTHORIZED_CLIENT);
        }
        if !self.redirect_allowed(&p["redirect_uri"]) {
            return Err(BAD_REDIRECT);
        }
        // ESIA checks the certificate and the signature together: either wrong is 007053.
        if !p["client_certificate_hash"].eq_ignore_ascii_case(&self.certificate_hash) {
            return Err(BAD_SECRET);
        }
        if !self.scope_ok(&p["scope"]) {
            return Err(BAD_SCOPE);
        }
        if uuid::Uuid::parse_str(&p["state"]).is_err() {
            return Err(INVALID_PARAM);
        }
        let now = Utc::now();
        match protocol::parse_timestamp(&p["timestamp"]) {
            Some(t) if (now - t).num_seconds().abs() <= TIMESTAMP_WINDOW_SECS => {}
            _ => return Err(BAD_TIME),
        }
        if !self.secret_ok(p, code).await {
            return Err(BAD_SECRET);
        }
        Ok(())
    }

    async fn issue_tokens(
        &self,
        persona: &Persona,
        scope: &str,
        offline: bool,
    ) -> Result<TokenResponse, StatusCode> {
        let now = Utc::now().timestamp();
        let sid = uuid::Uuid::new_v4().to_string();
        let oid = persona.oid;
        // What the person's consent grants: the request's scopes less those they withhold.
        let scoped: Vec<String> = scope
            .split(' ')
            .filter(|s| !persona.withheld_scopes.iter().any(|w| w == s))
            .map(|s| {
                if s == "openid" {
                    s.to_string()
                } else {
                    format!("{s}?oid={oid}")
                }
            })
            .collect();
        let alg = self.signer.jwt_alg();
        let access_header = json!({"ver": 1, "typ": "JWT", "sbt": "access", "alg": alg});
        let access_claims = json!({
            "nbf": now, "scope": scoped.join(" "), "iss": self.issuer,
            "urn:esia:sid": sid, "urn:esia:sbj_id": oid, "exp": now + 3600, "iat": now,
            "client_id": self.client_id,
        });
        let mut sbj = json!({
            "urn:esia:sbj:typ": "P", "urn:esia:sbj:oid": oid, "urn:esia:sbj:nam": format!("OID.{oid}"),
            "urn:esia:sbj:lvl": if persona.trusted { "PR" } else { "P" },
        });
        if persona.trusted {
            sbj["urn:esia:sbj:is_tru"] = Value::Bool(true);
        }
        let id_header = json!({"alg": alg, "sbt": "id", "typ": "JWT", "ver": 0});
        let id_claims = json!({
            "aud": self.client_id, "sub": oid, "nbf": now, "amr": "PWD", "urn:esia:amd": "PWD",
            "auth_time": now, "iss": self.issuer, "urn:esia:sid": sid, "urn:esia:sbj": sbj,
            "exp": now + 10800, "iat": now,
        });
        let failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
        let access_token = jwt::sign(&access_header, &access_claims, &*self.signer)
            .await
            .map_err(failed)?;
        if let Ok(mut issued) = self.issued.lock() {
            issued.retain(|_, c| c["exp"].as_i64().is_some_and(|exp| exp > now));
            issued.insert(access_token.clone(), access_claims);
        }
        // No id_token without `openid`.
        let id_token = if scope.split(' ').any(|s| s == "openid") {
            Some(
                jwt::sign(&id_header, &id_claims, &*self.signer)
                    .await
                    .map_err(failed)?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token,
            id_token,
            state: String::new(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: offline.then(|| uuid::Uuid::new_v4().to_string()),
        })
    }

    /// Resolves a bearer token to a persona and the scopes it grants, checking signature,
    /// expiry, subject and the scope `needed`.
    async fn bearer(
        &self,
        headers: &HeaderMap,
        oid: i64,
        needed_scope: &str,
    ) -> Result<(&Persona, Granted), StatusCode> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let claims = self
            .issued
            .lock()
            .ok()
            .and_then(|issued| issued.get(token).cloned())
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let now = Utc::now().timestamp();
        let (nbf, exp) = (
            claims["nbf"].as_i64().unwrap_or(0),
            claims["exp"].as_i64().unwrap_or(0),
        );
        if jwt::check_times(nbf, exp, now, 0).is_err()
            || claims["urn:esia:sbj_id"].as_i64() != Some(oid)
        {
            return Err(StatusCode::UNAUTHORIZED);
        }
        let granted = Granted(
            claims["scope"]
                .as_str()
                .unwrap_or_default()
                .split(' ')
                .filter_map(|s| s.split('?').next())
                .map(str::to_string)
                .collect(),
        );
        if !granted.has(needed_scope) {
            return Err(StatusCode::FORBIDDEN);
        }
        let persona = self
            .personas
            .iter()
            .find(|p| p.oid == oid)
            .ok_or(StatusCode::NOT_FOUND)?;
        Ok((persona, granted))
    }

    /// The elements of a person's collection the token may read: contacts, kids.
    fn elements(&self, p: &Persona, name: &str, granted: &Granted) -> Vec<(i64, Value)> {
        let oid = p.oid;
        match name {
            "ctts" => {
                let verified = |ok: bool| if ok { "VERIFIED" } else { "NOT_VERIFIED" };
                let mut v = Vec::new();
                if let Some(e) = &p.email {
                    let status = verified(p.email_verified);
                    v.push((
                        oid * 10 + 1,
                        json!({"type": "EML", "vrfStu": status, "value": e}),
                    ));
                }
                if let Some(m) = &p.mobile {
                    v.push((
                        oid * 10 + 2,
                        json!({"type": "MBT", "vrfStu": "VERIFIED", "value": m}),
                    ));
                }
                if let Some(phone) = &p.phone {
                    let contact = json!({"type": "PHN", "vrfStu": "NOT_VERIFIED", "value": phone});
                    v.push((oid * 10 + 3, contact));
                }
                v
            }
            "kids" => p
                .kids
                .iter()
                .map(|k| (k.id, person_json(&k.person, granted, "kid_")))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// A collection as ESIA answers it: elements as links to them, or the elements
    /// themselves with `embed=(elements)`.
    fn collection_json(&self, p: &Persona, name: &str, granted: &Granted, embed: bool) -> Value {
        let oid = p.oid;
        let elements: Vec<Value> = self
            .elements(p, name, granted)
            .into_iter()
            .map(|(id, v)| {
                if embed {
                    element_json(oid, name, id, v)
                } else {
                    json!(format!("{}/rs/prns/{oid}/{name}/{id}", self.base_url))
                }
            })
            .collect();
        json!(Collection {
            state_facts: vec!["hasSize".into()],
            size: elements.len(),
            e_tag: etag(&format!("{oid}/{name}")),
            elements,
        })
    }
}

/// The scopes a token grants, without their `?oid=` tails.
struct Granted(Vec<String>);

impl Granted {
    fn has(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }
}

fn element_json(oid: i64, name: &str, id: i64, mut v: Value) -> Value {
    v["id"] = json!(id);
    v["stateFacts"] = json!(["Identifiable"]);
    v["eTag"] = json!(etag(&format!("{oid}/{name}/{id}")));
    v
}

/// Base64url or standard base64, padded or not: independent clients send all of them.
fn decode_secret(text: &str) -> Option<Vec<u8>> {
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    [URL_SAFE, STANDARD]
        .iter()
        .find_map(|alphabet| GeneralPurpose::new(alphabet, config).decode(text).ok())
}

/// `uri` with `pairs` added to whatever query it has.
fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut target) => {
            target.query_pairs_mut().extend_pairs(pairs);
            Redirect::to(target.as_str()).into_response()
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn error_redirect(uri: &str, f: EsiaFault, state: &str) -> Response {
    let description = f.description();
    let mut pairs = vec![
        ("error", f.error),
        ("error_description", description.as_str()),
    ];
    if !state.is_empty() {
        pairs.push(("state", state));
    }
    redirect_with(uri, &pairs)
}

const AUTHORIZE_PARAMS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_certificate_hash",
    "redirect_uri",
    "scope",
    "response_type",
    "state",
    "timestamp",
];

async fn authorize(
    State(emu): State<Arc<Emulator>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    // A choice on the chooser: the request was checked when it arrived.
    let (p, checked) = match query.get("request") {
        Some(id) => {
            let now = Utc::now().timestamp();
            let kept = emu.pending.lock().ok().and_then(|mut pending| {
                pending.retain(|_, r| now - r.at <= PENDING_SECS);
                pending.get(id).map(|r| r.params.clone())
            });
            match kept {
                Some(params) => (params, true),
                None => {
                    return html(
                        ErrorPage {
                            description: BAD_TIME.description(),
                        },
                        StatusCode::BAD_REQUEST,
                    );
                }
            }
        }
        None => (query.clone(), false),
    };
    let redirect_uri = p.get("redirect_uri").cloned().unwrap_or_default();
    let redirect_ok = emu.redirect_allowed(&redirect_uri)
        && p.get("client_id").is_some_and(|c| *c == emu.client_id);
    let state = p.get("state").cloned().unwrap_or_default();
    if !checked {
        let result = match emu.check_common(&p, AUTHORIZE_PARAMS, None).await {
            Ok(()) if p["response_type"] != "code" => Err(INVALID_PARAM),
            other => other,
        };
        if let Err(f) = result {
            // With an unknown client or redirect_uri ESIA stays on its own page.
            if !redirect_ok {
                return html(
                    ErrorPage {
                        description: f.description(),
                    },
                    StatusCode::BAD_REQUEST,
                );
            }
            return error_redirect(&redirect_uri, f, &state);
        }
    }
    if query.contains_key("deny") {
        return error_redirect(&redirect_uri, DENIED, &state);
    }
    let Some(idx) = query
        .get("persona")
        .and_then(|id| emu.personas.iter().position(|x| x.id == *id))
    else {
        let id = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>());
        if let Ok(mut pending) = emu.pending.lock() {
            let at = Utc::now().timestamp();
            pending.insert(id.clone(), Pending { params: p, at });
        }
        let base_query = form_urlencoded::Serializer::new(String::new())
            .append_pair("request", &id)
            .finish();
        return html(
            ChooserPage {
                personas: &emu.personas,
                base_query,
            },
            StatusCode::OK,
        );
    };
    if let Some(id) = query.get("request")
        && let Ok(mut pending) = emu.pending.lock()
    {
        pending.remove(id);
    }
    let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    let issued = IssuedCode {
        persona: idx,
        scope: p["scope"].clone(),
        redirect_uri: redirect_uri.clone(),
        offline: p.get("access_type").is_some_and(|a| a == "offline"),
        issued_at: Utc::now().timestamp(),
        used: false,
    };
    if let Ok(mut codes) = emu.codes.lock() {
        let horizon = Utc::now().timestamp() - emu.code_ttl_secs;
        codes.retain(|_, c| c.issued_at >= horizon);
        codes.insert(code.clone(), issued);
    }
    redirect_with(&redirect_uri, &[("code", &code), ("state", &state)])
}

/// `token_type` is optional: ESIA answers Bearer tokens either way.
const TOKEN_PARAMS: &[&str] = &[
    "client_id",
    "code",
    "grant_type",
    "client_certificate_hash",
    "client_secret",
    "state",
    "redirect_uri",
    "scope",
    "timestamp",
];

fn token_error(f: EsiaFault, state: Option<String>) -> Response {
    let body = ErrorResponse {
        error: f.error.into(),
        error_description: Some(f.description()),
        state,
    };
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

async fn token(
    State(emu): State<Arc<Emulator>>,
    axum::Form(p): axum::Form<HashMap<String, String>>,
) -> Response {
    let state = p.get("state").cloned();
    if p.get("grant_type")
        .is_some_and(|g| g != "authorization_code")
    {
        return token_error(BAD_GRANT_TYPE, state);
    }
    let code = p.get("code").cloned().unwrap_or_default();
    if let Err(f) = emu.check_common(&p, TOKEN_PARAMS, Some(&code)).await {
        return token_error(f, state);
    }
    let claimed = {
        let Ok(mut codes) = emu.codes.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let now = Utc::now().timestamp();
        match codes.get_mut(&code) {
            Some(c)
                if !c.used
                    && now - c.issued_at <= emu.code_ttl_secs
                    && c.scope == p["scope"]
                    && c.redirect_uri == p["redirect_uri"] =>
            {
                c.used = true;
                Some((c.persona, c.scope.clone(), c.offline))
            }
            Some(c) => {
                // A replayed code is burnt for good, as with any OAuth server.
                c.used = true;
                None
            }
            None => None,
        }
    };
    let Some((idx, scope, offline)) = claimed else {
        return token_error(BAD_GRANT, state);
    };
    match emu.issue_tokens(&emu.personas[idx], &scope, offline).await {
        Ok(mut t) => {
            t.state = state.unwrap_or_default();
            axum::Json(t).into_response()
        }
        Err(status) => status.into_response(),
    }
}

#[derive(Deserialize)]
struct EmbedQuery {
    embed: Option<String>,
}

async fn person(
    State(emu): State<Arc<Emulator>>,
    Path(oid): Path<i64>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    let (p, granted) = match emu.bearer(&headers, oid, "fullname").await {
        Ok(found) => found,
        Err(s) => return s.into_response(),
    };
    let mut v = person_json(&p.person, &granted, "");
    for (key, value) in [
        ("stateFacts", json!(["EntityRoot"])),
        ("trusted", json!(p.trusted)),
        ("citizenship", json!("RUS")),
        ("updatedOn", json!(1_755_088_113)),
        ("status", json!("REGISTERED")),
        ("verifying", json!(false)),
        ("eTag", json!(etag(&p.id))),
    ] {
        v[key] = value;
    }
    // `?embed=(contacts.elements,kids.elements,documents.elements)`: each collection
    // the token's scopes allow, with its elements in place.
    let embed = q.embed.unwrap_or_default();
    for (key, name, scope) in [
        ("contacts", "ctts", "contacts"),
        ("kids", "kids", "kid_fullname"),
        ("documents", "docs", "id_doc"),
    ] {
        if embed.contains(&format!("{key}.elements")) && granted.has(scope) {
            v[key] = emu.collection_json(p, name, &granted, true);
        }
    }
    axum::Json(v).into_response()
}

/// A person's or a kid's fields, each only with its scope (`prefix` `kid_` for kids); an
/// empty middle name, gender or СНИЛС is absent, as ESIA leaves it out.
fn person_json(f: &personas::PersonFields, granted: &Granted, prefix: &str) -> Value {
    let mut v = json!({"firstName": f.first_name, "lastName": f.last_name});
    for (key, scope, value) in [
        ("middleName", "fullname", &f.middle_name),
        ("birthDate", "birthdate", &f.birth_date),
        ("gender", "gender", &f.gender),
        ("snils", "snils", &f.snils),
    ] {
        if !value.is_empty() && granted.has(&format!("{prefix}{scope}")) {
            v[key] = json!(value);
        }
    }
    v
}

fn etag(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest[..20].iter().map(|b| format!("{b:02X}")).collect()
}

/// The scope a person's collection needs.
fn collection_scope(name: &str) -> Option<&'static str> {
    match name {
        "ctts" => Some("contacts"),
        "kids" => Some("kid_fullname"),
        "docs" => Some("id_doc"),
        "addrs" => Some("addresses"),
        _ => None,
    }
}

async fn collection(
    State(emu): State<Arc<Emulator>>,
    Path((oid, name)): Path<(i64, String)>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(needed) = collection_scope(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match emu.bearer(&headers, oid, needed).await {
        Ok((p, granted)) => {
            let embed = q.embed.as_deref() == Some("(elements)");
            axum::Json(emu.collection_json(p, &name, &granted, embed)).into_response()
        }
        Err(s) => s.into_response(),
    }
}

/// One element of a collection, where a collection without embed links to it.
async fn element(
    State(emu): State<Arc<Emulator>>,
    Path((oid, name, id)): Path<(i64, String, i64)>,
    headers: HeaderMap,
) -> Response {
    let Some(needed) = collection_scope(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (p, granted) = match emu.bearer(&headers, oid, needed).await {
        Ok(found) => found,
        Err(s) => return s.into_response(),
    };
    match emu
        .elements(p, &name, &granted)
        .into_iter()
        .find(|(i, _)| *i == id)
    {
        Some((id, v)) => axum::Json(element_json(oid, &name, id, v)).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[derive(Deserialize)]
struct LogoutQuery {
    client_id: Option<String>,
    redirect_url: Option<String>,
}

#[derive(Template)]
#[template(path = "emulator/logged_out.html")]
struct LoggedOutPage;

async fn logout(State(emu): State<Arc<Emulator>>, Query(q): Query<LogoutQuery>) -> Response {
    match (q.client_id, q.redirect_url) {
        // Only back to the registered system: ESIA is no open redirector.
        (Some(c), Some(r)) if c == emu.client_id && emu.redirect_allowed(&r) => {
            Redirect::to(&r).into_response()
        }
        // Without a way back ESIA shows its own page.
        (Some(c), None) if c == emu.client_id => html(LoggedOutPage, StatusCode::OK),
        _ => html(
            ErrorPage {
                description: MISSING_PARAM.description(),
            },
            StatusCode::BAD_REQUEST,
        ),
    }
}
