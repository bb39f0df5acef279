//! The blocking HTTP side of one provider call, run on its own thread.
//!
//! ureq blocks in `read`, and a blocked read cannot watch a cancel flag. So each
//! attempt runs on a reader thread that sends what it gets (SSE frames, an error
//! response, a broken connection) over a bounded channel; the calling thread waits
//! in short slices and can walk away at any moment (cancel), dropping the receiver.
//! The reader thread then ends at its next send, or at the agent's per-read timeout
//! (the idle timeout) if the provider stays silent: it never outlives the connection.
//! The bounded channel passes a slow consumer's back-pressure on to TCP.

use std::io::{BufReader, Read};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use super::retry::parse_retry_after;
use super::sse::{Frame, SseError, SseReader};

/// Error bodies are short JSON; a proxy's HTML page is cut here.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Frames read ahead of the consumer.
const CHANNEL_DEPTH: usize = 64;

/// One request, ready to send (and to send again on retry).
pub(crate) struct Prepared {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub(crate) enum Incoming {
    Frame(Frame),
    /// The body ended cleanly.
    End,
    /// A non-2xx response.
    Rejected {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// The body broke the SSE rules (a line over the cap).
    Unreadable(String),
    /// No response, or the connection failed mid-body.
    Broken {
        connected: bool,
        timed_out: bool,
        detail: String,
    },
}

/// Starts one attempt; its results arrive on the returned channel. If the thread
/// cannot be spawned the channel is simply disconnected.
pub(crate) fn start(agent: &ureq::Agent, request: Arc<Prepared>) -> Receiver<Incoming> {
    let (tx, rx) = sync_channel(CHANNEL_DEPTH);
    let agent = agent.clone();
    let _ = std::thread::Builder::new()
        .name("provider-read".into())
        .spawn(move || run(&agent, &request, &tx));
    rx
}

fn run(agent: &ureq::Agent, request: &Prepared, tx: &SyncSender<Incoming>) {
    let mut builder = agent.post(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    let response = match builder.send(&request.body[..]) {
        Ok(response) => response,
        Err(e) => {
            let (timed_out, detail) = describe(&e);
            let _ = tx.send(Incoming::Broken {
                // Only a connected request can wait for a response that never comes.
                connected: timed_out,
                timed_out,
                detail,
            });
            return;
        }
    };
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = parse_retry_after(header("retry-after-ms"), header("retry-after"));
        let mut body = Vec::new();
        // A body that breaks off is still worth quoting as far as it got.
        let _ = response
            .into_body()
            .into_reader()
            .take(ERROR_BODY_LIMIT)
            .read_to_end(&mut body);
        let _ = tx.send(Incoming::Rejected {
            status,
            retry_after,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        return;
    }
    let mut frames = SseReader::new(BufReader::new(response.into_body().into_reader()));
    loop {
        let incoming = match frames.next_frame() {
            Ok(Some(frame)) => Incoming::Frame(frame),
            Ok(None) => Incoming::End,
            Err(SseError::Io(e)) => {
                let timed_out = is_timeout(&e);
                Incoming::Broken {
                    connected: true,
                    timed_out,
                    detail: e.to_string(),
                }
            }
            Err(e @ SseError::LineTooLong) => Incoming::Unreadable(e.to_string()),
        };
        let last = !matches!(incoming, Incoming::Frame(_));
        if tx.send(incoming).is_err() || last {
            return;
        }
    }
}

/// Whether `e` is the idle timeout (a connect timeout is a connection failure), and
/// what to say about it.
fn describe(e: &ureq::Error) -> (bool, String) {
    match e {
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => {
            (false, e.to_string())
        }
        ureq::Error::Timeout(_) => (true, e.to_string()),
        ureq::Error::Io(io) => (is_timeout(io), io.to_string()),
        _ => (false, e.to_string()),
    }
}

/// ureq reports its own timeouts wrapped in an `io::Error`; the OS reports socket
/// timeouts as `TimedOut` or `WouldBlock`.
fn is_timeout(e: &std::io::Error) -> bool {
    let wrapped = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)));
    wrapped
        || matches!(
            e.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        )
}
