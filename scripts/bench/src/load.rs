//! The load generator: C keep-alive clients, each sending its next request as
//! soon as the last one is answered, for a fixed time or a fixed request count.

use std::io::{BufReader, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::http::{self, Url};
use crate::stats::percentile;

pub struct Load {
    pub method: String,
    pub url: Url,
    pub body: String,
    pub clients: usize,
    /// Measured time (after `warmup`); the run also stops at `requests`.
    pub seconds: f64,
    pub warmup: f64,
    pub requests: Option<i64>,
}

pub struct Report {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    /// Microseconds, sorted.
    pub latencies: Vec<u64>,
}

impl Report {
    pub fn line(&self) -> String {
        let rps = self.requests as f64 / self.seconds;
        let ms = |q| percentile(&self.latencies, q) as f64 / 1000.0;
        format!(
            "{rps:.0} {:.3} {:.3} {} {}",
            ms(0.5),
            ms(0.99),
            self.errors,
            self.requests
        )
    }
}

pub fn run(load: &Load) -> Result<Report, String> {
    let request = Arc::new(http::request(&load.method, &load.url, &load.body, true));
    let budget = Arc::new(AtomicI64::new(load.requests.unwrap_or(i64::MAX)));
    let start = Instant::now();
    let measure_from = start + Duration::from_secs_f64(load.warmup);
    let deadline = measure_from + Duration::from_secs_f64(load.seconds);
    let threads: Vec<_> = (0..load.clients)
        .map(|_| {
            let url = load.url.clone();
            let request = request.clone();
            let budget = budget.clone();
            std::thread::spawn(move || client(&url, &request, &budget, measure_from, deadline))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in threads {
        let (l, e) = t.join().map_err(|_| "a client thread panicked")?;
        latencies.extend(l);
        errors += e;
    }
    let end = Instant::now().min(deadline);
    let seconds = end.saturating_duration_since(measure_from).as_secs_f64();
    latencies.sort_unstable();
    Ok(Report {
        requests: latencies.len(),
        errors,
        seconds: if load.requests.is_some() {
            // A counted run measures from its start to its last answer.
            start.elapsed().as_secs_f64()
        } else {
            seconds
        },
        latencies,
    })
}

/// One client: (latencies in µs of the answered 2xx requests, error count).
fn client(
    url: &Url,
    request: &[u8],
    budget: &AtomicI64,
    measure_from: Instant,
    deadline: Instant,
) -> (Vec<u64>, usize) {
    let mut latencies = Vec::with_capacity(65536);
    let mut errors = 0;
    let mut conn = None;
    while Instant::now() < deadline && budget.fetch_sub(1, Ordering::Relaxed) > 0 {
        if conn.is_none() {
            match http::connect(url) {
                Ok(s) => conn = Some((s.try_clone().ok(), BufReader::new(s))),
                Err(_) => {
                    errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            }
        }
        let Some((Some(writer), reader)) = conn.as_mut() else {
            conn = None;
            errors += 1;
            continue;
        };
        let sent = Instant::now();
        let result = writer
            .write_all(request)
            .and_then(|()| http::read_response(reader));
        let took = sent.elapsed();
        match result {
            Ok((head, _)) => {
                if (200..300).contains(&head.status) {
                    if sent >= measure_from {
                        latencies.push(took.as_micros() as u64);
                    }
                } else {
                    errors += 1;
                }
                if head.close {
                    conn = None;
                }
            }
            Err(_) => {
                errors += 1;
                conn = None;
            }
        }
    }
    (latencies, errors)
}
