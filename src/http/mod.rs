//! The HTTP boundary: the only module that imports tiny_http.
//!
//! Each tiny_http request becomes an owned `Request` (method, decoded path
//! segments, headers, a body read under a byte cap); handlers return a plain
//! `Response`. `server.rs` runs the accept loop, the connection cap, the token
//! check, panic containment and the access log; `sse.rs` writes event streams.

mod disconnect;
mod request;
mod response;
mod server;
mod sse;

pub use request::{Method, Request};
pub use response::{Body, Response};
pub use server::{Server, ServerOptions};
pub use sse::SseWriter;
