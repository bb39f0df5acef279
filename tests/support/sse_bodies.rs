//! SSE bodies for `FakeProvider` replies: the PROTOCOLS.md §4 transcripts verbatim,
//! and builders for Anthropic and OpenAI streams with text and tool calls.
//!
//! Builders split text and tool arguments over several deltas (at character
//! boundaries) so clients are exercised on reassembly, as real providers do.
//!
//! ```ignore
//! let body = AnthropicSse::new().text("Let me look.").tool_use("toolu_1", "read", json!({"path": "a"})).build();
//! let body = OpenAiSse::new().tool_call("call_1", "bash", json!({"command": "ls"})).usage(12, 5).build();
//! ```
#![allow(dead_code)]

use serde_json::{Value, json};

/// PROTOCOLS.md §4, byte for byte.
pub mod transcripts {
    pub const ANTHROPIC_TEXT: &str = include_str!("transcripts/anthropic_text.sse");
    pub const ANTHROPIC_TOOL_USE: &str = include_str!("transcripts/anthropic_tool_use.sse");
    pub const ANTHROPIC_ERROR: &str = include_str!("transcripts/anthropic_error.sse");
    pub const OPENAI_TEXT: &str = include_str!("transcripts/openai_text.sse");
    pub const OPENAI_TOOL_CALLS: &str = include_str!("transcripts/openai_tool_calls.sse");
}

enum Part {
    Text(String),
    Tool {
        id: String,
        name: String,
        input: Value,
    },
}

/// Cuts `text` into up to three pieces at character boundaries.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let step = chars.len().div_ceil(3).max(1);
    chars.chunks(step).map(|c| c.iter().collect()).collect()
}

/// An Anthropic Messages stream. Stop reason defaults to `tool_use` when a tool is
/// used, else `end_turn`; usage defaults to 10 in, 5 out.
pub struct AnthropicSse {
    parts: Vec<Part>,
    stop_reason: Option<String>,
    usage: (u64, u64),
}

impl Default for AnthropicSse {
    fn default() -> Self {
        AnthropicSse::new()
    }
}

impl AnthropicSse {
    pub fn new() -> AnthropicSse {
        AnthropicSse {
            parts: Vec::new(),
            stop_reason: None,
            usage: (10, 5),
        }
    }

    pub fn text(mut self, text: &str) -> Self {
        self.parts.push(Part::Text(text.to_string()));
        self
    }

    pub fn tool_use(mut self, id: &str, name: &str, input: Value) -> Self {
        self.parts.push(Part::Tool {
            id: id.to_string(),
            name: name.to_string(),
            input,
        });
        self
    }

    pub fn stop_reason(mut self, reason: &str) -> Self {
        self.stop_reason = Some(reason.to_string());
        self
    }

    pub fn usage(mut self, input: u64, output: u64) -> Self {
        self.usage = (input, output);
        self
    }

    pub fn build(&self) -> String {
        let mut out = String::new();
        let mut event = |data: Value| {
            let name = data["type"].as_str().unwrap_or_default().to_string();
            out.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        };
        event(
            json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message",
            "role": "assistant", "model": "fake", "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": self.usage.0, "output_tokens": 1}}}),
        );
        let mut used_tool = false;
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Text(text) => {
                    event(json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "text", "text": ""}}));
                    for piece in pieces(text) {
                        event(json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": piece}}));
                    }
                }
                Part::Tool { id, name, input } => {
                    used_tool = true;
                    event(json!({"type": "content_block_start", "index": index,
                        "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}));
                    for piece in pieces(&input.to_string()) {
                        event(json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece}}));
                    }
                }
            }
            event(json!({"type": "content_block_stop", "index": index}));
        }
        let stop = self
            .stop_reason
            .clone()
            .unwrap_or_else(|| if used_tool { "tool_use" } else { "end_turn" }.to_string());
        event(
            json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": {"output_tokens": self.usage.1}}),
        );
        event(json!({"type": "message_stop"}));
        out
    }
}

/// An OpenAI Chat Completions stream ending in `[DONE]`. Finish reason defaults to
/// `tool_calls` when a tool is called, else `stop`; the usage chunk is sent only
/// when `usage` was set (as with `stream_options.include_usage`).
pub struct OpenAiSse {
    parts: Vec<Part>,
    finish_reason: Option<String>,
    usage: Option<(u64, u64)>,
}

impl Default for OpenAiSse {
    fn default() -> Self {
        OpenAiSse::new()
    }
}

impl OpenAiSse {
    pub fn new() -> OpenAiSse {
        OpenAiSse {
            parts: Vec::new(),
            finish_reason: None,
            usage: None,
        }
    }

    pub fn text(mut self, text: &str) -> Self {
        self.parts.push(Part::Text(text.to_string()));
        self
    }

    pub fn tool_call(mut self, id: &str, name: &str, input: Value) -> Self {
        self.parts.push(Part::Tool {
            id: id.to_string(),
            name: name.to_string(),
            input,
        });
        self
    }

    pub fn finish_reason(mut self, reason: &str) -> Self {
        self.finish_reason = Some(reason.to_string());
        self
    }

    pub fn usage(mut self, prompt: u64, completion: u64) -> Self {
        self.usage = Some((prompt, completion));
        self
    }

    pub fn build(&self) -> String {
        let mut out = String::new();
        let mut chunk = |choices: Value, usage: Value| {
            let data = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "created": 1767225600, "model": "fake", "choices": choices, "usage": usage});
            out.push_str(&format!("data: {data}\n\n"));
        };
        let delta = |delta: Value| json!([{"index": 0, "delta": delta, "finish_reason": null}]);
        chunk(
            delta(json!({"role": "assistant", "content": ""})),
            Value::Null,
        );
        let mut calls = 0;
        for part in &self.parts {
            match part {
                Part::Text(text) => {
                    for piece in pieces(text) {
                        chunk(delta(json!({"content": piece})), Value::Null);
                    }
                }
                Part::Tool { id, name, input } => {
                    chunk(
                        delta(
                            json!({"tool_calls": [{"index": calls, "id": id, "type": "function",
                        "function": {"name": name, "arguments": ""}}]}),
                        ),
                        Value::Null,
                    );
                    for piece in pieces(&input.to_string()) {
                        chunk(
                            delta(json!({"tool_calls": [{"index": calls,
                            "function": {"arguments": piece}}]})),
                            Value::Null,
                        );
                    }
                    calls += 1;
                }
            }
        }
        let finish = self
            .finish_reason
            .clone()
            .unwrap_or_else(|| if calls > 0 { "tool_calls" } else { "stop" }.to_string());
        chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": finish}]),
            Value::Null,
        );
        if let Some((prompt, completion)) = self.usage {
            chunk(
                json!([]),
                json!({"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}),
            );
        }
        out.push_str("data: [DONE]\n\n");
        out
    }
}
