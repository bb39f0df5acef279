//! `POST /sessions/{id}/message` and `/message/stream`. (Lands with the agent loop.)

use crate::app::App;
use crate::error::ApiError;
use crate::http::{Request, Response};

pub fn send(_app: &App, _id: &str, _req: &Request) -> Result<Response, ApiError> {
    Err(ApiError::Internal(
        "sending messages is not built yet".into(),
    ))
}

pub fn stream(_app: &App, _id: &str, _req: &Request) -> Result<Response, ApiError> {
    Err(ApiError::Internal(
        "sending messages is not built yet".into(),
    ))
}
