//! JSON Schema rewriting for Gemini, whose function `parameters` take an OpenAPI 3.0 subset
//! rather than full JSON Schema.
//!
//! [`to_gemini`] turns a standard JSON Schema (what the IR holds) into a schema Gemini accepts:
//! references are inlined, unions and nullability are expressed the OpenAPI way, and keywords
//! Gemini rejects are removed (some with a loss of precision, noted at each rewrite).
//! [`normalize_gemini_types`] goes the other way for the one thing that differs on decode:
//! Gemini's upper-case type names. Both are pure functions over `serde_json::Value`; they know
//! nothing of requests or dialects.

use serde_json::{Map, Value};

/// How many `$ref`s deep a schema is inlined before a recursive reference is cut to a plain
/// object (Gemini has no references, so recursion can only be unrolled).
pub const MAX_REF_DEPTH: usize = 8;

/// The schema keywords Gemini's `Schema` object accepts. Everything else is removed: Gemini
/// answers 400 "Unknown name" for keywords it does not know (`additionalProperties`,
/// `$schema`, `propertyNames`, `uniqueItems`, ...).
const KEPT: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "items",
    "minimum",
    "maximum",
];

/// Rewrites a JSON Schema into the subset Gemini's `parameters` accept.
///
/// - `$ref` into `$defs` / `definitions` (or any local JSON pointer) is inlined, sibling
///   keywords winning; recursion deeper than [`MAX_REF_DEPTH`] becomes `{"type":"object"}`.
/// - `allOf` is merged into one schema (properties and `required` united).
/// - `anyOf` / `oneOf` become `anyOf` (oneOf's exclusivity is lost); `{"type":"null"}`
///   branches become `nullable: true`, and a single remaining branch is inlined.
/// - `type: [T, "null"]` becomes `type: T, nullable: true`; several non-null types become an
///   `anyOf` of one branch per type.
/// - `const: v` becomes `enum: [v]`; enum values are stringified and the type set to string
///   (Gemini enums are strings).
/// - `exclusiveMinimum` / `exclusiveMaximum` become `minimum` / `maximum` (the bound becomes
///   inclusive).
/// - `format` is kept only where Gemini accepts it (string: `enum`, `date-time`; number and
///   integer: `int32`, `int64`, `float`, `double`).
/// - `required` names that are not properties are removed; an empty `properties` map is
///   removed while `type: object` stays.
/// - Every other keyword outside [`KEPT`] is removed (`$schema`, `$id`, `$defs`,
///   `definitions`, `additionalProperties`, `patternProperties`, `unevaluatedProperties`,
///   `propertyNames`, `$comment`, `examples`, `default`, ...).
pub fn to_gemini(schema: &Value) -> Value {
    rewrite(schema, schema, 0)
}

fn rewrite(node: &Value, root: &Value, depth: usize) -> Value {
    let Value::Object(obj) = node else {
        // `true` / `false` schemas and garbage: the closest Gemini form is "anything".
        return Value::Object(Map::new());
    };
    let mut obj = obj.clone();

    if let Some(Value::String(reference)) = obj.remove("$ref") {
        if depth >= MAX_REF_DEPTH {
            return plain_object(&obj);
        }
        let Some(target) = resolve(&reference, root) else {
            return plain_object(&obj);
        };
        let mut merged = match target {
            Value::Object(t) => t.clone(),
            _ => Map::new(),
        };
        for (k, v) in obj {
            merged.insert(k, v);
        }
        return rewrite(&Value::Object(merged), root, depth + 1);
    }

    if let Some(Value::Array(parts)) = obj.remove("allOf") {
        obj = merge_all_of(obj, &parts, root, depth);
    }

    if let Some(c) = obj.remove("const") {
        obj.insert("enum".into(), Value::Array(vec![c]));
    }
    for (exclusive, inclusive) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        // Draft 4 used booleans here (the bound itself is in minimum/maximum): just drop them.
        if let Some(bound @ Value::Number(_)) = obj.remove(exclusive) {
            obj.entry(inclusive).or_insert(bound);
        }
    }

    let mut nullable = false;
    rewrite_type_array(&mut obj, &mut nullable);
    rewrite_unions(&mut obj, root, depth, &mut nullable);
    if nullable {
        obj.insert("nullable".into(), Value::Bool(true));
    }

    rewrite_enum(&mut obj);
    rewrite_format(&mut obj);

    if let Some(Value::Object(props)) = obj.remove("properties") {
        let props: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), rewrite(v, root, depth)))
            .collect();
        if !props.is_empty() {
            obj.insert("properties".into(), Value::Object(props));
        }
    }
    filter_required(&mut obj);
    if let Some(items) = obj.remove("items") {
        obj.insert("items".into(), rewrite(&items, root, depth));
    }

    obj.retain(|k, _| KEPT.contains(&k.as_str()));
    Value::Object(obj)
}

/// The cut-off for a reference that cannot be inlined: an object, keeping the description.
fn plain_object(siblings: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), Value::String("object".into()));
    if let Some(d) = siblings.get("description") {
        out.insert("description".into(), d.clone());
    }
    Value::Object(out)
}

/// Resolves a local reference (`#`, `#/$defs/Name`, `#/definitions/Name`, any JSON pointer).
fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    root.pointer(pointer)
}

fn merge_all_of(
    mut base: Map<String, Value>,
    parts: &[Value],
    root: &Value,
    depth: usize,
) -> Map<String, Value> {
    for part in parts {
        // Rewrite first so references inside the branch are resolved before merging.
        let Value::Object(part) = rewrite(part, root, depth) else {
            continue;
        };
        for (k, v) in part {
            match (k.as_str(), base.get_mut(&k), v) {
                ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                    for (name, schema) in more {
                        existing.entry(name).or_insert(schema);
                    }
                }
                ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                    for name in more {
                        if !existing.contains(&name) {
                            existing.push(name);
                        }
                    }
                }
                (_, Some(_), _) => {}
                (_, None, v) => {
                    base.insert(k, v);
                }
            }
        }
    }
    base
}

fn rewrite_type_array(obj: &mut Map<String, Value>, nullable: &mut bool) {
    let Some(Value::Array(types)) = obj.get("type") else {
        return;
    };
    let mut others: Vec<Value> = Vec::new();
    for t in types {
        if t.as_str() == Some("null") {
            *nullable = true;
        } else if !others.contains(t) {
            others.push(t.clone());
        }
    }
    obj.remove("type");
    match others.len() {
        0 => {}
        1 => {
            obj.insert("type".into(), others.remove(0));
        }
        _ => {
            let branches = others
                .into_iter()
                .map(|t| {
                    let mut b = Map::new();
                    b.insert("type".into(), t);
                    Value::Object(b)
                })
                .collect();
            obj.insert("anyOf".into(), Value::Array(branches));
        }
    }
}

fn rewrite_unions(obj: &mut Map<String, Value>, root: &Value, depth: usize, nullable: &mut bool) {
    let mut branches = Vec::new();
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = obj.remove(key) {
            branches.extend(list);
        }
    }
    if branches.is_empty() {
        return;
    }
    let mut kept = Vec::new();
    for b in &branches {
        let b = rewrite(b, root, depth);
        if b.get("type").and_then(Value::as_str) == Some("null") {
            *nullable = true;
            continue;
        }
        if b.get("nullable") == Some(&Value::Bool(true)) {
            *nullable = true;
        }
        kept.push(b);
    }
    if kept.len() == 1 {
        // `anyOf: [X, null]` is just a nullable X: inline it, the outer keywords winning.
        if let Some(Value::Object(single)) = kept.pop() {
            for (k, v) in single {
                obj.entry(k).or_insert(v);
            }
        }
    } else if !kept.is_empty() {
        obj.insert("anyOf".into(), Value::Array(kept));
    }
}

fn rewrite_enum(obj: &mut Map<String, Value>) {
    let Some(Value::Array(values)) = obj.get("enum") else {
        return;
    };
    let mut out = Vec::new();
    let mut had_null = false;
    for v in values {
        match v {
            Value::String(_) => out.push(v.clone()),
            Value::Null => had_null = true,
            other => out.push(Value::String(other.to_string())),
        }
    }
    obj.insert("enum".into(), Value::Array(out));
    obj.insert("type".into(), Value::String("string".into()));
    if had_null {
        obj.insert("nullable".into(), Value::Bool(true));
    }
}

fn rewrite_format(obj: &mut Map<String, Value>) {
    let Some(format) = obj.get("format").and_then(Value::as_str) else {
        obj.remove("format");
        return;
    };
    let accepted = match obj.get("type").and_then(Value::as_str) {
        Some("string") => matches!(format, "enum" | "date-time"),
        Some("number") | Some("integer") => {
            matches!(format, "int32" | "int64" | "float" | "double")
        }
        _ => false,
    };
    if !accepted {
        obj.remove("format");
    }
}

fn filter_required(obj: &mut Map<String, Value>) {
    let Some(Value::Array(required)) = obj.get("required") else {
        obj.remove("required");
        return;
    };
    let kept: Vec<Value> = match obj.get("properties") {
        Some(Value::Object(props)) => required
            .iter()
            .filter(|r| r.as_str().is_some_and(|name| props.contains_key(name)))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    if kept.is_empty() {
        obj.remove("required");
    } else {
        obj.insert("required".into(), Value::Array(kept));
    }
}

/// Lower-cases Gemini's upper-case type names (`OBJECT`, `STRING`, ...) throughout a schema,
/// so the IR holds standard JSON Schema; `TYPE_UNSPECIFIED` is removed. Only schema positions
/// are visited (`properties`, `items`, `anyOf`, ...), never example data or enum values.
pub fn normalize_gemini_types(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in obj {
        let v = match (k.as_str(), v) {
            ("type", Value::String(t)) => {
                if t == "TYPE_UNSPECIFIED" {
                    continue;
                }
                Value::String(t.to_ascii_lowercase())
            }
            ("type", Value::Array(ts)) => Value::Array(
                ts.iter()
                    .map(|t| match t {
                        Value::String(s) => Value::String(s.to_ascii_lowercase()),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            ("properties" | "$defs" | "definitions" | "patternProperties", Value::Object(map)) => {
                Value::Object(
                    map.iter()
                        .map(|(name, s)| (name.clone(), normalize_gemini_types(s)))
                        .collect(),
                )
            }
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(list)) => {
                Value::Array(list.iter().map(normalize_gemini_types).collect())
            }
            ("items" | "additionalProperties" | "not", s) => normalize_gemini_types(s),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ref_into_defs_is_inlined_and_defs_removed() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "home": {"$ref": "#/$defs/Address", "description": "Where they live"},
                "work": {"$ref": "#/definitions/Address"}
            },
            "$defs": {"Address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
            "definitions": {"Address": {"type": "object", "properties": {"zip": {"type": "string"}}}}
        });
        assert_eq!(
            to_gemini(&s),
            json!({
                "type": "object",
                "properties": {
                    "home": {"type": "object", "description": "Where they live",
                             "properties": {"city": {"type": "string"}}, "required": ["city"]},
                    "work": {"type": "object", "properties": {"zip": {"type": "string"}}}
                }
            })
        );
    }

    #[test]
    fn recursive_ref_is_cut_at_the_depth_limit() {
        let s = json!({
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}
        });
        let out = to_gemini(&s);
        let mut node = &out;
        let mut levels = 0;
        while let Some(next) = node.pointer("/properties/children/items") {
            node = next;
            levels += 1;
        }
        assert_eq!(levels, MAX_REF_DEPTH + 1);
        assert_eq!(node, &json!({"type": "object"}));
    }

    #[test]
    fn unknown_ref_becomes_plain_object() {
        let s = json!({"$ref": "https://example.com/schema.json", "description": "d"});
        assert_eq!(to_gemini(&s), json!({"type": "object", "description": "d"}));
    }

    #[test]
    fn any_of_with_null_folds_into_nullable() {
        let s = json!({"anyOf": [{"type": "string"}, {"type": "null"}], "description": "nick"});
        assert_eq!(
            to_gemini(&s),
            json!({"description": "nick", "nullable": true, "type": "string"})
        );
    }

    #[test]
    fn one_of_becomes_any_of() {
        let s = json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]});
        assert_eq!(
            to_gemini(&s),
            json!({"nullable": true, "anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn all_of_is_merged() {
        let s = json!({
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                {"properties": {"b": {"type": "number"}}, "required": ["b", "a"]}
            ]
        });
        assert_eq!(
            to_gemini(&s),
            json!({
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"type": "number"}},
                "required": ["a", "b"]
            })
        );
    }

    #[test]
    fn additional_properties_and_friends_are_removed() {
        let s = json!({
            "type": "object",
            "$id": "urn:x", "$comment": "c", "examples": [{}], "default": {},
            "additionalProperties": false,
            "propertyNames": {"pattern": "^[a-z]+$"},
            "patternProperties": {"^x-": {"type": "string"}},
            "unevaluatedProperties": false,
            "properties": {"q": {"type": "string", "default": "x", "uniqueItems": true}}
        });
        assert_eq!(
            to_gemini(&s),
            json!({"type": "object", "properties": {"q": {"type": "string"}}})
        );
    }

    #[test]
    fn format_is_kept_only_where_gemini_accepts_it() {
        let s = json!({
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time"},
                "mail": {"type": "string", "format": "email"},
                "uri": {"type": "string", "format": "uri"},
                "n": {"type": "integer", "format": "int64"},
                "x": {"type": "number", "format": "double"},
                "bad": {"type": "integer", "format": "date-time"}
            }
        });
        assert_eq!(
            to_gemini(&s),
            json!({
                "type": "object",
                "properties": {
                    "when": {"type": "string", "format": "date-time"},
                    "mail": {"type": "string"},
                    "uri": {"type": "string"},
                    "n": {"type": "integer", "format": "int64"},
                    "x": {"type": "number", "format": "double"},
                    "bad": {"type": "integer"}
                }
            })
        );
    }

    #[test]
    fn const_becomes_single_enum() {
        let s = json!({"type": "string", "const": "celsius"});
        assert_eq!(
            to_gemini(&s),
            json!({"type": "string", "enum": ["celsius"]})
        );
    }

    #[test]
    fn enum_values_are_stringified() {
        let s = json!({"type": "integer", "enum": [1, 2, 3]});
        assert_eq!(
            to_gemini(&s),
            json!({"type": "string", "enum": ["1", "2", "3"]})
        );
        let s = json!({"enum": ["a", null]});
        assert_eq!(
            to_gemini(&s),
            json!({"enum": ["a"], "type": "string", "nullable": true})
        );
    }

    #[test]
    fn nullable_type_array_becomes_nullable() {
        let s = json!({"type": ["string", "null"], "maxLength": 10});
        assert_eq!(
            to_gemini(&s),
            json!({"maxLength": 10, "type": "string", "nullable": true})
        );
        let s = json!({"type": ["string", "integer"]});
        assert_eq!(
            to_gemini(&s),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn exclusive_bounds_become_inclusive() {
        let s = json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100});
        assert_eq!(
            to_gemini(&s),
            json!({"type": "number", "minimum": 0, "maximum": 100})
        );
        // Draft 4 boolean form: the bound is already in minimum.
        let s = json!({"type": "number", "minimum": 1, "exclusiveMinimum": true});
        assert_eq!(to_gemini(&s), json!({"type": "number", "minimum": 1}));
    }

    #[test]
    fn required_names_without_properties_are_removed() {
        let s = json!({
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "required": ["a", "ghost"]
        });
        assert_eq!(
            to_gemini(&s),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]})
        );
    }

    #[test]
    fn object_without_properties_keeps_its_type() {
        let s = json!({"type": "object", "properties": {}, "required": [], "additionalProperties": true});
        assert_eq!(to_gemini(&s), json!({"type": "object"}));
    }

    #[test]
    fn upper_case_types_are_lowered_in_schema_positions_only() {
        let s = json!({
            "type": "OBJECT",
            "properties": {
                "type": {"type": "STRING", "enum": ["OBJECT", "STRING"]},
                "tags": {"type": "ARRAY", "items": {"type": "STRING"}},
                "v": {"anyOf": [{"type": "INTEGER"}, {"type": "NUMBER"}], "example": {"type": "KEEP"}},
                "u": {"type": "TYPE_UNSPECIFIED"}
            }
        });
        assert_eq!(
            normalize_gemini_types(&s),
            json!({
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["OBJECT", "STRING"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "v": {"anyOf": [{"type": "integer"}, {"type": "number"}], "example": {"type": "KEEP"}},
                    "u": {}
                }
            })
        );
    }
}
