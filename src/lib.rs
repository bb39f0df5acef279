//! Wingman: one small binary with an HTTP API to run LLM agents.
//!
//! The data flows one way: `http/` (the tiny_http boundary) → `api/` (routes and
//! handlers) → `store/` (SQLite) for CRUD, or `agent/` (the loop) → `provider/`
//! (model calls) and `tools/` (bash, read, …). Events flow back out as SSE or a
//! blocking reply. See the README's map of `src/`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cancel;
pub mod cli;
pub mod provider;
pub mod server;
pub mod tools;
pub mod types;
