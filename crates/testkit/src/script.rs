//! The script: what the fake upstream answers, set at start and swapped at run time. It owns the
//! vocabulary of behaviours (text, tool calls, status codes, rate-limit headers, latency, hangs,
//! drops, malformed frames, heartbeats), sequences of them, and the choice of a sequence by the
//! credential a request presents. It must not know any dialect's wire format: `reply` renders a
//! [`Reply`] in the dialect of the request that asked.

use std::collections::HashMap;
use std::time::Duration;

/// Everything the fake upstream does. Each request is answered by the [`Plan`] registered for
/// the credential it presents, or by the default plan when that credential has none.
///
/// ```
/// use switchyard_testkit::{Plan, Reply, Script};
/// let script = Script::new()
///     .credential("sk-limited", Reply::rate_limited(7))
///     .credential("sk-flaky", Plan::first(2, Reply::error(500)).then_always(Reply::ok()));
/// # let _ = script;
/// ```
#[derive(Clone, Debug)]
pub struct Script {
    pub(crate) default: Plan,
    pub(crate) credentials: HashMap<String, Plan>,
    pub(crate) models: Option<Vec<String>>,
    pub(crate) record_calls: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script::new()
    }
}

impl Script {
    /// Every call answered with [`Reply::ok`]: the last user message echoed in 5 chunks.
    pub fn new() -> Self {
        Script {
            default: Plan::always(Reply::ok()),
            credentials: HashMap::new(),
            models: None,
            record_calls: true,
        }
    }

    /// The plan for calls whose credential has no plan of its own (or that present none).
    pub fn reply(mut self, plan: impl Into<Plan>) -> Self {
        self.default = plan.into();
        self
    }

    /// The plan for calls presenting `credential` (the bare key: the value after `Bearer `, or
    /// of `x-api-key`, `x-goog-api-key`, `api-key` or `?key=`).
    pub fn credential(mut self, credential: impl Into<String>, plan: impl Into<Plan>) -> Self {
        self.credentials.insert(credential.into(), plan.into());
        self
    }

    /// The model ids every `models` listing returns (each dialect has its own default list).
    pub fn models<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.models = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Keep no call records (only the call total), so a long benchmark does not grow memory.
    pub fn without_records(mut self) -> Self {
        self.record_calls = false;
        self
    }
}

/// A sequence of replies: each step answers its number of calls in turn, then the final reply
/// answers every call after. Calls are counted per plan, from the moment the script was set.
#[derive(Clone, Debug)]
pub struct Plan {
    steps: Vec<(u64, Reply)>,
    then: Reply,
}

impl Plan {
    /// The same reply to every call.
    pub fn always(reply: Reply) -> Plan {
        Plan {
            steps: Vec::new(),
            then: reply,
        }
    }

    /// `reply` to the first `calls` calls, then [`Reply::ok`] unless more steps follow.
    pub fn first(calls: u64, reply: Reply) -> Plan {
        Plan {
            steps: vec![(calls, reply)],
            then: Reply::ok(),
        }
    }

    /// `reply` to the next `calls` calls, after the steps already given.
    pub fn then(mut self, calls: u64, reply: Reply) -> Plan {
        self.steps.push((calls, reply));
        self
    }

    /// `reply` to every call after the counted steps.
    pub fn then_always(mut self, reply: Reply) -> Plan {
        self.then = reply;
        self
    }

    /// The reply to the `call`-th call of this plan (counted from 0).
    pub(crate) fn reply_for(&self, call: u64) -> &Reply {
        let mut first_of_step = 0u64;
        for (calls, reply) in &self.steps {
            first_of_step = first_of_step.saturating_add(*calls);
            if call < first_of_step {
                return reply;
            }
        }
        &self.then
    }
}

impl From<Reply> for Plan {
    fn from(reply: Reply) -> Plan {
        Plan::always(reply)
    }
}

/// How one call is answered. Build it from [`Reply::ok`], [`Reply::error`],
/// [`Reply::rate_limited`], [`Reply::overloaded`] or [`Reply::hang`], then adjust it with the
/// chained setters (or struct update syntax: every field is public).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status. 2xx renders the answer; anything else renders that dialect's error body.
    pub status: u16,
    /// Seconds sent in `retry-after` (and, for Gemini, in the error's `RetryInfo`).
    pub retry_after: Option<u64>,
    /// Rate-limit headers in the dialect's own names (Gemini sends none, like the real API).
    pub rate_limit: Option<RateLimit>,
    /// The answer text; `None` echoes the request's last user text ("ok" when it has none).
    pub text: Option<String>,
    /// How many pieces the text (or tool arguments) is cut into; also the output token count.
    pub chunks: usize,
    /// Wait before the status line, as a slow upstream does before its first byte.
    pub first_byte: Duration,
    /// Wait between two stream frames (after the first one).
    pub chunk_delay: Duration,
    /// Never answer: the request stays open until the fake upstream shuts down.
    pub hang: bool,
    /// Close the connection after this many stream frames (heartbeats not counted); a JSON
    /// body is cut after half its bytes. The status line and headers have gone out already.
    pub drop_after: Option<usize>,
    /// Insert a malformed frame (the next frame's JSON cut in half) after this many stream
    /// frames; the stream goes on afterwards. A JSON body is sent cut in half instead.
    pub malformed_after: Option<usize>,
    /// Send an SSE comment (`: keep-alive`) before the first event of a stream.
    pub heartbeat: bool,
    /// When the request offers tools: answer with a call of this tool, `(name, arguments as a
    /// JSON object in text)`, instead of text. Requests without tools still get text.
    pub tool_call: Option<(String, String)>,
    /// An upstream with a concurrency limit: a call arriving while this many calls presenting
    /// the same credential are being answered (from arrival until their body ends) gets a 429
    /// with `retry-after: 0` instead — "too many at once", not "come back later". Counted
    /// across script changes, so a test can lower the capacity mid-run.
    pub capacity: Option<usize>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply::ok()
    }
}

/// Stream pieces when nothing says otherwise.
pub const DEFAULT_CHUNKS: usize = 5;

impl Reply {
    /// A 200 answer echoing the last user text in [`DEFAULT_CHUNKS`] pieces, without delays.
    pub fn ok() -> Reply {
        Reply {
            status: 200,
            retry_after: None,
            rate_limit: None,
            text: None,
            chunks: DEFAULT_CHUNKS,
            first_byte: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            hang: false,
            drop_after: None,
            malformed_after: None,
            heartbeat: false,
            tool_call: None,
            capacity: None,
        }
    }

    /// An error with this status and the dialect's error body for it.
    pub fn error(status: u16) -> Reply {
        Reply::ok().status(status)
    }

    /// A 429 with `retry-after: seconds`.
    pub fn rate_limited(seconds: u64) -> Reply {
        Reply::error(429).retry_after(seconds)
    }

    /// Anthropic's 529 `overloaded_error` (other dialects render a 529 as a server error).
    pub fn overloaded() -> Reply {
        Reply::error(529)
    }

    /// No answer at all until the fake upstream shuts down.
    pub fn hang() -> Reply {
        Reply {
            hang: true,
            ..Reply::ok()
        }
    }

    /// Sets the status.
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }

    /// Sets the answer text (instead of the echo).
    pub fn text(mut self, text: impl Into<String>) -> Reply {
        self.text = Some(text.into());
        self
    }

    /// Answers requests that offer tools with a call of `name` with `arguments_json`.
    pub fn tool_call(
        mut self,
        name: impl Into<String>,
        arguments_json: impl Into<String>,
    ) -> Reply {
        self.tool_call = Some((name.into(), arguments_json.into()));
        self
    }

    /// Sets the number of pieces (at least 1; text shorter than that gives one per character).
    pub fn chunks(mut self, chunks: usize) -> Reply {
        self.chunks = chunks.max(1);
        self
    }

    /// Sets the wait before the first byte.
    pub fn first_byte(mut self, wait: Duration) -> Reply {
        self.first_byte = wait;
        self
    }

    /// Sets the wait between stream frames.
    pub fn chunk_delay(mut self, wait: Duration) -> Reply {
        self.chunk_delay = wait;
        self
    }

    /// Drops the connection after `frames` stream frames.
    pub fn drop_after(mut self, frames: usize) -> Reply {
        self.drop_after = Some(frames);
        self
    }

    /// Sends a malformed frame after `frames` stream frames.
    pub fn malformed_after(mut self, frames: usize) -> Reply {
        self.malformed_after = Some(frames);
        self
    }

    /// Sends an SSE comment before the first event.
    pub fn heartbeat(mut self) -> Reply {
        self.heartbeat = true;
        self
    }

    /// Limits the calls answered at once per credential (see [`Reply::capacity`]).
    pub fn capacity(mut self, calls: usize) -> Reply {
        self.capacity = Some(calls);
        self
    }

    /// Sends `retry-after: seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Reply {
        self.retry_after = Some(seconds);
        self
    }

    /// Sends rate-limit headers.
    pub fn rate_limit(mut self, rate_limit: RateLimit) -> Reply {
        self.rate_limit = Some(rate_limit);
        self
    }
}

/// Quota an upstream reports in its rate-limit headers: OpenAI's `x-ratelimit-*-requests` /
/// `x-ratelimit-*-tokens`, Anthropic's `anthropic-ratelimit-requests-*` /
/// `anthropic-ratelimit-tokens-*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub requests_limit: u64,
    /// Requests left in the window.
    pub requests_remaining: u64,
    /// Tokens allowed per window.
    pub tokens_limit: u64,
    /// Tokens left in the window.
    pub tokens_remaining: u64,
    /// Seconds until the window resets.
    pub reset_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_walks_its_steps_then_repeats_the_last_reply() {
        let plan = Plan::first(2, Reply::error(500))
            .then(1, Reply::rate_limited(3))
            .then_always(Reply::ok().text("fine"));
        let statuses: Vec<u16> = (0..6).map(|n| plan.reply_for(n).status).collect();
        assert_eq!(statuses, [500, 500, 429, 200, 200, 200]);
        assert_eq!(plan.reply_for(5).text.as_deref(), Some("fine"));
    }
}
