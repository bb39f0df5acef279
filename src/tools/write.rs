//! `write`: creates or replaces a file with the given content, atomically.
//!
//! The content goes to a temp file in the same folder (so the rename stays on one
//! filesystem), is flushed to disk, then renamed over the target: a reader never
//! sees half a file, and a crash leaves the old one. Missing parent folders are
//! created. An existing file keeps its permissions. `edit` writes through here too.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::json;

use super::{ToolCtx, ToolOutput, path};
use crate::types::ToolSpec;

#[derive(Deserialize)]
pub(super) struct Args {
    path: String,
    content: String,
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "write",
        description: "Write a file in the work dir: creates it (and any missing parent folders) \
or replaces its whole content. The replacement is atomic. To change part of an existing file, \
prefer the edit tool.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "File path, relative to the work dir."},
                "content": {"type": "string", "description": "The complete new content of the file."}
            },
            "required": ["path", "content"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("write: {m}"));
    let work_dir = path::work_dir(ctx).map_err(err)?;
    let target = path::resolve(&work_dir, &args.path, "path").map_err(err)?;
    let shown = &args.path;
    if target.is_dir() {
        return Err(err(format!(
            "`{shown}` is a directory; give the path of a file"
        )));
    }
    let existed = target.exists();
    atomic_write(&target, args.content.as_bytes())
        .map_err(|e| err(format!("cannot write `{shown}`: {e}")))?;
    let verb = if existed { "replaced" } else { "created" };
    Ok(ToolOutput::ok(format!(
        "wrote {} bytes to `{shown}` ({verb})",
        args.content.len()
    )))
}

/// Writes `bytes` to `target` through a temp file + rename in the same folder.
pub(super) fn atomic_write(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = target
        .parent()
        .ok_or_else(|| std::io::Error::other("the path has no parent folder"))?;
    fs::create_dir_all(dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.wingman-{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(target) {
            file.set_permissions(meta.permissions())?;
        }
        file.sync_all()?;
        fs::rename(&temp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
