//! The seven tools: specs for the model and one dispatch `match`.
//!
//! A tool failure is input for the model, never an HTTP error: `run` always returns
//! a `ToolOutput`, with `is_error` set and a message that names the bad argument.
//! Arguments are checked against the tool's own JSON schema first (required,
//! type, bounds) so the model reads "argument `path` must be a string", not a
//! serde message; then each tool deserializes its private `Args`.

mod bash;
mod edit;
mod glob;
mod grep;
mod html;
mod path;
mod read;
mod webfetch;
mod write;

use std::path::Path;

use serde::de::DeserializeOwned;
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
    match name {
        "bash" => Some(bash::spec()),
        "read" => Some(read::spec()),
        "write" => Some(write::spec()),
        "edit" => Some(edit::spec()),
        "glob" => Some(glob::spec()),
        "grep" => Some(grep::spec()),
        "webfetch" => Some(webfetch::spec()),
        _ => None,
    }
}

/// Runs one tool call to completion (or until cancelled).
pub fn run(name: &str, input: &Value, ctx: &ToolCtx<'_>) -> ToolOutput {
    let result = match name {
        "bash" => args(name, input).and_then(|a| bash::run(a, ctx)),
        "read" => args(name, input).and_then(|a| read::run(a, ctx)),
        "write" => args(name, input).and_then(|a| write::run(a, ctx)),
        "edit" => args(name, input).and_then(|a| edit::run(a, ctx)),
        "glob" => args(name, input).and_then(|a| glob::run(a, ctx)),
        "grep" => args(name, input).and_then(|a| grep::run(a, ctx)),
        "webfetch" => args(name, input).and_then(|a| webfetch::run(a, ctx)),
        _ => Err(ToolOutput::error(format!(
            "unknown tool `{name}`; the tools are: {}",
            crate::types::TOOL_NAMES.join(", ")
        ))),
    };
    result.unwrap_or_else(|error| error)
}

/// Checks `input` against the tool's schema, then deserializes its `Args`.
fn args<T: DeserializeOwned>(tool: &str, input: &Value) -> Result<T, ToolOutput> {
    let schema = spec(tool).map(|s| s.input_schema).unwrap_or(Value::Null);
    check(&schema, input).map_err(|e| ToolOutput::error(format!("{tool}: {e}")))?;
    // Optional arguments sent as `null` mean "use the default".
    let mut input = input.clone();
    if let Value::Object(map) = &mut input {
        map.retain(|_, v| !v.is_null());
    }
    serde_json::from_value(input)
        .map_err(|e| ToolOutput::error(format!("{tool}: invalid arguments: {e}")))
}

/// The subset of JSON Schema the specs use: required, type, minimum, maximum, enum.
fn check(schema: &Value, input: &Value) -> Result<(), String> {
    let Some(object) = input.as_object() else {
        return Err(format!(
            "the input must be a JSON object of arguments, got {}",
            kind(input)
        ));
    };
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str) {
        if object.get(name).is_none_or(Value::is_null) {
            return Err(format!("missing required argument `{name}`"));
        }
    }
    let Some(properties) = schema["properties"].as_object() else {
        return Ok(());
    };
    for (name, value) in object {
        let Some(prop) = properties.get(name) else {
            continue; // extra arguments are ignored, as models sometimes add some
        };
        if value.is_null() {
            continue;
        }
        let expected = prop["type"].as_str().unwrap_or("");
        let fits = match expected {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !fits {
            return Err(format!(
                "argument `{name}` must be {}, got {}",
                article(expected),
                kind(value)
            ));
        }
        if let (Some(n), Some(min)) = (value.as_f64(), prop["minimum"].as_f64()) {
            if n < min {
                return Err(format!("argument `{name}` must be at least {min}, got {n}"));
            }
        }
        if let (Some(n), Some(max)) = (value.as_f64(), prop["maximum"].as_f64()) {
            if n > max {
                return Err(format!("argument `{name}` must be at most {max}, got {n}"));
            }
        }
        if let Some(allowed) = prop["enum"].as_array() {
            if !allowed.contains(value) {
                let names: Vec<String> = allowed.iter().map(Value::to_string).collect();
                return Err(format!(
                    "argument `{name}` must be one of {}, got {value}",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(())
}

fn article(json_type: &str) -> &'static str {
    match json_type {
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean (true or false)",
        _ => "a value of another type",
    }
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 40 => "a string".into(),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Cuts `text` to at most `max` chars, saying how many were cut.
fn cut_line(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((end, _)) => {
            let rest = text[end..].chars().count();
            format!("{}… [{rest} more chars cut]", &text[..end])
        }
    }
}

/// A NUL byte in the first few KiB: how git and ripgrep tell binary from text.
fn looks_binary(head: &[u8]) -> bool {
    head.contains(&0)
}

/// Folders grep and glob never enter: VCS data, dependencies, build output.
const SKIP_DIRS: [&str; 3] = [".git", "node_modules", "target"];

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0
        && entry.file_type().is_dir()
        && entry
            .file_name()
            .to_str()
            .is_some_and(|name| SKIP_DIRS.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_tool_has_a_spec_named_after_it() {
        for name in crate::types::TOOL_NAMES {
            let spec = spec(name).unwrap();
            assert_eq!(spec.name, name);
            assert!(!spec.description.is_empty());
            assert_eq!(spec.input_schema["type"], "object");
        }
        assert!(spec("nope").is_none());
    }

    #[test]
    fn schema_errors_name_the_argument() {
        let schema = read::spec().input_schema;
        assert_eq!(
            check(&schema, &json!({})).unwrap_err(),
            "missing required argument `path`"
        );
        assert_eq!(
            check(&schema, &json!({"path": 3})).unwrap_err(),
            "argument `path` must be a string, got the number 3"
        );
        assert_eq!(
            check(&schema, &json!({"path": "a", "offset": 0})).unwrap_err(),
            "argument `offset` must be at least 1, got 0"
        );
        assert_eq!(
            check(&schema, &json!([1])).unwrap_err(),
            "the input must be a JSON object of arguments, got an array"
        );
        assert!(check(&schema, &json!({"path": "a", "limit": null})).is_ok());
    }

    #[test]
    fn cut_line_counts_what_it_cut() {
        assert_eq!(cut_line("héllo", 10), "héllo");
        assert_eq!(cut_line("héllo", 2), "hé… [3 more chars cut]");
    }
}
