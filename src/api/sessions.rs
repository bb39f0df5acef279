//! `/sessions…` except sending messages: create, list, read, update, delete, abort.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::body;
use crate::app::App;
use crate::error::ApiError;
use crate::http::{Request, Response};
use crate::store::SessionPatch;
use crate::types::{Session, SessionStatus};

/// How long DELETE waits for a running loop to stop before deleting anyway.
const ABORT_WAIT: Duration = Duration::from_secs(10);

pub fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no session with id `{id}`"))
}

fn with_status(app: &App, mut session: Session) -> Session {
    if app.runs.is_running(&session.id) {
        session.status = SessionStatus::Running;
    }
    session
}

pub fn list(app: &App) -> Result<Response, ApiError> {
    let sessions: Vec<Session> = app
        .store
        .list_sessions()?
        .into_iter()
        .map(|s| with_status(app, s))
        .collect();
    Ok(Response::ok(&sessions))
}

pub fn get(app: &App, id: &str) -> Result<Response, ApiError> {
    let session = app
        .store
        .get_session(id, true)?
        .ok_or_else(|| not_found(id))?;
    Ok(Response::ok(&with_status(app, session)))
}

pub fn create(app: &App, req: &Request) -> Result<Response, ApiError> {
    let obj = body::object(req, true)?;
    let title = body::string(&obj, "title")?;
    let work_dir = body::string(&obj, "work_dir")?
        .map(|dir| resolve_work_dir(&dir))
        .transpose()?;
    let session = app
        .store
        .create_session(title.as_deref(), work_dir.as_deref())?;
    Ok(Response::json(201, &session))
}

pub fn update(app: &App, id: &str, req: &Request) -> Result<Response, ApiError> {
    let obj = body::object(req, false)?;
    let patch = SessionPatch {
        title: body::nullable_string(&obj, "title")?,
        work_dir: match body::nullable_string(&obj, "work_dir")? {
            Some(Some(dir)) => Some(Some(resolve_work_dir(&dir)?)),
            other => other,
        },
    };
    let session = app
        .store
        .update_session(id, &patch)?
        .ok_or_else(|| not_found(id))?;
    Ok(Response::ok(&with_status(app, session)))
}

/// Aborts a running loop first (it keeps what it finished), then deletes.
pub fn delete(app: &App, id: &str) -> Result<Response, ApiError> {
    app.runs.abort_and_wait(id, ABORT_WAIT);
    if app.store.delete_session(id)? {
        Ok(super::deleted())
    } else {
        Err(not_found(id))
    }
}

pub fn abort(app: &App, id: &str) -> Result<Response, ApiError> {
    if app.store.get_session(id, false)?.is_none() {
        return Err(not_found(id));
    }
    let status = if app.runs.abort(id) {
        "aborting"
    } else {
        "idle"
    };
    Ok(Response::ok(&json!({"status": status})))
}

/// An existing folder, absolute (relative paths are taken from the server's
/// current folder), with `..` and symlinks resolved.
fn resolve_work_dir(dir: &str) -> Result<String, ApiError> {
    if dir.trim().is_empty() {
        return Err(ApiError::BadRequest("`work_dir` must not be empty".into()));
    }
    let path = PathBuf::from(dir);
    let canonical = Path::new(&path).canonicalize().map_err(|e| {
        ApiError::BadRequest(format!(
            "`work_dir` {dir} cannot be used: {}",
            io_reason(&e)
        ))
    })?;
    if !canonical.is_dir() {
        return Err(ApiError::BadRequest(format!(
            "`work_dir` {dir} is not a directory"
        )));
    }
    canonical.into_os_string().into_string().map_err(|_| {
        ApiError::BadRequest(format!("`work_dir` {dir} is not valid UTF-8 once resolved"))
    })
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "it does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
