use clap::Parser;

fn main() -> std::process::ExitCode {
    micros_lsp::cli::run(micros_lsp::cli::Cli::parse())
}
