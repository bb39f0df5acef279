//! `wingman`: parse the command line, then serve or run one tool.
//! Errors are printed here, once; the process exit code says how it went.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use wingman::cancel::Cancel;
use wingman::cli::{self, Command, Env};
use wingman::tools::{self, ToolCtx};

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args_os().skip(1), &Env::from_process()) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("wingman: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Print(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Command::Serve(config) => match wingman::server::run(config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("wingman: {message}");
                ExitCode::FAILURE
            }
        },
        Command::Tool {
            name,
            input,
            work_dir,
        } => run_tool(&name, &input, work_dir),
    }
}

fn run_tool(name: &str, input: &str, work_dir: Option<PathBuf>) -> ExitCode {
    let input: serde_json::Value = match serde_json::from_str(input) {
        Ok(value) => value,
        Err(e) => {
            eprintln!("wingman: the tool input is not valid JSON: {e}");
            return ExitCode::from(2);
        }
    };
    let work_dir = match work_dir.map_or_else(std::env::current_dir, std::path::absolute) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("wingman: cannot resolve the work dir: {e}");
            return ExitCode::from(2);
        }
    };
    let cancel = Cancel::new();
    let output = tools::run(
        name,
        &input,
        &ToolCtx {
            work_dir: Some(&work_dir),
            cancel: &cancel,
        },
    );
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", output.content);
    if output.is_error {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
