use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!("wingman: not wired yet");
    ExitCode::from(2)
}
