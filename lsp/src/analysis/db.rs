//! The salsa database: inputs (file texts, the option set, the workspace's
//! files) and the queries computed from them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use micros_options::model::{OptionSet, RootKind};
use micros_options::{ExtractRequest, ModuleSource, Root};
use rustc_hash::FxHashMap;

use crate::analysis::lower::{Module, SourceMap};
use crate::analysis::names::NameProblems;
use crate::analysis::options::OptionIndex;
use crate::analysis::resolve::Resolution;

#[salsa::input(debug)]
pub struct File {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
}

/// What is known beyond single files: the extracted option set and the
/// files of the workspace (whose declared options count everywhere).
#[salsa::input(debug)]
pub struct Workspace {
    #[returns(ref)]
    pub options: Arc<OptionIndex>,
    #[returns(ref)]
    pub files: Vec<File>,
    /// What git leaves out of the work trees around the flakes (empty
    /// outside git).
    #[returns(ref)]
    pub git: Arc<crate::analysis::git::GitState>,
    /// Paths the front ends looked for on disk (an import, a system's
    /// module) and did not find: analysis reads no disk, and a file the
    /// workspace does not hold may still exist outside what was read.
    #[returns(ref)]
    pub absent: Arc<std::collections::BTreeSet<PathBuf>>,
}

#[salsa::db]
pub trait Db: salsa::Database {
    fn workspace(&self) -> Workspace;
    /// The last parse without errors of each file, for incremental
    /// reparsing (`None` where one-shot analysis has no use for it).
    fn last_parses(&self) -> Option<&LastParses> {
        None
    }
}

pub type LastParses = Mutex<FxHashMap<File, Baseline>>;

use crate::analysis::reparse::Baseline;
pub use crate::analysis::reparse::Parsed;

// A new text always parses to a new tree: comparing them deeply to
// backdate would only cost time.
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse(db: &dyn Db, file: File) -> Parsed {
    let text = file.text(db);
    let Some(last) = db.last_parses() else {
        return Parsed::new(text);
    };
    // The last good parse of this file lets an edit inside one token skip
    // the parser; salsa keeps no old value we could start from.
    let mut baseline = last.lock().ok().and_then(|map| map.get(&file).cloned());
    let parsed = Baseline::parse(&mut baseline, text);
    if let (Some(baseline), Ok(mut map)) = (baseline, last.lock()) {
        map.insert(file, baseline);
    }
    parsed
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowered {
    pub module: Arc<Module>,
    pub source_map: Arc<SourceMap>,
}

#[salsa::tracked(returns(ref))]
pub fn module_with_source_map(db: &dyn Db, file: File) -> Lowered {
    let root = parse(db, file).root();
    // A flake is not a module; the modules written in it are.
    let (module, source_map) = if crate::analysis::systems::is_flake(file.path(db)) {
        let model = crate::analysis::systems::flake_model(db, file);
        crate::analysis::lower::lower_inline(&root, &model.inline)
    } else {
        crate::analysis::lower::lower(&root)
    };
    Lowered {
        module: Arc::new(module),
        source_map: Arc::new(source_map),
    }
}

/// The lowered module without positions: equal across edits that only move
/// text, so what depends on it is not recomputed.
#[salsa::tracked(returns(ref))]
pub fn module(db: &dyn Db, file: File) -> Arc<Module> {
    module_with_source_map(db, file).module.clone()
}

#[salsa::tracked(returns(ref))]
pub fn source_map(db: &dyn Db, file: File) -> Arc<SourceMap> {
    module_with_source_map(db, file).source_map.clone()
}

#[salsa::tracked(returns(ref))]
pub fn names(db: &dyn Db, file: File) -> NameProblems {
    crate::analysis::names::check_names(&parse(db, file).root())
}

/// What extracting a file's own declarations found: the options, and the
/// values and types in it defined in terms of themselves (byte range,
/// message), which the file's diagnostics report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declarations {
    pub options: Arc<OptionSet>,
    pub recursion: Vec<(rowan::TextRange, String)>,
}

/// Options the file itself declares (`options = ...`), extracted from its
/// text alone; imports are files of their own.
#[salsa::tracked(returns(ref))]
pub fn declared_options(db: &dyn Db, file: File) -> Arc<OptionSet> {
    declarations(db, file).options.clone()
}

#[salsa::tracked(returns(ref))]
pub fn declarations(db: &dyn Db, file: File) -> Declarations {
    if !module(db, file).declares_options {
        return Declarations::default();
    }
    let path = file.path(db).clone();
    let text = file.text(db);
    if !crate::analysis::systems::is_flake(&path) {
        return extract_declared(&path, text.clone());
    }
    // Each inline module that declares options, alone in a copy of the
    // flake's text blanked around it (so positions stay where they are).
    let model = crate::analysis::systems::flake_model(db, file);
    let mut set = OptionSet::default();
    let mut recursion = Vec::new();
    for (range, inline) in model.inline.iter().zip(&module(db, file).inline) {
        if !inline.declares_options {
            continue;
        }
        let blanked: String = text
            .char_indices()
            .map(|(i, c)| {
                let inside = range.contains(rowan::TextSize::from(i as u32));
                if inside || c == '\n' { c } else { ' ' }
            })
            .collect();
        let declared = extract_declared(&path, blanked);
        set.options.extend(declared.options.options.iter().cloned());
        recursion.extend(declared.recursion);
    }
    Declarations {
        options: Arc::new(set),
        recursion,
    }
}

fn extract_declared(path: &std::path::Path, text: String) -> Declarations {
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::User,
            dir: dir.clone(),
        }],
        modules: vec![ModuleSource::Text {
            path: path.to_path_buf(),
            text,
        }],
        skip_imports: true,
    };
    let mut extraction = micros_options::extract::extract_here(&request);
    crate::analysis::options::anchor_user_declarations(&mut extraction.options, &dir);
    let recursion = extraction
        .diagnostics
        .iter()
        .filter(|d| d.code == Some(micros_options::eval::INFINITE_RECURSION))
        .filter(|d| d.file == path)
        .filter_map(|d| {
            let (start, end) = d.range?;
            Some((
                rowan::TextRange::new(start.into(), end.into()),
                d.message.clone(),
            ))
        })
        .collect();
    Declarations {
        options: Arc::new(extraction.options),
        recursion,
    }
}

/// The option set definitions are checked against: the extracted set plus
/// what the workspace's own modules declare.
#[salsa::tracked(returns(ref))]
pub fn option_index(db: &dyn Db, workspace: Workspace) -> Arc<OptionIndex> {
    let base = workspace.options(db);
    let mut extra = Vec::new();
    for file in workspace.files(db) {
        extra.extend(declared_options(db, *file).options.iter().cloned());
    }
    if extra.is_empty() {
        return base.clone();
    }
    let mut set = (*base.set).clone();
    set.options.extend(extra);
    set.options.sort_by(|a, b| a.loc.cmp(&b.loc));
    let mut index = OptionIndex::new(Arc::new(set), base.has_nixpkgs);
    index.has_micros = base.has_micros;
    index.roots = base.roots.clone();
    index.base = base.base.clone();
    if !index.roots.iter().any(|(kind, _)| *kind == RootKind::User) {
        index.roots.push((RootKind::User, PathBuf::from("/")));
    }
    Arc::new(index)
}

// Only diagnostics read the resolution, and they are recomputed with it:
// comparing old and new (deep, through every option) would only cost time.
#[salsa::tracked(returns(ref), no_eq)]
pub fn resolution(db: &dyn Db, file: File) -> Arc<Resolution> {
    let index = option_index(db, db.workspace());
    Arc::new(crate::analysis::resolve::resolve(module(db, file), index))
}

/// Everything wrong with a file: syntax, names, definitions.
#[salsa::tracked(returns(ref))]
pub fn diagnostics(db: &dyn Db, file: File) -> Vec<crate::ide::Diagnostic> {
    crate::ide::diagnostics::compute(db, file)
}

/// The database behind the server and `micros check`.
#[salsa::db]
#[derive(Clone)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
    workspace: Option<Workspace>,
    last_parses: Arc<LastParses>,
    /// Queries executed, when logging is on (for tests).
    log: Arc<Mutex<Option<Vec<String>>>>,
}

impl Default for RootDatabase {
    fn default() -> Self {
        let log: Arc<Mutex<Option<Vec<String>>>> = Arc::default();
        let storage = salsa::Storage::new(Some(Box::new({
            let log = log.clone();
            move |event: salsa::Event| {
                if let salsa::EventKind::WillExecute { database_key } = event.kind
                    && let Ok(mut guard) = log.lock()
                    && let Some(entries) = guard.as_mut()
                {
                    entries.push(format!("{database_key:?}"));
                }
            }
        })));
        let mut db = RootDatabase {
            storage,
            workspace: None,
            last_parses: Arc::default(),
            log,
        };
        let workspace = Workspace::new(
            &db,
            Arc::new(OptionIndex::default()),
            Vec::new(),
            Arc::default(),
            Arc::default(),
        );
        db.workspace = Some(workspace);
        db
    }
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

#[salsa::db]
impl Db for RootDatabase {
    fn workspace(&self) -> Workspace {
        self.workspace.expect("created with the database")
    }
    fn last_parses(&self) -> Option<&LastParses> {
        Some(&self.last_parses)
    }
}

impl RootDatabase {
    /// Start recording executed queries.
    pub fn enable_logging(&self) {
        if let Ok(mut guard) = self.log.lock() {
            *guard = Some(Vec::new());
        }
    }

    /// Queries executed since the last call.
    pub fn take_log(&self) -> Vec<String> {
        self.log
            .lock()
            .ok()
            .and_then(|mut g| g.as_mut().map(std::mem::take))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::ide::fixture::fixture;

    /// Edits that do not change meaning (whitespace, comments) must not
    /// recompute what depends on the lowered module, as in nil.
    #[test]
    fn change_barrier() {
        let f = fixture("{ services.getty.enable = true; users.alice.uid = 1; }");
        let file = f.file();
        let mut host = f.host;
        assert!(host.snapshot().diagnostics(file).unwrap().is_empty());

        host.db().enable_logging();
        host.set_file(
            Path::new("/configuration.nix"),
            "{\n  # a comment\n  services.getty.enable   =  true;\n\n  users.alice.uid = 1;\n}\n"
                .into(),
        );
        assert!(host.snapshot().diagnostics(file).unwrap().is_empty());
        let log = host.db().take_log();
        let ran = |query: &str| {
            log.iter()
                .any(|entry| entry.starts_with(&format!("{query}(")))
        };
        assert!(ran("parse") && ran("module_with_source_map"), "{log:#?}");
        // The module is equal, so resolution is reused.
        assert!(!ran("resolution"), "{log:#?}");
        assert!(!ran("declared_options"), "{log:#?}");

        // A real change goes through.
        host.set_file(
            Path::new("/configuration.nix"),
            "{ services.getty.enable = 1; }".into(),
        );
        let diagnostics = host.snapshot().diagnostics(file).unwrap();
        assert_eq!(diagnostics.len(), 1);
        assert!(
            host.db()
                .take_log()
                .iter()
                .any(|e| e.starts_with("resolution("))
        );
    }

    /// Work on a snapshot that an edit made stale is cancelled, and the
    /// edit waits for it rather than racing it.
    #[test]
    fn a_newer_edit_cancels_stale_work() {
        let f = fixture("{ services.getty.enable = true; }");
        let file = f.file();
        let mut host = f.host;
        let analysis = host.snapshot();
        let (started, running) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            for round in 0..10_000_000u64 {
                match analysis.diagnostics(file) {
                    Ok(_) if round == 0 => started.send(()).unwrap(),
                    Ok(_) => {}
                    Err(salsa::Cancelled::PendingWrite) => return Some(round),
                    Err(other) => panic!("{other:?}"),
                }
            }
            None
        });
        running.recv().unwrap();
        host.set_file(
            Path::new("/configuration.nix"),
            "{ services.getty.enable = 1; }".into(),
        );
        let cancelled_after = worker.join().unwrap();
        assert!(
            cancelled_after.is_some(),
            "the stale worker was never cancelled"
        );
        let fresh = host.snapshot().diagnostics(file).unwrap();
        assert_eq!(fresh.len(), 1, "{fresh:?}");
    }
}
