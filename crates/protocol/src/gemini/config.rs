//! The non-content parts of a Gemini request ↔ IR: `tools`, `toolConfig` and
//! `generationConfig` (sampling, response format, thinking).
//!
//! Where the IR is coarser than the wire (upper-case schema types, `VALIDATED` mode, a
//! `responseSchema` in OpenAPI form, a `thinkingLevel`), the decoder keeps the client's object
//! in a private marker and the encoder sends it back verbatim when the IR still says the same
//! thing; otherwise the encoder derives the wire form from the IR. Contents are not handled
//! here (see `request.rs`).

use serde_json::{json, Map, Value};

use super::parts::{self, mark, wire_fields, MARK};
use super::wire::{self, Extra};
use crate::ir::{self, Effort, Reasoning, ReasoningMode, ResponseFormat, ToolChoice, ToolKind};
use crate::{json, schema, Dialect, EncodeOptions, Error};

/// Which `tools` entry a tool came from, so the grouping survives a round trip.
const GROUP: &str = "sy:group";
/// The tool's `parameters` exactly as the client sent them (upper-case types and all).
const RAW_PARAMETERS: &str = "sy:parameters";
/// The tool used `parametersJsonSchema` (full JSON Schema), not `parameters`.
const JSON_SCHEMA: &str = "sy:parametersJsonSchema";
/// Request-level notes: the client's `functionCallingConfig`, `toolConfig` extras, the
/// `generationConfig` extras, the response-format fields and `thinkingConfig`.
pub(crate) const FUNCTION_CALLING: &str = "sy:functionCallingConfig";
pub(crate) const TOOL_CONFIG: &str = "sy:toolConfig";
pub(crate) const GENERATION: &str = "sy:generationConfig";
pub(crate) const RESPONSE_FORMAT: &str = "sy:responseFormat";
pub(crate) const THINKING: &str = "sy:thinkingConfig";

fn to_map<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn from_value<T: serde::de::DeserializeOwned + Default>(v: Option<&Value>) -> Option<T> {
    v.and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub(crate) fn decode_tools(tools: Vec<wire::Tool>) -> Vec<ir::Tool> {
    let mut out = Vec::new();
    for (group, tool) in tools.into_iter().enumerate() {
        for d in tool.function_declarations.unwrap_or_default() {
            let mut fields = d.extra;
            fields.insert(GROUP.into(), json!(group));
            let parameters = if let Some(p) = d.parameters_json_schema {
                fields.insert(JSON_SCHEMA.into(), Value::Bool(true));
                ir::RawJson::from(p)
            } else if let Some(p) = d.parameters {
                let normal = schema::normalize_gemini_types(&p);
                fields.insert(RAW_PARAMETERS.into(), p);
                ir::RawJson::from(normal)
            } else {
                ir::RawJson::no_arguments()
            };
            out.push(ir::Tool {
                name: d.name,
                description: d.description,
                kind: ToolKind::Function {
                    parameters,
                    strict: None,
                },
                cache_control: None,
                extras: parts::extras(fields),
            });
        }
        for (kind, value) in tool.extra {
            let mut fields = Map::new();
            fields.insert(kind.clone(), value);
            fields.insert(GROUP.into(), json!(group));
            out.push(ir::Tool {
                name: kind.clone(),
                description: None,
                kind: ToolKind::Provider { kind },
                cache_control: None,
                extras: parts::extras(fields),
            });
        }
    }
    out
}

/// The declaration of a function tool. The schema is parsed here, the one dialect that reads
/// it: Gemini takes an OpenAPI subset, so a JSON Schema is rewritten unless it came from a
/// Gemini client unchanged.
fn function_declaration(
    tool: &ir::Tool,
    parameters: &ir::RawJson,
) -> Result<wire::FunctionDeclaration, Error> {
    let mut d = wire::FunctionDeclaration {
        name: tool.name.clone(),
        description: tool.description.clone(),
        extra: wire_fields(&tool.extras),
        ..Default::default()
    };
    if mark(&tool.extras, JSON_SCHEMA).is_some() {
        d.parameters_json_schema = Some(json::tool_schema(tool, parameters)?);
        return Ok(d);
    }
    let parameters = json::tool_schema(tool, parameters)?;
    if let Some(raw) = mark(&tool.extras, RAW_PARAMETERS) {
        if schema::normalize_gemini_types(raw) == parameters {
            d.parameters = Some(raw.clone());
            return Ok(d);
        }
    }
    let rewritten = schema::to_gemini(&parameters);
    // A function without arguments is declared without `parameters`: Gemini rejects an object
    // schema whose `properties` is empty.
    let no_args = rewritten.get("properties").is_none()
        && rewritten.get("type").and_then(Value::as_str) == Some("object");
    if !no_args {
        d.parameters = Some(rewritten);
    }
    Ok(d)
}

pub(crate) fn encode_tools(tools: &[ir::Tool]) -> Result<Vec<wire::Tool>, Error> {
    // (group key, tool): explicit groups from a Gemini client, else one shared entry for all
    // functions and one entry per built-in tool, in order of first appearance.
    let mut out: Vec<(Option<u64>, wire::Tool)> = Vec::new();
    let mut shared_functions: Option<usize> = None;
    for tool in tools {
        let group = mark(&tool.extras, GROUP).and_then(Value::as_u64);
        let slot = match (&tool.kind, group) {
            (_, Some(g)) => out.iter().position(|(k, _)| *k == Some(g)),
            (ToolKind::Function { .. }, None) => shared_functions,
            _ => None,
        };
        let index = match slot {
            Some(i) => i,
            None => {
                out.push((group, wire::Tool::default()));
                if group.is_none() && matches!(tool.kind, ToolKind::Function { .. }) {
                    shared_functions = Some(out.len() - 1);
                }
                out.len() - 1
            }
        };
        let entry = &mut out[index].1;
        match &tool.kind {
            ToolKind::Function { parameters, .. } => entry
                .function_declarations
                .get_or_insert_with(Vec::new)
                .push(function_declaration(tool, parameters)?),
            ToolKind::Custom { .. } => {
                return Err(Error::unsupported(
                    format!("custom tool {:?}", tool.name),
                    Dialect::Gemini,
                ))
            }
            ToolKind::Provider { kind } => {
                let Some(fields) = tool.extras.for_dialect(Dialect::Gemini) else {
                    return Err(Error::unsupported(format!("{kind} tool"), Dialect::Gemini));
                };
                for (k, v) in fields {
                    if !k.starts_with(MARK) {
                        entry.extra.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

fn choice_of(fcc: &wire::FunctionCallingConfig) -> ToolChoice {
    let names = fcc.allowed_function_names.as_deref().unwrap_or_default();
    match fcc.mode.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("ANY") if names.len() == 1 => ToolChoice::Tool(names[0].clone()),
        Some("ANY") => ToolChoice::Any,
        Some("NONE") => ToolChoice::None,
        // AUTO, VALIDATED (auto with schema-checked calls), unspecified.
        _ => ToolChoice::Auto,
    }
}

pub(crate) fn decode_tool_config(tc: wire::ToolConfig, notes: &mut Extra) -> Option<ToolChoice> {
    if !tc.extra.is_empty() {
        notes.insert(TOOL_CONFIG.into(), Value::Object(tc.extra));
    }
    let fcc = tc.function_calling_config?;
    let choice = choice_of(&fcc);
    notes.insert(FUNCTION_CALLING.into(), Value::Object(to_map(&fcc)));
    Some(choice)
}

/// `toolConfig` for the IR tool choice. `parallel_tool_calls` has no Gemini equivalent and is
/// dropped (Gemini decides on parallel calls itself).
pub(crate) fn encode_tool_config(req: &ir::Request) -> Option<wire::ToolConfig> {
    let extra = match mark(&req.extras, TOOL_CONFIG) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let fcc = req.tool_choice.as_ref().map(|choice| {
        let raw: Option<wire::FunctionCallingConfig> =
            from_value(mark(&req.extras, FUNCTION_CALLING));
        if let Some(raw) = raw.filter(|r| &choice_of(r) == choice) {
            return raw;
        }
        let (mode, names) = match choice {
            ToolChoice::Auto => ("AUTO", None),
            ToolChoice::Any => ("ANY", None),
            ToolChoice::None => ("NONE", None),
            ToolChoice::Tool(name) => ("ANY", Some(vec![name.clone()])),
        };
        wire::FunctionCallingConfig {
            mode: Some(mode.into()),
            allowed_function_names: names,
            extra: Map::new(),
        }
    });
    if fcc.is_none() && extra.is_empty() {
        return None;
    }
    Some(wire::ToolConfig {
        function_calling_config: fcc,
        extra,
    })
}

/// The response format the `responseMimeType` / `responseSchema` / `responseJsonSchema` trio
/// asks for; `None` for MIME types the IR has no format for (kept verbatim instead).
fn format_of(
    mime: Option<&str>,
    schema: Option<&Value>,
    json: Option<&Value>,
) -> Option<ResponseFormat> {
    match mime {
        Some("application/json") => Some(match (json, schema) {
            (Some(s), _) => ResponseFormat::JsonSchema {
                name: None,
                schema: s.into(),
                strict: None,
            },
            (None, Some(s)) => ResponseFormat::JsonSchema {
                name: None,
                schema: schema::normalize_gemini_types(s).into(),
                strict: None,
            },
            (None, None) => ResponseFormat::JsonObject,
        }),
        Some("text/plain") if schema.is_none() && json.is_none() => Some(ResponseFormat::Text),
        _ => None,
    }
}

fn reasoning_of(tc: &wire::ThinkingConfig) -> Reasoning {
    let mut r = Reasoning {
        include_thoughts: tc.include_thoughts,
        ..Reasoning::default()
    };
    match tc.thinking_budget {
        Some(b) if b < 0 => r.mode = ReasoningMode::Adaptive,
        Some(0) => r.mode = ReasoningMode::Disabled,
        Some(b) => r.budget_tokens = Some(b.unsigned_abs()),
        None => {}
    }
    if let Some(level) = &tc.thinking_level {
        r.effort = Effort::parse(&level.to_ascii_lowercase());
    }
    r
}

pub(crate) fn decode_generation_config(
    gc: wire::GenerationConfig,
    req: &mut ir::Request,
    notes: &mut Extra,
) {
    let s = &mut req.sampling;
    s.temperature = gc.temperature;
    s.top_p = gc.top_p;
    s.top_k = gc
        .top_k
        .as_ref()
        .and_then(|n| n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)));
    s.n = gc.candidate_count;
    s.max_tokens = gc.max_output_tokens;
    s.stop = gc.stop_sequences.unwrap_or_default();
    s.seed = gc.seed;
    s.presence_penalty = gc.presence_penalty;
    s.frequency_penalty = gc.frequency_penalty;

    let mut raw_format = Map::new();
    for (k, v) in [
        (
            "responseMimeType",
            gc.response_mime_type.clone().map(Value::String),
        ),
        ("responseSchema", gc.response_schema.clone()),
        ("responseJsonSchema", gc.response_json_schema.clone()),
    ] {
        if let Some(v) = v {
            raw_format.insert(k.into(), v);
        }
    }
    req.response_format = format_of(
        gc.response_mime_type.as_deref(),
        gc.response_schema.as_ref(),
        gc.response_json_schema.as_ref(),
    );
    if !raw_format.is_empty() {
        notes.insert(RESPONSE_FORMAT.into(), Value::Object(raw_format));
    }
    if let Some(tc) = gc.thinking_config {
        req.reasoning = Some(reasoning_of(&tc));
        notes.insert(THINKING.into(), Value::Object(to_map(&tc)));
    }
    if !gc.extra.is_empty() {
        notes.insert(GENERATION.into(), Value::Object(gc.extra));
    }
}

fn encode_reasoning(req: &ir::Request) -> Option<wire::ThinkingConfig> {
    let r = req.reasoning.as_ref()?;
    let raw: Option<wire::ThinkingConfig> = from_value(mark(&req.extras, THINKING));
    if let Some(raw) = raw.filter(|raw| &reasoning_of(raw) == r) {
        return Some(raw);
    }
    // Effort goes out as a token budget (every thinking Gemini model takes one; only Gemini 3
    // takes `thinkingLevel`, and only low/high).
    let budget = match r.mode {
        ReasoningMode::Disabled => Some(0),
        ReasoningMode::Adaptive => Some(-1),
        ReasoningMode::Enabled => r
            .budget_tokens
            .or(r.effort.map(Effort::budget_tokens))
            .map(|b| i64::try_from(b).unwrap_or(i64::MAX)),
    };
    Some(wire::ThinkingConfig {
        thinking_budget: budget,
        include_thoughts: r.include_thoughts,
        thinking_level: None,
        extra: Map::new(),
    })
}

fn encode_format(req: &ir::Request, gc: &mut wire::GenerationConfig) -> Result<(), Error> {
    let raw = match mark(&req.extras, RESPONSE_FORMAT) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mime = raw.get("responseMimeType").and_then(Value::as_str);
    let raw_format = format_of(
        mime,
        raw.get("responseSchema"),
        raw.get("responseJsonSchema"),
    );
    if !raw.is_empty() && raw_format == req.response_format {
        gc.response_mime_type = mime.map(str::to_string);
        gc.response_schema = raw.get("responseSchema").cloned();
        gc.response_json_schema = raw.get("responseJsonSchema").cloned();
        return Ok(());
    }
    match &req.response_format {
        None => {}
        Some(ResponseFormat::Text) => gc.response_mime_type = Some("text/plain".into()),
        Some(ResponseFormat::JsonObject) => gc.response_mime_type = Some("application/json".into()),
        // `responseJsonSchema` takes full JSON Schema, so no rewriting; the schema's name and
        // strictness have no Gemini field and are dropped.
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            gc.response_mime_type = Some("application/json".into());
            let schema = json::schema_value(schema, || "response_format.schema".into())?;
            gc.response_json_schema = Some(schema);
        }
    }
    Ok(())
}

pub(crate) fn encode_generation_config(
    req: &ir::Request,
    opts: &EncodeOptions,
) -> Result<Option<wire::GenerationConfig>, Error> {
    let s = &req.sampling;
    let mut gc = wire::GenerationConfig {
        temperature: s.temperature,
        top_p: s.top_p,
        top_k: s.top_k.map(Into::into),
        candidate_count: s.n,
        max_output_tokens: opts.max_tokens(req),
        stop_sequences: (!s.stop.is_empty()).then(|| s.stop.clone()),
        seed: s.seed,
        presence_penalty: s.presence_penalty,
        frequency_penalty: s.frequency_penalty,
        thinking_config: encode_reasoning(req),
        extra: match mark(&req.extras, GENERATION) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        },
        ..Default::default()
    };
    encode_format(req, &mut gc)?;
    let empty = to_map(&gc).is_empty();
    Ok((!empty).then_some(gc))
}
