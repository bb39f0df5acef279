//! Noticing that a streaming client has gone while the stream is silent.
//!
//! tiny_http hands out a writer, not the socket, so a vanished client shows
//! only when a write fails — and an agent loop can be silent for minutes while a
//! tool runs. On Linux the kernel lists every TCP socket with its state in
//! `/proc/net/tcp{,6}`: one watcher thread reads them every 250 ms while streams
//! are open and flags the ones whose peer has closed (CLOSE_WAIT). Elsewhere (no
//! /proc) the failed write of the next event or keep-alive is the signal.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::cancel::Cancel;

const POLL: Duration = Duration::from_millis(250);
/// The `st` column's value for CLOSE_WAIT: the peer sent FIN, we have not closed.
const CLOSE_WAIT: u8 = 0x08;

/// A registered stream; unregisters on drop.
pub struct Watch {
    id: u64,
    closed: Arc<AtomicBool>,
}

impl Watch {
    pub fn peer_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        registry()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

struct Entry {
    local_port: u16,
    remote: SocketAddr,
    closed: Arc<AtomicBool>,
    /// Set too when the peer closes (a blocking request's run).
    cancel: Option<Cancel>,
}

type Registry = Mutex<HashMap<u64, Entry>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Starts watching the connection `remote` → our `local_port`; when the peer
/// closes, `peer_closed()` turns true and `cancel` (if any) is cancelled.
pub fn watch(local_port: u16, remote: SocketAddr, cancel: Option<Cancel>) -> Watch {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static WATCHER: OnceLock<()> = OnceLock::new();
    WATCHER.get_or_init(|| {
        let _ = std::thread::Builder::new()
            .name("disconnect-watch".into())
            .spawn(watch_loop);
    });
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    let closed = Arc::new(AtomicBool::new(false));
    let entry = Entry {
        local_port,
        remote,
        closed: closed.clone(),
        cancel,
    };
    registry()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, entry);
    Watch { id, closed }
}

fn watch_loop() {
    loop {
        std::thread::sleep(POLL);
        type Wanted = (u16, SocketAddr, Arc<AtomicBool>, Option<Cancel>);
        let wanted: Vec<Wanted> = {
            let map = registry().lock().unwrap_or_else(|p| p.into_inner());
            map.values()
                .map(|e| (e.local_port, e.remote, e.closed.clone(), e.cancel.clone()))
                .collect()
        };
        if wanted.is_empty() {
            continue;
        }
        let mut table = String::new();
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let Ok(text) = std::fs::read_to_string(file) {
                table.push_str(&text);
            }
        }
        let closing: Vec<(u16, SocketAddr)> = table
            .lines()
            .filter_map(parse_line)
            .filter(|(_, _, state)| *state == CLOSE_WAIT)
            .map(|(port, remote, _)| (port, remote))
            .collect();
        for (port, remote, closed, cancel) in wanted {
            if closing
                .iter()
                .any(|(p, r)| *p == port && same_peer(*r, remote))
            {
                closed.store(true, Ordering::SeqCst);
                if let Some(cancel) = cancel {
                    cancel.cancel();
                }
            }
        }
    }
}

/// `127.0.0.1:5000` and `[::ffff:127.0.0.1]:5000` are the same peer.
fn same_peer(a: SocketAddr, b: SocketAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    a.port() == b.port() && canon(a.ip()) == canon(b.ip())
}

/// One row of /proc/net/tcp{,6}: `sl local_address rem_address st …` →
/// (local port, remote address, state).
fn parse_line(line: &str) -> Option<(u16, SocketAddr, u8)> {
    let mut cols = line.split_whitespace();
    let _slot = cols.next()?;
    let local = cols.next()?;
    let remote = cols.next()?;
    let state = u8::from_str_radix(cols.next()?, 16).ok()?;
    let (_, local_port) = local.split_once(':')?;
    let local_port = u16::from_str_radix(local_port, 16).ok()?;
    let (ip_hex, port_hex) = remote.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    // The address is printed as 32-bit words in host byte order.
    let words: Vec<u32> = (0..ip_hex.len() / 8)
        .map(|i| {
            ip_hex
                .get(i * 8..i * 8 + 8)
                .and_then(|w| u32::from_str_radix(w, 16).ok())
        })
        .collect::<Option<_>>()?;
    let ip = match words.as_slice() {
        [w] => IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes())),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].into_iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some((local_port, SocketAddr::new(ip, port), state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_endian = "little")]
    fn parses_proc_rows() {
        let v4 = "   1: 0100007F:1F90 0100007F:D431 08 00000000:00000000 00:00000000 00000000     0        0 1 1";
        assert_eq!(
            parse_line(v4),
            Some((8080, "127.0.0.1:54321".parse().unwrap(), 8))
        );
        let v6 = "   0: 00000000000000000000000001000000:1F90 0000000000000000FFFF00000100007F:D431 01 0:0 0";
        let (port, remote, state) = parse_line(v6).unwrap();
        assert_eq!((port, state), (8080, 1));
        assert!(same_peer(remote, "127.0.0.1:54321".parse().unwrap()));
        assert_eq!(
            parse_line("  sl  local_address rem_address   st tx_queue"),
            None
        );
    }

    #[test]
    fn sees_a_closed_peer() {
        use std::net::{TcpListener, TcpStream};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server_side, peer) = listener.accept().unwrap();
        let cancel = Cancel::new();
        let watch = watch(
            listener.local_addr().unwrap().port(),
            peer,
            Some(cancel.clone()),
        );
        assert!(!watch.peer_closed());
        drop(client);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !watch.peer_closed() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(watch.peer_closed() || !std::path::Path::new("/proc/net/tcp").exists());
        assert_eq!(cancel.is_cancelled(), watch.peer_closed());
    }
}
