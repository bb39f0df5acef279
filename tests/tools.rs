//! The seven tools, through the library and the `wingman tool` command.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use wingman::cancel::Cancel;
use wingman::tools::{self, ToolCtx, ToolOutput};

use crate::support::TempDir;

fn run_in(dir: &Path, name: &str, input: Value) -> ToolOutput {
    let cancel = Cancel::new();
    tools::run(
        name,
        &input,
        &ToolCtx {
            work_dir: Some(dir),
            cancel: &cancel,
        },
    )
}

/// Writes `content` to `rel` under `dir` (parents created) and returns the full path.
fn put(dir: &TempDir, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

fn ok(content: &str) -> ToolOutput {
    ToolOutput::ok(content)
}

fn err(content: &str) -> ToolOutput {
    ToolOutput::error(content)
}

/// `assert_eq!` for outputs too big to print: shows where they first differ.
fn assert_same(actual: &ToolOutput, expected: &ToolOutput) {
    assert_eq!(actual.is_error, expected.is_error, "is_error");
    let (a, e) = (actual.content.as_bytes(), expected.content.as_bytes());
    if a != e {
        let at = a.iter().zip(e).take_while(|(x, y)| x == y).count();
        let show = |s: &[u8]| {
            String::from_utf8_lossy(&s[at.saturating_sub(40)..(at + 80).min(s.len())]).into_owned()
        };
        panic!(
            "outputs differ at byte {at} (lengths {} and {}):\n actual: {:?}\n expected: {:?}",
            a.len(),
            e.len(),
            show(a),
            show(e)
        );
    }
}

fn set_mtime(path: &Path, secs: u64) {
    let file = File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

// ---- arguments and the work dir ----

#[test]
fn bad_arguments_are_tool_errors_naming_the_argument() {
    let dir = TempDir::new();
    let d = dir.path();
    assert_eq!(
        run_in(d, "read", json!({})),
        err("read: missing required argument `path`")
    );
    assert_eq!(
        run_in(d, "bash", json!({"command": "true", "timeout": "10"})),
        err("bash: argument `timeout` must be an integer, got the string \"10\"")
    );
    assert_eq!(
        run_in(d, "bash", json!({"command": "true", "timeout": 601})),
        err("bash: argument `timeout` must be at most 600, got 601")
    );
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "a", "old_string": "x", "new_string": "y", "replace_all": "yes"})
        ),
        err(
            "edit: argument `replace_all` must be a boolean (true or false), got the string \"yes\""
        )
    );
    assert_eq!(
        run_in(d, "webfetch", json!({"url": "http://x", "format": "pdf"})),
        err(
            "webfetch: argument `format` must be one of \"markdown\", \"text\", \"html\", got \"pdf\""
        )
    );
    assert_eq!(
        run_in(d, "glob", json!("**/*")),
        err("glob: the input must be a JSON object of arguments, got the string \"**/*\"")
    );
    assert_eq!(
        run_in(d, "nope", json!({})),
        err("unknown tool `nope`; the tools are: bash, read, write, edit, glob, grep, webfetch")
    );
}

#[test]
fn no_work_dir_is_an_error_for_bash_and_file_tools() {
    let cancel = Cancel::new();
    let ctx = ToolCtx {
        work_dir: None,
        cancel: &cancel,
    };
    let expected = "this session has no work_dir, so bash and the file tools are unavailable; \
                    create the session with a work_dir to use them";
    for (name, input) in [
        ("bash", json!({"command": "pwd"})),
        ("read", json!({"path": "a"})),
        ("write", json!({"path": "a", "content": ""})),
        (
            "edit",
            json!({"path": "a", "old_string": "a", "new_string": "b"}),
        ),
        ("glob", json!({"pattern": "*"})),
        ("grep", json!({"pattern": "a"})),
    ] {
        let out = tools::run(name, &input, &ctx);
        assert_eq!(out, err(&format!("{name}: {expected}")));
    }
}

#[test]
fn paths_outside_the_work_dir_are_refused() {
    let outside = TempDir::new();
    put(&outside, "secret.txt", "secret\n");
    let dir = TempDir::new();
    let d = dir.path();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), d.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.join("linkdir")).unwrap();
    let secret = outside.path().join("secret.txt");
    let refused = |tool: &str, input: &str, resolved: &Path| {
        err(&format!(
            "{tool}: argument `path`: `{input}` resolves to {}, which is outside the work dir {}; \
             only paths inside the work dir are allowed (use a relative path)",
            resolved.display(),
            d.display()
        ))
    };
    let dotdot = format!(
        "../{}/secret.txt",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    assert_eq!(
        run_in(d, "read", json!({"path": dotdot})),
        refused("read", &dotdot, &secret)
    );
    let absolute = secret.to_str().unwrap();
    assert_eq!(
        run_in(d, "read", json!({"path": absolute})),
        refused("read", absolute, &secret)
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "link.txt"})),
        refused("read", "link.txt", &secret)
    );
    // A new file under a symlinked folder: the nearest existing ancestor decides.
    assert_eq!(
        run_in(
            d,
            "write",
            json!({"path": "linkdir/new/x.txt", "content": "x"})
        ),
        refused(
            "write",
            "linkdir/new/x.txt",
            &outside.path().join("new/x.txt")
        )
    );
    assert!(!outside.path().join("new").exists());
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "link.txt", "old_string": "secret", "new_string": "x"})
        ),
        refused("edit", "link.txt", &secret)
    );
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "secret", "path": "linkdir"})),
        refused("grep", "linkdir", outside.path())
    );
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "*", "path": ".."})),
        refused("glob", "..", d.parent().unwrap())
    );
    // Walking the work dir does not follow symlinks out of it.
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "secret"})),
        ok("no matches for `secret` in `.`")
    );
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "secret\n");
}

#[test]
fn symlinks_inside_the_work_dir_are_fine() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "real/a.txt", "hello\n");
    std::os::unix::fs::symlink(d.join("real"), d.join("alias")).unwrap();
    assert_eq!(
        run_in(d, "read", json!({"path": "alias/a.txt"})),
        ok("     1\thello")
    );
}

// ---- bash ----

#[test]
fn bash_merges_stdout_and_stderr_and_reports_the_exit_code() {
    let dir = TempDir::new();
    let d = dir.path();
    assert_eq!(
        run_in(
            d,
            "bash",
            json!({"command": "echo out; echo err >&2; echo out2; exit 3"})
        ),
        err("out\nerr\nout2\n\nexit code: 3")
    );
    assert_eq!(
        run_in(d, "bash", json!({"command": "pwd"})),
        ok(&format!("{}\n\nexit code: 0", d.display()))
    );
    assert_eq!(
        run_in(d, "bash", json!({"command": "true"})),
        ok("(no output)\n\nexit code: 0")
    );
    assert_eq!(
        run_in(d, "bash", json!({"command": "  "})),
        err("bash: argument `command` is empty")
    );
}

#[test]
fn bash_output_over_the_cap_keeps_head_and_tail() {
    let dir = TempDir::new();
    let out = run_in(
        dir.path(),
        "bash",
        json!({"command": "echo START; head -c 1048576 /dev/zero | tr '\\0' a; echo; echo END"}),
    );
    let note = "\n\n[… output truncated: 1048587 bytes in all; showing the first 15000 and the \
                last 15000 characters …]\n\n";
    let expected = format!(
        "START\n{}{note}{}\nEND\n\nexit code: 0",
        "a".repeat(14_994),
        "a".repeat(14_995)
    );
    assert_same(&out, &ok(&expected));
}

fn gone(pid: u32) -> bool {
    // Killed and reaped, or a zombie waiting for a reaper that this container may lack.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn bash_timeout_kills_the_whole_process_group() {
    let dir = TempDir::new();
    let started = Instant::now();
    let out = run_in(
        dir.path(),
        "bash",
        json!({"command": "sleep 100 & echo $!; wait", "timeout": 1}),
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let pid: u32 = out.content.lines().next().unwrap().parse().unwrap();
    assert_eq!(
        out,
        err(&format!(
            "{pid}\n\n[timed out after 1 s: the command and its children were killed; raise \
             `timeout` (max 600) or run long jobs in the background with their output sent to a \
             file]"
        ))
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    while !gone(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone(pid), "the background sleep {pid} survived");
}

#[test]
fn bash_cancel_stops_a_running_command_quickly() {
    let dir = TempDir::new();
    let cancel = Cancel::new();
    // Cancel once the command has visibly started (it touches a file).
    let marker = dir.path().join("started");
    let canceller = {
        let cancel = cancel.clone();
        let marker = marker.clone();
        std::thread::spawn(move || {
            while !marker.exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            cancel.cancel();
            Instant::now()
        })
    };
    let out = tools::run(
        "bash",
        &json!({"command": "echo begun; touch started; sleep 30"}),
        &ToolCtx {
            work_dir: Some(dir.path()),
            cancel: &cancel,
        },
    );
    let cancelled_at = canceller.join().unwrap();
    assert!(
        cancelled_at.elapsed() < Duration::from_millis(1500),
        "{:?}",
        cancelled_at.elapsed()
    );
    assert_eq!(
        out,
        err("begun\n\n[aborted: the command and its children were killed]")
    );
}

#[test]
fn bash_does_not_wait_for_a_background_child_holding_the_pipe() {
    let dir = TempDir::new();
    let started = Instant::now();
    let out = run_in(dir.path(), "bash", json!({"command": "sleep 20 & echo $!"}));
    assert!(started.elapsed() < Duration::from_secs(2));
    let pid: u32 = out.content.lines().next().unwrap().parse().unwrap();
    assert_eq!(
        out,
        ok(&format!(
            "{pid}\n[a background process still holds the output open; later output is not \
             shown]\n\nexit code: 0"
        ))
    );
    Command::new("kill").arg(pid.to_string()).status().unwrap();
}

// ---- read ----

#[test]
fn read_numbers_lines_and_pages_with_offset_and_limit() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "a.txt", "one\ntwo\r\nthree\nfour\n");
    assert_eq!(
        run_in(d, "read", json!({"path": "a.txt"})),
        ok("     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour")
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "a.txt", "offset": 2, "limit": 2})),
        ok("     2\ttwo\n     3\tthree\n\n(showing lines 2-3 of 4; use offset=4 to read on)")
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "a.txt", "offset": 9})),
        err("read: `offset` 9 is past the end of `a.txt`, which has 4 lines")
    );
    put(&dir, "empty.txt", "");
    assert_eq!(
        run_in(d, "read", json!({"path": "empty.txt"})),
        ok("(`empty.txt` is empty)")
    );
}

#[test]
fn read_cuts_long_lines_and_defaults_to_2000_lines() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "long.txt", format!("{}\n", "x".repeat(2500)));
    assert_eq!(
        run_in(d, "read", json!({"path": "long.txt"})),
        ok(&format!(
            "     1\t{}… [500 more chars cut]",
            "x".repeat(2000)
        ))
    );
    let many: String = (1..=2500).map(|i| format!("{i}\n")).collect();
    put(&dir, "many.txt", many);
    let out = run_in(d, "read", json!({"path": "many.txt"}));
    assert!(
        out.content.ends_with(
            "  2000\t2000\n\n(showing lines 1-2000 of 2500; use offset=2001 to read on)"
        )
    );
}

#[test]
fn read_refuses_binary_missing_and_directories() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "bin.dat", [0x7f, b'E', b'L', b'F', 0, 1, 2]);
    std::fs::create_dir(d.join("sub")).unwrap();
    assert_eq!(
        run_in(d, "read", json!({"path": "bin.dat"})),
        err("read: `bin.dat` is a binary file (7 bytes); read shows text files only")
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "nope/missing.rs"})),
        err("read: file not found: `nope/missing.rs` (use glob to find the right path)")
    );
    assert!(
        Command::new("mkfifo")
            .arg(d.join("fifo"))
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "fifo"})),
        err("read: `fifo` is not a regular file")
    );
    assert_eq!(
        run_in(d, "read", json!({"path": "sub/"})),
        err("read: `sub/` is a directory, not a file; use glob (e.g. pattern `sub/*`) to list it")
    );
}

#[test]
fn read_shows_invalid_utf8_lossily_with_a_note() {
    let dir = TempDir::new();
    put(&dir, "latin1.txt", b"caf\xe9\n");
    assert_eq!(
        run_in(dir.path(), "read", json!({"path": "latin1.txt"})),
        ok(
            "     1\tcaf\u{fffd}\n\n(the file is not valid UTF-8: invalid bytes are shown as \u{fffd})"
        )
    );
}

// ---- write ----

#[test]
fn write_creates_parents_and_replaces_atomically() {
    let dir = TempDir::new();
    let d = dir.path();
    assert_eq!(
        run_in(
            d,
            "write",
            json!({"path": "a/b/c.txt", "content": "héllo\n"})
        ),
        ok("wrote 7 bytes to `a/b/c.txt` (created)")
    );
    assert_eq!(
        std::fs::read_to_string(d.join("a/b/c.txt")).unwrap(),
        "héllo\n"
    );
    assert_eq!(
        run_in(d, "write", json!({"path": "a/b/c.txt", "content": ""})),
        ok("wrote 0 bytes to `a/b/c.txt` (replaced)")
    );
    assert_eq!(std::fs::read_to_string(d.join("a/b/c.txt")).unwrap(), "");
    // No temp file is left behind.
    let names: Vec<String> = std::fs::read_dir(d.join("a/b"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["c.txt"]);
    assert_eq!(
        run_in(d, "write", json!({"path": "a", "content": "x"})),
        err("write: `a` is a directory; give the path of a file")
    );
}

#[test]
fn write_keeps_the_permissions_of_a_replaced_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new();
    let script = put(&dir, "run.sh", "#!/bin/sh\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    run_in(
        dir.path(),
        "write",
        json!({"path": "run.sh", "content": "#!/bin/sh\necho\n"}),
    );
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
}

// ---- edit ----

#[test]
fn edit_replaces_exactly_once_or_all() {
    let dir = TempDir::new();
    let d = dir.path();
    let file = put(&dir, "f.rs", "let a = 1;\nlet b = 1;\n");
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "f.rs", "old_string": "a = 1", "new_string": "a = 2"})
        ),
        ok("replaced 1 occurrence in `f.rs`")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "let a = 2;\nlet b = 1;\n"
    );
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "f.rs", "old_string": "let", "new_string": "const", "replace_all": true})
        ),
        ok("replaced 2 occurrences in `f.rs`")
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "const a = 2;\nconst b = 1;\n"
    );
}

#[test]
fn edit_fails_clearly() {
    let dir = TempDir::new();
    let d = dir.path();
    let file = put(&dir, "f.rs", "x\nx\n");
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "f.rs", "old_string": "y", "new_string": "z"})
        ),
        err(
            "edit: `old_string` was not found in `f.rs`; read the file and copy the text \
             exactly, whitespace and indentation included"
        )
    );
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "f.rs", "old_string": "x", "new_string": "z"})
        ),
        err(
            "edit: `old_string` was found 2 times in `f.rs`; add surrounding lines to make it \
             unique, or set `replace_all` to true to replace all 2"
        )
    );
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "f.rs", "old_string": "x", "new_string": "x"})
        ),
        err("edit: `old_string` and `new_string` are equal, so there is nothing to change")
    );
    assert_eq!(
        run_in(
            d,
            "edit",
            json!({"path": "g.rs", "old_string": "x", "new_string": "z"})
        ),
        err("edit: file not found: `g.rs` (to create a file, use write)")
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x\nx\n");
}

// ---- glob ----

#[test]
fn glob_lists_newest_first_and_skips_vendor_folders() {
    let dir = TempDir::new();
    let d = dir.path();
    for (rel, mtime) in [
        ("old.rs", 1_000),
        ("src/new.rs", 3_000),
        ("src/deep/mid.rs", 2_000),
        ("src/notes.txt", 4_000),
        (".git/hook.rs", 5_000),
        ("node_modules/x/y.rs", 5_000),
        ("target/debug/z.rs", 5_000),
    ] {
        let path = put(&dir, rel, "");
        set_mtime(&path, mtime);
    }
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "**/*.rs"})),
        ok("src/new.rs\nsrc/deep/mid.rs\nold.rs")
    );
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "*.rs", "path": "src"})),
        ok("src/new.rs")
    );
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "*.go"})),
        ok("no files match `*.go` in `.`")
    );
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "a{b"})),
        err(
            "glob: `pattern` `a{b` is not a valid glob: error parsing glob 'a{b': unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"
        )
    );
    assert_eq!(
        run_in(d, "glob", json!({"pattern": "*", "path": "nope"})),
        err("glob: `path` `nope` does not exist")
    );
}

#[test]
fn glob_stops_at_100_with_a_note() {
    let dir = TempDir::new();
    for i in 0..120 {
        let path = put(&dir, &format!("f{i:03}.txt"), "");
        set_mtime(&path, 1_000 + i);
    }
    let out = run_in(dir.path(), "glob", json!({"pattern": "*.txt"}));
    let expected: Vec<String> = (20..120).rev().map(|i| format!("f{i:03}.txt")).collect();
    assert_eq!(
        out,
        ok(&format!(
            "{}\n\n(20 more matches not shown: showing the 100 newest of 120; narrow the pattern \
             or the path)",
            expected.join("\n")
        ))
    );
}

// ---- grep ----

#[test]
fn grep_prints_path_line_text_and_filters_by_include() {
    let dir = TempDir::new();
    let d = dir.path();
    put(
        &dir,
        "src/main.rs",
        "fn main() {\n    helper();\n}\nfn helper() {}\n",
    );
    put(&dir, "src/lib.txt", "fn not_rust\n");
    put(&dir, "README.md", "no functions here\n");
    put(&dir, "node_modules/m/index.rs", "fn vendored\n");
    put(&dir, ".git/x.rs", "fn git\n");
    put(&dir, "target/t.rs", "fn built\n");
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "^fn \\w+"})),
        ok("src/lib.txt:1: fn not_rust\nsrc/main.rs:1: fn main() {\nsrc/main.rs:4: fn helper() {}")
    );
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "fn", "include": "*.rs"})),
        ok("src/main.rs:1: fn main() {\nsrc/main.rs:4: fn helper() {}")
    );
    assert_eq!(
        run_in(
            d,
            "grep",
            json!({"pattern": "helper", "path": "src/main.rs"})
        ),
        ok("src/main.rs:2:     helper();\nsrc/main.rs:4: fn helper() {}")
    );
    assert_eq!(
        run_in(
            d,
            "grep",
            json!({"pattern": "fn", "include": "src/*.{txt,md}"})
        ),
        ok("src/lib.txt:1: fn not_rust")
    );
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "zzz", "include": "*.rs"})),
        ok("no matches for `zzz` in `.` (files matching `*.rs`)")
    );
}

#[test]
fn grep_skips_binary_files_and_reports_bad_patterns() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "blob.bin", b"needle\0\x01\x02needle\n");
    put(&dir, "text.txt", "a needle\n");
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "needle"})),
        ok("text.txt:1: a needle")
    );
    let out = run_in(d, "grep", json!({"pattern": "(unclosed"}));
    assert!(out.is_error);
    assert!(
        out.content
            .starts_with("grep: `pattern` is not a valid regex: regex parse error:")
    );
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "a", "include": "[z"})),
        err(
            "grep: `include` `[z` is not a valid glob: error parsing glob '[z': unclosed character class; missing ']'"
        )
    );
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "a", "path": "missing"})),
        err("grep: `path` `missing` does not exist")
    );
}

#[test]
fn grep_stops_at_100_matches_and_cuts_long_lines() {
    let dir = TempDir::new();
    let d = dir.path();
    let lines: String = (1..=150).map(|i| format!("hit {i}\n")).collect();
    put(&dir, "many.txt", lines);
    let expected: Vec<String> = (1..=100)
        .map(|i| format!("many.txt:{i}: hit {i}"))
        .collect();
    assert_eq!(
        run_in(d, "grep", json!({"pattern": "hit"})),
        ok(&format!(
            "{}\n\n(stopped after 100 matches; there are more: narrow the pattern, the path or \
             `include`)",
            expected.join("\n")
        ))
    );
    put(&dir, "long.txt", format!("start {}\n", "y".repeat(1000)));
    assert_eq!(
        run_in(
            d,
            "grep",
            json!({"pattern": "start", "include": "long.txt"})
        ),
        ok(&format!(
            "long.txt:1: start {}… [506 more chars cut]",
            "y".repeat(494)
        ))
    );
}

#[test]
fn grep_counts_lines_across_read_blocks() {
    // More than one 256 KiB block, so line numbers must carry over between blocks.
    let dir = TempDir::new();
    let mut text = String::new();
    for i in 1..=40_000 {
        text.push_str(&format!("line number {i}\n"));
    }
    put(&dir, "big.txt", text);
    assert_eq!(
        run_in(
            dir.path(),
            "grep",
            json!({"pattern": "^line number (1|39999)$"})
        ),
        ok("big.txt:1: line number 1\nbig.txt:39999: line number 39999")
    );
}

// ---- webfetch ----

const PAGE: &str = r#"<!doctype html><html><head><title>Doc</title>
<script>var x = "<p>not text</p>";</script><style>body { color: red }</style></head>
<body><nav><ul><li><a href="/">Home</a></li></ul></nav>
<h1>Hello &amp; welcome</h1>
<p>Read the <a href="/docs/guide.html">guide</a> first.</p>
<h2>Steps</h2>
<ol><li>Install</li><li>Run <code>wingman serve</code></li></ol>
<pre><code>cargo build --release
./wingman</code></pre>
<footer>© 2026</footer></body></html>"#;

/// Serves a few fixed routes on 127.0.0.1:0 until the test binary exits.
fn serve() -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = *server.server_addr().to_ip().unwrap();
    std::thread::spawn(move || {
        for request in server.incoming_requests().flatten() {
            let url = request.url().to_string();
            let header = |k: &str, v: &str| tiny_http::Header::from_bytes(k, v).unwrap();
            let html = header("Content-Type", "text/html; charset=utf-8");
            let response = if url == "/page" {
                tiny_http::Response::from_string(PAGE).with_header(html)
            } else if let Some(n) = url.strip_prefix("/hop/") {
                let n: u32 = n.parse().unwrap_or(0);
                let next = if n == 0 {
                    "/page".to_string()
                } else {
                    format!("/hop/{}", n - 1)
                };
                tiny_http::Response::from_string("")
                    .with_status_code(302)
                    .with_header(header("Location", &next))
            } else if url == "/big" {
                tiny_http::Response::from_data(vec![b'z'; 6 * 1024 * 1024])
                    .with_header(header("Content-Type", "text/plain"))
            } else if url == "/json" {
                tiny_http::Response::from_string("{\"a\": 1}")
                    .with_header(header("Content-Type", "application/json"))
            } else if url == "/png" {
                tiny_http::Response::from_data(vec![0x89, b'P', b'N', b'G', 0, 0])
                    .with_header(header("Content-Type", "image/png"))
            } else {
                tiny_http::Response::from_string("<html><body><h1>Not here</h1></body></html>")
                    .with_status_code(404)
                    .with_header(html)
            };
            let _ = request.respond(response);
        }
    });
    format!("http://{addr}")
}

#[test]
fn webfetch_turns_html_into_markdown_text_or_raw_html() {
    let base = serve();
    let dir = TempDir::new();
    let d = dir.path();
    let url = format!("{base}/page");
    assert_eq!(
        run_in(d, "webfetch", json!({"url": url})),
        ok(&format!(
            "# Hello & welcome\n\nRead the [guide]({base}/docs/guide.html) first.\n\n## Steps\n\n\
             1. Install\n2. Run `wingman serve`\n\n```\ncargo build --release\n./wingman\n```"
        ))
    );
    assert_eq!(
        run_in(d, "webfetch", json!({"url": url, "format": "text"})),
        ok(
            "Hello & welcome\n\nRead the guide first.\n\nSteps\n\n1. Install\n2. Run wingman \
            serve\n\ncargo build --release\n./wingman"
        )
    );
    assert_eq!(
        run_in(d, "webfetch", json!({"url": url, "format": "html"})),
        ok(PAGE)
    );
    assert_eq!(
        run_in(d, "webfetch", json!({"url": format!("{base}/json")})),
        ok("{\"a\": 1}")
    );
}

#[test]
fn webfetch_follows_a_bounded_number_of_redirects() {
    let base = serve();
    let dir = TempDir::new();
    let out = run_in(
        dir.path(),
        "webfetch",
        json!({"url": format!("{base}/hop/3")}),
    );
    assert!(!out.is_error);
    assert!(out.content.starts_with("# Hello & welcome"));
    let url = format!("{base}/hop/12");
    assert_eq!(
        run_in(dir.path(), "webfetch", json!({"url": url})),
        err(&format!(
            "webfetch: {url} redirected more than 10 times; giving up"
        ))
    );
}

#[test]
fn webfetch_errors_on_404_binary_and_non_http_urls() {
    let base = serve();
    let dir = TempDir::new();
    let d = dir.path();
    assert_eq!(
        run_in(d, "webfetch", json!({"url": format!("{base}/missing")})),
        err(&format!(
            "webfetch: HTTP 404 Not Found from {base}/missing\n\nNot here"
        ))
    );
    assert_eq!(
        run_in(d, "webfetch", json!({"url": format!("{base}/png")})),
        err(&format!(
            "webfetch: {base}/png returned binary content (image/png); webfetch returns text only"
        ))
    );
    for url in ["file:///etc/passwd", "ftp://example.com/x", "example.com"] {
        assert_eq!(
            run_in(d, "webfetch", json!({"url": url})),
            err(&format!(
                "webfetch: `url` must start with http:// or https://, got `{url}`"
            ))
        );
    }
}

#[test]
fn webfetch_cuts_bodies_over_5_mb() {
    let base = serve();
    let dir = TempDir::new();
    let out = run_in(
        dir.path(),
        "webfetch",
        json!({"url": format!("{base}/big")}),
    );
    assert_same(
        &out,
        &ok(&format!(
            // tiny_http sends big bodies chunked, so the size is unknown.
            "{}\n\n[body cut at 5242880 bytes (5 MB) of a larger body; the rest was not fetched]",
            "z".repeat(5 * 1024 * 1024)
        )),
    );
}

// ---- the `wingman tool` command ----

fn wingman_tool(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wingman"))
        .arg("tool")
        .args(args)
        .arg("--work-dir")
        .arg(dir)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn wingman_tool_prints_the_result_and_exits_1_on_a_tool_error() {
    let dir = TempDir::new();
    let d = dir.path();
    put(&dir, "a.txt", "hi\n");
    assert_eq!(
        wingman_tool(d, &["read", r#"{"path": "a.txt"}"#]),
        (Some(0), "     1\thi\n".to_string())
    );
    assert_eq!(
        wingman_tool(d, &["read", r#"{"path": "b.txt"}"#]),
        (
            Some(1),
            "read: file not found: `b.txt` (use glob to find the right path)\n".to_string()
        )
    );
    let (code, _) = wingman_tool(d, &["read", "not json"]);
    assert_eq!(code, Some(2));
    let mut file = File::create(d.join("w.sh")).unwrap();
    writeln!(file, "exit 0").unwrap();
    assert_eq!(
        wingman_tool(d, &["bash", r#"{"command": "bash w.sh; echo done"}"#]),
        (Some(0), "done\n\nexit code: 0\n".to_string())
    );
}
