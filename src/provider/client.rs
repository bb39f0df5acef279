//! `Client`: runs one provider call end to end.
//!
//! One attempt at a time runs on a reader thread (`transport.rs`); this thread decodes
//! its frames with the vendor file and hands events on as they come. A failed attempt
//! is retried (`retry.rs`) only while nothing has reached the caller, so the caller
//! never sees an event twice. Invariants: events reach `on_event` in arrival order,
//! held back by at most one frame; `stream` returns within about `retry::POLL` of a
//! cancel, whether it is waiting for the network or sleeping before a retry.

use std::io::Read;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cancel::Cancel;

use super::error::{self, Failure};
use super::transport::{self, Incoming, Prepared};
use super::{
    ChatRequest, ClientOptions, Endpoint, ErrorKind, Progress, Protocol, ProviderError,
    ProviderEvent, anthropic, openai, retry, sse,
};

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
            if failure.kind == ErrorKind::Aborted {
                return Err(failure.into_error(&endpoint.provider, 1, key));
            }
            let retry = failure.retryable && !delivered && attempts <= self.options.max_retries;
            if !retry {
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
                Ok(Incoming::Unreadable(detail)) => {
                    let message = format!("{provider} sent an unreadable stream: {detail}");
                    return Err(Failure::new(ErrorKind::Protocol, message));
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
