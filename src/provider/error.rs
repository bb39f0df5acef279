//! Turning what went wrong into a `Failure`: an HTTP error response, an in-stream
//! error, a broken connection. A `Failure` knows whether the call may be retried;
//! it becomes the public `ProviderError` once retrying is over.
//!
//! Messages name the provider, the HTTP status, the provider's error type and its
//! own message. They never contain the API key: the client scrubs it before a
//! message leaves this module's callers (`Failure::into_error`).

use std::time::Duration;

use serde::Deserialize;

use super::{ErrorKind, Protocol, ProviderError};

/// Error bodies quoted in a message are cut here: enough to read an HTML error page's
/// title or a proxy's complaint, not a whole page.
const QUOTE_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub message: String,
    pub retryable: bool,
    /// What the provider asked for (`retry-after` / `retry-after-ms`), uncapped.
    pub retry_after: Option<Duration>,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: String) -> Failure {
        Failure {
            kind,
            status: None,
            message,
            retryable: false,
            retry_after: None,
        }
    }

    pub fn retryable(mut self) -> Failure {
        self.retryable = true;
        self
    }

    pub fn into_error(self, provider: &str, attempts: u32, api_key: Option<&str>) -> ProviderError {
        let mut message = self.message;
        if attempts > 1 {
            message.push_str(&format!(" (after {attempts} attempts)"));
        }
        // Some providers echo (part of) the key in their error text; never pass it on.
        if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            message = message.replace(key, "<redacted>");
        }
        ProviderError {
            kind: self.kind,
            provider: provider.to_string(),
            status: self.status,
            message,
        }
    }
}

pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        429 => ErrorKind::RateLimited,
        408 | 500..=599 => ErrorKind::Server,
        400..=499 => ErrorKind::InvalidRequest,
        // A redirect ureq did not follow, or a 1xx: not what a provider should send.
        _ => ErrorKind::Protocol,
    }
}

fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// The error object both protocols use, and the looser shapes compatible servers send.
#[derive(Deserialize, Default)]
struct ErrorBody {
    error: Option<ErrorField>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Object(ErrorObject),
    Text(String),
}

#[derive(Deserialize, Default)]
pub(crate) struct ErrorObject {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<serde_json::Value>,
    pub message: Option<String>,
}

impl ErrorObject {
    /// `overloaded_error: Overloaded`, `invalid_request_error (invalid_api_key): …`.
    pub fn describe(&self) -> String {
        let code = match &self.code {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let label = match (&self.kind, code) {
            (Some(kind), Some(code)) if *kind != code => format!("{kind} ({code})"),
            (Some(kind), _) => kind.clone(),
            (None, Some(code)) => code,
            (None, None) => String::new(),
        };
        let message = self.message.as_deref().unwrap_or("");
        match (label.is_empty(), message.is_empty()) {
            (true, _) => message.to_string(),
            (false, true) => label,
            (false, false) => format!("{label}: {message}"),
        }
    }

    fn is_quota(&self) -> bool {
        let code = self.code.as_ref().and_then(|c| c.as_str());
        self.kind.as_deref() == Some("insufficient_quota") || code == Some("insufficient_quota")
    }
}

/// A non-2xx response, from its status, headers and (possibly non-JSON) body.
pub(crate) fn http_failure(
    provider: &str,
    protocol: Protocol,
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> Failure {
    let parsed: Option<ErrorObject> = match serde_json::from_str::<ErrorBody>(body) {
        Ok(ErrorBody {
            error: Some(ErrorField::Object(object)),
            ..
        }) => Some(object),
        Ok(ErrorBody {
            error: Some(ErrorField::Text(message)),
            ..
        })
        | Ok(ErrorBody {
            error: None,
            message: Some(message),
        }) => Some(ErrorObject {
            message: Some(message),
            ..ErrorObject::default()
        }),
        _ => None,
    };
    let described = parsed
        .as_ref()
        .map(ErrorObject::describe)
        .filter(|d| !d.is_empty());
    let detail = match described {
        Some(described) => format!(" {described}"),
        None if body.trim().is_empty() => " with an empty body".to_string(),
        None => format!(": {}", quote(body.trim(), QUOTE_LIMIT)),
    };
    // OpenAI's quota error is a 429 that waiting does not fix.
    let quota = protocol == Protocol::OpenAi && parsed.as_ref().is_some_and(|o| o.is_quota());
    Failure {
        kind: kind_for_status(status),
        status: Some(status),
        message: format!("{provider} returned {status}{detail}"),
        retryable: retryable_status(status) && !quota,
        retry_after,
    }
}

/// An error reported inside a 200 stream (Anthropic's `error` event, OpenAI's
/// `{"error":…}` frame); `status` is the HTTP status the error type stands for.
pub(crate) fn stream_failure(provider: &str, error: &ErrorObject, status: Option<u16>) -> Failure {
    let kind = status.map_or(ErrorKind::Server, kind_for_status);
    Failure {
        kind,
        status: None,
        message: format!("{provider} stream error {}", error.describe()),
        retryable: status.is_none_or(retryable_status),
        retry_after: None,
    }
}

/// `text` in double quotes, cut to about `max` bytes (on a character boundary).
pub(crate) fn quote(text: &str, max: usize) -> String {
    if text.len() <= max {
        return format!("{text:?}");
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{:?}… ({} bytes)", &text[..end], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(protocol: Protocol, status: u16, body: &str) -> (String, bool) {
        let f = http_failure("p", protocol, status, None, body);
        (f.message, f.retryable)
    }

    #[test]
    fn error_bodies() {
        let cases = [
            (
                401,
                r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
                "p returned 401 authentication_error: invalid x-api-key",
                false,
            ),
            (
                429,
                r#"{"error":{"message":"Quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
                "p returned 429 insufficient_quota: Quota",
                false,
            ),
            (
                429,
                r#"{"error":{"message":"Slow","type":"requests","code":"rate_limit_exceeded"}}"#,
                "p returned 429 requests (rate_limit_exceeded): Slow",
                true,
            ),
            (
                404,
                r#"{"error":"model 'x' not found"}"#,
                "p returned 404 model 'x' not found",
                false,
            ),
            (400, r#"{"message":"bad"}"#, "p returned 400 bad", false),
            (
                502,
                "<html>Bad gateway</html>",
                "p returned 502: \"<html>Bad gateway</html>\"",
                true,
            ),
            (503, "", "p returned 503 with an empty body", true),
            (400, "{}", "p returned 400: \"{}\"", false),
            (
                500,
                r#"{"error":{}}"#,
                r#"p returned 500: "{\"error\":{}}""#,
                true,
            ),
        ];
        for (status, body, want, retry) in cases {
            assert_eq!(
                message(Protocol::OpenAi, status, body),
                (want.to_string(), retry),
                "{body}"
            );
        }
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "é".repeat(400);
        let (msg, _) = message(Protocol::Anthropic, 500, &body);
        assert_eq!(
            msg,
            format!("p returned 500: \"{}\"… (800 bytes)", "é".repeat(250))
        );
    }

    #[test]
    fn key_is_scrubbed_and_attempts_counted() {
        let f = Failure::new(ErrorKind::Auth, "bad key sk-123".to_string());
        let e = f.into_error("p", 2, Some("sk-123"));
        assert_eq!(e.message, "bad key <redacted> (after 2 attempts)");
    }
}
