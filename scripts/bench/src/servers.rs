//! The two servers: the bare tiny_http baseline and the fake Anthropic provider.
//! Both print `… listening on http://127.0.0.1:PORT` as their first stdout line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::now_ns;

/// The most a held stream waits (it ends earlier when its reader leaves).
const HOLD_LIMIT: Duration = Duration::from_secs(300);
/// How often a held stream proves its reader is still there.
const HOLD_PING: Duration = Duration::from_millis(250);

fn announce(what: &str, port: u16) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{what} listening on http://127.0.0.1:{port}");
    let _ = out.flush();
}

/// The baseline: tiny_http answering every request with a fixed JSON body (the
/// size of wingman's /health answer), from a few threads calling `recv`.
pub fn bare() -> Result<(), String> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or("no port")?;
    let server = std::sync::Arc::new(server);
    announce("bare", port);
    let body = br#"{"status":"ok","version":"0.1.0"}"#;
    let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
        .map_err(|_| "bad header")?;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let server = server.clone();
            let header = header.clone();
            std::thread::spawn(move || {
                while let Ok(request) = server.recv() {
                    // A connection that sent garbage: tiny_http answered it.
                    let Ok(request) = request else { continue };
                    let response =
                        tiny_http::Response::from_data(&body[..]).with_header(header.clone());
                    let _ = request.respond(response);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// A fake Anthropic Messages API. The model name picks the behaviour:
/// - `fake:burst:N`     N text deltas, written as fast as the socket takes them;
/// - `fake:paced:N:US`  N text deltas, one every US microseconds;
/// - `fake:hold`        one delta, then pings until the reader leaves (or 5 min);
/// - anything else      one delta, the whole answer in one write (an instant model).
///
/// Each delta's text is `<send time in ns since the epoch>|`, so a client can
/// measure every event's latency. One event per HTTP chunk, flushed; one request
/// per connection.
pub fn fake_provider() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    announce("fake-provider", port);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            let _ = serve_one(stream);
        });
    }
    Ok(())
}

fn serve_one(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(crate::http::IO_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = request["model"].as_str().unwrap_or("").to_string();
    let parts: Vec<&str> = model.split(':').collect();
    let mut out = stream;
    out.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
          transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )?;
    let start = [
        event(
            "message_start",
            &json!({"type": "message_start", "message": {"id": "msg_bench", "type": "message",
            "role": "assistant", "model": model, "content": [], "stop_reason": null,
            "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ),
        event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ),
    ]
    .concat();
    let end = [
        event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        event(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn",
            "stop_sequence": null}, "usage": {"output_tokens": 5}}),
        ),
        event("message_stop", &json!({"type": "message_stop"})),
        b"0\r\n\r\n".to_vec(),
    ]
    .concat();
    match parts.as_slice() {
        ["fake", "burst", n] => {
            out.write_all(&start)?;
            for _ in 0..n.parse::<usize>().unwrap_or(1) {
                out.write_all(&delta())?;
            }
            out.write_all(&end)?;
        }
        ["fake", "paced", n, us] => {
            out.write_all(&start)?;
            let every = Duration::from_micros(us.parse().unwrap_or(1000));
            let began = Instant::now();
            for i in 0..n.parse::<u32>().unwrap_or(1) {
                let due = began + every * i;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                out.write_all(&delta())?;
            }
            out.write_all(&end)?;
        }
        ["fake", "hold"] => {
            out.write_all(&[start, delta()].concat())?;
            let began = Instant::now();
            let ping = event("ping", &json!({"type": "ping"}));
            while began.elapsed() < HOLD_LIMIT {
                std::thread::sleep(HOLD_PING);
                // A failed write: the reader has gone, the stream is over.
                out.write_all(&ping)?;
            }
            out.write_all(&end)?;
        }
        _ => out.write_all(&[start, delta(), end].concat())?,
    }
    out.flush()
}

/// One SSE event as one HTTP chunk.
fn event(name: &str, data: &serde_json::Value) -> Vec<u8> {
    let frame = format!("event: {name}\ndata: {data}\n\n");
    format!("{:x}\r\n{frame}\r\n", frame.len()).into_bytes()
}

fn delta() -> Vec<u8> {
    event(
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": format!("{}|", now_ns())}}),
    )
}
