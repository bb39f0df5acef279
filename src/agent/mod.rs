//! The agent loop: call the model, run the tools it asks for, feed the results
//! back, repeat until it stops asking or `max_steps` is reached. It knows nothing
//! of HTTP: it reports `Event`s to a sink (collected for the blocking reply,
//! written as SSE for the stream) and returns an `Outcome`.
//!
//! Invariants (API.md "History rules"):
//! - the prompt is stored before the first provider call;
//! - a step (the assistant message and the results of its tool calls) is stored in
//!   one transaction, so the history never holds a `tool_use` without its result;
//! - every `tool_use` gets a `tool_result`, broken or unknown ones an error;
//! - the store lock is taken only to append, never across a provider call or a tool;
//! - cancelling (abort, client gone, DELETE, shutdown) stops within about a second:
//!   the provider read is dropped, a running tool is killed, what finished is kept.

use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::cancel::Cancel;
use crate::provider::{
    ChatRequest, Client, Endpoint, ErrorKind, ProviderError, ProviderEvent, ToolCall,
};
use crate::store::{Store, StoreError};
use crate::tools::{self, ToolCtx};
use crate::types::{Agent, Block, Message, Role, StopReason, ToolSpec, Usage};

/// What the loop reports while it runs, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A piece of the model's text, as it arrives.
    Text(String),
    /// A tool call whose input is complete.
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        name: String,
        output: String,
        is_error: bool,
    },
}

impl Event {
    /// The SSE event name and payload of API.md.
    pub fn to_sse(&self) -> (&'static str, Value) {
        match self {
            Event::Text(text) => ("text", json!({"text": text})),
            Event::ToolUse { id, name, input } => {
                ("tool_use", json!({"id": id, "name": name, "input": input}))
            }
            Event::ToolResult {
                tool_use_id,
                name,
                output,
                is_error,
            } => (
                "tool_result",
                json!({"tool_use_id": tool_use_id, "name": name, "output": output, "is_error": is_error}),
            ),
        }
    }
}

/// One tool call of the run, with its result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallRecord {
    pub id: String,
    pub name: String,
    pub input: Value,
    pub output: String,
    pub is_error: bool,
}

/// How a run ended (the blocking reply and the `done` event).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub response: String,
    pub tool_calls: Vec<ToolCallRecord>,
    pub usage: Usage,
    pub steps: u32,
    pub stop_reason: StopReason,
}

#[derive(Debug)]
pub enum RunError {
    /// The provider failed; every step finished before it is stored.
    Provider(ProviderError),
    Store(StoreError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Provider(e) => f.write_str(&e.message),
            RunError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> RunError {
        RunError::Store(e)
    }
}

/// Everything one run needs.
pub struct Run<'a> {
    pub store: &'a Store,
    pub client: &'a Client,
    pub endpoint: &'a Endpoint,
    pub agent: &'a Agent,
    pub session_id: &'a str,
    pub work_dir: Option<&'a Path>,
    pub cancel: &'a Cancel,
}

/// What one provider call produced.
struct Turn {
    text: String,
    calls: Vec<ToolCall>,
    usage: Usage,
    stop: StopReason,
}

impl Run<'_> {
    /// Runs the loop for `prompt` to its end.
    pub fn run(&self, prompt: &str, sink: &mut dyn FnMut(Event)) -> Result<Outcome, RunError> {
        let mut history = self.store.history(self.session_id)?;
        let prompt = Message::user_text(prompt);
        self.store.append_messages(
            self.session_id,
            std::slice::from_ref(&prompt),
            Usage::default(),
        )?;
        history.push(prompt);

        let specs: Vec<ToolSpec> = self
            .agent
            .tools
            .iter()
            .filter_map(|name| tools::spec(name))
            .collect();
        let mut outcome = Outcome {
            response: String::new(),
            tool_calls: Vec::new(),
            usage: Usage::default(),
            steps: 0,
            stop_reason: StopReason::EndTurn,
        };
        loop {
            if self.cancel.is_cancelled() {
                outcome.stop_reason = StopReason::Aborted;
                break;
            }
            if outcome.steps >= self.agent.max_steps {
                outcome.stop_reason = StopReason::MaxSteps;
                break;
            }
            let turn = match self.call(&history, &specs, sink) {
                Ok(turn) => turn,
                Err((e, partial)) if e.kind == ErrorKind::Aborted => {
                    // Keep the text the client already saw; drop unfinished tool calls.
                    if !partial.is_empty() {
                        let message = Message {
                            role: Role::Assistant,
                            content: vec![Block::Text {
                                text: partial.clone(),
                            }],
                        };
                        self.store.append_messages(
                            self.session_id,
                            &[message],
                            Usage::default(),
                        )?;
                        outcome.response = partial;
                    }
                    outcome.steps += 1;
                    outcome.stop_reason = StopReason::Aborted;
                    break;
                }
                Err((e, _)) => return Err(RunError::Provider(e)),
            };
            outcome.steps += 1;
            outcome.usage.add(turn.usage);
            outcome.response = turn.text.clone();

            let mut assistant = Vec::new();
            if !turn.text.is_empty() {
                assistant.push(Block::Text {
                    text: turn.text.clone(),
                });
            }
            let mut results = Vec::new();
            for call in &turn.calls {
                let input = call.input.clone().unwrap_or_else(|_| json!({}));
                assistant.push(Block::ToolUse {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    input: input.clone(),
                });
                let (output, is_error) = self.run_tool(call);
                sink(Event::ToolResult {
                    tool_use_id: call.id.clone(),
                    name: call.name.clone(),
                    output: output.clone(),
                    is_error,
                });
                outcome.tool_calls.push(ToolCallRecord {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    input,
                    output: output.clone(),
                    is_error,
                });
                results.push(Block::ToolResult {
                    tool_use_id: call.id.clone(),
                    content: output,
                    is_error,
                });
            }
            let mut step = Vec::new();
            if !assistant.is_empty() {
                step.push(Message {
                    role: Role::Assistant,
                    content: assistant,
                });
            }
            if !results.is_empty() {
                step.push(Message {
                    role: Role::User,
                    content: results,
                });
            }
            if !self
                .store
                .append_messages(self.session_id, &step, turn.usage)?
            {
                // The session was deleted under us: nothing left to add to.
                outcome.stop_reason = StopReason::Aborted;
                break;
            }
            history.extend(step);
            if turn.calls.is_empty() {
                outcome.stop_reason = turn.stop;
                break;
            }
        }
        Ok(outcome)
    }

    /// One provider call. On failure, also returns the text streamed so far.
    fn call(
        &self,
        history: &[Message],
        specs: &[ToolSpec],
        sink: &mut dyn FnMut(Event),
    ) -> Result<Turn, (ProviderError, String)> {
        let request = ChatRequest {
            model: &self.agent.model,
            system: &self.agent.instructions,
            tools: specs,
            messages: history,
            max_tokens: self.agent.max_tokens,
            temperature: self.agent.temperature,
        };
        let mut turn = Turn {
            text: String::new(),
            calls: Vec::new(),
            usage: Usage::default(),
            stop: StopReason::EndTurn,
        };
        let result =
            self.client.stream(
                self.endpoint,
                &request,
                self.cancel,
                &mut |event| match event {
                    ProviderEvent::TextDelta(text) => {
                        turn.text.push_str(&text);
                        sink(Event::Text(text));
                    }
                    ProviderEvent::ToolCall(call) => {
                        let input = call.input.clone().unwrap_or_else(|_| json!({}));
                        sink(Event::ToolUse {
                            id: call.id.clone(),
                            name: call.name.clone(),
                            input,
                        });
                        turn.calls.push(call);
                    }
                    ProviderEvent::Usage(usage) => turn.usage = usage,
                    ProviderEvent::Stop(stop) => turn.stop = stop,
                },
            );
        match result {
            Ok(()) => Ok(turn),
            Err(e) => Err((e, turn.text)),
        }
    }

    /// Runs one call: (output, is_error). Never fails the run.
    fn run_tool(&self, call: &ToolCall) -> (String, bool) {
        if self.cancel.is_cancelled() {
            return ("not run: the run was aborted".into(), true);
        }
        if !self.agent.tools.contains(&call.name) {
            let enabled = if self.agent.tools.is_empty() {
                "none".to_string()
            } else {
                self.agent.tools.join(", ")
            };
            return (
                format!(
                    "unknown tool `{}`: this agent's tools are {enabled}",
                    call.name
                ),
                true,
            );
        }
        let input = match &call.input {
            Ok(input) => input,
            Err(reason) => return (format!("not run: {reason}"), true),
        };
        let output = tools::run(
            &call.name,
            input,
            &ToolCtx {
                work_dir: self.work_dir,
                cancel: self.cancel,
            },
        );
        (output.content, output.is_error)
    }
}
