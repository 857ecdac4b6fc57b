//! The audit log of operator actions: who did what to which object, from where, and the
//! object before and after, as JSON text with its secrets masked. It owns the entry and
//! filter types and the masking of secret fields; it must not write anything (the store does)
//! nor decide which actions are audited (the admin API and the CLI do, one entry per change).

use serde_json::Value;

/// The most entries one page of the audit log holds, whatever the filter asks.
pub const MAX_PAGE: u32 = 1_000;

/// The page size of [`AuditFilter::default`].
pub const DEFAULT_PAGE: u32 = 100;

/// What replaces a secret value in an entry's JSON.
pub const MASK: &str = "***";

/// One operator action.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Assigned by the store, increasing with insertion order; 0 on insert.
    pub id: i64,
    /// Unix milliseconds when the action happened.
    pub at_ms: i64,
    /// Who acted: `admin-token`, `cli-offline`, later an operator's name.
    pub actor: String,
    /// Dotted, object first: `credential.add`, `key.revoke`, `setting.put`.
    pub action: String,
    /// What was acted on: `anthropic-main/team-c`, a key id, a setting name.
    pub target: String,
    /// The client IP, or `local` for the CLI.
    pub address: String,
    /// The object before the action as JSON text (secrets masked by the caller, see
    /// [`masked_json`]); none when it was created.
    pub before: Option<String>,
    /// The object after; none when it was deleted.
    pub after: Option<String>,
}

/// Which entries `Engine::list_audit` returns: every field set must match (AND). Newest
/// (highest id) first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Actions starting with this text, case-sensitively (`credential.` for every credential
    /// action).
    pub action_prefix: Option<String>,
    /// Exactly this target.
    pub target: Option<String>,
    /// Unix milliseconds, inclusive: `at_ms >= since_ms`.
    pub since_ms: Option<i64>,
    /// Unix milliseconds, exclusive: `at_ms < until_ms`.
    pub until_ms: Option<i64>,
    /// Page size, capped at [`MAX_PAGE`]; 0 gives an empty page.
    pub limit: u32,
    /// Only entries with a smaller id: the last id of the previous page.
    pub before_id: Option<i64>,
}

impl Default for AuditFilter {
    /// Everything, one page of [`DEFAULT_PAGE`].
    fn default() -> Self {
        Self {
            action_prefix: None,
            target: None,
            since_ms: None,
            until_ms: None,
            limit: DEFAULT_PAGE,
            before_id: None,
        }
    }
}

impl AuditFilter {
    /// The limit actually applied: `limit` capped at [`MAX_PAGE`].
    pub fn page_size(&self) -> u32 {
        self.limit.min(MAX_PAGE)
    }
}

/// Whether an object field of this name holds a secret: `secret`, `api_key`, `token`,
/// `password`, `key` (and `apikey`), or a name ending in `_secret`, `_token`, `_password`,
/// `_key` (`refresh_token`, `admin_key`), compared ASCII-case-insensitively with `-` read as
/// `_`. Broad on purpose: an audit entry that hides a harmless field costs little, one that
/// shows a key costs the key.
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    const EXACT: [&str; 6] = ["secret", "api_key", "apikey", "token", "password", "key"];
    const SUFFIXES: [&str; 4] = ["_secret", "_token", "_password", "_key"];
    EXACT.contains(&name.as_str()) || SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Replaces, at any depth, the value of every object field named as a secret (see
/// [`is_secret_field`]) with [`MASK`], whatever its type. A `null` stays `null`: it says
/// there is no secret, which reveals nothing.
pub fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields.iter_mut() {
                if is_secret_field(name) {
                    if !field.is_null() {
                        *field = Value::String(MASK.to_string());
                    }
                } else {
                    mask_secrets(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// `value` with its secrets masked, as compact JSON text: what goes into
/// [`AuditEntry::before`] and [`AuditEntry::after`].
pub fn masked_json(value: &Value) -> String {
    let mut copy = value.clone();
    mask_secrets(&mut copy);
    copy.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_secret_fields_at_any_depth() {
        let mut v = json!({
            "provider": "anthropic",
            "name": "main",
            "secret": "sk-ant-123",
            "weight": 2,
            "labels": ["team:c"],
            "nested": {"api_key": "k", "Password": 1234, "deeper": [{"token": {"a": "b"}}]},
            "list": [{"key": "x", "key_id": "public"}, "plain", 5],
            "refresh-token": "r",
            "proxy": {"url": "http://p", "admin_key": ["a"]},
            "none": {"secret": null},
        });
        mask_secrets(&mut v);
        assert_eq!(
            v,
            json!({
                "provider": "anthropic",
                "name": "main",
                "secret": "***",
                "weight": 2,
                "labels": ["team:c"],
                "nested": {"api_key": "***", "Password": "***", "deeper": [{"token": "***"}]},
                "list": [{"key": "***", "key_id": "public"}, "plain", 5],
                "refresh-token": "***",
                "proxy": {"url": "http://p", "admin_key": "***"},
                "none": {"secret": null},
            })
        );
    }

    #[test]
    fn field_names_that_only_look_alike_stay() {
        for name in [
            "key_id",
            "max_tokens",
            "input_tokens",
            "secret_hash",
            "keys",
            "monkey",
            "tokenizer",
        ] {
            assert!(!is_secret_field(name), "{name}");
        }
        for name in ["SECRET", "Api-Key", "apiKey", "access_token", "db_password"] {
            assert!(is_secret_field(name), "{name}");
        }
    }

    #[test]
    fn scalars_and_arrays_without_objects_are_untouched() {
        for v in [
            json!("secret"),
            json!(["token", "key"]),
            json!(null),
            json!(7),
        ] {
            let mut masked = v.clone();
            mask_secrets(&mut masked);
            assert_eq!(masked, v);
        }
    }

    #[test]
    fn masked_json_leaves_the_input_alone() {
        let v = json!({"name": "main", "secret": "sk-1"});
        assert_eq!(masked_json(&v), r#"{"name":"main","secret":"***"}"#);
        assert_eq!(v["secret"], "sk-1");
    }

    #[test]
    fn filters_default_to_one_capped_page() {
        assert_eq!(AuditFilter::default().page_size(), DEFAULT_PAGE);
        let huge = AuditFilter {
            limit: u32::MAX,
            ..AuditFilter::default()
        };
        assert_eq!(huge.page_size(), MAX_PAGE);
    }
}
