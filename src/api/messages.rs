//! `POST /sessions/{id}/message` (blocking) and `/message/stream` (SSE).
//!
//! Both check everything up front (body, session, agent, credentials, the
//! one-loop-per-session rule) and answer those errors as JSON before any event.
//! The stream runs the loop on its own thread and relays its events: one chunk
//! per event, a `: keep-alive` comment after 15 s of silence, and a client that
//! goes away aborts the run (what finished is kept).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::json;

use super::body;
use crate::agent::{Event, Outcome, Run, RunError};
use crate::app::{App, RunGuard};
use crate::catalog;
use crate::credentials;
use crate::error::ApiError;
use crate::http::{Request, Response, SseWriter};
use crate::provider::Endpoint;
use crate::types::Agent;

const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a silent stream checks that its client is still there.
const POLL: Duration = Duration::from_millis(100);

/// Everything a run needs, checked.
struct Prepared {
    session_id: String,
    agent: Agent,
    endpoint: Endpoint,
    work_dir: Option<PathBuf>,
    prompt: String,
    guard: RunGuard,
}

fn prepare(app: &App, session_id: &str, req: &Request) -> Result<Prepared, ApiError> {
    let obj = body::object(req, false)?;
    let agent_id = body::string(&obj, "agent_id")?.filter(|s| !s.trim().is_empty());
    let prompt = body::string(&obj, "prompt")?.filter(|s| !s.trim().is_empty());
    let agent_id = agent_id.ok_or_else(|| {
        ApiError::BadRequest("`agent_id` is required and must not be empty".into())
    })?;
    let prompt = prompt
        .ok_or_else(|| ApiError::BadRequest("`prompt` is required and must not be empty".into()))?;
    let session = app
        .store
        .get_session(session_id, false)?
        .ok_or_else(|| super::sessions::not_found(session_id))?;
    let agent = app
        .store
        .get_agent(&agent_id)?
        .ok_or_else(|| ApiError::NotFound(format!("no agent with id `{agent_id}`")))?;
    let provider = catalog::provider(&agent.provider).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "the agent's provider `{}` is not in the catalog",
            agent.provider
        ))
    })?;
    let stored = app.store.credential(&provider.id)?;
    let (endpoint, _) = credentials::resolve(provider, stored.as_ref()).ok_or_else(|| {
        let env = provider
            .env
            .first()
            .map(|v| format!(" or set {v}"))
            .unwrap_or_default();
        ApiError::BadRequest(format!(
            "provider `{name}` has no credentials: PUT /provider/auth with \
             {{\"providers\": {{\"{name}\": {{\"type\": \"api_key\", \"key\": \"…\"}}}}}}{env}",
            name = provider.id
        ))
    })?;
    if app.is_shutting_down() {
        return Err(ApiError::Unavailable("the server is shutting down".into()));
    }
    let guard = app.runs.start(session_id).ok_or_else(|| {
        ApiError::Conflict(format!("session `{session_id}` is already running a message; wait for it or POST /sessions/{session_id}/abort"))
    })?;
    Ok(Prepared {
        session_id: session.id,
        agent,
        endpoint,
        work_dir: session.work_dir.map(PathBuf::from),
        prompt,
        guard,
    })
}

fn execute(app: &App, p: &Prepared, sink: &mut dyn FnMut(Event)) -> Result<Outcome, RunError> {
    Run {
        store: &app.store,
        client: &app.provider,
        endpoint: &p.endpoint,
        agent: &p.agent,
        session_id: &p.session_id,
        work_dir: p.work_dir.as_deref(),
        cancel: &p.guard.cancel,
    }
    .run(&p.prompt, sink)
}

fn run_error(e: RunError) -> ApiError {
    match e {
        RunError::Provider(e) => ApiError::from(e),
        RunError::Store(e) => ApiError::from(e),
    }
}

pub fn send(app: &Arc<App>, session_id: &str, req: &Request) -> Result<Response, ApiError> {
    let prepared = prepare(app, session_id, req)?;
    // A client that gives up (Ctrl-C on curl) aborts the run, as with the stream.
    let _watch = req.on_disconnect(&prepared.guard.cancel);
    let outcome = execute(app, &prepared, &mut |_| {}).map_err(run_error)?;
    Ok(Response::ok(&outcome))
}

enum Relay {
    Event(Event),
    Done(Result<Outcome, RunError>),
}

pub fn stream(app: &Arc<App>, session_id: &str, req: &Request) -> Result<Response, ApiError> {
    let prepared = prepare(app, session_id, req)?;
    let app = app.clone();
    Ok(Response::stream(move |sse: &mut SseWriter<'_>| {
        let cancel = prepared.guard.cancel.clone();
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("agent-run".into())
            .spawn(move || {
                let events = tx.clone();
                let result = execute(&app, &prepared, &mut |event| {
                    let _ = events.send(Relay::Event(event));
                });
                // The session turns idle before `done` is sent: a client that reads
                // `done` and posts the next message at once must not get 409.
                drop(prepared);
                let _ = tx.send(Relay::Done(result));
            });
        if worker.is_err() {
            let _ = sse.event(
                "error",
                &json!({"error": "the server could not start the run (out of threads)"}),
            );
            return;
        }
        relay(sse, &rx, &cancel, KEEP_ALIVE);
    }))
}

/// Writes the run's events until `done` or `error`; aborts the run if the client leaves.
fn relay(
    sse: &mut SseWriter<'_>,
    rx: &mpsc::Receiver<Relay>,
    cancel: &crate::cancel::Cancel,
    keep_alive: Duration,
) {
    let mut last_write = Instant::now();
    loop {
        match rx.recv_timeout(POLL) {
            Ok(Relay::Event(event)) => {
                let (name, data) = event.to_sse();
                if sse.event(name, &data).is_err() {
                    cancel.cancel();
                }
                last_write = Instant::now();
            }
            Ok(Relay::Done(result)) => {
                let _ = match result {
                    Ok(outcome) => sse.event("done", &json!(outcome)),
                    Err(e) => sse.event("error", &json!({"error": e.to_string()})),
                };
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                if sse.client_gone() {
                    cancel.cancel();
                } else if last_write.elapsed() >= keep_alive {
                    if sse.comment("keep-alive").is_err() {
                        cancel.cancel();
                    }
                    last_write = Instant::now();
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{StopReason, Usage};

    #[test]
    fn relay_sends_keep_alives_while_silent_then_done() {
        let (tx, rx) = mpsc::channel();
        let cancel = crate::cancel::Cancel::new();
        let producer = std::thread::spawn(move || {
            tx.send(Relay::Event(Event::Text("hi".into()))).unwrap();
            std::thread::sleep(Duration::from_millis(450));
            let outcome = Outcome {
                response: "hi".into(),
                tool_calls: Vec::new(),
                usage: Usage::default(),
                steps: 1,
                stop_reason: StopReason::EndTurn,
            };
            tx.send(Relay::Done(Ok(outcome))).unwrap();
        });
        let mut out = Vec::new();
        let mut sse = SseWriter::new(&mut out, None);
        relay(&mut sse, &rx, &cancel, Duration::from_millis(150));
        producer.join().unwrap();
        let text = String::from_utf8(out).unwrap();
        let keep_alives = text.matches(": keep-alive\n\n").count();
        assert!(
            (1..=5).contains(&keep_alives),
            "{keep_alives} keep-alives in {text:?}"
        );
        assert!(text.contains("event: text\ndata: {\"text\":\"hi\"}\n\n"));
        assert!(text.contains("event: done\n"));
        assert!(!cancel.is_cancelled());
    }

    #[test]
    fn relay_cancels_the_run_when_a_write_fails() {
        struct Broken;
        impl std::io::Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (tx, rx) = mpsc::channel();
        let cancel = crate::cancel::Cancel::new();
        tx.send(Relay::Event(Event::Text("hi".into()))).unwrap();
        drop(tx);
        let mut broken = Broken;
        let mut sse = SseWriter::new(&mut broken, None);
        relay(&mut sse, &rx, &cancel, Duration::from_secs(15));
        assert!(cancel.is_cancelled());
    }
}
