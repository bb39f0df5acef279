//! The data every layer shares: agents, sessions, the message history and usage.
//!
//! These are the JSON shapes of API.md, one serde type each. They carry no
//! behaviour beyond small constructors; validation lives in `api/`, storage in
//! `store/`, and the wire formats of each model provider in `provider/`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A stored agent: the template a message is run with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub instructions: String,
    pub tools: Vec<String>,
    pub provider: String,
    pub model: String,
    pub max_tokens: u32,
    pub temperature: Option<f64>,
    pub max_steps: u32,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Idle,
    Running,
}

/// A session as the API shows it. `history` is `None` in listings, where it is
/// left out of the JSON entirely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub title: Option<String>,
    pub work_dir: Option<String>,
    pub status: SessionStatus,
    pub message_count: u64,
    pub usage: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<Message>>,
    pub created_at: String,
    pub updated_at: String,
}

/// Token counts, summed over provider calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of the history. Tool results travel in a `user` message right
/// after the assistant message that asked for them (the Anthropic convention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
}

impl Message {
    pub fn user_text(text: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: vec![Block::Text { text: text.into() }],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        content: String,
        is_error: bool,
    },
}

/// Why a provider call (or a whole run) ended, as API.md names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    ToolUse,
    MaxTokens,
    MaxSteps,
    Aborted,
}

/// The seven tools an agent may list, in the seed's order.
pub const TOOL_NAMES: [&str; 7] = ["bash", "read", "write", "edit", "glob", "grep", "webfetch"];

/// A tool as the model sees it: sent to the provider with every request.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// A JSON Schema object (`{"type":"object","properties":{…},"required":[…]}`).
    pub input_schema: Value,
}
