//! Talking to model providers: the only module (with `tools/webfetch.rs`) that imports ureq.
//!
//! Two wire protocols serve every provider in the catalog: `anthropic` (Messages API)
//! and `openai` (Chat Completions and the OpenAI-compatible family). Each vendor file
//! maps its private wire structs to one `ProviderEvent` vocabulary, delivered as the
//! bytes arrive so the agent loop can stream text with no added delay.
//!
//! This file holds the interface the agent loop builds on and `Client`, which runs a
//! call: one attempt at a time on a reader thread (`transport.rs`), decoded by the
//! vendor file, retried (`retry.rs`) only while nothing has reached the caller.
//! Invariants: events reach `on_event` in arrival order with no buffering beyond one
//! frame; `stream` returns within about `retry::POLL` of a cancel; the API key goes
//! only into request headers, never into a message or a log line.

mod anthropic;
mod error;
mod history;
mod openai;
mod retry;
pub mod sse;
mod transport;

use std::fmt;
use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cancel::Cancel;
use crate::types::{Message, StopReason, ToolSpec, Usage};

use error::Failure;
use transport::{Incoming, Prepared};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Anthropic,
    OpenAi,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "anthropic" => Some(Protocol::Anthropic),
            "openai" => Some(Protocol::OpenAi),
            _ => None,
        }
    }
}

/// Where and how to reach one provider, credentials already resolved
/// (stored key, else the catalog's env variables; stored base_url over the catalog's api).
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    /// The catalog name (`anthropic`, `openrouter`, …), used in error messages.
    pub provider: String,
    pub protocol: Protocol,
    /// Ends with the version segment, as models.dev writes it (`https://api.anthropic.com/v1`).
    pub base_url: String,
    pub api_key: Option<String>,
}

impl fmt::Debug for Endpoint {
    // Never print the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("protocol", &self.protocol)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// One model call, built from the session history and the agent.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a> {
    pub model: &'a str,
    /// The agent's instructions; left out of the request when empty.
    pub system: &'a str,
    /// In the agent's order (provider-side prompt caching depends on it).
    pub tools: &'a [ToolSpec],
    pub messages: &'a [Message],
    pub max_tokens: u32,
    /// Sent only when the agent sets it.
    pub temperature: Option<f64>,
}

/// A tool call whose input is complete. `input` is `Err(reason)` when the model sent
/// arguments that are not a JSON object (the reason quotes the raw text).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub input: Result<Value, String>,
}

/// What one provider call yields, in order of arrival.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    TextDelta(String),
    ToolCall(ToolCall),
    /// The call's usage so far; a later one replaces an earlier one.
    Usage(Usage),
    /// `EndTurn`, `ToolUse` or `MaxTokens`; sent once, at the end.
    Stop(StopReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 401/403: bad or missing key.
    Auth,
    /// 400/404/413/422 and other 4xx: the request or model id is wrong.
    InvalidRequest,
    /// 429 (retryable unless it is a quota error).
    RateLimited,
    /// 5xx, 529, an in-stream error event.
    Server,
    /// Connection refused/reset, DNS, idle timeout.
    Network,
    /// The stream broke its own rules: truncated, unparsable.
    Protocol,
    /// The run was cancelled while the call was under way.
    Aborted,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub provider: String,
    pub status: Option<u16>,
    /// Names the provider, the status, the provider's error type and message.
    pub message: String,
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProviderError {}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// A stream that sends nothing for this long is dead.
    pub idle_timeout: Duration,
    pub max_retries: u32,
    /// First backoff; doubles per retry, with jitter, capped.
    pub backoff_base: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_retries: 3,
            backoff_base: Duration::from_millis(500),
        }
    }
}

/// `list_models` is for a picker in a UI: a provider that is not up answers fast.
const LIST_MODELS_TIMEOUT: Duration = Duration::from_millis(2500);
/// A model list bigger than this is not a model list.
const LIST_MODELS_LIMIT: u64 = 4 * 1024 * 1024;
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// One per process, shared by every run.
pub struct Client {
    options: ClientOptions,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(options: ClientOptions) -> Client {
        let config = ureq::Agent::config_builder()
            // Error bodies carry the provider's explanation: read them, don't throw.
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            // The idle timeout: restarts with every read, so a long answer is fine.
            .timeout_per_read(Some(options.idle_timeout))
            .user_agent(concat!("wingman/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            options,
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// Runs one streamed model call, handing each event to `on_event` as it arrives.
    /// Returns once the provider's final event was seen. Returns within about a
    /// second of `cancel` being set, with `ErrorKind::Aborted`.
    pub fn stream(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest<'_>,
        cancel: &Cancel,
        on_event: &mut dyn FnMut(ProviderEvent),
    ) -> Result<(), ProviderError> {
        let prepared = Arc::new(prepare(endpoint, request));
        let key = endpoint.api_key.as_deref();
        let mut delivered = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failure = match self.attempt(endpoint, &prepared, cancel, on_event, &mut delivered)
            {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            let retry = failure.retryable && !delivered && attempts <= self.options.max_retries;
            if failure.kind == ErrorKind::Aborted || !retry {
                return Err(failure.into_error(&endpoint.provider, attempts, key));
            }
            let wait = retry::delay(self.options.backoff_base, attempts, failure.retry_after);
            if !retry::sleep(wait, cancel) {
                return Err(aborted(endpoint).into_error(&endpoint.provider, 1, key));
            }
        }
    }

    fn attempt(
        &self,
        endpoint: &Endpoint,
        prepared: &Arc<Prepared>,
        cancel: &Cancel,
        on_event: &mut dyn FnMut(ProviderEvent),
        delivered: &mut bool,
    ) -> Result<(), Failure> {
        let provider = endpoint.provider.as_str();
        let rx = transport::start(&self.agent, Arc::clone(prepared));
        let mut decoder = Decoder::new(endpoint);
        let mut events = Vec::new();
        loop {
            if cancel.is_cancelled() {
                return Err(aborted(endpoint));
            }
            match rx.recv_timeout(retry::POLL) {
                Ok(Incoming::Frame(frame)) => {
                    let progress = decoder.frame(&frame, &mut events);
                    for event in events.drain(..) {
                        *delivered = true;
                        on_event(event);
                    }
                    if progress? == Progress::Done {
                        return Ok(());
                    }
                }
                Ok(Incoming::End) => {
                    let message =
                        format!("{provider} stream ended before {}", decoder.final_event());
                    return Err(Failure::new(ErrorKind::Protocol, message).retryable());
                }
                Ok(Incoming::Rejected {
                    status,
                    retry_after,
                    body,
                }) => {
                    return Err(error::http_failure(
                        provider,
                        endpoint.protocol,
                        status,
                        retry_after,
                        &body,
                    ));
                }
                Ok(Incoming::Broken {
                    connected,
                    timed_out,
                    detail,
                }) => return Err(self.broken(endpoint, prepared, connected, timed_out, &detail)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let message = format!("{provider}: the reader thread stopped unexpectedly");
                    return Err(Failure::new(ErrorKind::Network, message));
                }
            }
        }
    }

    fn broken(
        &self,
        endpoint: &Endpoint,
        prepared: &Prepared,
        connected: bool,
        timed_out: bool,
        detail: &str,
    ) -> Failure {
        let provider = endpoint.provider.as_str();
        if timed_out && connected {
            let secs = self.options.idle_timeout.as_secs_f64();
            // Not retried: a provider that went silent once will likely do it again,
            // and each try costs a whole idle timeout.
            let message = format!("{provider} sent nothing for {secs}s (idle timeout): {detail}");
            return Failure::new(ErrorKind::Network, message);
        }
        let message = if connected {
            format!("{provider}: connection lost: {detail}")
        } else {
            format!("{provider}: cannot reach {}: {detail}", prepared.url)
        };
        Failure::new(ErrorKind::Network, message).retryable()
    }

    /// The live model list of a provider whose catalog is empty (ollama, lmstudio),
    /// shaped like catalog models and keyed by id; unreachable → empty.
    pub fn list_models(&self, endpoint: &Endpoint) -> serde_json::Map<String, Value> {
        #[derive(Deserialize)]
        struct List {
            data: Vec<Model>,
        }
        #[derive(Deserialize)]
        struct Model {
            id: String,
            display_name: Option<String>,
        }
        let url = format!("{}/models", endpoint.base_url.trim_end_matches('/'));
        let mut builder = self.agent.get(&url);
        for (name, value) in headers(endpoint) {
            builder = builder.header(name, value);
        }
        let response = builder
            .config()
            .timeout_global(Some(LIST_MODELS_TIMEOUT))
            .build()
            .call();
        let mut models = serde_json::Map::new();
        let Ok(response) = response else {
            return models;
        };
        if !response.status().is_success() {
            return models;
        }
        let mut body = Vec::new();
        let reader = response.into_body().into_reader();
        if reader
            .take(LIST_MODELS_LIMIT)
            .read_to_end(&mut body)
            .is_err()
        {
            return models;
        }
        let Ok(list) = serde_json::from_slice::<List>(&body) else {
            return models;
        };
        for model in list.data {
            let name = model.display_name.unwrap_or_else(|| model.id.clone());
            models.insert(model.id.clone(), json!({"id": model.id, "name": name}));
        }
        models
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    More,
    Done,
}

enum Decoder {
    Anthropic(anthropic::Decoder),
    OpenAi(openai::Decoder),
}

impl Decoder {
    fn new(endpoint: &Endpoint) -> Decoder {
        match endpoint.protocol {
            Protocol::Anthropic => Decoder::Anthropic(anthropic::Decoder::new(&endpoint.provider)),
            Protocol::OpenAi => Decoder::OpenAi(openai::Decoder::new(&endpoint.provider)),
        }
    }

    fn frame(
        &mut self,
        frame: &sse::Frame,
        out: &mut Vec<ProviderEvent>,
    ) -> Result<Progress, Failure> {
        match self {
            Decoder::Anthropic(d) => d.frame(frame, out),
            Decoder::OpenAi(d) => d.frame(frame, out),
        }
    }

    fn final_event(&self) -> &'static str {
        match self {
            Decoder::Anthropic(_) => "message_stop",
            Decoder::OpenAi(_) => "[DONE]",
        }
    }
}

fn aborted(endpoint: &Endpoint) -> Failure {
    Failure::new(
        ErrorKind::Aborted,
        format!("{} call aborted", endpoint.provider),
    )
}

/// The request of one call: URL, headers and body, built once for every attempt.
fn prepare(endpoint: &Endpoint, request: &ChatRequest<'_>) -> Prepared {
    let base = endpoint.base_url.trim_end_matches('/');
    let (url, body) = match endpoint.protocol {
        Protocol::Anthropic => (format!("{base}/messages"), anthropic::request_body(request)),
        Protocol::OpenAi => (
            format!("{base}/chat/completions"),
            openai::request_body(&endpoint.provider, request),
        ),
    };
    let mut headers = headers(endpoint);
    headers.push(("content-type", "application/json".to_string()));
    headers.push(("accept", "text/event-stream".to_string()));
    Prepared {
        url,
        headers,
        body: body.to_string().into_bytes(),
    }
}

/// Authentication (and Anthropic's version pin), shared by calls and model lists.
fn headers(endpoint: &Endpoint) -> Vec<(&'static str, String)> {
    let key = endpoint.api_key.clone();
    match endpoint.protocol {
        Protocol::Anthropic => {
            let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
            if let Some(key) = key {
                headers.push(("x-api-key", key));
            }
            headers
        }
        Protocol::OpenAi => key
            .map(|k| ("authorization", format!("Bearer {k}")))
            .into_iter()
            .collect(),
    }
}
