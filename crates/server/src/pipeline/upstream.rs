//! The HTTP request to an upstream: its URL for the provider kind, model and stream flag; its
//! auth header in the provider's own form; and the client headers that matter to it. Hop-by-hop
//! headers and the client's own credentials never reach an upstream.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use bytes::Bytes;
use switchyard_core::config::{ProviderConfig, ProviderKind};

use crate::egress::Egress;
pub use crate::oauth::Auth;

/// Client headers forwarded to upstreams of the matching kind: they change what the upstream
/// does (beta features, API version), and carry nothing secret.
const FORWARDED_ANTHROPIC: &[&str] = &["anthropic-beta", "anthropic-version"];
const FORWARDED_OPENAI: &[&str] = &["openai-beta"];

/// The Anthropic API requires a version; clients usually send one, some do not.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Where to send a request for `model`.
pub fn url(provider: &ProviderConfig, model: &str, stream: bool) -> String {
    let base = &provider.base_url;
    match provider.kind {
        ProviderKind::OpenAi => format!("{base}/chat/completions"),
        ProviderKind::OpenAiResponses => format!("{base}/responses"),
        ProviderKind::Anthropic => format!("{base}/v1/messages"),
        ProviderKind::Gemini => {
            let model = model.strip_prefix("models/").unwrap_or(model);
            if stream {
                format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse")
            } else {
                format!("{base}/v1beta/models/{model}:generateContent")
            }
        }
        ProviderKind::Mock => String::new(),
    }
}

/// Headers for an upstream request: content type, the credential in the provider's form,
/// the forwarded client headers, then the provider's configured extra headers.
pub fn headers(provider: &ProviderConfig, auth: &Auth<'_>, client: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    out.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let forwarded: &[&str] = match provider.kind {
        ProviderKind::Anthropic => FORWARDED_ANTHROPIC,
        ProviderKind::OpenAi | ProviderKind::OpenAiResponses => FORWARDED_OPENAI,
        ProviderKind::Gemini | ProviderKind::Mock => &[],
    };
    for name in forwarded {
        for value in client.get_all(*name) {
            out.append(HeaderName::from_static(name), value.clone());
        }
    }
    match auth {
        // An OAuth access token is a bearer token whatever the provider's key header.
        Auth::Bearer(token) => bearer(token.expose(), &mut out),
        Auth::Key(secret) => {
            let key = secret.expose();
            // `none` is the documented value for servers without auth (local vLLM, Ollama).
            if !key.is_empty() && key != "none" {
                match provider.kind {
                    ProviderKind::OpenAi | ProviderKind::OpenAiResponses => bearer(key, &mut out),
                    ProviderKind::Anthropic => {
                        if let Ok(v) = HeaderValue::from_str(key) {
                            out.insert("x-api-key", v);
                        }
                    }
                    ProviderKind::Gemini => {
                        if let Ok(v) = HeaderValue::from_str(key) {
                            out.insert("x-goog-api-key", v);
                        }
                    }
                    ProviderKind::Mock => {}
                }
            }
        }
    }
    if provider.kind == ProviderKind::Anthropic && !out.contains_key("anthropic-version") {
        out.insert(
            "anthropic-version",
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
    }
    for (name, value) in &provider.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            out.insert(n, v);
        }
    }
    out
}

fn bearer(token: &str, out: &mut HeaderMap) {
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
        out.insert(axum::http::header::AUTHORIZATION, v);
    }
}

/// What checking a credential found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub ok: bool,
    /// The upstream's status, when it answered.
    pub status: Option<u16>,
    pub message: String,
}

/// Checks a credential with the cheapest call its provider offers: listing models, which
/// costs no tokens. A mock provider is always fine.
pub async fn verify(egress: &Egress, provider: &ProviderConfig, auth: &Auth<'_>) -> Verdict {
    let base = &provider.base_url;
    let url = match provider.kind {
        ProviderKind::OpenAi | ProviderKind::OpenAiResponses => format!("{base}/models"),
        ProviderKind::Anthropic => format!("{base}/v1/models"),
        ProviderKind::Gemini => format!("{base}/v1beta/models"),
        ProviderKind::Mock => {
            return Verdict {
                ok: true,
                status: None,
                message: "the mock provider needs no credential".into(),
            }
        }
    };
    let send = egress.send(
        Method::GET,
        &url,
        headers(provider, auth, &HeaderMap::new()),
        Bytes::new(),
    );
    // A check that has not answered in 15 s failed (of the network, not of the credential).
    let deadline = provider
        .timeouts
        .first_byte
        .min(std::time::Duration::from_secs(15));
    match tokio::time::timeout(deadline, send).await {
        Err(_) => Verdict {
            ok: false,
            status: None,
            message: "the upstream did not answer in time".into(),
        },
        Ok(Err(e)) => Verdict {
            ok: false,
            status: None,
            message: if e.is_connect() {
                "could not connect to the upstream".into()
            } else {
                "the request to the upstream failed".into()
            },
        },
        Ok(Ok(resp)) => {
            let status = resp.status().as_u16();
            Verdict {
                ok: resp.status().is_success(),
                status: Some(status),
                message: match status {
                    200..=299 => "ok".into(),
                    401..=403 => format!("the upstream refused the credential ({status})"),
                    429 => "rate limited (the credential itself is valid)".into(),
                    _ => format!("the upstream answered {status}"),
                },
            }
        }
    }
}
