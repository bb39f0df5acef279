//! `read`: a text file as numbered lines (`cat -n` style), a window at a time.
//!
//! The file is read line by line, so a large file costs only the lines shown
//! (plus a fast count of the rest, to tell the model where it is). Limits:
//! `DEFAULT_LIMIT` lines per call and `MAX_LINE_CHARS` per line, each cut said so.
//! Binary files (a NUL byte in the first `SNIFF_BYTES`) are refused; invalid
//! UTF-8 is shown lossily with a note.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;
use serde_json::json;

use super::{ToolCtx, ToolOutput, cut_line, looks_binary, path};
use crate::types::ToolSpec;

const DEFAULT_LIMIT: usize = 2000;
const MAX_LINE_CHARS: usize = 2000;
/// How much of the start of a file is checked for NUL bytes.
const SNIFF_BYTES: usize = 8 * 1024;

#[derive(Deserialize)]
pub(super) struct Args {
    path: String,
    #[serde(default = "one")]
    offset: usize,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn one() -> usize {
    1
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "read",
        description: "Read a text file in the work dir. Returns numbered lines like `cat -n` \
(line number, tab, text), up to `limit` lines (default 2000) starting at line `offset` \
(1-based, default 1); lines longer than 2000 characters are cut. When the file has more lines \
the result says which offset to use next. Binary files are refused.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "File path, relative to the work dir."},
                "offset": {"type": "integer", "minimum": 1, "description": "First line to show (1-based)."},
                "limit": {"type": "integer", "minimum": 1, "description": "How many lines to show (default 2000)."}
            },
            "required": ["path"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("read: {m}"));
    let work_dir = path::work_dir(ctx).map_err(err)?;
    let file_path = path::resolve(&work_dir, &args.path, "path").map_err(err)?;
    let shown = &args.path;
    let meta = std::fs::metadata(&file_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => err(format!(
            "file not found: `{shown}` (use glob to find the right path)"
        )),
        _ => err(format!("cannot read `{shown}`: {e}")),
    })?;
    if meta.is_dir() {
        return Err(err(format!(
            "`{shown}` is a directory, not a file; use glob (e.g. pattern `{}/*`) to list it",
            shown.trim_end_matches('/')
        )));
    }
    if !meta.is_file() {
        // A FIFO or device would block or never end.
        return Err(err(format!("`{shown}` is not a regular file")));
    }
    let file = File::open(&file_path).map_err(|e| err(format!("cannot open `{shown}`: {e}")))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| err(format!("cannot read `{shown}`: {e}")))?;
    if looks_binary(&head) {
        return Err(err(format!(
            "`{shown}` is a binary file ({} bytes); read shows text files only",
            meta.len()
        )));
    }
    let mut reader = std::io::Cursor::new(head).chain(reader);

    let first = args.offset;
    let last = first.saturating_add(args.limit).saturating_sub(1);
    let mut out = String::new();
    let mut line = Vec::new();
    let mut number = 0usize;
    let mut lossy = false;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| err(format!("cannot read `{shown}`: {e}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        if number < first || number > last {
            continue; // still counted, so the note below can say how many lines there are
        }
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => {
                lossy = true;
                String::from_utf8_lossy(bytes)
            }
        };
        out.push_str(&format!(
            "{number:>6}\t{}\n",
            cut_line(&text, MAX_LINE_CHARS)
        ));
    }
    let total = number;
    if total == 0 {
        return Ok(ToolOutput::ok(format!("(`{shown}` is empty)")));
    }
    if first > total {
        return Err(err(format!(
            "`offset` {first} is past the end of `{shown}`, which has {total} lines"
        )));
    }
    if last < total {
        out.push_str(&format!(
            "\n(showing lines {first}-{last} of {total}; use offset={} to read on)\n",
            last + 1
        ));
    }
    if lossy {
        out.push_str("\n(the file is not valid UTF-8: invalid bytes are shown as �)\n");
    }
    Ok(ToolOutput::ok(out.trim_end().to_string()))
}
