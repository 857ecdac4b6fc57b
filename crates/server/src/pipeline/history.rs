//! Responses API state kept by the gateway: `previous_response_id` and `store` work whatever
//! the upstream. A stored response is the whole conversation up to and including the
//! assistant's answer, kept as a Responses request body (`{"model", "input": [...]}`) so the
//! dialect's own codec writes and reads it. A request that names one gets that history
//! prepended and is then translated, never forwarded as the client's bytes (they no longer
//! say it all).
//!
//! It must not delay the client: saving happens after the answer is produced, on the state's
//! task tracker. Without a store configured nothing changes (the encoders refuse the id).

use std::time::Duration;

use bytes::Bytes;
use switchyard_protocol::ir::{self, Message, Role};
use switchyard_protocol::{Dialect, EncodeOptions};
use switchyard_store::{Engine, Store};

use super::record::unix_ms;
use super::Request;
use crate::render::ApiError;
use crate::state::AppState;

/// How long a stored response can be named by `previous_response_id`. OpenAI keeps stored
/// responses 30 days; clients written against it expect at least that.
pub const RESPONSE_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// What the pipeline must do about conversation state for one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Memory {
    /// The history was rebuilt from the store: the request must be translated, not passed
    /// through as the client's bytes.
    pub rebuilt: bool,
    /// Where and what to save once the client has its answer; `None`: nothing is saved.
    pub save: Option<Save>,
}

/// The conversation so far, to be saved with the answer under the id the client saw.
#[derive(Debug, Clone)]
pub(crate) struct Save {
    store: Store,
    model: String,
    messages: Vec<Message>,
}

/// Resolves `previous_response_id` into `req.messages` and decides whether the answer is
/// saved. Only Responses clients, and only with a store.
pub(crate) async fn prepare(
    state: &AppState,
    dialect: Dialect,
    req: &mut Request,
) -> Result<Memory, ApiError> {
    let Some(store) = state.store() else {
        return Ok(Memory::default());
    };
    if dialect != Dialect::Responses {
        return Ok(Memory::default());
    }
    let req = req.ir_mut()?;
    let mut memory = Memory::default();
    if let Some(id) = req.previous_response_id.take() {
        let unknown = || ApiError::invalid(format!("previous response {id} is unknown or expired"));
        let body = match store.get_response(&id, unix_ms()).await {
            Ok(Some(body)) => body,
            Ok(None) => return Err(unknown()),
            Err(e) => {
                tracing::warn!(error = %e, "reading a stored response failed");
                return Err(ApiError::new(
                    ir::ErrorKind::Api,
                    "stored responses cannot be read right now",
                ));
            }
        };
        let past = Dialect::Responses
            .decode_request(body.as_bytes())
            .map_err(|_| unknown())?;
        let mut messages = past.messages;
        messages.append(&mut req.messages);
        req.messages = messages;
        memory.rebuilt = true;
    }
    if req.store != Some(false) {
        memory.save = Some(Save {
            store: store.clone(),
            model: req.model.clone(),
            messages: req.messages.clone(),
        });
    }
    Ok(memory)
}

impl Save {
    /// Saves the conversation plus `answer` under `id`, on the state's tracker.
    pub fn spawn(self, state: &AppState, id: String, answer: ir::Response) {
        state.tasks.spawn(self.write(id, answer));
    }

    /// Saves the conversation plus `answer` under the `id` of the JSON `body` the client
    /// received, read off the request path.
    pub fn spawn_for_body(self, state: &AppState, body: Bytes, answer: ir::Response) {
        state
            .tasks
            .spawn(async move { self.write(body_id(&body), answer).await });
    }

    async fn write(self, id: String, answer: ir::Response) {
        if id.is_empty() {
            return;
        }
        let mut messages = self.messages;
        messages.push(Message::new(Role::Assistant, answer.content));
        let history = ir::Request {
            model: self.model,
            messages,
            ..ir::Request::default()
        };
        let body = match Dialect::Responses.encode_request(&history, &EncodeOptions::default()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                tracing::warn!(%id, error = %e, "a response could not be stored");
                return;
            }
        };
        let now = unix_ms();
        let expires = now + RESPONSE_TTL.as_millis() as i64;
        if let Err(e) = self.store.put_response(&id, &body, now, expires).await {
            tracing::warn!(%id, error = %e, "a response could not be stored");
        }
    }
}

/// The `id` of an encoded JSON response body.
fn body_id(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .unwrap_or_default()
}
