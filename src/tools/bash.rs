//! `bash`: runs `bash -c COMMAND` in the work dir and reports its output and exit code.
//!
//! The child gets its own process group, so a timeout or an abort kills the
//! whole tree (`sleep 100 &` included), not just bash. stdout and stderr share
//! one pipe, so their lines stay in the order they were written. Memory is
//! bounded whatever the command prints: a reader thread keeps the first and last
//! `KEEP_BYTES` and counts the rest; the model sees at most `MAX_OUTPUT_CHARS`
//! (head and tail, with a note of what was cut). A background child that keeps
//! the pipe open after bash exits does not hold the tool: the drain waits at
//! most `DRAIN_GRACE`, then returns what it has and leaves that child running.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::{ToolCtx, ToolOutput, path};
use crate::types::ToolSpec;

const DEFAULT_TIMEOUT_SECS: u64 = 120;
const MAX_TIMEOUT_SECS: u64 = 600;
/// What the model sees at most; longer output keeps half head, half tail.
const MAX_OUTPUT_CHARS: usize = 30_000;
/// Bytes kept at each end while reading (4 bytes per char covers any UTF-8).
const KEEP_BYTES: usize = MAX_OUTPUT_CHARS * 2;
/// How often the wait loop checks the child, the timeout and the cancel flag.
const POLL: Duration = Duration::from_millis(50);
/// How long to wait for the pipe to close after bash itself has exited.
const DRAIN_GRACE: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
pub(super) struct Args {
    command: String,
    #[serde(default = "default_timeout")]
    timeout: u64,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "bash",
        description: "Run a shell command with `bash -c` in the work dir and return its combined \
stdout and stderr, followed by the exit code. The command runs in its own process group and is \
killed (with every child) after `timeout` seconds or when the run is aborted. Output over 30000 \
characters keeps the beginning and the end with a note of how much was cut. stdin is empty: do \
not run interactive commands. Prefer the read, glob and grep tools to look at files.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command line to run."},
                "timeout": {
                    "type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS,
                    "description": "Seconds before the command is killed (default 120, max 600)."
                }
            },
            "required": ["command"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let work_dir = path::work_dir(ctx).map_err(|e| ToolOutput::error(format!("bash: {e}")))?;
    if args.command.trim().is_empty() {
        return Err(ToolOutput::error("bash: argument `command` is empty"));
    }
    let (reader, writer) = std::io::pipe()
        .map_err(|e| ToolOutput::error(format!("bash: cannot create a pipe: {e}")))?;
    let writer2 = writer
        .try_clone()
        .map_err(|e| ToolOutput::error(format!("bash: cannot create a pipe: {e}")))?;
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(&args.command)
        .current_dir(&work_dir)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .process_group(0);
    // The model reads whatever bash prints: keep the server's secrets out of its
    // environment (provider keys, the server token).
    for var in crate::credentials::secret_env_vars() {
        command.env_remove(var);
    }
    let spawned = command.spawn();
    // The Command holds the parent's copies of the pipe's write end: drop them, or
    // the reader would never see end-of-file.
    drop(command);
    let mut child =
        spawned.map_err(|e| ToolOutput::error(format!("bash: cannot start bash: {e}")))?;
    let pgid = child.id();

    let capture = Arc::new(Mutex::new(Capture::default()));
    let (done_tx, done_rx) = mpsc::channel();
    {
        let capture = Arc::clone(&capture);
        std::thread::spawn(move || {
            drain(reader, &capture);
            let _ = done_tx.send(());
        });
    }

    let timeout = Duration::from_secs(args.timeout);
    let started = Instant::now();
    let ending = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ending::Exited(status),
            Ok(None) => {}
            Err(e) => break Ending::Failed(e.to_string()),
        }
        if ctx.cancel.is_cancelled() {
            break Ending::Aborted;
        }
        if started.elapsed() >= timeout {
            break Ending::TimedOut;
        }
        std::thread::sleep(POLL);
    };
    if !matches!(ending, Ending::Exited(_)) {
        kill_group(pgid);
        let _ = child.wait();
    }
    // After a kill the pipe closes at once; after a normal exit a background
    // child may still hold it, and we do not wait for it forever.
    let drained = done_rx.recv_timeout(DRAIN_GRACE).is_ok();
    let output = match capture.lock() {
        Ok(capture) => capture.render(),
        Err(poisoned) => poisoned.into_inner().render(),
    };
    let output = output.trim_end_matches(['\n', '\r']);
    let mut text = if output.is_empty() {
        "(no output)".to_string()
    } else {
        output.to_string()
    };
    if !drained {
        text.push_str(
            "\n[a background process still holds the output open; later output is not shown]",
        );
    }
    Ok(match ending {
        Ending::Exited(status) => {
            let (note, success) = describe(status);
            let out = format!("{text}\n\n{note}");
            if success {
                ToolOutput::ok(out)
            } else {
                ToolOutput::error(out)
            }
        }
        Ending::TimedOut => ToolOutput::error(format!(
            "{text}\n\n[timed out after {} s: the command and its children were killed; \
             raise `timeout` (max {MAX_TIMEOUT_SECS}) or run long jobs in the background with \
             their output sent to a file]",
            args.timeout
        )),
        Ending::Aborted => ToolOutput::error(format!(
            "{text}\n\n[aborted: the command and its children were killed]"
        )),
        Ending::Failed(e) => ToolOutput::error(format!(
            "{text}\n\n[could not wait for the command: {e}; it was killed]"
        )),
    })
}

enum Ending {
    Exited(ExitStatus),
    TimedOut,
    Aborted,
    Failed(String),
}

fn describe(status: ExitStatus) -> (String, bool) {
    match (status.code(), status.signal()) {
        (Some(code), _) => (format!("exit code: {code}"), code == 0),
        (None, Some(signal)) => (format!("killed by signal {signal}"), false),
        (None, None) => ("exit status unknown".to_string(), false),
    }
}

/// Kills every process in the group `pgid` (the child's pid, as `process_group(0)` set it).
#[allow(unsafe_code)]
fn kill_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return; // never signal "every process" (-1) or our own group (0)
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a
    // negative pid addresses the process group we created for this child.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn drain(mut reader: std::io::PipeReader, capture: &Mutex<Capture>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => match capture.lock() {
                Ok(mut capture) => capture.push(&buf[..n]),
                Err(_) => return,
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// The first and last `KEEP_BYTES` of the output and the total byte count.
#[derive(Default)]
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Capture {
    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.head.len() < KEEP_BYTES {
            let n = bytes.len().min(KEEP_BYTES - self.head.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(KEEP_BYTES);
        self.tail.drain(..excess);
    }

    fn render(&self) -> String {
        let kept = self.head.len() + self.tail.len();
        if kept as u64 == self.total {
            let mut all = self.head.clone();
            all.extend(self.tail.iter());
            let text = String::from_utf8_lossy(&all);
            if text.chars().count() <= MAX_OUTPUT_CHARS {
                return text.into_owned();
            }
        }
        let half = MAX_OUTPUT_CHARS / 2;
        let head = String::from_utf8_lossy(&self.head);
        let head: String = head.chars().take(half).collect();
        let tail_bytes: Vec<u8> = self.tail.iter().copied().collect();
        let tail = String::from_utf8_lossy(&tail_bytes);
        let skip = tail.chars().count().saturating_sub(half);
        let tail: String = tail.chars().skip(skip).collect();
        format!(
            "{head}\n\n[… output truncated: {} bytes in all; showing the first {} and the last {} \
             characters …]\n\n{tail}",
            self.total,
            head.chars().count(),
            tail.chars().count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_short_output_whole() {
        let mut c = Capture::default();
        c.push(b"hello ");
        c.push(b"world");
        assert_eq!(c.render(), "hello world");
    }

    #[test]
    fn capture_keeps_head_and_tail_of_long_output() {
        let mut c = Capture::default();
        for _ in 0..1000 {
            c.push(&[b'a'; 1000]);
        }
        c.push(b"THE END");
        let text = c.render();
        assert!(text.starts_with(&"a".repeat(15_000)));
        assert!(text.ends_with("THE END"));
        assert!(text.contains("1000007 bytes in all"));
        assert!(text.chars().count() < MAX_OUTPUT_CHARS + 200);
    }
}
