//! Test helpers: temp dirs, the real server on --port 0, fake providers.

#![allow(dead_code)]

pub mod fake_provider;
pub mod http;
pub mod sse_bodies;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

pub use http::Reply;

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("wingman-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path.canonicalize().unwrap())
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real `wingman serve`, on 127.0.0.1 and a free port, with its own database.
pub struct Wingman {
    child: Option<Child>,
    pub port: u16,
    pub dir: TempDir,
    pub db: PathBuf,
    stderr: PathBuf,
}

impl Wingman {
    pub fn start() -> Wingman {
        Wingman::start_with(&[], &[])
    }

    /// Starts with extra `serve` flags and environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Wingman {
        let dir = TempDir::new();
        let db = dir.path().join("data/wingman.db");
        Wingman::start_on(dir, db, args, env)
    }

    /// A new server on an existing database file (after a crash, say).
    pub fn start_on_db(db: &Path) -> Wingman {
        Wingman::start_on(TempDir::new(), db.to_path_buf(), &[], &[])
    }

    fn start_on(dir: TempDir, db: PathBuf, args: &[&str], env: &[(&str, &str)]) -> Wingman {
        let stderr = dir.path().join(format!(
            "stderr-{}.log",
            std::time::SystemTime::now()
                .elapsed()
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let stderr_file = std::fs::File::create(&stderr).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_wingman"))
            .args(["serve", "--port", "0", "--db"])
            .arg(&db)
            .args(args)
            .env_remove("WINGMAN_TOKEN")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("wingman listening on http://127.0.0.1:")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; stderr: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            })
            .parse()
            .unwrap();
        Wingman {
            child: Some(child),
            port,
            dir,
            db,
            stderr,
        }
    }

    /// Stops this server (SIGTERM, waiting for exit) and starts another on the same database.
    pub fn restart(mut self) -> Wingman {
        assert_eq!(self.terminate(), Some(0));
        let dir = std::mem::replace(&mut self.dir, TempDir::new());
        let db = self.db.clone();
        Wingman::start_on(dir, db, &[], &[])
    }

    /// Sends SIGTERM and waits; the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap().code()
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Everything the server wrote to stderr so far (the access log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let body = body.map(|b| b.to_string());
        http::request(
            self.port,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_deref(),
        )
    }

    pub fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.request("POST", path, Some(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.request("PUT", path, Some(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.request("DELETE", path, None)
    }

    /// Creates an agent and returns its id (panics unless 201).
    pub fn agent(&self, body: Value) -> String {
        let reply = self.post("/agents", &body);
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_string()
    }

    /// Creates a session rooted in `work_dir` and returns its id.
    pub fn session(&self, work_dir: &Path) -> String {
        let reply = self.post("/sessions", &serde_json::json!({"work_dir": work_dir}));
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()["id"].as_str().unwrap().to_string()
    }
}

impl Drop for Wingman {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 10 ms for up to `timeout`: for states with no signal to wait on
/// (a process that must disappear, a status that must flip).
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
