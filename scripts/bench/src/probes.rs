//! Single measurements: start-up time, the cost of one agent step, and the cost
//! of appending to a short vs a long history (in process, through wingman's store).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::json;

use crate::http::{self, Url};
use crate::stats::{median, percentile};

/// Median µs from exec to the first answered `GET /health`, over `runs` starts of
/// `argv` (`{i}` in an argument becomes the run's number).
pub fn startup(argv: &[String], runs: usize) -> Result<u64, String> {
    let mut times = Vec::new();
    for i in 0..runs {
        let args: Vec<String> = argv
            .iter()
            .map(|a| a.replace("{i}", &i.to_string()))
            .collect();
        let began = Instant::now();
        let mut child = Command::new(&args[0])
            .args(&args[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", args[0]))?;
        let result = (|| {
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let base = line
                .trim()
                .rsplit(' ')
                .next()
                .ok_or("no address in the first line")?;
            let url = Url::parse(base)?.with_path("/health");
            let (status, _) = http::call("GET", &url, "").map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("/health -> {status}"));
            }
            Ok::<_, String>(began.elapsed().as_micros() as u64)
        })();
        let _ = child.kill();
        let _ = child.wait();
        times.push(result?);
    }
    Ok(median(&mut times))
}

/// One agent step's overhead: blocking `POST /sessions/{id}/message` with an
/// instant one-delta provider, interleaved with the same provider called directly
/// (one new connection each, as wingman's calls do).
/// Prints `turn_p50 turn_p99 direct_p50 direct_p99` in µs.
pub fn step(wingman: &Url, provider: &Url, agent: &str, turns: usize) -> Result<String, String> {
    let direct_body = json!({"model": "fake:instant", "max_tokens": 16, "stream": true,
        "messages": [{"role": "user", "content": "bench"}]})
    .to_string();
    let message_body = json!({"agent_id": agent, "prompt": "bench"}).to_string();
    let (mut turn, mut direct) = (Vec::new(), Vec::new());
    let mut session = String::new();
    for i in 0..turns {
        // A fresh session every 5 turns: the history stays short (<= 10 messages).
        if i % 5 == 0 {
            let s = http::call_json("POST", &wingman.with_path("/sessions"), "{}")?;
            session = s["id"].as_str().ok_or("no session id")?.to_string();
        }
        let began = Instant::now();
        let (status, body) =
            http::call("POST", provider, &direct_body).map_err(|e| e.to_string())?;
        direct.push(began.elapsed().as_micros() as u64);
        if status != 200 || !String::from_utf8_lossy(&body).contains("message_stop") {
            return Err(format!("the fake provider answered {status}"));
        }
        let url = wingman.with_path(&format!("/sessions/{session}/message"));
        let began = Instant::now();
        let v = http::call_json("POST", &url, &message_body)?;
        turn.push(began.elapsed().as_micros() as u64);
        if v["stop_reason"] != "end_turn" || v["steps"] != 1 {
            return Err(format!("unexpected turn result: {v}"));
        }
    }
    turn.sort_unstable();
    direct.sort_unstable();
    Ok(format!(
        "{} {} {} {}",
        percentile(&turn, 0.5),
        percentile(&turn, 0.99),
        percentile(&direct, 0.5),
        percentile(&direct, 0.99)
    ))
}

/// Appending one message to a session of `short` messages vs one of `long`,
/// `count` times each, interleaved, through `wingman::store::Store` on a file
/// database (WAL, synchronous=FULL: every append is a durable commit).
/// Prints `short_p50 short_p99 long_p50 long_p99` in µs.
pub fn append(db: &str, short: usize, long: usize, count: usize) -> Result<String, String> {
    use wingman::store::Store;
    use wingman::types::{Message, Usage};
    let store = Store::open(std::path::Path::new(db)).map_err(|e| e.to_string())?;
    let text = "A reply of typical length: a few sentences about the file that was read, \
                what it contains and what the next step should be. "
        .repeat(2);
    let message = Message::user_text(text);
    let fill = |n: usize| -> Result<String, String> {
        let s = store
            .create_session(Some("bench"), None)
            .map_err(|e| e.to_string())?;
        let batch = vec![message.clone(); 100];
        let mut left = n;
        while left > 0 {
            let k = left.min(batch.len());
            store
                .append_messages(&s.id, &batch[..k], Usage::default())
                .map_err(|e| e.to_string())?;
            left -= k;
        }
        Ok(s.id)
    };
    let (a, b) = (fill(short)?, fill(long)?);
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let one = std::slice::from_ref(&message);
    for _ in 0..count {
        for (id, times) in [(&a, &mut ta), (&b, &mut tb)] {
            let began = Instant::now();
            let ok = store
                .append_messages(id, one, Usage::default())
                .map_err(|e| e.to_string())?;
            times.push(began.elapsed().as_micros() as u64);
            if !ok {
                return Err("the session vanished".into());
            }
        }
    }
    let got = store
        .get_session(&b, false)
        .map_err(|e| e.to_string())?
        .ok_or("no long session")?;
    if got.message_count != (long + count) as u64 {
        return Err(format!("long session has {} messages", got.message_count));
    }
    ta.sort_unstable();
    tb.sort_unstable();
    Ok(format!(
        "{} {} {} {}",
        percentile(&ta, 0.5),
        percentile(&ta, 0.99),
        percentile(&tb, 0.5),
        percentile(&tb, 0.99)
    ))
}
