//! Percentiles over sorted samples.

/// Nearest-rank percentile of sorted `v` (`q` in 0..=1); 0 when empty.
pub fn percentile(v: &[u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    percentile(v, 0.5)
}
