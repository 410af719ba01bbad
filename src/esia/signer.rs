//! The signing seam. Production ESIA needs GOST R 34.10-2012 signatures made by a certified
//! crypto provider (CryptoPro and the like) that no Rust crate implements, so production
//! signs and verifies through an external command; development, tests and the emulator
//! use an in-process Ed25519 test key.

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
}

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
}

/// Runs `program args…` with the input on stdin. For signing, stdout is the raw
/// signature; for verifying, stdin is `message` + `\n` + base64url(signature) and exit
/// status 0 means valid. Wrap CryptoPro `cryptcp`/`csptest` or an HSM client in a script.
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
        Ok(out.stdout)
    }

    fn jwt_alg(&self) -> &'static str {
        "GOST3410_2012_256"
    }
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
        "GOST3410_2012_256"
    }
}

pub fn signer_from_spec(spec: &str) -> Result<Arc<dyn Signer>, SignError> {
    match spec.split_once(':') {
        Some(("ed25519", seed)) => Ok(Arc::new(Ed25519Signer::from_base64_seed(seed)?)),
        Some(("command", cmd)) => Ok(Arc::new(CommandCrypto::parse(cmd)?)),
        _ => Err(SignError::Spec(
            "expected ed25519:<seed> or command:<program>".into(),
        )),
    }
}

pub fn verifier_from_spec(spec: &str) -> Result<Arc<dyn Verifier>, SignError> {
    match spec.split_once(':') {
        Some(("ed25519", key)) => Ok(Arc::new(Ed25519Verifier::from_base64(key)?)),
        Some(("command", cmd)) => Ok(Arc::new(CommandCrypto::parse(cmd)?)),
        _ => Err(SignError::Spec(
            "expected ed25519:<public key> or command:<program>".into(),
        )),
    }
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
        assert_eq!(signer.sign(b"abc").await.unwrap(), b"abc");
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
        let signer = std::sync::Arc::new(CommandCrypto {
            program: "sh".into(),
            args: vec!["-c".into(), script],
            timeout: Duration::from_secs(30),
            running: tokio::sync::Semaphore::new(MAX_PROCESSES),
        });
        let mut all = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let s = signer.clone();
            all.spawn(async move { s.sign(b"x").await.unwrap() });
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

    #[test]
    fn bad_specs_are_errors() {
        assert!(signer_from_spec("rsa:abc").is_err());
        assert!(signer_from_spec("ed25519:short").is_err());
        assert!(verifier_from_spec("ed25519:").is_err());
    }
}
