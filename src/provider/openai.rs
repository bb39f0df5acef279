//! OpenAI Chat Completions and the compatible family (OpenRouter, Groq, Ollama, …):
//! the request body, and a decoder from its `data:` chunks to `ProviderEvent`s
//! (PROTOCOLS.md §2–3).
//!
//! Text deltas pass straight through. Tool calls arrive as fragments keyed by
//! `index` (Ollama sends each whole): they are assembled and emitted when the
//! choice's `finish_reason` (or, failing that, `[DONE]`) arrives. Usage comes from
//! the `include_usage` chunk. Only `data: [DONE]` finishes the stream.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::types::{Block, Role, StopReason, Usage};

use super::error::{ErrorObject, Failure, stream_failure};
use super::history::{input_object, normalize, parse_tool_input};
use super::sse::Frame;
use super::{ChatRequest, ErrorKind, Progress, ProviderEvent, ToolCall};

/// `provider` is the catalog name: OpenAI's own API rejects `max_tokens` for newer
/// models, while many compatible servers know only `max_tokens`.
pub(crate) fn request_body(provider: &str, request: &ChatRequest<'_>) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    let max_key = if provider == "openai" {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    body.insert(max_key.into(), json!(request.max_tokens));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema}})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let mut messages = Vec::new();
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in normalize(request.messages, !request.tools.is_empty()) {
        let mut texts = Vec::new();
        let mut calls = Vec::new();
        for block in &message.content {
            match block {
                Block::Text { text } => texts.push(text.as_str()),
                Block::ToolUse { id, name, input } => calls.push(json!({
                    "id": id, "type": "function",
                    "function": {"name": name, "arguments": input_object(input).to_string()}})),
                // No is_error flag in this protocol: the content says what failed.
                Block::ToolResult {
                    tool_use_id,
                    content,
                    ..
                } => messages
                    .push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": content})),
            }
        }
        let text = texts.join("\n\n");
        match message.role {
            Role::User if !text.is_empty() => {
                messages.push(json!({"role": "user", "content": text}))
            }
            Role::User => {}
            Role::Assistant if calls.is_empty() => {
                messages.push(json!({"role": "assistant", "content": text}));
            }
            Role::Assistant => {
                let content = if text.is_empty() {
                    Value::Null
                } else {
                    json!(text)
                };
                messages
                    .push(json!({"role": "assistant", "content": content, "tool_calls": calls}));
            }
        }
    }
    body.insert("messages".into(), Value::Array(messages));
    Value::Object(body)
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    delta: Option<ChunkDelta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChunkDelta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<u64>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

#[derive(Default)]
struct PendingTool {
    id: String,
    name: String,
    arguments: String,
}

pub(crate) struct Decoder {
    provider: String,
    tools: BTreeMap<u64, PendingTool>,
    called: bool,
    finish_reason: Option<String>,
}

impl Decoder {
    pub fn new(provider: &str) -> Decoder {
        Decoder {
            provider: provider.to_string(),
            tools: BTreeMap::new(),
            called: false,
            finish_reason: None,
        }
    }

    pub fn frame(
        &mut self,
        frame: &Frame,
        out: &mut Vec<ProviderEvent>,
    ) -> Result<Progress, Failure> {
        if frame.data.trim() == "[DONE]" {
            self.flush_tools(out);
            out.push(ProviderEvent::Stop(self.stop_reason()));
            return Ok(Progress::Done);
        }
        let chunk: Chunk = serde_json::from_str(&frame.data).map_err(|e| {
            Failure::new(
                ErrorKind::Protocol,
                format!("{} sent an unreadable chunk: {e}", self.provider),
            )
        })?;
        if let Some(error) = chunk.error {
            let error = match error {
                Value::String(message) => ErrorObject {
                    message: Some(message),
                    ..ErrorObject::default()
                },
                other => serde_json::from_value(other).unwrap_or_default(),
            };
            return Err(stream_failure(&self.provider, &error, None));
        }
        for choice in chunk.choices.unwrap_or_default() {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    out.push(ProviderEvent::TextDelta(text));
                }
                for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate()
                {
                    self.take_fragment(position as u64, call);
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
                self.flush_tools(out);
            }
        }
        if let Some(usage) = chunk.usage {
            out.push(ProviderEvent::Usage(Usage {
                input_tokens: usage.prompt_tokens.unwrap_or(0),
                output_tokens: usage.completion_tokens.unwrap_or(0),
            }));
        }
        Ok(Progress::More)
    }

    fn take_fragment(&mut self, position: u64, call: ToolDelta) {
        // Some compatible servers leave out `index` when each call comes whole.
        let tool = self
            .tools
            .entry(call.index.unwrap_or(position))
            .or_default();
        if let Some(id) = call.id.filter(|s| !s.is_empty()) {
            tool.id = id;
        }
        if let Some(function) = call.function {
            if let Some(name) = function.name.filter(|s| !s.is_empty()) {
                tool.name = name;
            }
            if let Some(arguments) = function.arguments {
                tool.arguments.push_str(&arguments);
            }
        }
    }

    fn flush_tools(&mut self, out: &mut Vec<ProviderEvent>) {
        for (_, tool) in std::mem::take(&mut self.tools) {
            self.called = true;
            out.push(ProviderEvent::ToolCall(ToolCall {
                id: tool.id,
                name: tool.name,
                input: parse_tool_input(&tool.arguments),
            }));
        }
    }

    fn stop_reason(&self) -> StopReason {
        match self.finish_reason.as_deref() {
            Some("length") => StopReason::MaxTokens,
            Some("tool_calls" | "function_call") => StopReason::ToolUse,
            // Some compatible servers say `stop` (or nothing) after tool calls; the
            // calls were made, so the loop must answer them.
            _ if self.called => StopReason::ToolUse,
            _ => StopReason::EndTurn,
        }
    }
}
