//! The analysis of many files at once, in parallel: the language server's
//! database and queries, with one database handle per worker thread.
//!
//! salsa lets clones of a database read concurrently (they share the
//! memos); writes wait until the clones are gone. So the work runs in
//! phases: read the files (in parallel), create their inputs (serially),
//! lower every file (in parallel: this also finds the options each module
//! declares and the files it imports), read the imports and repeat, then
//! diagnose every file to report (in parallel). The option index is built
//! once from the lowered modules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use salsa::Setter;

use super::files::{module_file, read_source};
use crate::analysis::db::{self, Db, File, RootDatabase};
use crate::analysis::options::OptionIndex;
use crate::analysis::systems::SystemRef;
use crate::ide::Diagnostic;

/// Deeply nested Nix recurses deeply in lowering and resolution.
const WORKER_STACK: usize = 64 * 1024 * 1024;
/// Imports followed beyond the files given, at most.
const MAX_IMPORTED: usize = 10_000;

/// One checked file.
#[derive(Debug)]
pub struct Checked {
    pub path: PathBuf,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the analysis found, and the files it could not check.
#[derive(Debug, Default)]
pub struct Outcome {
    /// In the order of the targets, then the reported imports by path.
    pub files: Vec<Checked>,
    /// Messages naming a file that could not be read or analysed.
    pub failures: Vec<String>,
    /// Files read only for the options they declare.
    pub imported: usize,
}

/// Analyse `targets` against `index` with `jobs` threads. Files the targets
/// import (and a flake's systems' modules) are read too (the options they
/// declare count, and the systems they make up); they are reported as well
/// when `report_import` says so. `context` files (the flake around the
/// paths given) are read the same way, and not reported.
pub fn analyze(
    index: OptionIndex,
    git: crate::analysis::git::GitState,
    targets: &[PathBuf],
    context: &[PathBuf],
    jobs: usize,
    report_import: &(dyn Fn(&Path) -> bool + Sync),
    system: Option<&str>,
) -> Result<Outcome, String> {
    let jobs = jobs.max(1);
    let Loaded {
        db,
        mut reported,
        mut outcome,
    } = load(index, git, targets, context, jobs, report_import);
    // One system: its files (as far as they are reported at all) and its
    // findings only.
    let focus = match system {
        Some(name) => {
            let focus = find_system(&db, name)?;
            let members = &crate::analysis::systems::system_modules(&db, focus.flake)[focus.index];
            reported.retain(|file| *file == focus.flake || members.contains(*file));
            Some(focus)
        }
        None => None,
    };

    let handles = (0..jobs).map(|_| db.clone()).collect();
    let diagnostics = parallel(handles, &reported, |db, file| match focus {
        Some(focus) => crate::ide::diagnostics::diagnostics_in(db, *file, focus),
        None => crate::ide::diagnostics::diagnostics(db, *file),
    });
    for (file, result) in reported.iter().zip(diagnostics) {
        match result {
            Ok(diagnostics) => outcome.files.push(Checked {
                path: file.path(&db).clone(),
                text: file.text(&db).clone(),
                diagnostics,
            }),
            Err(panic) => outcome.failures.push(internal(&db, *file, &panic)),
        }
    }
    Ok(outcome)
}

/// The files read and lowered, in a database ready to query.
pub struct Loaded {
    pub db: RootDatabase,
    /// The files to report, in the order of the targets, then imports.
    pub reported: Vec<File>,
    pub outcome: Outcome,
}

/// Read `targets`, `context` and everything they bring in (imports, a
/// flake's systems' modules) into a database.
pub fn load(
    index: OptionIndex,
    git: crate::analysis::git::GitState,
    targets: &[PathBuf],
    context: &[PathBuf],
    jobs: usize,
    report_import: &(dyn Fn(&Path) -> bool + Sync),
) -> Loaded {
    let jobs = jobs.max(1);
    let mut outcome = Outcome::default();
    let mut db = RootDatabase::default();
    let workspace = db.workspace();
    workspace.set_options(&mut db).to(Arc::new(index));
    workspace.set_git(&mut db).to(Arc::new(git));

    let texts = parallel(vec![(); jobs], targets, |(), path| read_source(path));
    let mut known: HashMap<PathBuf, File> = HashMap::new();
    let mut reported: Vec<File> = Vec::new();
    for (path, text) in targets.iter().zip(texts) {
        match text {
            Ok(Ok(text)) => {
                let file = File::new(&db, path.clone(), text);
                known.insert(path.clone(), file);
                reported.push(file);
            }
            Ok(Err(message)) | Err(message) => outcome.failures.push(message),
        }
    }

    for path in context {
        if known.contains_key(path) {
            continue;
        }
        if let Ok(text) = read_source(path) {
            let file = File::new(&db, path.clone(), text);
            known.insert(path.clone(), file);
        }
    }

    let mut frontier: Vec<File> = known.values().copied().collect();
    let mut absent: std::collections::BTreeSet<PathBuf> = Default::default();
    while !frontier.is_empty() {
        let handles = (0..jobs).map(|_| db.clone()).collect();
        let imports = parallel(handles, &frontier, |db, file| lower(db, *file));
        let mut next: Vec<PathBuf> = Vec::new();
        for (file, found) in frontier.iter().zip(imports) {
            match found {
                Ok((paths, missing)) => {
                    next.extend(paths);
                    absent.extend(missing);
                }
                Err(panic) => outcome.failures.push(internal(&db, *file, &panic)),
            }
        }
        next.sort();
        next.dedup();
        frontier.clear();
        for path in next {
            if known.contains_key(&path) || known.len() >= targets.len() + MAX_IMPORTED {
                continue;
            }
            // An import that cannot be read is left to Nix to report, as
            // the language server does.
            let Ok(text) = read_source(&path) else {
                continue;
            };
            let file = File::new(&db, path.clone(), text);
            known.insert(path.clone(), file);
            frontier.push(file);
            if report_import(&path) {
                reported.push(file);
            } else {
                outcome.imported += 1;
            }
        }
    }

    let mut files: Vec<File> = known.values().copied().collect();
    files.sort_by(|a, b| a.path(&db).cmp(b.path(&db)));
    workspace.set_files(&mut db).to(files);
    workspace.set_absent(&mut db).to(Arc::new(absent));
    Loaded {
        db,
        reported,
        outcome,
    }
}

/// The system a name given on the command line means: its full name
/// (`packages.x86_64-linux.container`), or the end of one that no other
/// system's name ends in (`container`, `x86_64-linux.container`).
pub fn find_system(db: &dyn Db, name: &str) -> Result<SystemRef, String> {
    let systems = &crate::analysis::systems::workspace_systems(db).systems;
    let name_of = |system: &SystemRef| crate::analysis::systems::system(db, *system).name.clone();
    if let Some(exact) = systems.iter().find(|s| name_of(s) == name) {
        return Ok(*exact);
    }
    let matching: Vec<&SystemRef> = systems
        .iter()
        .filter(|s| name_of(s).ends_with(&format!(".{name}")))
        .collect();
    match matching.as_slice() {
        [one] => Ok(**one),
        [] => {
            let mut names: Vec<String> = systems.iter().map(name_of).collect();
            names.sort();
            Err(if names.is_empty() {
                format!(
                    "no system `{name}`: flake.nix defines no system that can be read statically (see `micros systems`)"
                )
            } else {
                format!(
                    "no system `{name}` in flake.nix (its systems: {})",
                    names.join(", ")
                )
            })
        }
        several => {
            let mut names: Vec<String> = several.iter().map(|s| name_of(s)).collect();
            names.sort();
            Err(format!(
                "`{name}` could be any of {}; give the whole name",
                names.join(", ")
            ))
        }
    }
}

/// Lower a file (which also finds the options it declares) and return the
/// module files it brings in (its imports, a flake's systems' modules) and
/// the paths it names that do not exist (`missing-import`).
fn lower(db: &RootDatabase, file: File) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let module = db::module(db, file);
    if module.declares_options {
        db::declared_options(db, file);
    }
    let mut found = Vec::new();
    let mut absent = Vec::new();
    for path in crate::analysis::systems::referenced_paths(db, file) {
        match module_file(&path) {
            Some(module) => found.push(module),
            None if std::fs::metadata(&path)
                .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
            {
                absent.push(path)
            }
            None => {}
        }
    }
    (found, absent)
}

fn internal(db: &RootDatabase, file: File, panic: &str) -> String {
    format!(
        "{}: internal error in the analysis ({panic}); please report it",
        file.path(db).display()
    )
}

/// `f` over `items` on one thread per state, each taking the next item
/// as it finishes one. A panic is caught and returned as its message.
fn parallel<S: Send, T: Sync, R: Send>(
    states: Vec<S>,
    items: &[T],
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<Result<R, String>> {
    let next = AtomicUsize::new(0);
    let work = |mut state: S| {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut state, item)))
                    .map_err(|payload| panic_message(payload.as_ref()));
            done.push((i, result));
        }
        done
    };
    let mut results: Vec<Option<Result<R, String>>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let mut threads = Vec::new();
        for state in states.into_iter().take(items.len().max(1)) {
            let work = &work;
            let spawned = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || work(state));
            // A thread that cannot start leaves its share to the others;
            // with none, every item reports that below.
            if let Ok(handle) = spawned {
                threads.push(handle);
            }
        }
        for handle in threads {
            if let Ok(done) = handle.join() {
                for (i, result) in done {
                    results[i] = Some(result);
                }
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("no thread could be started".into())))
        .collect()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".into()
    }
}
