//! Conversion between Responses items (the elements of a request's `input` and a response's
//! `output`) and IR content blocks, shared by the request and response codecs.
//!
//! One wire item becomes one or more blocks: a message item gives one block per content part,
//! every other item exactly one block. The IR merges consecutive items of one side into one
//! message, so how blocks were grouped into items (and each message item's own fields: `id`,
//! `status`, whether `type` was given, string or list content) is recorded as a *layout* in the
//! owner's extras; encoding back to Responses follows it, and without it (IR from another
//! dialect) falls back to one message item per run of content parts. This module knows no
//! top-level request or response fields.
//!
//! Extras keys starting with `$` are the gateway's own notes (flags such as `$refusal`); they
//! are never written to the wire. All other Responses extras are wire fields, re-emitted as is.

mod decode;
mod encode;

pub(crate) use decode::{compact_layout, decode_annotation, decode_item, Side};
pub(crate) use encode::{encode_citation, ItemWriter, Target};

use serde_json::{Map, Value};

use crate::ir::Extras;
use crate::Dialect;

pub(crate) const DIALECT: Dialect = Dialect::Responses;

/// This dialect's extras fields, if the extras are ours.
pub(crate) fn own(extras: &Extras) -> Option<&Map<String, Value>> {
    extras.for_dialect(DIALECT)
}

/// Whether our extras carry the note `key` set to `true`.
pub(crate) fn flag(extras: &Extras, key: &str) -> bool {
    own(extras)
        .and_then(|m| m.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Our extras field `key`, if set.
pub(crate) fn field<'a>(extras: &'a Extras, key: &str) -> Option<&'a Value> {
    own(extras).and_then(|m| m.get(key))
}

/// Copies our wire fields (not `$` notes, not `skip`) into `target`, never overwriting.
pub(crate) fn merge_wire_fields(extras: &Extras, target: &mut Map<String, Value>, skip: &[&str]) {
    if let Some(fields) = own(extras) {
        for (k, v) in fields {
            if k.starts_with('$') || skip.contains(&k.as_str()) {
                continue;
            }
            target.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
}

/// Splits `data:<media type>;base64,<data>`. Other data URLs (parameters, percent-encoding)
/// are not split, so they travel as plain URLs and come back unchanged.
pub(crate) fn parse_data_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("data:")?;
    let (media_type, data) = rest.split_once(";base64,")?;
    if media_type.contains([';', ',']) {
        return None;
    }
    Some((media_type.to_string(), data.to_string()))
}

pub(crate) fn data_url(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// Whether an unknown `type` names a content part (it goes inside a message item) rather than
/// an item of its own. Every content part type the API has defined starts with `input_` or
/// `output_`; items end in `_call`, `_output`, `_reference`, ...
pub(crate) fn is_part_kind(kind: &str) -> bool {
    kind.starts_with("input_") || kind.starts_with("output_") || kind == "refusal"
}

/// Builds extras from wire fields, tagged with this dialect.
pub(crate) fn extras(fields: Map<String, Value>) -> Extras {
    Extras::new(DIALECT, fields)
}
