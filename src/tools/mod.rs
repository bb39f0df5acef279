//! The seven tools: specs for the model and one dispatch `match`.
//!
//! A tool failure is input for the model, never an HTTP error: `run` always returns
//! a `ToolOutput`, with `is_error` set and a message that names the bad argument.
//!
//! STUB: the interface the agent loop builds on; the implementation lands with issue 5.

use std::path::Path;

use serde_json::Value;

use crate::cancel::Cancel;
use crate::types::ToolSpec;

/// What a tool runs with.
#[derive(Debug, Clone, Copy)]
pub struct ToolCtx<'a> {
    /// The session's work_dir; `None` → bash and the file tools answer with an error.
    pub work_dir: Option<&'a Path>,
    /// Set on abort: a running tool stops (bash kills its process group).
    pub cancel: &'a Cancel,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub content: String,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: content.into(),
            is_error: false,
        }
    }

    pub fn error(content: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: content.into(),
            is_error: true,
        }
    }
}

/// The spec sent to the model, or `None` for a name outside `types::TOOL_NAMES`.
pub fn spec(name: &str) -> Option<ToolSpec> {
    crate::types::TOOL_NAMES.contains(&name).then(|| ToolSpec {
        name: "stub",
        description: "",
        input_schema: serde_json::json!({"type": "object", "properties": {}}),
    })
}

/// Runs one tool call to completion (or until cancelled).
pub fn run(name: &str, _input: &Value, _ctx: &ToolCtx<'_>) -> ToolOutput {
    ToolOutput::error(format!("tool {name} is not implemented yet"))
}
