//! The signing seam. Our `client_secret` is a GOST R 34.10-2012/256 signature made by a
//! certified crypto provider (CryptoPro and the like) that no Rust crate implements, so
//! production signs through an external command or an HTTP crypto service. ESIA signs its
//! tokens with RS256 or GOST3410_2012_256, chosen per system: RS256 is checked in process
//! from ESIA's certificate, GOST through the command or service. Development, tests and
//! the emulator use in-process Ed25519 or RS256 test keys.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use tokio::io::AsyncWriteExt;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("invalid key specification: {0}")]
    Spec(String),
    #[error("external signer failed: {0}")]
    Command(String),
    #[error("crypto service failed: {0}")]
    Service(String),
}

/// GOST R 34.10-2012/256 signatures are 64 bytes; ESIA v2/v3 takes nothing else.
pub const GOST_SIGNATURE_BYTES: usize = 64;
pub const GOST_ALG: &str = "GOST3410_2012_256";

#[async_trait::async_trait]
pub trait Signer: Send + Sync {
    /// Raw detached signature of `message`.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
    /// The JWT `alg` this signer produces.
    fn jwt_alg(&self) -> &'static str;
}

#[async_trait::async_trait]
pub trait Verifier: Send + Sync {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<bool, SignError>;
    /// The JWT `alg` this verifier accepts.
    fn jwt_alg(&self) -> &'static str;
    /// What the startup log says of this key (its algorithm and fingerprint or program).
    fn describe(&self) -> String;
}

/// The first 8 bytes of SHA-256 of a public key, in hex: enough to tell keys apart in a log.
fn fingerprint(public_key: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(public_key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub struct Ed25519Signer(SigningKey);

impl Ed25519Signer {
    pub fn from_base64_seed(seed: &str) -> Result<Self, SignError> {
        let bytes: [u8; 32] = STANDARD
            .decode(seed.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SignError::Spec("ed25519 seed must be 32 bytes of base64".into()))?;
        Ok(Self(SigningKey::from_bytes(&bytes)))
    }

    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.0.verifying_key().as_bytes())
    }
}

#[async_trait::async_trait]
impl Signer for Ed25519Signer {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        Ok(self.0.sign(message).to_bytes().to_vec())
    }

    fn jwt_alg(&self) -> &'static str {
        "EdDSA"
    }
}

pub struct Ed25519Verifier(VerifyingKey);

impl Ed25519Verifier {
    pub fn from_base64(key: &str) -> Result<Self, SignError> {
        let bytes: [u8; 32] = STANDARD
            .decode(key.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                SignError::Spec("ed25519 public key must be 32 bytes of base64".into())
            })?;
        VerifyingKey::from_bytes(&bytes)
            .map(Self)
            .map_err(|e| SignError::Spec(e.to_string()))
    }
}

#[async_trait::async_trait]
impl Verifier for Ed25519Verifier {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<bool, SignError> {
        let Ok(sig) = Signature::from_slice(signature) else {
            return Ok(false);
        };
        Ok(self.0.verify(message, &sig).is_ok())
    }

    fn jwt_alg(&self) -> &'static str {
        "EdDSA"
    }

    fn describe(&self) -> String {
        format!("EdDSA test key {}", fingerprint(self.0.as_bytes()))
    }
}

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256), one of the two algorithms ESIA signs tokens
/// with: the emulator's signer, from a PKCS#8 or PKCS#1 private key in PEM.
pub struct Rs256Signer(rsa::pkcs1v15::SigningKey<sha2::Sha256>);

fn read_pem(path: &str) -> Result<String, SignError> {
    std::fs::read_to_string(path.trim())
        .map_err(|e| SignError::Spec(format!("cannot read {}: {e}", path.trim())))
}

impl Rs256Signer {
    pub fn from_pem_file(path: &str) -> Result<Self, SignError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::DecodePrivateKey;
        let pem = read_pem(path)?;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(&pem))
            .map_err(|e| {
                SignError::Spec(format!("{}: not an RSA private key: {e}", path.trim()))
            })?;
        Ok(Self(rsa::pkcs1v15::SigningKey::new(key)))
    }
}

#[async_trait::async_trait]
impl Signer for Rs256Signer {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use rsa::signature::{SignatureEncoding, Signer as _};
        Ok(self.0.sign(message).to_vec())
    }

    fn jwt_alg(&self) -> &'static str {
        "RS256"
    }
}

/// RS256 token verifier from ESIA's certificate (PEM `CERTIFICATE`) or public key
/// (`PUBLIC KEY` or `RSA PUBLIC KEY`).
pub struct Rs256Verifier {
    key: rsa::pkcs1v15::VerifyingKey<sha2::Sha256>,
    label: String,
}

impl Rs256Verifier {
    fn new(key: rsa::pkcs1v15::VerifyingKey<sha2::Sha256>, source: &str) -> Self {
        use rsa::pkcs8::EncodePublicKey;
        let der = key
            .as_ref()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        let label = format!("RS256 key {} ({source})", fingerprint(&der));
        Self { key, label }
    }

    pub fn from_pem_file(path: &str) -> Result<Self, SignError> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::pkcs8::DecodePublicKey;
        use x509_cert::der::{DecodePem, Encode};
        let pem = read_pem(path)?;
        let bad = |e: String| SignError::Spec(format!("{}: {e}", path.trim()));
        let key = if pem.contains("BEGIN CERTIFICATE") {
            let cert = x509_cert::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| bad(format!("not an X.509 certificate: {e}")))?;
            let spki = cert
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|e| bad(e.to_string()))?;
            rsa::RsaPublicKey::from_public_key_der(&spki)
                .map_err(|e| bad(format!("the certificate's key is not RSA: {e}")))?
        } else {
            rsa::RsaPublicKey::from_public_key_pem(&pem)
                .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(&pem))
                .map_err(|e| bad(format!("not an RSA public key or certificate: {e}")))?
        };
        Ok(Self::new(
            rsa::pkcs1v15::VerifyingKey::new(key),
            path.trim(),
        ))
    }
}

#[async_trait::async_trait]
impl Verifier for Rs256Verifier {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<bool, SignError> {
        use rsa::signature::Verifier as _;
        let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return Ok(false);
        };
        Ok(self.key.verify(message, &sig).is_ok())
    }

    fn jwt_alg(&self) -> &'static str {
        "RS256"
    }

    fn describe(&self) -> String {
        self.label.clone()
    }
}

/// Runs `program args…` with the input on stdin. For signing, stdout is the raw 64-byte
/// GOST R 34.10-2012/256 signature in the byte order ESIA expects (CryptoPro `csptest
/// -sign` prints it reversed: the wrapper script reverses it back; a PKCS#7 blob, what
/// `cryptcp` makes, is refused by ESIA v2/v3 and here). For verifying, stdin is `message`
/// + `\n` + base64url(signature) and exit status 0 means valid.
pub struct CommandCrypto {
    program: String,
    args: Vec<String>,
    timeout: Duration,
    /// At most this many signer processes at once: a burst of sign-ins waits its turn
    /// instead of starting hundreds of processes.
    running: tokio::sync::Semaphore,
}

/// Signer or verifier processes running at once, per command.
const MAX_PROCESSES: usize = 4;

impl CommandCrypto {
    fn parse(spec: &str) -> Result<Self, SignError> {
        let mut parts = spec.split_whitespace().map(str::to_string);
        let program = parts
            .next()
            .ok_or_else(|| SignError::Spec("command: needs a program".into()))?;
        Ok(Self {
            program,
            args: parts.collect(),
            timeout: Duration::from_secs(10),
            running: tokio::sync::Semaphore::new(MAX_PROCESSES),
        })
    }

    async fn run(&self, input: &[u8]) -> Result<std::process::Output, SignError> {
        let fail = |e: std::io::Error| SignError::Command(e.to_string());
        let _turn = tokio::time::timeout(self.timeout, self.running.acquire())
            .await
            .map_err(|_| SignError::Command("too many signatures in progress".into()))?
            .map_err(|e| SignError::Command(e.to_string()))?;
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(fail)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A verifier may decide without reading all of its input; its exit status
            // is the answer, not our write.
            match stdin.write_all(input).await {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(fail(e)),
                _ => {}
            }
        }
        tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| SignError::Command("timed out".into()))?
            .map_err(fail)
    }
}

#[async_trait::async_trait]
impl Signer for CommandCrypto {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let out = self.run(message).await?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(SignError::Command(format!("exit status {}", out.status)));
        }
        raw_gost(out.stdout).map_err(SignError::Command)
    }

    fn jwt_alg(&self) -> &'static str {
        GOST_ALG
    }
}

/// A signer's output as ESIA takes it: exactly 64 bytes.
fn raw_gost(signature: Vec<u8>) -> Result<Vec<u8>, String> {
    if signature.len() == GOST_SIGNATURE_BYTES {
        return Ok(signature);
    }
    let kind = if signature.first() == Some(&0x30) {
        " (it looks like a PKCS#7/CMS blob, what cryptcp makes)"
    } else {
        ""
    };
    Err(format!(
        "the signer printed {} bytes{kind}; ESIA v2/v3 needs the raw {GOST_SIGNATURE_BYTES}-byte \
         GOST R 34.10-2012/256 signature",
        signature.len()
    ))
}

#[async_trait::async_trait]
impl Verifier for CommandCrypto {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<bool, SignError> {
        let mut input = message.to_vec();
        input.push(b'\n');
        input.extend_from_slice(URL_SAFE_NO_PAD.encode(signature).as_bytes());
        Ok(self.run(&input).await?.status.success())
    }

    fn jwt_alg(&self) -> &'static str {
        GOST_ALG
    }

    fn describe(&self) -> String {
        format!("{GOST_ALG} through the command {}", self.program)
    }
}

/// A crypto service over HTTP (an HSM or a signing server): signing is `POST <url>` with
/// the message as the body, answered 200 with the raw 64-byte signature; verifying is
/// `POST <url>` with the message as the body and the signature in base64url in the
/// `Signature` header, answered 200 when valid and 400, 403 or 422 when not.
pub struct HttpCrypto {
    url: String,
    http: reqwest::Client,
}

impl HttpCrypto {
    fn parse(url: &str) -> Result<Self, SignError> {
        let url = url.trim();
        url::Url::parse(url).map_err(|e| SignError::Spec(format!("http: {url}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SignError::Spec(e.to_string()))?;
        Ok(Self {
            url: url.to_string(),
            http,
        })
    }

    async fn post(
        &self,
        message: &[u8],
        signature: Option<&[u8]>,
    ) -> Result<reqwest::Response, SignError> {
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(message.to_vec());
        if let Some(sig) = signature {
            request = request.header("Signature", URL_SAFE_NO_PAD.encode(sig));
        }
        request
            .send()
            .await
            .map_err(|e| SignError::Service(e.without_url().to_string()))
    }
}

#[async_trait::async_trait]
impl Signer for HttpCrypto {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let resp = self.post(message, None).await?;
        if !resp.status().is_success() {
            return Err(SignError::Service(format!("HTTP {}", resp.status())));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| SignError::Service(e.to_string()))?;
        raw_gost(body.to_vec()).map_err(SignError::Service)
    }

    fn jwt_alg(&self) -> &'static str {
        GOST_ALG
    }
}

#[async_trait::async_trait]
impl Verifier for HttpCrypto {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<bool, SignError> {
        let status = self.post(message, Some(signature)).await?.status();
        match status.as_u16() {
            200..=299 => Ok(true),
            400 | 403 | 422 => Ok(false),
            _ => Err(SignError::Service(format!("HTTP {status}"))),
        }
    }

    fn jwt_alg(&self) -> &'static str {
        GOST_ALG
    }

    fn describe(&self) -> String {
        format!("{GOST_ALG} through the crypto service {}", self.url)
    }
}

pub fn signer_from_spec(spec: &str) -> Result<Arc<dyn Signer>, SignError> {
    match spec.trim().split_once(':') {
        Some(("ed25519", seed)) => Ok(Arc::new(Ed25519Signer::from_base64_seed(seed)?)),
        Some(("rs256", path)) => Ok(Arc::new(Rs256Signer::from_pem_file(path)?)),
        Some(("command", cmd)) => Ok(Arc::new(CommandCrypto::parse(cmd)?)),
        Some(("http" | "https", rest)) => Ok(Arc::new(HttpCrypto::parse(service_url(spec, rest))?)),
        _ => Err(SignError::Spec(
            "expected command:<program>, http://… (a crypto service), rs256:<private key \
             PEM> or ed25519:<seed>"
                .into(),
        )),
    }
}

pub fn verifier_from_spec(spec: &str) -> Result<Arc<dyn Verifier>, SignError> {
    match spec.trim().split_once(':') {
        Some(("ed25519", key)) => Ok(Arc::new(Ed25519Verifier::from_base64(key)?)),
        Some(("rs256", path)) => Ok(Arc::new(Rs256Verifier::from_pem_file(path)?)),
        Some(("command", cmd)) => Ok(Arc::new(CommandCrypto::parse(cmd)?)),
        Some(("http" | "https", rest)) => Ok(Arc::new(HttpCrypto::parse(service_url(spec, rest))?)),
        _ => Err(SignError::Spec(
            "expected rs256:<ESIA certificate PEM>, command:<program>, http://… (a crypto \
             service) or ed25519:<public key>"
                .into(),
        )),
    }
}

/// `http:https://…` names the service explicitly; `http://…` and `https://…` are taken
/// as they are.
fn service_url<'a>(spec: &'a str, rest: &'a str) -> &'a str {
    if rest.starts_with("http") {
        rest
    } else {
        spec.trim()
    }
}

/// The token verifiers, chosen by the JWT header's `alg`: ESIA signs with RS256 or
/// GOST3410_2012_256 as set for the system, and during a certificate rotation two keys of
/// one algorithm are valid at once.
#[derive(Clone)]
pub struct Keyring(Vec<Arc<dyn Verifier>>);

/// The algorithms a token may name: anything else (`none`, `HS256`) is refused before
/// any key is tried.
const TOKEN_ALGS: [&str; 3] = ["RS256", GOST_ALG, "EdDSA"];

impl Keyring {
    /// From `spec;spec;…` (each as [`verifier_from_spec`]).
    pub fn from_specs(specs: &str) -> Result<Self, SignError> {
        let keys = specs
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(verifier_from_spec)
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SignError::Spec("no token verifier configured".into()));
        }
        Ok(Self(keys))
    }

    /// One line per key, for the startup log.
    pub fn describe(&self) -> Vec<String> {
        self.0.iter().map(|v| v.describe()).collect()
    }

    /// Whether any key of `alg` verifies; `None` when no key of `alg` is configured.
    pub async fn verify(
        &self,
        alg: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<Option<bool>, SignError> {
        if !TOKEN_ALGS.contains(&alg) {
            return Ok(None);
        }
        let mut any_key = false;
        for key in self.0.iter().filter(|k| k.jwt_alg() == alg) {
            any_key = true;
            if key.verify(message, signature).await? {
                return Ok(Some(true));
            }
        }
        Ok(any_key.then_some(false))
    }
}

/// Signs a probe once at startup, so that a signer printing the wrong thing (a PKCS#7
/// blob, an error text) stops the service with a clear message instead of failing every
/// sign-in.
pub async fn self_check(signer: &dyn Signer) -> Result<(), SignError> {
    signer.sign(b"appeals signer self-check").await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "bxw//uQKL+keV+jWDmCxj/mWRwS6Q2oYXEo47Bac6so=";

    #[tokio::test]
    async fn ed25519_signature_verifies_and_tampering_fails() {
        let signer = Ed25519Signer::from_base64_seed(SEED).unwrap();
        let verifier = Ed25519Verifier::from_base64(&signer.public_key_base64()).unwrap();
        let sig = signer.sign(b"SCHL41001openid").await.unwrap();
        assert!(verifier.verify(b"SCHL41001openid", &sig).await.unwrap());
        assert!(!verifier.verify(b"SCHL41001openid ", &sig).await.unwrap());
        assert!(
            !verifier
                .verify(b"SCHL41001openid", &sig[1..])
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn external_command_signs_through_stdin() {
        // `cat` stands in for a GOST provider: the "signature" is the message itself.
        let signer = signer_from_spec("command:cat").unwrap();
        let message = [7u8; GOST_SIGNATURE_BYTES];
        assert_eq!(signer.sign(&message).await.unwrap(), message);
        let err = signer.sign(b"abc").await.unwrap_err().to_string();
        assert!(err.contains("printed 3 bytes"), "{err}");
        let failing = signer_from_spec("command:false").unwrap();
        assert!(failing.sign(b"abc").await.is_err());
        let verifier = verifier_from_spec("command:true").unwrap();
        assert!(verifier.verify(b"m", b"s").await.unwrap());
        assert!(
            !verifier_from_spec("command:false")
                .unwrap()
                .verify(b"m", b"s")
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn at_most_a_few_signer_processes_run_at_once() {
        // Each process notes how many are running while it runs.
        let dir = std::env::temp_dir().join(format!("signers-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("running")).unwrap();
        let script = format!(
            "cd {d}; touch running/$$; sleep 0.2; ls running | wc -l >> seen; rm running/$$; cat",
            d = dir.display()
        );
        let message = [1u8; GOST_SIGNATURE_BYTES];
        let signer = std::sync::Arc::new(CommandCrypto {
            program: "sh".into(),
            args: vec!["-c".into(), script],
            timeout: Duration::from_secs(30),
            running: tokio::sync::Semaphore::new(MAX_PROCESSES),
        });
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let s = signer.clone();
            all.spawn(async move { s.sign(&message).await.unwrap() });
        }
        all.join_all().await;
        let seen = std::fs::read_to_string(dir.join("seen")).unwrap();
        let most = seen
            .lines()
            .filter_map(|l| l.trim().parse::<usize>().ok())
            .max();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(seen.lines().count(), 12, "every signature made");
        assert!(
            most.is_some_and(|m| m <= MAX_PROCESSES),
            "at most {MAX_PROCESSES}: {seen}"
        );
    }

    #[tokio::test]
    async fn a_pkcs7_blob_from_the_signer_is_refused_at_the_self_check() {
        // What cryptcp prints: a DER SEQUENCE far longer than 64 bytes.
        let script = std::env::temp_dir().join(format!("cryptcp-{}.sh", uuid::Uuid::new_v4()));
        std::fs::write(
            &script,
            "printf '\\060\\202\\003\\001'; head -c 300 /dev/zero\n",
        )
        .unwrap();
        let signer = signer_from_spec(&format!("command:sh {}", script.display())).unwrap();
        let err = self_check(&*signer).await.unwrap_err().to_string();
        std::fs::remove_file(&script).unwrap();
        assert!(err.contains("304 bytes") && err.contains("PKCS#7"), "{err}");
    }

    #[tokio::test]
    async fn rs256_tokens_verify_with_either_key_during_a_rotation() {
        let current = Rs256Signer::from_pem_file("config/test-keys/esia-rs256.key").unwrap();
        let previous =
            Rs256Signer::from_pem_file("config/test-keys/esia-rs256-previous.key").unwrap();
        let both = Keyring::from_specs(
            "rs256:config/test-keys/esia-rs256-previous.crt; rs256:config/test-keys/esia-rs256.crt",
        )
        .unwrap();
        let only_new = Keyring::from_specs("rs256:config/test-keys/esia-rs256.crt").unwrap();
        let (new_sig, old_sig) = (
            current.sign(b"token").await.unwrap(),
            previous.sign(b"token").await.unwrap(),
        );
        assert_eq!(
            both.verify("RS256", b"token", &new_sig).await.unwrap(),
            Some(true)
        );
        assert_eq!(
            both.verify("RS256", b"token", &old_sig).await.unwrap(),
            Some(true)
        );
        assert_eq!(
            only_new.verify("RS256", b"token", &old_sig).await.unwrap(),
            Some(false)
        );
        assert_eq!(
            both.verify("RS256", b"tokem", &new_sig).await.unwrap(),
            Some(false)
        );
        // No GOST key configured, and never `none`.
        assert_eq!(
            both.verify(GOST_ALG, b"token", &new_sig).await.unwrap(),
            None
        );
        assert_eq!(both.verify("none", b"token", b"").await.unwrap(), None);
        assert!(both.describe().iter().all(|d| d.starts_with("RS256 key ")));
    }

    #[tokio::test]
    async fn a_crypto_service_signs_and_verifies_over_http() {
        use axum::routing::post;
        let app = axum::Router::new()
            .route(
                "/sign",
                post(|body: axum::body::Bytes| async move { vec![body.len() as u8; 64] }),
            )
            .route(
                "/verify",
                post(|headers: axum::http::HeaderMap| async move {
                    if headers.get("Signature").is_some_and(|s| s == "AAAA") {
                        axum::http::StatusCode::OK
                    } else {
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY
                    }
                }),
            )
            .route("/broken", post(|| async { "not a signature" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let signer = signer_from_spec(&format!("{base}/sign")).unwrap();
        assert_eq!(signer.sign(b"abc").await.unwrap(), vec![3u8; 64]);
        let verifier = verifier_from_spec(&format!("{base}/verify")).unwrap();
        assert!(verifier.verify(b"m", &[0, 0, 0]).await.unwrap());
        assert!(!verifier.verify(b"m", &[1]).await.unwrap());
        let broken = signer_from_spec(&format!("{base}/broken")).unwrap();
        assert!(self_check(&*broken).await.is_err());
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(signer_from_spec("rsa:abc").is_err());
        assert!(verifier_from_spec("rs256:/nonexistent.crt").is_err());
        assert!(Keyring::from_specs(" ; ").is_err());
        assert!(signer_from_spec("ed25519:short").is_err());
        assert!(verifier_from_spec("ed25519:").is_err());
    }
}
