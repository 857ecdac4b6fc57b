//! Call records: what each request that reached the fake upstream looked like and when it began
//! and ended, so tests assert retries and failover by counting calls here. It owns the records
//! and the credential a request presented; it must not decide how a call is answered.

use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::request::Parts;
use tokio::sync::watch;
use tokio::time::Instant;

/// One request as the fake upstream received it.
#[derive(Clone, Debug)]
pub struct Call {
    /// The call's number, from 1, in arrival order; it also numbers the ids in the answer.
    pub seq: u64,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string without `?`, empty when there is none.
    pub query: String,
    /// The credential the request presented, and how.
    pub credential: Option<Credential>,
    /// Every header, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Bytes,
    /// When the request head arrived (tokio's clock, so paused time applies).
    pub started: Instant,
    /// When the fake upstream was done with the call: the response body ended, the client went
    /// away or the call was cut by shutdown. `None` while it is still in flight.
    pub ended: Option<Instant>,
}

impl Call {
    /// The first value of a header, by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The credential a request presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// Where it was found.
    pub source: CredentialSource,
    /// The bare key.
    pub value: String,
}

/// Where a request carries its credential; the first found in this order wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// `Authorization: Bearer X` (OpenAI and OpenAI-compatible).
    Bearer,
    /// `x-api-key: X` (Anthropic).
    XApiKey,
    /// `x-goog-api-key: X` (Gemini).
    XGoogApiKey,
    /// `api-key: X` (Azure OpenAI).
    ApiKey,
    /// `?key=X` (Gemini, older clients).
    QueryKey,
}

/// Finds the credential a request presents.
pub(crate) fn credential_of(parts: &Parts) -> Option<Credential> {
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let found = if let Some(token) = header("authorization").and_then(bearer_token) {
        Some((CredentialSource::Bearer, token))
    } else if let Some(key) = header("x-api-key") {
        Some((CredentialSource::XApiKey, key))
    } else if let Some(key) = header("x-goog-api-key") {
        Some((CredentialSource::XGoogApiKey, key))
    } else if let Some(key) = header("api-key") {
        Some((CredentialSource::ApiKey, key))
    } else {
        parts
            .uri
            .query()
            .and_then(|q| query_param(q, "key"))
            .map(|key| (CredentialSource::QueryKey, key))
    };
    found.map(|(source, value)| Credential {
        source,
        value: value.to_owned(),
    })
}

fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// One query parameter's raw value (API keys need no percent-decoding).
pub(crate) fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The shared log of calls.
#[derive(Debug)]
pub(crate) struct Recorder {
    calls: Mutex<Vec<Call>>,
    /// Calls received so far, recorded or not; waiters watch it.
    total: watch::Sender<u64>,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        Recorder {
            calls: Mutex::new(Vec::new()),
            total: watch::Sender::new(0),
        }
    }

    /// Numbers a new call and, when `keep`, records it; the returned guard marks it ended.
    pub(crate) fn begin(self: &std::sync::Arc<Self>, mut call: Call, keep: bool) -> CallGuard {
        let mut seq = 0;
        self.total.send_modify(|total| {
            *total += 1;
            seq = *total;
        });
        call.seq = seq;
        let index = keep.then(|| {
            let mut calls = self.lock();
            calls.push(call);
            calls.len() - 1
        });
        CallGuard {
            recorder: self.clone(),
            index,
            seq,
        }
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.lock().clone()
    }

    pub(crate) fn count(&self, matches: impl Fn(&Call) -> bool) -> usize {
        self.lock().iter().filter(|c| matches(c)).count()
    }

    pub(crate) async fn wait_for(&self, calls: u64) {
        let mut total = self.total.subscribe();
        // The sender lives as long as `self`, so `wait_for` can only end by the count.
        let _ = total.wait_for(|total| *total >= calls).await;
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Call>> {
        // A test that panicked while holding the lock leaves records that are still readable.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks its call ended when dropped: it travels with the response body, so the end is when
/// the last byte went out, the client hung up, or the call was abandoned.
#[derive(Debug)]
pub(crate) struct CallGuard {
    recorder: std::sync::Arc<Recorder>,
    index: Option<usize>,
    pub(crate) seq: u64,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        if let Some(index) = self.index {
            if let Some(call) = self.recorder.lock().get_mut(index) {
                call.ended = Some(Instant::now());
            }
        }
    }
}
