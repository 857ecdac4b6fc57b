//! Helpers shared by the protocol crate's integration tests: fixture discovery, SSE bodies as
//! JSON for comparison, and a field-by-field JSON diff that names paths.

use std::path::{Path, PathBuf};

use serde_json::Value;
use switchyard_protocol::{sse, Dialect};

pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `(name, path)` of every fixture of `kind` (`requests`, `responses`, `streams`, `errors`)
/// for `dialect`, sorted by name.
pub fn fixtures(dialect: Dialect, kind: &str) -> Vec<(String, PathBuf)> {
    let dir = fixture_dir().join(dialect.name()).join(kind);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    out
}

/// An SSE body as a JSON array of `{event, data}` (data parsed as JSON when it is JSON),
/// comments left out, so two streams compare field by field.
pub fn sse_json(body: &[u8]) -> Value {
    let mut frames = Vec::new();
    for item in sse::parse_all(body) {
        if let sse::Item::Frame(f) = item {
            let data = serde_json::from_str(&f.data).unwrap_or(Value::String(f.data));
            frames.push(serde_json::json!({ "event": f.event, "data": data }));
        }
    }
    Value::Array(frames)
}

/// Differences between two JSON values, one line per differing path.
pub fn diff_json(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("$", expected, actual, &mut out);
    out
}

fn diff_at(path: &str, e: &Value, a: &Value, out: &mut Vec<String>) {
    match (e, a) {
        (Value::Object(em), Value::Object(am)) => {
            for (k, ev) in em {
                match am.get(k) {
                    Some(av) => diff_at(&format!("{path}.{k}"), ev, av, out),
                    None => out.push(format!("{path}.{k}: missing (expected {ev})")),
                }
            }
            for (k, av) in am {
                if !em.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {av}"));
                }
            }
        }
        (Value::Array(ea), Value::Array(aa)) => {
            if ea.len() != aa.len() {
                out.push(format!(
                    "{path}: length {} != expected {}",
                    aa.len(),
                    ea.len()
                ));
            }
            for (i, (ev, av)) in ea.iter().zip(aa).enumerate() {
                diff_at(&format!("{path}[{i}]"), ev, av, out);
            }
        }
        _ if e != a => out.push(format!("{path}: {a} != expected {e}")),
        _ => {}
    }
}
