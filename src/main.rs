//! The `wenji` command: parse the command line, start logging, hand over to [`wenji::cli::run`].

fn main() -> std::process::ExitCode {
    wenji::cli::main()
}
