//! `GET /openapi.json`: the OpenAPI 3.1 description of every route.
//! A test walks it against the router both ways (every documented operation is
//! routed; every other method on a documented path is 405).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

fn op(summary: &str, request: Option<&str>, ok: (u16, &str), errors: &[u16]) -> Value {
    let mut responses = Map::new();
    let schema = if ok.1.is_empty() {
        json!({})
    } else {
        json!({"$ref": format!("#/components/schemas/{}", ok.1)})
    };
    let content_type = if summary.contains("(SSE)") {
        "text/event-stream"
    } else {
        "application/json"
    };
    responses.insert(
        ok.0.to_string(),
        json!({"description": "OK", "content": {content_type: {"schema": schema}}}),
    );
    for code in errors {
        responses.insert(
            code.to_string(),
            json!({"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    let mut operation = json!({"summary": summary, "responses": responses});
    if let Some(schema) = request {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
        });
    }
    operation
}

fn id_param(name: &str) -> Value {
    json!([{"name": name, "in": "path", "required": true, "schema": {"type": "string"}}])
}

fn build() -> Value {
    let mut paths = Map::new();
    let mut add = |path: &str, params: Vec<&str>, ops: Vec<(&str, Value)>| {
        let mut item = Map::new();
        let params: Vec<Value> = params
            .iter()
            .flat_map(|p| id_param(p).as_array().cloned().unwrap_or_default())
            .collect();
        if !params.is_empty() {
            item.insert("parameters".into(), Value::Array(params));
        }
        for (method, operation) in ops {
            item.insert(method.into(), operation);
        }
        paths.insert(path.into(), Value::Object(item));
    };
    add(
        "/health",
        vec![],
        vec![(
            "get",
            op("Liveness and version", None, (200, "Health"), &[]),
        )],
    );
    add(
        "/openapi.json",
        vec![],
        vec![("get", op("This document", None, (200, ""), &[]))],
    );
    add(
        "/provider",
        vec![],
        vec![(
            "get",
            op("List providers", None, (200, "ProviderList"), &[401]),
        )],
    );
    add(
        "/provider/auth",
        vec![],
        vec![
            (
                "get",
                op(
                    "Credential status (never the keys)",
                    None,
                    (200, "AuthStatus"),
                    &[401],
                ),
            ),
            (
                "put",
                op(
                    "Store credentials (merged)",
                    Some("SetAuth"),
                    (200, "Status"),
                    &[400, 401, 413],
                ),
            ),
        ],
    );
    add(
        "/provider/auth/{provider}",
        vec!["provider"],
        vec![(
            "delete",
            op(
                "Remove a provider's credentials",
                None,
                (200, "Status"),
                &[400, 401, 404],
            ),
        )],
    );
    add(
        "/provider/{name}",
        vec!["name"],
        vec![(
            "get",
            op("One provider", None, (200, "ProviderInfo"), &[401, 404]),
        )],
    );
    add(
        "/provider/{name}/models",
        vec!["name"],
        vec![(
            "get",
            op(
                "Its models, keyed by id",
                None,
                (200, "Models"),
                &[401, 404],
            ),
        )],
    );
    add(
        "/provider/{name}/models/{id}",
        vec!["name", "id"],
        vec![(
            "get",
            op(
                "One model (the id may contain '/')",
                None,
                (200, "Model"),
                &[401, 404],
            ),
        )],
    );
    add(
        "/agents",
        vec![],
        vec![
            (
                "post",
                op(
                    "Create an agent",
                    Some("AgentParams"),
                    (201, "Agent"),
                    &[400, 401, 413],
                ),
            ),
            (
                "get",
                op(
                    "List agents, newest first",
                    None,
                    (200, "AgentList"),
                    &[401],
                ),
            ),
        ],
    );
    add(
        "/agents/{id}",
        vec!["id"],
        vec![
            ("get", op("One agent", None, (200, "Agent"), &[401, 404])),
            (
                "put",
                op(
                    "Update an agent (fields present replace)",
                    Some("AgentParams"),
                    (200, "Agent"),
                    &[400, 401, 404],
                ),
            ),
            (
                "delete",
                op("Delete an agent", None, (200, "Status"), &[401, 404]),
            ),
        ],
    );
    add(
        "/sessions",
        vec![],
        vec![
            (
                "post",
                op(
                    "Create a session (body optional)",
                    Some("SessionParams"),
                    (201, "Session"),
                    &[400, 401],
                ),
            ),
            (
                "get",
                op(
                    "List sessions, newest first, without history",
                    None,
                    (200, "SessionList"),
                    &[401],
                ),
            ),
        ],
    );
    add(
        "/sessions/{id}",
        vec!["id"],
        vec![
            (
                "get",
                op(
                    "One session with its history",
                    None,
                    (200, "Session"),
                    &[401, 404],
                ),
            ),
            (
                "put",
                op(
                    "Update title or work_dir",
                    Some("SessionParams"),
                    (200, "Session"),
                    &[400, 401, 404],
                ),
            ),
            (
                "delete",
                op(
                    "Delete a session (aborts a running loop first)",
                    None,
                    (200, "Status"),
                    &[401, 404],
                ),
            ),
        ],
    );
    add(
        "/sessions/{id}/message",
        vec!["id"],
        vec![(
            "post",
            op(
                "Run the agent loop; answer when done",
                Some("MessageParams"),
                (200, "MessageResult"),
                &[400, 401, 404, 409, 502],
            ),
        )],
    );
    add(
        "/sessions/{id}/message/stream",
        vec!["id"],
        vec![(
            "post",
            op(
                "Run the agent loop (SSE): text, tool_use, tool_result, done, error",
                Some("MessageParams"),
                (200, ""),
                &[400, 401, 404, 409],
            ),
        )],
    );
    add(
        "/sessions/{id}/abort",
        vec!["id"],
        vec![(
            "post",
            op("Abort the running loop", None, (200, "Status"), &[401, 404]),
        )],
    );

    let s = |t: &str| json!({"type": t});
    let nullable = |t: &str| json!({"type": [t, "null"]});
    let array_of =
        |r: &str| json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{r}")}});
    let usage = json!({"type": "object", "properties": {"input_tokens": s("integer"), "output_tokens": s("integer")}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Wingman", "version": crate::cli::VERSION,
                 "description": "Run LLM agents over HTTP. Every error is {\"error\": \"...\"}."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": s("string")}},
                "Status": {"type": "object", "properties": {"status": s("string")}},
                "Health": {"type": "object", "properties": {"status": s("string"), "version": s("string")}},
                "ProviderInfo": {"type": "object", "properties": {
                    "name": s("string"), "display_name": s("string"), "protocol": {"enum": ["anthropic", "openai"]},
                    "api": s("string"), "auth_types": {"type": "array", "items": s("string")},
                    "configured": s("boolean"), "model_count": s("integer")}},
                "ProviderList": array_of("ProviderInfo"),
                "Model": {"type": "object", "description": "A models.dev model object"},
                "Models": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Model"}},
                "SetAuth": {"type": "object", "required": ["providers"], "properties": {"providers": {
                    "type": "object", "additionalProperties": {"type": "object", "properties": {
                        "type": {"enum": ["api_key"]}, "key": s("string"), "base_url": s("string")}}}}},
                "AuthStatus": {"type": "object", "properties": {"providers": {"type": "object"}, "updated_at": nullable("string")}},
                "AgentParams": {"type": "object", "properties": {
                    "name": s("string"), "instructions": s("string"),
                    "tools": {"type": "array", "items": {"enum": crate::types::TOOL_NAMES}},
                    "provider": s("string"), "model": s("string"), "max_tokens": s("integer"),
                    "temperature": nullable("number"), "max_steps": s("integer")}},
                "Agent": {"type": "object", "properties": {
                    "id": s("string"), "name": s("string"), "instructions": s("string"),
                    "tools": {"type": "array", "items": s("string")}, "provider": s("string"), "model": s("string"),
                    "max_tokens": s("integer"), "temperature": nullable("number"), "max_steps": s("integer"),
                    "created_at": s("string"), "updated_at": s("string")}},
                "AgentList": array_of("Agent"),
                "SessionParams": {"type": "object", "properties": {"work_dir": nullable("string"), "title": nullable("string")}},
                "Session": {"type": "object", "properties": {
                    "id": s("string"), "title": nullable("string"), "work_dir": nullable("string"),
                    "status": {"enum": ["idle", "running"]}, "message_count": s("integer"), "usage": usage,
                    "history": {"type": "array", "items": {"type": "object"}},
                    "created_at": s("string"), "updated_at": s("string")}},
                "SessionList": array_of("Session"),
                "MessageParams": {"type": "object", "required": ["agent_id", "prompt"],
                    "properties": {"agent_id": s("string"), "prompt": s("string")}},
                "MessageResult": {"type": "object", "properties": {
                    "response": s("string"), "tool_calls": {"type": "array", "items": {"type": "object"}},
                    "usage": usage, "steps": s("integer"),
                    "stop_reason": {"enum": ["end_turn", "max_tokens", "max_steps", "aborted"]}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })
}

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(build)
}
