//! `micros systems`: the images a flake builds, as the checker reads them
//! from `flake.nix` (never evaluated): each system's name, what it builds,
//! its platform, whether it is a container, and its modules.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::check::{config, engine, files, load_options};
use super::{SourceArgs, exit};
use crate::analysis::db::{Db, File};
use crate::analysis::systems::{self, ModuleEntry, TextPosition, analysis::Facts};

#[derive(Debug, Clone, Args)]
pub struct SystemsArgs {
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SystemsFormat::Human)]
    pub format: SystemsFormat,
    /// The flake's directory. Default: the flake around the current
    /// directory.
    #[arg(value_name = "DIR")]
    pub flake: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SystemsFormat {
    Human,
    /// `{"version": 1, "systems": [...]}`.
    Json,
}

pub fn run(args: &SystemsArgs, color: bool) -> u8 {
    match list(args) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not worth a second error.
            let _ = stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush());
            exit::CLEAN
        }
        Err(message) => {
            eprintln!("{}", super::options::error_line(&message, color));
            exit::USAGE
        }
    }
}

/// One module of a system, as listed.
struct Listed {
    path: PathBuf,
    /// 1-based line of an inline module in flake.nix.
    inline_line: Option<u32>,
    /// Reached through another module's `imports`.
    imported: bool,
    /// Named, but not there.
    missing: bool,
}

struct Described {
    name: String,
    output: Option<String>,
    facts: Facts,
    special_args: Option<Vec<String>>,
    complete: bool,
    modules: Vec<Listed>,
}

fn list(args: &SystemsArgs) -> Result<String, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let start = match &args.flake {
        Some(dir) => files::absolute(&cwd, dir),
        None => cwd.clone(),
    };
    let root = match &args.flake {
        Some(_) if start.join("flake.nix").is_file() => start.clone(),
        Some(_) => return Err(format!("{}: no flake.nix here", start.display())),
        None => files::flake_root(&start).ok_or_else(|| {
            format!(
                "no flake.nix in {} or above; give the flake's directory",
                start.display()
            )
        })?,
    };
    let project = config::load(&root)?;
    let sources = config::Sources::given(&args.sources, &cwd).or(project.sources.clone());
    // Without the sources, what micros's options default to is unknown;
    // the systems are still listed.
    let (index, notes) = load_options(&sources, &root)?;
    for note in notes {
        eprintln!("note: {note}");
    }
    let flake_path = root.join("flake.nix");
    let loaded = engine::load(
        index,
        Default::default(),
        std::slice::from_ref(&flake_path),
        &[],
        1,
        &|_| false,
    );
    if let Some(failure) = loaded.outcome.failures.first() {
        return Err(failure.clone());
    }
    let db = &loaded.db;
    let flake = *loaded
        .reported
        .first()
        .ok_or_else(|| format!("{}: cannot read", flake_path.display()))?;
    let model = systems::flake_model(db, flake);
    if let Some((_, message)) = &model.unsupported {
        eprintln!("warning: {message}");
    }
    let described = describe(db, flake);
    Ok(match args.format {
        SystemsFormat::Human => human(&described, &root),
        SystemsFormat::Json => json_text(&described, &root),
    })
}

fn describe(db: &dyn Db, flake: File) -> Vec<Described> {
    let model = systems::flake_model(db, flake);
    let members = systems::system_modules(db, flake);
    let facts = systems::analysis::system_facts(db, flake);
    let text = flake.text(db);
    let mut out = Vec::new();
    for (index, system) in model.systems.iter().enumerate() {
        let reached = &members[index];
        let mut modules = Vec::new();
        for (entry_index, entry) in system.modules.iter().enumerate() {
            match entry {
                ModuleEntry::Inline { range, .. } => modules.push(Listed {
                    path: flake.path(db).clone(),
                    inline_line: Some(TextPosition::of(text, range.start()).line + 1),
                    imported: false,
                    missing: false,
                }),
                ModuleEntry::File { path, .. } => {
                    let direct = reached.files.iter().find(|(file, i)| {
                        *i == entry_index
                            && (file.path(db) == path || *file.path(db) == path.join("default.nix"))
                    });
                    modules.push(Listed {
                        path: direct.map_or_else(|| path.clone(), |(f, _)| f.path(db).clone()),
                        inline_line: None,
                        imported: false,
                        missing: direct.is_none() && reached.missing.contains(path),
                    });
                }
            }
            // What this entry imports, in the order reached.
            for (file, i) in &reached.files {
                let listed = modules.iter().any(|m| m.path == *file.path(db));
                if *i == entry_index && !listed {
                    modules.push(Listed {
                        path: file.path(db).clone(),
                        inline_line: None,
                        imported: true,
                        missing: false,
                    });
                }
            }
        }
        out.push(Described {
            name: system.name.clone(),
            output: system.output.clone(),
            facts: facts.get(index).cloned().unwrap_or_default(),
            special_args: system.special_args.clone(),
            complete: system.modules_complete,
            modules,
        });
    }
    out
}

fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn builds(output: &Option<String>) -> String {
    match output {
        Some(output) => format!("config.system.build.{output}"),
        None => "the system itself (micros build builds its image)".into(),
    }
}

fn human(systems: &[Described], root: &Path) -> String {
    if systems.is_empty() {
        return "flake.nix defines no system that can be read statically\n".into();
    }
    let mut out = String::new();
    for (i, system) in systems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&system.name);
        out.push('\n');
        out.push_str(&format!("  builds:    {}\n", builds(&system.output)));
        out.push_str(&format!(
            "  platform:  {}\n",
            system
                .facts
                .platform
                .as_deref()
                .unwrap_or("not known statically")
        ));
        out.push_str(&format!(
            "  container: {}\n",
            match system.facts.container {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not known statically",
            }
        ));
        for (j, module) in system.modules.iter().enumerate() {
            let label = if j == 0 {
                "  modules:   "
            } else {
                "             "
            };
            let path = shown(&module.path, root);
            let line = match (module.inline_line, module.imported, module.missing) {
                (Some(line), _, _) => format!("{path}:{line} (inline)"),
                (None, true, _) => format!("  {path} (imported)"),
                (None, false, true) => format!("{path} (not found)"),
                (None, false, false) => path,
            };
            out.push_str(&format!("{label}{line}\n"));
        }
        if system.modules.is_empty() {
            out.push_str("  modules:   none\n");
        }
        if !system.complete {
            out.push_str("             (and modules computed when Nix evaluates the flake)\n");
        }
        if let Some(args) = &system.special_args
            && !args.is_empty()
        {
            out.push_str(&format!("  specialArgs: {}\n", args.join(", ")));
        }
    }
    out
}

fn json_text(systems: &[Described], root: &Path) -> String {
    let systems: Vec<Value> = systems
        .iter()
        .map(|system| {
            json!({
                "name": system.name,
                "output": system.output.as_ref().map(|o| format!("config.system.build.{o}")),
                "platform": system.facts.platform,
                "container": system.facts.container,
                "specialArgs": system.special_args,
                "modulesComplete": system.complete,
                "modules": system.modules.iter().map(|m| json!({
                    "path": shown(&m.path, root),
                    "inlineLine": m.inline_line,
                    "imported": m.imported,
                    "missing": m.missing,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({ "version": 1, "systems": systems }))
        .unwrap_or_default();
    text.push('\n');
    text
}
