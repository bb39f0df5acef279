//! The Anthropic Messages API: the request body, and a decoder from its SSE events
//! to `ProviderEvent`s (PROTOCOLS.md §1).
//!
//! Text deltas pass straight through; a tool call is emitted whole at its
//! `content_block_stop`; usage and the stop reason come once, at the end. The stream
//! is finished only by `message_stop`: EOF before it is the caller's error to report.
//! Unknown events, block types and fields are ignored (Anthropic adds them freely).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::types::{Block, StopReason, Usage};

use super::error::{ErrorObject, Failure, stream_failure};
use super::history::{input_object, normalize, parse_tool_input};
use super::sse::Frame;
use super::{ChatRequest, ErrorKind, Progress, ProviderEvent, ToolCall};

pub(crate) fn request_body(request: &ChatRequest<'_>) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("max_tokens".into(), json!(request.max_tokens));
    body.insert("stream".into(), json!(true));
    if !request.system.is_empty() {
        body.insert("system".into(), json!(request.system));
    }
    if let Some(t) = request.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.input_schema}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    let messages: Vec<Value> = normalize(request.messages, !request.tools.is_empty())
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content.iter().map(block).collect::<Vec<_>>()}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    Value::Object(body)
}

fn block(block: &Block) -> Value {
    match block {
        Block::Text { text } => json!({"type": "text", "text": text}),
        Block::ToolUse { id, name, input } => {
            json!({"type": "tool_use", "id": id, "name": name, "input": input_object(input)})
        }
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => {
            json!({"type": "tool_result", "tool_use_id": tool_use_id, "content": content, "is_error": is_error})
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartMessage,
    },
    ContentBlockStart {
        index: u64,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        index: u64,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: ErrorObject,
    },
    /// `ping` and whatever Anthropic adds next.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartMessage {
    usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

struct PendingTool {
    id: String,
    name: String,
    json: String,
}

pub(crate) struct Decoder {
    provider: String,
    tools: HashMap<u64, PendingTool>,
    /// Input, cache writes and cache reads, as last reported (each may come alone).
    input: [u64; 3],
    output: u64,
    stop_reason: Option<String>,
}

impl Decoder {
    pub fn new(provider: &str) -> Decoder {
        Decoder {
            provider: provider.to_string(),
            tools: HashMap::new(),
            input: [0; 3],
            output: 0,
            stop_reason: None,
        }
    }

    pub fn frame(
        &mut self,
        frame: &Frame,
        out: &mut Vec<ProviderEvent>,
    ) -> Result<Progress, Failure> {
        let event: Event = serde_json::from_str(&frame.data).map_err(|e| {
            Failure::new(
                ErrorKind::Protocol,
                format!(
                    "{} sent an unreadable {:?} event: {e}",
                    self.provider, frame.event
                ),
            )
        })?;
        match event {
            Event::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.take_usage(&usage);
                }
            }
            Event::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                ContentBlock::Text { text } if !text.is_empty() => {
                    out.push(ProviderEvent::TextDelta(text))
                }
                ContentBlock::ToolUse { id, name } => {
                    self.tools.insert(
                        index,
                        PendingTool {
                            id,
                            name,
                            json: String::new(),
                        },
                    );
                }
                _ => {}
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } if !text.is_empty() => {
                    out.push(ProviderEvent::TextDelta(text))
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(tool) = self.tools.get_mut(&index) {
                        tool.json.push_str(&partial_json);
                    }
                }
                _ => {}
            },
            Event::ContentBlockStop { index } => {
                if let Some(tool) = self.tools.remove(&index) {
                    out.push(ProviderEvent::ToolCall(ToolCall {
                        id: tool.id,
                        name: tool.name,
                        input: parse_tool_input(&tool.json),
                    }));
                }
            }
            Event::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(usage) = usage {
                    self.take_usage(&usage);
                }
            }
            Event::MessageStop => {
                out.push(ProviderEvent::Usage(Usage {
                    input_tokens: self.input.iter().sum(),
                    output_tokens: self.output,
                }));
                out.push(ProviderEvent::Stop(stop_reason(
                    self.stop_reason.as_deref(),
                )));
                return Ok(Progress::Done);
            }
            Event::Error { error } => {
                let status = error.kind.as_deref().and_then(status_of_error_type);
                return Err(stream_failure(&self.provider, &error, status));
            }
            Event::Other => {}
        }
        Ok(Progress::More)
    }

    /// `message_delta` counts are cumulative and may repeat the input side; cache
    /// reads and writes are input too (Anthropic counts them apart from `input_tokens`).
    fn take_usage(&mut self, usage: &WireUsage) {
        let input = [
            usage.input_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        ];
        for (slot, value) in self.input.iter_mut().zip(input) {
            if let Some(value) = value {
                *slot = value;
            }
        }
        if let Some(output) = usage.output_tokens {
            self.output = output;
        }
    }
}

fn stop_reason(reason: Option<&str>) -> StopReason {
    match reason {
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens" | "model_context_window_exceeded") => StopReason::MaxTokens,
        // end_turn, stop_sequence, refusal, pause_turn, and reasons not invented yet:
        // the turn is over and nothing more will come without a new request.
        _ => StopReason::EndTurn,
    }
}

/// The HTTP status an in-stream error type stands for (PROTOCOLS.md §1.4).
fn status_of_error_type(kind: &str) -> Option<u16> {
    Some(match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "api_error" => 500,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => return None,
    })
}
