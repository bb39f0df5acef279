//! The command line: one lexopt loop into `Command`, then `Config` for `serve`.
//!
//! `--help` and `--version` return before any I/O. Environment fallbacks
//! (`WINGMAN_TOKEN`, `XDG_DATA_HOME`, `HOME`) are read here and nowhere else.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const DEFAULT_MAX_CONNECTIONS: usize = 256;

pub const USAGE: &str = "\
Usage: wingman serve [--port PORT] [--host HOST] [--db PATH] [--token TOKEN] [--insecure]
                     [--max-connections N]
       wingman tool NAME 'JSON' [--work-dir DIR]
       wingman version | --version | --help | serve --help | tool --help";

pub const SERVE_HELP: &str = "\
wingman serve: run the HTTP API

Usage: wingman serve [OPTIONS]

Options:
  --port PORT     port to listen on; 0 picks a free one        [default: 2323]
  --host HOST     address to bind                              [default: 127.0.0.1]
  --db PATH       SQLite database file
                  [default: $XDG_DATA_HOME/wingman/wingman.db or ~/.local/share/wingman/wingman.db]
  --token TOKEN   require `Authorization: Bearer TOKEN` on every request but GET /health
                  [env: WINGMAN_TOKEN]
  --insecure      allow a non-loopback --host without a token (the bash tool runs
                  commands on this machine: anyone who reaches the port can)
  --max-connections N
                  requests served at once (streams included); more get 503
                                                               [default: 256]
  -h, --help      print this help";

pub const TOOL_HELP: &str = "\
wingman tool: run one tool once and print its result (exit 1 on a tool error)

Usage: wingman tool NAME 'JSON' [--work-dir DIR]

  NAME             bash, read, write, edit, glob, grep or webfetch
  JSON             the tool's input, e.g. '{\"pattern\": \"**/*.rs\"}'
  --work-dir DIR   the folder paths are relative to         [default: the current one]";

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Serve(Config),
    Tool {
        name: String,
        input: String,
        work_dir: Option<PathBuf>,
    },
    /// Print this text on stdout and exit 0.
    Print(String),
}

/// Everything `serve` needs, validated.
#[derive(Clone, PartialEq)]
pub struct Config {
    pub host: String,
    pub port: u16,
    pub db: PathBuf,
    pub token: Option<String>,
    pub insecure: bool,
    pub max_connections: usize,
}

impl std::fmt::Debug for Config {
    // Never print the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("db", &self.db)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// The environment `parse` reads, passed in so tests need not mutate the process's.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub wingman_token: Option<String>,
    pub xdg_data_home: Option<String>,
    pub home: Option<String>,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Env {
            wingman_token: var("WINGMAN_TOKEN"),
            xdg_data_home: var("XDG_DATA_HOME"),
            home: var("HOME"),
        }
    }
}

/// Parses the arguments after the program name. `Err` is a one-line message;
/// the caller prints it with the usage and exits 2.
pub fn parse(args: impl IntoIterator<Item = OsString>, env: &Env) -> Result<Command, String> {
    let mut parser = lexopt::Parser::from_args(args);
    let sub = match parser.next().map_err(|e| e.to_string())? {
        None => return Err("missing command".into()),
        Some(Long("help") | Short('h')) => {
            return Ok(Command::Print(format!("wingman {VERSION}\n\n{USAGE}")));
        }
        Some(Long("version") | Short('V')) => {
            return Ok(Command::Print(format!("wingman {VERSION}")));
        }
        Some(Value(v)) => v
            .string()
            .map_err(|_| "the command is not valid UTF-8".to_string())?,
        Some(other) => return Err(other.unexpected().to_string()),
    };
    match sub.as_str() {
        "serve" => parse_serve(parser, env),
        "tool" => parse_tool(parser),
        "version" => Ok(Command::Print(format!("wingman {VERSION}"))),
        "help" => Ok(Command::Print(format!("wingman {VERSION}\n\n{USAGE}"))),
        other => Err(format!("unknown command '{other}'")),
    }
}

fn parse_serve(mut parser: lexopt::Parser, env: &Env) -> Result<Command, String> {
    let mut host = "127.0.0.1".to_string();
    let mut port: u16 = 2323;
    let mut db: Option<PathBuf> = None;
    let mut token = env.wingman_token.clone();
    let mut insecure = false;
    let mut max_connections = DEFAULT_MAX_CONNECTIONS;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("port") | Short('p') => {
                let raw = string_value(&mut parser, "--port")?;
                port = raw
                    .parse()
                    .map_err(|_| format!("--port must be a number from 0 to 65535, got '{raw}'"))?;
            }
            Long("host") => {
                host = string_value(&mut parser, "--host")?;
                if host.is_empty() {
                    return Err("--host must not be empty".into());
                }
            }
            Long("db") => db = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?)),
            Long("token") => {
                let t = string_value(&mut parser, "--token")?;
                if t.is_empty() {
                    return Err("--token must not be empty".into());
                }
                token = Some(t);
            }
            Long("insecure") => insecure = true,
            Long("max-connections") => {
                let raw = string_value(&mut parser, "--max-connections")?;
                max_connections = raw
                    .parse()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| {
                        format!("--max-connections must be a number from 1 to 100000, got '{raw}'")
                    })?;
            }
            Long("help") | Short('h') => return Ok(Command::Print(SERVE_HELP.into())),
            Long("version") | Short('V') => {
                return Ok(Command::Print(format!("wingman {VERSION}")));
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    let db = match db {
        Some(path) => path,
        None => default_db(env)?,
    };
    Ok(Command::Serve(Config {
        host,
        port,
        db,
        token,
        insecure,
        max_connections,
    }))
}

fn parse_tool(mut parser: lexopt::Parser) -> Result<Command, String> {
    let mut positional = Vec::new();
    let mut work_dir = None;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("work-dir") => {
                work_dir = Some(PathBuf::from(parser.value().map_err(|e| e.to_string())?))
            }
            Long("help") | Short('h') => return Ok(Command::Print(TOOL_HELP.into())),
            Value(v) => positional.push(
                v.string()
                    .map_err(|_| "arguments must be valid UTF-8".to_string())?,
            ),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let mut positional = positional.into_iter();
    let (Some(name), input, None) = (positional.next(), positional.next(), positional.next())
    else {
        return Err("wingman tool takes a tool name and one JSON argument".into());
    };
    Ok(Command::Tool {
        name,
        input: input.unwrap_or_else(|| "{}".into()),
        work_dir,
    })
}

fn string_value(parser: &mut lexopt::Parser, flag: &str) -> Result<String, String> {
    parser
        .value()
        .map_err(|e| e.to_string())?
        .string()
        .map_err(|_| format!("{flag} must be valid UTF-8"))
}

/// `$XDG_DATA_HOME/wingman/wingman.db`, else `~/.local/share/wingman/wingman.db`.
fn default_db(env: &Env) -> Result<PathBuf, String> {
    if let Some(xdg) = &env.xdg_data_home {
        return Ok(PathBuf::from(xdg).join("wingman").join("wingman.db"));
    }
    match &env.home {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/wingman/wingman.db")),
        None => Err("neither XDG_DATA_HOME nor HOME is set: pass --db PATH".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str], env: &Env) -> Result<Command, String> {
        parse(words.iter().map(OsString::from), env)
    }

    fn home_env() -> Env {
        Env {
            home: Some("/home/u".into()),
            ..Env::default()
        }
    }

    #[test]
    fn serve_defaults() {
        let got = parse_words(&["serve"], &home_env()).unwrap();
        assert_eq!(
            got,
            Command::Serve(Config {
                host: "127.0.0.1".into(),
                port: 2323,
                db: PathBuf::from("/home/u/.local/share/wingman/wingman.db"),
                token: None,
                insecure: false,
                max_connections: DEFAULT_MAX_CONNECTIONS,
            })
        );
    }

    #[test]
    fn serve_flags_and_env() {
        let env = Env {
            wingman_token: Some("from-env".into()),
            xdg_data_home: Some("/xdg".into()),
            home: Some("/home/u".into()),
        };
        let Command::Serve(c) = parse_words(
            &["serve", "--port=0", "--host", "0.0.0.0", "--insecure"],
            &env,
        )
        .unwrap() else {
            panic!("not serve")
        };
        assert_eq!((c.port, c.host.as_str(), c.insecure), (0, "0.0.0.0", true));
        assert_eq!(c.db, PathBuf::from("/xdg/wingman/wingman.db"));
        assert_eq!(c.token.as_deref(), Some("from-env"));
        let Command::Serve(c) = parse_words(&["serve", "--token", "flag"], &env).unwrap() else {
            panic!("not serve")
        };
        assert_eq!(c.token.as_deref(), Some("flag"));
    }

    #[test]
    fn bad_flags_are_one_line_errors() {
        let env = home_env();
        assert_eq!(
            parse_words(&["serve", "--port", "x"], &env).unwrap_err(),
            "--port must be a number from 0 to 65535, got 'x'"
        );
        assert_eq!(
            parse_words(&["serve", "--bogus"], &env).unwrap_err(),
            "invalid option '--bogus'"
        );
        assert_eq!(
            parse_words(&["launch"], &env).unwrap_err(),
            "unknown command 'launch'"
        );
        assert_eq!(parse_words(&[], &env).unwrap_err(), "missing command");
        assert!(
            parse_words(&["serve"], &Env::default())
                .unwrap_err()
                .contains("--db")
        );
    }

    #[test]
    fn help_and_version() {
        let env = Env::default();
        assert_eq!(
            parse_words(&["--version"], &env).unwrap(),
            Command::Print(format!("wingman {VERSION}"))
        );
        assert_eq!(
            parse_words(&["version"], &env).unwrap(),
            Command::Print(format!("wingman {VERSION}"))
        );
        assert_eq!(
            parse_words(&["serve", "--help"], &env).unwrap(),
            Command::Print(SERVE_HELP.into())
        );
        assert_eq!(
            parse_words(&["tool", "-h"], &env).unwrap(),
            Command::Print(TOOL_HELP.into())
        );
    }

    #[test]
    fn tool_command() {
        let got = parse_words(
            &["tool", "glob", r#"{"pattern":"*"}"#, "--work-dir", "/tmp"],
            &home_env(),
        )
        .unwrap();
        assert_eq!(
            got,
            Command::Tool {
                name: "glob".into(),
                input: r#"{"pattern":"*"}"#.into(),
                work_dir: Some(PathBuf::from("/tmp")),
            }
        );
        assert!(parse_words(&["tool"], &home_env()).is_err());
    }
}
