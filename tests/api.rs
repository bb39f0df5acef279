//! The HTTP API without the agent loop, against the real binary.

use std::io::{BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::http::{self, connect, read_reply, write_request};
use crate::support::{TempDir, Wingman};

/// Replaces the fields that differ per run (ids, timestamps) with fixed markers.
fn scrub(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if matches!(k.as_str(), "id" | "created_at" | "updated_at") && val.is_string() {
                    *val = json!(format!("<{k}>"));
                } else {
                    *val = scrub(val.take());
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| *i = scrub(i.take())),
        _ => {}
    }
    v
}

fn error(message: &str) -> Value {
    json!({ "error": message })
}

#[test]
fn health_and_unknown_routes() {
    let w = Wingman::start();
    let r = w.get("/health");
    assert_eq!(
        (r.status, r.json()),
        (
            200,
            json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
        )
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let r = w.get("/nope/x");
    assert_eq!(
        (r.status, r.json()),
        (404, error("no route for GET /nope/x"))
    );
    let r = w.request("PATCH", "/agents", None);
    assert_eq!(
        (r.status, r.json()),
        (
            405,
            error("/agents does not take PATCH; it takes GET, POST")
        )
    );
    assert_eq!(r.header("allow"), Some("GET, POST"));
}

#[test]
fn empty_lists_are_arrays() {
    let w = Wingman::start();
    assert_eq!(w.get("/agents").json(), json!([]));
    assert_eq!(w.get("/sessions").json(), json!([]));
    assert_eq!(
        w.get("/provider/auth").json(),
        json!({"providers": {}, "updated_at": null})
    );
}

#[test]
fn agents_crud() {
    let w = Wingman::start();
    let r = w.post("/agents", &json!({"name": "CodeAssistant", "instructions": "You help.", "tools": ["bash", "read"], "max_tokens": 4096, "max_steps": 5}));
    assert_eq!(r.status, 201);
    let created = r.json();
    assert_eq!(
        scrub(created.clone()),
        json!({"id": "<id>", "name": "CodeAssistant", "instructions": "You help.", "tools": ["bash", "read"],
               "provider": "anthropic", "model": "claude-sonnet-4-5", "max_tokens": 4096, "temperature": null,
               "max_steps": 5, "created_at": "<created_at>", "updated_at": "<updated_at>"})
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert_eq!(w.get(&format!("/agents/{id}")).json(), created);

    let second = w.post("/agents", &json!({"name": "Second"})).json();
    assert_eq!(
        scrub(second.clone()),
        json!({"id": "<id>", "name": "Second", "instructions": "", "tools": [], "provider": "anthropic",
               "model": "claude-sonnet-4-5", "max_tokens": 8192, "temperature": null, "max_steps": 50,
               "created_at": "<created_at>", "updated_at": "<updated_at>"})
    );
    assert_eq!(
        w.get("/agents").json(),
        json!([second, created]),
        "newest first"
    );

    let r = w.put(
        &format!("/agents/{id}"),
        &json!({"temperature": 0.7, "provider": "openai", "model": "gpt-4o"}),
    );
    assert_eq!(r.status, 200);
    let mut want = created.clone();
    want["temperature"] = json!(0.7);
    want["provider"] = json!("openai");
    want["model"] = json!("gpt-4o");
    want["updated_at"] = r.json()["updated_at"].clone();
    assert_eq!(r.json(), want);
    let r = w.put(&format!("/agents/{id}"), &json!({"temperature": null}));
    assert_eq!(r.json()["temperature"], Value::Null);

    let r = w.delete(&format!("/agents/{id}"));
    assert_eq!((r.status, r.json()), (200, json!({"status": "deleted"})));
    let r = w.get(&format!("/agents/{id}"));
    assert_eq!(
        (r.status, r.json()),
        (404, error(&format!("no agent with id `{id}`")))
    );
    assert_eq!(w.delete(&format!("/agents/{id}")).status, 404);
    assert_eq!(
        w.put(&format!("/agents/{id}"), &json!({"name": "x"}))
            .status,
        404
    );
}

#[test]
fn agent_validation_names_the_field() {
    let w = Wingman::start();
    let cases = [
        (json!({}), "`name` is required and must not be empty"),
        (
            json!({"name": "  "}),
            "`name` is required and must not be empty",
        ),
        (json!({"name": 5}), "`name` must be a string"),
        (
            json!({"name": "a", "tools": ["bash", "rm"]}),
            "`tools`: unknown tool `rm`; the tools are bash, read, write, edit, glob, grep, webfetch",
        ),
        (
            json!({"name": "a", "tools": "bash"}),
            "`tools` must be an array of strings",
        ),
        (
            json!({"name": "a", "tools": ["read", "read"]}),
            "`tools` lists `read` twice",
        ),
        (
            json!({"name": "a", "provider": "nope"}),
            "`provider`: no provider named `nope` in the catalog; GET /provider lists them",
        ),
        (
            json!({"name": "a", "model": ""}),
            "`model` must not be empty",
        ),
        (
            json!({"name": "a", "max_tokens": 0}),
            "`max_tokens` must be a positive integer (at most 4294967295)",
        ),
        (
            json!({"name": "a", "max_tokens": 4294967296u64}),
            "`max_tokens` must be a positive integer (at most 4294967295)",
        ),
        (
            json!({"name": "a", "max_tokens": -3}),
            "`max_tokens` must be a positive integer (at most 4294967295)",
        ),
        (
            json!({"name": "a", "max_steps": "5"}),
            "`max_steps` must be a positive integer (at most 4294967295)",
        ),
        (
            json!({"name": "a", "temperature": 2.5}),
            "`temperature` must be between 0 and 2, or null",
        ),
        (
            json!({"name": "a", "temperature": "hot"}),
            "`temperature` must be a number or null",
        ),
        (json!([1]), "the request body must be a JSON object"),
    ];
    for (body, message) in cases {
        let r = w.post("/agents", &body);
        assert_eq!((r.status, r.json()), (400, error(message)), "{body}");
    }
    let r = http::request(w.port, "POST", "/agents", &[], Some("{\"name\": "));
    assert_eq!(r.status, 400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid JSON"),
        "{}",
        r.body
    );
    let r = http::request(w.port, "POST", "/agents", &[], None);
    assert_eq!(
        (r.status, r.json()),
        (400, error("the request body is empty: send a JSON object"))
    );
    let id = w.agent(json!({"name": "ok"}));
    let r = w.put(&format!("/agents/{id}"), &json!({"max_steps": 0}));
    assert_eq!(
        (r.status, r.json()),
        (
            400,
            error("`max_steps` must be a positive integer (at most 4294967295)")
        )
    );
    assert_eq!(
        w.get("/agents").json().as_array().unwrap().len(),
        1,
        "nothing stored by a failed request"
    );
}

#[test]
fn sessions_crud() {
    let w = Wingman::start();
    let work = TempDir::new();
    let r = w.post(
        "/sessions",
        &json!({"work_dir": work.path(), "title": "first"}),
    );
    assert_eq!(r.status, 201);
    let created = r.json();
    assert_eq!(
        scrub(created.clone()),
        json!({"id": "<id>", "title": "first", "work_dir": work.path(), "status": "idle", "message_count": 0,
               "usage": {"input_tokens": 0, "output_tokens": 0}, "history": [],
               "created_at": "<created_at>", "updated_at": "<updated_at>"})
    );
    let id = created["id"].as_str().unwrap();
    assert_eq!(w.get(&format!("/sessions/{id}")).json(), created);

    // No body at all is fine: a session without work_dir.
    let r = http::request(w.port, "POST", "/sessions", &[], None);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["work_dir"], Value::Null);
    let bare = r.json();

    let mut listed_first = created.clone();
    listed_first.as_object_mut().unwrap().remove("history");
    let mut listed_bare = bare.clone();
    listed_bare.as_object_mut().unwrap().remove("history");
    assert_eq!(
        w.get("/sessions").json(),
        json!([listed_bare, listed_first]),
        "newest first, no history"
    );

    let sub = work.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let r = w.put(
        &format!("/sessions/{id}"),
        &json!({"work_dir": format!("{}/sub/../sub", work.path().display()), "title": null}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["work_dir"].clone(), r.json()["title"].clone()),
        (json!(sub), Value::Null)
    );

    let r = w.post(&format!("/sessions/{id}/abort"), &json!({}));
    assert_eq!((r.status, r.json()), (200, json!({"status": "idle"})));
    let r = w.delete(&format!("/sessions/{id}"));
    assert_eq!((r.status, r.json()), (200, json!({"status": "deleted"})));
    let r = w.get(&format!("/sessions/{id}"));
    assert_eq!(
        (r.status, r.json()),
        (404, error(&format!("no session with id `{id}`")))
    );
    assert_eq!(
        w.post(&format!("/sessions/{id}/abort"), &json!({})).status,
        404
    );
}

#[test]
fn session_work_dir_validation() {
    let w = Wingman::start();
    let work = TempDir::new();
    let file = work.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let missing = work.path().join("missing");
    let cases = [
        (
            json!({"work_dir": missing}),
            format!(
                "`work_dir` {} cannot be used: it does not exist",
                missing.display()
            ),
        ),
        (
            json!({"work_dir": file}),
            format!("`work_dir` {} is not a directory", file.display()),
        ),
        (
            json!({"work_dir": 3}),
            "`work_dir` must be a string".to_string(),
        ),
        (
            json!({"work_dir": ""}),
            "`work_dir` must not be empty".to_string(),
        ),
        (
            json!({"title": ["x"]}),
            "`title` must be a string".to_string(),
        ),
    ];
    for (body, message) in cases {
        let r = w.post("/sessions", &body);
        assert_eq!((r.status, r.json()), (400, error(&message)), "{body}");
    }
    let id = w.session(work.path());
    let r = w.put(&format!("/sessions/{id}"), &json!({"work_dir": missing}));
    assert_eq!(r.status, 400);
    assert_eq!(w.get("/sessions").json().as_array().unwrap().len(), 1);
}

#[test]
fn relative_work_dir_is_stored_absolute() {
    let w = Wingman::start();
    // The server's current folder is the test's (the package root): `src` exists there.
    let r = w.post("/sessions", &json!({"work_dir": "src"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let want = std::env::current_dir()
        .unwrap()
        .join("src")
        .canonicalize()
        .unwrap();
    assert_eq!(r.json()["work_dir"], json!(want));
}

#[test]
fn providers_from_the_catalog() {
    let w = Wingman::start();
    let list = w.get("/provider").json();
    let list = list.as_array().unwrap();
    assert!(list.len() > 100);
    let names: Vec<&str> = list.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let anthropic = json!({"name": "anthropic", "display_name": "Anthropic", "protocol": "anthropic",
        "api": "https://api.anthropic.com/v1", "auth_types": ["api_key"], "configured": false, "model_count": 24});
    assert!(list.contains(&anthropic));
    assert_eq!(w.get("/provider/anthropic").json(), anthropic);
    let r = w.get("/provider/nope");
    assert_eq!(
        (r.status, r.json()),
        (
            404,
            error("no provider named `nope` in the catalog; GET /provider lists them")
        )
    );

    let models = w.get("/provider/anthropic/models").json();
    assert_eq!(models.as_object().unwrap().len(), 24);
    let sonnet = w.get("/provider/anthropic/models/claude-sonnet-4-5");
    assert_eq!(sonnet.status, 200);
    assert_eq!(sonnet.json(), models["claude-sonnet-4-5"]);
    // Ids with '/' (OpenRouter): everything after /models/ is the id.
    let r = w.get("/provider/openrouter/models/anthropic/claude-sonnet-4.5");
    assert_eq!(
        (r.status, r.json()["id"].clone()),
        (200, json!("anthropic/claude-sonnet-4.5"))
    );
    let r = w.get("/provider/anthropic/models/nope");
    assert_eq!(
        (r.status, r.json()),
        (
            404,
            error("provider `anthropic` has no model `nope` in the catalog")
        )
    );
}

#[test]
fn credentials_merge_and_never_show_the_key() {
    let w = Wingman::start_with(&[], &[("OPENAI_API_KEY", "sk-env-secret-1")]);
    let secret = "sk-ant-secret-0042";
    let r = w.put(
        "/provider/auth",
        &json!({"providers": {"anthropic": {"type": "api_key", "key": secret}}}),
    );
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = w.put("/provider/auth", &json!({"providers": {"groq": {"type": "api_key", "key": "gsk-2", "base_url": "https://proxy.example/v1"}}}));
    assert_eq!(r.status, 200);
    let status = w.get("/provider/auth").json();
    let updated_at = status["updated_at"].clone();
    assert!(updated_at.is_string());
    assert_eq!(
        status,
        json!({"providers": {
            "anthropic": {"type": "api_key", "configured": true, "base_url": null, "source": "db"},
            "groq": {"type": "api_key", "configured": true, "base_url": "https://proxy.example/v1", "source": "db"},
            "openai": {"type": "api_key", "configured": true, "base_url": null, "source": "env"},
        }, "updated_at": updated_at})
    );
    assert_eq!(
        w.get("/provider/anthropic").json()["configured"],
        json!(true)
    );
    assert_eq!(w.get("/provider/openai").json()["configured"], json!(true));

    let r = w.delete("/provider/auth/groq");
    assert_eq!((r.status, r.json()), (200, json!({"status": "deleted"})));
    let r = w.delete("/provider/auth/groq");
    assert_eq!(
        (r.status, r.json()),
        (404, error("no credentials are stored for `groq`"))
    );
    let r = w.delete("/provider/auth/nope");
    assert_eq!(
        (r.status, r.json()),
        (400, error("no provider named `nope` in the catalog"))
    );

    // Every route's answer and the whole log are free of both secrets.
    let mut seen = String::new();
    for path in [
        "/provider",
        "/provider/anthropic",
        "/provider/auth",
        "/openapi.json",
        "/agents",
        "/sessions",
    ] {
        seen.push_str(&w.get(path).body);
    }
    for s in [secret, "sk-env-secret-1"] {
        assert!(!seen.contains(s), "a response shows {s}");
        assert!(!w.log().contains(s), "the log shows {s}");
    }
}

#[test]
fn credential_validation() {
    let w = Wingman::start();
    let cases = [
        (
            json!({}),
            "`providers` is required and must be an object: {\"providers\": {\"anthropic\": {\"type\": \"api_key\", \"key\": \"…\"}}}",
        ),
        (
            json!({"providers": {"nope": {"type": "api_key", "key": "k"}}}),
            "`providers.nope`: no provider named `nope` in the catalog",
        ),
        (
            json!({"providers": {"anthropic": {"type": "oauth", "key": "k"}}}),
            "`providers.anthropic.type`: type `oauth` is not supported; use \"api_key\"",
        ),
        (
            json!({"providers": {"anthropic": {"type": "api_key", "key": ""}}}),
            "`providers.anthropic.key` is required and must not be empty",
        ),
        (
            json!({"providers": {"anthropic": {"type": "api_key"}}}),
            "`providers.anthropic.key` is required and must not be empty",
        ),
        (
            json!({"providers": {"anthropic": {"type": "api_key", "key": 7}}}),
            "`providers.anthropic.key` must be a string",
        ),
        (
            json!({"providers": {"anthropic": {"type": "api_key", "key": "k", "base_url": "ftp://x"}}}),
            "`providers.anthropic.base_url` must be an http:// or https:// URL",
        ),
        (
            json!({"providers": {"anthropic": {"type": "api_key", "key": "k", "base_url": "http://"}}}),
            "`providers.anthropic.base_url` must be an http:// or https:// URL",
        ),
        (
            json!({"providers": {"anthropic": "k"}}),
            "`providers.anthropic` must be an object",
        ),
    ];
    for (body, message) in cases {
        let r = w.put("/provider/auth", &body);
        assert_eq!((r.status, r.json()), (400, error(message)), "{body}");
    }
    // Loopback providers need no key.
    let r = w.put(
        "/provider/auth",
        &json!({"providers": {"ollama": {"type": "api_key"}}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = w.put("/provider/auth", &json!({"providers": {"anthropic": {"type": "api_key", "base_url": "http://127.0.0.1:9/v1"}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        w.get("/provider/auth").json()["providers"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn seed_example_workflow_with_curl_d() {
    // `curl -d` sends application/x-www-form-urlencoded; the body is JSON all the same.
    let w = Wingman::start();
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = http::request(
        w.port,
        "PUT",
        "/provider/auth",
        &form,
        Some(r#"{"providers": {"anthropic": {"type": "api_key", "key": "sk-ant-..."}}}"#),
    );
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));
    let r = http::request(
        w.port,
        "POST",
        "/agents",
        &form,
        Some(r#"{"name": "Assistant", "instructions": "Be helpful", "tools": ["bash"]}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["id"].as_str().unwrap().len(), 26);
    let r = http::request(
        w.port,
        "POST",
        "/sessions",
        &form,
        Some(r#"{"work_dir": "/tmp"}"#),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["work_dir"],
        json!(std::fs::canonicalize("/tmp").unwrap())
    );
}

#[test]
fn data_survives_a_restart_and_files_are_private() {
    let w = Wingman::start();
    let work = TempDir::new();
    let agent = w
        .get(&format!("/agents/{}", w.agent(json!({"name": "kept"}))))
        .json();
    let session = w
        .get(&format!("/sessions/{}", w.session(work.path())))
        .json();
    w.put(
        "/provider/auth",
        &json!({"providers": {"openai": {"type": "api_key", "key": "sk-1"}}}),
    );
    let db = w.db.clone();
    let w = w.restart();
    assert_eq!(w.get("/agents").json(), json!([agent]));
    assert_eq!(
        w.get(&format!("/sessions/{}", session["id"].as_str().unwrap()))
            .json(),
        session
    );
    assert_eq!(
        w.get("/provider/auth").json()["providers"]["openai"]["source"],
        json!("db")
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(db.parent().unwrap()), 0o700);
}

#[test]
fn concurrent_clients_all_succeed() {
    let w = Wingman::start();
    let work = TempDir::new();
    let port = w.port;
    let dir = work.path().to_path_buf();
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let a = http::request(
                    port,
                    "POST",
                    "/agents",
                    &[],
                    Some(&json!({"name": format!("a{i}")}).to_string()),
                );
                let s = http::request(
                    port,
                    "POST",
                    "/sessions",
                    &[],
                    Some(&json!({"work_dir": dir}).to_string()),
                );
                (a.status, s.status, a.body, s.body)
            })
        })
        .collect();
    for t in threads {
        let (a, s, ab, sb) = t.join().unwrap();
        assert_eq!((a, s), (201, 201), "{ab} {sb}");
    }
    assert_eq!(w.get("/agents").json().as_array().unwrap().len(), 64);
    assert_eq!(w.get("/sessions").json().as_array().unwrap().len(), 64);
}

#[test]
fn oversized_bodies_get_413_and_the_server_survives() {
    let w = Wingman::start();
    // A body-less request that declares a 1 TB body.
    let mut s = connect(w.port);
    s.write_all(b"POST /agents HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n")
        .unwrap();
    let r = read_reply(&mut BufReader::new(s));
    assert_eq!(
        (r.status, r.json()),
        (413, error("the request body is over the limit of 10 MiB"))
    );
    // A real 11 MiB body.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    let mut s = connect(w.port);
    write_request(&mut s, "POST", "/agents", &[], Some(&big), true);
    let r = read_reply(&mut BufReader::new(s));
    assert_eq!(r.status, 413);
    assert_eq!(w.get("/health").status, 200);
    assert_eq!(w.get("/agents").json(), json!([]));
}

#[test]
fn over_the_connection_cap_gets_503() {
    let w = Wingman::start_with(&["--max-connections", "2"], &[]);
    // Two requests whose bodies do not come hold both slots (tiny_http reads
    // small bodies before dispatching, so these declare a large one).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = connect(w.port);
        s.write_all(b"POST /agents HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            .unwrap();
        held.push(s);
    }
    // Both are in their workers once a third request is refused.
    let mut refused = None;
    for _ in 0..100 {
        let r = w.get("/health");
        if r.status == 503 {
            refused = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let r = refused.expect("never refused");
    assert_eq!(
        r.json(),
        error("the server is at its limit of 2 concurrent requests; retry shortly")
    );
    // Finishing one frees a slot.
    held[0]
        .write_all(format!("{{\"name\":1}}{}", " ".repeat(100_000 - 10)).as_bytes())
        .unwrap();
    let r = read_reply(&mut BufReader::new(held.remove(0)));
    assert_eq!(r.status, 400);
    assert!(crate::support::eventually(Duration::from_secs(5), || w
        .get("/health")
        .status
        == 200));
}

#[test]
fn keep_alive_burst_is_served() {
    let w = Wingman::start();
    let start = Instant::now();
    let mut conns: Vec<_> = (0..64).map(|_| connect(w.port)).collect();
    for c in &mut conns {
        write_request(c, "GET", "/health", &[], None, false);
    }
    for c in conns {
        c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let r = read_reply(&mut BufReader::new(c));
        assert_eq!(r.status, 200);
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn token_protects_everything_but_health() {
    let w = Wingman::start_with(&["--token", "tok-123"], &[]);
    assert_eq!(w.get("/health").status, 200);
    let r = w.get("/agents");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        error("missing or wrong bearer token: send the header 'Authorization: Bearer <token>'")
    );
    let r = http::request(
        w.port,
        "GET",
        "/agents",
        &[("Authorization", "Bearer nope")],
        None,
    );
    assert_eq!(r.status, 401);
    let r = http::request(
        w.port,
        "GET",
        "/agents",
        &[("Authorization", "Bearer tok-123")],
        None,
    );
    assert_eq!((r.status, r.json()), (200, json!([])));
    assert!(!w.log().contains("tok-123"));
    // The env variable works the same way.
    let w = Wingman::start_with(&[], &[("WINGMAN_TOKEN", "env-tok")]);
    assert_eq!(w.get("/agents").status, 401);
    assert_eq!(
        http::request(
            w.port,
            "GET",
            "/agents",
            &[("Authorization", "Bearer env-tok")],
            None
        )
        .status,
        200
    );
}

#[test]
fn access_log_has_one_line_per_request() {
    let w = Wingman::start();
    w.get("/health");
    w.post("/agents", &json!({}));
    // A line is written once its response is sent: wait for both.
    crate::support::eventually(Duration::from_secs(5), || w.log().lines().count() >= 2);
    let log = w.log();
    let mut lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    // Each line is written after its response, so two requests may log in either order.
    lines.sort_by_key(|l| !l.contains(" GET "));
    assert!(lines.iter().all(|l| l.ends_with("ms")), "{log}");
    assert!(lines[0].contains(" GET /health 200 "), "{log}");
    assert!(lines[1].contains(" POST /agents 400 "), "{log}");
}

#[test]
fn openapi_matches_the_router_both_ways() {
    let w = Wingman::start();
    let spec = w.get("/openapi.json").json();
    assert_eq!(spec["openapi"], json!("3.1.0"));
    let paths = spec["paths"].as_object().unwrap();
    let mut documented = 0;
    for (template, item) in paths {
        let path = template
            .replace("{name}", "anthropic")
            .replace("{provider}", "anthropic")
            .replace("{id}", "01NOSUCHID");
        let methods: Vec<String> = ["get", "post", "put", "delete"]
            .iter()
            .filter(|m| item.get(**m).is_some())
            .map(|m| m.to_uppercase())
            .collect();
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let r = w.request(method, &path, None);
            let no_route = r.status == 404 && r.body.contains("no route");
            if methods.iter().any(|m| m == method) {
                documented += 1;
                assert!(
                    r.status != 405 && !no_route,
                    "{method} {template} is documented but not routed: {}",
                    r.body
                );
            } else {
                assert_eq!(
                    r.status, 405,
                    "{method} {template} is routed but not documented: {}",
                    r.body
                );
                assert_eq!(
                    r.header("allow"),
                    Some(methods.join(", ").as_str()),
                    "{template}"
                );
            }
        }
    }
    assert_eq!(documented, 22);
}

#[test]
fn cli_flags_and_refusals() {
    let bin = env!("CARGO_BIN_EXE_wingman");
    let out = std::process::Command::new(bin)
        .args(["serve", "--port", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with(
            "wingman: --port must be a number from 0 to 65535, got 'nope'\n\nUsage: wingman serve"
        ),
        "{err}"
    );
    let out = std::process::Command::new(bin)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("wingman {}\n", env!("CARGO_PKG_VERSION"))
    );
    let out = std::process::Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("--token TOKEN")
    );

    let dir = TempDir::new();
    let out = std::process::Command::new(bin)
        .args(["serve", "--host", "0.0.0.0", "--port", "0", "--db"])
        .arg(dir.path().join("w.db"))
        .env_remove("WINGMAN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("wingman: refusing to listen on 0.0.0.0 without a token"),
        "{err}"
    );
}

#[test]
fn sigterm_exits_zero_and_checkpoints() {
    let mut w = Wingman::start();
    w.agent(json!({"name": "a"}));
    assert_eq!(w.terminate(), Some(0));
    let wal = w.db.with_extension("db-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() == 0)
            .unwrap_or(true),
        "WAL left behind"
    );
    let mut log = String::new();
    std::fs::File::open(
        w.dir
            .path()
            .read_dir()
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("stderr"))
            .unwrap()
            .path(),
    )
    .unwrap()
    .read_to_string(&mut log)
    .unwrap();
    assert!(
        log.contains("shutting down") && log.trim_end().ends_with("stopped"),
        "{log}"
    );
}

#[test]
fn keep_alive_connections_serve_request_after_request() {
    let w = Wingman::start();
    let mut conn = connect(w.port);
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    for path in [
        "/provider/anthropic/models",
        "/health",
        "/provider/openai/models",
        "/nope",
    ] {
        write_request(&mut conn, "GET", path, &[], None, false);
        let r = read_reply(&mut reader);
        let want = if path == "/nope" { 404 } else { 200 };
        assert_eq!(r.status, want, "{path}");
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
        r.json();
    }
}

#[test]
fn a_closed_stderr_does_not_stop_serving_or_shutdown() {
    let dir = TempDir::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wingman"))
        .args(["serve", "--port", "0", "--db"])
        .arg(dir.path().join("w.db"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // like `wingman serve 2>&1 | head -1` once head exits
    let mut line = String::new();
    std::io::BufRead::read_line(&mut BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    for _ in 0..3 {
        assert_eq!(http::request(port, "GET", "/health", &[], None).status, 200);
    }
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "SIGTERM ignored");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_stored_base_url_without_key_takes_the_key_from_the_environment() {
    let w = Wingman::start_with(&[], &[("ANTHROPIC_API_KEY", "sk-env-77")]);
    let r = w.put("/provider/auth", &json!({"providers": {"anthropic": {"type": "api_key", "base_url": "http://127.0.0.1:9/v1"}}}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        w.get("/provider/auth").json()["providers"]["anthropic"],
        json!({"type": "api_key", "configured": true, "base_url": "http://127.0.0.1:9/v1", "source": "env"})
    );
}
