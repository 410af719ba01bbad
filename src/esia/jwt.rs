//! Compact JWS as ESIA issues it. Hand-written because ESIA signs with
//! `GOST3410_2012_256`, which JWT crates reject before a custom verifier could run; the
//! signature check itself goes through [`Verifier`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::signer::{Keyring, SignError, Signer};

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("token is not a compact JWS")]
    Malformed,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token algorithm {0:?} is not accepted")]
    Algorithm(String),
    #[error("token claim check failed: {0}")]
    Claims(&'static str),
    #[error(transparent)]
    Crypto(#[from] SignError),
}

pub async fn sign<C: Serialize>(
    header: &Value,
    claims: &C,
    signer: &dyn Signer,
) -> Result<String, SignError> {
    let encode = |v: Vec<u8>| URL_SAFE_NO_PAD.encode(v);
    let header = serde_json::to_vec(header).map_err(|e| SignError::Spec(e.to_string()))?;
    let claims = serde_json::to_vec(claims).map_err(|e| SignError::Spec(e.to_string()))?;
    let input = format!("{}.{}", encode(header), encode(claims));
    let sig = signer.sign(input.as_bytes()).await?;
    Ok(format!("{input}.{}", encode(sig)))
}

/// Checks the signature with the keys of the header's `alg`, then returns header and
/// claims. Time and audience checks are [`check_times`] and the caller's.
pub async fn verify<C: DeserializeOwned>(
    token: &str,
    keys: &Keyring,
) -> Result<(Value, C), JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).map_err(|_| JwtError::Malformed);
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| JwtError::Malformed)?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let signing_input = &token[..h.len() + 1 + c.len()];
    match keys
        .verify(alg, signing_input.as_bytes(), &decode(s)?)
        .await?
    {
        Some(true) => {}
        Some(false) => return Err(JwtError::BadSignature),
        None => {
            tracing::error!(
                alg,
                "token refused: it is signed with an algorithm no configured verifier has \
                 (esia.verifier)"
            );
            return Err(JwtError::Algorithm(alg.to_string()));
        }
    }
    let claims = serde_json::from_slice(&decode(c)?).map_err(|_| JwtError::Malformed)?;
    Ok((header, claims))
}

/// `nbf <= now < exp`, with `leeway` seconds for clock skew between us and ESIA.
pub fn check_times(nbf: i64, exp: i64, now: i64, leeway: i64) -> Result<(), JwtError> {
    if now + leeway < nbf {
        return Err(JwtError::Claims("nbf is in the future"));
    }
    if now - leeway >= exp {
        return Err(JwtError::Claims("token has expired"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esia::signer::Ed25519Signer;
    use serde_json::json;

    fn keys() -> (Ed25519Signer, Keyring) {
        let s = Ed25519Signer::from_base64_seed("rpQSr+Pmd0+tcBXtHb9/RodkN0FMzZ9sxAzOArW3k1c=")
            .unwrap();
        let keys = Keyring::from_specs(&format!("ed25519:{}", s.public_key_base64())).unwrap();
        (s, keys)
    }

    #[tokio::test]
    async fn signed_token_verifies() {
        let (s, v) = keys();
        let header = json!({"ver": 1, "typ": "JWT", "sbt": "access", "alg": "EdDSA"});
        let token = sign(&header, &json!({"sub": 1}), &s).await.unwrap();
        let (h, c): (Value, Value) = verify(&token, &v).await.unwrap();
        assert_eq!(h["sbt"], "access");
        assert_eq!(c["sub"], 1);
    }

    #[tokio::test]
    async fn tampered_claims_fail() {
        let (s, v) = keys();
        let header = json!({"alg": "EdDSA"});
        let token = sign(&header, &json!({"sub": 1}), &s).await.unwrap();
        let forged = URL_SAFE_NO_PAD.encode(br#"{"sub":2}"#);
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert!(matches!(
            verify::<Value>(&tampered, &v).await,
            Err(JwtError::BadSignature)
        ));
    }

    #[tokio::test]
    async fn wrong_alg_and_garbage_fail() {
        let (s, v) = keys();
        let token = sign(&json!({"alg": "none"}), &json!({}), &s).await.unwrap();
        assert!(matches!(
            verify::<Value>(&token, &v).await,
            Err(JwtError::Algorithm(_))
        ));
        assert!(matches!(
            verify::<Value>("a.b", &v).await,
            Err(JwtError::Malformed)
        ));
    }

    #[test]
    fn time_window_is_enforced() {
        assert!(check_times(100, 200, 150, 0).is_ok());
        assert!(check_times(100, 200, 90, 0).is_err());
        assert!(check_times(100, 200, 95, 10).is_ok());
        assert!(check_times(100, 200, 200, 0).is_err());
    }
}
