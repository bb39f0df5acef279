//! `grep`: lines matching a regex, as `path:line: text`, in a file or a tree.
//!
//! Fast on real trees: the walk skips `.git`, `node_modules` and `target` and
//! does not follow symlinks (they could lead out of the work dir); files whose
//! first block holds a NUL byte are skipped as binary; each file is read in
//! `CHUNK_BYTES` blocks cut at line ends and the regex runs over a whole block
//! (multi-line mode, so `^`/`$` are line anchors), which finds "no match" far
//! faster than line by line, while memory stays bounded for huge files. The
//! search stops after `MAX_MATCHES`, and matched lines are cut at
//! `MAX_LINE_CHARS`.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;
use serde_json::json;
use walkdir::WalkDir;

use super::{ToolCtx, ToolOutput, cut_line, is_skipped_dir, looks_binary, path};
use crate::types::ToolSpec;

const MAX_MATCHES: usize = 100;
const MAX_LINE_CHARS: usize = 500;
const CHUNK_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
pub(super) struct Args {
    pattern: String,
    #[serde(default = "dot")]
    path: String,
    include: Option<String>,
}

fn dot() -> String {
    ".".to_string()
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "grep",
        description: "Search file contents with a regular expression (Rust regex syntax, e.g. \
`fn\\s+main`, `(?i)todo`). Searches `path` (a folder or one file; default the work dir), only \
in files whose name matches `include` when given (e.g. `*.rs`, `*.{ts,tsx}`; a pattern with `/` \
is matched against the path). Prints `path:line: text` per matching line, at most 100 matches. \
Skips binary files, .git, node_modules and target.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string", "description": "Regular expression to search for."},
                "path": {"type": "string", "description": "Folder or file to search, relative to the work dir (default `.`)."},
                "include": {"type": "string", "description": "Only search files matching this glob, e.g. `*.rs`."}
            },
            "required": ["pattern"]
        }),
    }
}

/// Which files to search: the name for a plain pattern, the relative path for one with `/`.
struct Include {
    matcher: GlobMatcher,
    by_path: bool,
}

impl Include {
    fn matches(&self, rel: &Path) -> bool {
        if self.by_path {
            self.matcher.is_match(rel)
        } else {
            rel.file_name().is_some_and(|n| self.matcher.is_match(n))
        }
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("grep: {m}"));
    let work_dir = path::work_dir(ctx).map_err(err)?;
    let base = path::resolve(&work_dir, &args.path, "path").map_err(err)?;
    if !base.exists() {
        return Err(err(format!("`path` `{}` does not exist", args.path)));
    }
    let regex = RegexBuilder::new(&args.pattern)
        .multi_line(true)
        .build()
        .map_err(|e| err(format!("`pattern` is not a valid regex: {e}")))?;
    let include = match args.include.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(glob) => {
            let by_path = glob.contains('/');
            let matcher = GlobBuilder::new(glob.trim_start_matches("./"))
                .literal_separator(by_path)
                .build()
                .map_err(|e| err(format!("`include` `{glob}` is not a valid glob: {e}")))?
                .compile_matcher();
            Some(Include { matcher, by_path })
        }
    };

    let mut hits: Vec<String> = Vec::new();
    let mut buf = Vec::with_capacity(CHUNK_BYTES * 2);
    let walk = WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_skipped_dir(e));
    for entry in walk.filter_map(Result::ok) {
        if ctx.cancel.is_cancelled() {
            return Err(err("aborted".into()));
        }
        if !entry.file_type().is_file() {
            continue;
        }
        if let Some(include) = &include {
            let rel = entry.path().strip_prefix(&base).unwrap_or(entry.path());
            // A file given directly as `path` is searched whatever its name.
            if entry.depth() > 0 && !include.matches(rel) {
                continue;
            }
        }
        let shown = path::display(&work_dir, entry.path());
        search_file(entry.path(), &shown, &regex, &mut buf, &mut hits);
        if hits.len() > MAX_MATCHES {
            break;
        }
    }
    if hits.is_empty() {
        let scope = match &args.include {
            Some(glob) => format!("`{}` (files matching `{glob}`)", args.path),
            None => format!("`{}`", args.path),
        };
        return Ok(ToolOutput::ok(format!(
            "no matches for `{}` in {scope}",
            args.pattern
        )));
    }
    let capped = hits.len() > MAX_MATCHES;
    hits.truncate(MAX_MATCHES);
    let mut out = hits.join("\n");
    if capped {
        out.push_str(&format!(
            "\n\n(stopped after {MAX_MATCHES} matches; there are more: narrow the pattern, \
             the path or `include`)"
        ));
    }
    Ok(ToolOutput::ok(out))
}

/// Appends `shown:line: text` for each matching line of `file`, stopping one past
/// the cap so the caller knows there were more. Unreadable and binary files are skipped.
fn search_file(file: &Path, shown: &str, regex: &Regex, buf: &mut Vec<u8>, hits: &mut Vec<String>) {
    let Ok(mut reader) = File::open(file) else {
        return;
    };
    buf.clear();
    let mut line_no = 1usize; // the number of the line that starts at buf[0]
    let mut first = true;
    let mut eof = false;
    while !eof {
        // Fill up to CHUNK_BYTES past what is carried over from the last block.
        let start = buf.len();
        buf.resize(start + CHUNK_BYTES, 0);
        let mut filled = start;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
        buf.truncate(filled);
        if first {
            first = false;
            if looks_binary(&buf[..buf.len().min(8 * 1024)]) {
                return;
            }
        }
        // Search only complete lines; the partial last line waits for the next block.
        let end = if eof {
            buf.len()
        } else {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None if buf.len() < 16 * CHUNK_BYTES => continue, // one long line: read more
                None => buf.len(),
            }
        };
        let block = &buf[..end];
        let mut counted = 0usize; // offset up to which newlines are counted into line_no
        let mut pos = 0usize;
        while pos < end {
            let Some(m) = regex.find_at(block, pos) else {
                break;
            };
            if m.start() == end && end > 0 && block[end - 1] == b'\n' {
                break; // an empty match after the last newline is not a line
            }
            let line_start = block[..m.start()]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = block[m.start()..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(end, |i| m.start() + i);
            line_no += count_newlines(&block[counted..line_start]);
            counted = line_start;
            let text = String::from_utf8_lossy(&block[line_start..line_end]);
            let text = text.trim_end_matches('\r');
            hits.push(format!(
                "{shown}:{line_no}: {}",
                cut_line(text, MAX_LINE_CHARS)
            ));
            if hits.len() > MAX_MATCHES {
                return;
            }
            pos = line_end + 1;
        }
        line_no += count_newlines(&block[counted..]);
        buf.drain(..end);
    }
}

fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}
