//! The workspace's files by path, and import cycles through them. Nix's
//! module system imports each file once, so a cycle is harmless there; it
//! is still reported (as a warning), once, at the import that closes it.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use micros_options::eval::normalize;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::db::{self, Db, File, Workspace};
use crate::analysis::lower::EntryId;

/// The files of the workspace by path.
#[salsa::tracked(returns(ref))]
pub fn files_by_path(db: &dyn Db, workspace: Workspace) -> Arc<FxHashMap<PathBuf, File>> {
    Arc::new(
        workspace
            .files(db)
            .iter()
            .map(|file| (file.path(db).clone(), *file))
            .collect(),
    )
}

/// The workspace file an import names (a directory stands for its
/// `default.nix`), found lexically: analysis reads no disk.
pub fn imported(db: &dyn Db, from: File, relative: &str) -> Option<File> {
    let files = files_by_path(db, db.workspace());
    let base = from.path(db).parent().unwrap_or(Path::new("/"));
    module_file(files, &normalize(&base.join(relative)))
}

/// The file a module path names among `files` (from [`files_by_path`]):
/// the file itself, or a directory's `default.nix`.
pub fn module_file(files: &FxHashMap<PathBuf, File>, path: &Path) -> Option<File> {
    files
        .get(path)
        .or_else(|| files.get(&path.join("default.nix")))
        .copied()
}

/// The imports of `file` through which it imports itself, each with the
/// chain of files from `file` back to it.
pub fn import_cycles(db: &dyn Db, file: File) -> Vec<(EntryId, Vec<PathBuf>)> {
    let mut cycles = Vec::new();
    for (relative, entry) in &db::module(db, file).imports {
        let Some(first) = imported(db, file, relative) else {
            continue;
        };
        if let Some(chain) = path_back(db, first, file) {
            // Named from the importing file's directory, as imports are.
            let base = file.path(db).parent().unwrap_or(Path::new("/"));
            let shown = std::iter::once(file)
                .chain(chain)
                .map(|f| {
                    let path = f.path(db);
                    path.strip_prefix(base).unwrap_or(path).to_path_buf()
                })
                .collect();
            cycles.push((*entry, shown));
        }
    }
    cycles
}

/// The shortest chain of imports from `start` to `target` (both included),
/// breadth first and without recursion: a workspace of thousands of files
/// costs no stack.
fn path_back(db: &dyn Db, start: File, target: File) -> Option<Vec<File>> {
    let mut parent: FxHashMap<File, File> = FxHashMap::default();
    let mut seen: FxHashSet<File> = FxHashSet::default();
    let mut queue = VecDeque::from([start]);
    seen.insert(start);
    while let Some(current) = queue.pop_front() {
        if current == target {
            let mut chain = vec![current];
            let mut at = current;
            while let Some(previous) = parent.get(&at) {
                chain.push(*previous);
                at = *previous;
            }
            chain.reverse();
            return Some(chain);
        }
        for (relative, _) in &db::module(db, current).imports {
            if let Some(next) = imported(db, current, relative)
                && seen.insert(next)
            {
                parent.insert(next, current);
                queue.push_back(next);
            }
        }
    }
    None
}

/// A path a file imports (or, in flake.nix, a system's module list names)
/// that the front ends found absent from disk: Nix stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingImport {
    /// The path literal.
    pub range: rowan::TextRange,
    /// As written (`./gone.nix`), or from the file's directory.
    pub written: String,
    pub path: PathBuf,
}

/// The imports of `file`, and for a flake its systems' module paths, that
/// name nothing on disk, in the order they are written.
pub fn missing_imports(db: &dyn Db, file: File) -> Vec<MissingImport> {
    let absent = db.workspace().absent(db);
    if absent.is_empty() {
        return Vec::new();
    }
    let base = file.path(db).parent().unwrap_or(Path::new("/"));
    let map = db::source_map(db, file);
    let mut found: Vec<MissingImport> = Vec::new();
    for (relative, entry) in &db::module(db, file).imports {
        let path = normalize(&base.join(relative));
        if absent.contains(&path) {
            found.push(MissingImport {
                range: map.entry(*entry).key,
                written: relative.clone(),
                path,
            });
        }
    }
    if crate::analysis::systems::is_flake(file.path(db)) {
        let model = crate::analysis::systems::flake_model(db, file);
        for system in &model.systems {
            for entry in &system.modules {
                if let crate::analysis::systems::ModuleEntry::File { path, range } = entry
                    && absent.contains(path)
                    && !found.iter().any(|m| m.range == *range)
                {
                    found.push(MissingImport {
                        range: *range,
                        // The entry may be a name bound to the path.
                        written: match path.strip_prefix(base) {
                            Ok(inside) => format!("./{}", inside.display()),
                            Err(_) => path.display().to_string(),
                        },
                        path: path.clone(),
                    });
                }
            }
        }
    }
    found.sort_by_key(|m| m.range.start());
    found
}
