//! Test helpers: temp dirs, the real server on --port 0, fake providers.
pub mod tempdir;
