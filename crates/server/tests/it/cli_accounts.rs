//! `switchyard accounts` and `logs` on the real binary, through the running gateway's admin API
//! and with `--offline` on the store: credentials added at run time are used without a
//! restart, verified, quarantined and activated, removed ones stop being used, bad additions
//! are refused before anything is written, and the offline mode works with the gateway down.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use switchyard_testkit::{FakeUpstream, Reply, Script};

const TOKEN: &str = "sya-cli-accounts-test";

fn switchyard(args: &[&str], dir: &Path, url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_LISTEN")
        .env_remove("SWITCHYARD_DATA_DIR")
        .env("SWITCHYARD_URL", url)
        .env("SWITCHYARD_ADMIN_TOKEN", TOKEN)
        .env("SY_ACCOUNTS_TEST_SECRET", "sk-from-env")
        .output()
        .expect("run switchyard")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
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

/// Asks until the gateway answers `want` (the offline path reloads once a second).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_through_the_api_and_offline() {
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
            .env("SWITCHYARD_ADMIN_TOKEN", TOKEN)
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
    let run = |args: &[&str]| switchyard(args, dir.path(), &url);

    assert_eq!(
        ask(&http, &url).await,
        503,
        "the only credential is refused"
    );

    // Refused before anything is written.
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
            "already exists",
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
        let mut full = vec!["accounts", "add"];
        full.extend_from_slice(args);
        let out = run(&full);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(
            text(&out.stderr).contains(expect),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }

    // Through the API: live as soon as the command returns.
    let out = run(&[
        "accounts",
        "add",
        "--provider",
        "up",
        "--name",
        "runtime",
        "--secret",
        "env:SY_ACCOUNTS_TEST_SECRET",
        "--label",
        "team-a",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("sk-from-env"),
        "the secret is never printed"
    );
    assert_eq!(
        ask(&http, &url).await,
        200,
        "the new credential serves at once"
    );
    assert!(fake.count_for("sk-from-env") >= 1);

    let listed = json(&run(&["accounts", "list", "--json"]));
    let creds = &listed[0]["credentials"];
    assert_eq!(creds[0]["name"], "file");
    assert_eq!(
        creds[0]["state"], "invalid",
        "refused upstream, so marked invalid"
    );
    assert_eq!(
        (creds[1]["name"].as_str(), creds[1]["origin"].as_str()),
        (Some("runtime"), Some("store"))
    );
    let table = run(&["accounts", "list"]);
    assert!(
        text(&table.stdout).contains("STATE"),
        "{}",
        text(&table.stdout)
    );

    let verified = json(&run(&["accounts", "verify", "--provider", "up", "--json"]));
    let results: Vec<(String, bool)> = verified
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["ok"] == true,
            )
        })
        .collect();
    assert_eq!(
        results,
        [("file".to_string(), false), ("runtime".to_string(), true)]
    );

    let out = run(&[
        "accounts",
        "quarantine",
        "--provider",
        "up",
        "runtime",
        "--reason",
        "rotating",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ask(&http, &url).await, 503);
    let out = run(&["accounts", "activate", "--provider", "up", "runtime"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ask(&http, &url).await, 200);

    let exported = json(&run(&["accounts", "export", "--secrets"]));
    assert_eq!(exported["credentials"][0]["secret"], "sk-from-env");
    let masked = json(&run(&["accounts", "export"]));
    assert_eq!(masked["credentials"][0]["secret"], "***");

    let out = run(&["accounts", "remove", "--provider", "up", "file"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("config file"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["accounts", "remove", "--provider", "up", "runtime"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ask(&http, &url).await, 503, "removed: nothing usable again");

    // Import what was exported.
    let export_file = dir.path().join("export.json");
    std::fs::write(&export_file, exported.to_string()).expect("write export");
    let imported = json(&run(&[
        "accounts",
        "import",
        export_file.to_str().expect("path"),
        "--json",
    ]));
    assert_eq!(imported["added"], 1);
    assert_eq!(ask(&http, &url).await, 200);

    // Offline: straight to the store; the running gateway notices within a second.
    let out = run(&[
        "accounts",
        "remove",
        "--offline",
        "--data-dir",
        data,
        "--provider",
        "up",
        "runtime",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(until_status(&http, &url, 503).await, 503);
    let out = run(&[
        "accounts",
        "add",
        "--offline",
        "--data-dir",
        data,
        "--provider",
        "up",
        "--name",
        "offline",
        "--secret",
        "sk-offline",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(until_status(&http, &url, 200).await, 200);
    assert!(fake.count_for("sk-offline") >= 1);

    let logs = json(&run(&["logs", "--limit", "100", "--json"]));
    assert!(!logs.as_array().expect("records").is_empty());
    assert!(logs.to_string().contains("\"provider\":\"up\""), "{logs}");

    let pid = gw.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(gw.0.wait().expect("wait").success());

    // The gateway is down: the API is unreachable, and --offline still works.
    let out = run(&["accounts", "list"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot reach"),
        "{}",
        text(&out.stderr)
    );
    let offline = run(&[
        "accounts",
        "list",
        "--offline",
        "--data-dir",
        data,
        "--json",
    ]);
    let listed = json(&offline);
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["file", "offline"]);
    let logs = json(&run(&["logs", "--offline", "--data-dir", data, "--json"]));
    assert!(logs.as_array().is_some_and(|r| r.len() >= 5), "{logs}");
}
