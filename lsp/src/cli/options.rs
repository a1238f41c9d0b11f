//! `micros options`: the option set, extracted statically.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use micros_options::model::{LiteralKind, OptionDecl, RootKind};
use micros_options::sources::{self, SourceFlags};
use micros_options::{
    Diagnostic, ExtractRequest, ModuleSource, Root, Severity, extract, json, report,
};

use super::eval::NixEvalArgs;
use super::{SourceArgs, exit};

#[derive(Debug, Clone, Args)]
pub struct OptionsArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Include internal options (hidden from documentation).
    #[arg(long)]
    pub include_internal: bool,
    /// Evaluate the options with Nix instead (exact, but runs the flake's
    /// code); falls back to the static set when Nix fails.
    #[arg(long, conflicts_with = "compare")]
    pub eval: bool,
    /// Extract and evaluate, and print where the static extractor differs
    /// from Nix (names, types, defaults, examples).
    #[arg(long)]
    pub compare: bool,
    #[command(flatten)]
    pub nix: NixEvalArgs,
    /// Your configuration's entry module (e.g. configuration.nix): the
    /// options your own modules declare are added. With --eval or
    /// --compare, a flake (directory or reference) may be named instead.
    #[arg(value_name = "ENTRY.nix|FLAKE")]
    pub entry: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// options.json in the nixpkgs schema.
    Json,
    /// One option per line: name, type, default.
    List,
    /// The option tree.
    Tree,
}

pub fn run(args: &OptionsArgs, color: bool) -> u8 {
    if args.compare {
        return super::eval::run_compare(args, color);
    }
    if args.eval {
        return super::eval::run_eval(args, color);
    }
    let request = match build_request(args, color) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("{}", error_line(&message, color));
            return exit::USAGE;
        }
    };
    let extraction = extract(&request);
    report_diagnostics(&extraction.diagnostics, color);
    emit(&extraction.options, args);
    if extraction
        .diagnostics
        .iter()
        .any(|d| d.severity == Severity::Error)
    {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

/// Print the set in the format asked for.
pub fn emit(options: &micros_options::OptionSet, args: &OptionsArgs) {
    let text = match args.format {
        Format::Json => json::to_json(options, args.include_internal),
        Format::List => list(&visible(&options.flatten(), args.include_internal)),
        Format::Tree => tree(&visible(&options.flatten(), args.include_internal)),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}

pub fn error_line(message: &str, color: bool) -> String {
    if color {
        format!("\x1b[1;31merror\x1b[0m\x1b[1m: {message}\x1b[0m")
    } else {
        format!("error: {message}")
    }
}

/// Sources and modules for the extraction: micros (required), nixpkgs
/// (optional, with a warning), the user's entry module (optional).
pub fn build_request(args: &OptionsArgs, color: bool) -> Result<ExtractRequest, String> {
    build_request_from(args, None, color)
}

/// [`build_request`], looking for flake.lock from `start` (default: the
/// entry module's directory, or the current one).
pub fn build_request_from(
    args: &OptionsArgs,
    start: Option<&Path>,
    color: bool,
) -> Result<ExtractRequest, String> {
    let flags = SourceFlags {
        micros: args.sources.micros.clone(),
        nixpkgs: args.sources.nixpkgs.clone(),
    };
    let start = match (start, &args.entry) {
        (Some(start), _) => start.to_path_buf(),
        (None, Some(entry)) => entry.parent().map(Path::to_path_buf).unwrap_or_default(),
        (None, None) => std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?,
    };
    let start = if start.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        start
    };
    let micros = sources::locate_micros(&flags, &start).map_err(|e| e.message)?;
    let nixpkgs = match sources::locate_nixpkgs(&flags, &start) {
        Ok(located) => Some(located.dir),
        Err(error) => {
            let warning = format!(
                "{}\n  = note: options declared by the nixpkgs modules micros imports (boot.kernel*, environment.etc, nixpkgs.*, assertions, ...) are left out",
                error.message
            );
            if color {
                eprintln!("\x1b[1;33mwarning\x1b[0m\x1b[1m: {warning}\x1b[0m");
            } else {
                eprintln!("warning: {warning}");
            }
            None
        }
    };
    let mut request = sources::micros_request(&micros.dir, nixpkgs.as_deref())?;
    if let Some(entry) = &args.entry {
        if !entry.is_file() {
            return Err(format!("{}: no such file", entry.display()));
        }
        let entry = entry
            .canonicalize()
            .map_err(|e| format!("{}: {e}", entry.display()))?;
        let root = user_root(&entry);
        request.roots.push(Root {
            kind: RootKind::User,
            dir: root,
        });
        request.modules.push(ModuleSource::File(entry));
    }
    Ok(request)
}

/// The user's modules live under their flake (the nearest directory with a
/// flake.nix), or beside the entry module.
pub fn user_root(entry: &Path) -> PathBuf {
    let dir = entry.parent().unwrap_or(Path::new("/"));
    dir.ancestors()
        .find(|d| d.join("flake.nix").is_file())
        .unwrap_or(dir)
        .to_path_buf()
}

pub fn report_diagnostics(diagnostics: &[Diagnostic], color: bool) {
    let mut sources: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let source = sources
            .entry(diagnostic.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&diagnostic.file).ok());
        let _ = writeln!(
            stderr,
            "{}",
            report::render(diagnostic, source.as_deref(), color)
        );
    }
}

fn visible(options: &[OptionDecl], include_internal: bool) -> Vec<OptionDecl> {
    options
        .iter()
        .filter(|o| include_internal || !o.internal)
        .cloned()
        .collect()
}

/// A default short enough for one line, or nothing.
fn one_line_default(option: &OptionDecl) -> Option<String> {
    let default = option.shown_default()?;
    if default.text.contains('\n') || default.text.len() > 60 {
        return None;
    }
    Some(match default.kind {
        LiteralKind::Expression => default.text.clone(),
        LiteralKind::Markdown => format!("({})", default.text),
    })
}

pub fn list(options: &[OptionDecl]) -> String {
    let mut out = String::new();
    for option in options {
        out.push_str(&option.name());
        out.push_str(": ");
        out.push_str(&option.ty.description());
        if let Some(default) = one_line_default(option) {
            out.push_str(" = ");
            out.push_str(&default);
        }
        out.push('\n');
    }
    out
}

#[derive(Default)]
struct Node {
    option: Option<String>,
    children: BTreeMap<String, Node>,
}

pub fn tree(options: &[OptionDecl]) -> String {
    let mut root = Node::default();
    for option in options {
        let mut node = &mut root;
        for segment in &option.loc {
            node = node.children.entry(segment.clone()).or_default();
        }
        let mut summary = option.ty.description();
        if let Some(default) = one_line_default(option) {
            summary.push_str(" = ");
            summary.push_str(&default);
        }
        node.option = Some(summary);
    }
    let mut out = String::new();
    write_children(&root, "", &mut out);
    out
}

fn write_children(node: &Node, prefix: &str, out: &mut String) {
    let count = node.children.len();
    for (i, (name, child)) in node.children.iter().enumerate() {
        let last = i + 1 == count;
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&micros_options::model::show_option(std::slice::from_ref(
            name,
        )));
        if let Some(summary) = &child.option {
            out.push_str(": ");
            out.push_str(summary);
        }
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        write_children(child, &deeper, out);
    }
}
