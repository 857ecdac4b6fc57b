//! The request's scalar parameters (sampling, limits, `tool_choice`, `response_format`,
//! `reasoning_effort`, `stream` and `stream_options`, `user`, `store`) to and from the IR.
//!
//! Several have more than one wire spelling for one IR value (`max_tokens` or
//! `max_completion_tokens`, `stop` as a string or an array, `0` or `0.0`). The request decoder
//! keeps the spellings the default encoding would change (see [`diff`]); the encoder uses them
//! again only if they still mean exactly what the IR says ([`restore`]), so IR edited after
//! decoding, or built by another dialect, is always encoded from the IR alone.

use serde_json::{json, Map, Number, Value};

use super::wire::{JsonSchema, Params, ResponseFormat as WireFormat, Stop, StreamOptions};
use crate::ir::{
    Effort, Reasoning, ReasoningMode, Request, ResponseFormat, Sampling, Tool, ToolChoice, ToolKind,
};
use crate::EncodeOptions;

/// The IR side of [`Params`].
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Top {
    pub sampling: Sampling,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    pub reasoning: Option<Reasoning>,
    pub user_id: Option<String>,
    pub store: Option<bool>,
    pub stream: bool,
    pub include_usage: bool,
}

impl Top {
    /// What the encoder sends for `req`, with `opts`' limit and usage wish applied.
    pub(crate) fn of(req: &Request, opts: &EncodeOptions) -> Self {
        Self {
            sampling: Sampling {
                max_tokens: opts.max_tokens(req),
                ..req.sampling.clone()
            },
            tool_choice: req.tool_choice.clone(),
            parallel_tool_calls: req.parallel_tool_calls,
            response_format: req.response_format.clone(),
            reasoning: req.reasoning.clone(),
            user_id: req.metadata.user_id.clone(),
            store: req.store,
            stream: req.stream,
            include_usage: opts.usage_asked(req),
        }
    }

    pub(crate) fn apply(self, req: &mut Request) {
        req.sampling = self.sampling;
        req.tool_choice = self.tool_choice;
        req.parallel_tool_calls = self.parallel_tool_calls;
        req.response_format = self.response_format;
        req.reasoning = self.reasoning;
        req.metadata.user_id = self.user_id;
        req.store = self.store;
        req.stream = self.stream;
        req.include_usage = self.include_usage;
    }
}

fn float(n: &Option<Number>) -> Option<f64> {
    n.as_ref().and_then(Number::as_f64)
}

fn number(f: Option<f64>) -> Option<Number> {
    f.and_then(Number::from_f64)
}

pub(crate) fn decode(p: &Params) -> Top {
    let stop = match &p.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s.clone()],
        Some(Stop::Many(v)) => v.clone(),
    };
    Top {
        sampling: Sampling {
            max_tokens: p.max_completion_tokens.or(p.max_tokens),
            temperature: float(&p.temperature),
            top_p: float(&p.top_p),
            top_k: p.top_k,
            stop,
            seed: p.seed,
            presence_penalty: float(&p.presence_penalty),
            frequency_penalty: float(&p.frequency_penalty),
            n: p.n,
        },
        tool_choice: p.tool_choice.as_ref().and_then(decode_tool_choice),
        parallel_tool_calls: p.parallel_tool_calls,
        response_format: p.response_format.as_ref().and_then(decode_format),
        reasoning: p.reasoning_effort.as_deref().and_then(decode_effort),
        user_id: p.user.clone(),
        store: p.store,
        stream: p.stream.unwrap_or(false),
        include_usage: p
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
    }
}

fn decode_tool_choice(v: &Value) -> Option<ToolChoice> {
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Any),
            _ => None,
        },
        Value::Object(o) => {
            let kind = o.get("type")?.as_str()?;
            let name = o.get(kind)?.get("name")?.as_str()?;
            matches!(kind, "function" | "custom").then(|| ToolChoice::Tool(name.to_string()))
        }
        _ => None,
    }
}

fn decode_format(f: &WireFormat) -> Option<ResponseFormat> {
    match f.kind.as_str() {
        "text" => Some(ResponseFormat::Text),
        "json_object" => Some(ResponseFormat::JsonObject),
        "json_schema" => {
            let s = f.json_schema.as_ref()?;
            Some(ResponseFormat::JsonSchema {
                name: s.name.clone(),
                schema: s.schema.clone().unwrap_or_else(|| json!({}).into()),
                strict: s.strict,
            })
        }
        _ => None,
    }
}

fn decode_effort(s: &str) -> Option<Reasoning> {
    if s == "none" {
        return Some(Reasoning {
            mode: ReasoningMode::Disabled,
            ..Reasoning::default()
        });
    }
    Some(Reasoning {
        mode: ReasoningMode::Enabled,
        effort: Some(Effort::parse(s)?),
        ..Reasoning::default()
    })
}

/// Whether `model` takes `max_completion_tokens` (reasoning models reject `max_tokens`).
fn wants_max_completion_tokens(model: &str) -> bool {
    let base = model.rsplit('/').next().unwrap_or(model);
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|p| base.starts_with(p))
}

/// The default wire parameters for `top` (no `extra`).
pub(crate) fn encode(top: &Top, model: &str, tools: &[Tool]) -> Params {
    let s = &top.sampling;
    let mut p = Params::default();
    if wants_max_completion_tokens(model) {
        p.max_completion_tokens = s.max_tokens;
    } else {
        p.max_tokens = s.max_tokens;
    }
    p.temperature = number(s.temperature);
    p.top_p = number(s.top_p);
    p.top_k = s.top_k;
    p.stop = (!s.stop.is_empty()).then(|| Stop::Many(s.stop.clone()));
    p.seed = s.seed;
    p.presence_penalty = number(s.presence_penalty);
    p.frequency_penalty = number(s.frequency_penalty);
    p.n = s.n;
    p.tool_choice = top
        .tool_choice
        .as_ref()
        .map(|c| encode_tool_choice(c, tools));
    // OpenAI rejects `parallel_tool_calls` without `tools`.
    p.parallel_tool_calls = top.parallel_tool_calls.filter(|_| !tools.is_empty());
    p.response_format = top.response_format.as_ref().map(encode_format);
    p.reasoning_effort = top.reasoning.as_ref().and_then(|r| encode_effort(r, model));
    p.user = top.user_id.clone();
    p.store = top.store;
    p.stream = top.stream.then_some(true);
    p.stream_options = (top.stream && top.include_usage).then(|| StreamOptions {
        include_usage: Some(true),
        extra: Map::new(),
    });
    p
}

fn encode_tool_choice(c: &ToolChoice, tools: &[Tool]) -> Value {
    match c {
        ToolChoice::Auto => "auto".into(),
        ToolChoice::None => "none".into(),
        ToolChoice::Any => "required".into(),
        ToolChoice::Tool(name) => {
            let custom = tools
                .iter()
                .any(|t| &t.name == name && matches!(t.kind, ToolKind::Custom { .. }));
            let kind = if custom { "custom" } else { "function" };
            json!({ "type": kind, kind: { "name": name } })
        }
    }
}

fn encode_format(f: &ResponseFormat) -> WireFormat {
    let (kind, json_schema) = match f {
        ResponseFormat::Text => ("text", None),
        ResponseFormat::JsonObject => ("json_object", None),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => (
            "json_schema",
            Some(JsonSchema {
                // OpenAI requires a name; other dialects may have none.
                name: Some(name.clone().unwrap_or_else(|| "response".into())),
                schema: Some(schema.clone()),
                strict: *strict,
                extra: Map::new(),
            }),
        ),
    };
    WireFormat {
        kind: kind.into(),
        json_schema,
        extra: Map::new(),
    }
}

fn encode_effort(r: &Reasoning, model: &str) -> Option<String> {
    let effort = match (r.mode, r.effort, r.budget_tokens) {
        // Only GPT-5-family models accept `none`; elsewhere leaving the field out is the
        // closest meaning (non-reasoning models reject the field altogether).
        (ReasoningMode::Disabled, _, _) => {
            let base = model.rsplit('/').next().unwrap_or(model);
            return base.starts_with("gpt-5").then(|| "none".to_string());
        }
        (_, Some(e), _) => e,
        (ReasoningMode::Enabled, None, Some(b)) => Effort::from_budget(b),
        _ => return None,
    };
    Some(match effort {
        Effort::Max => "xhigh".to_string(),
        e => e.as_str().to_string(),
    })
}

fn to_map(p: &Params) -> Map<String, Value> {
    match serde_json::to_value(p) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The fields of `sent` (its `extra` aside) that the default encoding `default` spells
/// differently; `null` for a field `sent` did not have.
pub(crate) fn diff(sent: &Params, default: &Params) -> Map<String, Value> {
    let mut sent = sent.clone();
    sent.extra.clear();
    let (sent, default) = (to_map(&sent), to_map(default));
    let mut out = Map::new();
    for (k, v) in &sent {
        if default.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in default.keys() {
        if !sent.contains_key(k) {
            out.insert(k.clone(), Value::Null);
        }
    }
    out
}

/// `default` with the noted spellings put back, if the result still decodes to `top`.
pub(crate) fn restore(default: Params, noted: &Map<String, Value>, top: &Top) -> Params {
    let mut map = to_map(&default);
    for (k, v) in noted {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    match serde_json::from_value::<Params>(Value::Object(map)) {
        Ok(candidate) if candidate.extra.is_empty() && decode(&candidate) == *top => candidate,
        _ => default,
    }
}
