//! A vendor-neutral Server-Sent Events frame reader over any `BufRead`.
//!
//! It knows the SSE line grammar and nothing about providers: lines end in `\n` or
//! `\r\n`; `:` lines are comments (keep-alives); `field:value` with or without the
//! space after the colon; several `data:` lines of one event join with `\n`; a blank
//! line dispatches the event, and at EOF a last event without its blank line is still
//! dispatched. Lines are assembled as bytes and decoded once complete, so a UTF-8
//! character cut across reads (or HTTP chunks) arrives whole. A line longer than
//! `MAX_LINE` is an error rather than unbounded memory.

use std::fmt;
use std::io::{self, BufRead};

/// Large enough for a whole tool call sent in one frame (Ollama does that: a `write`
/// of a big file arrives as one `data:` line), small enough to bound memory.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// One dispatched event. `event` is empty when the frame had no `event:` line
/// (OpenAI sends none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub event: String,
    pub data: String,
}

#[derive(Debug)]
pub enum SseError {
    Io(io::Error),
    LineTooLong,
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::Io(e) => write!(f, "{e}"),
            SseError::LineTooLong => write!(f, "an event line is longer than {MAX_LINE} bytes"),
        }
    }
}

pub struct SseReader<R> {
    inner: R,
    max_line: usize,
    line: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    eof: bool,
}

impl<R: BufRead> SseReader<R> {
    pub fn new(inner: R) -> SseReader<R> {
        SseReader::with_max_line(inner, MAX_LINE)
    }

    pub fn with_max_line(inner: R, max_line: usize) -> SseReader<R> {
        SseReader {
            inner,
            max_line,
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            eof: false,
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, SseError> {
        while !self.eof {
            if !self.read_line()? {
                self.eof = true;
                // A last line without its newline still counts.
                if !self.line.is_empty() {
                    self.take_line();
                }
                return Ok(self.dispatch());
            }
            if self.line.is_empty() {
                if let Some(frame) = self.dispatch() {
                    return Ok(Some(frame));
                }
            } else {
                self.take_line();
            }
        }
        Ok(None)
    }

    /// Reads one line (without its terminator) into `self.line`; false at EOF with
    /// no terminator seen (the partial line, if any, stays in `self.line`).
    fn read_line(&mut self) -> Result<bool, SseError> {
        self.line.clear();
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SseError::Io(e)),
            };
            if buf.is_empty() {
                return Ok(false);
            }
            let (taken, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let end = if done { taken - 1 } else { taken };
            self.line.extend_from_slice(&buf[..end]);
            self.inner.consume(taken);
            if self.line.len() > self.max_line {
                return Err(SseError::LineTooLong);
            }
            if done {
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                return Ok(true);
            }
        }
    }

    /// Applies one non-empty line to the event under construction.
    fn take_line(&mut self) {
        let line = String::from_utf8_lossy(&self.line);
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `id`, `retry` and unknown fields mean nothing to a one-shot stream.
            _ => {}
        }
    }

    fn dispatch(&mut self) -> Option<Frame> {
        let event = std::mem::take(&mut self.event);
        let data = std::mem::take(&mut self.data);
        // An event without data lines is not dispatched (the SSE rule).
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(Frame { event, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    /// A reader that hands out its bytes in the given pieces, one per `read`.
    struct Pieces(Vec<Vec<u8>>);

    impl Read for Pieces {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Ok(0);
            }
            let piece = &mut self.0[0];
            let n = piece.len().min(out.len());
            out[..n].copy_from_slice(&piece[..n]);
            piece.drain(..n);
            if piece.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    fn frames_of(pieces: Vec<Vec<u8>>) -> Vec<Frame> {
        // Capacity 1 would hide cuts; a small buffer keeps reads aligned to pieces.
        // An empty piece would read as EOF.
        let pieces = pieces.into_iter().filter(|p| !p.is_empty()).collect();
        let mut reader = SseReader::new(BufReader::with_capacity(64, Pieces(pieces)));
        let mut frames = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            frames.push(frame);
        }
        frames
    }

    fn frame(event: &str, data: &str) -> Frame {
        Frame {
            event: event.to_string(),
            data: data.to_string(),
        }
    }

    #[test]
    fn line_grammar() {
        let input = ": keep-alive\r\nevent: a\r\ndata:x\r\ndata: y\r\n\r\n\
                     event: empty\n\ndata\nid: 7\nretry: 10\nfoo: bar\n\ndata: last";
        assert_eq!(
            frames_of(vec![input.as_bytes().to_vec()]),
            vec![frame("a", "x\ny"), frame("", ""), frame("", "last")]
        );
    }

    #[test]
    fn data_keeps_all_but_one_leading_space() {
        assert_eq!(
            frames_of(vec![b"data:  two\n\n".to_vec()]),
            vec![frame("", " two")]
        );
    }

    #[test]
    fn long_line_is_an_error() {
        let mut reader = SseReader::with_max_line(&b"data: 0123456789\n\n"[..], 8);
        assert!(matches!(reader.next_frame(), Err(SseError::LineTooLong)));
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            frames_of(vec![b"data: a\xffb\n\n".to_vec()]),
            vec![frame("", "a\u{fffd}b")]
        );
    }

    /// PROTOCOLS.md §4, verbatim (shared with the integration tests).
    const TRANSCRIPTS: [&str; 5] = [
        include_str!("../../tests/support/transcripts/anthropic_text.sse"),
        include_str!("../../tests/support/transcripts/anthropic_tool_use.sse"),
        include_str!("../../tests/support/transcripts/anthropic_error.sse"),
        include_str!("../../tests/support/transcripts/openai_text.sse"),
        include_str!("../../tests/support/transcripts/openai_tool_calls.sse"),
    ];

    /// The transcripts of PROTOCOLS.md §4, cut in two at every byte boundary (which
    /// also cuts every multi-byte character), read the same as uncut.
    #[test]
    fn transcripts_cut_at_every_byte() {
        for transcript in TRANSCRIPTS {
            let bytes = transcript.as_bytes();
            let whole = frames_of(vec![bytes.to_vec()]);
            let data_lines = transcript
                .lines()
                .filter(|l| l.starts_with("data: "))
                .count();
            assert_eq!(whole.len(), data_lines, "{transcript}");
            for cut in 0..=bytes.len() {
                let pieces = vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()];
                assert_eq!(frames_of(pieces), whole, "cut at {cut}");
            }
            // And one byte per read.
            let bytewise = bytes.iter().map(|b| vec![*b]).collect();
            assert_eq!(frames_of(bytewise), whole);
            // CRLF line endings read the same.
            let crlf = transcript.replace('\n', "\r\n");
            assert_eq!(frames_of(vec![crlf.into_bytes()]), whole);
        }
    }
}
