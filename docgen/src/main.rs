//! `micros-docgen`: the MicrOS options reference as an mdbook site and a
//! manual page.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use micros_docgen::reference::{self, Settings};
use micros_docgen::{book, load, man};
use micros_options::{Diagnostic, Severity, report};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit statuses, as the `micros` command uses them.
const CLEAN: u8 = 0;
const FINDINGS: u8 = 1;
const USAGE: u8 = 2;

/// Render the MicrOS options reference: markdown pages in an mdbook (one
/// per top-level option group, and an index), the HTML site, and a
/// configuration.nix(5) manual page.
#[derive(Debug, Parser)]
#[command(name = "micros-docgen", version)]
struct Cli {
    /// The micros source tree. Default: $MICROS_SRC, then the `micros` input
    /// of the nearest flake.lock. With --options, only used to link
    /// declarations to local files.
    #[arg(long, value_name = "DIR")]
    micros: Option<PathBuf>,
    /// The nixpkgs tree whose modules micros imports. Default:
    /// $MICROS_NIXPKGS, then the nixpkgs input of the nearest flake.lock.
    #[arg(long, value_name = "DIR")]
    nixpkgs: Option<PathBuf>,
    /// Read the options from this options.json (nixpkgs' schema) instead of
    /// extracting them from the sources.
    #[arg(long, value_name = "FILE")]
    options: Option<PathBuf>,
    /// The mdbook to write the reference into (as <src>/options/); its
    /// SUMMARY.md should list `options/index.md`. Without it, a book of the
    /// reference alone is built.
    #[arg(long, value_name = "DIR")]
    book: Option<PathBuf>,
    /// Where the HTML goes. Default: the book's build directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Link declarations to this URL plus the declaration's path and line,
    /// e.g. https://github.com/snugnug/micros/blob/main
    #[arg(long, value_name = "URL")]
    repo_url: Option<String>,
    /// The same for declarations in nixpkgs, e.g.
    /// https://github.com/NixOS/nixpkgs/blob/nixos-unstable
    #[arg(long, value_name = "URL")]
    nixpkgs_url: Option<String>,
    /// The title of the options index page (and of a book of the reference alone).
    #[arg(long, value_name = "T", default_value = "MicrOS options")]
    title: String,
    /// Also write a configuration.nix(5)-style manual page (roff) here.
    #[arg(long, value_name = "FILE")]
    man: Option<PathBuf>,
    /// Write the markdown pages but do not build HTML.
    #[arg(long, requires = "book")]
    markdown_only: bool,
    /// Treat {option} references that name no documented option as errors.
    #[arg(long)]
    strict: bool,
    /// No progress messages.
    #[arg(long, short)]
    quiet: bool,
}

struct Progress {
    quiet: bool,
    start: Instant,
}

impl Progress {
    fn say(&self, message: &str) {
        if !self.quiet {
            eprintln!("[{:>6.2}s] {message}", self.start.elapsed().as_secs_f64());
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match run(&cli, color) {
        Ok(status) => ExitCode::from(status),
        Err(message) => {
            if color {
                eprintln!("\x1b[1;31merror\x1b[0m\x1b[1m: {message}\x1b[0m");
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(USAGE)
        }
    }
}

fn run(cli: &Cli, color: bool) -> Result<u8, String> {
    if cli.book.is_none() && cli.out.is_none() && cli.man.is_none() {
        return Err("nothing to do: give --out DIR (an HTML site), --book DIR (write into a book) or --man FILE".into());
    }
    let progress = Progress {
        quiet: cli.quiet,
        start: Instant::now(),
    };
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;

    // The options.
    let loaded = match &cli.options {
        Some(path) => {
            progress.say(&format!("reading {}", path.display()));
            load::Loaded {
                set: load::from_options_json(path)?,
                micros_dir: cli.micros.clone(),
                nixpkgs_dir: cli.nixpkgs.clone(),
                ..Default::default()
            }
        }
        None => {
            progress.say("extracting the options from the sources");
            load::from_sources(cli.micros.clone(), cli.nixpkgs.clone(), &cwd)?
        }
    };
    for note in &loaded.notes {
        print_warning(note, color);
    }
    let mut diagnostics: Vec<Diagnostic> = loaded.diagnostics.clone();

    let settings = Settings {
        title: cli.title.clone(),
        repo_url: cli.repo_url.clone(),
        nixpkgs_url: cli.nixpkgs_url.clone(),
        micros_dir: loaded.micros_dir.clone(),
        nixpkgs_dir: loaded.nixpkgs_dir.clone(),
        user_dir: None,
        strict: cli.strict,
    };
    progress.say(&format!(
        "rendering the options on {} threads",
        rayon::current_num_threads()
    ));
    let reference = reference::render(&loaded.set, &settings);
    if reference.options == 0 {
        print_warning(
            "the option set documents no options (all are missing, internal or hidden)",
            color,
        );
    }
    diagnostics.extend(reference.diagnostics.iter().cloned());
    print_diagnostics(&diagnostics, color);

    if cli.book.is_some() || cli.out.is_some() {
        let standalone = cli.book.is_none();
        let root = match &cli.book {
            Some(book) => book.clone(),
            None => {
                let dir =
                    std::env::temp_dir().join(format!("micros-docgen-{}", std::process::id()));
                book::create_standalone(&dir, &cli.title)?;
                dir
            }
        };
        let result = write_and_build(cli, &root, &reference, &progress);
        if standalone {
            let _ = std::fs::remove_dir_all(&root);
        }
        result?;
    }

    // After the book: mdbook empties its output directory, which may hold
    // the page.
    if let Some(path) = &cli.man {
        std::fs::write(path, man::render(&loaded.set, "MicrOS"))
            .map_err(|e| format!("{}: cannot write the manual page: {e}", path.display()))?;
        progress.say(&format!("wrote the manual page {}", path.display()));
    }

    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    progress.say(&format!(
        "done: {} options on {} pages; {errors} errors, {warnings} warnings",
        reference.options,
        reference.groups.len() + 1
    ));
    Ok(if errors > 0 { FINDINGS } else { CLEAN })
}

fn write_and_build(
    cli: &Cli,
    root: &Path,
    reference: &reference::Reference,
    progress: &Progress,
) -> Result<(), String> {
    let src = book_src(root)?;
    book::write_pages(&src, reference)?;
    progress.say(&format!(
        "wrote {} pages to {}",
        reference.groups.len() + 1,
        src.join(book::OPTIONS_DIR).display()
    ));
    if cli.markdown_only {
        return Ok(());
    }
    progress.say("building the HTML with mdbook");
    let html = book::build(root, cli.out.as_deref(), reference)?;
    progress.say(&format!("the site is in {}", html.display()));
    Ok(())
}

/// The book's source directory, as its book.toml names it.
fn book_src(root: &Path) -> Result<PathBuf, String> {
    if !root.join("book.toml").is_file() && !root.join("src").join("SUMMARY.md").is_file() {
        return Err(format!(
            "{}: not an mdbook (no book.toml or src/SUMMARY.md)",
            root.display()
        ));
    }
    let config = mdbook_driver::config::Config::from_disk(root.join("book.toml"))
        .map_err(|e| format!("{}: {e:#}", root.join("book.toml").display()));
    let src = match config {
        Ok(config) => config.book.src,
        Err(_) if !root.join("book.toml").exists() => PathBuf::from("src"),
        Err(e) => return Err(e),
    };
    Ok(root.join(src))
}

fn print_warning(message: &str, color: bool) {
    if color {
        eprintln!("\x1b[1;33mwarning\x1b[0m\x1b[1m: {message}\x1b[0m");
    } else {
        eprintln!("warning: {message}");
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic], color: bool) {
    let mut sources: std::collections::HashMap<PathBuf, Option<String>> = Default::default();
    for diagnostic in diagnostics {
        let source = sources
            .entry(diagnostic.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&diagnostic.file).ok());
        // A blank line after each, as rustc does.
        eprintln!("{}", report::render(diagnostic, source.as_deref(), color));
    }
}
