//! `edit`: exact string replacement in one existing UTF-8 file.
//!
//! No fuzzy matching: `old_string` must appear exactly, and once unless
//! `replace_all` is set, so an edit never lands somewhere the model did not
//! look. The new content is written atomically through `write::atomic_write`.

use serde::Deserialize;
use serde_json::json;

use super::{ToolCtx, ToolOutput, path, write};
use crate::types::ToolSpec;

#[derive(Deserialize)]
pub(super) struct Args {
    path: String,
    old_string: String,
    new_string: String,
    #[serde(default)]
    replace_all: bool,
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "edit",
        description: "Replace text in an existing file of the work dir. `old_string` must match \
the file exactly (whitespace and indentation included) and only once, unless `replace_all` is \
true; include enough surrounding lines to make it unique. Read the file first. To create a \
file, use the write tool.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "File path, relative to the work dir."},
                "old_string": {"type": "string", "description": "The exact text to replace."},
                "new_string": {"type": "string", "description": "The text to put in its place."},
                "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)."}
            },
            "required": ["path", "old_string", "new_string"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("edit: {m}"));
    let shown = &args.path;
    if args.old_string.is_empty() {
        return Err(err(
            "`old_string` is empty; give the exact text to replace (to create a file, use write)"
                .into(),
        ));
    }
    if args.old_string == args.new_string {
        return Err(err(
            "`old_string` and `new_string` are equal, so there is nothing to change".into(),
        ));
    }
    let work_dir = path::work_dir(ctx).map_err(err)?;
    let file_path = path::resolve(&work_dir, shown, "path").map_err(err)?;
    if file_path.is_dir() {
        return Err(err(format!("`{shown}` is a directory, not a file")));
    }
    if file_path.exists() && !file_path.is_file() {
        return Err(err(format!("`{shown}` is not a regular file")));
    }
    let bytes = std::fs::read(&file_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => err(format!(
            "file not found: `{shown}` (to create a file, use write)"
        )),
        _ => err(format!("cannot read `{shown}`: {e}")),
    })?;
    let content = String::from_utf8(bytes).map_err(|_| {
        err(format!(
            "`{shown}` is not valid UTF-8 text; edit only changes text files (use bash for others)"
        ))
    })?;
    let count = content.matches(&args.old_string).count();
    if count == 0 {
        return Err(err(format!(
            "`old_string` was not found in `{shown}`; read the file and copy the text exactly, \
             whitespace and indentation included"
        )));
    }
    if count > 1 && !args.replace_all {
        return Err(err(format!(
            "`old_string` was found {count} times in `{shown}`; add surrounding lines to make it \
             unique, or set `replace_all` to true to replace all {count}"
        )));
    }
    let updated = content.replace(&args.old_string, &args.new_string);
    write::atomic_write(&file_path, updated.as_bytes())
        .map_err(|e| err(format!("cannot write `{shown}`: {e}")))?;
    let noun = if count == 1 {
        "occurrence"
    } else {
        "occurrences"
    };
    Ok(ToolOutput::ok(format!(
        "replaced {count} {noun} in `{shown}`"
    )))
}
