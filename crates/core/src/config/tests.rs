use std::collections::HashMap;

use super::raw::RawConfig;
use super::*;

/// Secrets from a map instead of the process environment and disk.
#[derive(Default)]
struct FakeSecrets {
    env: HashMap<String, String>,
    files: HashMap<String, String>,
}

impl SecretReader for FakeSecrets {
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn file(&self, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "No such file or directory".to_string())
    }
}

const EXAMPLE: &str = r#"
listen = "127.0.0.1:8672"

[[providers]]
name = "anthropic-main"
kind = "anthropic"
base_url = "https://api.anthropic.com"
credentials = [
  { name = "team-a", secret = "env:ANTHROPIC_KEY_A" },
  { name = "team-b", secret = "file:/run/secrets/anthropic-b", weight = 2 },
]

[[providers]]
name = "local"
kind = "openai"
base_url = "http://127.0.0.1:8000/v1/"
timeouts = { first_byte = "90s", idle = 30 }
credentials = [{ name = "none", secret = "none" }]

[[routes]]
model = "*"
targets = [{ provider = "local" }]

[[routes]]
model = "claude-*"
strategy = "cache-first"
targets = [{ provider = "anthropic-main" }, { provider = "local", model = "qwen2.5-coder" }]
"#;

fn secrets() -> FakeSecrets {
    let mut s = FakeSecrets::default();
    s.env.insert("ANTHROPIC_KEY_A".into(), "sk-ant-a".into());
    s.files
        .insert("/run/secrets/anthropic-b".into(), "sk-ant-b\n".into());
    s
}

fn parse(text: &str) -> RawConfig {
    toml::from_str(text).expect("valid TOML")
}

#[test]
fn the_documented_example_validates() {
    let c = validate(&parse(EXAMPLE), &secrets()).expect("valid");
    assert_eq!(c.listen.to_string(), "127.0.0.1:8672");
    assert_eq!(c.providers.len(), 2);
    let a = &c.providers[0];
    assert_eq!(a.kind, ProviderKind::Anthropic);
    assert_eq!(a.credentials[0].secret.expose(), "sk-ant-a");
    assert_eq!(
        a.credentials[1].secret.expose(),
        "sk-ant-b",
        "file secrets lose the newline"
    );
    assert_eq!(a.credentials[1].weight, 2);
    assert_eq!(
        a.credentials[1].source.describe(),
        "file:/run/secrets/anthropic-b"
    );
    let local = &c.providers[1];
    assert_eq!(local.base_url, "http://127.0.0.1:8000/v1");
    assert_eq!(local.timeouts.first_byte, Duration::from_secs(90));
    assert_eq!(local.timeouts.idle, Duration::from_secs(30));
    assert_eq!(local.timeouts.connect, Timeouts::default().connect);
}

#[test]
fn the_most_specific_route_wins_whatever_the_order() {
    let c = validate(&parse(EXAMPLE), &secrets()).expect("valid");
    let r = c.route("claude-sonnet-4-5").expect("routed");
    assert_eq!(r.pattern.as_str(), "claude-*");
    assert_eq!(r.targets[1].model.as_deref(), Some("qwen2.5-coder"));
    assert_eq!(c.route("llama3").expect("routed").pattern.as_str(), "*");
}

#[test]
fn defaults_apply_to_an_empty_file() {
    let c = validate(&RawConfig::default(), &secrets()).expect("valid");
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
    // Nothing configured: every model is served by the built-in mock.
    let route = c.route("anything").expect("catch-all route");
    assert_eq!(
        c.providers[route.targets[0].provider].kind,
        ProviderKind::Mock
    );
    assert_eq!(c.providers[0].mock, MockConfig::default());
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let text = r#"
listen = "localhost"

[[providers]]
name = "p"
kind = "opneai"

[[providers]]
name = "q"
kind = "anthropic"
base_url = "ftp://x"
timeouts = { total = "soon" }
credentials = [
  { name = "a", secret = "env:MISSING" },
  { name = "a", secret = "file:/nope", weight = 0 },
]

[[routes]]
model = "gpt-*"
strategy = "fastest"
targets = [{ provider = "nobody" }]
"#;
    let errs = validate(&parse(text), &secrets()).expect_err("invalid");
    let got: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let expect = [
        "listen: ",
        "providers[0].kind: unknown kind \"opneai\"",
        "providers[1].base_url: ",
        "providers[1].timeouts.total: ",
        "providers[1].credentials[0].secret: environment variable MISSING is not set",
        "providers[1].credentials[1].name: credential \"a\" is defined twice",
        "providers[1].credentials[1].weight: must be at least 1",
        "providers[1].credentials[1].secret: cannot read /nope",
        "routes[0].strategy: unknown strategy \"fastest\"",
        "routes[0].targets[0].provider: no provider named \"nobody\"",
    ];
    for e in expect {
        assert!(
            got.iter().any(|g| g.starts_with(e)),
            "missing {e:?} in {got:#?}"
        );
    }
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    assert!(
        !got.iter().any(|g| g.contains("sk-")),
        "no secret in errors"
    );
}

#[test]
fn unknown_keys_are_refused_by_the_raw_shape() {
    let err = toml::from_str::<RawConfig>("listen = \"127.0.0.1:1\"\nlisten_port = 3\n")
        .expect_err("unknown key");
    assert!(err.to_string().contains("listen_port"), "{err}");
}

#[test]
fn durations_parse_in_every_documented_form() {
    let d = |s: &str| parse_duration(&RawDuration::Text(s.into()));
    assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(d("30s"), Some(Duration::from_secs(30)));
    assert_eq!(d("5m"), Some(Duration::from_secs(300)));
    assert_eq!(d("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(d("45"), Some(Duration::from_secs(45)));
    assert_eq!(d("soon"), None);
    assert_eq!(d("-1s"), None);
    assert_eq!(
        parse_duration(&RawDuration::Seconds(7)),
        Some(Duration::from_secs(7))
    );
}

#[test]
fn credential_secrets_never_show_in_debug_output() {
    let c = validate(&parse(EXAMPLE), &secrets()).expect("valid");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("sk-ant-a") && !debug.contains("sk-ant-b"),
        "{debug}"
    );
}

#[test]
fn mock_settings_validate() {
    let text = r#"
[[providers]]
name = "m"
kind = "mock"
mock = { mode = "fixed", text = "pong", chunks = 3, first_byte = "200ms", chunk_delay = "5ms" }

[[providers]]
name = "o"
kind = "openai"
credentials = [{ name = "k", secret = "none" }]
mock = { mode = "echo" }

[[routes]]
model = "*"
targets = [{ provider = "m" }]
"#;
    let errs = validate(&parse(text), &secrets()).expect_err("mock settings on openai");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].path, "providers[1].mock");
    let ok = text.replace("mock = { mode = \"echo\" }", "");
    let c = validate(&parse(&ok), &secrets()).expect("valid");
    assert_eq!(
        c.providers[0].mock,
        MockConfig {
            mode: crate::mock::MockMode::Fixed("pong".into()),
            chunks: 3,
            first_byte: Duration::from_millis(200),
            chunk_delay: Duration::from_millis(5),
        }
    );
}

#[test]
fn models_give_limits_and_prices_most_specific_first() {
    let text = r#"
[[providers]]
name = "a"
kind = "anthropic"
credentials = [{ name = "k", secret = "none" }]

[[providers]]
name = "o"
kind = "openai"
credentials = [{ name = "k", secret = "none" }]

[[routes]]
model = "*"
targets = [{ provider = "a" }]

[[models]]
name = "claude-*"
max_output_tokens = 64000
price = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }

[[models]]
name = "claude-*"
provider = "o"
max_output_tokens = 4096

[[models]]
name = "claude-3-5-haiku-*"
max_output_tokens = 8192
price = { input = 0.8, output = 4.0 }
"#;
    let c = validate(&parse(text), &secrets()).expect("valid");
    let haiku = c.model(0, "claude-3-5-haiku-20241022").expect("haiku");
    assert_eq!(haiku.max_output_tokens, Some(8192));
    let price = haiku.price.expect("price");
    assert_eq!(
        price.cache_read, 0.8,
        "cache prices default to the input price"
    );
    let sonnet = c.model(0, "claude-sonnet-4-5").expect("sonnet");
    assert_eq!(sonnet.max_output_tokens, Some(64000));
    assert_eq!(
        c.model(1, "claude-sonnet-4-5")
            .expect("via o")
            .max_output_tokens,
        Some(4096),
        "a provider's own entry wins over an equally specific general one"
    );
    assert!(c.model(0, "gpt-4o").is_none());

    let usage = switchyard_protocol::ir::Usage {
        input_tokens: 1000,
        output_tokens: 500,
        cache_read_tokens: 10_000,
        cache_write_tokens: 2000,
        reasoning_tokens: 100,
    };
    // 1000×3 + 500×15 + 10000×0.3 + 2000×3.75 micro-dollars.
    assert_eq!(sonnet.price.expect("price").cost_micros(&usage), 21_000);
}

#[test]
fn bad_model_entries_are_named() {
    let text = r#"
[[providers]]
name = "a"
kind = "anthropic"
credentials = [{ name = "k", secret = "none" }]

[[routes]]
model = "*"
targets = [{ provider = "a" }]

[[models]]
name = "x"
provider = "nope"

[[models]]
name = "y"
max_output_tokens = 0
price = { input = -1.0, output = 2.0 }
"#;
    let errs = validate(&parse(text), &secrets()).expect_err("invalid");
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "models[0].provider",
            "models[1].max_output_tokens",
            "models[1].price.input",
            "models[1].price.cache_read",
            "models[1].price.cache_write"
        ]
    );
}

#[test]
fn resilience_section_maps_onto_the_mechanisms_with_paths_in_errors() {
    use crate::resilience::QueueConfig;
    let raw = parse(
        r#"
[resilience]
fallback = true
breaker = { consecutive_failures = 3, base_ejection = "2s", slow_calls = { threshold = "20s" } }
aimd = { initial = 8 }
budget = { ratio = 0.5 }
quota = { protect_below = 0.2 }
queue = { mode = "wait", max_wait = "30s", max_depth = 10 }
health = { interval = "1m" }

[[providers]]
name = "up"
kind = "openai"
credentials = [{ name = "a", secret = "k", group = "org-x" }]

[[routes]]
model = "big-*"
strategy = "fixed"
credential = "a"
targets = [{ provider = "up" }]
fallback = ["small"]

[[routes]]
model = "small"
targets = [{ provider = "up" }]
"#,
    );
    let c = validate(&raw, &SystemSecrets).expect("valid");
    assert!(c.fallback);
    assert_eq!(c.resilience.breaker.consecutive_failures, 3);
    assert_eq!(c.resilience.breaker.base_ejection, Duration::from_secs(2));
    assert_eq!(
        c.resilience.breaker.slow_calls.map(|s| s.threshold),
        Some(Duration::from_secs(20))
    );
    assert_eq!(c.resilience.aimd.initial, 8);
    assert_eq!(c.resilience.budget.ratio, 0.5);
    assert_eq!(c.resilience.quota.protect_below, 0.2);
    assert_eq!(
        c.resilience.queue,
        QueueConfig::Wait {
            max_wait: Some(Duration::from_secs(30)),
            max_depth: 10
        }
    );
    assert_eq!(c.health_interval, Some(Duration::from_secs(60)));
    assert_eq!(
        c.providers[0].credentials[0].group.as_deref(),
        Some("org-x")
    );
    let big = c.route("big-1").expect("route");
    assert_eq!(big.credential.as_deref(), Some("a"));
    assert_eq!(c.fallbacks(big), ["small".to_string()]);

    let raw = parse(
        r#"
[resilience]
breaker = { failure_ratio = 2.0, window = "soon" }
queue = { mode = "later" }

[[providers]]
name = "up"
kind = "openai"

[[routes]]
model = "x"
credential = "a"
targets = [{ provider = "up" }]
fallback = ["x", "nothing"]
"#,
    );
    let errors: Vec<String> = validate(&raw, &SystemSecrets)
        .expect_err("invalid")
        .iter()
        .map(ToString::to_string)
        .collect();
    for want in [
        "routes[0].credential",
        "routes[0].fallback[0]: \"x\" is served by this same route",
        "routes[0].fallback[1]: no route serves \"nothing\"",
        "resilience.breaker.window",
        "resilience.queue.mode",
        "resilience.breaker.failure_ratio: must be between 0 and 1",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{want} in {errors:?}"
        );
    }
}

#[test]
fn oauth_credentials_take_a_refresh_token_instead_of_a_secret() {
    let text = r#"
[[providers]]
name = "g"
kind = "gemini"
credentials = [
  { name = "ok", oauth = { token_url = "https://oauth2.example/token", refresh_token = "rt", client_id = "c" } },
  { name = "both", secret = "s", oauth = { token_url = "https://oauth2.example/token", refresh_token = "rt" } },
  { name = "neither" },
  { name = "bad", oauth = { token_url = "ftp://x", refresh_token = "env:SY_UNSET_FOR_OAUTH_TEST" } },
]

[[routes]]
model = "*"
targets = [{ provider = "g" }]
"#;
    let errs = validate(&parse(text), &secrets()).expect_err("invalid");
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "providers[0].credentials[1].secret",
            "providers[0].credentials[2].secret",
            "providers[0].credentials[3].oauth.token_url",
            "providers[0].credentials[3].oauth.refresh_token",
        ]
    );
    let ok = text
        .lines()
        .filter(|l| !l.contains("\"both\"") && !l.contains("\"neither\"") && !l.contains("\"bad\""))
        .collect::<Vec<_>>()
        .join("\n");
    let c = validate(&parse(&ok), &secrets()).expect("valid");
    let oauth = c.providers[0].credentials[0].oauth.as_ref().expect("oauth");
    assert_eq!(oauth.refresh_token.expose(), "rt");
    assert_eq!(oauth.client_id.as_deref(), Some("c"));
}
