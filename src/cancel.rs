//! A cancellation flag shared by a run, its provider call and its tools.
//!
//! Setting it is the only way to stop a run: `POST /abort`, a client that left
//! the stream, `DELETE` of a running session and server shutdown all call
//! `cancel()`. Whoever blocks (a provider read, a bash child) polls
//! `is_cancelled()` often enough to stop within a fraction of a second.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
