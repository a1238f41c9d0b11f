//! `micros check`: the language server's analysis over files or a whole
//! flake, for CI and pre-commit hooks.

pub mod config;
pub mod engine;
pub mod files;
pub mod output;

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use micros_options::model::RootKind;
use micros_options::sources::{self, SettingNames, SourceFlags};

use super::{SourceArgs, exit};
use crate::analysis::options::OptionIndex;
use crate::analysis::resolve::Code;
use crate::ide::Severity;
use crate::nix::eval::evaluated_index;
use config::{Policy, Project, Sources};
use output::{Finding, Report};

#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// An options.json to check against instead of extracting the options
    /// from the micros sources.
    #[arg(long, value_name = "FILE")]
    pub options: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Report CODE as an error (`warnings`: every warning). Repeatable.
    #[arg(long, value_name = "CODE")]
    pub deny: Vec<String>,
    /// Do not report CODE (`warnings`: any warning). Repeatable.
    #[arg(long, value_name = "CODE")]
    pub allow: Vec<String>,
    /// Colour the human format: auto is on a terminal, unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Evaluate the option set with Nix instead of extracting it (runs the
    /// flake's code; falls back to static extraction when Nix fails).
    #[arg(long)]
    pub eval: bool,
    /// Threads to analyse with. Default: one per core.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
    /// Check one system of the flake (a name `micros systems` lists, or
    /// its end: `container`): its modules, and its findings only.
    #[arg(long, value_name = "NAME")]
    pub system: Option<String>,
    /// Files or directories (searched for `*.nix`, honouring .gitignore).
    /// Default: the current flake's configuration modules.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-like: file:line:col, the source line, a caret, help.
    Human,
    /// `{"version": 1, "diagnostics": [...]}`.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

pub fn run(args: &CheckArgs) -> u8 {
    let stderr_color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match check(args) {
        Ok((status, failures)) => {
            for failure in failures {
                eprintln!("{}", error_line(&failure, stderr_color));
            }
            status
        }
        Err(message) => {
            eprintln!("{}", error_line(&message, stderr_color));
            exit::USAGE
        }
    }
}

fn error_line(message: &str, color: bool) -> String {
    if color {
        format!("\x1b[1;31merror\x1b[0m\x1b[1m: {message}\x1b[0m")
    } else {
        format!("error: {message}")
    }
}

/// The exit status and the files that could not be checked; `Err` for a
/// usage error, before anything was checked.
fn check(args: &CheckArgs) -> Result<(u8, Vec<String>), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    // The project is the flake around the working directory (or around the
    // first path given, when the working directory is in none).
    let root = files::flake_root(&cwd).or_else(|| {
        let first = files::absolute(&cwd, args.paths.first()?);
        files::flake_root(if first.is_dir() {
            &first
        } else {
            first.parent()?
        })
    });
    let project = match &root {
        Some(root) => config::load(root)?,
        None => Project::empty(&cwd),
    };
    let policy = Policy::new(&args.allow, &args.deny, &project.allow, &project.deny)?;
    let targets = if args.paths.is_empty() {
        let Some(root) = &root else {
            return Err(format!(
                "no PATH given, and no flake.nix in {} or above; pass the files or directories to check",
                cwd.display()
            ));
        };
        files::from_flake(root, &project)?
    } else {
        files::from_paths(&cwd, &args.paths, &project)?
    };
    let sources = Sources {
        options: args.options.as_deref().map(|p| files::absolute(&cwd, p)),
        eval: args.eval,
        ..Sources::given(&args.sources, &cwd)
    }
    .or(project.sources.clone());
    let (index, notes) = load_options(&sources, root.as_deref().unwrap_or(&cwd))?;

    // Without paths, the modules the flake's modules import are its
    // configuration too.
    let whole_flake = args.paths.is_empty();
    let report_import = |path: &Path| {
        whole_flake
            && root.as_deref().is_some_and(|r| path.starts_with(r))
            && !project.ignores(path, false)
    };
    let jobs = args
        .jobs
        .map(usize::from)
        .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
        .unwrap_or(1);
    // Given paths, the flake around them still says which systems they
    // belong to.
    let context: Vec<PathBuf> = match &root {
        Some(root) if !whole_flake => vec![root.join("flake.nix")],
        _ => Vec::new(),
    };
    // What git leaves out of the work tree around the flake (Nix copies
    // the tracked files only).
    let git = crate::analysis::git::GitState {
        trees: root
            .as_deref()
            .and_then(crate::nix::git::work_tree)
            .into_iter()
            .collect(),
    };
    if args.system.is_some() && root.is_none() {
        return Err(format!(
            "--system needs a flake: no flake.nix in {} or above",
            cwd.display()
        ));
    }
    let mut outcome = engine::analyze(
        index,
        git,
        &targets,
        &context,
        jobs,
        &report_import,
        args.system.as_deref(),
    )?;
    outcome.files.sort_by(|a, b| a.path.cmp(&b.path));

    let mut findings: Vec<Finding> = notes
        .into_iter()
        .filter_map(|message| {
            let severity = policy.apply(Code::MissingSources.as_str(), Severity::Warning)?;
            Some(Finding {
                file: None,
                start: (0, 0),
                end: (0, 0),
                range: (0, 0),
                severity,
                code: Code::MissingSources.as_str(),
                message,
                help: None,
                related: Vec::new(),
            })
        })
        .collect();
    let mut sources_read = Vec::new();
    for checked in outcome.files {
        // Excerpts are cut from a text in which passwords are masked.
        let masked = crate::ide::passwords::mask(&checked.text, &checked.diagnostics);
        findings.extend(file_findings(&checked, &policy, &masked));
        sources_read.push((checked.path, masked.text));
    }

    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let report = Report {
        findings: &findings,
        sources: &sources_read,
        cwd: &cwd,
        color: color && args.format == Format::Human,
    };
    let text = match args.format {
        Format::Human => report.human(),
        Format::Json => report.json(),
        Format::Sarif => report.sarif(),
        Format::Github => report.github(),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not worth a second error.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if args.format != Format::Human {
        // The machine formats keep stdout to themselves.
        eprintln!("{}", report.summary());
    }
    let status = if !outcome.failures.is_empty() {
        exit::USAGE
    } else if report.errors() > 0 {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    Ok((status, outcome.failures))
}

/// The file's diagnostics as reported: the policy decides each code, and a
/// `# micros-check: allow(code)` comment on the line before drops it.
fn file_findings(
    checked: &engine::Checked,
    policy: &Policy,
    masked: &crate::ide::passwords::Masked,
) -> Vec<Finding> {
    let index = LineIndex::new(&checked.text);
    let lines: Vec<&str> = checked.text.lines().collect();
    let mut out = Vec::new();
    for d in &checked.diagnostics {
        let code = d.code.as_str();
        let Some(severity) = policy.apply(code, d.severity) else {
            continue;
        };
        let start = index.position(d.range.start().into());
        let end = index.position(d.range.end().into());
        let suppressed = (start.0 as usize)
            .checked_sub(2)
            .and_then(|above| lines.get(above))
            .and_then(|line| config::suppressed_codes(line))
            .is_some_and(|mut codes| codes.any(|c| c == code));
        if suppressed {
            continue;
        }
        out.push(Finding {
            file: Some(checked.path.clone()),
            start,
            end,
            range: (
                masked.offset(d.range.start().into()),
                masked.offset(d.range.end().into()),
            ),
            severity,
            code,
            message: d.message.clone(),
            help: d.help.clone(),
            related: d
                .related
                .iter()
                .map(|r| output::RelatedFinding {
                    file: r.path.clone(),
                    start: (r.start.line + 1, r.start.chars + 1),
                    end: (r.end.line + 1, r.end.chars + 1),
                    message: r.message.clone(),
                })
                .collect(),
        });
    }
    out
}

/// 1-based lines and columns (in characters) of byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn position(&self, offset: u32) -> (u32, u32) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }
}

/// The option index the sources point at, and the notes (`missing-sources`)
/// for what could not be found. Sources given explicitly (flag, micros.toml,
/// environment) that do not work are usage errors; sources that were only
/// looked for leave the check to syntax and names, as in the editor.
pub fn load_options(sources: &Sources, root: &Path) -> Result<(OptionIndex, Vec<String>), String> {
    let mut notes = Vec::new();
    if let Some(path) = &sources.options {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the options: {e}", path.display()))?;
        let set = micros_options::json::from_json(&text)
            .map_err(|e| format!("{}: not an options.json: {e}", path.display()))?;
        let mut index = OptionIndex::new(Arc::new(set), true);
        if let Some(micros) = &sources.micros {
            index.roots.push((RootKind::Micros, micros.clone()));
        }
        return Ok((index, notes));
    }
    let flags = SourceFlags {
        micros: sources.micros.clone(),
        nixpkgs: sources.nixpkgs.clone(),
    };
    if sources.eval {
        match evaluated_index(
            &flags,
            root,
            Some(root),
            SettingNames::CommandLine,
            crate::nix::eval::DEFAULT_TIMEOUT,
        ) {
            Ok((index, _)) => return Ok((index, notes)),
            // Asked for, but not possible here: say so once and check
            // against the static set.
            Err(error) => eprintln!(
                "warning: evaluating the options with Nix failed: {error}; checking against the options extracted without Nix"
            ),
        }
    }
    let explicit =
        |flag: &Option<PathBuf>, env: &str| flag.is_some() || sources::env_dir(env).is_some();
    let micros = match sources::locate_micros(&flags, root) {
        Ok(located) => located.dir,
        Err(error) if explicit(&sources.micros, sources::MICROS_ENV) => {
            return Err(error.message);
        }
        Err(error) => {
            notes.push(format!(
                "{}; options are not checked, only syntax and names",
                error.message
            ));
            return Ok((OptionIndex::default(), notes));
        }
    };
    let nixpkgs = match sources::locate_nixpkgs(&flags, root) {
        Ok(located) => Some(located.dir),
        Err(error) if explicit(&sources.nixpkgs, sources::NIXPKGS_ENV) => {
            return Err(error.message);
        }
        Err(error) => {
            notes.push(format!(
                "{}; definitions under the options of the nixpkgs modules micros imports (boot.kernel*, environment.etc, nixpkgs.*, ...) are not checked",
                error.message
            ));
            None
        }
    };
    let request = sources::micros_request(&micros, nixpkgs.as_deref())?;
    let extraction = micros_options::extract(&request);
    let index =
        crate::analysis::systems::base::static_index(extraction, &micros, nixpkgs.as_deref());
    Ok((index, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let index = LineIndex::new("ab\n\u{e9}x = 1;\n");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(3), (2, 1));
        // After the two-byte `é`: the second character.
        assert_eq!(index.position(5), (2, 2));
        assert_eq!(index.position(100), (3, 1));
    }
}
