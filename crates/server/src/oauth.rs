//! Access tokens for OAuth credentials: traded for the credential's refresh token at its token
//! endpoint (RFC 6749 §6), kept until a minute before they expire, and refreshed single-flight:
//! the first request to find the token stale refreshes it while every other request for that
//! credential waits for the result, so a burst never refreshes twice at once. A refresh token
//! the endpoint returns replaces the configured one in memory (rotation).
//!
//! It owns the token exchange and the cache; what a failed refresh does to the credential
//! (marked invalid, traffic moves) is the pipeline's call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Deserialize;
use switchyard_core::config::{CredentialConfig, OAuthConfig, ProviderConfig, Secret};
use tokio::time::Instant;

/// A token this close to expiring is refreshed before use: a request must not reach the
/// upstream with a token that expires on the way.
const MARGIN: Duration = Duration::from_secs(60);

/// Assumed lifetime of a token whose endpoint names none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// How long a token endpoint may take.
const REFRESH_TIMEOUT: Duration = Duration::from_secs(15);

/// How a request authenticates to its upstream.
#[derive(Debug)]
pub enum Auth<'a> {
    /// The credential's secret in the provider's own form (`x-api-key`, `Bearer`, ...).
    Key(&'a Secret),
    /// An OAuth access token, always `Authorization: Bearer`.
    Bearer(Secret),
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshError {
    /// The endpoint refused the refresh token (`invalid_grant` and the like): the credential
    /// is unusable until fixed.
    Refused(String),
    /// The endpoint could not be reached or answered nonsense: try again later.
    Unavailable(String),
}

impl std::fmt::Display for RefreshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefreshError::Refused(m) | RefreshError::Unavailable(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    access: Secret,
    expires_at: Instant,
}

#[derive(Debug, Default)]
struct Entry {
    /// Held across a refresh: this is what makes it single-flight.
    token: tokio::sync::Mutex<Option<Token>>,
    /// The refresh token to use next (the endpoint may rotate it).
    refresh: Mutex<Option<Secret>>,
    /// Refreshes made, for status and tests.
    refreshes: std::sync::atomic::AtomicU64,
}

/// The token cache of every OAuth credential, keyed by provider and credential name.
#[derive(Debug, Default)]
pub struct Tokens {
    entries: Mutex<HashMap<(String, String), Arc<Entry>>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<f64>,
    refresh_token: Option<String>,
}

impl Tokens {
    fn entry(&self, provider: &str, credential: &str) -> Arc<Entry> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            entries
                .entry((provider.to_string(), credential.to_string()))
                .or_default(),
        )
    }

    /// Refreshes made for a credential so far.
    pub fn refreshes(&self, provider: &str, credential: &str) -> u64 {
        self.entry(provider, credential)
            .refreshes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How a request on `credential` authenticates: its secret, or a fresh access token.
    /// The error says why no token could be had (the endpoint refused the refresh token, or
    /// did not answer).
    pub async fn auth<'a>(
        &self,
        http: &reqwest::Client,
        provider: &ProviderConfig,
        credential: &'a CredentialConfig,
    ) -> Result<Auth<'a>, RefreshError> {
        let Some(oauth) = &credential.oauth else {
            return Ok(Auth::Key(&credential.secret));
        };
        let entry = self.entry(&provider.name, &credential.name);
        let mut token = entry.token.lock().await;
        if let Some(t) = token.as_ref() {
            if t.expires_at > Instant::now() + MARGIN {
                return Ok(Auth::Bearer(t.access.clone()));
            }
        }
        let refresh = entry
            .refresh
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| oauth.refresh_token.clone());
        let fresh = exchange(http, oauth, &refresh).await?;
        entry
            .refreshes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(rotated) = fresh.1 {
            *entry.refresh.lock().unwrap_or_else(PoisonError::into_inner) = Some(rotated);
        }
        let access = fresh.0.access.clone();
        *token = Some(fresh.0);
        Ok(Auth::Bearer(access))
    }
}

/// One refresh-token grant: the new token, and the new refresh token when it rotated.
async fn exchange(
    http: &reqwest::Client,
    oauth: &OAuthConfig,
    refresh: &Secret,
) -> Result<(Token, Option<Secret>), RefreshError> {
    let unavailable = |m: &str| RefreshError::Unavailable(m.to_string());
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.expose()),
    ];
    if let Some(id) = &oauth.client_id {
        form.push(("client_id", id));
    }
    if let Some(secret) = &oauth.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    if let Some(scope) = &oauth.scope {
        form.push(("scope", scope));
    }
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let send = http
        .post(&oauth.token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send();
    let resp = match tokio::time::timeout(REFRESH_TIMEOUT, send).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Err(unavailable("the token endpoint could not be reached")),
        Err(_) => return Err(unavailable("the token endpoint did not answer in time")),
    };
    let status = resp.status().as_u16();
    let text = resp
        .bytes()
        .await
        .map_err(|_| unavailable("the token endpoint's answer was cut"))?;
    if !(200..300).contains(&status) {
        // The endpoint's own words (`invalid_grant`, ...) carry no secret.
        let error = serde_json::from_slice::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_default();
        let message = format!("the token endpoint refused the refresh ({status} {error})");
        let message = message.replace(" )", ")");
        // 400/401 are the endpoint's verdict on the refresh token; anything else is trouble
        // on its side.
        return Err(if matches!(status, 400 | 401 | 403) {
            RefreshError::Refused(message)
        } else {
            RefreshError::Unavailable(message)
        });
    }
    let answer: TokenAnswer = serde_json::from_slice(&text)
        .map_err(|_| unavailable("the token endpoint's answer has no access_token"))?;
    let lifetime = answer
        .expires_in
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_LIFETIME, |s| {
            Duration::from_secs_f64(s.min(86_400.0 * 365.0))
        });
    let token = Token {
        access: Secret::new(answer.access_token),
        expires_at: Instant::now() + lifetime,
    };
    Ok((token, answer.refresh_token.map(Secret::new)))
}

/// `application/x-www-form-urlencoded` value encoding.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
        assert_eq!(form_encode("1//0abc-_.~"), "1%2F%2F0abc-_.~");
    }
}
