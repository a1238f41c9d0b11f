//! `micros-docgen`: the MicrOS options reference as an mdbook site and a
//! manual page.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use micros_docgen::reference::{self, Settings};
use micros_docgen::{book, load, man, pages, repo};
use micros_options::{Diagnostic, Severity, report};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's option numbers the bindings do not name, placed by the ones
// beside them in `mi_option_e`: `verbose`, `eager_commit`,
// `arena_eager_commit`; `purge_delay`, `use_numa_nodes`.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t =
    libmimalloc_sys::mi_option_verbose + 2;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t =
    libmimalloc_sys::mi_option_use_numa_nodes - 1;

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
    /// of the nearest flake.lock. With --options, only used to find the git
    /// checkout whose remote and commit declarations link to.
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
    /// SUMMARY.md should list `options/index.md`. Without it (and without
    /// --pages), a book of the reference alone is built.
    #[arg(long, value_name = "DIR", conflicts_with = "pages")]
    book: Option<PathBuf>,
    /// A folder of markdown pages (index.md first; a folder beside a page of
    /// the same name holds its subpages): one site of the pages and the
    /// options reference, with one search. Needs --out.
    #[arg(long, value_name = "DIR", requires = "out")]
    pages: Option<PathBuf>,
    /// Where the HTML goes. Default: the book's build directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Link declarations to this URL plus the declaration's path and line,
    /// e.g. https://github.com/snugnug/micros/blob/<commit>. Default: the
    /// remote and checked-out commit of a git checkout of micros, or the
    /// revision its flake.lock pins; otherwise declarations are plain text.
    #[arg(long, value_name = "URL")]
    repo_url: Option<String>,
    /// The same for declarations in nixpkgs, e.g.
    /// https://github.com/NixOS/nixpkgs/blob/nixos-unstable
    #[arg(long, value_name = "URL")]
    nixpkgs_url: Option<String>,
    /// The title of the options index page and of a book of the reference
    /// alone (default "MicrOS options"); with --pages, the site's title
    /// (default: the first heading of index.md).
    #[arg(long, value_name = "T")]
    title: Option<String>,
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
    // Memory the job no longer uses goes back to the system at once, and
    // is not committed before it is used: docgen's phases each free most
    // of what the one before allocated, and peak memory is what a CI
    // runner pays for (half the peak at 20,000 options; see the benchmark).
    // SAFETY: setting options is allowed at any time; these two only change
    // when memory is committed and released.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
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
    let mut loaded = match &cli.options {
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

    let site = cli.pages.as_deref().map(pages::discover).transpose()?;
    let site_title = match (&cli.title, &site) {
        (Some(title), _) => title.clone(),
        (None, Some(site)) => site
            .pages
            .iter()
            .find(|p| p.rel == "index.md")
            .map(|p| p.title.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "Documentation".into()),
        (None, None) => "MicrOS options".into(),
    };
    let building_html = cli.book.is_some() || cli.out.is_some();
    for (flag, url) in [
        ("--repo-url", &cli.repo_url),
        ("--nixpkgs-url", &cli.nixpkgs_url),
    ] {
        if let Some(url) = url {
            web_url(flag, url)?;
        }
    }
    let repo_url = source_url(
        cli.repo_url.as_ref(),
        loaded.micros_dir.as_deref(),
        loaded.micros_provenance.as_ref(),
    );
    let nixpkgs_url = source_url(
        cli.nixpkgs_url.as_ref(),
        loaded.nixpkgs_dir.as_deref(),
        loaded.nixpkgs_provenance.as_ref(),
    );
    if building_html {
        for (what, flag, url) in [
            ("micros", "--repo-url", &repo_url),
            ("nixpkgs", "--nixpkgs-url", &nixpkgs_url),
        ] {
            if let Err(why) = url
                && (what == "micros" || loaded.nixpkgs_dir.is_some())
            {
                progress.say(&format!(
                    "declarations in {what} are plain text: {why} (give {flag} to link them)"
                ));
            }
        }
    }
    let settings = Settings {
        title: if site.is_some() {
            "Options".into()
        } else {
            site_title.clone()
        },
        repo_url: repo_url.ok(),
        nixpkgs_url: nixpkgs_url.ok(),
        micros_dir: loaded.micros_dir.clone(),
        nixpkgs_dir: loaded.nixpkgs_dir.clone(),
        user_dir: None,
        strict: cli.strict,
    };
    // Where the site's book is: the user's (--book), or a scratch book (the
    // reference alone, or the pages) removed afterwards.
    let scratch =
        Scratch(std::env::temp_dir().join(format!("micros-docgen-{}", std::process::id())));
    let root = match (&cli.book, building_html) {
        (Some(book), _) => Some(book.clone()),
        (None, true) => {
            let _ = std::fs::remove_dir_all(&scratch.0);
            if site.is_none() {
                book::create_standalone(&scratch.0, &site_title)?;
            }
            Some(scratch.0.clone())
        }
        (None, false) => None,
    };
    let options_dir = match (&root, &site, &cli.book) {
        (Some(book), None, Some(_)) => Some(book_src(book)?.join(book::OPTIONS_DIR)),
        (Some(root), _, _) => Some(root.join("src").join(book::OPTIONS_DIR)),
        (None, _, _) => None,
    };
    progress.say(&format!(
        "rendering the options on {} threads",
        rayon::current_num_threads()
    ));
    let mut reference = match &options_dir {
        Some(dir) => reference::render_to(&loaded.set, &settings, dir)?,
        None => reference::render(&loaded.set, &settings),
    };
    // The set is not needed after this (the manual page is made now and
    // written after the site, which would delete it): the site's largest
    // phase runs without it.
    let man_page = cli.man.as_ref().map(|_| man::render(&loaded.set, "MicrOS"));
    drop(std::mem::take(&mut loaded.set));
    if reference.options == 0 {
        print_warning(
            "the option set documents no options (all are missing, internal or hidden)",
            color,
        );
    }
    diagnostics.extend(reference.diagnostics.iter().cloned());
    let rendered_pages = site
        .as_ref()
        .map(|site| pages::render(site, &reference, cli.strict));
    if let Some(rendered) = &rendered_pages {
        diagnostics.extend(rendered.diagnostics.iter().cloned());
    }
    print_diagnostics(&diagnostics, color);

    match (&root, &site, &rendered_pages) {
        (Some(root), Some(site), Some(rendered)) => {
            pages::write_book(root, site, rendered, &reference, &site_title)?;
            progress.say(&format!(
                "building the site of {} pages and the options with mdbook",
                site.pages.len()
            ));
            let html = book::build(root, cli.out.as_deref(), &mut reference)?;
            progress.say(&format!("the site is in {}", html.display()));
        }
        (Some(root), _, _) => write_and_build(cli, root, &mut reference, &progress)?,
        (None, _, _) => {}
    }
    drop(scratch);

    // After the book: mdbook empties its output directory, which may hold
    // the page.
    if let (Some(path), Some(page)) = (&cli.man, man_page) {
        std::fs::write(path, page)
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

/// A scratch directory, removed when dropped (also on errors).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_and_build(
    cli: &Cli,
    root: &Path,
    reference: &mut reference::Reference,
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

/// A URL given for declarations must be a web page: the site is published,
/// and a `file://` link (or any other scheme) would point at a machine
/// nobody else sees.
fn web_url(flag: &str, url: &str) -> Result<(), String> {
    let web = ["https://", "http://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
            && url.len() > scheme.len()
    });
    if web {
        Ok(())
    } else {
        Err(format!(
            "{flag} `{url}`: expected an http(s) URL of the sources at a revision, e.g. https://github.com/snugnug/micros/blob/<commit>; a published site does not link to local files"
        ))
    }
}

/// Where declarations link to: the flag, else the checkout's remote at its
/// commit, else the revision the flake.lock pins.
fn source_url(
    flag: Option<&String>,
    dir: Option<&Path>,
    provenance: Option<&micros_options::sources::Provenance>,
) -> Result<String, String> {
    if let Some(url) = flag {
        return Ok(url.clone());
    }
    if let Some(micros_options::sources::Provenance::FlakeLock { lock, input }) = provenance {
        return repo::locked_url(lock, input);
    }
    match dir {
        Some(dir) => repo::browse_url(dir),
        None => Err("the source tree is not known".into()),
    }
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
