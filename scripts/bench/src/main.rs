//! `wbench`: the helper programs of scripts/bench.sh. Every subcommand is bounded
//! in time (socket timeouts, run counts) and prints one line a script can `read`.
//!
//! ```text
//! wbench bare                                   tiny_http answering a fixed JSON body
//! wbench fake-provider                          a fake Anthropic API (see servers.rs)
//! wbench call METHOD URL [BODY] [--field F]     one request; prints the body (or one field)
//! wbench load URL [--method M] [--body B] [--clients C] [--seconds S] [--warmup W] [--requests N]
//!                                               → req/s p50_ms p99_ms errors requests
//! wbench relay WINGMAN PROVIDER BURST_AGENT PACED_AGENT [--deltas N] [--pace-us U] [--runs R]
//!                                               → w_eps d_eps w_p50 w_p99 d_p50 d_p99 (µs)
//! wbench hold WINGMAN AGENT --count N --pid P   → open rss_kb (with N streams open)
//! wbench step WINGMAN PROVIDER AGENT [--turns N] → turn_p50 turn_p99 direct_p50 direct_p99 (µs)
//! wbench append DB [--short N] [--long N] [--count N] → short_p50 short_p99 long_p50 long_p99 (µs)
//! wbench startup [--runs N] -- CMD ARGS…        → median µs from exec to an answered /health
//! ```

mod http;
mod load;
mod probes;
mod servers;
mod sse;
mod stats;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use http::Url;

/// Wall-clock nanoseconds: comparable across processes on one machine.
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// VmRSS of `pid` in kB.
pub fn rss_kb(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| "no VmRSS".into())
}

/// Positional arguments and `--name value` options (everything after `--` is positional).
struct Args {
    positional: Vec<String>,
    options: HashMap<String, String>,
}

impl Args {
    fn parse(raw: impl Iterator<Item = String>) -> Args {
        let (mut positional, mut options) = (Vec::new(), HashMap::new());
        let mut raw = raw.peekable();
        while let Some(a) = raw.next() {
            if a == "--" {
                positional.extend(raw.by_ref());
            } else if let Some(name) = a.strip_prefix("--") {
                options.insert(name.to_string(), raw.next().unwrap_or_default());
            } else {
                positional.push(a);
            }
        }
        Args {
            positional,
            options,
        }
    }

    fn pos(&self, i: usize, what: &str) -> Result<&str, String> {
        self.positional
            .get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("missing {what}"))
    }

    fn url(&self, i: usize, what: &str) -> Result<Url, String> {
        Url::parse(self.pos(i, what)?)
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.options.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }
}

fn run() -> Result<Option<String>, String> {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().unwrap_or_default();
    let args = Args::parse(raw);
    let line = match command.as_str() {
        "bare" => return servers::bare().map(|()| None),
        "fake-provider" => return servers::fake_provider().map(|()| None),
        "call" => {
            let body = args.positional.get(2).map(String::as_str).unwrap_or("");
            let v = http::call_json(args.pos(0, "METHOD")?, &args.url(1, "URL")?, body)?;
            match args.options.get("field") {
                Some(f) => match &v[f.as_str()] {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                None => v.to_string(),
            }
        }
        "load" => load::run(&load::Load {
            method: args.options.get("method").cloned().unwrap_or("GET".into()),
            url: args.url(0, "URL")?,
            body: args.options.get("body").cloned().unwrap_or_default(),
            clients: args.num("clients", 16)?,
            seconds: args.num("seconds", 3.0)?,
            warmup: args.num("warmup", 0.5)?,
            requests: args.options.get("requests").and_then(|r| r.parse().ok()),
        })?
        .line(),
        "relay" => sse::relay(&sse::Relay {
            wingman: args.url(0, "WINGMAN")?,
            provider: args.url(1, "PROVIDER")?.with_path("/v1/messages"),
            burst_agent: args.pos(2, "BURST_AGENT")?.to_string(),
            paced_agent: args.pos(3, "PACED_AGENT")?.to_string(),
            deltas: args.num("deltas", 2000)?,
            pace_us: args.num("pace-us", 1000)?,
            runs: args.num("runs", 3)?,
        })?,
        "hold" => sse::hold(
            &args.url(0, "WINGMAN")?,
            args.pos(1, "AGENT")?,
            args.num("count", 200)?,
            args.num("pid", 0)?,
        )?,
        "step" => probes::step(
            &args.url(0, "WINGMAN")?,
            &args.url(1, "PROVIDER")?.with_path("/v1/messages"),
            args.pos(2, "AGENT")?,
            args.num("turns", 100)?,
        )?,
        "append" => probes::append(
            args.pos(0, "DB")?,
            args.num("short", 10)?,
            args.num("long", 10_000)?,
            args.num("count", 200)?,
        )?,
        "startup" => probes::startup(&args.positional, args.num("runs", 10)?)?.to_string(),
        other => return Err(format!("unknown command `{other}` (see src/main.rs)")),
    };
    Ok(Some(line))
}

fn main() -> ExitCode {
    match run() {
        Ok(Some(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wbench: {e}");
            ExitCode::FAILURE
        }
    }
}
