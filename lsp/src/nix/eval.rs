//! The option set, evaluated by Nix: `lib.optionAttrSetToDocList` over a
//! micros system (`options.nix`), turned into the same [`OptionSet`] and
//! options.json the static extractor gives.
//!
//! Runs with a time and memory limit and never forces `pkgs` (defaults
//! that need it are [`NOT_EVALUABLE`]). Results are cached under
//! `$XDG_CACHE_HOME/micros/options-eval/`, keyed by what the evaluation
//! reads: the flake.lock and the flake's own `.nix` files, or the source
//! trees' files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use micros_options::OptionSet;
use micros_options::json;
use micros_options::model::RootKind;
use micros_options::sources::{self, SettingNames, SourceFlags};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::process::{self, Control, Limits};
use super::{Nix, NixError, flakes_unsupported, nix_string};
use crate::analysis::options::OptionIndex;

/// Written for this project: see its header.
const OPTIONS_NIX: &str = include_str!("options.nix");

/// The text shown (as literalMD) for a default or example that could not
/// be evaluated without `pkgs` or building anything.
pub const NOT_EVALUABLE: &str =
    "*(not evaluable while listing options: needs `pkgs` or a built value)*";

/// Bumped when the evaluation or its conversion changes, so that old cache
/// entries are not read.
const CACHE_VERSION: &str = "1";

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Address space for the evaluator: micros's options take well under 1 GiB.
pub const DEFAULT_MEMORY_MIB: u64 = 4096;

/// What to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Source trees: micros's flake.nix is called with a nixpkgs input made
    /// from the nixpkgs tree's `lib/`.
    Sources { micros: PathBuf, nixpkgs: PathBuf },
    /// A flake whose `micros` input is used. `dir` is its directory when it
    /// is local (for the cache key and for naming the user's files).
    Flake {
        reference: String,
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone)]
pub struct EvalRequest {
    pub target: Target,
    /// The user's entry module (absolute), whose option declarations are
    /// added. For a flake it must lie inside the flake's directory.
    pub entry: Option<PathBuf>,
    /// The directory user declarations are named relative to.
    pub user_root: Option<PathBuf>,
    pub system: String,
    pub timeout: Duration,
    pub memory_mib: u64,
    /// Where to cache results; `None` turns the cache off.
    pub cache_dir: Option<PathBuf>,
}

impl EvalRequest {
    pub fn new(target: Target) -> Self {
        EvalRequest {
            target,
            entry: None,
            user_root: None,
            system: super::current_system(),
            timeout: DEFAULT_TIMEOUT,
            memory_mib: DEFAULT_MEMORY_MIB,
            cache_dir: default_cache_dir(),
        }
    }
}

#[derive(Debug)]
pub struct Evaluated {
    pub options: OptionSet,
    /// options.json with internal options, as cached.
    pub json: String,
    pub from_cache: bool,
    /// Options whose default or example could not be evaluated.
    pub not_evaluable: usize,
}

/// `$XDG_CACHE_HOME/micros/options-eval`, else `~/.cache/...`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("micros").join("options-eval"))
}

/// Evaluate the option set (or read it from the cache).
pub fn evaluate_options(nix: &Nix, request: &EvalRequest) -> Result<Evaluated, NixError> {
    let expression = expression(request)?;
    let cache_file = request
        .cache_dir
        .as_ref()
        .and_then(|dir| cache_key(request, &expression).map(|key| dir.join(format!("{key}.json"))));
    if let Some(file) = &cache_file
        && let Ok(text) = std::fs::read_to_string(file)
        && let Ok(options) = json::from_json(&text)
    {
        let not_evaluable = count_not_evaluable(&options);
        return Ok(Evaluated {
            options,
            json: text,
            from_cache: true,
            not_evaluable,
        });
    }
    let mut command = nix.command();
    command
        .args(["eval", "--impure", "--json", "--expr"])
        .arg(&expression);
    let mut stderr = String::new();
    let finished = process::run(
        command,
        Limits {
            timeout: Some(request.timeout),
            memory_bytes: Some(request.memory_mib * 1024 * 1024),
        },
        &mut |line| {
            stderr.push_str(line);
            stderr.push('\n');
            Control::Continue
        },
    )?;
    let stderr = super::log::strip_ansi(&stderr);
    if !finished.status.success() {
        if let Some(detail) = flakes_unsupported(&stderr) {
            return Err(NixError::FlakesUnsupported(detail));
        }
        let message = if stderr.trim().is_empty() {
            // Killed by a signal: most likely the memory limit.
            format!(
                "nix eval stopped ({}) without a message; the evaluation may have exceeded the memory limit of {} MiB (raise it with --memory)",
                finished.status, request.memory_mib
            )
        } else {
            stderr
        };
        return Err(NixError::Failed { message });
    }
    let json = convert(&finished.stdout, request)?;
    let options = json::from_json(&json)
        .map_err(|e| NixError::Other(format!("reading the evaluated options: {e}")))?;
    if let Some(file) = &cache_file
        && let Some(dir) = file.parent()
    {
        // The cache is an optimisation: failing to write it is no error.
        let _ = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(file.with_extension("tmp"), &json))
            .and_then(|()| std::fs::rename(file.with_extension("tmp"), file));
    }
    let not_evaluable = count_not_evaluable(&options);
    Ok(Evaluated {
        options,
        json,
        from_cache: false,
        not_evaluable,
    })
}

fn count_not_evaluable(options: &OptionSet) -> usize {
    options
        .flatten()
        .iter()
        .filter(|o| {
            [&o.default, &o.example]
                .into_iter()
                .flatten()
                .any(|l| l.text == NOT_EVALUABLE)
        })
        .count()
}

/// `(options.nix) { ... }` with the request's arguments.
pub fn expression(request: &EvalRequest) -> Result<String, NixError> {
    let mut args = vec![("system", request.system.clone())];
    match &request.target {
        Target::Sources { micros, nixpkgs } => {
            args.push(("micros", absolute(micros)?));
            args.push(("nixpkgs", absolute(nixpkgs)?));
            if let Some(entry) = &request.entry {
                args.push(("entry", absolute(entry)?));
            }
        }
        Target::Flake { reference, dir } => {
            args.push(("flake", reference.clone()));
            if let Some(entry) = &request.entry {
                let Some(dir) = dir else {
                    return Err(NixError::Other(
                        "an entry module can only be given with a local flake".into(),
                    ));
                };
                let relative = entry.strip_prefix(dir).map_err(|_| {
                    NixError::Other(format!(
                        "{} is not inside the flake at {}",
                        entry.display(),
                        dir.display()
                    ))
                })?;
                args.push(("entry", relative.to_string_lossy().into_owned()));
            }
        }
    }
    let args: Vec<String> = args
        .iter()
        .map(|(name, value)| format!("{name} = {};", nix_string(value)))
        .collect();
    Ok(format!("({OPTIONS_NIX}) {{ {} }}", args.join(" ")))
}

fn absolute(path: &Path) -> Result<String, NixError> {
    let path = path
        .canonicalize()
        .map_err(|e| NixError::Other(format!("{}: {e}", path.display())))?;
    Ok(path.to_string_lossy().into_owned())
}

/// The cache key: the expression and a fingerprint of every input it
/// reads. `None` when the inputs cannot be known (a remote flake).
fn cache_key(request: &EvalRequest, expression: &str) -> Option<String> {
    let mut hasher = Sha256::new();
    hasher.update(CACHE_VERSION.as_bytes());
    hasher.update(expression.as_bytes());
    if let Some(root) = &request.user_root {
        hasher.update(root.to_string_lossy().as_bytes());
    }
    match &request.target {
        Target::Flake { dir: None, .. } => return None,
        Target::Flake { dir: Some(dir), .. } => {
            // The inputs are fixed by flake.lock; the flake's own files by
            // their content. Without a lock, inputs may move: no cache.
            let lock = std::fs::read(dir.join("flake.lock")).ok()?;
            hasher.update(&lock);
            fingerprint_tree(dir, &mut hasher, true);
        }
        Target::Sources { micros, nixpkgs } => {
            fingerprint_tree(micros, &mut hasher, false);
            fingerprint_tree(&nixpkgs.join("lib"), &mut hasher, false);
            fingerprint_tree(&nixpkgs.join("nixos/lib"), &mut hasher, false);
            for module in micros_options::sources::nixpkgs_modules(micros, nixpkgs).ok()? {
                fingerprint_file(&module, &mut hasher, false);
            }
            if let Some(entry) = &request.entry {
                let root = request.user_root.as_deref().or(entry.parent())?;
                fingerprint_tree(root, &mut hasher, true);
            }
        }
    }
    let digest = hasher.finalize();
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

/// Every `.nix` file below `dir` (sorted, skipping `.git` and `result`
/// links): by content, or by size and modification time for big trees.
fn fingerprint_tree(dir: &Path, hasher: &mut Sha256, content: bool) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && name != ".git" {
                stack.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "nix") {
                files.push(path);
            }
        }
    }
    files.sort();
    for file in files {
        fingerprint_file(&file, hasher, content);
    }
}

fn fingerprint_file(file: &Path, hasher: &mut Sha256, content: bool) {
    hasher.update(file.to_string_lossy().as_bytes());
    if content {
        if let Ok(bytes) = std::fs::read(file) {
            hasher.update(&bytes);
        }
    } else if let Ok(meta) = file.metadata() {
        hasher.update(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified()
            && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
        {
            hasher.update(since.as_nanos().to_le_bytes());
        }
    }
}

#[derive(Debug, Deserialize)]
struct Output {
    roots: Roots,
    options: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct Roots {
    micros: String,
    nixpkgs: String,
    user: String,
}

/// Nix's doc list → options.json keyed by name, with declarations named
/// as the static extractor names them and unevaluable values marked.
fn convert(stdout: &[u8], request: &EvalRequest) -> Result<String, NixError> {
    let output: Output = serde_json::from_slice(stdout)
        .map_err(|e| NixError::Other(format!("nix eval printed something unexpected: {e}")))?;
    let user_root = if output.roots.user.is_empty() {
        request
            .user_root
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned())
    } else {
        Some(output.roots.user.clone())
    };
    let prefixes: Vec<(String, &str)> = [
        Some((output.roots.micros.clone(), "")),
        Some((output.roots.nixpkgs.clone(), "<nixpkgs>/")),
        user_root.map(|u| (u, "")),
    ]
    .into_iter()
    .flatten()
    .filter(|(root, _)| !root.is_empty())
    .map(|(root, to)| (format!("{}/", root.trim_end_matches('/')), to))
    .collect();
    let mut map = BTreeMap::new();
    for mut option in output.options {
        let Some(name) = option
            .remove("name")
            .and_then(|n| n.as_str().map(str::to_string))
        else {
            continue;
        };
        if let Some(serde_json::Value::Array(declarations)) = option.get_mut("declarations") {
            for declaration in declarations.iter_mut() {
                if let Some(path) = declaration.as_str() {
                    *declaration = serde_json::Value::String(relative_declaration(path, &prefixes));
                }
            }
        }
        for field in ["default", "example"] {
            if option
                .get(field)
                .is_some_and(|v| v["_type"] == "notEvaluable")
            {
                option.insert(
                    field.into(),
                    serde_json::json!({ "_type": "literalMD", "text": NOT_EVALUABLE }),
                );
            }
        }
        map.insert(name, serde_json::Value::Object(option));
    }
    serde_json::to_string(&map).map_err(|e| NixError::Other(e.to_string()))
}

fn relative_declaration(path: &str, prefixes: &[(String, &str)]) -> String {
    // The module system's own options are declared in a file it names
    // relative to nixpkgs.
    if path == "lib/modules.nix" {
        return "<nixpkgs>/lib/modules.nix".into();
    }
    // The longest root first: the user's flake may sit inside a tree.
    prefixes
        .iter()
        .filter(|(root, _)| path.starts_with(root.as_str()))
        .max_by_key(|(root, _)| root.len())
        .map(|(root, to)| format!("{to}{}", &path[root.len()..]))
        .unwrap_or_else(|| path.to_string())
}

/// The exact option set as an index, from Nix, and a summary line: the
/// source trees when they are given (settings or environment), else the
/// flake at `root`.
pub fn evaluated_index(
    flags: &SourceFlags,
    start_dir: &Path,
    root: Option<&Path>,
    names: SettingNames,
    timeout: Duration,
) -> Result<(OptionIndex, String), String> {
    let start = Instant::now();
    let nix = Nix::locate().map_err(|e| e.to_string())?;
    let sources_given = flags.micros.is_some() || sources::env_dir(sources::MICROS_ENV).is_some();
    let target = if sources_given {
        let micros = sources::locate_micros_as(flags, start_dir, names).map_err(|e| e.message)?;
        let nixpkgs = sources::locate_nixpkgs_as(flags, start_dir, names).map_err(|e| e.message)?;
        Target::Sources {
            micros: micros.dir,
            nixpkgs: nixpkgs.dir,
        }
    } else {
        let dir = root
            .and_then(|r| r.canonicalize().ok())
            .filter(|r| r.join("flake.nix").is_file())
            .ok_or("no micros source given and no flake.nix at the project root")?;
        Target::Flake {
            reference: dir.to_string_lossy().into_owned(),
            dir: Some(dir),
        }
    };
    let micros_root = match &target {
        Target::Sources { micros, nixpkgs } => vec![
            (RootKind::Micros, micros.clone()),
            (RootKind::Nixpkgs, nixpkgs.clone()),
        ],
        Target::Flake { .. } => Vec::new(),
    };
    let mut request = EvalRequest::new(target);
    request.user_root = root.map(Path::to_path_buf);
    request.timeout = timeout;
    let evaluated = evaluate_options(&nix, &request).map_err(|e| e.to_string())?;
    let count = evaluated.options.flatten().len();
    let mut index = OptionIndex::new(Arc::new(evaluated.options), true);
    index.roots.extend(micros_root);
    let summary = format!(
        "evaluated {count} MicrOS options with Nix{} in {:.1} s",
        if evaluated.from_cache {
            " (cached)"
        } else {
            ""
        },
        start.elapsed().as_secs_f64()
    );
    Ok((index, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> EvalRequest {
        let mut request = EvalRequest::new(Target::Flake {
            reference: "github:me/config".into(),
            dir: None,
        });
        request.system = "x86_64-linux".into();
        request
    }

    #[test]
    fn converts_the_doc_list() {
        let stdout = br#"{"roots":{"micros":"/nix/store/aaa-source","nixpkgs":"/nix/store/bbb-source","user":"/nix/store/ccc-source"},
          "options":[
            {"name":"a.b","loc":["a","b"],"declarations":["/nix/store/aaa-source/micros/modules/a.nix"],"type":"boolean","description":"x","default":{"_type":"literalExpression","text":"false"},"readOnly":false,"internal":false,"visible":true},
            {"name":"c","loc":["c"],"declarations":["/nix/store/bbb-source/nixos/modules/misc/c.nix","lib/modules.nix"],"type":"package","description":null,"default":{"_type":"notEvaluable"},"readOnly":false,"internal":false,"visible":true},
            {"name":"mine","loc":["mine"],"declarations":["/nix/store/ccc-source/modules/mine.nix"],"type":"string","description":"m","readOnly":false,"internal":false,"visible":true}
          ]}"#;
        let json = convert(stdout, &request()).expect("converts");
        let value: serde_json::Value = serde_json::from_str(&json).expect("json");
        assert_eq!(
            value["a.b"]["declarations"],
            serde_json::json!(["micros/modules/a.nix"])
        );
        assert_eq!(
            value["c"]["declarations"],
            serde_json::json!([
                "<nixpkgs>/nixos/modules/misc/c.nix",
                "<nixpkgs>/lib/modules.nix"
            ])
        );
        assert_eq!(value["c"]["default"]["text"], NOT_EVALUABLE);
        assert_eq!(
            value["mine"]["declarations"],
            serde_json::json!(["modules/mine.nix"])
        );
        let set = json::from_json(&json).expect("options.json");
        assert_eq!(count_not_evaluable(&set), 1);
    }

    #[test]
    fn the_expression_quotes_its_arguments() {
        let mut request = request();
        request.target = Target::Flake {
            reference: "path:/tmp/my \"flake\"".into(),
            dir: None,
        };
        let expression = expression(&request).expect("expression");
        assert!(
            expression
                .ends_with(r#"{ system = "x86_64-linux"; flake = "path:/tmp/my \"flake\""; }"#)
        );
    }

    #[test]
    fn remote_flakes_are_not_cached() {
        assert_eq!(cache_key(&request(), "x"), None);
    }

    #[test]
    fn the_cache_key_follows_the_lock() {
        let dir = std::env::temp_dir().join(format!("micros-eval-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("flake.nix"), "{ outputs = _: { }; }").expect("write");
        let mut request = request();
        request.target = Target::Flake {
            reference: dir.display().to_string(),
            dir: Some(dir.clone()),
        };
        assert_eq!(cache_key(&request, "x"), None, "no lock, no cache");
        std::fs::write(dir.join("flake.lock"), "{\"version\": 7}").expect("write");
        let first = cache_key(&request, "x").expect("a key");
        assert_eq!(cache_key(&request, "x").as_ref(), Some(&first));
        std::fs::write(dir.join("flake.lock"), "{\"version\": 7, \"x\": 1}").expect("write");
        assert_ne!(cache_key(&request, "x").as_ref(), Some(&first));
        let second = cache_key(&request, "x").expect("a key");
        std::fs::write(dir.join("configuration.nix"), "{ }").expect("write");
        assert_ne!(cache_key(&request, "x").as_ref(), Some(&second));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
