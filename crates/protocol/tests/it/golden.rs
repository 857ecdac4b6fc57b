//! Golden translation: every fixture of every dialect translated to every dialect and compared,
//! field by field, with a checked-in expected file under `fixtures/expected/`.
//!
//! Run with `SWITCHYARD_BLESS=1` to (re)write the expected files after a deliberate change,
//! then read the diff: the expected files are the reviewed record of what each translation
//! produces. A translation the target refuses is recorded as `<name>.<target>.err` holding the
//! error text, so refusals are pinned too.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{diff_json, fixture_dir, fixtures, sse_json};
use switchyard_protocol::ir::{check_well_formed, Collector, Usage};
use switchyard_protocol::{translate, Dialect, EncodeOptions};

fn bless() -> bool {
    std::env::var_os("SWITCHYARD_BLESS").is_some()
}

fn expected_path(from: Dialect, kind: &str, name: &str, to: Dialect, ext: &str) -> PathBuf {
    fixture_dir()
        .join("expected")
        .join(from.name())
        .join(kind)
        .join(format!("{name}.{}.{ext}", to.name()))
}

/// Compares `actual` (Ok: translated bytes, Err: error text) with the expected file, or
/// writes it when blessing. Returns a failure description.
fn check(
    from: Dialect,
    kind: &str,
    name: &str,
    to: Dialect,
    actual: Result<Vec<u8>, String>,
    stream: bool,
) -> Option<String> {
    let ext = if stream { "sse" } else { "json" };
    let ok_path = expected_path(from, kind, name, to, ext);
    let err_path = expected_path(from, kind, name, to, "err");
    let label = format!("{}/{kind}/{name} -> {}", from.name(), to.name());
    if bless() {
        std::fs::create_dir_all(ok_path.parent().expect("has parent")).expect("mkdir");
        let _ = std::fs::remove_file(&ok_path);
        let _ = std::fs::remove_file(&err_path);
        match actual {
            Ok(bytes) => {
                let text = if stream {
                    bytes
                } else {
                    let v: Value = serde_json::from_slice(&bytes).expect("encoder emits JSON");
                    let mut s = serde_json::to_vec_pretty(&v).expect("json");
                    s.push(b'\n');
                    s
                };
                std::fs::write(&ok_path, text).expect("write expected");
            }
            Err(e) => std::fs::write(&err_path, format!("{e}\n")).expect("write expected"),
        }
        return None;
    }
    match (actual, ok_path.exists(), err_path.exists()) {
        (Ok(bytes), true, _) => {
            let expected = std::fs::read(&ok_path).expect("read expected");
            let diffs = if stream {
                diff_json(&sse_json(&expected), &sse_json(&bytes))
            } else {
                let e: Value = serde_json::from_slice(&expected).expect("expected is JSON");
                let a: Value = serde_json::from_slice(&bytes).expect("encoder emits JSON");
                diff_json(&e, &a)
            };
            (!diffs.is_empty()).then(|| format!("{label}:\n  {}", diffs.join("\n  ")))
        }
        (Err(e), _, true) => {
            let expected = std::fs::read_to_string(&err_path).expect("read expected");
            (expected.trim() != e.trim())
                .then(|| format!("{label}: error changed: expected {expected:?}, got {e:?}"))
        }
        (Ok(_), false, true) => Some(format!("{label}: expected a refusal, got a translation")),
        (Err(e), true, false) => Some(format!("{label}: expected a translation, got: {e}")),
        (_, false, false) => Some(format!(
            "{label}: no expected file {} (run with SWITCHYARD_BLESS=1 and review)",
            ok_path.display()
        )),
    }
}

fn run_all(kind: &str, f: impl Fn(Dialect, &Path, Dialect) -> Result<Vec<u8>, String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    for from in Dialect::ALL {
        for (name, path) in fixtures(from, kind) {
            for to in Dialect::ALL {
                count += 1;
                let actual = f(from, &path, to);
                if let Some(fail) = check(from, kind, &name, to, actual, kind == "streams") {
                    failures.push(fail);
                }
            }
        }
    }
    assert!(count > 0, "no {kind} fixtures found");
    assert!(
        failures.is_empty(),
        "{} of {count} {kind} translations differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn opts() -> EncodeOptions {
    EncodeOptions::default()
}

#[test]
fn golden_requests() {
    run_all("requests", |from, path, to| {
        let body = std::fs::read(path).expect("read fixture");
        let mut req = from.decode_request(&body).map_err(|e| e.to_string())?;
        if req.model.is_empty() {
            // Gemini carries the model in the URL; the fixtures stand for this one.
            req.model = "gemini-2.5-pro".into();
        }
        to.encode_request(&req, &opts()).map_err(|e| e.to_string())
    });
}

#[test]
fn golden_responses() {
    run_all("responses", |from, path, to| {
        let body = std::fs::read(path).expect("read fixture");
        translate::response(from, to, &body, &opts()).map_err(|e| e.to_string())
    });
}

#[test]
fn golden_streams() {
    run_all("streams", |from, path, to| {
        let body = std::fs::read(path).expect("read fixture");
        translate::stream(from, to, &body, &opts()).map_err(|e| e.to_string())
    });
}

/// Usage as dialect `to` can report it: only Anthropic has a cache-write count (elsewhere
/// those tokens are plain input, so the total is kept), and Anthropic has no reasoning count
/// (its `output_tokens` already include thinking).
fn carried_usage(to: Dialect, u: &Usage) -> Usage {
    let mut u = *u;
    if to == Dialect::Anthropic {
        u.reasoning_tokens = 0;
    } else {
        u.input_tokens += u.cache_write_tokens;
        u.cache_write_tokens = 0;
    }
    u
}

/// Every translated stream re-decodes, in its target dialect, to a well-formed stream whose
/// content and usage equal the source's; and the same response buffered (collected, encoded
/// as a JSON response in the target, decoded again) reports the same usage. Usage is an
/// invariant whatever the pair.
#[test]
fn streamed_and_buffered_agree_for_every_pair() {
    let mut failures = Vec::new();
    for from in Dialect::ALL {
        for (name, path) in fixtures(from, "streams") {
            let body = std::fs::read(&path).expect("read fixture");
            let source = translate::stream_events(from, &body).expect("fixture decodes");
            check_well_formed(&source).expect("decoder output is well formed");
            let failed = source
                .iter()
                .any(|e| matches!(e, switchyard_protocol::ir::StreamEvent::Error(_)));
            let mut c = Collector::new();
            source.iter().for_each(|e| c.push(e));
            let buffered = c.finish();
            for to in Dialect::ALL {
                let label = format!("{}/{name} -> {}", from.name(), to.name());
                let bytes = match translate::stream(from, to, &body, &opts()) {
                    Ok(b) => b,
                    Err(e) => {
                        failures.push(format!("{label}: {e}"));
                        continue;
                    }
                };
                let events = match translate::stream_events(to, &bytes) {
                    Ok(ev) => ev,
                    Err(e) => {
                        failures.push(format!("{label}: re-decode failed: {e}"));
                        continue;
                    }
                };
                if let Err(e) = check_well_formed(&events) {
                    failures.push(format!("{label}: not well formed: {e}"));
                }
                if failed {
                    // A stream that broke mid-way has no final usage to compare; it must
                    // still end in an error event in the target dialect.
                    if !events
                        .iter()
                        .any(|e| matches!(e, switchyard_protocol::ir::StreamEvent::Error(_)))
                    {
                        failures.push(format!("{label}: error event lost"));
                    }
                    continue;
                }
                let mut c = Collector::new();
                events.iter().for_each(|e| c.push(e));
                let streamed = c.finish();
                let carried = carried_usage(to, &buffered.usage);
                if streamed.usage != carried {
                    failures.push(format!(
                        "{label}: streamed usage {:?} != source as {} carries it {carried:?}",
                        streamed.usage,
                        to.name()
                    ));
                }
                if streamed.stop_reason != buffered.stop_reason {
                    failures.push(format!(
                        "{label}: stop reason {:?} != {:?}",
                        streamed.stop_reason, buffered.stop_reason
                    ));
                }
                match to
                    .encode_response(&buffered, &opts())
                    .and_then(|b| to.decode_response(&b))
                {
                    Ok(resp) if resp.usage != streamed.usage => failures.push(format!(
                        "{label}: buffered usage {:?} != streamed {:?}",
                        resp.usage, streamed.usage
                    )),
                    Ok(_) => {}
                    Err(e) => failures.push(format!("{label}: buffered: {e}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
