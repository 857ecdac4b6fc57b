//! Chat Completions requests to and from the IR: the top level and `tools`; messages are in
//! `messages.rs`, scalar parameters in `params.rs`.
//!
//! Must not invent content: what the target cannot carry is refused with
//! `Error::Unsupported`, and the few harmless hints it drops are listed in the crate README's
//! loss table (session id, `cache_control`, thinking from other dialects and signatures).

use std::borrow::Cow;

use serde_json::Value;

use super::wire::{self, CustomDef, FunctionDef};
use super::{form, messages, params, parts};
use crate::ir::{self, Tool, ToolKind};
use crate::{json, Dialect, EncodeOptions, Error};

const TARGET: Dialect = Dialect::OpenAiChat;

pub fn decode_request(body: &[u8]) -> Result<ir::Request, Error> {
    let w: wire::Request = json::decode(body)?;
    let (system, messages) = messages::decode(&w.messages)?;
    let mut tools = Vec::new();
    for (i, t) in w.tools.into_iter().flatten().enumerate() {
        tools.push(decode_tool(t, &format!("tools[{i}]"))?);
    }
    let top = params::decode(&w.params);
    let mut fields = w.params.extra.clone();
    let default = params::encode(&top, &w.model, &tools);
    let noted = params::diff(&w.params, &default);
    if !noted.is_empty() {
        form::set(&mut fields, "params", Value::Object(noted));
    }
    let mut req = ir::Request {
        model: w.model,
        system,
        messages,
        tools,
        extras: form::extras(fields),
        ..ir::Request::default()
    };
    top.apply(&mut req);
    Ok(req)
}

pub fn encode_request(req: &ir::Request, opts: &EncodeOptions) -> Result<Vec<u8>, Error> {
    if req.previous_response_id.is_some() {
        return Err(Error::unsupported("previous_response_id", TARGET));
    }
    let messages = messages::encode(&req.system, &req.messages)?;
    let mut tools = Vec::new();
    for t in &req.tools {
        tools.push(encode_tool(t)?);
    }
    let model = opts.model(req);
    let top = params::Top::of(req, opts);
    let mut p = params::encode(&top, model, &req.tools);
    if let Some(Value::Object(noted)) = form::get(&req.extras, "params") {
        p = params::restore(p, noted, &top);
    }
    let named = serde_json::to_value(&p).unwrap_or(Value::Null);
    for (k, v) in form::fields(&req.extras) {
        // Unknown fields never shadow the ones mapped from the IR.
        if named.get(&k).is_none() && !matches!(k.as_str(), "model" | "messages" | "tools") {
            p.extra.insert(k, v);
        }
    }
    let w = wire::Request {
        model: model.to_owned(),
        messages,
        tools: (!tools.is_empty()).then_some(tools),
        params: p,
    };
    Ok(json::encode(&w))
}

/// Takes the wire tool apart: its schema (often the largest value in a request) moves into the
/// IR rather than being copied.
fn decode_tool(t: wire::Tool, path: &str) -> Result<Tool, Error> {
    let missing = |field: &str| Error::Decode {
        path: format!("{path}.{field}"),
        message: format!("missing field `{field}`"),
    };
    if !matches!(t.kind.as_str(), "function" | "custom") {
        // A provider tool (OpenRouter `web_search`, ...): kept whole for this dialect.
        let whole = json::whole_object(&t, path)?;
        return Ok(Tool {
            name: t.kind.clone(),
            description: None,
            kind: ToolKind::Provider { kind: t.kind },
            cache_control: None,
            extras: form::extras(whole),
        });
    }
    let mut fields = t.extra;
    let (name, description, kind) = if t.kind == "function" {
        let f = t.function.ok_or_else(|| missing("function"))?;
        if !f.extra.is_empty() {
            form::set(&mut fields, "function", Value::Object(f.extra));
        }
        let parameters = match f.parameters {
            Some(p) => p.into_owned(),
            None => {
                form::set(&mut fields, "parameters", "absent".into());
                ir::RawJson::no_arguments()
            }
        };
        let kind = ToolKind::Function {
            parameters,
            strict: f.strict,
        };
        (
            f.name.into_owned(),
            f.description.map(Cow::into_owned),
            kind,
        )
    } else {
        let c = t.custom.ok_or_else(|| missing("custom"))?;
        if !c.extra.is_empty() {
            form::set(&mut fields, "custom", Value::Object(c.extra));
        }
        let kind = ToolKind::Custom {
            format: c.format.map(Cow::into_owned),
        };
        (
            c.name.into_owned(),
            c.description.map(Cow::into_owned),
            kind,
        )
    };
    Ok(Tool {
        name,
        description,
        kind,
        cache_control: None,
        extras: form::extras(fields),
    })
}

fn encode_tool(t: &Tool) -> Result<wire::Tool<'_>, Error> {
    let mut w = wire::Tool {
        kind: String::new(),
        function: None,
        custom: None,
        extra: form::fields(&t.extras),
    };
    match &t.kind {
        ToolKind::Function { parameters, strict } => {
            let absent = form::get_str(&t.extras, "parameters") == Some("absent")
                && *parameters == ir::RawJson::no_arguments();
            w.kind = "function".into();
            w.function = Some(FunctionDef {
                name: Cow::Borrowed(&t.name),
                description: t.description.as_deref().map(Cow::Borrowed),
                parameters: (!absent).then_some(Cow::Borrowed(parameters)),
                strict: *strict,
                extra: parts::note_map(&t.extras, "function"),
            });
        }
        ToolKind::Custom { format } => {
            w.kind = "custom".into();
            w.custom = Some(CustomDef {
                name: Cow::Borrowed(&t.name),
                description: t.description.as_deref().map(Cow::Borrowed),
                format: format.as_ref().map(Cow::Borrowed),
                extra: parts::note_map(&t.extras, "custom"),
            });
        }
        ToolKind::Provider { kind } => {
            let Some(whole) = t.extras.for_dialect(TARGET) else {
                return Err(Error::unsupported(
                    format!("provider tool `{kind}`"),
                    TARGET,
                ));
            };
            return serde_json::from_value(Value::Object(whole.clone()))
                .map_err(|e| Error::invalid("tools", e.to_string()));
        }
    }
    Ok(w)
}
