//! A plain response: a status and a JSON body, or an event stream.

use serde::Serialize;

use super::sse::SseWriter;
use crate::error::ApiError;

/// Writes a whole event stream; returns when the stream is over.
pub type StreamFn = Box<dyn FnOnce(&mut SseWriter<'_>) + Send>;

pub enum Body {
    Json(Vec<u8>),
    /// `text/event-stream`, one chunk per event (see `sse.rs`).
    Stream(StreamFn),
}

pub struct Response {
    pub status: u16,
    pub body: Body,
    /// For 405: the methods the path takes (the `Allow` header).
    pub allow: Option<&'static [&'static str]>,
}

impl Response {
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response {
                status,
                body: Body::Json(body),
                allow: None,
            },
            Err(e) => Response::error(&ApiError::Internal(format!(
                "cannot encode the response: {e}"
            ))),
        }
    }

    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Response {
        Response::json(200, value)
    }

    pub fn error(e: &ApiError) -> Response {
        let allow = match e {
            ApiError::MethodNotAllowed { allow, .. } => Some(*allow),
            _ => None,
        };
        let body = serde_json::to_vec(&e.body())
            .unwrap_or_else(|_| b"{\"error\":\"internal error\"}".to_vec());
        Response {
            status: e.status(),
            body: Body::Json(body),
            allow,
        }
    }

    pub fn stream(write: impl FnOnce(&mut SseWriter<'_>) + Send + 'static) -> Response {
        Response {
            status: 200,
            body: Body::Stream(Box::new(write)),
            allow: None,
        }
    }
}

impl From<Result<Response, ApiError>> for Response {
    fn from(result: Result<Response, ApiError>) -> Response {
        result.unwrap_or_else(|e| Response::error(&e))
    }
}
