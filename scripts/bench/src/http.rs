//! A minimal HTTP/1.1 client over `TcpStream`: just enough for the benchmarks
//! (keep-alive, Content-Length and chunked bodies), with no client library whose
//! own cost would blur the figures.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Every socket read or write gives up after this: the bench never hangs.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Url {
    /// `host:port`
    pub addr: String,
    pub path: String,
}

impl Url {
    pub fn parse(url: &str) -> Result<Url, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("not an http:// URL: {url}"))?;
        let (addr, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(Url {
            addr: addr.to_string(),
            path: path.to_string(),
        })
    }

    pub fn with_path(&self, path: &str) -> Url {
        Url {
            addr: self.addr.clone(),
            path: path.to_string(),
        }
    }
}

pub fn connect(url: &Url) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(&url.addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(stream)
}

/// The bytes of one request.
pub fn request(method: &str, url: &Url, body: &str, keep_alive: bool) -> Vec<u8> {
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut out = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nConnection: {connection}\r\n",
        url.path, url.addr
    );
    if !body.is_empty() || method == "POST" || method == "PUT" {
        out.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

pub struct Head {
    pub status: u16,
    pub content_length: Option<usize>,
    pub chunked: bool,
    pub close: bool,
}

/// Reads the status line and headers.
pub fn read_head(r: &mut impl BufRead) -> io::Result<Head> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line: {line:?}")))?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
        close: false,
    };
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "eof in headers",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok(head);
        }
        let Some((name, value)) = l.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => head.content_length = value.parse().ok(),
            "transfer-encoding" => head.chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => head.close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
}

/// Reads a whole response: (head, body).
pub fn read_response(r: &mut impl BufRead) -> io::Result<(Head, Vec<u8>)> {
    let head = read_head(r)?;
    let mut body = Vec::new();
    if head.chunked {
        Dechunk::new(r).read_to_end(&mut body)?;
    } else if let Some(n) = head.content_length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok((head, body))
}

/// One request on a new connection: (status, body).
pub fn call(method: &str, url: &Url, body: &str) -> io::Result<(u16, Vec<u8>)> {
    let mut stream = connect(url)?;
    stream.write_all(&request(method, url, body, false))?;
    let (head, body) = read_response(&mut BufReader::new(stream))?;
    Ok((head.status, body))
}

/// `call` for a JSON answer with a 2xx status.
pub fn call_json(method: &str, url: &Url, body: &str) -> Result<serde_json::Value, String> {
    let (status, bytes) =
        call(method, url, body).map_err(|e| format!("{method} {}: {e}", url.path))?;
    let text = String::from_utf8_lossy(&bytes);
    if !(200..300).contains(&status) {
        return Err(format!("{method} {} -> {status}: {text}", url.path));
    }
    serde_json::from_str(&text).map_err(|e| format!("{method} {}: bad JSON: {e}", url.path))
}

/// A chunked body as a plain reader.
pub struct Dechunk<R> {
    inner: R,
    left: usize,
    done: bool,
}

impl<R: BufRead> Dechunk<R> {
    pub fn new(inner: R) -> Dechunk<R> {
        Dechunk {
            inner,
            left: 0,
            done: false,
        }
    }
}

impl<R: BufRead> Read for Dechunk<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.inner.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            if self.left == 0 {
                self.done = true;
                line.clear();
                let _ = self.inner.read_line(&mut line);
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in chunk"));
        }
        self.left -= n;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}
