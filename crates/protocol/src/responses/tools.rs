//! Responses tools and `tool_choice` to and from the IR. Function and custom tools map to the
//! IR's kinds; hosted tools (`web_search`, `file_search`, `mcp`, `namespace`, ...) travel
//! verbatim as provider tools, and another dialect's provider tools are refused. Hosted-tool
//! choices have no IR form and are kept in the request's notes.

use serde_json::{json, Map, Value};

use super::items::{self, field};
use super::wire::{self, from_value};
use crate::ir::{self, Tool, ToolChoice, ToolKind};
use crate::{json, Dialect, Error};

const DIALECT: Dialect = Dialect::Responses;

pub(crate) fn decode_tools(list: Vec<wire::ToolDef>) -> Result<Vec<Tool>, Error> {
    let mut tools = Vec::with_capacity(list.len());
    for (i, def) in list.into_iter().enumerate() {
        let path = format!("tools[{i}]");
        let Some(kind) = def
            .fields
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Err(Error::Decode {
                path: format!("{path}.type"),
                message: "missing or non-string field `type`".into(),
            });
        };
        if kind == "function" {
            // The schema's text goes to the IR as it is; the rest is read as a value.
            let wire::ToolDef { fields, parameters } = def;
            let t: wire::FunctionTool = from_value(Value::Object(fields), &path)?;
            tools.push(Tool {
                name: t.name,
                description: t.description,
                kind: ToolKind::Function {
                    parameters: parameters.unwrap_or_else(|| ir::RawJson::from(t.parameters)),
                    strict: t.strict,
                },
                cache_control: None,
                extras: items::extras(t.extra),
            });
            continue;
        }
        let value = def.into_value().map_err(|e| Error::Decode {
            path: format!("{path}.parameters"),
            message: e.to_string(),
        })?;
        tools.push(match kind.as_str() {
            "custom" => {
                let t: wire::CustomTool = from_value(value, &path)?;
                Tool {
                    name: t.name,
                    description: t.description,
                    kind: ToolKind::Custom { format: t.format },
                    cache_control: None,
                    extras: items::extras(t.extra),
                }
            }
            _ => {
                let name = value.get("name").and_then(Value::as_str).unwrap_or(&kind);
                Tool {
                    name: name.to_string(),
                    description: None,
                    kind: ToolKind::Provider { kind: kind.clone() },
                    cache_control: None,
                    extras: items::extras(value.as_object().cloned().unwrap_or_default()),
                }
            }
        });
    }
    Ok(tools)
}

/// `auto` / `none` / `required` / a named function map to the IR; a named custom tool maps too
/// but is also noted verbatim; `allowed_tools` maps its mode and is noted verbatim; hosted-tool
/// choices (`{"type": "web_search_preview"}`, `mcp`, ...) have no IR form and are only noted.
pub(crate) fn decode_tool_choice(v: Value, notes: &mut Map<String, Value>) -> Option<ToolChoice> {
    let mapped = match &v {
        Value::String(s) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "none" => Some(ToolChoice::None),
            "required" => Some(ToolChoice::Any),
            _ => None,
        },
        Value::Object(m) => {
            let name = m.get("name").and_then(Value::as_str);
            match (m.get("type").and_then(Value::as_str), name) {
                (Some("function"), Some(name)) if m.len() == 2 => {
                    return Some(ToolChoice::Tool(name.to_string()))
                }
                (Some("function" | "custom"), Some(name)) => {
                    Some(ToolChoice::Tool(name.to_string()))
                }
                (Some("allowed_tools"), _) => match m.get("mode").and_then(Value::as_str) {
                    Some("required") => Some(ToolChoice::Any),
                    _ => Some(ToolChoice::Auto),
                },
                _ => None,
            }
        }
        _ => None,
    };
    if !(v.is_string() && mapped.is_some()) {
        notes.insert("$tool_choice".into(), v);
    }
    mapped
}

pub(crate) fn encode_tools(tools: &[Tool]) -> Result<Option<Vec<wire::ToolDef>>, Error> {
    if tools.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(tools.len());
    for t in tools {
        let own = items::own(&t.extras).cloned().unwrap_or_default();
        out.push(wire::ToolDef::from(match &t.kind {
            ToolKind::Function { parameters, strict } => wire::to_value(&wire::FunctionTool {
                kind: "function".into(),
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: json::tool_schema(t, parameters)?,
                strict: *strict,
                extra: own,
            }),
            ToolKind::Custom { format } => wire::to_value(&wire::CustomTool {
                kind: "custom".into(),
                name: t.name.clone(),
                description: t.description.clone(),
                format: format.clone(),
                extra: own,
            }),
            ToolKind::Provider { kind } => {
                if own.is_empty() {
                    return Err(Error::unsupported(format!("{kind} tool"), DIALECT));
                }
                Value::Object(own)
            }
        }));
    }
    Ok(Some(out))
}

pub(crate) fn encode_tool_choice(req: &ir::Request) -> Option<Value> {
    if let Some(v) = field(&req.extras, "$tool_choice") {
        return Some(v.clone());
    }
    Some(match req.tool_choice.as_ref()? {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Any => json!("required"),
        ToolChoice::Tool(name) => {
            let custom = req
                .tools
                .iter()
                .any(|t| &t.name == name && matches!(t.kind, ToolKind::Custom { .. }));
            let kind = if custom { "custom" } else { "function" };
            json!({"type": kind, "name": name})
        }
    })
}
