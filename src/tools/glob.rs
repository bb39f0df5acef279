//! `glob`: files whose path (relative to `path`) matches a globset pattern,
//! newest first.
//!
//! Newest-first needs every match's mtime, so the walk visits the whole tree
//! under `path` (minus `.git`, `node_modules`, `target`, and without following
//! symlinks, which could lead out of the work dir), then shows `MAX_RESULTS`.

use std::path::PathBuf;
use std::time::SystemTime;

use globset::GlobBuilder;
use serde::Deserialize;
use serde_json::json;
use walkdir::WalkDir;

use super::{ToolCtx, ToolOutput, is_skipped_dir, path};
use crate::types::ToolSpec;

const MAX_RESULTS: usize = 100;

#[derive(Deserialize)]
pub(super) struct Args {
    pattern: String,
    #[serde(default = "dot")]
    path: String,
}

fn dot() -> String {
    ".".to_string()
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "glob",
        description: "Find files by name pattern, e.g. `**/*.rs` (any depth), `src/*.toml` (one \
folder), `**/{Cargo,package}.*`. The pattern is matched against paths relative to `path` \
(default: the work dir); `*` does not cross `/`. Returns paths relative to the work dir, newest \
first, at most 100. Skips .git, node_modules and target.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Glob pattern, e.g. `**/*.rs`."},
                "path": {"type": "string", "description": "Folder to search, relative to the work dir (default `.`)."}
            },
            "required": ["pattern"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("glob: {m}"));
    let work_dir = path::work_dir(ctx).map_err(err)?;
    let base = path::resolve(&work_dir, &args.path, "path").map_err(err)?;
    if !base.is_dir() {
        let what = if base.exists() {
            "is not a folder"
        } else {
            "does not exist"
        };
        return Err(err(format!("`path` `{}` {what}", args.path)));
    }
    let pattern = args.pattern.trim_start_matches("./");
    if pattern.starts_with('/') {
        return Err(err(format!(
            "`pattern` `{}` is absolute; give a pattern relative to `path`, e.g. `**/*.rs`",
            args.pattern
        )));
    }
    let matcher = GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| {
            err(format!(
                "`pattern` `{}` is not a valid glob: {e}",
                args.pattern
            ))
        })?
        .compile_matcher();

    let mut found: Vec<(SystemTime, PathBuf)> = Vec::new();
    let walk = WalkDir::new(&base)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| !is_skipped_dir(e));
    for entry in walk.filter_map(Result::ok) {
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&base) else {
            continue;
        };
        if matcher.is_match(rel) {
            let mtime = entry
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((mtime, entry.into_path()));
        }
    }
    if found.is_empty() {
        return Ok(ToolOutput::ok(format!(
            "no files match `{}` in `{}`",
            args.pattern, args.path
        )));
    }
    // Newest first; equal times by path, so the order is stable.
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = found.len();
    let mut out: Vec<String> = found
        .iter()
        .take(MAX_RESULTS)
        .map(|(_, p)| path::display(&work_dir, p))
        .collect();
    if total > MAX_RESULTS {
        out.push(format!(
            "\n({} more matches not shown: showing the {MAX_RESULTS} newest of {total}; \
             narrow the pattern or the path)",
            total - MAX_RESULTS
        ));
    }
    Ok(ToolOutput::ok(out.join("\n")))
}
