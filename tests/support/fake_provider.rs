//! A scripted model provider on 127.0.0.1, for provider-client and agent-loop tests.
//!
//! `FakeProvider::start()` binds a free port and answers each HTTP request with the
//! next queued `Reply`, recording every request (method, path, headers, JSON body).
//! It speaks raw HTTP/1.1 over a `TcpListener` so a test controls the bytes: each
//! body chunk is written and flushed on its own, and a reply can wait for the test
//! (`Reply::hold`), go silent forever (`then_silence`, `Reply::silent`) or drop the
//! connection mid-body (`then_drop`). One request per connection (`connection:
//! close`). With nothing queued it answers 500 with a JSON error saying so.
//!
//! ```ignore
//! let fake = FakeProvider::start();
//! fake.push(Reply::sse(&AnthropicSse::new().text("Hi").build()));
//! // point an endpoint (or `PUT /provider/auth` base_url) at fake.base_url()
//! let requests = fake.requests();
//! assert_eq!(requests[0].path, "/v1/messages");
//! ```
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use super::sse_bodies::{AnthropicSse, OpenAiSse, transcripts};

/// How often a silent or held reply looks for shutdown.
const POLL: Duration = Duration::from_millis(20);

/// One recorded request. Header names are lowercase; `body` is the parsed JSON
/// (`Value::Null` when empty, a `Value::String` when not JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

/// What to answer one request with.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    /// False for `Reply::silent()`: not even the status line is sent.
    head: bool,
    steps: Vec<Step>,
}

enum Step {
    Chunk(Vec<u8>),
    Hold(Receiver<()>),
    Silence,
    Drop,
}

/// Releases a held reply (dropping it releases too).
pub struct Gate(Sender<()>);

impl Gate {
    pub fn open(self) {
        let _ = self.0.send(());
    }
}

impl Reply {
    /// A status with no body yet; add headers and chunks.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            head: true,
            steps: Vec::new(),
        }
    }

    /// 200 `text/event-stream`, one chunk (written and flushed) per event.
    pub fn sse(body: &str) -> Reply {
        let mut reply = Reply::status(200).header("content-type", "text/event-stream");
        for frame in body.split_inclusive("\n\n") {
            reply = reply.chunk(frame);
        }
        reply
    }

    /// A JSON body, in one chunk (error responses).
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply::status(status)
            .header("content-type", "application/json")
            .chunk(body.to_string())
    }

    /// Reads the request, then never answers, not even with a status line.
    pub fn silent() -> Reply {
        Reply {
            head: false,
            ..Reply::status(200).then_silence()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn chunk(mut self, bytes: impl Into<Vec<u8>>) -> Reply {
        self.steps.push(Step::Chunk(bytes.into()));
        self
    }

    /// Everything added after this waits until the returned gate is opened.
    pub fn hold(mut self) -> (Reply, Gate) {
        let (tx, rx) = channel();
        self.steps.push(Step::Hold(rx));
        (self, Gate(tx))
    }

    /// After what came before, send nothing more while the provider lives.
    pub fn then_silence(mut self) -> Reply {
        self.steps.push(Step::Silence);
        self
    }

    /// After what came before, close the connection without ending the body.
    pub fn then_drop(mut self) -> Reply {
        self.steps.push(Step::Drop);
        self
    }
}

#[derive(Default)]
struct State {
    replies: VecDeque<Reply>,
    requests: Vec<Request>,
}

struct Shared {
    state: Mutex<State>,
    recorded: Condvar,
    shutdown: AtomicBool,
}

pub struct FakeProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FakeProvider {
    pub fn start() -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            recorded: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.shutdown.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(stream, &shared));
                }
            })
        };
        FakeProvider {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT/v1`: ends with the version segment, like catalog `api`s.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues the answer to the next unanswered request.
    pub fn push(&self, reply: Reply) {
        self.state().replies.push_back(reply);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state().requests.clone()
    }

    /// Blocks until at least `n` requests arrived (panics after 10 s); returns them all.
    pub fn wait_for_requests(&self, n: usize) -> Vec<Request> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut state = self.state();
        while state.requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "fake provider: {n} requests never arrived");
            state = self.shared.recorded.wait_timeout(state, left).unwrap().0;
        }
        state.requests.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let reply = {
        let mut state = shared.state.lock().unwrap();
        state.requests.push(request);
        shared.recorded.notify_all();
        state.replies.pop_front()
    };
    let reply = reply.unwrap_or_else(|| {
        Reply::json(
            500,
            &serde_json::json!({"error": {"type": "fake_provider", "message": "no scripted reply left"}}),
        )
    });
    let _ = write_reply(stream, reply, shared);
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers
            .entry(name.trim().to_ascii_lowercase())
            .and_modify(|v: &mut String| *v = format!("{v}, {}", value.trim()))
            .or_insert_with(|| value.trim().to_string());
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = headers.get("content-length") {
        body = vec![0; len.parse().ok()?];
        reader.read_exact(&mut body).ok()?;
    }
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
    };
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn write_reply(mut stream: TcpStream, reply: Reply, shared: &Shared) -> std::io::Result<()> {
    let stopped = || shared.shutdown.load(Ordering::SeqCst);
    if reply.head {
        let mut head = format!("HTTP/1.1 {} Fake\r\n", reply.status);
        for (name, value) in &reply.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
        stream.write_all(head.as_bytes())?;
        stream.flush()?;
    }
    for step in reply.steps {
        match step {
            Step::Chunk(bytes) => {
                if bytes.is_empty() {
                    continue; // an empty chunk would end the body
                }
                stream.write_all(format!("{:x}\r\n", bytes.len()).as_bytes())?;
                stream.write_all(&bytes)?;
                stream.write_all(b"\r\n")?;
                stream.flush()?;
            }
            Step::Hold(gate) => loop {
                match gate.recv_timeout(POLL) {
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) if stopped() => return Ok(()),
                    Err(RecvTimeoutError::Timeout) => {}
                }
            },
            Step::Silence => {
                while !stopped() {
                    std::thread::sleep(POLL);
                }
                return Ok(());
            }
            Step::Drop => return stream.shutdown(std::net::Shutdown::Both),
        }
    }
    stream.write_all(b"0\r\n\r\n")?;
    stream.flush()
}
