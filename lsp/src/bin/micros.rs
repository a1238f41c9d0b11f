use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    micros_lsp::cli::run(micros_lsp::cli::Cli::parse())
}
