//! SIGTERM in the middle of 200 concurrent requests, on the real binary with its SQLite store:
//! the process drains and exits 0, and every request that got an answer has its usage record.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_util::future::join_all;
use switchyard_store::{Engine, Store};

const CONFIG: &str = r#"
[[providers]]
name = "mock"
kind = "mock"
mock = { chunks = 10, chunk_delay = "30ms" }

[[routes]]
model = "*"
targets = [{ provider = "mock" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_load_loses_no_usage_record() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("switchyard.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--drain-timeout",
            "20",
            "--config",
        ])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start switchyard");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");

    // Bounded: a client that hangs must fail the counts below, not hang the suite.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let requests = (0..200).map(|i| {
        let http = http.clone();
        let url = url.clone();
        async move {
            // Spread the starts so some are in flight and some arrive after the signal.
            tokio::time::sleep(Duration::from_millis(i as u64 * 2)).await;
            let body = serde_json::json!({
                "model": "any", "stream": i % 2 == 0,
                "messages": [{"role": "user", "content": format!("request {i}")}]
            });
            let resp = http
                .post(format!("{url}/v1/chat/completions"))
                .json(&body)
                .send()
                .await
                .ok()?;
            let status = resp.status();
            let text = resp.text().await.ok()?;
            Some((status, text))
        }
    });
    let pid = child.id().to_string();
    let killer = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(ok.success());
    };
    let (results, ()) = tokio::join!(join_all(requests), killer);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");

    let answered: Vec<_> = results.into_iter().flatten().collect();
    assert!(answered.len() >= 50, "only {} answered", answered.len());
    for (status, text) in &answered {
        assert_eq!(status.as_u16(), 200);
        // Streams finished: nothing was cut by the shutdown.
        if text.starts_with("data:") {
            assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
        }
    }
    let store = Store::open(&format!(
        "sqlite://{}",
        data.join("switchyard.db").display()
    ))
    .await
    .unwrap();
    let recorded = store.usage_count().await.unwrap();
    assert_eq!(
        recorded as usize,
        answered.len(),
        "one record per answered request"
    );
}
