//! Talking to model providers: the only module (with `tools/webfetch.rs`) that imports ureq.
//!
//! Two wire protocols serve every provider in the catalog: `anthropic` (Messages API)
//! and `openai` (Chat Completions and the OpenAI-compatible family). Each vendor file
//! maps its private wire structs to one `ProviderEvent` vocabulary, delivered as the
//! bytes arrive so the agent loop can stream text with no added delay.
//!
//! This file holds the interface the agent loop builds on; `client.rs` runs a call.
//! The API key goes only into request headers, never into a message or a log line.

mod anthropic;
mod client;
mod error;
mod history;
mod openai;
mod retry;
pub mod sse;
mod transport;

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::types::{Message, StopReason, ToolSpec, Usage};

pub use client::Client;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Anthropic,
    OpenAi,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "anthropic" => Some(Protocol::Anthropic),
            "openai" => Some(Protocol::OpenAi),
            _ => None,
        }
    }
}

/// Where and how to reach one provider, credentials already resolved
/// (stored key, else the catalog's env variables; stored base_url over the catalog's api).
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    /// The catalog name (`anthropic`, `openrouter`, …), used in error messages.
    pub provider: String,
    pub protocol: Protocol,
    /// Ends with the version segment, as models.dev writes it (`https://api.anthropic.com/v1`).
    pub base_url: String,
    pub api_key: Option<String>,
}

impl fmt::Debug for Endpoint {
    // Never print the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("protocol", &self.protocol)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One model call, built from the session history and the agent.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    /// The agent's instructions; left out of the request when empty.
    pub system: &'a str,
    /// In the agent's order (provider-side prompt caching depends on it).
    pub tools: &'a [ToolSpec],
    pub messages: &'a [Message],
    pub max_tokens: u32,
    /// Sent only when the agent sets it.
    pub temperature: Option<f64>,
}

/// A tool call whose input is complete. `input` is `Err(reason)` when the model sent
/// arguments that are not a JSON object (the reason quotes the raw text).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub input: Result<Value, String>,
}

/// What one provider call yields, in order of arrival.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    TextDelta(String),
    ToolCall(ToolCall),
    /// The call's usage so far; a later one replaces an earlier one.
    Usage(Usage),
    /// `EndTurn`, `ToolUse` or `MaxTokens`; sent once, at the end.
    Stop(StopReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 401/403: bad or missing key.
    Auth,
    /// 400/404/413/422 and other 4xx: the request or model id is wrong.
    InvalidRequest,
    /// 429 (retryable unless it is a quota error).
    RateLimited,
    /// 5xx, 529, an in-stream error event.
    Server,
    /// Connection refused/reset, DNS, idle timeout.
    Network,
    /// The stream broke its own rules: truncated, unparsable.
    Protocol,
    /// The run was cancelled while the call was under way.
    Aborted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub provider: String,
    pub status: Option<u16>,
    /// Names the provider, the status, the provider's error type and message.
    pub message: String,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProviderError {}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// A stream that sends nothing for this long is dead.
    pub idle_timeout: Duration,
    pub max_retries: u32,
    /// First backoff; doubles per retry, with jitter, capped.
    pub backoff_base: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
        }
    }
}

/// What a vendor decoder says after each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done,
}
