//! The built-in `mock` provider's answers: a response generated from the request itself, in
//! IR stream events, so the gateway can serve it in any client dialect with no upstream and no
//! network (the quick start, client testing, load tests).
//!
//! Pure: this module decides *what* the mock says; the server decides *when* (first-byte
//! latency, delay between chunks).

use switchyard_protocol::ir::{
    Block, BlockStart, Collector, Delta, Request, Response, Role, StopReason, StreamEvent,
    ToolCallKind, ToolChoice, ToolKind, Usage,
};
use switchyard_protocol::tokens;

/// What the mock answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MockMode {
    /// Repeats the last user message's text (or the tool results it carries).
    #[default]
    Echo,
    /// Always the same text.
    Fixed(String),
    /// `words` words of lorem ipsum.
    Lorem { words: usize },
}

const LOREM: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
];

/// The mock's answer to `req` as a well-formed stream of events, text split into `chunks`
/// deltas. When the request forces a tool call (`tool_choice` any or a named tool), the answer
/// is a call to that tool with empty arguments, so tool-calling clients can be exercised.
pub fn respond(req: &Request, mode: &MockMode, chunks: usize, id: &str) -> Vec<StreamEvent> {
    let input = Usage {
        input_tokens: tokens::estimate_request(req),
        ..Usage::default()
    };
    let model = if req.model.is_empty() {
        "mock"
    } else {
        &req.model
    };
    let mut events = vec![StreamEvent::MessageStart {
        id: id.to_string(),
        model: model.to_string(),
        usage: input,
    }];
    let forced_tool = match &req.tool_choice {
        Some(ToolChoice::Tool(name)) => Some(name.clone()),
        Some(ToolChoice::Any) => req
            .tools
            .iter()
            .find(|t| matches!(t.kind, ToolKind::Function { .. }))
            .map(|t| t.name.clone()),
        _ => None,
    };
    let (stop, output_tokens) = match forced_tool {
        Some(name) => {
            events.push(StreamEvent::BlockStart {
                index: 0,
                block: BlockStart::ToolUse {
                    id: format!("toolu_mock_{id}"),
                    name,
                    kind: ToolCallKind::Function,
                    signature: None,
                },
            });
            events.push(StreamEvent::BlockDelta {
                index: 0,
                delta: Delta::ToolInput("{}".into()),
            });
            events.push(StreamEvent::BlockStop { index: 0 });
            (StopReason::ToolUse, 1)
        }
        None => {
            let text = answer_text(req, mode);
            events.push(StreamEvent::BlockStart {
                index: 0,
                block: BlockStart::Text,
            });
            for piece in split(&text, chunks.max(1)) {
                events.push(StreamEvent::BlockDelta {
                    index: 0,
                    delta: Delta::Text(piece),
                });
            }
            events.push(StreamEvent::BlockStop { index: 0 });
            let tokenizer = tokens::tokenizer_for(&req.model);
            (
                StopReason::EndTurn,
                tokens::estimate_text(&text, tokenizer).max(1),
            )
        }
    };
    events.push(StreamEvent::MessageDelta {
        stop_reason: Some(stop),
        stop_sequence: None,
        usage: Usage {
            output_tokens,
            ..input
        },
    });
    events.push(StreamEvent::MessageStop);
    events
}

/// The same answer as one response.
pub fn respond_buffered(req: &Request, mode: &MockMode, id: &str) -> Response {
    let mut c = Collector::new();
    for ev in respond(req, mode, 1, id) {
        c.push(&ev);
    }
    c.finish()
}

fn answer_text(req: &Request, mode: &MockMode) -> String {
    match mode {
        MockMode::Fixed(text) => text.clone(),
        MockMode::Lorem { words } => (0..*words)
            .map(|i| LOREM[i % LOREM.len()])
            .collect::<Vec<_>>()
            .join(" "),
        MockMode::Echo => {
            let last_user = req.messages.iter().rev().find(|m| m.role == Role::User);
            let mut parts = Vec::new();
            for block in last_user.map(|m| m.content.as_slice()).unwrap_or_default() {
                match block {
                    Block::Text(t) if !t.text.is_empty() => parts.push(t.text.clone()),
                    Block::ToolResult(r) => parts.push(format!("tool result: {}", r.text())),
                    _ => {}
                }
            }
            if parts.is_empty() {
                "ok".to_string()
            } else {
                parts.join("\n")
            }
        }
    }
}

/// Splits `text` into at most `n` pieces on character boundaries, none empty.
fn split(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let n = n.min(chars.len());
    let size = chars.len().div_ceil(n);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_protocol::ir::{check_well_formed, Message, Tool};

    fn request(text: &str) -> Request {
        Request {
            model: "mock-1".into(),
            messages: vec![Message::new(Role::User, vec![Block::text(text)])],
            ..Request::default()
        }
    }

    #[test]
    fn echo_streams_the_question_back_in_chunks() {
        let events = respond(&request("héllo there"), &MockMode::Echo, 4, "m1");
        check_well_formed(&events).unwrap();
        let deltas = events
            .iter()
            .filter(|e| matches!(e, StreamEvent::BlockDelta { .. }))
            .count();
        assert_eq!(deltas, 4);
        let resp = respond_buffered(&request("héllo there"), &MockMode::Echo, "m1");
        assert_eq!(resp.content, vec![Block::text("héllo there")]);
        assert_eq!(resp.stop_reason, Some(StopReason::EndTurn));
        assert!(resp.usage.input_tokens > 0 && resp.usage.output_tokens > 0);
    }

    #[test]
    fn fixed_and_lorem_answers() {
        let r = respond_buffered(&request("x"), &MockMode::Fixed("pong".into()), "m");
        assert_eq!(r.content, vec![Block::text("pong")]);
        let r = respond_buffered(&request("x"), &MockMode::Lorem { words: 3 }, "m");
        assert_eq!(r.content, vec![Block::text("lorem ipsum dolor")]);
    }

    #[test]
    fn a_forced_tool_choice_gets_a_tool_call() {
        let mut req = request("weather?");
        req.tools = vec![Tool {
            name: "get_weather".into(),
            description: None,
            kind: ToolKind::Function {
                parameters: serde_json::json!({"type": "object"}).into(),
                strict: None,
            },
            cache_control: None,
            extras: Default::default(),
        }];
        req.tool_choice = Some(ToolChoice::Any);
        let events = respond(&req, &MockMode::Echo, 3, "m2");
        check_well_formed(&events).unwrap();
        let resp = respond_buffered(&req, &MockMode::Echo, "m2");
        assert_eq!(resp.stop_reason, Some(StopReason::ToolUse));
        assert!(resp.has_tool_use());
    }

    #[test]
    fn split_never_yields_empty_pieces() {
        assert_eq!(split("abc", 10), vec!["a", "b", "c"]);
        assert_eq!(split("abcdef", 2), vec!["abc", "def"]);
        assert!(split("", 3).is_empty());
    }
}
