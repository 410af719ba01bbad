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
use super::signer::{Ed25519Signer, Ed25519Verifier, Signer, Verifier};
pub use personas::Persona;

/// ESIA accepts request timestamps within this many seconds of its own clock.
const TIMESTAMP_WINDOW_SECS: i64 = 300;

pub struct EmulatorConfig {
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
    issued_at: i64,
    used: bool,
}

pub struct Emulator {
    client_id: String,
    certificate_hash: String,
    redirect_uri: String,
    issuer: String,
    signer: Ed25519Signer,
    token_verifier: Ed25519Verifier,
    client_verifier: Ed25519Verifier,
    personas: Vec<Persona>,
    code_ttl_secs: i64,
    // Development-only state: codes live for a minute and a restart simply voids them.
    codes: Mutex<HashMap<String, IssuedCode>>,
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

const CERT_MISMATCH: EsiaFault = fault(
    "invalid_client",
    "007002",
    "The client certificate does not match the client_id.",
);
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
        let signer = Ed25519Signer::from_base64_seed(&cfg.signing_key)?;
        let token_verifier = Ed25519Verifier::from_base64(&signer.public_key_base64())?;
        Ok(Arc::new(Self {
            client_id: cfg.client_id,
            certificate_hash: cfg.certificate_hash,
            redirect_uri: cfg.redirect_uri,
            issuer: cfg.issuer,
            signer,
            token_verifier,
            client_verifier: Ed25519Verifier::from_base64(&cfg.client_public_key)?,
            personas: personas::load(&cfg.personas_file)?,
            code_ttl_secs: cfg.code_ttl_secs,
            codes: Mutex::new(HashMap::new()),
        }))
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route(protocol::AUTHORIZE_PATH, get(authorize))
            .route(protocol::TOKEN_PATH, post(token))
            .route("/rs/prns/{oid}", get(person))
            .route("/rs/prns/{oid}/{collection}", get(collection))
            .route(protocol::LOGOUT_PATH, get(logout))
            .with_state(self)
    }

    pub fn personas(&self) -> &[Persona] {
        &self.personas
    }

    async fn secret_ok(&self, p: &HashMap<String, String>, code: Option<&str>) -> bool {
        let msg = protocol::secret_message(
            &p["client_id"],
            &p["scope"],
            &p["timestamp"],
            &p["state"],
            &p["redirect_uri"],
            code,
        );
        let Ok(sig) = URL_SAFE_NO_PAD.decode(p["client_secret"].as_bytes()) else {
            return false;
        };
        self.client_verifier
            .verify(msg.as_bytes(), &sig)
            .await
            .unwrap_or(false)
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
        if p["redirect_uri"] != self.redirect_uri {
            return Err(BAD_REDIRECT);
        }
        if !p["client_certificate_hash"].eq_ignore_ascii_case(&self.certificate_hash) {
            return Err(CERT_MISMATCH);
        }
        let scopes: Vec<&str> = p["scope"].split(' ').collect();
        if !scopes.contains(&"openid") || scopes.iter().any(|s| !protocol::KNOWN_SCOPES.contains(s))
        {
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
    ) -> Result<TokenResponse, StatusCode> {
        let now = Utc::now().timestamp();
        let sid = uuid::Uuid::new_v4().to_string();
        let oid = persona.oid;
        let scoped: Vec<String> = scope
            .split(' ')
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
        let access = jwt::sign(&access_header, &access_claims, &self.signer).await;
        let id = jwt::sign(&id_header, &id_claims, &self.signer).await;
        let (Ok(access_token), Ok(id_token)) = (access, id) else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR);
        };
        Ok(TokenResponse {
            access_token,
            id_token,
            state: String::new(),
            token_type: "Bearer".into(),
            expires_in: 3600,
            refresh_token: Some(uuid::Uuid::new_v4().to_string()),
        })
    }

    /// Resolves a bearer token to a persona, checking signature, expiry, subject and scope.
    async fn bearer(
        &self,
        headers: &HeaderMap,
        oid: i64,
        needed_scope: &str,
    ) -> Result<&Persona, StatusCode> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let (_, claims): (_, Value) = jwt::verify(token, &self.token_verifier)
            .await
            .map_err(|_| StatusCode::UNAUTHORIZED)?;
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
        let granted = claims["scope"].as_str().unwrap_or_default();
        let has = granted
            .split(' ')
            .any(|s| s.split('?').next() == Some(needed_scope));
        if !has {
            return Err(StatusCode::FORBIDDEN);
        }
        self.personas
            .iter()
            .find(|p| p.oid == oid)
            .ok_or(StatusCode::NOT_FOUND)
    }
}

fn redirect_with(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    Redirect::to(&format!("{uri}?{}", q.finish())).into_response()
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
    Query(p): Query<HashMap<String, String>>,
) -> Response {
    let redirect_ok = p
        .get("redirect_uri")
        .is_some_and(|r| *r == emu.redirect_uri)
        && p.get("client_id").is_some_and(|c| *c == emu.client_id);
    let state = p.get("state").cloned().unwrap_or_default();
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
        return error_redirect(&emu.redirect_uri, f, &state);
    }
    if p.contains_key("deny") {
        return error_redirect(&emu.redirect_uri, DENIED, &state);
    }
    let Some(idx) = p
        .get("persona")
        .and_then(|id| emu.personas.iter().position(|x| x.id == *id))
    else {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in p.iter().filter(|(k, _)| k.as_str() != "persona") {
            q.append_pair(k, v);
        }
        return html(
            ChooserPage {
                personas: &emu.personas,
                base_query: q.finish(),
            },
            StatusCode::OK,
        );
    };
    let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>());
    let issued = IssuedCode {
        persona: idx,
        scope: p["scope"].clone(),
        issued_at: Utc::now().timestamp(),
        used: false,
    };
    if let Ok(mut codes) = emu.codes.lock() {
        let horizon = Utc::now().timestamp() - emu.code_ttl_secs;
        codes.retain(|_, c| c.issued_at >= horizon);
        codes.insert(code.clone(), issued);
    }
    redirect_with(&emu.redirect_uri, &[("code", &code), ("state", &state)])
}

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
    "token_type",
];

fn token_error(f: EsiaFault, state: Option<String>) -> Response {
    let body = ErrorResponse {
        error: f.error.into(),
        error_description: f.description(),
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
                if !c.used && now - c.issued_at <= emu.code_ttl_secs && c.scope == p["scope"] =>
            {
                c.used = true;
                Some((c.persona, c.scope.clone()))
            }
            Some(c) => {
                // A replayed code is burnt for good, as with any OAuth server.
                c.used = true;
                None
            }
            None => None,
        }
    };
    let Some((idx, scope)) = claimed else {
        return token_error(BAD_GRANT, state);
    };
    match emu.issue_tokens(&emu.personas[idx], &scope).await {
        Ok(mut t) => {
            t.state = state.unwrap_or_default();
            axum::Json(t).into_response()
        }
        Err(status) => status.into_response(),
    }
}

async fn person(
    State(emu): State<Arc<Emulator>>,
    Path(oid): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let p = match emu.bearer(&headers, oid, "fullname").await {
        Ok(p) => p,
        Err(s) => return s.into_response(),
    };
    let mut v = person_json(&p.person);
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
    axum::Json(v).into_response()
}

fn person_json(f: &personas::PersonFields) -> Value {
    json!({
        "firstName": f.first_name, "lastName": f.last_name, "middleName": f.middle_name,
        "birthDate": f.birth_date, "gender": f.gender, "snils": f.snils,
    })
}

fn etag(seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    digest[..20].iter().map(|b| format!("{b:02X}")).collect()
}

#[derive(Deserialize)]
struct EmbedQuery {
    embed: Option<String>,
}

async fn collection(
    State(emu): State<Arc<Emulator>>,
    Path((oid, name)): Path<(i64, String)>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    let needed = match name.as_str() {
        "ctts" => "contacts",
        "kids" => "kid_fullname",
        "docs" => "id_doc",
        "addrs" => "addresses",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let p = match emu.bearer(&headers, oid, needed).await {
        Ok(p) => p,
        Err(s) => return s.into_response(),
    };
    let items: Vec<(i64, Value)> = match name.as_str() {
        "ctts" => {
            let mut v = Vec::new();
            if let Some(e) = &p.email {
                v.push((
                    oid * 10 + 1,
                    json!({"type": "EML", "vrfStu": "VERIFIED", "value": e}),
                ));
            }
            if let Some(m) = &p.mobile {
                v.push((
                    oid * 10 + 2,
                    json!({"type": "MBT", "vrfStu": "VERIFIED", "value": m}),
                ));
            }
            v
        }
        "kids" => p
            .kids
            .iter()
            .map(|k| (k.id, person_json(&k.person)))
            .collect(),
        _ => Vec::new(),
    };
    let embed = q.embed.as_deref() == Some("(elements)");
    let elements: Vec<Value> = items
        .into_iter()
        .map(|(id, mut v)| {
            if embed {
                v["id"] = json!(id);
                v["stateFacts"] = json!(["Identifiable"]);
                v["eTag"] = json!(etag(&format!("{oid}/{name}/{id}")));
                v
            } else {
                json!(format!(
                    "{}/rs/prns/{oid}/{name}/{id}",
                    emu.issuer.trim_end_matches('/')
                ))
            }
        })
        .collect();
    axum::Json(Collection {
        state_facts: vec!["hasSize".into()],
        size: elements.len(),
        e_tag: etag(&format!("{oid}/{name}")),
        elements,
    })
    .into_response()
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

async fn logout(State(emu): State<Arc<Emulator>>, Query(q): Query<LogoutQuery>) -> Response {
    match (q.client_id, q.redirect_url) {
        // Only back to the registered system: ESIA is no open redirector.
        (Some(c), Some(r)) if c == emu.client_id && same_origin(&r, &emu.redirect_uri) => {
            Redirect::to(&r).into_response()
        }
        _ => html(
            ErrorPage {
                description: MISSING_PARAM.description(),
            },
            StatusCode::BAD_REQUEST,
        ),
    }
}
