//! How the Chat Completions codecs remember the *form* of what a client sent (string or
//! parts content, `max_tokens` or `max_completion_tokens`, `stop` as a string, `developer`
//! rather than `system`, ...) so that a same-dialect round trip gives back the same JSON.
//!
//! Form notes live in the item's `Extras` (tagged `OpenAiChat`) under one reserved key,
//! [`KEY`]; they are never written to the wire: [`merge`] skips them. Decoders add a note only
//! when the default encoding would differ from what was sent, so IR built by hand or by
//! another dialect carries none. This module owns the mechanics, not what any note means.

use serde_json::{Map, Value};

use crate::ir::Extras;
use crate::Dialect;

/// The reserved extras key holding form notes.
pub(crate) const KEY: &str = "_switchyard_form";

/// Extras of this dialect from `fields` (empty map gives empty extras).
pub(crate) fn extras(fields: Map<String, Value>) -> Extras {
    Extras::new(Dialect::OpenAiChat, fields)
}

/// The form note `name` in `extras`, if they are ours and have it.
pub(crate) fn get<'a>(extras: &'a Extras, name: &str) -> Option<&'a Value> {
    extras
        .for_dialect(Dialect::OpenAiChat)?
        .get(KEY)?
        .as_object()?
        .get(name)
}

/// The form note `name` as a string.
pub(crate) fn get_str<'a>(extras: &'a Extras, name: &str) -> Option<&'a str> {
    get(extras, name).and_then(Value::as_str)
}

/// Adds the form note `name` to a field map that will become extras.
pub(crate) fn set(fields: &mut Map<String, Value>, name: &str, value: Value) {
    let entry = fields
        .entry(KEY.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(notes) = entry {
        notes.insert(name.to_string(), value);
    }
}

/// Copies our extras into a wire object's `extra` map without overwriting fields the encoder
/// set, and without the form notes.
pub(crate) fn merge(extras: &Extras, target: &mut Map<String, Value>) {
    if let Some(fields) = extras.for_dialect(Dialect::OpenAiChat) {
        for (k, v) in fields {
            if k != KEY {
                target.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
}

/// The wire fields in `extras` (without form notes), for a wire object's `extra` map.
pub(crate) fn fields(extras: &Extras) -> Map<String, Value> {
    let mut out = Map::new();
    merge(extras, &mut out);
    out
}

/// A data URL `data:<media type>;base64,<data>` split into its media type and data.
pub(crate) fn parse_data_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type.to_string(), data.to_string()))
}

pub(crate) fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// Copies our extras into `target`, overwriting (for objects whose fields the extras restore
/// exactly, such as an error body), without the form notes.
pub(crate) fn merge_over(extras: &Extras, target: &mut Map<String, Value>) {
    if let Some(fields) = extras.for_dialect(Dialect::OpenAiChat) {
        for (k, v) in fields {
            if k != KEY {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}
