//! The `switchyard` binary as a user runs it: `--version` and `translate`, through a real
//! process with stdin and stdout.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn switchyard(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn switchyard");
    // A command that refuses its arguments may exit before reading stdin: its pipe closing
    // early is part of that answer, not a test failure.
    match child.stdin.take().expect("stdin").write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("write stdin"),
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(rel: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../protocol/tests/fixtures")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn version_prints_the_package_version() {
    let (ok, out, _) = switchyard(&["--version"], b"");
    assert!(ok);
    assert_eq!(
        out.trim(),
        format!("switchyard {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn translates_an_anthropic_request_to_openai() {
    let (ok, out, err) = switchyard(
        &["translate", "--from", "anthropic", "--to", "openai"],
        &fixture("anthropic/requests/tools.json"),
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON out");
    assert!(v["messages"].is_array());
    assert_eq!(v["tools"][0]["type"], "function");
}

#[test]
fn translates_a_stream_and_prints_ir() {
    let body = fixture("openai/streams/text.sse");
    let (ok, out, err) = switchyard(
        &[
            "translate",
            "--from",
            "openai",
            "--to",
            "anthropic",
            "--stream",
        ],
        &body,
    );
    assert!(ok, "{err}");
    assert!(out.contains("event: message_start"), "{out}");
    assert!(out.contains("event: message_stop"), "{out}");

    let (ok, out, err) = switchyard(
        &["translate", "--from", "openai", "--to", "ir", "--stream"],
        &body,
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("MessageStart"), "{out}");
}

#[test]
fn bad_input_fails_with_the_field_path() {
    let (ok, _, err) = switchyard(
        &["translate", "--from", "anthropic", "--to", "gemini"],
        br#"{"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": 7}]}"#,
    );
    assert!(!ok);
    assert!(err.contains("messages[0].content"), "{err}");

    let (ok, _, err) = switchyard(&["translate", "--from", "klingon", "--to", "ir"], b"{}");
    assert!(!ok);
    assert!(err.contains("unknown dialect"), "{err}");
}
