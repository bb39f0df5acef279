//! The accept loop: a blocking tiny_http server hands each request to its own
//! worker thread.
//!
//! Invariants: at most `max_connections` requests run at once (one more gets 503
//! at once, never a hang); a body over `body_limit` gets 413 without being read;
//! a panic in a handler becomes a 500 and the server keeps serving; one access-log
//! line per request goes to stderr with no header or body in it (so no secret).
//! No response header carries a client-supplied value.

use std::io::Write;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::disconnect;
use super::request::{BodyError, Method, Request, read_body};
use super::response::{Body, Response};
use super::sse::{HEAD, SseWriter};
use crate::error::ApiError;

/// The request headers handlers may look at (tiny_http looks them up by name).
const KNOWN_HEADERS: [&str; 3] = ["authorization", "content-type", "accept"];

/// Connection threads beyond `max_connections` (see `Server::bind`).
const POOL_HEADROOM: usize = 32;

pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

#[derive(Clone)]
pub struct ServerOptions {
    pub host: String,
    pub port: u16,
    /// Bearer token every request but `GET /health` must carry.
    pub token: Option<String>,
    pub max_connections: usize,
    pub body_limit: usize,
}

pub struct Server {
    inner: Arc<tiny_http::Server>,
    addr: SocketAddr,
    options: Arc<ServerOptions>,
    in_flight: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
}

/// Decrements the in-flight count when a worker ends, however it ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Server {
    pub fn bind(options: ServerOptions) -> Result<Server, String> {
        let addr = format!("{}:{}", bracket_v6(&options.host), options.port);
        let config = tiny_http::ServerConfig::new_http(addr.as_str())
            .map_err(|e| format!("cannot resolve {addr}: {e}"))?
            // tiny_http's pool hands a new connection to an idle thread, and a burst
            // larger than the idle threads can wait behind keep-alive connections.
            // Keep a thread for every request we serve, plus room for the ones we
            // refuse with 503 and for idle keep-alive connections.
            .set_min_threads(options.max_connections + POOL_HEADROOM);
        let inner =
            tiny_http::Server::new(config).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let addr = *inner
            .server_addr()
            .to_ip()
            .ok_or_else(|| format!("{addr} is not an IP address"))?;
        Ok(Server {
            inner: Arc::new(inner),
            addr,
            options: Arc::new(options),
            in_flight: Arc::new(AtomicUsize::new(0)),
            stopping: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Something another thread can call to make `run` return.
    pub fn stopper(&self) -> impl Fn() + Send + Sync + 'static {
        let inner = self.inner.clone();
        let stopping = self.stopping.clone();
        move || {
            stopping.store(true, Ordering::SeqCst);
            let _ = inner.unblock();
        }
    }

    /// Serves until the stopper is called, then waits up to `drain` for running
    /// requests to finish.
    pub fn run(&self, handler: Arc<Handler>, drain: Duration) {
        while !self.stopping.load(Ordering::SeqCst) {
            let request = match self.inner.recv() {
                Ok(Ok(request)) => request,
                Ok(Err(_)) => continue, // a connection that sent garbage; tiny_http answered it
                Err(_) => break,        // unblocked, or the listener is gone
            };
            if self.stopping.load(Ordering::SeqCst) {
                respond_now(
                    request,
                    &ApiError::Unavailable("the server is shutting down".into()),
                );
                break;
            }
            let running = self.in_flight.fetch_add(1, Ordering::SeqCst);
            let slot = Slot(self.in_flight.clone());
            if running >= self.options.max_connections {
                let limit = self.options.max_connections;
                respond_now(
                    request,
                    &ApiError::Unavailable(format!(
                        "the server is at its limit of {limit} concurrent requests; retry shortly"
                    )),
                );
                drop(slot);
                continue;
            }
            let handler = handler.clone();
            let options = self.options.clone();
            let local_port = self.addr.port();
            let spawned = std::thread::Builder::new()
                .name("request".into())
                .spawn(move || {
                    let _slot = slot;
                    handle(request, &*handler, &options, local_port);
                });
            if spawned.is_err() {
                // Out of threads: the request (moved into the closure) is dropped,
                // which closes its connection.
                crate::log::line("cannot start a worker thread");
            }
        }
        let deadline = Instant::now() + drain;
        while self.in_flight.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn bracket_v6(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn respond_now(request: tiny_http::Request, error: &ApiError) {
    let start = Instant::now();
    let (method, path) = (request.method().to_string(), request.url().to_string());
    let status = error.status();
    let _ = request.respond(small_json(&Response::error(error), true));
    log(&method, &path, status, start);
}

fn handle(
    mut raw: tiny_http::Request,
    handler: &Handler,
    options: &ServerOptions,
    local_port: u16,
) {
    let start = Instant::now();
    let method = match raw.method() {
        tiny_http::Method::Get => Method::Get,
        tiny_http::Method::Post => Method::Post,
        tiny_http::Method::Put => Method::Put,
        tiny_http::Method::Delete => Method::Delete,
        other => Method::Other(other.to_string()),
    };
    let url = raw.url().to_string();
    let headers: Vec<(String, String)> = KNOWN_HEADERS
        .iter()
        .filter_map(|name| {
            raw.headers()
                .get(name)
                .map(|v| (name.to_string(), v.to_string()))
        })
        .collect();
    let declared = raw.body_length();
    let remote = raw.remote_addr().copied();
    let mut request = Request::new(method, &url, headers, Vec::new());
    request.peer = remote.map(|remote| (local_port, remote));

    let early = if !authorized(&request, options.token.as_deref()) {
        Some((ApiError::Unauthorized, false))
    } else {
        match read_body(raw.as_reader(), declared, options.body_limit) {
            Ok(body) => {
                request.body = body;
                None
            }
            // The unread rest of the body makes the connection unusable: close it.
            Err(BodyError::TooLarge) => Some((
                ApiError::PayloadTooLarge {
                    limit: options.body_limit,
                },
                true,
            )),
            Err(BodyError::Io(e)) => Some((
                ApiError::BadRequest(format!("cannot read the request body: {e}")),
                true,
            )),
        }
    };
    if let Some((error, close)) = early {
        let _ = raw.respond(small_json(&Response::error(&error), close));
        log(
            request.method.as_str(),
            &request.path,
            error.status(),
            start,
        );
        return;
    }

    let response = catch_unwind(AssertUnwindSafe(|| handler(&request))).unwrap_or_else(|_| {
        Response::error(&ApiError::Internal(
            "internal error: the handler panicked (a bug; see the server log)".into(),
        ))
    });
    let status = response.status;
    match response.body {
        Body::Json(_) => {
            send_json(raw, &response, false);
        }
        Body::Stream(write) => {
            let mut out = raw.into_writer();
            if out.write_all(HEAD).and_then(|()| out.flush()).is_ok() {
                let watch = remote.map(|r| disconnect::watch(local_port, r, None));
                let mut sse = SseWriter::new(&mut *out, watch);
                if catch_unwind(AssertUnwindSafe(|| write(&mut sse))).is_err() {
                    let _ = sse.event(
                        "error",
                        &serde_json::json!({"error": "internal error: the stream panicked"}),
                    );
                }
                sse.finish();
            }
        }
    }
    log(request.method.as_str(), &request.path, status, start);
}

/// Writes a whole JSON response in one `write` on the raw connection (the request
/// body must have been read: see `small_json`).
///
/// tiny_http's own `respond` writes the head and then the body through a 1 KiB
/// buffer, so a body that does not fit leaves as a second small segment; with
/// Nagle's algorithm on (tiny_http never sets TCP_NODELAY) that segment waits for
/// the client's delayed ACK: 40 ms per keep-alive response over ~870 bytes.
/// Measured with scripts/bench.sh: GET /sessions/{id} of 913 B went from p50 44 ms to
/// the same as a small body.
fn send_json(raw: tiny_http::Request, response: &Response, close: bool) {
    let body: &[u8] = match &response.body {
        Body::Json(bytes) => bytes,
        Body::Stream(_) => b"",
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        response.status,
        reason(response.status),
        body.len()
    );
    if let Some(allow) = response.allow {
        head.push_str(&format!("Allow: {}\r\n", allow.join(", ")));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    let mut out = raw.into_writer();
    let _ = out.write_all(&bytes).and_then(|()| out.flush());
}

/// A JSON response for tiny_http's `respond`, for errors sent before the body was
/// read: `into_writer` would first drain the unread body (tiny_http drops the
/// request's reader before handing out the writer), and these bodies are small.
fn small_json(response: &Response, close: bool) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let body = match &response.body {
        Body::Json(bytes) => bytes.clone(),
        Body::Stream(_) => Vec::new(),
    };
    let mut out = tiny_http::Response::from_data(body).with_status_code(response.status);
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if close {
        headers.push(("Connection", "close".to_string()));
    }
    for (name, value) in headers {
        if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            out.add_header(header);
        }
    }
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn authorized(request: &Request, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    if request.method == Method::Get && request.segments == ["health"] {
        return true;
    }
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let given = request
        .header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token);
    constant_time_eq(given.trim().as_bytes(), token.as_bytes())
}

/// Compares without an early exit, so response time does not leak the token's prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `2026-12-04T17:21:35.123Z GET /sessions 200 3ms`. The path is the only
/// client text in it; control characters are escaped so a line stays a line.
fn log(method: &str, path: &str, status: u16, start: Instant) {
    let path: String = path
        .chars()
        .flat_map(char::escape_debug)
        .take(300)
        .collect();
    let method: String = method
        .chars()
        .flat_map(char::escape_debug)
        .take(16)
        .collect();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    crate::log::line(&format!("{method} {path} {status} {ms:.1}ms"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_check() {
        let with = |h: &str| {
            Request::new(
                Method::Get,
                "/agents",
                vec![("authorization".into(), h.into())],
                vec![],
            )
        };
        assert!(authorized(&with("Bearer s3cret"), Some("s3cret")));
        assert!(!authorized(&with("Bearer s3cre"), Some("s3cret")));
        assert!(!authorized(&with("s3cret"), Some("s3cret")));
        assert!(authorized(&with("bearer s3cret"), Some("s3cret")));
        assert!(!authorized(&with("Basic s3cret"), Some("s3cret")));
        assert!(authorized(&with(""), None));
        assert!(authorized(
            &Request::new(Method::Get, "/health", vec![], vec![]),
            Some("x")
        ));
        assert!(!authorized(
            &Request::new(Method::Post, "/health", vec![], vec![]),
            Some("x")
        ));
    }
}
