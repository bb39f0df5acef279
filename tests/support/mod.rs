//! Test helpers: temp dirs, the real server on --port 0, fake providers.

pub mod fake_provider;
pub mod sse_bodies;
