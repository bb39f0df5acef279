//! `App`: what every request shares (the store, the provider client and the
//! runs in progress), held as `Arc<App>`.
//!
//! Runs live in memory only: a session is `running` while its entry exists here.
//! After a crash every session is idle again, which is the truth.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;
use crate::provider;
use crate::store::Store;

pub struct App {
    pub store: Store,
    pub provider: provider::Client,
    pub runs: Arc<Runs>,
    shutting_down: AtomicBool,
}

impl App {
    pub fn new(store: Store, provider: provider::Client) -> App {
        App {
            store,
            provider,
            runs: Arc::new(Runs::default()),
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Refuses new runs and aborts the running ones.
    pub fn shut_down(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.runs.abort_all();
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

/// The agent loops in progress, one per session at most.
#[derive(Default)]
pub struct Runs {
    map: Mutex<HashMap<String, Cancel>>,
    ended: Condvar,
}

/// Held by a running loop; removes the entry (the session is idle again) on drop.
pub struct RunGuard {
    runs: Arc<Runs>,
    session_id: String,
    pub cancel: Cancel,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.runs.lock().remove(&self.session_id);
        self.runs.ended.notify_all();
    }
}

impl Runs {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Cancel>> {
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks the session running; `None` when it already is.
    pub fn start(self: &Arc<Self>, session_id: &str) -> Option<RunGuard> {
        let mut map = self.lock();
        if map.contains_key(session_id) {
            return None;
        }
        let cancel = Cancel::new();
        map.insert(session_id.to_string(), cancel.clone());
        Some(RunGuard {
            runs: self.clone(),
            session_id: session_id.to_string(),
            cancel,
        })
    }

    pub fn is_running(&self, session_id: &str) -> bool {
        self.lock().contains_key(session_id)
    }

    /// Asks the session's loop to stop; false when none runs.
    pub fn abort(&self, session_id: &str) -> bool {
        self.lock().get(session_id).map(Cancel::cancel).is_some()
    }

    /// Aborts the session's loop and waits (up to `timeout`) until it has ended.
    pub fn abort_and_wait(&self, session_id: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut map = self.lock();
        while let Some(cancel) = map.get(session_id) {
            cancel.cancel();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            map = self
                .ended
                .wait_timeout(map, left)
                .map(|(m, _)| m)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }

    pub fn abort_all(&self) {
        self.lock().values().for_each(Cancel::cancel);
    }
}
