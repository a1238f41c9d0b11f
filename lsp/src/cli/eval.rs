//! `micros options --eval` and `--compare`: the option set evaluated by Nix,
//! and where the static extractor differs from it.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use micros_options::model::{Literal, OptionDecl};
use micros_options::sources::{self, SourceFlags};
use micros_options::{OptionSet, extract};

use super::exit;
use super::options::{self, OptionsArgs};
use crate::nix::eval::{self, EvalRequest, NOT_EVALUABLE, Target};
use crate::nix::source_map::SourceMap;
use crate::nix::{Nix, NixError};

/// How Nix is run for `--eval` and `--compare`.
#[derive(Debug, Clone, Args)]
pub struct NixEvalArgs {
    /// Stop the evaluation after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = eval::DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Address-space limit for the evaluator, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = eval::DEFAULT_MEMORY_MIB)]
    pub memory: u64,
    /// The Nix system to evaluate for. Default: this machine's.
    #[arg(long, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// Evaluate even when a cached result exists (and do not cache).
    #[arg(long)]
    pub no_cache: bool,
}

/// What the positional argument names.
enum Positional {
    None,
    Entry(PathBuf),
    Flake {
        reference: String,
        dir: Option<PathBuf>,
    },
}

fn classify(argument: Option<&Path>) -> Result<Positional, String> {
    let Some(argument) = argument else {
        return Ok(Positional::None);
    };
    if argument.is_file() {
        let entry = argument
            .canonicalize()
            .map_err(|e| format!("{}: {e}", argument.display()))?;
        return Ok(Positional::Entry(entry));
    }
    if argument.is_dir() {
        return local_flake(argument);
    }
    let text = argument.to_string_lossy();
    // `path:/dir`, `git+file:///dir`, `github:owner/repo`, `.#x`: the
    // attribute part is ours to choose.
    let reference = text.split('#').next().unwrap_or_default();
    if let Some(path) = reference.strip_prefix("path:") {
        let dir = Path::new(path.split('?').next().unwrap_or_default());
        if dir.is_dir() {
            return local_flake(dir);
        }
    }
    if reference.is_empty() {
        return local_flake(Path::new("."));
    }
    if reference.contains(':') {
        return Ok(Positional::Flake {
            reference: reference.to_string(),
            dir: None,
        });
    }
    if Path::new(reference).is_dir() {
        return local_flake(Path::new(reference));
    }
    Err(format!(
        "{}: no such file, directory or flake reference",
        argument.display()
    ))
}

fn local_flake(dir: &Path) -> Result<Positional, String> {
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    if !dir.join("flake.nix").is_file() {
        return Err(format!("{}: no flake.nix here", dir.display()));
    }
    Ok(Positional::Flake {
        reference: dir.to_string_lossy().into_owned(),
        dir: Some(dir),
    })
}

/// The evaluation the arguments ask for: source trees when they are given
/// (flags or environment) and no flake is named; else the named flake, or
/// the one the entry module or the current directory is in.
pub fn eval_request(args: &OptionsArgs) -> Result<EvalRequest, String> {
    let flags = SourceFlags {
        micros: args.sources.micros.clone(),
        nixpkgs: args.sources.nixpkgs.clone(),
    };
    let positional = classify(args.entry.as_deref())?;
    let entry = match &positional {
        Positional::Entry(entry) => Some(entry.clone()),
        _ => None,
    };
    let sources_given = flags.micros.is_some() || sources::env_dir(sources::MICROS_ENV).is_some();
    let target = match positional {
        Positional::Flake { reference, dir } => Target::Flake { reference, dir },
        _ if sources_given => {
            let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let micros = sources::locate_micros(&flags, &start).map_err(|e| e.message)?;
            let nixpkgs = sources::locate_nixpkgs(&flags, &start).map_err(|e| {
                format!(
                    "{}\n  = note: evaluating needs the nixpkgs tree (its lib/ and the NixOS modules micros imports)",
                    e.message
                )
            })?;
            Target::Sources {
                micros: micros.dir,
                nixpkgs: nixpkgs.dir,
            }
        }
        _ => {
            let start = match &entry {
                Some(entry) => entry.parent().map(Path::to_path_buf).unwrap_or_default(),
                None => std::env::current_dir()
                    .map_err(|e| format!("cannot read the current directory: {e}"))?,
            };
            let dir = start
                .ancestors()
                .find(|d| d.join("flake.nix").is_file())
                .ok_or_else(|| {
                    format!(
                        "no flake.nix at or above {}; name a flake (`micros options --eval path/to/flake`) or the sources (--micros DIR --nixpkgs DIR, or MICROS_SRC and MICROS_NIXPKGS)",
                        start.display()
                    )
                })?;
            Target::Flake {
                reference: dir.to_string_lossy().into_owned(),
                dir: Some(dir.to_path_buf()),
            }
        }
    };
    let mut request = EvalRequest::new(target);
    request.user_root = entry.as_deref().map(options::user_root);
    request.entry = entry;
    request.timeout = Duration::from_secs(args.nix.timeout.max(1));
    request.memory_mib = args.nix.memory.max(64);
    if let Some(system) = &args.nix.system {
        request.system = system.clone();
    }
    if args.nix.no_cache {
        request.cache_dir = None;
    }
    Ok(request)
}

/// The static request matching an evaluation request.
fn static_set(request: &EvalRequest, args: &OptionsArgs, color: bool) -> Result<OptionSet, String> {
    let mut args = args.clone();
    args.entry = request.entry.clone();
    let start = match &request.target {
        Target::Sources { micros, nixpkgs } => {
            args.sources.micros = Some(micros.clone());
            args.sources.nixpkgs = Some(nixpkgs.clone());
            None
        }
        Target::Flake { dir: Some(dir), .. } => Some(dir.clone()),
        Target::Flake {
            dir: None,
            reference,
        } => {
            return Err(format!(
                "--compare needs the flake's sources on this machine; {reference} is not a local flake"
            ));
        }
    };
    let extract_request = options::build_request_from(&args, start.as_deref(), color)?;
    let extraction = extract(&extract_request);
    Ok(extraction.options)
}

fn evaluate(request: &EvalRequest) -> Result<eval::Evaluated, NixError> {
    let nix = Nix::locate()?;
    if std::io::stderr().is_terminal() {
        eprintln!(
            "evaluating the options with Nix (at most {} s)…",
            request.timeout.as_secs()
        );
    }
    eval::evaluate_options(&nix, request)
}

/// Nix's message, with the flake's store copies shown as its files.
fn nix_failure(error: &NixError, request: &EvalRequest, color: bool) {
    let mut message = format!("evaluating with Nix failed: {error}");
    if let Target::Flake { dir: Some(dir), .. } = &request.target {
        message = SourceMap::new(dir).rewrite(&message);
    }
    if message.contains("requires lock file changes") {
        message.push_str("\n  = help: run `nix flake lock` in the flake's directory first");
    }
    eprintln!("{}", options::error_line(&message, color));
}

/// `micros options --eval`: when Nix fails, the static set is printed
/// instead, with one message, and the exit status says so.
pub fn run_eval(args: &OptionsArgs, color: bool) -> u8 {
    let request = match eval_request(args) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("{}", options::error_line(&message, color));
            return exit::USAGE;
        }
    };
    match evaluate(&request) {
        Ok(evaluated) => {
            if evaluated.not_evaluable > 0 {
                eprintln!(
                    "note: {} options have a default or example that needs `pkgs`; they are shown as not evaluable",
                    evaluated.not_evaluable
                );
            }
            options::emit(&evaluated.options, args);
            exit::CLEAN
        }
        Err(error) => {
            nix_failure(&error, &request, color);
            eprintln!("note: falling back to the static extraction");
            match static_set(&request, args, color) {
                Ok(set) => {
                    options::emit(&set, args);
                    exit::FINDINGS
                }
                Err(message) => {
                    eprintln!("{}", options::error_line(&message, color));
                    exit::USAGE
                }
            }
        }
    }
}

/// `micros options --compare`.
pub fn run_compare(args: &OptionsArgs, color: bool) -> u8 {
    let request = match eval_request(args) {
        Ok(request) => request,
        Err(message) => {
            eprintln!("{}", options::error_line(&message, color));
            return exit::USAGE;
        }
    };
    let statically = match static_set(&request, args, color) {
        Ok(set) => set,
        Err(message) => {
            eprintln!("{}", options::error_line(&message, color));
            return exit::USAGE;
        }
    };
    let evaluated = match evaluate(&request) {
        Ok(evaluated) => evaluated,
        Err(error) => {
            nix_failure(&error, &request, color);
            return exit::USAGE;
        }
    };
    let comparison = compare(&statically, &evaluated.options);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(comparison.render().as_bytes())
        .and_then(|()| stdout.flush());
    if comparison.differences() == 0 {
        exit::CLEAN
    } else {
        exit::FINDINGS
    }
}

/// Where the static set and the evaluated one differ.
#[derive(Debug, Default)]
pub struct Comparison {
    pub evaluated: usize,
    pub extracted: usize,
    /// `_module.*` options of the module system, which the extractor does
    /// not list by design.
    pub module_system: usize,
    pub only_evaluated: Vec<String>,
    pub only_extracted: Vec<String>,
    /// (name, static, evaluated)
    pub types: Vec<(String, String, String)>,
    pub defaults: Vec<(String, String, String)>,
    pub examples: Vec<(String, String, String)>,
    pub compared: usize,
    /// Defaults the evaluation could not compute (any static one is right).
    pub unevaluable_defaults: usize,
}

impl Comparison {
    pub fn differences(&self) -> usize {
        self.only_evaluated.len()
            + self.only_extracted.len()
            + self.types.len()
            + self.defaults.len()
            + self.examples.len()
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} options evaluated, {} extracted statically ({} `_module.*` options of the module system are not extracted, by design)",
            self.evaluated, self.extracted, self.module_system
        );
        for name in &self.only_evaluated {
            let _ = writeln!(out, "only evaluated:  {name}");
        }
        for name in &self.only_extracted {
            let _ = writeln!(out, "only extracted:  {name}");
        }
        for (what, list) in [
            ("type", &self.types),
            ("default", &self.defaults),
            ("example", &self.examples),
        ] {
            for (name, statically, evaluated) in list {
                let _ = writeln!(out, "{what} of {name}:");
                let _ = writeln!(out, "  static:    {}", indent(statically));
                let _ = writeln!(out, "  evaluated: {}", indent(evaluated));
            }
        }
        let share = |differing: usize, of: usize| format!("{}/{of} equal", of - differing.min(of));
        let _ = writeln!(
            out,
            "summary: {} differences; names: {} only evaluated, {} only extracted; types {}; defaults {} ({} not evaluable without pkgs); examples {}",
            self.differences(),
            self.only_evaluated.len(),
            self.only_extracted.len(),
            share(self.types.len(), self.compared),
            share(
                self.defaults.len(),
                self.compared - self.unevaluable_defaults
            ),
            self.unevaluable_defaults,
            share(self.examples.len(), self.compared),
        );
        out
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n             ")
}

fn is_module_system(option: &OptionDecl) -> bool {
    option.loc.iter().any(|s| s == "_module")
}

fn shown(literal: Option<&Literal>) -> String {
    match literal {
        Some(literal) => literal.text.clone(),
        None => "(none)".into(),
    }
}

/// Compare by name, type description, default and example text.
pub fn compare(statically: &OptionSet, evaluated: &OptionSet) -> Comparison {
    let ours = statically.flatten();
    let theirs = evaluated.flatten();
    let mut comparison = Comparison {
        evaluated: theirs.len(),
        extracted: ours.len(),
        module_system: theirs.iter().filter(|o| is_module_system(o)).count(),
        ..Comparison::default()
    };
    let by_name = |set: &[OptionDecl]| -> std::collections::BTreeMap<String, OptionDecl> {
        set.iter()
            .filter(|o| !is_module_system(o))
            .map(|o| (o.name(), o.clone()))
            .collect()
    };
    let ours = by_name(&ours);
    let theirs = by_name(&theirs);
    comparison.only_evaluated = theirs
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .cloned()
        .collect();
    comparison.only_extracted = ours
        .keys()
        .filter(|k| !theirs.contains_key(*k))
        .cloned()
        .collect();
    for (name, evaluated) in &theirs {
        let Some(extracted) = ours.get(name) else {
            continue;
        };
        comparison.compared += 1;
        let (ty_static, ty_eval) = (extracted.ty.description(), evaluated.ty.description());
        if ty_static != ty_eval {
            comparison.types.push((name.clone(), ty_static, ty_eval));
        }
        let default_eval = evaluated.shown_default();
        if default_eval.is_some_and(|d| d.text == NOT_EVALUABLE) {
            comparison.unevaluable_defaults += 1;
        } else if default_eval != extracted.shown_default() {
            comparison.defaults.push((
                name.clone(),
                shown(extracted.shown_default()),
                shown(default_eval),
            ));
        }
        let example_eval = evaluated.example.as_ref();
        if example_eval.is_none_or(|e| e.text != NOT_EVALUABLE)
            && example_eval != extracted.example.as_ref()
        {
            comparison.examples.push((
                name.clone(),
                shown(extracted.example.as_ref()),
                shown(example_eval),
            ));
        }
    }
    comparison
}

#[cfg(test)]
mod tests {
    use super::*;
    use micros_options::OptionType;

    fn option(name: &str, ty: OptionType, default: Option<&str>) -> OptionDecl {
        let mut option = OptionDecl::new(name.split('.').map(String::from).collect(), ty);
        option.default = default.map(Literal::expression);
        option
    }

    fn set(options: Vec<OptionDecl>) -> OptionSet {
        OptionSet {
            options,
            migrations: Vec::new(),
        }
    }

    #[test]
    fn finds_each_kind_of_difference() {
        let statically = set(vec![
            option("a.enable", OptionType::Bool, Some("false")),
            option("b", OptionType::Str, Some("\"x\"")),
            option("c", OptionType::Package, Some("pkgs.c")),
            option("only.static", OptionType::Bool, None),
        ]);
        let mut not_evaluable = option("c", OptionType::Package, None);
        not_evaluable.default = Some(Literal::markdown(NOT_EVALUABLE));
        let evaluated = set(vec![
            option("_module.args", OptionType::Attrs, None),
            option("a.enable", OptionType::Bool, Some("false")),
            option("b", OptionType::Path, Some("\"y\"")),
            not_evaluable,
            option("only.eval", OptionType::Bool, None),
        ]);
        let comparison = compare(&statically, &evaluated);
        assert_eq!(comparison.only_evaluated, ["only.eval"]);
        assert_eq!(comparison.only_extracted, ["only.static"]);
        assert_eq!(
            comparison.types,
            [("b".into(), "string".into(), "absolute path".into())]
        );
        assert_eq!(
            comparison.defaults,
            [("b".into(), "\"x\"".into(), "\"y\"".into())]
        );
        assert_eq!(comparison.unevaluable_defaults, 1);
        assert_eq!(comparison.module_system, 1);
        assert_eq!(comparison.compared, 3);
        assert_eq!(comparison.differences(), 4);
        let text = comparison.render();
        assert!(
            text.contains("type of b:\n  static:    string\n  evaluated: absolute path\n"),
            "{text}"
        );
        assert!(text.contains("summary: 4 differences"), "{text}");
    }

    #[test]
    fn equal_sets_have_no_differences() {
        let a = set(vec![option("x", OptionType::Bool, Some("true"))]);
        let b = set(vec![option("x", OptionType::Bool, Some("true"))]);
        assert_eq!(compare(&a, &b).differences(), 0);
    }
}
