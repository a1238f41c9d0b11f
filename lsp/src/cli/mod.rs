//! The `micros` command line.

pub mod build;
pub mod check;
pub mod eval;
pub mod fetch;
pub mod init;
pub mod options;
pub mod systems;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// The MicrOS toolchain: options, checks and builds for MicrOS configurations.
#[derive(Debug, Parser)]
#[command(name = "micros", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every option MicrOS declares (and the ones your modules declare),
    /// extracted statically from the sources without running Nix.
    Options(options::OptionsArgs),
    /// List the images the flake builds (each `microsSystem` call): name,
    /// what it builds, platform, container or not, modules.
    Systems(systems::SystemsArgs),
    /// Check configuration files with the language server's analysis (for
    /// CI and pre-commit hooks).
    Check(check::CheckArgs),
    /// Build the image (`packages.<system>.default`, or `.container`) of a
    /// flake with Nix, showing progress; Nix's remote builders pass through.
    Build(build::BuildArgs),
    /// Download the micros and nixpkgs sources a flake.lock pins, keeping
    /// them only when they match its narHash (for machines without Nix; the
    /// only command that uses the network). Prints MICROS_SRC=... lines.
    FetchSources(fetch::FetchArgs),
    /// Write a new MicrOS configuration (flake.nix, configuration.nix,
    /// hardware-configuration.nix) into DIR, offline; never overwrites.
    Init(init::InitArgs),
    /// Run the language server on stdin/stdout (the same as `micros-lsp`).
    Lsp,
}

/// Where the micros and nixpkgs sources are.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// The micros source tree (a checkout of snugnug/micros). Default:
    /// $MICROS_SRC, then the `micros` input of the nearest flake.lock.
    #[arg(long, value_name = "DIR")]
    pub micros: Option<PathBuf>,
    /// The nixpkgs tree whose modules micros imports. Default:
    /// $MICROS_NIXPKGS, then the nixpkgs input of the nearest flake.lock.
    #[arg(long, value_name = "DIR")]
    pub nixpkgs: Option<PathBuf>,
}

/// Exit statuses shared by every subcommand.
pub mod exit {
    /// Nothing to report.
    pub const CLEAN: u8 = 0;
    /// Findings (errors in the sources).
    pub const FINDINGS: u8 = 1;
    /// Bad usage, or a file or source that could not be read.
    pub const USAGE: u8 = 2;
}

pub fn run(cli: Cli) -> ExitCode {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let status = match cli.command {
        Command::Options(args) => options::run(&args, color),
        Command::Check(args) => check::run(&args),
        Command::Systems(args) => systems::run(&args, color),
        Command::Build(args) => build::run(&args, color),
        Command::FetchSources(args) => fetch::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Lsp => return crate::server::main(),
    };
    ExitCode::from(status)
}
