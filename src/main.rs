//! The `wenji` command: parse the command line, start logging, hand over to [`wenji::cli::run`].

/// mimalloc rather than the system allocator: request handling allocates and frees many small buffers
/// from several threads at once, where glibc's malloc spent about 15% of the server's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wenji::cli::main()
}
