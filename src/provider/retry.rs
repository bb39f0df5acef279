//! When and how long to wait before trying a failed call again.
//!
//! The policy (which failures are retryable) lives in `error.rs`; this file owns the
//! waiting: exponential backoff with jitter, the provider's own `retry-after`, and a
//! sleep that ends promptly when the run is cancelled.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;

/// Backoff never grows past this (the official SDKs' cap).
const BACKOFF_CAP: Duration = Duration::from_secs(8);
/// A provider asking for a longer wait is not worth blocking a run for.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
/// How often a waiting thread looks at the cancel flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);

/// The wait before retry number `retry` (1-based): the provider's `retry_after`
/// when it gave one, else `base · 2^(retry-1)` capped, minus up to 25% jitter so
/// clients that failed together do not come back together.
pub(crate) fn delay(base: Duration, retry: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(RETRY_AFTER_CAP);
    }
    let exp = base.saturating_mul(1 << retry.saturating_sub(1).min(16));
    let capped = exp.min(BACKOFF_CAP);
    let jitter = (random() % 1000) as f64 / 4000.0;
    capped.mul_f64(1.0 - jitter)
}

/// `retry-after-ms` (milliseconds, fractional allowed) wins over `retry-after`
/// (seconds; the HTTP-date form is rare for these APIs and ignored).
pub(crate) fn parse_retry_after(ms: Option<&str>, secs: Option<&str>) -> Option<Duration> {
    let parse = |v: Option<&str>, scale: f64| {
        let n: f64 = v?.trim().parse().ok()?;
        (n.is_finite() && n >= 0.0).then(|| Duration::from_secs_f64((n * scale).min(3600.0)))
    };
    parse(ms, 0.001).or_else(|| parse(secs, 1.0))
}

/// Sleeps for `wait` unless cancelled first; false when cancelled.
pub(crate) fn sleep(wait: Duration, cancel: &Cancel) -> bool {
    let until = Instant::now() + wait;
    loop {
        if cancel.is_cancelled() {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        std::thread::sleep((until - now).min(POLL));
    }
}

/// A cheap random number: std's hasher keys are seeded per process and per call.
fn random() -> u64 {
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let base = Duration::from_millis(500);
        for retry in 1..=6 {
            let want = (base * (1 << (retry - 1))).min(BACKOFF_CAP);
            let got = delay(base, retry, None);
            assert!(got <= want && got >= want.mul_f64(0.75), "{retry}: {got:?}");
        }
        assert_eq!(delay(base, 100, None).max(BACKOFF_CAP), BACKOFF_CAP);
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        let base = Duration::from_millis(500);
        assert_eq!(
            delay(base, 1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            delay(base, 1, Some(Duration::from_secs(600))),
            RETRY_AFTER_CAP
        );
    }

    #[test]
    fn retry_after_headers() {
        let ms = |v: u64| Some(Duration::from_millis(v));
        assert_eq!(parse_retry_after(Some("250"), Some("9")), ms(250));
        assert_eq!(
            parse_retry_after(Some("1.5"), None),
            Some(Duration::from_micros(1500))
        );
        assert_eq!(parse_retry_after(None, Some("2")), ms(2000));
        assert_eq!(parse_retry_after(Some("x"), Some("1")), ms(1000));
        assert_eq!(
            parse_retry_after(None, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None, Some("-1")), None);
        assert_eq!(parse_retry_after(None, None), None);
    }

    #[test]
    fn sleep_ends_when_cancelled() {
        let cancel = Cancel::new();
        cancel.cancel();
        let start = Instant::now();
        assert!(!sleep(Duration::from_secs(10), &cancel));
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
