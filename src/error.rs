//! `ApiError`: every failure a request can end in, and its one mapping to an
//! HTTP status and the body `{"error": "<one clear sentence>"}`.
//!
//! `status()` has no `_` arm on purpose: a new variant forces a decision.
//! Messages never carry a secret (API keys, the server token).

use std::fmt;

use crate::provider::ProviderError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Bad JSON or a failed validation; the message names the field.
    BadRequest(String),
    /// Missing or wrong bearer token.
    Unauthorized,
    /// Unknown route or id; the message says which.
    NotFound(String),
    /// A known path with another method; `allow` lists the methods it takes.
    MethodNotAllowed {
        method: String,
        path: String,
        allow: &'static [&'static str],
    },
    /// The session already runs a loop.
    Conflict(String),
    /// The request body is over the limit.
    PayloadTooLarge { limit: usize },
    /// The model provider failed.
    BadGateway(String),
    /// The server is at its connection limit or shutting down.
    Unavailable(String),
    /// A bug or a broken database.
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::Conflict(_) => 409,
            ApiError::PayloadTooLarge { .. } => 413,
            ApiError::BadGateway(_) => 502,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.to_string() })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::BadGateway(m)
            | ApiError::Unavailable(m)
            | ApiError::Internal(m) => f.write_str(m),
            ApiError::Unauthorized => f.write_str(
                "missing or wrong bearer token: send the header 'Authorization: Bearer <token>'",
            ),
            ApiError::MethodNotAllowed {
                method,
                path,
                allow,
            } => {
                write!(
                    f,
                    "{path} does not take {method}; it takes {}",
                    allow.join(", ")
                )
            }
            ApiError::PayloadTooLarge { limit } => {
                write!(
                    f,
                    "the request body is over the limit of {} MiB",
                    limit / (1024 * 1024)
                )
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> ApiError {
        ApiError::BadGateway(e.message)
    }
}
