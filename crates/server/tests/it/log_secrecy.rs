//! Process logs on the real binary with `--log-format json --debug`: every line is JSON, each
//! finished request is logged with its request id, and no secret ever appears: not the
//! upstream credentials (file, env or added through the API), not a client key, not the admin
//! token, not a wrong key a client sent.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use serde_json::json;
use switchyard_testkit::{FakeUpstream, Reply, Script};

const ADMIN: &str = "sya-log-secrecy-admin-token";
const FILE_SECRET: &str = "sk-file-secret-1111";
const ENV_SECRET: &str = "sk-env-secret-2222";
const API_SECRET: &str = "sk-api-secret-3333";
const WRONG_KEY: &str = "sy-abcdefabcdef-wrongsecret4444";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_request_ids_and_never_a_secret() {
    let fake = FakeUpstream::start(Script::new().credential(FILE_SECRET, Reply::error(401))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!(
            r#"
[[providers]]
name = "up"
kind = "openai"
base_url = "{}/v1"
credentials = [{{ name = "file", secret = "{FILE_SECRET}" }}, {{ name = "env", secret = "env:SY_LOG_TEST_SECRET" }}]

[[routes]]
model = "*"
targets = [{{ provider = "up" }}]
"#,
            fake.url()
        ),
    )
    .expect("config");
    let mut gw = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--debug",
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .current_dir(dir.path())
        .env("SWITCHYARD_ADMIN_TOKEN", ADMIN)
        .env("SY_LOG_TEST_SECRET", ENV_SECRET)
        .env_remove("SWITCHYARD_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut line = String::new();
    BufReader::new(gw.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    let http = reqwest::Client::new();
    let chat = |key: Option<&str>| {
        let mut req = http
            .post(format!("{url}/v1/chat/completions"))
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        req.send()
    };
    // The file credential is refused upstream (logged as a failure), the env one serves.
    for _ in 0..3 {
        assert_eq!(chat(None).await.expect("chat").status(), 200);
    }
    let added = http
        .post(format!("{url}/api/providers/up/credentials"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "api", "secret": API_SECRET}))
        .send()
        .await
        .expect("add");
    assert_eq!(added.status(), 201);
    let created: serde_json::Value = http
        .post(format!("{url}/api/keys"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "k"}))
        .send()
        .await
        .expect("key")
        .json()
        .await
        .expect("json");
    let client_key = created["key"].as_str().expect("key").to_string();
    assert_eq!(chat(Some(&client_key)).await.expect("chat").status(), 200);
    assert_eq!(chat(Some(WRONG_KEY)).await.expect("chat").status(), 401);
    assert_eq!(chat(Some(ADMIN)).await.expect("chat").status(), 401);

    let killed = Command::new("kill")
        .args(["-TERM", &gw.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let mut logs = String::new();
    gw.stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    assert!(gw.wait().expect("wait").success());

    for secret in [
        FILE_SECRET,
        ENV_SECRET,
        API_SECRET,
        ADMIN,
        WRONG_KEY,
        client_key.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret} is in the log:\n{logs}");
    }
    // The secret part of a key never shows, even its id does.
    let secret_part = client_key.rsplit('-').next().expect("secret part");
    assert!(!logs.contains(secret_part));
    let mut finished = 0;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["fields"]["message"] == "request finished" {
            assert!(
                v["fields"]["request_id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("req_")),
                "{line}"
            );
            finished += 1;
        }
    }
    assert!(
        finished >= 4,
        "every served request is logged: {finished}\n{logs}"
    );
}
