//! The built-in ESIA emulator is as strict as ESIA and no stricter: what ESIA takes from
//! a system (independent clients send `client_secret` padded or not, in either base64;
//! `openid`, `token_type` and `redirect_url` left out; any page of the registered site)
//! it takes, and what ESIA refuses it refuses with ESIA's code. Its REST answers carry
//! only what the granted scopes allow.

use std::collections::BTreeMap;

use appeals::esia::protocol;
use appeals::esia::signer::{Ed25519Signer, Signer};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{TestApp, browser, location};

/// The system's test key (config/test.toml `esia.signer`, published).
const CLIENT_SEED: &str = "bxw//uQKL+keV+jWDmCxj/mWRwS6Q2oYXEo47Bac6so=";

/// An authorize request as a system builds it, to be varied and signed again.
struct Request {
    emulator: String,
    params: BTreeMap<String, String>,
}

impl Request {
    /// The app's own request for `role`, taken apart.
    async fn of(app: &TestApp, role: &str) -> Request {
        let url = url::Url::parse(&app.authorize_url(&browser(), role).await).expect("url");
        let emulator = url
            .as_str()
            .split(protocol::AUTHORIZE_PATH)
            .next()
            .unwrap_or_default();
        Request {
            emulator: emulator.to_string(),
            params: url
                .query_pairs()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// A copy with `changes` made (to be signed again).
    fn clone_with(&self, changes: &[(&str, &str)]) -> Self {
        let mut params = self.params.clone();
        for (k, v) in changes {
            params.insert(k.to_string(), v.to_string());
        }
        Request {
            emulator: self.emulator.clone(),
            params,
        }
    }

    /// Signs the request again (`code` at the token endpoint) and encodes the secret with
    /// `engine`.
    async fn signed(mut self, code: Option<&str>, engine: &base64::engine::GeneralPurpose) -> Self {
        let p = &self.params;
        let scope = protocol::signed_scope(&p["scope"], p.get("scope_org").map(String::as_str));
        let msg = protocol::secret_message(
            &p["client_id"],
            &scope,
            &p["timestamp"],
            &p["state"],
            &p["redirect_uri"],
            code,
        );
        let signer = Ed25519Signer::from_base64_seed(CLIENT_SEED).expect("key");
        let secret = engine.encode(signer.sign(msg.as_bytes()).await.expect("signature"));
        self.params.insert("client_secret".into(), secret);
        self
    }

    fn authorize_url(&self, persona: Option<&str>) -> String {
        let mut url = url::Url::parse(&format!("{}{}", self.emulator, protocol::AUTHORIZE_PATH))
            .expect("url");
        url.query_pairs_mut().extend_pairs(&self.params);
        if let Some(p) = persona {
            url.query_pairs_mut().append_pair("persona", p);
        }
        url.to_string()
    }

    /// Signs in as `persona`; the redirect's query.
    async fn approve(&self, persona: &str) -> BTreeMap<String, String> {
        let resp = browser()
            .get(self.authorize_url(Some(persona)))
            .send()
            .await
            .expect("authorize");
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        query_of(&location(&resp))
    }

    /// The token endpoint's answer for `code`, as a system asks (without `token_type`).
    async fn exchange(&self, code: &str) -> (StatusCode, Value) {
        let mut form = self.params.clone();
        form.remove("response_type");
        form.remove("access_type");
        form.insert("state".into(), uuid::Uuid::new_v4().to_string());
        form.insert("grant_type".into(), "authorization_code".into());
        form.insert("code".into(), code.into());
        let signed = Request {
            emulator: self.emulator.clone(),
            params: form,
        }
        .signed(
            Some(code),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        )
        .await;
        let resp = browser()
            .post(format!("{}{}", self.emulator, protocol::TOKEN_PATH))
            .form(&signed.params)
            .send()
            .await
            .expect("token");
        (resp.status(), resp.json().await.unwrap_or_default())
    }

    /// Signs in as `persona` and returns the tokens.
    async fn tokens(&self, persona: &str) -> Value {
        let back = self.approve(persona).await;
        let (status, tokens) = self.exchange(&back["code"]).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn rest(&self, tokens: &Value, path: &str) -> (StatusCode, Value) {
        let oid = subject(tokens);
        let resp = browser()
            .get(format!("{}/rs/prns/{oid}{path}", self.emulator))
            .bearer_auth(tokens["access_token"].as_str().unwrap_or_default())
            .send()
            .await
            .expect("rest");
        (resp.status(), resp.json().await.unwrap_or_default())
    }
}

fn query_of(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .map(|u| u.query_pairs().map(|(k, v)| (k.into(), v.into())).collect())
        .unwrap_or_default()
}

/// The oid of an access token's subject.
fn subject(tokens: &Value) -> i64 {
    let token = tokens["access_token"].as_str().unwrap_or_default();
    let claims = token.split('.').nth(1).unwrap_or_default();
    let claims: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    claims["urn:esia:sbj_id"].as_i64().unwrap_or_default()
}

story!(
    the_emulator_takes_what_esia_takes,
    |app: TestApp| async move {
        let base = Request::of(&app, "parent").await;
        let callback = base.params["redirect_uri"].clone();
        let scope = base.params["scope"].clone();
        let cases: Vec<(&str, Request)> = vec![
            (
                "padded base64url secret",
                base.clone_with(&[]).signed(None, &URL_SAFE).await,
            ),
            (
                "standard base64 secret",
                base.clone_with(&[]).signed(None, &STANDARD).await,
            ),
            (
                "unpadded standard base64 secret",
                base.clone_with(&[]).signed(None, &STANDARD_NO_PAD).await,
            ),
            (
                "no openid",
                base.clone_with(&[("scope", "fullname birthdate")])
                    .signed(None, &URL_SAFE)
                    .await,
            ),
            (
                "a recommended scope more",
                base.clone_with(&[("scope", &format!("{scope} usr_org"))])
                    .signed(None, &URL_SAFE)
                    .await,
            ),
            (
                "scope_org, signed",
                base.clone_with(&[("scope_org", "org_shortname")])
                    .signed(None, &URL_SAFE)
                    .await,
            ),
            (
                "another page of the site",
                base.clone_with(&[("redirect_uri", &format!("{callback}?from=test"))])
                    .signed(None, &URL_SAFE)
                    .await,
            ),
        ];
        for (case, request) in cases {
            let back = request.approve("parent-confirmed").await;
            assert!(back.contains_key("code"), "{case}: {back:?}");
            let (status, tokens) = request.exchange(&back["code"]).await;
            assert_eq!(status, StatusCode::OK, "{case}: {tokens}");
            assert_eq!(
                tokens.get("id_token").is_some(),
                case != "no openid",
                "{case}: an id_token only with openid"
            );
            assert!(
                tokens.get("refresh_token").is_none(),
                "{case}: online, no refresh token"
            );
        }
        let offline = base
            .clone_with(&[("access_type", "offline")])
            .signed(None, &URL_SAFE)
            .await;
        assert!(offline.tokens("parent-confirmed").await["refresh_token"].is_string());

        // A person who takes longer than the timestamp window to choose still gets in:
        // the request was checked when it arrived.
        let old = protocol::format_timestamp(
            (chrono::Utc::now() - chrono::Duration::seconds(298))
                .with_timezone(&chrono::FixedOffset::east_opt(3 * 3600).expect("offset")),
        );
        let slow = base
            .clone_with(&[("timestamp", &old)])
            .signed(None, &URL_SAFE)
            .await;
        let (status, chooser) = {
            let resp = browser()
                .get(slow.authorize_url(None))
                .send()
                .await
                .expect("chooser");
            (resp.status(), resp.text().await.unwrap_or_default())
        };
        assert_eq!(status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let link = regex_lite::Regex::new(r#"href="\?(request=[^"]+persona=parent-confirmed)""#)
            .expect("regex")
            .captures(&chooser)
            .map(|c| c[1].replace("&amp;", "&"))
            .expect("a persona link");
        let resp = browser()
            .get(format!(
                "{}{}?{link}",
                base.emulator,
                protocol::AUTHORIZE_PATH
            ))
            .send()
            .await
            .expect("choice");
        assert!(location(&resp).contains("code="), "{}", location(&resp));

        // Logout without a way back shows ESIA's own page.
        let client_id = &base.params["client_id"];
        let resp = browser()
            .get(format!(
                "{}{}?client_id={client_id}",
                base.emulator,
                protocol::LOGOUT_PATH
            ))
            .send()
            .await
            .expect("logout");
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.text().await.unwrap_or_default().contains("Вы вышли"));
    }
);

story!(
    the_emulator_refuses_what_esia_refuses,
    |app: TestApp| async move {
        let base = Request::of(&app, "parent").await;
        let cases = [
            ("client_certificate_hash", "00", "ESIA-007053"),
            ("scope", "openid fullname superpowers", "ESIA-007006"),
            ("scope", "openid Fullname", "ESIA-007006"),
            ("response_type", "token", "ESIA-007003"),
        ];
        for (key, value, code) in cases {
            let request = base
                .clone_with(&[(key, value)])
                .signed(None, &URL_SAFE)
                .await;
            let back = request.approve("parent-confirmed").await;
            assert_eq!(
                back.get("error_description").map(|d| &d[..11]),
                Some(code),
                "{key}={value}: {back:?}"
            );
        }
        // A code is for the redirect_uri it was issued to.
        let signed = base.clone_with(&[]).signed(None, &URL_SAFE).await;
        let back = signed.approve("parent-confirmed").await;
        let elsewhere = signed.clone_with(&[(
            "redirect_uri",
            &format!("{}?x=1", base.params["redirect_uri"]),
        )]);
        let (status, answer) = elsewhere.exchange(&back["code"]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            answer["error_description"]
                .as_str()
                .unwrap_or_default()
                .starts_with("ESIA-007011")
        );
    }
);

story!(
    esia_answers_carry_only_what_the_scopes_grant,
    |app: TestApp| async move {
        let base = Request::of(&app, "parent").await;
        let emulator = base.emulator.clone();

        // A token for the name only: no birth date, no СНИЛС; contacts need their scope.
        let narrow = base
            .clone_with(&[("scope", "openid fullname")])
            .signed(None, &URL_SAFE)
            .await;
        let tokens = narrow.tokens("parent-confirmed").await;
        let (status, person) = narrow.rest(&tokens, "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(person["lastName"], "Иванова");
        for absent in ["birthDate", "snils", "gender"] {
            assert!(person.get(absent).is_none(), "{absent}: {person}");
        }
        assert_eq!(narrow.rest(&tokens, "/ctts").await.0, StatusCode::FORBIDDEN);

        // The full request: collections link to their elements at the emulator's own
        // address; embeds bring them in place.
        let full = base.clone_with(&[]).signed(None, &URL_SAFE).await;
        let tokens = full.tokens("parent-confirmed").await;
        let (_, kids) = full.rest(&tokens, "/kids").await;
        let link = kids["elements"][0].as_str().unwrap_or_default().to_string();
        assert!(link.starts_with(&format!("{emulator}/rs/prns/")), "{link}");
        let kid: Value = browser()
            .get(&link)
            .bearer_auth(tokens["access_token"].as_str().unwrap_or_default())
            .send()
            .await
            .expect("kid")
            .json()
            .await
            .expect("json");
        assert_eq!(kid["firstName"], "Артём");
        let (_, embedded) = full
            .rest(&tokens, "?embed=(contacts.elements,kids.elements)")
            .await;
        assert_eq!(embedded["contacts"]["elements"][0]["type"], "EML");
        assert_eq!(
            embedded["kids"]["elements"].as_array().map(Vec::len),
            Some(2)
        );

        // No middle name and a kid without СНИЛС: the fields are absent, not empty.
        let tokens = full.tokens("parent-no-middle-name").await;
        let (_, person) = full.rest(&tokens, "?embed=(kids.elements)").await;
        assert!(person.get("middleName").is_none(), "{person}");
        assert!(
            person["kids"]["elements"][0].get("snils").is_none(),
            "{person}"
        );

        // A person who withholds the kids' birth dates: the token lacks the scope.
        let tokens = full.tokens("parent-kid-no-birthdate").await;
        let (_, kids) = full.rest(&tokens, "/kids?embed=(elements)").await;
        assert!(kids["elements"][0].get("birthDate").is_none(), "{kids}");
        assert_eq!(kids["elements"][0]["firstName"], "Ева");

        // An unverified e-mail says so.
        let tokens = full.tokens("parent-unverified-email").await;
        let (_, contacts) = full.rest(&tokens, "/ctts?embed=(elements)").await;
        let email = contacts["elements"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["type"] == "EML"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(email["vrfStu"], "NOT_VERIFIED", "{contacts}");
    }
);
