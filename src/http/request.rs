//! An owned request: what handlers see instead of tiny_http's type.

use std::io::Read;
use std::net::SocketAddr;

use super::disconnect::Watch;
use crate::cancel::Cancel;

/// The methods the API routes on; anything else is kept by name for 405 messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Other(name) => name,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// The path as sent, without the query string (for logs and messages).
    pub path: String,
    /// Percent-decoded path segments, empty ones dropped: `/a//b/` → `["a", "b"]`.
    pub segments: Vec<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// (our port, the client's address), for noticing a client that leaves.
    pub peer: Option<(u16, SocketAddr)>,
}

impl Request {
    pub fn new(
        method: Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Request {
        let path = url.split(['?', '#']).next().unwrap_or("").to_string();
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect();
        Request {
            method,
            path,
            segments,
            headers,
            body,
            peer: None,
        }
    }

    /// Cancels `cancel` if the client closes its connection before the returned
    /// watch is dropped (a long blocking request whose client gave up).
    pub fn on_disconnect(&self, cancel: &Cancel) -> Option<Watch> {
        self.peer
            .map(|(port, remote)| super::disconnect::watch(port, remote, Some(cancel.clone())))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    TooLarge,
    Io(std::io::Error),
}

/// Reads at most `limit` bytes; more is `TooLarge` (the rest is never read).
pub fn read_body(
    reader: &mut dyn Read,
    declared: Option<usize>,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut body)
        .map_err(BodyError::Io)?;
    if body.len() > limit {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}

/// `%xx` decoding of one path segment; invalid escapes and invalid UTF-8 are kept as sent.
fn percent_decode(segment: &str) -> String {
    if !segment.contains('%') {
        return segment.to_string();
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| segment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_split_and_decoded() {
        let r = Request::new(
            Method::Get,
            "/provider/openrouter/models/anthropic%2Fclaude/x?y=1",
            vec![],
            vec![],
        );
        assert_eq!(r.path, "/provider/openrouter/models/anthropic%2Fclaude/x");
        assert_eq!(
            r.segments,
            vec!["provider", "openrouter", "models", "anthropic/claude", "x"]
        );
        assert_eq!(
            Request::new(Method::Get, "//a//b/", vec![], vec![]).segments,
            vec!["a", "b"]
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }

    #[test]
    fn body_cap() {
        let data = vec![b'x'; 11];
        assert!(matches!(
            read_body(&mut &data[..], Some(11), 10),
            Err(BodyError::TooLarge)
        ));
        assert!(matches!(
            read_body(&mut &data[..], None, 10),
            Err(BodyError::TooLarge)
        ));
        assert_eq!(read_body(&mut &data[..], None, 11).unwrap(), data);
    }
}
