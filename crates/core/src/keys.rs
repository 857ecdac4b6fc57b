//! Client API keys: `sy-<id>-<secret>`, where the id is public (it names the key in logs,
//! usage and the CLI) and only a SHA-256 hash of the secret is stored. Secrets carry 192 bits
//! of randomness, so a fast hash is the right tool here (argon2 is for passwords people
//! choose); verification compares in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A key as stored: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id (`sy-<id>-...`), 12 lowercase base-32 characters.
    pub id: String,
    pub name: String,
    /// Lowercase hex SHA-256 of the secret part.
    pub secret_hash: String,
    /// Model globs the key may use; empty means every model.
    pub models: Vec<String>,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
}

impl ApiKey {
    /// Whether the key may be used at `now_ms`.
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.revoked_at_ms.is_none() && self.expires_at_ms.is_none_or(|e| now_ms < e)
    }

    /// Whether `secret` is this key's secret (constant time).
    pub fn verify(&self, secret: &str) -> bool {
        hash_secret(secret)
            .as_bytes()
            .ct_eq(self.secret_hash.as_bytes())
            .into()
    }
}

/// The operator's token for the admin API, kept only as its hash. It opens `/api` and
/// nothing else; a client key never opens `/api`.
#[derive(Clone)]
pub struct AdminToken {
    hash: String,
}

impl AdminToken {
    pub fn new(token: &str) -> Self {
        Self {
            hash: hash_secret(token),
        }
    }

    /// Whether `presented` is the token (constant time).
    pub fn verify(&self, presented: &str) -> bool {
        hash_secret(presented)
            .as_bytes()
            .ct_eq(self.hash.as_bytes())
            .into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

/// A fresh admin token from `random` bytes (passed in so tests are deterministic).
pub fn generate_admin_token(random: &[u8; 33]) -> String {
    format!("sya-{}", encode(random, 52))
}

pub const PREFIX: &str = "sy-";
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new key's public id and secret from `random` bytes (passed in so tests are
/// deterministic): 12 id characters from 8 bytes, 40 secret characters from 25 bytes.
pub fn generate(random: &[u8; 33]) -> (String, String) {
    (encode(&random[..8], 12), encode(&random[8..], 40))
}

fn encode(bytes: &[u8], len: usize) -> String {
    // Five bits per character; `len` never asks for more bits than `bytes` has.
    let mut out = String::with_capacity(len);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && out.len() < len {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    out
}

/// The full key as printed once to the operator.
pub fn format_key(id: &str, secret: &str) -> String {
    format!("{PREFIX}{id}-{secret}")
}

/// Splits a presented key into `(id, secret)`; `None` if it is not a switchyard key.
pub fn parse_key(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('-')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        let (id, secret) = generate(&[7u8; 33]);
        assert_eq!(id.len(), 12);
        assert_eq!(secret.len(), 40);
        let full = format_key(&id, &secret);
        let (pid, psecret) = parse_key(&full).expect("parses");
        assert_eq!((pid, psecret), (id.as_str(), secret.as_str()));
        let key = ApiKey {
            id: id.clone(),
            name: "ci".into(),
            secret_hash: hash_secret(&secret),
            models: vec![],
            created_at_ms: 0,
            expires_at_ms: Some(10),
            revoked_at_ms: None,
        };
        assert!(key.verify(&secret));
        assert!(!key.verify("wrong"));
        assert!(key.is_active(9));
        assert!(!key.is_active(10), "expired at its expiry instant");
    }

    #[test]
    fn different_randomness_gives_different_keys() {
        let mut r = [0u8; 33];
        let a = generate(&r);
        r[20] = 1;
        let b = generate(&r);
        assert_eq!(a.0, b.0);
        assert_ne!(a.1, b.1);
    }

    #[test]
    fn foreign_keys_do_not_parse() {
        assert_eq!(parse_key("sk-ant-123"), None);
        assert_eq!(parse_key("sy-abc"), None);
        assert_eq!(parse_key("sy--x"), None);
    }
}
