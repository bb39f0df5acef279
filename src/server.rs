//! STUB until the HTTP server lands.
use crate::cli::Config;

pub fn run(_config: Config) -> Result<(), String> {
    Err("serve is not wired yet".into())
}
