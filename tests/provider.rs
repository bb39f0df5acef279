//! Provider clients against fake providers on 127.0.0.1.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use wingman::cancel::Cancel;
use wingman::provider::{
    ChatRequest, Client, ClientOptions, Endpoint, ErrorKind, Protocol, ProviderError,
    ProviderEvent, ToolCall,
};
use wingman::types::{Block, Message, Role, StopReason, ToolSpec, Usage};

use crate::support::fake_provider::{AnthropicSse, FakeProvider, OpenAiSse, Reply, transcripts};

const KEY: &str = "sk-test-123";

fn options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(5),
        max_retries: 3,
        backoff_base: Duration::from_millis(10),
    }
}

fn endpoint(fake: &FakeProvider, provider: &str, protocol: Protocol) -> Endpoint {
    Endpoint {
        provider: provider.to_string(),
        protocol,
        base_url: fake.base_url(),
        api_key: Some(KEY.to_string()),
    }
}

fn anthropic(fake: &FakeProvider) -> Endpoint {
    endpoint(fake, "anthropic", Protocol::Anthropic)
}

fn openai(fake: &FakeProvider) -> Endpoint {
    endpoint(fake, "openai", Protocol::OpenAi)
}

fn hello() -> Vec<Message> {
    vec![Message::user_text("Hello")]
}

fn request(messages: &[Message]) -> ChatRequest<'_> {
    ChatRequest {
        model: "m",
        system: "",
        tools: &[],
        messages,
        max_tokens: 100,
        temperature: None,
    }
}

/// Runs one call; returns every event delivered and the result.
fn call_with(
    options: ClientOptions,
    endpoint: &Endpoint,
    request: &ChatRequest<'_>,
    cancel: &Cancel,
) -> (Vec<ProviderEvent>, Result<(), ProviderError>) {
    let client = Client::new(options);
    let mut events = Vec::new();
    let result = client.stream(endpoint, request, cancel, &mut |e| events.push(e));
    (events, result)
}

fn call(endpoint: &Endpoint) -> (Vec<ProviderEvent>, Result<(), ProviderError>) {
    call_with(options(), endpoint, &request(&hello()), &Cancel::new())
}

fn text(t: &str) -> ProviderEvent {
    ProviderEvent::TextDelta(t.to_string())
}

fn usage(input_tokens: u64, output_tokens: u64) -> ProviderEvent {
    ProviderEvent::Usage(Usage {
        input_tokens,
        output_tokens,
    })
}

fn tool_call(id: &str, name: &str, input: Value) -> ProviderEvent {
    ProviderEvent::ToolCall(ToolCall {
        id: id.to_string(),
        name: name.to_string(),
        input: Ok(input),
    })
}

fn error(kind: ErrorKind, provider: &str, status: Option<u16>, message: &str) -> ProviderError {
    ProviderError {
        kind,
        provider: provider.to_string(),
        status,
        message: message.to_string(),
    }
}

/// A port nothing listens on: bind one, then let it go.
fn dead_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

// ---- PROTOCOLS.md §4 transcripts -------------------------------------------------

#[test]
fn anthropic_text_transcript() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::ANTHROPIC_TEXT));
    let (events, result) = call(&anthropic(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("Hi! How"),
            text(" can I he"),
            text("lp? ✓"),
            usage(21, 9),
            ProviderEvent::Stop(StopReason::EndTurn),
        ]
    );
}

#[test]
fn anthropic_tool_use_transcript() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::ANTHROPIC_TOOL_USE));
    let (events, result) = call(&anthropic(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("Let me check that."),
            tool_call(
                "toolu_T200",
                "get_weather",
                json!({"city": "Paris", "unit": "celsius"})
            ),
            usage(412, 58),
            ProviderEvent::Stop(StopReason::ToolUse),
        ]
    );
}

#[test]
fn anthropic_mid_stream_error_is_not_a_turn_and_not_retried() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::ANTHROPIC_ERROR));
    let (events, result) = call(&anthropic(&fake));
    assert_eq!(events, vec![text("The first step is")]);
    assert_eq!(
        result,
        Err(error(
            ErrorKind::Server,
            "anthropic",
            None,
            "anthropic stream error overloaded_error: Overloaded"
        ))
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn anthropic_error_event_before_any_output_is_retried() {
    let fake = FakeProvider::start();
    let overloaded = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    fake.push(Reply::sse(overloaded));
    fake.push(Reply::sse(&AnthropicSse::new().text("ok").build()));
    let (events, result) = call(&anthropic(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("o"),
            text("k"),
            usage(10, 5),
            ProviderEvent::Stop(StopReason::EndTurn)
        ]
    );
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn openai_text_transcript() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::OPENAI_TEXT));
    let (events, result) = call(&openai(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("Hello"),
            text(" there, 日本!"),
            usage(12, 5),
            ProviderEvent::Stop(StopReason::EndTurn),
        ]
    );
}

#[test]
fn openai_tool_calls_transcript() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::OPENAI_TOOL_CALLS));
    let (events, result) = call(&openai(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            tool_call("call_T500a", "get_weather", json!({"city": "Paris"})),
            tool_call("call_T500b", "get_time", json!({"tz": "Europe/Paris"})),
            ProviderEvent::Stop(StopReason::ToolUse),
        ]
    );
}

#[test]
fn transcript_sent_one_byte_per_chunk_with_crlf() {
    let fake = FakeProvider::start();
    let body = transcripts::OPENAI_TEXT.replace('\n', "\r\n");
    let reply = body.bytes().fold(
        Reply::status(200).header("content-type", "text/event-stream"),
        |reply, b| reply.chunk(vec![b]),
    );
    fake.push(reply);
    let (events, result) = call(&openai(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("Hello"),
            text(" there, 日本!"),
            usage(12, 5),
            ProviderEvent::Stop(StopReason::EndTurn),
        ]
    );
}

#[test]
fn builders_round_trip_through_both_protocols() {
    let input = json!({"path": "src/main.rs", "note": "ünïcode"});
    let fake = FakeProvider::start();
    fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("Reading.")
            .tool_use("toolu_1", "read", input.clone())
            .usage(7, 3)
            .build(),
    ));
    fake.push(Reply::sse(
        &OpenAiSse::new()
            .text("Reading.")
            .tool_call("call_1", "read", input.clone())
            .usage(7, 3)
            .build(),
    ));
    let (a, result) = call(&anthropic(&fake));
    result.unwrap();
    let (o, result) = call(&openai(&fake));
    result.unwrap();
    let tool = |id| tool_call(id, "read", input.clone());
    let stop = ProviderEvent::Stop(StopReason::ToolUse);
    // Deltas are cut in pieces: compare the joined text, then the rest whole.
    let joined = |events: &[ProviderEvent]| {
        let mut text = String::new();
        let mut rest = Vec::new();
        for e in events {
            match e {
                ProviderEvent::TextDelta(t) => text.push_str(t),
                other => rest.push(other.clone()),
            }
        }
        (text, rest)
    };
    assert_eq!(
        joined(&a),
        (
            "Reading.".to_string(),
            vec![tool("toolu_1"), usage(7, 3), stop.clone()]
        )
    );
    assert_eq!(
        joined(&o),
        (
            "Reading.".to_string(),
            vec![tool("call_1"), usage(7, 3), stop]
        )
    );
}

#[test]
fn broken_tool_arguments_are_reported_not_fatal() {
    let fake = FakeProvider::start();
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    let body = [
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "bash", "arguments": "{\"command\": \"l"}}]}),
            Value::Null,
        ),
        chunk(json!({}), json!("length")),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    fake.push(Reply::sse(&body));
    let (events, result) = call(&openai(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            ProviderEvent::ToolCall(ToolCall {
                id: "call_1".to_string(),
                name: "bash".to_string(),
                input: Err(r#"tool input is not valid JSON (EOF while parsing a string at line 1 column 14): "{\"command\": \"l""#.to_string()),
            }),
            ProviderEvent::Stop(StopReason::MaxTokens),
        ]
    );
}

// ---- Requests ----------------------------------------------------------------------

fn weather_tool() -> Vec<ToolSpec> {
    vec![ToolSpec {
        name: "get_weather",
        description: "Current weather",
        input_schema: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }]
}

/// A tool round trip, a failed tool, an empty assistant message and two user
/// messages in a row (a prompt left over after a failed call).
fn tool_history() -> Vec<Message> {
    vec![
        Message::user_text("Weather in Paris?"),
        Message {
            role: Role::Assistant,
            content: vec![
                Block::Text {
                    text: "Checking.".to_string(),
                },
                Block::ToolUse {
                    id: "toolu_A1".to_string(),
                    name: "get_weather".to_string(),
                    input: json!({"city": "Paris"}),
                },
            ],
        },
        Message {
            role: Role::User,
            content: vec![Block::ToolResult {
                tool_use_id: "toolu_A1".to_string(),
                content: "upstream timeout".to_string(),
                is_error: true,
            }],
        },
        Message {
            role: Role::Assistant,
            content: vec![Block::Text {
                text: String::new(),
            }],
        },
        Message::user_text("Try again"),
    ]
}

fn full_request<'a>(
    model: &'a str,
    tools: &'a [ToolSpec],
    messages: &'a [Message],
) -> ChatRequest<'a> {
    ChatRequest {
        model,
        system: "You are terse.",
        tools,
        messages,
        max_tokens: 1024,
        temperature: Some(0.2),
    }
}

/// Headers the client chose; `host` and `content-length` are the transport's.
fn chosen_headers(fake: &FakeProvider) -> Value {
    let mut headers = fake.requests()[0].headers.clone();
    headers.remove("host");
    headers.remove("content-length");
    serde_json::to_value(headers).unwrap()
}

#[test]
fn anthropic_request_is_exact() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::ANTHROPIC_TEXT));
    let (tools, history) = (weather_tool(), tool_history());
    let req = full_request("claude-sonnet-4-5", &tools, &history);
    let (_, result) = call_with(options(), &anthropic(&fake), &req, &Cancel::new());
    result.unwrap();
    let sent = &fake.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(
        sent.body,
        json!({
            "model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": true,
            "system": "You are terse.", "temperature": 0.2,
            "tools": [{"name": "get_weather", "description": "Current weather",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_A1", "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_A1", "content": "upstream timeout", "is_error": true},
                    {"type": "text", "text": "Try again"}]}
            ]
        })
    );
    assert_eq!(
        chosen_headers(&fake),
        json!({
            "accept": "text/event-stream",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
            "user-agent": format!("wingman/{}", env!("CARGO_PKG_VERSION")),
            "x-api-key": KEY,
        })
    );
}

#[test]
fn openai_request_is_exact() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::OPENAI_TEXT));
    let (tools, history) = (weather_tool(), tool_history());
    let req = full_request("gpt-4o", &tools, &history);
    let (_, result) = call_with(options(), &openai(&fake), &req, &Cancel::new());
    result.unwrap();
    let sent = &fake.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        sent.body,
        json!({
            "model": "gpt-4o", "max_completion_tokens": 1024, "stream": true,
            "stream_options": {"include_usage": true}, "temperature": 0.2,
            "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": "Checking.", "tool_calls": [{"id": "toolu_A1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "toolu_A1", "content": "upstream timeout"},
                {"role": "user", "content": "Try again"}
            ]
        })
    );
    assert_eq!(
        chosen_headers(&fake),
        json!({
            "accept": "text/event-stream",
            "authorization": format!("Bearer {KEY}"),
            "content-type": "application/json",
            "user-agent": format!("wingman/{}", env!("CARGO_PKG_VERSION")),
        })
    );
}

#[test]
fn compatible_provider_without_key_gets_max_tokens_and_no_auth() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse(transcripts::OPENAI_TOOL_CALLS));
    let local = Endpoint {
        api_key: None,
        ..endpoint(&fake, "ollama", Protocol::OpenAi)
    };
    let history = vec![Message {
        role: Role::Assistant,
        content: vec![Block::ToolUse {
            id: "call_1".to_string(),
            name: "bash".to_string(),
            input: json!({}),
        }],
    }];
    let (_, result) = call_with(options(), &local, &request(&history), &Cancel::new());
    result.unwrap();
    assert_eq!(
        fake.requests()[0].body,
        json!({
            "model": "m", "max_tokens": 100, "stream": true, "stream_options": {"include_usage": true},
            // No tools in this request: earlier tool calls travel as text.
            "messages": [{"role": "assistant", "content": "[called tool bash with {}]"}]
        })
    );
    assert_eq!(fake.requests()[0].headers.get("authorization"), None);
}

// ---- Errors and retries ------------------------------------------------------------

#[test]
fn http_errors_are_named_and_not_retried() {
    let cases = [
        (
            anthropic as fn(&FakeProvider) -> Endpoint,
            401,
            json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
            ErrorKind::Auth,
            "anthropic returned 401 authentication_error: invalid x-api-key",
        ),
        (
            anthropic,
            400,
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: must be ≥ 1"}}),
            ErrorKind::InvalidRequest,
            "anthropic returned 400 invalid_request_error: max_tokens: must be ≥ 1",
        ),
        (
            openai,
            404,
            json!({"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error",
                "param": null, "code": "model_not_found"}}),
            ErrorKind::InvalidRequest,
            "openai returned 404 invalid_request_error (model_not_found): The model `gpt-9` does not exist",
        ),
        (
            openai,
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "type": "invalid_request_error",
                "param": null, "code": "invalid_api_key"}}),
            ErrorKind::Auth,
            "openai returned 401 invalid_request_error (invalid_api_key): Incorrect API key provided: <redacted>",
        ),
    ];
    for (endpoint, status, body, kind, message) in cases {
        let fake = FakeProvider::start();
        fake.push(Reply::json(status, &body));
        let endpoint = endpoint(&fake);
        let (events, result) = call(&endpoint);
        assert_eq!(events, vec![]);
        assert_eq!(
            result,
            Err(error(kind, &endpoint.provider, Some(status), message))
        );
        assert_eq!(fake.requests().len(), 1, "{message}");
    }
}

#[test]
fn non_json_error_body_is_quoted() {
    let fake = FakeProvider::start();
    fake.push(Reply::status(413).chunk("<html>Request Entity Too Large</html>"));
    let (_, result) = call(&anthropic(&fake));
    assert_eq!(
        result,
        Err(error(
            ErrorKind::InvalidRequest,
            "anthropic",
            Some(413),
            r#"anthropic returned 413: "<html>Request Entity Too Large</html>""#
        ))
    );
}

#[test]
fn overloaded_then_success_honours_retry_after() {
    let fake = FakeProvider::start();
    let overloaded =
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
    fake.push(Reply::json(529, &overloaded).header("retry-after-ms", "200"));
    fake.push(Reply::sse(transcripts::ANTHROPIC_TEXT));
    // A backoff this long would fail the time bound: only retry-after can explain it.
    let slow_backoff = ClientOptions {
        backoff_base: Duration::from_secs(20),
        ..options()
    };
    let start = Instant::now();
    let (events, result) = call_with(
        slow_backoff,
        &anthropic(&fake),
        &request(&hello()),
        &Cancel::new(),
    );
    let elapsed = start.elapsed();
    result.unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(fake.requests()[0].body, fake.requests()[1].body);
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn retries_give_up_and_count_attempts() {
    let fake = FakeProvider::start();
    for _ in 0..4 {
        fake.push(Reply::json(
            503,
            &json!({"error": {"message": "busy", "type": "server_error"}}),
        ));
    }
    let (_, result) = call(&openai(&fake));
    assert_eq!(
        result,
        Err(error(
            ErrorKind::Server,
            "openai",
            Some(503),
            "openai returned 503 server_error: busy (after 4 attempts)"
        ))
    );
    assert_eq!(fake.requests().len(), 4);
}

#[test]
fn insufficient_quota_is_not_retried() {
    let fake = FakeProvider::start();
    let quota = json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
        "param": null, "code": "insufficient_quota"}});
    fake.push(Reply::json(429, &quota));
    fake.push(Reply::sse(transcripts::OPENAI_TEXT));
    let (_, result) = call(&openai(&fake));
    assert_eq!(
        result,
        Err(error(
            ErrorKind::RateLimited,
            "openai",
            Some(429),
            "openai returned 429 insufficient_quota: You exceeded your current quota"
        ))
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn openai_error_frame_is_an_error() {
    let fake = FakeProvider::start();
    let first = transcripts::OPENAI_TEXT
        .split_inclusive("\n\n")
        .take(2)
        .collect::<String>();
    let body = format!(
        "{first}data: {}\n\n",
        json!({"error": {"message": "The server had an error", "type": "server_error", "param": null, "code": null}})
    );
    fake.push(Reply::sse(&body));
    let (events, result) = call(&openai(&fake));
    assert_eq!(events, vec![text("Hello")]);
    assert_eq!(
        result,
        Err(error(
            ErrorKind::Server,
            "openai",
            None,
            "openai stream error server_error: The server had an error"
        ))
    );
}

#[test]
fn truncated_streams_are_errors() {
    let cut = |t: &str, frames: usize| t.split_inclusive("\n\n").take(frames).collect::<String>();
    let fake = FakeProvider::start();
    fake.push(Reply::sse(&cut(transcripts::ANTHROPIC_TEXT, 8)));
    fake.push(Reply::sse(&cut(transcripts::OPENAI_TEXT, 5)));
    let (events, result) = call(&anthropic(&fake));
    assert_eq!(
        events,
        vec![text("Hi! How"), text(" can I he"), text("lp? ✓")]
    );
    assert_eq!(
        result,
        Err(error(
            ErrorKind::Protocol,
            "anthropic",
            None,
            "anthropic stream ended before message_stop"
        ))
    );
    let (events, result) = call(&openai(&fake));
    assert_eq!(
        events,
        vec![text("Hello"), text(" there, 日本!"), usage(12, 5)]
    );
    assert_eq!(
        result,
        Err(error(
            ErrorKind::Protocol,
            "openai",
            None,
            "openai stream ended before [DONE]"
        ))
    );
}

#[test]
fn dropped_connection_mid_stream_is_a_network_error() {
    let fake = FakeProvider::start();
    let first = transcripts::ANTHROPIC_TEXT
        .split_inclusive("\n\n")
        .take(4)
        .collect::<String>();
    fake.push(Reply::sse(&first).then_drop());
    let (events, result) = call(&anthropic(&fake));
    assert_eq!(events, vec![text("Hi! How")]);
    let err = result.unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Network, None));
    assert!(
        err.message.starts_with("anthropic: connection lost: "),
        "{}",
        err.message
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn dropped_connection_before_any_event_is_retried() {
    let fake = FakeProvider::start();
    let start = transcripts::ANTHROPIC_TEXT
        .split_inclusive("\n\n")
        .take(1)
        .collect::<String>();
    fake.push(Reply::sse(&start).then_drop());
    fake.push(Reply::sse(transcripts::ANTHROPIC_TEXT));
    let (events, result) = call(&anthropic(&fake));
    result.unwrap();
    assert_eq!(events.len(), 5);
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn connection_refused_is_retried_then_reported() {
    let base_url = dead_port_url();
    let endpoint = Endpoint {
        provider: "anthropic".to_string(),
        protocol: Protocol::Anthropic,
        base_url: base_url.clone(),
        api_key: Some(KEY.to_string()),
    };
    let (events, result) = call(&endpoint);
    assert_eq!(events, vec![]);
    let err = result.unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Network, None));
    let prefix = format!("anthropic: cannot reach {base_url}/messages: ");
    assert!(err.message.starts_with(&prefix), "{}", err.message);
    assert!(
        err.message.ends_with(" (after 4 attempts)"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(KEY));
}

// ---- Idle timeout and cancel -------------------------------------------------------

fn short_idle() -> ClientOptions {
    ClientOptions {
        idle_timeout: Duration::from_millis(300),
        ..options()
    }
}

#[test]
fn silent_stream_hits_the_idle_timeout() {
    let fake = FakeProvider::start();
    let first = transcripts::ANTHROPIC_TEXT
        .split_inclusive("\n\n")
        .take(4)
        .collect::<String>();
    fake.push(Reply::sse(&first).then_silence());
    fake.push(Reply::silent());
    for expected_events in [vec![text("Hi! How")], vec![]] {
        let start = Instant::now();
        let (events, result) = call_with(
            short_idle(),
            &anthropic(&fake),
            &request(&hello()),
            &Cancel::new(),
        );
        assert_eq!(events, expected_events);
        let err = result.unwrap_err();
        assert_eq!((err.kind, err.status), (ErrorKind::Network, None));
        assert!(
            err.message
                .starts_with("anthropic sent nothing for 0.3s (idle timeout)"),
            "{}",
            err.message
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
    assert_eq!(fake.requests().len(), 2, "an idle timeout is not retried");
}

/// Runs a call on this thread and cancels it from another once the fake has seen
/// `requests` requests; returns the result and how long the call took to return
/// after the cancel.
fn cancel_after_request(
    fake: &FakeProvider,
    requests: usize,
    options: ClientOptions,
) -> (Result<(), ProviderError>, Duration) {
    let cancel = Cancel::new();
    let endpoint = anthropic(fake);
    std::thread::scope(|scope| {
        let canceller = scope.spawn(|| {
            fake.wait_for_requests(requests);
            let at = Instant::now();
            cancel.cancel();
            at
        });
        let (_, result) = call_with(options, &endpoint, &request(&hello()), &cancel);
        let cancelled_at = canceller.join().unwrap();
        (result, cancelled_at.elapsed())
    })
}

#[test]
fn cancel_while_provider_is_silent_returns_promptly() {
    let fake = FakeProvider::start();
    // Silent mid-frame (headers sent), then silent before any headers.
    let (reply, _gate) = Reply::sse(&transcripts::ANTHROPIC_TEXT[..200]).hold();
    fake.push(reply);
    fake.push(Reply::silent());
    let long_idle = ClientOptions {
        idle_timeout: Duration::from_secs(60),
        ..options()
    };
    for requests in [1, 2] {
        let (result, after_cancel) = cancel_after_request(&fake, requests, long_idle.clone());
        assert_eq!(
            result,
            Err(error(
                ErrorKind::Aborted,
                "anthropic",
                None,
                "anthropic call aborted"
            ))
        );
        assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    }
}

#[test]
fn cancel_interrupts_retry_backoff() {
    let fake = FakeProvider::start();
    fake.push(Reply::json(529, &json!({})).header("retry-after", "30"));
    let (result, after_cancel) = cancel_after_request(&fake, 1, options());
    assert_eq!(result.unwrap_err().kind, ErrorKind::Aborted);
    assert!(after_cancel < Duration::from_secs(1), "{after_cancel:?}");
    assert_eq!(fake.requests().len(), 1);
}

// ---- Model lists -------------------------------------------------------------------

#[test]
fn list_models_reads_the_live_list() {
    let fake = FakeProvider::start();
    fake.push(Reply::json(
        200,
        &json!({"object": "list", "data": [
            {"id": "qwen3:8b", "object": "model", "created": 1, "owned_by": "library"},
            {"id": "llama3.2", "object": "model", "created": 2, "owned_by": "library"}]}),
    ));
    let local = Endpoint {
        api_key: None,
        ..endpoint(&fake, "ollama", Protocol::OpenAi)
    };
    let models = Client::new(options()).list_models(&local);
    assert_eq!(
        Value::Object(models),
        json!({"llama3.2": {"id": "llama3.2", "name": "llama3.2"},
               "qwen3:8b": {"id": "qwen3:8b", "name": "qwen3:8b"}})
    );
    let sent = &fake.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("GET", "/v1/models")
    );
}

#[test]
fn list_models_is_empty_when_unreachable_or_invalid() {
    let client = Client::new(options());
    let fake = FakeProvider::start();
    fake.push(Reply::json(200, &json!({"models": "nope"})));
    fake.push(Reply::json(500, &json!({"error": "down"})));
    fake.push(Reply::silent());
    let mut dead = openai(&fake);
    dead.base_url = dead_port_url();
    for endpoint in [openai(&fake), openai(&fake), dead] {
        assert_eq!(client.list_models(&endpoint), serde_json::Map::new());
    }
    let start = Instant::now();
    assert_eq!(client.list_models(&openai(&fake)), serde_json::Map::new());
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
}

// ---- Leniency: what real providers add ---------------------------------------------

#[test]
fn unknown_events_blocks_and_fields_are_ignored() {
    let fake = FakeProvider::start();
    let event = |data: Value| {
        format!(
            "event: {}\ndata: {data}\n\n",
            data["type"].as_str().unwrap()
        )
    };
    let body = [
        ": a comment\n\n".to_string(),
        event(json!({"type": "message_start", "message": {"usage": {"input_tokens": 3,
            "cache_read_input_tokens": 100, "output_tokens": 1}, "service_tier": "x"}})),
        event(json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}})),
        event(json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}})),
        event(json!({"type": "content_block_stop", "index": 0})),
        event(json!({"type": "brand_new_event", "whatever": [1, 2]})),
        event(json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use",
            "id": "toolu_1", "name": "glob", "input": {}}})),
        event(json!({"type": "content_block_stop", "index": 1})),
        event(json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 7}})),
        event(json!({"type": "message_stop"})),
    ]
    .concat();
    fake.push(Reply::sse(&body));
    let (events, result) = call(&anthropic(&fake));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            tool_call("toolu_1", "glob", json!({})),
            usage(103, 7),
            ProviderEvent::Stop(StopReason::MaxTokens),
        ]
    );
}

#[test]
fn ollama_style_whole_tool_calls() {
    let fake = FakeProvider::start();
    let chunk = |choices: Value, usage: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-1", "system_fingerprint": "fp_ollama",
            "choices": choices, "usage": usage})
        )
    };
    let body = [
        chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": "On it.", "reasoning": "x"}}]), Value::Null),
        chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_a", "index": 0, "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}},
            {"id": "call_b", "index": 1, "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"x\"}"}}]}}]),
            Value::Null),
        chunk(json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": "tool_calls"}]), Value::Null),
        chunk(json!([]), json!({"prompt_tokens": 0, "completion_tokens": 9})),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    fake.push(Reply::sse(&body));
    let (events, result) = call(&endpoint(&fake, "ollama", Protocol::OpenAi));
    result.unwrap();
    assert_eq!(
        events,
        vec![
            text("On it."),
            tool_call("call_a", "bash", json!({"command": "ls"})),
            tool_call("call_b", "read", json!({"path": "x"})),
            usage(0, 9),
            ProviderEvent::Stop(StopReason::ToolUse),
        ]
    );
}

#[test]
fn unreadable_frame_is_a_protocol_error() {
    let fake = FakeProvider::start();
    fake.push(Reply::sse("data: {not json\n\n"));
    let (events, result) = call(&openai(&fake));
    assert_eq!(events, vec![]);
    let err = result.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(
        err.message.starts_with("openai sent an unreadable chunk: "),
        "{}",
        err.message
    );
    assert_eq!(fake.requests().len(), 1);
}
