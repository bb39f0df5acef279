//! The agent loop through the real binary, against fake providers on 127.0.0.1.

use std::io::BufReader;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::fake_provider::{AnthropicSse, FakeProvider, OpenAiSse, Reply};
use crate::support::http::{self, Event, connect, next_event, read_head, write_request};
use crate::support::{TempDir, Wingman, eventually};

/// A server whose `anthropic` provider is the fake, an agent and a session.
struct Setup {
    w: Wingman,
    fake: FakeProvider,
    agent: String,
    session: String,
    work: TempDir,
}

fn setup(agent: Value) -> Setup {
    let fake = FakeProvider::start();
    let w = Wingman::start();
    let r = w.put(
        "/provider/auth",
        &json!({"providers": {"anthropic": {"type": "api_key", "key": "test-key-777", "base_url": fake.base_url()}}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let mut body = json!({"name": "tester", "instructions": "Be brief.", "tools": ["bash", "read", "write"], "max_tokens": 1000});
    for (k, v) in agent.as_object().unwrap() {
        body[k] = v.clone();
    }
    let agent = w.agent(body);
    let work = TempDir::new();
    let session = w.session(work.path());
    Setup {
        w,
        fake,
        agent,
        session,
        work,
    }
}

impl Setup {
    fn message(&self, prompt: &str) -> http::Reply {
        self.w.post(
            &format!("/sessions/{}/message", self.session),
            &json!({"agent_id": self.agent, "prompt": prompt}),
        )
    }

    fn history(&self) -> Value {
        self.w.get(&format!("/sessions/{}", self.session)).json()["history"].clone()
    }

    /// Opens the stream and returns the reader positioned after the head.
    fn open_stream(&self, prompt: &str) -> BufReader<std::net::TcpStream> {
        open_stream(self.w.port, &self.session, &self.agent, prompt)
    }
}

fn open_stream(
    port: u16,
    session: &str,
    agent: &str,
    prompt: &str,
) -> BufReader<std::net::TcpStream> {
    let mut s = connect(port);
    let body = json!({"agent_id": agent, "prompt": prompt}).to_string();
    write_request(
        &mut s,
        "POST",
        &format!("/sessions/{session}/message/stream"),
        &[],
        Some(&body),
        true,
    );
    let mut reader = BufReader::new(s);
    let (status, headers) = read_head(&mut reader);
    assert_eq!(status, 200);
    assert!(headers.contains(&(
        "content-type".into(),
        "text/event-stream; charset=utf-8".into()
    )));
    reader
}

fn all_events(mut reader: BufReader<std::net::TcpStream>) -> Vec<Event> {
    std::iter::from_fn(|| next_event(&mut reader)).collect()
}

fn event(name: &str, data: Value) -> Event {
    Event {
        name: name.into(),
        data,
    }
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": [{"type": "text", "text": text}]})
}

fn assistant_text(text: &str) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
}

/// True while a process with this pid exists (and is not a zombie).
fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn one_step_text_answer_blocking() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("Hello there!")
            .usage(21, 9)
            .build(),
    ));
    let r = s.message("Hi");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"response": "Hello there!", "tool_calls": [], "usage": {"input_tokens": 21, "output_tokens": 9},
               "steps": 1, "stop_reason": "end_turn"})
    );
    assert_eq!(
        s.history(),
        json!([user("Hi"), assistant_text("Hello there!")])
    );
    let session = s.w.get(&format!("/sessions/{}", s.session)).json();
    assert_eq!(
        (session["status"].clone(), session["message_count"].clone()),
        (json!("idle"), json!(2))
    );
    assert_eq!(
        session["usage"],
        json!({"input_tokens": 21, "output_tokens": 9})
    );

    let requests = s.fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(
        requests[0].headers.get("x-api-key").map(String::as_str),
        Some("test-key-777")
    );
    let body = &requests[0].body;
    assert_eq!(
        (
            body["model"].clone(),
            body["system"].clone(),
            body["max_tokens"].clone()
        ),
        (json!("claude-sonnet-4-5"), json!("Be brief."), json!(1000))
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tools, vec!["bash", "read", "write"], "the agent's order");
    assert!(!s.w.log().contains("test-key-777"));
}

#[test]
fn one_step_text_answer_streamed() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("Hello there!")
            .usage(21, 9)
            .build(),
    ));
    let events = all_events(s.open_stream("Hi"));
    assert_eq!(
        events,
        vec![
            event("text", json!({"text": "Hell"})),
            event("text", json!({"text": "o th"})),
            event("text", json!({"text": "ere!"})),
            event(
                "done",
                json!({"response": "Hello there!", "tool_calls": [], "usage": {"input_tokens": 21, "output_tokens": 9},
                                 "steps": 1, "stop_reason": "end_turn"})
            ),
        ]
    );
    assert_eq!(
        s.history(),
        json!([user("Hi"), assistant_text("Hello there!")])
    );
}

#[test]
fn multi_step_write_read_answer() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("Writing.")
            .tool_use(
                "toolu_1",
                "write",
                json!({"path": "notes/a.txt", "content": "alpha\nbeta\n"}),
            )
            .build(),
    ));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use("toolu_2", "read", json!({"path": "notes/a.txt"}))
            .build(),
    ));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("The file says alpha and beta.")
            .build(),
    ));
    let events = all_events(s.open_stream("Write then read"));
    assert_eq!(
        std::fs::read_to_string(s.work.path().join("notes/a.txt")).unwrap(),
        "alpha\nbeta\n"
    );

    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "text",
            "text",
            "text",
            "tool_use",
            "tool_result",
            "tool_use",
            "tool_result",
            "text",
            "text",
            "text",
            "done"
        ]
    );
    let first: String = events[..3]
        .iter()
        .map(|e| e.data["text"].as_str().unwrap())
        .collect();
    assert_eq!(first, "Writing.");
    assert_eq!(
        events[3],
        event(
            "tool_use",
            json!({"id": "toolu_1", "name": "write", "input": {"path": "notes/a.txt", "content": "alpha\nbeta\n"}})
        )
    );
    let write_out = events[4].data["output"].as_str().unwrap().to_string();
    let read_out = events[6].data["output"].as_str().unwrap().to_string();
    assert_eq!(
        events[4],
        event(
            "tool_result",
            json!({"tool_use_id": "toolu_1", "name": "write", "output": write_out, "is_error": false})
        )
    );
    assert_eq!(
        events[6],
        event(
            "tool_result",
            json!({"tool_use_id": "toolu_2", "name": "read", "output": read_out, "is_error": false})
        )
    );
    assert!(
        read_out.contains("alpha") && read_out.contains("beta"),
        "{read_out}"
    );
    let done = &events[10].data;
    assert_eq!(
        (done["steps"].clone(), done["stop_reason"].clone()),
        (json!(3), json!("end_turn"))
    );
    assert_eq!(done["response"], json!("The file says alpha and beta."));
    assert_eq!(
        done["usage"],
        json!({"input_tokens": 30, "output_tokens": 15})
    );
    assert_eq!(
        done["tool_calls"],
        json!([
            {"id": "toolu_1", "name": "write", "input": {"path": "notes/a.txt", "content": "alpha\nbeta\n"}, "output": write_out, "is_error": false},
            {"id": "toolu_2", "name": "read", "input": {"path": "notes/a.txt"}, "output": read_out, "is_error": false},
        ])
    );

    let history = s.history();
    assert_eq!(
        history,
        json!([
            user("Write then read"),
            {"role": "assistant", "content": [{"type": "text", "text": "Writing."},
                {"type": "tool_use", "id": "toolu_1", "name": "write", "input": {"path": "notes/a.txt", "content": "alpha\nbeta\n"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": write_out, "is_error": false}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_2", "name": "read", "input": {"path": "notes/a.txt"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_2", "content": read_out, "is_error": false}]},
            assistant_text("The file says alpha and beta."),
        ])
    );
    // The provider received the tool results.
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 3);
    let last = &requests[2].body["messages"];
    assert_eq!(last.as_array().unwrap().len(), 5);
    assert_eq!(
        last[4]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_2", "content": read_out, "is_error": false})
    );
}

#[test]
fn tool_errors_are_fed_back_to_the_model() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use("toolu_1", "read", json!({"path": "missing.txt"}))
            .tool_use("toolu_2", "grep", json!({"pattern": "x"}))
            .build(),
    ));
    s.fake.push(Reply::sse(
        &AnthropicSse::new().text("It does not exist.").build(),
    ));
    let r = s.message("Read missing.txt");
    assert_eq!(r.status, 200, "{}", r.body);
    let calls = r.json()["tool_calls"].clone();
    assert_eq!(calls[0]["is_error"], json!(true));
    assert!(
        calls[0]["output"].as_str().unwrap().contains("missing.txt"),
        "{}",
        calls[0]
    );
    assert_eq!(
        calls[1]["output"],
        json!("unknown tool `grep`: this agent's tools are bash, read, write")
    );
    let sent = &s.fake.requests()[1].body["messages"][2]["content"];
    assert_eq!(sent[0]["is_error"], json!(true));
    assert_eq!(sent[0]["tool_use_id"], json!("toolu_1"));
    assert_eq!(
        sent[1],
        json!({"type": "tool_result", "tool_use_id": "toolu_2", "content": "unknown tool `grep`: this agent's tools are bash, read, write", "is_error": true})
    );
}

#[test]
fn max_steps_is_not_an_error() {
    let s = setup(json!({"max_steps": 2}));
    for i in 0..2 {
        s.fake.push(Reply::sse(
            &AnthropicSse::new()
                .tool_use(
                    &format!("toolu_{i}"),
                    "bash",
                    json!({"command": format!("echo step{i}")}),
                )
                .build(),
        ));
    }
    let r = s.message("loop forever");
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    assert_eq!(
        (out["steps"].clone(), out["stop_reason"].clone()),
        (json!(2), json!("max_steps"))
    );
    assert_eq!(out["tool_calls"].as_array().unwrap().len(), 2);
    assert!(
        out["tool_calls"][1]["output"]
            .as_str()
            .unwrap()
            .contains("step1")
    );
    let history = s.history();
    assert_eq!(
        history.as_array().unwrap().len(),
        5,
        "prompt + 2 × (tool_use, tool_result)"
    );
    // The next message works: the history ends with tool results.
    s.fake
        .push(Reply::sse(&AnthropicSse::new().text("ok").build()));
    assert_eq!(
        s.message("stop now").json()["stop_reason"],
        json!("end_turn")
    );
}

#[test]
fn a_cut_off_tool_call_gets_an_error_result() {
    let s = setup(json!({}));
    // max_tokens in the middle of the tool input: the JSON never closes.
    let cut = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_cut\",\"name\":\"write\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"path\\\": \\\"a.txt\\\", \\\"content\\\": \\\"very lo\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":1000}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    s.fake.push(Reply::sse(cut));
    s.fake.push(Reply::sse(
        &AnthropicSse::new().text("Sorry, I was cut off.").build(),
    ));
    let r = s.message("write a long file");
    assert_eq!(r.status, 200, "{}", r.body);
    let out = r.json();
    let call = &out["tool_calls"][0];
    assert_eq!(
        (call["id"].clone(), call["is_error"].clone()),
        (json!("toolu_cut"), json!(true))
    );
    assert!(
        call["output"]
            .as_str()
            .unwrap()
            .starts_with("not run: tool input is not valid JSON"),
        "{call}"
    );
    assert!(!s.work.path().join("a.txt").exists());
    let history = s.history();
    assert_eq!(history[1]["content"][0]["type"], json!("tool_use"));
    assert_eq!(history[2]["content"][0]["tool_use_id"], json!("toolu_cut"));
    assert_eq!(out["stop_reason"], json!("end_turn"));

    // A text answer cut by max_tokens ends the run with that reason.
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .text("Once upon a")
            .stop_reason("max_tokens")
            .build(),
    ));
    let out = s.message("tell a story").json();
    assert_eq!(
        (out["stop_reason"].clone(), out["response"].clone()),
        (json!("max_tokens"), json!("Once upon a"))
    );
}

#[test]
fn provider_401_is_a_502_naming_the_provider() {
    let s = setup(json!({}));
    s.fake.push(Reply::json(401, &json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})));
    let r = s.message("Hi");
    assert_eq!(
        (r.status, r.json()),
        (
            502,
            json!({"error": "anthropic returned 401 authentication_error: invalid x-api-key"})
        )
    );
    assert_eq!(s.history(), json!([user("Hi")]), "the prompt is kept");
    // Streamed, the same failure is an `error` event.
    s.fake.push(Reply::json(401, &json!({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})));
    let events = all_events(s.open_stream("Hi again"));
    assert_eq!(
        events,
        vec![event(
            "error",
            json!({"error": "anthropic returned 401 authentication_error: invalid x-api-key"})
        )]
    );
}

#[test]
fn failure_at_step_two_keeps_step_one_and_the_next_message_works() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use("toolu_1", "bash", json!({"command": "echo one"}))
            .build(),
    ));
    s.fake.push(Reply::json(400, &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "messages: bad"}})));
    let r = s.message("go");
    assert_eq!(r.status, 502);
    assert_eq!(
        r.json(),
        json!({"error": "anthropic returned 400 invalid_request_error: messages: bad"})
    );
    let history = s.history();
    assert_eq!(history.as_array().unwrap().len(), 3, "{history}");
    assert!(
        history[2]["content"][0]["content"]
            .as_str()
            .unwrap()
            .contains("one"),
        "{history}"
    );
    assert_eq!(history[2]["content"][0]["tool_use_id"], json!("toolu_1"));

    s.fake
        .push(Reply::sse(&AnthropicSse::new().text("recovered").build()));
    let r = s.message("again");
    assert_eq!(
        (r.status, r.json()["response"].clone()),
        (200, json!("recovered"))
    );
    // The provider got the kept step and both prompts, the user turns merged.
    let messages = s.fake.requests()[2].body["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 3, "{messages}");
    let last = messages[2]["content"].as_array().unwrap();
    assert_eq!(last[0]["type"], json!("tool_result"));
    assert_eq!(last[1], json!({"type": "text", "text": "again"}));
}

#[test]
fn up_front_errors_come_as_json() {
    let s = setup(json!({}));
    let path = format!("/sessions/{}/message", s.session);
    let cases = [
        (
            json!({"agent_id": s.agent}),
            400,
            "`prompt` is required and must not be empty".to_string(),
        ),
        (
            json!({"agent_id": s.agent, "prompt": "  "}),
            400,
            "`prompt` is required and must not be empty".to_string(),
        ),
        (
            json!({"prompt": "hi"}),
            400,
            "`agent_id` is required and must not be empty".to_string(),
        ),
        (
            json!({"agent_id": 5, "prompt": "hi"}),
            400,
            "`agent_id` must be a string".to_string(),
        ),
        (
            json!({"agent_id": "01NOPE", "prompt": "hi"}),
            404,
            "no agent with id `01NOPE`".to_string(),
        ),
    ];
    for (body, status, message) in cases {
        for p in [path.clone(), format!("{path}/stream")] {
            let r = s.w.post(&p, &body);
            assert_eq!(
                (r.status, r.json()),
                (status, json!({"error": message})),
                "{p} {body}"
            );
        }
    }
    let r = s.w.post(
        "/sessions/01NOPE/message",
        &json!({"agent_id": s.agent, "prompt": "hi"}),
    );
    assert_eq!(
        (r.status, r.json()),
        (404, json!({"error": "no session with id `01NOPE`"}))
    );
    let openai_agent =
        s.w.agent(json!({"name": "o", "provider": "openai", "model": "gpt-4o"}));
    let r =
        s.w.post(&path, &json!({"agent_id": openai_agent, "prompt": "hi"}));
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        json!(
            "provider `openai` has no credentials: PUT /provider/auth with {\"providers\": {\"openai\": {\"type\": \"api_key\", \"key\": \"…\"}}} or set OPENAI_API_KEY"
        )
    );
    assert!(s.fake.requests().is_empty());
    assert_eq!(s.history(), json!([]));
}

#[test]
fn first_text_event_arrives_while_the_provider_holds_the_rest() {
    let s = setup(json!({}));
    let body = AnthropicSse::new().text("Hello there!").build();
    // Cut after the first text delta.
    let cut = body
        .find("o th")
        .map(|i| body[..i].rfind("event: ").unwrap())
        .unwrap();
    let (reply, gate) = Reply::sse(&body[..cut]).hold();
    s.fake.push(reply.chunk(body[cut..].to_string()));
    let mut reader = s.open_stream("Hi");
    assert_eq!(
        next_event(&mut reader),
        Some(event("text", json!({"text": "Hell"})))
    );
    // The session is running while the provider holds its answer.
    assert_eq!(
        s.w.get(&format!("/sessions/{}", s.session)).json()["status"],
        json!("running")
    );
    gate.open();
    let rest = all_events(reader);
    assert_eq!(rest.len(), 3);
    assert_eq!(rest[2].data["response"], json!("Hello there!"));
}

#[test]
fn a_second_message_while_running_is_409() {
    let s = setup(json!({}));
    let (reply, gate) = Reply::sse("").hold();
    s.fake
        .push(reply.chunk(AnthropicSse::new().text("done").build()));
    let reader = s.open_stream("first");
    s.fake.wait_for_requests(1);
    let r = s.message("second");
    let want = format!(
        "session `{0}` is already running a message; wait for it or POST /sessions/{0}/abort",
        s.session
    );
    assert_eq!((r.status, r.json()), (409, json!({"error": want})));
    gate.open();
    let events = all_events(reader);
    assert_eq!(events.last().unwrap().name, "done");
    // Idle again: the next message is accepted.
    s.fake
        .push(Reply::sse(&AnthropicSse::new().text("again").build()));
    assert_eq!(s.message("third").status, 200);
}

/// The pid the sleeping command wrote to `pid` in the work dir, once it is there.
fn sleeping_pid(s: &Setup) -> String {
    let pid_file = s.work.path().join("pid");
    assert!(eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(&pid_file).is_ok_and(|p| p.ends_with('\n'))
    }));
    std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string()
}

/// A run whose first step starts `sleep 30` in bash and prints the shell's pid.
fn start_sleeping_run(s: &Setup) -> (BufReader<std::net::TcpStream>, String) {
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use(
                "toolu_sleep",
                "bash",
                json!({"command": "echo $$ > pid; exec sleep 30"}),
            )
            .build(),
    ));
    let mut reader = s.open_stream("sleep");
    assert_eq!(next_event(&mut reader).unwrap().name, "tool_use");
    let pid = sleeping_pid(s);
    assert!(alive(&pid));
    (reader, pid)
}

#[test]
fn abort_stops_a_running_bash_quickly() {
    let s = setup(json!({}));
    let (reader, pid) = start_sleeping_run(&s);
    let start = Instant::now();
    let r =
        s.w.post(&format!("/sessions/{}/abort", s.session), &json!({}));
    assert_eq!((r.status, r.json()), (200, json!({"status": "aborting"})));
    let events = all_events(reader);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert!(!alive(&pid), "sleep survived");
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["tool_result", "done"]);
    assert_eq!(events[0].data["is_error"], json!(true));
    assert_eq!(events[1].data["stop_reason"], json!("aborted"));
    let session = s.w.get(&format!("/sessions/{}", s.session)).json();
    assert_eq!(session["status"], json!("idle"));
    // The step is kept whole: tool_use with its (error) result.
    assert_eq!(
        session["history"][2]["content"][0]["tool_use_id"],
        json!("toolu_sleep")
    );
    let r =
        s.w.post(&format!("/sessions/{}/abort", s.session), &json!({}));
    assert_eq!(r.json(), json!({"status": "idle"}));
}

#[test]
fn a_client_that_leaves_aborts_the_run() {
    let s = setup(json!({}));
    let (reader, pid) = start_sleeping_run(&s);
    let start = Instant::now();
    drop(reader);
    assert!(
        eventually(Duration::from_secs(2), || !alive(&pid)),
        "sleep survived the client"
    );
    assert!(eventually(Duration::from_secs(2), || s
        .w
        .get(&format!("/sessions/{}", s.session))
        .json()["status"]
        == json!("idle")));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    let history = s.history();
    assert_eq!(
        history[2]["content"][0]["is_error"],
        json!(true),
        "{history}"
    );
}

#[test]
fn deleting_a_running_session_aborts_it() {
    let s = setup(json!({}));
    let (reader, pid) = start_sleeping_run(&s);
    let r = s.w.delete(&format!("/sessions/{}", s.session));
    assert_eq!((r.status, r.json()), (200, json!({"status": "deleted"})));
    assert!(!alive(&pid));
    assert_eq!(all_events(reader).last().unwrap().name, "done");
    assert_eq!(s.w.get(&format!("/sessions/{}", s.session)).status, 404);
}

#[test]
fn shutdown_aborts_runs_and_keeps_their_steps() {
    let mut s = setup(json!({}));
    let (reader, pid) = start_sleeping_run(&s);
    let start = Instant::now();
    assert_eq!(s.w.terminate(), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert!(!alive(&pid));
    drop(reader);
    let db = s.w.db.clone();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 3, "prompt, tool_use, tool_result");
}

#[test]
fn sigkill_mid_run_leaves_a_valid_history() {
    let mut s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use("toolu_a", "bash", json!({"command": "echo a"}))
            .build(),
    ));
    let (reply, _gate) =
        Reply::sse(&AnthropicSse::new().text("never finished").build()[..200]).hold();
    s.fake.push(reply);
    let reader = s.open_stream("work");
    s.fake.wait_for_requests(2);
    s.w.kill();
    drop(reader);
    let w = Wingman::start_on_db(&s.w.db);
    let conn = rusqlite::Connection::open(&s.w.db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let session = w.get(&format!("/sessions/{}", s.session)).json();
    assert_eq!(session["status"], json!("idle"));
    let history = session["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_no_dangling_tool_use(&history);
    // The next message works.
    let fake = FakeProvider::start();
    w.put("/provider/auth", &json!({"providers": {"anthropic": {"type": "api_key", "key": "k", "base_url": fake.base_url()}}}));
    fake.push(Reply::sse(&AnthropicSse::new().text("back").build()));
    let r = w.post(
        &format!("/sessions/{}/message", s.session),
        &json!({"agent_id": s.agent, "prompt": "again"}),
    );
    assert_eq!(
        (r.status, r.json()["response"].clone()),
        (200, json!("back"))
    );
}

fn assert_no_dangling_tool_use(history: &[Value]) {
    for (i, m) in history.iter().enumerate() {
        for block in m["content"].as_array().unwrap() {
            if block["type"] == "tool_use" {
                let next = history.get(i + 1).expect("a tool_use ends the history");
                assert!(
                    next["content"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|b| b["tool_use_id"] == block["id"]),
                    "no result for {block}"
                );
            }
        }
    }
}

#[test]
fn twenty_sessions_run_at_once() {
    let w = Wingman::start();
    let work = TempDir::new();
    // One fake provider per OpenAI-protocol catalog provider: each session's script is its own.
    let providers: Vec<String> = w
        .get("/provider")
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["protocol"] == "openai" && !p["api"].as_str().unwrap().contains("${"))
        .map(|p| p["name"].as_str().unwrap().to_string())
        .take(20)
        .collect();
    assert_eq!(providers.len(), 20);
    let mut runs = Vec::new();
    for (i, name) in providers.iter().enumerate() {
        let fake = FakeProvider::start();
        fake.push(Reply::sse(
            &OpenAiSse::new()
                .tool_call(
                    "call_1",
                    "bash",
                    json!({"command": format!("echo s{i} > f{i}.txt")}),
                )
                .build(),
        ));
        fake.push(Reply::sse(
            &OpenAiSse::new()
                .tool_call("call_2", "read", json!({"path": format!("f{i}.txt")}))
                .build(),
        ));
        fake.push(Reply::sse(
            &OpenAiSse::new().text(&format!("session {i} done")).build(),
        ));
        let r = w.put("/provider/auth", &json!({"providers": {name: {"type": "api_key", "key": "k", "base_url": fake.base_url()}}}));
        assert_eq!(r.status, 200, "{}", r.body);
        let agent = w.agent(json!({"name": format!("a{i}"), "provider": name, "model": "m", "tools": ["bash", "read"]}));
        let session = w.session(work.path());
        runs.push((fake, agent, session));
    }
    let port = w.port;
    let threads: Vec<_> = runs
        .iter()
        .map(|(_, agent, session)| {
            let (agent, session) = (agent.clone(), session.clone());
            std::thread::spawn(move || {
                http::request(
                    port,
                    "POST",
                    &format!("/sessions/{session}/message"),
                    &[],
                    Some(&json!({"agent_id": agent, "prompt": "go"}).to_string()),
                )
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let r = t.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let out = r.json();
        assert_eq!(
            (out["steps"].clone(), out["response"].clone()),
            (json!(3), json!(format!("session {i} done")))
        );
        assert!(
            out["tool_calls"][1]["output"]
                .as_str()
                .unwrap()
                .contains(&format!("s{i}"))
        );
    }
    for (fake, _, session) in &runs {
        assert_eq!(fake.requests().len(), 3);
        let history = w.get(&format!("/sessions/{session}")).json()["history"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(history.len(), 6);
        assert_no_dangling_tool_use(&history);
    }
}

#[test]
fn a_blocking_client_that_leaves_aborts_the_run() {
    let s = setup(json!({}));
    s.fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use(
                "toolu_sleep",
                "bash",
                json!({"command": "echo $$ > pid; exec sleep 30"}),
            )
            .build(),
    ));
    let mut conn = connect(s.w.port);
    let body = json!({"agent_id": s.agent, "prompt": "sleep"}).to_string();
    write_request(
        &mut conn,
        "POST",
        &format!("/sessions/{}/message", s.session),
        &[],
        Some(&body),
        true,
    );
    let pid = sleeping_pid(&s);
    let start = Instant::now();
    drop(conn);
    assert!(
        eventually(Duration::from_secs(2), || !alive(&pid)),
        "sleep survived the client"
    );
    assert!(eventually(Duration::from_secs(2), || s
        .w
        .get(&format!("/sessions/{}", s.session))
        .json()["status"]
        == json!("idle")));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert_no_dangling_tool_use(s.history().as_array().unwrap());
}

#[test]
fn bash_never_sees_the_servers_secrets() {
    let fake = FakeProvider::start();
    let w = Wingman::start_with(
        &[],
        &[
            ("ANTHROPIC_API_KEY", "sk-env-secret-55"),
            ("GROQ_API_KEY", "gsk-secret-56"),
        ],
    );
    // Stored base_url only: the key comes from the environment.
    w.put(
        "/provider/auth",
        &json!({"providers": {"anthropic": {"type": "api_key", "base_url": fake.base_url()}}}),
    );
    let agent = w.agent(json!({"name": "env", "tools": ["bash"]}));
    let work = TempDir::new();
    let session = w.session(work.path());
    fake.push(Reply::sse(
        &AnthropicSse::new()
            .tool_use(
                "toolu_env",
                "bash",
                json!({"command": "env; echo HOME=$HOME"}),
            )
            .build(),
    ));
    fake.push(Reply::sse(&AnthropicSse::new().text("ok").build()));
    let r = w.post(
        &format!("/sessions/{session}/message"),
        &json!({"agent_id": agent, "prompt": "env"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let output = r.json()["tool_calls"][0]["output"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(output.contains("HOME="), "{output}");
    for secret in ["sk-env-secret-55", "gsk-secret-56"] {
        assert!(!output.contains(secret), "bash saw {secret}");
        assert!(!w.get(&format!("/sessions/{session}")).body.contains(secret));
    }
    // The provider itself did get the key from the environment.
    assert_eq!(
        fake.requests()[0]
            .headers
            .get("x-api-key")
            .map(String::as_str),
        Some("sk-env-secret-55")
    );
}
