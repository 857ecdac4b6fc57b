//! Same-dialect traffic: the client's body forwarded as bytes with only the top-level `model`
//! rewritten (and, for OpenAI streams, usage requested), without parsing it into anything.
//!
//! The scanner walks the top level of the JSON object only, skipping nested values by
//! counting brackets outside strings, so it is linear and allocation-free until it splices.

use bytes::{Bytes, BytesMut};

/// Byte range of the value of top-level key `key` in a JSON object, if present.
pub fn find_top_level_value(body: &[u8], key: &str) -> Option<(usize, usize)> {
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(body, i);
        match body.get(i)? {
            b'}' => return None,
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = skip_string(body, i)?;
        let name = &body[i + 1..key_end - 1];
        i = skip_ws(body, key_end);
        if body.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(body, i + 1);
        let value_end = skip_value(body, i)?;
        if name == key.as_bytes() {
            return Some((i, value_end));
        }
        i = value_end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// `i` at an opening quote; returns the index just past the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(
                b.get(j),
                None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            ) {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// The body with the top-level `model` set to `model`. Unchanged bytes are not copied.
pub fn rewrite_model(body: Bytes, model: &str) -> Bytes {
    let Some((start, end)) = find_top_level_value(&body, "model") else {
        return body;
    };
    let quoted = serde_json::to_string(model).unwrap_or_default();
    if body[start..end] == *quoted.as_bytes() {
        return body;
    }
    splice(&body, start, end, quoted.as_bytes())
}

/// Asks an OpenAI chat upstream for usage in a stream the client did not ask it of: sets
/// `stream_options.include_usage` to true, keeping any other stream options.
pub fn request_stream_usage(body: Bytes) -> Bytes {
    match find_top_level_value(&body, "stream_options") {
        Some((start, end)) => {
            let mut opts: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&body[start..end]).unwrap_or_default();
            opts.insert("include_usage".into(), true.into());
            let text = serde_json::to_vec(&opts).unwrap_or_default();
            splice(&body, start, end, &text)
        }
        None => {
            // Insert right after the opening brace.
            let open = body.iter().position(|&c| c == b'{').unwrap_or(0);
            let mut out = BytesMut::with_capacity(body.len() + 48);
            out.extend_from_slice(&body[..=open]);
            out.extend_from_slice(br#""stream_options":{"include_usage":true},"#);
            out.extend_from_slice(&body[open + 1..]);
            // `{}` would become `{"stream_options":...,}`: not a body any client sends with
            // `stream: true`, but keep the result valid anyway.
            if body[open + 1..]
                .iter()
                .all(|c| c.is_ascii_whitespace() || *c == b'}')
            {
                return Bytes::from_static(br#"{"stream_options":{"include_usage":true}}"#);
            }
            out.freeze()
        }
    }
}

fn splice(body: &[u8], start: usize, end: usize, with: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(body.len() - (end - start) + with.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&body[end..]);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_top_level_keys() {
        let body = br#"{"messages":[{"model":"inner","x":"}"}],"model" : "gpt-4o","n":1}"#;
        let (s, e) = find_top_level_value(body, "model").unwrap();
        assert_eq!(&body[s..e], br#""gpt-4o""#);
        let (s, e) = find_top_level_value(body, "n").unwrap();
        assert_eq!(&body[s..e], b"1");
        assert!(find_top_level_value(body, "x").is_none());
        assert!(find_top_level_value(b"[1]", "model").is_none());
        assert!(find_top_level_value(br#"{"a":"unterminated"#, "model").is_none());
    }

    #[test]
    fn rewrites_the_model_and_nothing_else() {
        let body = Bytes::from_static(br#"{"model":"claude-x","messages":[{"content":"model"}]}"#);
        let out = rewrite_model(body.clone(), "claude-sonnet-4-5");
        assert_eq!(
            &out[..],
            br#"{"model":"claude-sonnet-4-5","messages":[{"content":"model"}]}"#
        );
        let same = rewrite_model(body.clone(), "claude-x");
        assert_eq!(
            same.as_ptr(),
            body.as_ptr(),
            "unchanged bodies are not copied"
        );
        let escaped = rewrite_model(body, "a\"b");
        let v: serde_json::Value = serde_json::from_slice(&escaped).unwrap();
        assert_eq!(v["model"], "a\"b");
    }

    #[test]
    fn stream_usage_is_requested_whatever_the_body_had() {
        let out = request_stream_usage(Bytes::from_static(br#"{"model":"m","stream":true}"#));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["stream_options"]["include_usage"], true);
        assert_eq!(v["model"], "m");
        let out = request_stream_usage(Bytes::from_static(
            br#"{"stream":true,"stream_options":{"include_usage":false,"x":1}}"#,
        ));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v["stream_options"],
            serde_json::json!({"include_usage": true, "x": 1})
        );
    }
}
