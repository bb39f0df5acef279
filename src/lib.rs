//! Wingman: one small binary with an HTTP API to run LLM agents.
//!
//! The data flows one way: `http/` (the tiny_http boundary) → `api/` (routes and
//! handlers) → `store/` (SQLite) for CRUD, or `agent/` (the loop) → `provider/`
//! (model calls) and `tools/` (bash, read, …). Events flow back out as SSE or a
//! blocking reply. See the README's map of `src/`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod agent;
pub mod api;
pub mod app;
pub mod cancel;
pub mod catalog;
pub mod cli;
pub mod credentials;
pub mod error;
pub mod http;
pub mod log;
pub mod provider;
pub mod server;
pub mod store;
pub mod time;
pub mod tools;
pub mod types;
