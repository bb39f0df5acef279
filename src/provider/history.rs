//! What both wire formats need from Wingman's history before they translate it:
//! a normalized message list, and tool input parsed from model output.
//!
//! Normalizing: empty text blocks are dropped (Anthropic rejects them), messages left
//! without blocks are dropped, consecutive same-role messages are merged, and in a
//! user message the tool results come first (Anthropic requires it; for OpenAI the
//! `tool` messages must directly follow the assistant's `tool_calls`).

use serde_json::{Map, Value};

use crate::types::{Block, Message};

use super::error::quote;

/// Raw tool arguments quoted in a parse error are cut here.
const RAW_QUOTE_LIMIT: usize = 200;

/// `with_tools` is false when the request defines no tools: providers reject tool
/// blocks then (a session continued with a tool-less agent), so earlier calls and
/// results are kept as plain text the model can still read.
pub(crate) fn normalize(messages: &[Message], with_tools: bool) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    for message in messages {
        let blocks = message
            .content
            .iter()
            .filter(|b| !matches!(b, Block::Text { text } if text.is_empty()))
            .map(|b| if with_tools { b.clone() } else { as_text(b) });
        match out.last_mut() {
            Some(last) if last.role == message.role => last.content.extend(blocks),
            _ => out.push(Message {
                role: message.role,
                content: blocks.collect(),
            }),
        }
    }
    out.retain(|m| !m.content.is_empty());
    // Dropping an empty message can leave two of one role side by side: merge again.
    let mut merged: Vec<Message> = Vec::with_capacity(out.len());
    for message in out {
        match merged.last_mut() {
            Some(last) if last.role == message.role => last.content.extend(message.content),
            _ => merged.push(message),
        }
    }
    for message in &mut merged {
        // A stable sort: results keep their order, and so does the rest.
        message
            .content
            .sort_by_key(|b| !matches!(b, Block::ToolResult { .. }));
    }
    merged
}

fn as_text(block: &Block) -> Block {
    match block {
        Block::Text { .. } => block.clone(),
        Block::ToolUse { name, input, .. } => Block::Text {
            text: format!("[called tool {name} with {input}]"),
        },
        Block::ToolResult {
            content, is_error, ..
        } => {
            let kind = if *is_error {
                "tool error"
            } else {
                "tool result"
            };
            Block::Text {
                text: format!("[{kind}: {content}]"),
            }
        }
    }
}

/// A stored tool input as the provider must see it: always a JSON object (a call
/// whose input was broken is stored however the loop chose; send `{}` for it).
pub(crate) fn input_object(input: &Value) -> Value {
    match input {
        Value::Object(_) => input.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// Parses the concatenated argument text of one tool call. Empty means `{}`;
/// anything but a JSON object is an error quoting the raw text.
pub(crate) fn parse_tool_input(raw: &str) -> Result<Value, String> {
    if raw.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(format!(
            "tool input is not a JSON object: {}",
            quote(raw, RAW_QUOTE_LIMIT)
        )),
        Err(e) => Err(format!(
            "tool input is not valid JSON ({e}): {}",
            quote(raw, RAW_QUOTE_LIMIT)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Role;
    use serde_json::json;

    fn text(t: &str) -> Block {
        Block::Text {
            text: t.to_string(),
        }
    }

    fn result(id: &str) -> Block {
        Block::ToolResult {
            tool_use_id: id.to_string(),
            content: "out".to_string(),
            is_error: false,
        }
    }

    #[test]
    fn normalize_merges_drops_and_orders() {
        let msg = |role, content| Message { role, content };
        let history = vec![
            msg(Role::User, vec![text("a")]),
            msg(Role::User, vec![text("b")]),
            msg(Role::Assistant, vec![text("")]),
            msg(Role::User, vec![text("c"), result("t1")]),
            msg(Role::Assistant, vec![text("d"), text("")]),
        ];
        assert_eq!(
            normalize(&history, true),
            vec![
                msg(
                    Role::User,
                    vec![result("t1"), text("a"), text("b"), text("c")]
                ),
                msg(Role::Assistant, vec![text("d")]),
            ]
        );
    }

    #[test]
    fn without_tools_tool_blocks_become_text() {
        let history = vec![
            Message {
                role: Role::Assistant,
                content: vec![Block::ToolUse {
                    id: "t1".into(),
                    name: "bash".into(),
                    input: json!({"command": "ls"}),
                }],
            },
            Message {
                role: Role::User,
                content: vec![result("t1"), text("next")],
            },
        ];
        assert_eq!(
            normalize(&history, false),
            vec![
                Message {
                    role: Role::Assistant,
                    content: vec![text(r#"[called tool bash with {"command":"ls"}]"#)]
                },
                Message {
                    role: Role::User,
                    content: vec![text("[tool result: out]"), text("next")]
                },
            ]
        );
    }

    #[test]
    fn tool_input() {
        assert_eq!(parse_tool_input(""), Ok(json!({})));
        assert_eq!(parse_tool_input(r#"{"a": 1}"#), Ok(json!({"a": 1})));
        assert_eq!(
            parse_tool_input("[1]"),
            Err(r#"tool input is not a JSON object: "[1]""#.to_string())
        );
        assert_eq!(
            parse_tool_input(r#"{"a": "#),
            Err(r#"tool input is not valid JSON (EOF while parsing a value at line 1 column 6): "{\"a\": ""#.to_string())
        );
    }
}
