//! The server's log: timestamped lines on stderr.
//!
//! A closed or full stderr (`wingman serve 2>&1 | head -1`) must never stop the
//! server or its shutdown, so write errors are ignored (`eprintln!` would panic).
//! Callers never pass a secret: the access log holds method, path, status, duration.

use std::io::Write;

pub fn line(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{} {message}", crate::time::now());
}
