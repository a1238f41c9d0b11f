//! The flake's systems: every image `flake.nix` builds (each a
//! `microsSystem` call), read statically, and the module files of each.
//! A file is analysed as a module of the systems that reach it; a file no
//! system reaches is a module only when it looks like one.
//!
//! The queries, for other features to build on:
//!
//! - [`flake_model`]`(db, flake)`: what one `flake.nix` says
//!   ([`FlakeModel`]: its systems, their names, outputs, module entries and
//!   `specialArgs` names; the inline modules' ranges).
//! - [`system_modules`]`(db, flake)`: per system of that flake, its module
//!   files (the list's paths and the `imports` closure, as far as the
//!   database holds the files) and inline modules.
//! - [`workspace_systems`]`(db)`: every system of every flake in the
//!   workspace, and for each file the systems that reach it
//!   ([`systems_of`]).

pub mod flake;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::db::{self, Db, File, Workspace};
pub use flake::{FlakeModel, ModuleEntry, System};

pub fn is_flake(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "flake.nix")
}

/// What `flake.nix` says about its systems (never evaluated).
#[salsa::tracked(returns(ref))]
pub fn flake_model(db: &dyn Db, flake: File) -> Arc<FlakeModel> {
    let dir = flake.path(db).parent().unwrap_or(Path::new("/"));
    Arc::new(flake::read(&db::parse(db, flake).root(), dir))
}

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

/// The modules of one system.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SystemModules {
    /// Each module file, with the index of the `modules` entry that brings
    /// it in (directly or through `imports`), in the order reached.
    pub files: Vec<(File, usize)>,
    /// Each inline module (an index into [`FlakeModel::inline`]), with its
    /// entry.
    pub inline: Vec<(usize, usize)>,
    /// Paths the system names that the database does not hold (yet): the
    /// front ends read them.
    pub missing: Vec<PathBuf>,
}

impl SystemModules {
    pub fn contains(&self, file: File) -> bool {
        self.files.iter().any(|(f, _)| *f == file)
    }
}

/// Per system of a flake (in [`FlakeModel::systems`] order), its modules.
#[salsa::tracked(returns(ref))]
pub fn system_modules(db: &dyn Db, flake: File) -> Arc<Vec<SystemModules>> {
    let model = flake_model(db, flake);
    let files = files_by_path(db, db.workspace());
    let flake_dir = flake.path(db).parent().unwrap_or(Path::new("/"));
    let inline_modules = &db::module(db, flake).inline;
    let mut out = Vec::new();
    for system in &model.systems {
        let mut modules = SystemModules::default();
        let mut queue: Vec<(PathBuf, usize)> = Vec::new();
        for (entry_index, entry) in system.modules.iter().enumerate() {
            match entry {
                ModuleEntry::File { path, .. } => queue.push((path.clone(), entry_index)),
                ModuleEntry::Inline { index, .. } => {
                    modules.inline.push((*index, entry_index));
                    if let Some(inline) = inline_modules.get(*index) {
                        queue.extend(
                            inline
                                .imports
                                .iter()
                                .map(|(rel, _)| (resolve_path(flake_dir, rel), entry_index)),
                        );
                    }
                }
            }
        }
        queue.reverse();
        while let Some((path, entry_index)) = queue.pop() {
            let Some(file) = lookup(files, &path) else {
                if !modules.missing.contains(&path) {
                    modules.missing.push(path);
                }
                continue;
            };
            if modules.contains(file) {
                continue;
            }
            modules.files.push((file, entry_index));
            let base = file.path(db).parent().unwrap_or(Path::new("/"));
            let imports = &db::module(db, file).imports;
            for (rel, _) in imports.iter().rev() {
                queue.push((resolve_path(base, rel), entry_index));
            }
        }
        out.push(modules);
    }
    Arc::new(out)
}

fn resolve_path(base: &Path, relative: &str) -> PathBuf {
    micros_options::eval::normalize(&base.join(relative))
}

/// A module path: the file, or a directory's `default.nix`.
fn lookup(files: &FxHashMap<PathBuf, File>, path: &Path) -> Option<File> {
    files
        .get(path)
        .or_else(|| files.get(&path.join("default.nix")))
        .copied()
}

/// One system of the workspace: the flake, and its index in the flake's
/// [`FlakeModel::systems`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SystemRef {
    pub flake: File,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkspaceSystems {
    pub systems: Vec<SystemRef>,
    /// For each module file, the systems that reach it.
    pub by_file: FxHashMap<File, Vec<SystemRef>>,
}

/// Every system of every flake the workspace holds.
#[salsa::tracked(returns(ref))]
pub fn workspace_systems(db: &dyn Db) -> Arc<WorkspaceSystems> {
    let mut out = WorkspaceSystems::default();
    for file in db.workspace().files(db) {
        if !is_flake(file.path(db)) {
            continue;
        }
        for (index, modules) in system_modules(db, *file).iter().enumerate() {
            let system = SystemRef {
                flake: *file,
                index,
            };
            out.systems.push(system);
            for (module, _) in &modules.files {
                out.by_file.entry(*module).or_default().push(system);
            }
        }
    }
    Arc::new(out)
}

/// The systems that reach a file (none for a file no flake names).
pub fn systems_of(db: &dyn Db, file: File) -> &[SystemRef] {
    workspace_systems(db)
        .by_file
        .get(&file)
        .map_or(&[], Vec::as_slice)
}

/// The system a [`SystemRef`] names.
pub fn system(db: &dyn Db, system: SystemRef) -> &System {
    &flake_model(db, system.flake).systems[system.index]
}

/// Files a file brings into the analysis: its `imports`, and for a flake
/// the module paths of its systems. Directories are left as they are (the
/// caller finds their `default.nix`).
pub fn referenced_paths(db: &dyn Db, file: File) -> Vec<PathBuf> {
    let base = file.path(db).parent().unwrap_or(Path::new("/"));
    let mut paths: Vec<PathBuf> = db::module(db, file)
        .imports
        .iter()
        .map(|(rel, _)| resolve_path(base, rel))
        .collect();
    if is_flake(file.path(db)) {
        for system in &flake_model(db, file).systems {
            for entry in &system.modules {
                if let ModuleEntry::File { path, .. } = entry {
                    paths.push(path.clone());
                }
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// Whether the file is analysed as a module: a flake (its inline modules
/// are), one a system reaches, or one that looks like a module on its
/// own. Library, data and package files (`{ lib }: { mkThing = ...; }`)
/// get syntax and name diagnostics only.
#[salsa::tracked]
pub fn is_module(db: &dyn Db, file: File) -> bool {
    if is_flake(file.path(db)) || !systems_of(db, file).is_empty() {
        return true;
    }
    let index = db::option_index(db, db.workspace());
    db::module(db, file)
        .shape
        .looks_like_module(|name| index.is_root_name(name))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::ide::fixture::{fixture, show_range};

    /// Every diagnostic of every user file, `path line:col-line:col code: message`.
    pub(crate) fn diagnostics(text: &str) -> String {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let mut out = String::new();
        for (path, file) in &f.files {
            let source = analysis.file_text(*file).unwrap();
            for d in analysis.diagnostics(*file).unwrap() {
                out.push_str(&format!(
                    "{} {} {}: {}\n",
                    path.display(),
                    show_range(&source, d.range),
                    d.code.as_str(),
                    d.message
                ));
            }
        }
        out
    }

    const FLAKE: &str = r#"#- /flake.nix
{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... } @ inputs: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      specialArgs = { inherit inputs; };
      modules = [
        ./configuration.nix
        { boot.isContaner = true; services.getty.enable = "yes"; }
      ];
    }).config.system.build.image;
  };
}
"#;

    #[test]
    fn inline_modules_in_the_flake_are_checked_at_their_lines() {
        expect![[r#"
            /flake.nix 8:16-8:26 unknown-option: the option `boot.isContaner` does not exist
            /flake.nix 8:59-8:64 type-mismatch: `services.getty.enable` is the string "yes", but its type is boolean
        "#]]
        .assert_eq(&diagnostics(&format!(
            "{FLAKE}#- /configuration.nix\n{{ services.getty.enable = true; }}\n"
        )));
    }

    #[test]
    fn a_file_a_system_reaches_is_a_module_whatever_it_looks_like() {
        // `{ lib, ... }:` and a name that is no option: on its own, not a
        // module; in the system's list, one.
        let configuration =
            "#- /configuration.nix\n{ lib, ... }: { servics.getty.enable = true; }\n";
        let without_flake = diagnostics(configuration);
        assert_eq!(without_flake, "");
        expect![[r#"
            /flake.nix 8:16-8:26 unknown-option: the option `boot.isContaner` does not exist
            /flake.nix 8:59-8:64 type-mismatch: `services.getty.enable` is the string "yes", but its type is boolean
            /configuration.nix 1:17-1:24 unknown-option: the option `servics` does not exist
        "#]]
        .assert_eq(&diagnostics(&format!("{FLAKE}{configuration}")));
    }
}
