//! HTML → readable markdown or plain text, for `webfetch`. Hand-written and small.
//!
//! Not a browser: a forgiving tokenizer (tags, attributes, comments, raw-text
//! `script`/`style`) feeds a writer that knows the elements a model needs to read
//! a page: headings, paragraphs, links, lists, `pre`/`code` blocks, emphasis,
//! images' alt text and simple tables. Page furniture (`script`, `style`, `nav`,
//! `header`, `footer`, `noscript`, `svg`, forms…) is dropped with its content.
//! It never panics: malformed markup degrades to text. Indexing is on ASCII
//! delimiters only, so every slice falls on a char boundary.

/// Elements dropped with everything inside them.
const DROPPED: [&str; 13] = [
    "script", "style", "noscript", "svg", "nav", "header", "footer", "head", "template", "iframe",
    "form", "button", "select",
];
/// Elements whose content is raw text: no tags inside until the closing tag.
const RAW_TEXT: [&str; 3] = ["script", "style", "textarea"];
/// Elements that never have a closing tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param",
];

pub fn to_markdown(html: &str, base_url: &str) -> String {
    convert(html, base_url, true)
}

pub fn to_text(html: &str) -> String {
    convert(html, "", false)
}

fn convert(html: &str, base_url: &str, markdown: bool) -> String {
    let mut w = Writer {
        out: String::with_capacity(html.len() / 2),
        markdown,
        base_url,
        lists: Vec::new(),
        links: Vec::new(),
        pre: 0,
        pre_fresh: false,
        dropping: None,
    };
    let mut tokens = Tokenizer {
        html,
        pos: 0,
        raw: None,
    };
    while let Some(token) = tokens.next_token() {
        w.token(token);
    }
    tidy(&w.out)
}

enum Token<'a> {
    Text(&'a str),
    Open {
        name: String,
        attrs: &'a str,
        closed: bool,
    },
    Close(String),
}

struct Tokenizer<'a> {
    html: &'a str,
    pos: usize,
    /// Inside a raw-text element: its name, until its closing tag.
    raw: Option<String>,
}

impl<'a> Tokenizer<'a> {
    fn next_token(&mut self) -> Option<Token<'a>> {
        let rest = &self.html[self.pos..];
        if rest.is_empty() {
            return None;
        }
        if let Some(name) = self.raw.take() {
            let end = find_ci(rest, &format!("</{name}")).unwrap_or(rest.len());
            let after = rest[end..].find('>').map_or(rest.len(), |i| end + i + 1);
            self.pos += after;
            return Some(Token::Close(name));
        }
        if rest.starts_with("<!--") {
            let end = rest.find("-->").map_or(rest.len(), |i| i + 3);
            self.pos += end;
            return Some(Token::Text(""));
        }
        let bytes = rest.as_bytes();
        let is_tag = bytes[0] == b'<'
            && bytes
                .get(1)
                .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'/' || b == b'!' || b == b'?');
        if !is_tag {
            // Text up to the next `<` (a lone `<` is text too).
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let end = rest[first..].find('<').map_or(rest.len(), |i| i + first);
            self.pos += end;
            return Some(Token::Text(&rest[..end]));
        }
        let end = tag_end(rest);
        self.pos += end;
        let inner = rest[1..end].trim_end_matches('>');
        if inner.starts_with('!') || inner.starts_with('?') {
            return Some(Token::Text("")); // doctype, processing instruction
        }
        let (closing, inner) = match inner.strip_prefix('/') {
            Some(inner) => (true, inner),
            None => (false, inner),
        };
        let name_end = inner
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(inner.len());
        let name = inner[..name_end].to_ascii_lowercase();
        if closing {
            return Some(Token::Close(name));
        }
        let closed = inner.ends_with('/') || VOID.contains(&name.as_str());
        if !closed && RAW_TEXT.contains(&name.as_str()) {
            self.raw = Some(name.clone());
        }
        Some(Token::Open {
            name,
            attrs: &inner[name_end..],
            closed,
        })
    }
}

/// The index just past the `>` that ends the tag at the start of `s`, skipping quoted values.
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// Case-insensitive ASCII search.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    h.windows(n.len()).position(|w| w.eq_ignore_ascii_case(n))
}

/// The value of attribute `name` in a tag's attribute text, entities decoded.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let key_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, next) = match after.as_bytes().first() {
                Some(&q @ (b'"' | b'\'')) => {
                    let close = after[1..].find(q as char).map_or(after.len(), |i| i + 1);
                    (&after[1..close], after.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = v;
            rest = next;
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(decode_entities(value));
        }
    }
}

enum List {
    Unordered,
    Ordered(u32),
}

struct Writer<'a> {
    out: String,
    markdown: bool,
    base_url: &'a str,
    lists: Vec<List>,
    /// One entry per open `<a>`: the resolved href when the link is shown.
    links: Vec<Option<String>>,
    pre: usize,
    /// Right after `<pre>`: its first newline is dropped (as HTML does).
    pre_fresh: bool,
    /// Inside a dropped element: its name and nesting depth.
    dropping: Option<(String, usize)>,
}

impl Writer<'_> {
    fn token(&mut self, token: Token<'_>) {
        if let Some((name, depth)) = &mut self.dropping {
            match token {
                // `</head>` may be left out: the body ends the head.
                Token::Open { name: n, .. } if n == "body" && name == "head" => {
                    self.dropping = None;
                }
                Token::Open {
                    name: n,
                    closed: false,
                    ..
                } if n == *name => *depth += 1,
                Token::Close(n) if n == *name => {
                    *depth -= 1;
                    if *depth == 0 {
                        self.dropping = None;
                    }
                }
                _ => {}
            }
            return;
        }
        match token {
            Token::Text(text) => self.text(text),
            Token::Open {
                name,
                attrs,
                closed,
            } => {
                if DROPPED.contains(&name.as_str()) {
                    if !closed {
                        self.dropping = Some((name, 1));
                    }
                    return;
                }
                self.open(&name, attrs);
            }
            Token::Close(name) => self.close(&name),
        }
    }

    fn open(&mut self, name: &str, attrs: &str) {
        let md = self.markdown;
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.blank();
                if md {
                    let level = usize::from(name.as_bytes()[1] - b'0');
                    self.out.push_str(&"#".repeat(level));
                    self.out.push(' ');
                }
            }
            "p" | "blockquote" | "table" | "section" | "article" | "main" | "figure" | "dl"
            | "details" | "address" => {
                self.blank();
                if name == "blockquote" && md {
                    self.out.push_str("> ");
                }
            }
            "div" | "tr" | "dt" | "dd" | "summary" | "figcaption" | "caption" => self.newline(),
            "br" => self.out.push('\n'),
            "hr" => {
                self.blank();
                if md {
                    self.out.push_str("---");
                }
                self.blank();
            }
            "ul" | "ol" => {
                self.newline();
                self.lists.push(if name == "ol" {
                    List::Ordered(0)
                } else {
                    List::Unordered
                });
            }
            "li" => {
                self.newline();
                let depth = self.lists.len().max(1);
                self.out.push_str(&"  ".repeat(depth - 1));
                match self.lists.last_mut() {
                    Some(List::Ordered(n)) => {
                        *n += 1;
                        self.out.push_str(&format!("{n}. "));
                    }
                    _ => self.out.push_str("- "),
                }
            }
            "pre" => {
                self.blank();
                if md {
                    self.out.push_str("```");
                }
                self.pre += 1;
                self.pre_fresh = true;
            }
            "code" if self.pre > 0 => {
                // `<pre><code class="language-rust">`: name the fence's language.
                let lang = attr(attrs, "class").and_then(|c| {
                    c.split_whitespace()
                        .find_map(|c| c.strip_prefix("language-").map(str::to_string))
                });
                if let (true, true, Some(lang)) = (md, self.out.ends_with("```"), lang) {
                    self.out.push_str(&lang);
                }
            }
            "code" | "kbd" | "samp" if md => self.out.push('`'),
            "strong" | "b" if md => self.out.push_str("**"),
            "em" | "i" if md => self.out.push('*'),
            "td" | "th" if !self.at_line_start() => self.out.push_str(" | "),
            "a" => {
                let href = attr(attrs, "href").filter(|h| {
                    !h.is_empty() && !h.starts_with('#') && !h.starts_with("javascript:")
                });
                let shown = href.filter(|_| md).map(|h| resolve(self.base_url, &h));
                if shown.is_some() {
                    self.out.push('[');
                }
                self.links.push(shown);
            }
            "img" => {
                let alt = attr(attrs, "alt").unwrap_or_default();
                let alt = alt.trim();
                if alt.is_empty() {
                    return;
                }
                match (md, attr(attrs, "src")) {
                    (true, Some(src)) => {
                        let src = resolve(self.base_url, &src);
                        self.out.push_str(&format!("![{alt}]({src})"));
                    }
                    _ => self.out.push_str(alt),
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        let md = self.markdown;
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "p" | "blockquote" | "table" | "section"
            | "article" | "main" | "figure" | "dl" | "details" | "address" => self.blank(),
            "div" | "tr" | "dt" | "dd" | "summary" | "figcaption" | "caption" | "li" => {
                self.newline()
            }
            "ul" | "ol" => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.blank();
                } else {
                    self.newline();
                }
            }
            "pre" if self.pre > 0 => {
                self.pre -= 1;
                if md {
                    if !self.out.ends_with('\n') {
                        self.out.push('\n');
                    }
                    self.out.push_str("```");
                }
                self.blank();
            }
            "code" if self.pre > 0 => {}
            "code" | "kbd" | "samp" if md => self.out.push('`'),
            "strong" | "b" if md => self.out.push_str("**"),
            "em" | "i" if md => self.out.push('*'),
            "a" => {
                if let Some(Some(href)) = self.links.pop() {
                    self.out.push_str(&format!("]({href})"));
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let text = decode_entities(raw);
        if self.pre > 0 {
            let mut text = text.as_str();
            if std::mem::take(&mut self.pre_fresh) {
                if self.markdown {
                    self.out.push('\n');
                }
                text = text.strip_prefix('\n').unwrap_or(text);
            }
            self.out.push_str(text);
            return;
        }
        let mut collapsed = String::with_capacity(text.len());
        for word in text.split_whitespace() {
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(word);
        }
        let leading = text.starts_with(|c: char| c.is_whitespace());
        let trailing = text.ends_with(|c: char| c.is_whitespace());
        let at_break = self.out.is_empty() || self.out.ends_with([' ', '\n', '[', '(']);
        if leading && !at_break {
            self.out.push(' ');
        }
        self.out.push_str(&collapsed);
        if trailing && !collapsed.is_empty() {
            self.out.push(' ');
        }
    }

    /// True when the current line holds nothing yet but indentation, a list
    /// marker or a blockquote marker.
    fn at_line_start(&self) -> bool {
        let line = self.out.rsplit('\n').next().unwrap_or("").trim();
        line.is_empty()
            || line == "-"
            || line == ">"
            || (line.ends_with('.') && line[..line.len() - 1].bytes().all(|b| b.is_ascii_digit()))
    }

    fn newline(&mut self) {
        if self.pre > 0 {
            return;
        }
        if self.at_line_start() {
            return;
        }
        let trimmed = self.out.trim_end_matches(' ').len();
        self.out.truncate(trimmed);
        self.out.push('\n');
    }

    /// Ends the paragraph: a blank line (just a new line inside a list item).
    fn blank(&mut self) {
        if self.pre > 0 {
            return;
        }
        self.newline();
        if !self.lists.is_empty() || self.out.is_empty() || self.at_marker() {
            return;
        }
        if !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn at_marker(&self) -> bool {
        let line = self.out.rsplit('\n').next().unwrap_or("");
        !line.trim().is_empty()
    }
}

/// Collapses runs of blank lines (outside code fences) and trims the ends.
fn tidy(out: &str) -> String {
    let mut result = String::with_capacity(out.len());
    let mut blank_run = 0;
    let mut in_fence = false;
    for line in out.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        let line = if in_fence { line } else { line.trim_end() };
        if line.is_empty() && !in_fence {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        result.push_str(line);
        result.push('\n');
    }
    result.trim().to_string()
}

/// `href` made absolute against the page's URL (no `..` folding: readable is enough).
fn resolve(base: &str, href: &str) -> String {
    if base.is_empty() || href.contains("://") || href.starts_with("mailto:") {
        return href.to_string();
    }
    let Some(scheme_end) = base.find("://") else {
        return href.to_string();
    };
    if href.starts_with("//") {
        return format!("{}:{href}", &base[..scheme_end]);
    }
    let after = scheme_end + 3;
    let origin_end = base[after..].find('/').map_or(base.len(), |i| after + i);
    let origin = &base[..origin_end];
    if href.starts_with('/') {
        return format!("{origin}{href}");
    }
    let path = base[origin_end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    format!("{origin}{dir}{href}")
}

/// Decodes `&amp;`-style named entities (the common ones) and numeric ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| entity(&rest[1..=end]).map(|c| (c, end + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "bull" => '•',
        "euro" => '€',
        "times" => '×',
        "larr" => '←',
        "rarr" => '→',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_structure_and_drops_noise() {
        let html = r#"<!DOCTYPE html><html><head><title>T</title><style>p{}</style></head>
<body><nav><a href="/x">menu</a></nav><header><p>site header</p></header>
<h1>Title &amp; more</h1>
<p>Some <b>bold</b> text with a <a href="/docs/a.html">link</a>.</p>
<script>if (a < b) { alert("x") }</script>
<ul><li>one</li><li>two<ol><li>inner</li></ol></li></ul>
<pre><code class="language-rust">fn main() {
    println!("&lt;hi&gt;");
}</code></pre>
<p>Inline <code>x = 1</code>&nbsp;ok</p>
<footer>copyright</footer></body></html>"#;
        let expected = "# Title & more

Some **bold** text with a [link](https://example.com/docs/a.html).

- one
- two
  1. inner

```rust
fn main() {
    println!(\"<hi>\");
}
```

Inline `x = 1` ok";
        assert_eq!(to_markdown(html, "https://example.com/page"), expected);
    }

    #[test]
    fn text_has_no_markup() {
        let html = "<h2>Head</h2><p>a <a href='u'>b</a> &#x41;&#66;</p><ul><li>i</li></ul>";
        assert_eq!(to_text(html), "Head\n\na b AB\n\n- i");
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for html in [
            "<",
            "<a",
            "<a href=\"x",
            "</",
            "<!--",
            "&",
            "&#xffffffff;",
            "<p>é<",
            "<<>>",
        ] {
            let _ = to_markdown(html, "http://h");
            let _ = to_text(html);
        }
    }

    #[test]
    fn links_resolve_against_the_page() {
        assert_eq!(resolve("https://h.io/a/b?q", "c"), "https://h.io/a/c");
        assert_eq!(resolve("https://h.io", "c"), "https://h.io/c");
        assert_eq!(resolve("https://h.io/a/", "/r"), "https://h.io/r");
        assert_eq!(resolve("http://h.io/a", "//x.org/y"), "http://x.org/y");
    }
}
