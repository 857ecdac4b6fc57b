//! Hot reload on the real binary: a route is changed through the file, then through the admin
//! API, each time while 100 streams run; none of them fails or changes mid-answer, new
//! requests follow the new route (within seconds for the file, at once for the API), and an
//! invalid file keeps the last good config serving.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

const ADMIN: &str = "sya-hot-reload-test";

fn config(target: &str) -> String {
    format!(
        r#"
[[providers]]
name = "one"
kind = "mock"
mock = {{ mode = "fixed", text = "from one", chunks = 4, chunk_delay = "150ms" }}

[[providers]]
name = "two"
kind = "mock"
mock = {{ mode = "fixed", text = "from two", chunks = 4, chunk_delay = "150ms" }}

[[routes]]
model = "*"
targets = [{{ provider = "{target}" }}]
"#
    )
}

/// Ends the gateway if the test fails before stopping it.
struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

async fn ask(http: &reqwest::Client, url: &str) -> (u16, String) {
    let resp = http
        .post(format!("{url}/v1/messages"))
        .json(&json!({"model": "m", "max_tokens": 16, "stream": true,
            "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let body = resp.text().await.expect("body");
    // The text deltas, joined.
    let text: String = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|v| {
            v.pointer("/delta/text")
                .and_then(|t| t.as_str())
                .map(String::from)
        })
        .collect();
    (status, text)
}

fn write(path: &Path, text: &str) {
    // Write then rename, as editors do, so the watcher never reads half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write config");
    std::fs::rename(&tmp, path).expect("replace config");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_changed_through_the_file_and_the_api_while_100_streams_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("switchyard.toml");
    write(&file, &config("one"));
    let data = dir.path().join("data");
    let mut gw = Gateway(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .current_dir(dir.path())
            .env("SWITCHYARD_ADMIN_TOKEN", ADMIN)
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

    let running: Vec<_> = (0..100)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move { ask(&http, &url).await })
        })
        .collect();
    // The streams are under way (each takes ~600 ms); change the route under them.
    tokio::time::sleep(Duration::from_millis(150)).await;
    write(&file, &config("two"));
    let mut from_one = 0;
    for task in running {
        let (status, text) = task.await.expect("task");
        assert_eq!(status, 200);
        assert!(
            text == "from one" || text == "from two",
            "one whole answer, never a mix: {text:?}"
        );
        from_one += usize::from(text == "from one");
    }
    assert!(from_one > 0, "the streams overlapped the change");

    let mut text = String::new();
    for _ in 0..50 {
        text = ask(&http, &url).await.1;
        if text == "from two" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text, "from two", "new requests follow the new route");

    // The same through the admin API: the route back to `one` while 100 streams run.
    let running: Vec<_> = (0..100)
        .map(|_| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move { ask(&http, &url).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let put = http
        .put(format!("{url}/api/routes"))
        .bearer_auth(ADMIN)
        .json(&json!({"model": "*", "targets": [{"provider": "one"}]}))
        .send()
        .await
        .expect("put route");
    assert_eq!(put.status(), 200);
    let mut from_two = 0;
    for task in running {
        let (status, text) = task.await.expect("task");
        assert_eq!(status, 200);
        assert!(
            text == "from one" || text == "from two",
            "one whole answer, never a mix: {text:?}"
        );
        from_two += usize::from(text == "from two");
    }
    assert!(from_two > 0, "the streams overlapped the API change");
    assert_eq!(
        ask(&http, &url).await,
        (200, "from one".to_string()),
        "live when the call returned"
    );

    // An invalid file changes nothing and is reported.
    write(
        &file,
        "[[routes]]\nmodel = \"*\"\ntargets = [{ provider = \"nowhere\" }]\n",
    );
    let mut refused = 0.0;
    for _ in 0..50 {
        let metrics = http
            .get(format!("{url}/metrics"))
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("text");
        refused = metrics
            .lines()
            .find_map(|l| l.strip_prefix("switchyard_config_reloads_total{result=\"refused\"} "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        if refused >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refused, 1.0);
    assert_eq!(
        ask(&http, &url).await,
        (200, "from one".to_string()),
        "the last good config (file and API overlay) keeps serving"
    );

    let pid = gw.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(gw.0.wait().expect("wait").success());
}
