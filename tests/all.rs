//! The one integration-test binary: every module compiles once, against the real
//! `wingman` binary (started on --port 0 with a temporary database) or the library.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod api;
mod messages;
mod provider;
mod tools;
