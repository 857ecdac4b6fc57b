//! The operator commands on the real binary: `config check`, `keys create | list | revoke`
//! and `usage`, against a store on disk; a key created while the gateway runs is honoured
//! without a restart.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn switchyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_LISTEN")
        .env_remove("SWITCHYARD_DATA_DIR")
        .output()
        .expect("run switchyard")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn config_check_masks_secrets_and_names_problems_with_their_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchyard.toml"),
        r#"
[[providers]]
name = "up"
kind = "openai"
credentials = [{ name = "a", secret = "sk-very-secret" }, { name = "b", secret = "env:SY_TEST_KEY" }]

[[routes]]
model = "*"
targets = [{ provider = "up" }]
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["config", "check"])
        .current_dir(dir.path())
        .env("SY_TEST_KEY", "sk-from-env")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("env:SY_TEST_KEY") && text.contains("***"),
        "{text}"
    );
    assert!(
        !text.contains("sk-very-secret") && !text.contains("sk-from-env"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("bad.toml"),
        "[[providers]]\nname = \"up\"\nkind = \"opneai\"\n",
    )
    .unwrap();
    let out = switchyard(&["config", "check", "--config", "bad.toml"], dir.path());
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("providers[0].kind") && err.contains("opneai"),
        "{err}"
    );
    assert!(err.contains("bad.toml"), "the source is named: {err}");

    let out = switchyard(&["config", "check", "--listen", "nowhere"], dir.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("listen"), "{}", stderr(&out));
}

#[test]
fn keys_and_usage_against_a_running_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    // No keys yet: the list is empty.
    let out = switchyard(
        &["keys", "list", "--offline", "--data-dir", data, "--json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[]");

    let mut gw = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", data])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(gw.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let http = plain_http::client();
    let ask = |key: Option<&str>| {
        let mut req = http
            .post(format!("{url}/v1/chat/completions"))
            .header("content-type", "application/json")
            .body(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        req.send().unwrap().status().as_u16()
    };
    assert_eq!(ask(None), 200, "open while no key exists");

    let out = switchyard(
        &[
            "keys",
            "create",
            "--offline",
            "--name",
            "ci",
            "--data-dir",
            data,
            "--json",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(key.starts_with(&format!("sy-{id}-")));

    // The running gateway notices the new key (it polls the store's change counter).
    let mut status = 0;
    for _ in 0..50 {
        status = ask(None);
        if status == 401 {
            break;
        }
        pause();
    }
    assert_eq!(
        status, 401,
        "a key now exists: anonymous callers are refused"
    );
    assert_eq!(ask(Some(&key)), 200);

    let out = switchyard(
        &["keys", "revoke", "--offline", &id, "--data-dir", data],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for _ in 0..50 {
        status = ask(Some(&key));
        if status == 401 {
            break;
        }
        pause();
    }
    assert_eq!(status, 401, "a revoked key is refused");
    let out = switchyard(
        &["keys", "list", "--offline", "--data-dir", data],
        dir.path(),
    );
    assert!(stdout(&out).contains("revoked"), "{}", stdout(&out));

    let ok = Command::new("kill")
        .args(["-TERM", &gw.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    assert!(gw.wait().unwrap().success());

    let out = switchyard(
        &["usage", "--data-dir", data, "--by", "key", "--json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let total: u64 = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requests"].as_u64().unwrap())
        .sum();
    // Every request that reached the pipeline: two anonymous, one with the key (refusals at
    // the door are not usage).
    assert!(total >= 2, "{rows}");
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["group"] == id.as_str()),
        "{rows}"
    );
    let table = switchyard(&["usage", "--data-dir", data], dir.path());
    assert!(stdout(&table).contains("REQUESTS"), "{}", stdout(&table));
}

mod plain_http {
    pub fn client() -> BlockingClient {
        BlockingClient
    }

    /// A tiny blocking HTTP/1.1 client over std, so this test needs no async runtime.
    pub struct BlockingClient;

    pub struct Req {
        url: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    pub struct Resp(u16);

    impl Resp {
        pub fn status(&self) -> Status {
            Status(self.0)
        }
    }

    pub struct Status(u16);

    impl Status {
        pub fn as_u16(&self) -> u16 {
            self.0
        }
    }

    impl BlockingClient {
        pub fn post(&self, url: String) -> Req {
            Req {
                url,
                headers: Vec::new(),
                body: String::new(),
            }
        }
    }

    impl Req {
        pub fn header(mut self, k: &str, v: impl Into<String>) -> Req {
            self.headers.push((k.to_string(), v.into()));
            self
        }

        pub fn body(mut self, b: &str) -> Req {
            self.body = b.to_string();
            self
        }

        pub fn send(self) -> std::io::Result<Resp> {
            use std::io::{Read, Write};
            let rest = self.url.trim_start_matches("http://");
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let mut s = std::net::TcpStream::connect(host)?;
            let mut req = format!(
                "POST /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\ncontent-length: {}\r\n",
                self.body.len()
            );
            for (k, v) in &self.headers {
                req.push_str(&format!("{k}: {v}\r\n"));
            }
            req.push_str("\r\n");
            req.push_str(&self.body);
            s.write_all(req.as_bytes())?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            let code = out
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            Ok(Resp(code))
        }
    }
}

/// One step of bounded polling for a change made by another process (no notification crosses
/// the process boundary).
#[allow(clippy::disallowed_methods)] // reason: polling another process, bounded by the callers
fn pause() {
    std::thread::sleep(Duration::from_millis(100));
}
