//! `switchyard accounts` on the real binary: a credential added while the gateway runs is
//! used without a restart, a removed one stops being used, and bad additions are refused
//! before anything is written.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use std::io::{BufRead, BufReader};
use switchyard_testkit::{FakeUpstream, Reply, Script};

fn switchyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_LISTEN")
        .env_remove("SWITCHYARD_DATA_DIR")
        .env("SY_ACCOUNTS_TEST_SECRET", "sk-from-env")
        .output()
        .expect("run switchyard")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn ask(http: &reqwest::Client, url: &str) -> u16 {
    http.post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// Asks until the gateway answers `want` (it reloads the store once a second).
async fn until_status(http: &reqwest::Client, url: &str, want: u16) -> u16 {
    let mut got = 0;
    for _ in 0..60 {
        got = ask(http, url).await;
        if got == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_added_and_removed_at_run_time_apply_without_restart() {
    // The file's credential is refused upstream; only a runtime one can serve.
    let fake = FakeUpstream::start(Script::new().credential("sk-file", Reply::error(401))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!(
            r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "file", secret = "sk-file" }}]

[[providers]]
name = "mock"
kind = "mock"

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#,
            fake.url()
        ),
    )
    .expect("write config");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");

    let mut gw = Gateway(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the gateway"),
    );
    let mut line = String::new();
    BufReader::new(gw.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    let http = reqwest::Client::new();

    assert_eq!(
        ask(&http, &url).await,
        503,
        "the only credential is refused"
    );

    // Refused before anything is written: unknown provider, a mock, a name the file uses,
    // an unset variable.
    for (args, expect) in [
        (
            &["--provider", "nope", "--name", "x", "--secret", "s"][..],
            "no provider",
        ),
        (
            &["--provider", "mock", "--name", "x", "--secret", "s"],
            "mock",
        ),
        (
            &["--provider", "up", "--name", "file", "--secret", "s"],
            "config file",
        ),
        (
            &[
                "--provider",
                "up",
                "--name",
                "x",
                "--secret",
                "env:SY_UNSET_FOR_TEST",
            ],
            "not set",
        ),
    ] {
        let mut full = vec!["accounts", "add", "--data-dir", data];
        full.extend_from_slice(args);
        let out = switchyard(&full, dir.path());
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            text(&out.stderr).contains(expect),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }

    let out = switchyard(
        &[
            "accounts",
            "add",
            "--data-dir",
            data,
            "--provider",
            "up",
            "--name",
            "runtime",
            "--secret",
            "env:SY_ACCOUNTS_TEST_SECRET",
            "--label",
            "team-a",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("sk-from-env"),
        "the secret is never printed"
    );

    assert_eq!(
        until_status(&http, &url, 200).await,
        200,
        "the new credential serves"
    );
    assert!(fake.count_for("sk-from-env") >= 1);

    let out = switchyard(
        &["accounts", "list", "--data-dir", data, "--json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let origins: Vec<(&str, &str)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or(""),
                r["origin"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(origins, [("file", "config"), ("runtime", "store")]);
    assert!(
        !text(&out.stdout).contains("sk-"),
        "no secret in the listing"
    );

    let out = switchyard(
        &[
            "accounts",
            "remove",
            "--data-dir",
            data,
            "--provider",
            "up",
            "file",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("config file"),
        "{}",
        text(&out.stderr)
    );

    let out = switchyard(
        &[
            "accounts",
            "remove",
            "--data-dir",
            data,
            "--provider",
            "up",
            "runtime",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        until_status(&http, &url, 503).await,
        503,
        "removed: nothing usable again"
    );

    let pid = gw.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(gw.0.wait().expect("wait").success());
}

/// Ends the gateway process if the test fails before stopping it.
struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
