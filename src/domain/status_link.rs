//! Signed links to an appeal's status without a login (`/s/{token}`): the token is the
//! appeal's number and an HMAC-SHA-256 of it under a key from configuration, so nobody
//! can make one for another number. How long a link lives is the appeal's business (its
//! life plus 90 days), checked when it is opened.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long after an appeal is answered its status link still opens.
pub const DAYS_AFTER_ANSWER: i64 = 90;

#[derive(Clone)]
pub struct StatusLinks {
    key: Vec<u8>,
}

impl std::fmt::Debug for StatusLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusLinks([redacted])")
    }
}

impl StatusLinks {
    /// `None` for an empty key: links are off.
    pub fn new(key: &str) -> Option<Self> {
        (!key.trim().is_empty()).then(|| StatusLinks {
            key: key.trim().as_bytes().to_vec(),
        })
    }

    fn mac(&self, number: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"appeal-status:");
        mac.update(number.as_bytes());
        mac
    }

    pub fn token(&self, number: &str) -> String {
        let tag = self.mac(number).finalize().into_bytes();
        format!("{number}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The appeal number a genuine token names.
    pub fn verify<'t>(&self, token: &'t str) -> Option<&'t str> {
        let (number, tag) = token.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(number).verify_slice(&tag).ok()?;
        Some(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_its_own_appeal_only() {
        let links = StatusLinks::new("test key").unwrap();
        let token = links.token("2026-000042");
        assert_eq!(links.verify(&token), Some("2026-000042"));
        let forged = token.replace("2026-000042", "2026-000043");
        assert_eq!(links.verify(&forged), None);
        let other = StatusLinks::new("other key").unwrap();
        assert_eq!(other.verify(&token), None);
        assert_eq!(links.verify("2026-000042"), None);
        assert!(StatusLinks::new(" ").is_none());
    }
}
