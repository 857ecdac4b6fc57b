//! The operator CLI against a real gateway process: the admin token generated on first start
//! (printed once, kept hashed), routes / models / settings changed live, stats and the audit
//! log, the token rotated through the API, and reset with `--offline` while the gateway is
//! down (the next start honours it).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use switchyard_testkit::{FakeUpstream, Script};

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

impl Gateway {
    fn stop(mut self) {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success());
        assert!(self.0.wait().expect("wait").success());
    }
}

/// Starts `serve`; its URL and, on a first start, the admin token it printed.
fn start(dir: &Path) -> (Gateway, String, Option<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", "data"])
        .current_dir(dir)
        .env_remove("SWITCHYARD_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line.trim().rsplit(' ').next().expect("url").to_string();
    // The token line, if any, is printed before listening; stderr is read without blocking
    // on the rest of the log by taking only what is there.
    let mut token = None;
    let stderr = child.stderr.take().expect("stderr");
    let mut reader = BufReader::new(stderr);
    let mut first = String::new();
    if reader.read_line(&mut first).is_ok() && first.contains("admin API token") {
        token = first.trim().rsplit(' ').next().map(str::to_string);
    }
    std::thread::spawn(move || {
        // Keep draining so the gateway never blocks on a full pipe.
        let mut sink = String::new();
        while reader.read_line(&mut sink).unwrap_or(0) > 0 {
            sink.clear();
        }
    });
    (Gateway(child), url, token)
}

fn cli(dir: &Path, url: &str, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .env("SWITCHYARD_URL", url)
        .env("SWITCHYARD_ADMIN_TOKEN", token)
        .output()
        .expect("run")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_models_settings_stats_audit_and_the_admin_token_from_the_cli() {
    let fake = FakeUpstream::start(Script::new()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("switchyard.toml"),
        format!(
            "[[providers]]\nname = \"up\"\nkind = \"openai\"\nbase_url = \"{}/v1\"\ncredentials = [{{ name = \"k\", secret = \"k\" }}]\n\n[[routes]]\nmodel = \"*\"\ntargets = [{{ provider = \"up\" }}]\n",
            fake.url()
        ),
    )
    .expect("config");
    let d = dir.path();
    let (gw, url, token) = start(d);
    let token = token.expect("a first start prints the admin token");
    assert!(token.starts_with("sya-"), "{token}");

    ok(cli(
        d,
        &url,
        &token,
        &[
            "routes",
            "set",
            "--model",
            "special-*",
            "--target",
            "up:upstream-special",
        ],
    ));
    let routes: serde_json::Value =
        serde_json::from_str(&ok(cli(d, &url, &token, &["routes", "list", "--json"])))
            .expect("json");
    assert_eq!(routes[0]["model"], "special-*");
    assert_eq!(routes[0]["origin"], "api");
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "special-9", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("chat")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["model"], "upstream-special", "the route is live");

    ok(cli(
        d,
        &url,
        &token,
        &[
            "models",
            "set",
            "--name",
            "upstream-special",
            "--input",
            "1",
            "--output",
            "2",
            "--max-output-tokens",
            "500",
        ],
    ));
    let table = ok(cli(d, &url, &token, &["models", "list"]));
    assert!(
        table.contains("upstream-special") && table.contains("500"),
        "{table}"
    );
    let out = cli(
        d,
        &url,
        &token,
        &["models", "set", "--name", "x", "--input", "1"],
    );
    assert!(!out.status.success(), "half a price is refused");

    let settings: serde_json::Value =
        serde_json::from_str(&ok(cli(d, &url, &token, &["settings", "get"]))).expect("json");
    assert_eq!(settings["overlay"]["routes"][0]["model"], "special-*");
    ok(cli(
        d,
        &url,
        &token,
        &["settings", "patch", r#"{"models": null}"#],
    ));
    assert!(!ok(cli(d, &url, &token, &["models", "list"])).contains("upstream-special"));
    ok(cli(
        d,
        &url,
        &token,
        &["routes", "delete", "--model", "special-*"],
    ));

    ok(cli(
        d,
        &url,
        &token,
        &["stats", "--window", "1h", "--by", "model", "--json"],
    ));
    let audit: serde_json::Value =
        serde_json::from_str(&ok(cli(d, &url, &token, &["admin", "audit", "--json"])))
            .expect("json");
    let actions: Vec<&str> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["route.delete", "settings.patch", "model.put", "route.put"]
    );

    // Rotated through the API: the old token stops working at once.
    let rotated = ok(cli(d, &url, &token, &["admin", "reset-token", "--json"]));
    let new: serde_json::Value = serde_json::from_str(&rotated).expect("json");
    let new = new["token"].as_str().expect("token").to_string();
    assert!(!cli(d, &url, &token, &["routes", "list"]).status.success());
    ok(cli(d, &url, &new, &["routes", "list"]));
    gw.stop();

    // Lost and the gateway down: reset in the store; the next start honours it, prints none.
    let reset = ok(cli(
        d,
        &url,
        "",
        &[
            "admin",
            "reset-token",
            "--offline",
            "--data-dir",
            "data",
            "--json",
        ],
    ));
    let offline: serde_json::Value = serde_json::from_str(&reset).expect("json");
    let offline = offline["token"].as_str().expect("token").to_string();
    let (gw, url, printed) = start(d);
    assert!(printed.is_none(), "a kept token is never printed again");
    assert!(!cli(d, &url, &new, &["routes", "list"]).status.success());
    ok(cli(d, &url, &offline, &["routes", "list"]));
    gw.stop();
}
