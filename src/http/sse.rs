//! Server-sent events out: one HTTP chunk per event, flushed at once.
//!
//! tiny_http's own chunked encoder buffers 8 KiB and would hold events back, so
//! the stream is written by hand on the raw connection (`Request::into_writer`):
//! the head, then `<hex len>\r\n<frame>\r\n` per event, then the zero chunk.
//! A failed write means the client has gone; so does the disconnect watch.

use std::io::{self, Write};

use serde_json::Value;

use super::disconnect::Watch;

pub(super) const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\
Content-Type: text/event-stream; charset=utf-8\r\n\
Cache-Control: no-cache\r\n\
X-Accel-Buffering: no\r\n\
Transfer-Encoding: chunked\r\n\
Connection: close\r\n\r\n";

pub struct SseWriter<'a> {
    out: &'a mut dyn Write,
    watch: Option<Watch>,
    failed: bool,
}

impl<'a> SseWriter<'a> {
    pub(crate) fn new(out: &'a mut dyn Write, watch: Option<Watch>) -> SseWriter<'a> {
        SseWriter {
            out,
            watch,
            failed: false,
        }
    }

    /// Writes `event: NAME` / `data: JSON` as one chunk and flushes it.
    pub fn event(&mut self, name: &str, data: &Value) -> io::Result<()> {
        self.chunk(format!("event: {name}\ndata: {data}\n\n").as_bytes())
    }

    /// Writes a comment line (`: TEXT`), ignored by SSE clients.
    pub fn comment(&mut self, text: &str) -> io::Result<()> {
        self.chunk(format!(": {text}\n\n").as_bytes())
    }

    /// True once the client is known to have gone: a write failed, or the
    /// connection was seen closed by the peer while the stream was silent.
    pub fn client_gone(&self) -> bool {
        self.failed || self.watch.as_ref().is_some_and(Watch::peer_closed)
    }

    fn chunk(&mut self, frame: &[u8]) -> io::Result<()> {
        let result = (|| {
            write!(self.out, "{:x}\r\n", frame.len())?;
            self.out.write_all(frame)?;
            self.out.write_all(b"\r\n")?;
            self.out.flush()
        })();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// The last chunk; the connection closes after it.
    pub(crate) fn finish(&mut self) {
        if !self.failed {
            let _ = self
                .out
                .write_all(b"0\r\n\r\n")
                .and_then(|()| self.out.flush());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_chunk_per_event() {
        let mut out = Vec::new();
        let mut w = SseWriter::new(&mut out, None);
        w.event("text", &serde_json::json!({"text": "hé"})).unwrap();
        w.comment("keep-alive").unwrap();
        w.finish();
        let frame = "event: text\ndata: {\"text\":\"hé\"}\n\n";
        let want = format!(
            "{:x}\r\n{frame}\r\ne\r\n: keep-alive\n\n\r\n0\r\n\r\n",
            frame.len()
        );
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}
