//! `wingman serve`: check the config, open the store, listen, serve until
//! SIGINT/SIGTERM, then stop accepting, abort running loops (they persist what
//! they finished), checkpoint and close the database.

use std::io::Write;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::app::App;
use crate::cli::Config;
use crate::http::{Server, ServerOptions};
use crate::provider;
use crate::store::Store;

/// Request bodies larger than this get 413.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;
/// How long shutdown waits for aborted loops to save their work.
const DRAIN: Duration = Duration::from_secs(10);

pub fn run(config: Config) -> Result<(), String> {
    if config.token.is_none() && !config.insecure && !is_loopback_host(&config.host) {
        return Err(format!(
            "refusing to listen on {} without a token: the bash tool runs commands on this machine, \
             so anyone who can reach the port could. Pass --token TOKEN (or set WINGMAN_TOKEN), \
             or --insecure if another layer guards the port.",
            config.host
        ));
    }
    let store = Store::open(&config.db)
        .map_err(|e| format!("cannot open the database {}: {e}", config.db.display()))?;
    let app = Arc::new(App::new(
        store,
        provider::Client::new(provider::ClientOptions::default()),
    ));
    let server = Server::bind(ServerOptions {
        host: config.host.clone(),
        port: config.port,
        token: config.token.clone(),
        max_connections: config.max_connections,
        body_limit: BODY_LIMIT,
    })?;
    let addr = server.local_addr();
    let host = if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "wingman listening on http://{host}:{}", addr.port());
    let _ = stdout.flush();

    let mut signals =
        Signals::new([SIGINT, SIGTERM]).map_err(|e| format!("cannot handle signals: {e}"))?;
    let stop = server.stopper();
    let stopping_app = app.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            crate::log::line(&format!("received signal {signal}: shutting down"));
            stopping_app.shut_down();
            stop();
        }
    });

    let handler_app = app.clone();
    server.run(
        Arc::new(move |request| crate::api::handle(&handler_app, request)),
        DRAIN,
    );
    app.shut_down();
    app.store
        .close()
        .map_err(|e| format!("cannot close the database cleanly: {e}"))?;
    crate::log::line("stopped");
    Ok(())
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost" || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
