//! SSE clients: one stream read to its end with every event's arrival time, the
//! relay comparison (through wingman vs the fake provider read directly), and a
//! holder that keeps many streams open while the server's memory is read.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use serde_json::{Value, json};

use crate::http::{self, Dechunk, Url};
use crate::now_ns;
use crate::stats::{median, percentile};

/// One `text` event as it arrived.
struct Arrival {
    at: Instant,
    at_ns: u64,
    data: String,
}

struct Stream {
    texts: Vec<Arrival>,
    /// The event that ended the stream (`done`, `message_stop`, `error`…).
    last: String,
}

/// Which events carry text: wingman's `text`, or the provider's `content_block_delta`.
#[derive(Clone, Copy)]
pub enum Source {
    Wingman,
    Provider,
}

impl Source {
    fn text_event(self) -> &'static str {
        match self {
            Source::Wingman => "text",
            Source::Provider => "content_block_delta",
        }
    }

    /// The delta's text inside the event's data.
    fn text(self, data: &str) -> String {
        let v: Value = serde_json::from_str(data).unwrap_or_default();
        let text = match self {
            Source::Wingman => &v["text"],
            Source::Provider => &v["delta"]["text"],
        };
        text.as_str().unwrap_or("").to_string()
    }
}

fn open(url: &Url, body: &str) -> Result<BufReader<Dechunk<BufReader<TcpStream>>>, String> {
    let mut stream = http::connect(url).map_err(|e| e.to_string())?;
    stream
        .write_all(&http::request("POST", url, body, false))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let head = http::read_head(&mut reader).map_err(|e| e.to_string())?;
    if head.status != 200 || !head.chunked {
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        return Err(format!("POST {} -> {}: {rest}", url.path, head.status));
    }
    Ok(BufReader::new(Dechunk::new(reader)))
}

/// Reads one stream to its end (or until `stop_after` text events).
fn read(url: &Url, body: &str, source: Source) -> Result<Stream, String> {
    let mut reader = open(url, body)?;
    let mut stream = Stream {
        texts: Vec::with_capacity(4096),
        last: String::new(),
    };
    let mut name = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Ok(stream);
        }
        let l = line.trim_end_matches('\n');
        if let Some(n) = l.strip_prefix("event: ") {
            name = n.to_string();
        } else if let Some(data) = l.strip_prefix("data: ") {
            if name == source.text_event() {
                stream.texts.push(Arrival {
                    at: Instant::now(),
                    at_ns: now_ns(),
                    data: data.to_string(),
                });
            } else if name == "error" {
                return Err(format!("stream error: {data}"));
            }
            stream.last = name.clone();
        }
    }
}

/// Text events per second, first to last.
fn events_per_sec(s: &Stream) -> f64 {
    match (s.texts.first(), s.texts.last()) {
        (Some(a), Some(b)) if s.texts.len() > 1 => {
            (s.texts.len() - 1) as f64 / b.at.duration_since(a.at).as_secs_f64()
        }
        _ => 0.0,
    }
}

/// Per-event latency in µs: arrival minus the send time the provider stamped in it.
fn latencies(s: &Stream, source: Source) -> Vec<u64> {
    let mut out: Vec<u64> = s
        .texts
        .iter()
        .filter_map(|a| {
            let text = source.text(&a.data);
            let sent: u64 = text.split('|').next()?.parse().ok()?;
            Some(a.at_ns.saturating_sub(sent) / 1000)
        })
        .collect();
    out.sort_unstable();
    out
}

pub struct Relay {
    pub wingman: Url,
    pub provider: Url,
    pub burst_agent: String,
    pub paced_agent: String,
    pub deltas: usize,
    pub pace_us: u64,
    pub runs: usize,
}

/// Prints `wingman_eps direct_eps w_p50 w_p99 d_p50 d_p99` (latencies in µs).
pub fn relay(r: &Relay) -> Result<String, String> {
    let burst_model = format!("fake:burst:{}", r.deltas);
    let paced_model = format!("fake:paced:{}:{}", r.deltas, r.pace_us);
    let direct = |model: &str| {
        let body = json!({"model": model, "max_tokens": 16, "stream": true,
            "messages": [{"role": "user", "content": "bench"}]});
        read(&r.provider, &body.to_string(), Source::Provider)
    };
    let through = |agent: &str| -> Result<Stream, String> {
        let session = http::call_json("POST", &r.wingman.with_path("/sessions"), "{}")?;
        let id = session["id"].as_str().ok_or("no session id")?;
        let url = r
            .wingman
            .with_path(&format!("/sessions/{id}/message/stream"));
        let body = json!({"agent_id": agent, "prompt": "bench"}).to_string();
        let s = read(&url, &body, Source::Wingman)?;
        if s.last != "done" {
            return Err(format!("the stream ended with `{}`, not `done`", s.last));
        }
        Ok(s)
    };
    let check = |s: &Stream| {
        if s.texts.len() == r.deltas {
            Ok(())
        } else {
            Err(format!("got {} of {} deltas", s.texts.len(), r.deltas))
        }
    };
    // Interleaved, so both sides see the same machine.
    let (mut w_eps, mut d_eps) = (Vec::new(), Vec::new());
    for _ in 0..r.runs {
        let d = direct(&burst_model)?;
        check(&d)?;
        d_eps.push(events_per_sec(&d) as u64);
        let w = through(&r.burst_agent)?;
        check(&w)?;
        w_eps.push(events_per_sec(&w) as u64);
    }
    let d = direct(&paced_model)?;
    check(&d)?;
    let w = through(&r.paced_agent)?;
    check(&w)?;
    let (dl, wl) = (
        latencies(&d, Source::Provider),
        latencies(&w, Source::Wingman),
    );
    Ok(format!(
        "{} {} {} {} {} {}",
        median(&mut w_eps),
        median(&mut d_eps),
        percentile(&wl, 0.5),
        percentile(&wl, 0.99),
        percentile(&dl, 0.5),
        percentile(&dl, 0.99),
    ))
}

/// Opens `count` streams on fresh sessions, waits for each one's first text event
/// (so every run is relaying), reads `pid`'s VmRSS, then closes them all.
/// Prints `open rss_kb`.
pub fn hold(wingman: &Url, agent: &str, count: usize, pid: u32) -> Result<String, String> {
    let mut open_streams = Vec::with_capacity(count);
    for _ in 0..count {
        let session = http::call_json("POST", &wingman.with_path("/sessions"), "{}")?;
        let id = session["id"].as_str().ok_or("no session id")?;
        let url = wingman.with_path(&format!("/sessions/{id}/message/stream"));
        let body = json!({"agent_id": agent, "prompt": "hold"}).to_string();
        let mut reader = open(&url, &body)?;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("a held stream ended early".into());
            }
            if line.starts_with("event: text") {
                break;
            }
        }
        open_streams.push(reader);
    }
    let rss = crate::rss_kb(pid)?;
    let open = open_streams.len();
    drop(open_streams);
    Ok(format!("{open} {rss}"))
}
