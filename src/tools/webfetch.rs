//! `webfetch`: GET one http(s) URL and return its body as markdown, text or HTML.
//!
//! Bounded in every direction: `timeout` for the whole exchange (default
//! `DEFAULT_TIMEOUT_SECS`, at most `MAX_TIMEOUT_SECS`), `MAX_REDIRECTS` hops,
//! `MAX_BODY_BYTES` of body (the cut is said in the result), and the cancel flag
//! checked between body reads. Only text is returned: HTML is converted by
//! `html.rs`, other text types pass through, binary types are refused. A non-2xx
//! status is a tool error that quotes the start of the body.

use std::io::Read;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use ureq::ResponseExt;

use super::{ToolCtx, ToolOutput, html};
use crate::types::ToolSpec;

const DEFAULT_TIMEOUT_SECS: u64 = 30;
const MAX_TIMEOUT_SECS: u64 = 120;
const MAX_REDIRECTS: u32 = 10;
const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// How much of an error page is quoted back to the model.
const ERROR_BODY_CHARS: usize = 2000;
const READ_CHUNK: usize = 64 * 1024;

#[derive(Deserialize)]
pub(super) struct Args {
    url: String,
    #[serde(default)]
    format: Format,
    #[serde(default = "default_timeout")]
    timeout: u64,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Format {
    #[default]
    Markdown,
    Text,
    Html,
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}

pub fn spec() -> ToolSpec {
    ToolSpec {
        name: "webfetch",
        description: "Fetch a web page or file over http(s) and return its content. HTML is \
converted to readable markdown by default (headings, paragraphs, links, lists, code blocks; \
scripts, styles and navigation removed); `format` `text` gives plain text, `html` the raw HTML. \
Other text content (JSON, plain text…) is returned as is; binary content is refused. Follows up \
to 10 redirects; bodies over 5 MB are cut.",
        input_schema: json!({
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "An http:// or https:// URL."},
                "format": {
                    "type": "string", "enum": ["markdown", "text", "html"],
                    "description": "How to return HTML pages (default markdown)."
                },
                "timeout": {
                    "type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS,
                    "description": "Seconds for the whole fetch (default 30, max 120)."
                }
            },
            "required": ["url"]
        }),
    }
}

pub(super) fn run(args: Args, ctx: &ToolCtx<'_>) -> Result<ToolOutput, ToolOutput> {
    let err = |m: String| ToolOutput::error(format!("webfetch: {m}"));
    let url = args.url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(err(format!(
            "`url` must start with http:// or https://, got `{url}`"
        )));
    }
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(args.timeout)))
        .max_redirects(MAX_REDIRECTS)
        .http_status_as_error(false)
        .user_agent(concat!("wingman/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let accept = match args.format {
        Format::Markdown => "text/markdown;q=1.0, text/html;q=0.9, text/plain;q=0.8, */*;q=0.1",
        Format::Text => "text/plain;q=1.0, text/html;q=0.9, */*;q=0.1",
        Format::Html => "text/html;q=1.0, */*;q=0.1",
    };
    let mut response = agent
        .get(url)
        .header("Accept", accept)
        .call()
        .map_err(|e| err(describe_error(&e, url, args.timeout)))?;
    let status = response.status();
    let final_url = response.get_uri().to_string();
    let mime = response
        .body()
        .mime_type()
        .unwrap_or("")
        .to_ascii_lowercase();
    let declared = response.body().content_length();

    let mut body = Vec::new();
    let mut reader = response.body_mut().as_reader();
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut cut = false;
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(err("aborted".into()));
        }
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(err(format!("reading the body of {url} failed: {e}"))),
        };
        let room = MAX_BODY_BYTES - body.len();
        if n > room {
            body.extend_from_slice(&chunk[..room]);
            cut = true;
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }

    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let text = if is_html(&mime, &body) {
            html::to_text(&text)
        } else {
            text.into_owned()
        };
        let reason = status.canonical_reason().unwrap_or("");
        return Err(err(format!(
            "HTTP {} {reason} from {final_url}\n\n{}",
            status.as_u16(),
            super::cut_line(text.trim(), ERROR_BODY_CHARS)
        )));
    }
    if !is_html(&mime, &body) && !is_text(&mime, &body) {
        return Err(err(format!(
            "{final_url} returned binary content ({}); webfetch returns text only",
            if mime.is_empty() {
                "no content type"
            } else {
                &mime
            }
        )));
    }
    let text = String::from_utf8_lossy(&body);
    let mut out = if is_html(&mime, &body) {
        match args.format {
            Format::Markdown => html::to_markdown(&text, &final_url),
            Format::Text => html::to_text(&text),
            Format::Html => text.into_owned(),
        }
    } else {
        text.into_owned()
    };
    if cut {
        let total = match declared {
            Some(len) => format!("of {len} bytes"),
            None => "of a larger body".to_string(),
        };
        out.push_str(&format!(
            "\n\n[body cut at {MAX_BODY_BYTES} bytes (5 MB) {total}; the rest was not fetched]"
        ));
    }
    Ok(ToolOutput::ok(out))
}

fn describe_error(e: &ureq::Error, url: &str, timeout: u64) -> String {
    match e {
        ureq::Error::TooManyRedirects => {
            format!("{url} redirected more than {MAX_REDIRECTS} times; giving up")
        }
        ureq::Error::Timeout(_) => format!("{url} did not answer within {timeout} s"),
        ureq::Error::HostNotFound => format!("the host of {url} was not found (DNS)"),
        ureq::Error::BadUri(reason) => format!("`url` `{url}` is not a valid URL: {reason}"),
        other => format!("fetching {url} failed: {other}"),
    }
}

fn is_html(mime: &str, body: &[u8]) -> bool {
    if mime == "text/html" || mime == "application/xhtml+xml" {
        return true;
    }
    if !mime.is_empty() {
        return false;
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let start = start.trim_start();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

fn is_text(mime: &str, body: &[u8]) -> bool {
    mime.starts_with("text/")
        || mime.ends_with("json")
        || mime.ends_with("xml")
        || mime.ends_with("javascript")
        || mime.ends_with("+json")
        || mime == "application/x-yaml"
        || mime == "application/yaml"
        || (mime.is_empty() || mime == "application/octet-stream")
            && !super::looks_binary(&body[..body.len().min(8 * 1024)])
}
