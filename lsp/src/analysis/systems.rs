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

pub mod analysis;
pub mod base;
pub mod definitions;
pub mod flake;
pub mod platform;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rowan::{TextRange, TextSize};
use rustc_hash::FxHashMap;

use crate::analysis::db::{self, Db, File};
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
    let files = crate::analysis::import_graph::files_by_path(db, db.workspace());
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
            let Some(file) = crate::analysis::import_graph::module_file(files, &path) else {
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

/// A place a finding refers to in another file (or elsewhere in its own):
/// the other definition of a conflict, the assertion that fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub path: PathBuf,
    pub range: TextRange,
    pub start: TextPosition,
    pub end: TextPosition,
    pub message: String,
}

/// A position both front ends can use: 0-based line, and the column in
/// UTF-16 units (LSP) and in characters (`micros check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    pub line: u32,
    pub utf16: u32,
    pub chars: u32,
}

impl TextPosition {
    pub fn of(text: &str, offset: TextSize) -> TextPosition {
        let mut offset = usize::from(offset).min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = &before[line_start..];
        TextPosition {
            line: before.matches('\n').count() as u32,
            utf16: column.encode_utf16().count() as u32,
            chars: column.chars().count() as u32,
        }
    }
}

impl Related {
    pub fn new(path: PathBuf, text: &str, range: TextRange, message: String) -> Related {
        Related {
            path,
            range,
            start: TextPosition::of(text, range.start()),
            end: TextPosition::of(text, range.end()),
            message,
        }
    }
}

/// The systems whose modules are in a file: those that reach it, or for a
/// flake its own.
pub fn reaching(db: &dyn Db, file: File) -> Vec<SystemRef> {
    if is_flake(file.path(db)) {
        (0..flake_model(db, file).systems.len())
            .map(|index| SystemRef { flake: file, index })
            .collect()
    } else {
        systems_of(db, file).to_vec()
    }
}

/// The findings of the systems that reach a file (or of the one system
/// `only`, if it reaches it), at places in it. One that holds in only some
/// of those systems names them (as do conflicts, always).
pub fn findings_for(db: &dyn Db, file: File, only: Option<SystemRef>) -> Vec<analysis::Finding> {
    let mut reaching = reaching(db, file);
    if let Some(only) = only {
        reaching.retain(|system| *system == only);
    }
    let mut groups: Vec<(analysis::Finding, Vec<String>)> = Vec::new();
    for reach in &reaching {
        let name = &system(db, *reach).name;
        let Some(findings) = analysis::system_findings(db, reach.flake).get(reach.index) else {
            continue;
        };
        for finding in findings.iter().filter(|f| f.file == file) {
            match groups.iter_mut().find(|(g, _)| {
                g.range == finding.range && g.code == finding.code && g.message == finding.message
            }) {
                Some((_, names)) => names.push(name.clone()),
                None => groups.push((finding.clone(), vec![name.clone()])),
            }
        }
    }
    groups
        .into_iter()
        .map(|(mut finding, mut names)| {
            if finding.name_system || names.len() < reaching.len() {
                names.sort();
                names.dedup();
                finding.message = format!("{} (in {})", finding.message, names.join(", "));
            }
            finding
        })
        .collect()
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

    /// A fixture: `micros` (files of its own, or none for the prelude),
    /// and a flake whose one system `box` has `specialArgs` and modules
    /// `/m0.nix`, `/m1.nix`, ... with the texts given.
    pub(crate) fn one_system(micros: &str, special_args: &str, modules: &[&str]) -> String {
        let mut text = format!(
            "{micros}#- /flake.nix\n{{ outputs = {{ micros, ... }} @ inputs: {{ nixosConfigurations.box = micros.lib.microsSystem {{ {special_args} modules = [ {} ]; }}; }}; }}\n",
            (0..modules.len())
                .map(|i| format!("./m{i}.nix"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for (i, module) in modules.iter().enumerate() {
            text.push_str(&format!("#- /m{i}.nix\n{module}\n"));
        }
        text
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

#[cfg(test)]
mod facts_tests {
    use super::analysis::{Facts, system_facts};
    use crate::ide::fixture::fixture;

    fn facts(text: &str) -> Vec<(String, Facts)> {
        let f = fixture(text);
        let db = f.host.db();
        let flake = f.host.file(std::path::Path::new("/flake.nix")).unwrap();
        let model = super::flake_model(db, flake);
        model
            .systems
            .iter()
            .map(|s| s.name.clone())
            .zip(system_facts(db, flake).iter().cloned())
            .collect()
    }

    #[test]
    fn container_and_platform_as_the_template_sets_them() {
        let found = facts(
            r#"#- /flake.nix
{
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix { nixpkgs.hostPlatform = { system = "x86_64-linux"; }; } ];
    }).config.system.build.image;
    packages.x86_64-linux.container = (micros.lib.microsSystem {
      modules = [ ./configuration.nix { boot.isContainer = true; nixpkgs.hostPlatform = "x86_64-unknown-linux-musl"; } ];
    }).config.system.build.ociImage;
    packages.x86_64-linux.unsure = (micros.lib.microsSystem {
      modules = [ ./configuration.nix ({ lib, ... }: { boot.isContainer = lib.mkIf (builtins.pathExists ./x) true; }) ];
    }).config.system.build.image;
  };
}
#- /configuration.nix
{ services.getty.enable = true; }
"#,
        );
        let show: Vec<String> = found
            .iter()
            .map(|(name, f)| format!("{name} {:?} {:?}", f.container, f.platform))
            .collect();
        assert_eq!(
            show,
            [
                r#"packages.x86_64-linux.container Some(true) Some("x86_64-unknown-linux-musl")"#,
                r#"packages.x86_64-linux.default Some(false) Some("x86_64-linux")"#,
                "packages.x86_64-linux.unsure None None",
            ]
        );
    }

    #[test]
    fn a_platform_set_is_read_as_nixpkgs_reads_it() {
        // nixpkgs takes `config` before `system`, as the unknown-platform
        // check does; a bare string is the system itself.
        let found = facts(
            r#"#- /flake.nix
{
  outputs = { micros, ... }: {
    packages.x86_64-linux.both = (micros.lib.microsSystem {
      modules = [ { nixpkgs.hostPlatform = { config = "aarch64-unknown-linux-musl"; system = "x86_64-linux"; }; } ];
    }).config.system.build.image;
    packages.x86_64-linux.config = (micros.lib.microsSystem {
      modules = [ { nixpkgs.hostPlatform = { config = "riscv64-unknown-linux-gnu"; }; } ];
    }).config.system.build.image;
  };
}
"#,
        );
        let show: Vec<String> = found
            .iter()
            .map(|(name, f)| format!("{name} {:?}", f.platform))
            .collect();
        assert_eq!(
            show,
            [
                r#"packages.x86_64-linux.both Some("aarch64-unknown-linux-musl")"#,
                r#"packages.x86_64-linux.config Some("riscv64-unknown-linux-gnu")"#,
            ]
        );
    }
}

#[cfg(test)]
mod conflict_tests {
    use expect_test::{Expect, expect};

    use super::tests::diagnostics;

    /// One system made of `a.nix` and `b.nix` (and the prelude's options).
    fn check(a: &str, b: &str, expected: Expect) {
        let text = format!(
            r#"#- /flake.nix
{{
  outputs = {{ micros, ... }}: {{
    nixosConfigurations.box = micros.lib.microsSystem {{ modules = [ ./a.nix ./b.nix ]; }};
  }};
}}
#- /a.nix
{a}
#- /b.nix
{b}
"#
        );
        let found: String = diagnostics(&text)
            .lines()
            .filter(|l| l.contains("conflicting-definitions"))
            .map(|l| format!("{l}\n"))
            .collect();
        expected.assert_eq(&found);
    }

    #[test]
    fn different_values_at_one_priority_conflict() {
        check(
            r#"{ networking.hostName = "edge"; }"#,
            r#"{ networking.hostName = "iso"; }"#,
            expect![[r#"
                /b.nix 1:25-1:30 conflicting-definitions: `networking.hostName` has conflicting definitions: "iso" here and "edge" in a.nix (in nixosConfigurations.box)
            "#]],
        );
        // Two mkDefaults disagree just the same.
        check(
            r#"{ lib, ... }: { networking.hostName = lib.mkDefault "edge"; }"#,
            r#"{ lib, ... }: { networking.hostName = lib.mkDefault "iso"; }"#,
            expect![[r#"
                /b.nix 1:53-1:58 conflicting-definitions: `networking.hostName` has conflicting definitions: "iso" here and "edge" in a.nix (in nixosConfigurations.box)
            "#]],
        );
        // In a submodule's option, through the attrsOf name.
        check(
            "{ users.micros.uid = 1000; }",
            "{ users = { micros = { uid = 1001; }; }; }",
            expect![[r#"
                /b.nix 1:30-1:34 conflicting-definitions: `users.micros.uid` has conflicting definitions: 1001 here and 1000 in a.nix (in nixosConfigurations.box)
            "#]],
        );
    }

    #[test]
    fn equal_values_and_priorities_merge() {
        check(
            r#"{ networking.hostName = "edge"; }"#,
            r#"{ networking.hostName = "edge"; }"#,
            expect![""],
        );
        check(
            r#"{ networking.hostName = "edge"; }"#,
            r#"{ lib, ... }: { networking.hostName = lib.mkDefault "iso"; }"#,
            expect![""],
        );
        check(
            r#"{ lib, ... }: { networking.hostName = lib.mkForce "edge"; }"#,
            r#"{ networking.hostName = "iso"; }"#,
            expect![""],
        );
        // Lists concatenate; attribute sets of submodules merge.
        check(
            "{ networking.firewall.allowedTCPPorts = [ 22 ]; users.a.uid = 1; }",
            "{ networking.firewall.allowedTCPPorts = [ 80 ]; users.b.uid = 2; }",
            expect![""],
        );
    }

    #[test]
    fn conditions_decide_or_leave_out() {
        // A condition that cannot be decided: left out.
        check(
            r#"{ config, lib, ... }: { networking.hostName = lib.mkIf (config.networking.domain != null) "edge"; }"#,
            r#"{ networking.hostName = "iso"; }"#,
            expect![""],
        );
        // One decided from the system's own definitions.
        check(
            r#"{ config, lib, ... }: { networking = lib.mkIf config.boot.isContainer { hostName = "edge"; }; boot.isContainer = true; }"#,
            r#"{ networking.hostName = "iso"; }"#,
            expect![[r#"
                /b.nix 1:25-1:30 conflicting-definitions: `networking.hostName` has conflicting definitions: "iso" here and "edge" in a.nix (in nixosConfigurations.box)
            "#]],
        );
        // And one decided false.
        check(
            r#"{ config, lib, ... }: { networking = lib.mkIf config.boot.isContainer { hostName = "edge"; }; }"#,
            r#"{ networking.hostName = "iso"; }"#,
            expect![""],
        );
        // `if` picks one branch; `//` may overwrite: neither is a conflict.
        check(
            r#"{ config, ... }: { networking.hostName = if config.boot.isContainer then "a" else "b"; }"#,
            r#"{ networking.hostName = "b"; }"#,
            expect![""],
        );
    }

    /// micros's own modules for the tests below: a service whose module
    /// defines the host name when enabled, and a plain definition.
    const MICROS: &str = r#"#- /micros/modules/web.nix
{ config, lib, ... }:
let cfg = config.services.web; in {
  options.services.web = {
    enable = lib.mkEnableOption "the web server";
    package = lib.mkOption { type = lib.types.package; description = "The package."; };
    root = lib.mkOption { type = lib.types.str; default = "/srv"; description = "The root."; };
  };
  options.networking.hostName = lib.mkOption { type = lib.types.str; default = "micros"; description = "Host."; };
  config = lib.mkIf cfg.enable { networking.hostName = "web"; };
}
#- /micros/modules/plain.nix
{ ... }: { config.services.web.root = "/var/www"; }
"#;

    fn check_with_micros(a: &str, expected: Expect) {
        let text = format!(
            r#"{MICROS}#- /flake.nix
{{ outputs = {{ micros, ... }}: {{ nixosConfigurations.box = micros.lib.microsSystem {{ modules = [ ./a.nix ]; }}; }}; }}
#- /a.nix
{a}
"#
        );
        expected.assert_eq(&diagnostics(&text));
    }

    #[test]
    fn micros_own_definitions_count_with_their_priorities() {
        check_with_micros(
            r#"{ services.web.root = "/srv/site"; }"#,
            expect![[r#"
                /a.nix 1:23-1:34 conflicting-definitions: `services.web.root` has conflicting definitions: "/srv/site" here and "/var/www" in modules/plain.nix (in nixosConfigurations.box)
            "#]],
        );
        // Under micros's `mkIf cfg.enable`: decided by the user's `enable`.
        check_with_micros(
            r#"{ services.web.enable = true; networking.hostName = "edge"; }"#,
            expect![[r#"
                /a.nix 1:53-1:59 conflicting-definitions: `networking.hostName` has conflicting definitions: "edge" here and "web" in modules/web.nix (in nixosConfigurations.box)
            "#]],
        );
        check_with_micros(r#"{ networking.hostName = "edge"; }"#, expect![""]);
    }

    #[test]
    fn one_definition_types_and_null() {
        // A package takes exactly one definition, even two equal ones.
        let text = format!(
            r#"{MICROS}#- /flake.nix
{{ outputs = {{ micros, ... }}: {{ nixosConfigurations.box = micros.lib.microsSystem {{ modules = [ ./a.nix ./b.nix ]; }}; }}; }}
#- /a.nix
{{ pkgs, ... }}: {{ services.web.package = pkgs.nginx; }}
#- /b.nix
{{ pkgs, ... }}: {{ services.web.package = pkgs.nginx; }}
"#
        );
        expect![[r#"
            /b.nix 1:41-1:51 conflicting-definitions: `services.web.package` takes exactly one definition, and it is defined here and in a.nix (in nixosConfigurations.box)
        "#]].assert_eq(&diagnostics(&text));
        check(
            "{ networking.domain = null; }",
            r#"{ networking.domain = "example.org"; }"#,
            expect![[r#"
                /a.nix 1:23-1:27 conflicting-definitions: `networking.domain` is defined both as null and as "example.org" (in b.nix) (in nixosConfigurations.box)
            "#]],
        );
    }
}

#[cfg(test)]
mod argument_tests {
    use expect_test::{Expect, expect};

    use super::tests::{diagnostics, one_system};

    /// A flake whose one system has `specialArgs` and the modules given.
    fn check(special_args: &str, modules: &[&str], expected: Expect) {
        expected.assert_eq(&diagnostics(&one_system("", special_args, modules)));
    }

    #[test]
    fn an_argument_nothing_provides() {
        check(
            "",
            &["{ config, webRoot, ... }: { }"],
            expect![[r#"
                /m0.nix 1:11-1:18 missing-module-argument: nothing provides the module argument `webRoot`
            "#]],
        );
    }

    #[test]
    fn what_the_system_and_micros_provide() {
        // specialArgs, micros's own arguments, the module system's.
        check(
            "specialArgs = { inherit inputs; };",
            &[
                "{ config, options, lib, pkgs, inputs, oci-tool, nixos-core, modulesPath, modules, baseModules, ... }: { }",
            ],
            expect![""],
        );
        // A default, and `_module.args` in another module.
        check(
            "",
            &[
                "{ webRoot ? \"/srv\", siteName, ... }: { }",
                "{ ... }: { _module.args.siteName = \"x\"; }",
            ],
            expect![""],
        );
        // Without specialArgs, `inputs` is missing.
        check(
            "",
            &["{ inputs, ... }: { }"],
            expect![[r#"
                /m0.nix 1:3-1:9 missing-module-argument: nothing provides the module argument `inputs`
            "#]],
        );
    }

    #[test]
    fn a_finding_in_only_some_systems_names_them() {
        // m.nix is in both systems; only `web` passes `inputs`.
        let text = r#"#- /flake.nix
{ outputs = { micros, ... } @ inputs: {
  nixosConfigurations.web = micros.lib.microsSystem { specialArgs = { inherit inputs; }; modules = [ ./m.nix ]; };
  nixosConfigurations.db = micros.lib.microsSystem { modules = [ ./m.nix ]; };
  nixosConfigurations.cache = micros.lib.microsSystem { modules = [ ./m.nix ]; };
}; }
#- /m.nix
{ inputs, ... }: { }
"#;
        expect![[r#"
            /m.nix 1:3-1:9 missing-module-argument: nothing provides the module argument `inputs` (in nixosConfigurations.cache, nixosConfigurations.db)
        "#]]
        .assert_eq(&diagnostics(text));
        // In every system that reaches the file: no names.
        expect![[r#"
            /m.nix 1:3-1:9 missing-module-argument: nothing provides the module argument `inputs`
        "#]]
        .assert_eq(&diagnostics(
            &text.replace("specialArgs = { inherit inputs; }; ", ""),
        ));
    }

    #[test]
    fn unsure_says_nothing() {
        // specialArgs not known statically.
        check(
            "specialArgs = inputs.self.args;",
            &["{ webRoot, ... }: { }"],
            expect![""],
        );
        // `_module.args` computed.
        check(
            "",
            &[
                "{ webRoot, ... }: { }",
                "{ lib, ... }: { _module.args = lib.mkArgs 1; }",
            ],
            expect![""],
        );
    }
}

#[cfg(test)]
mod module_check_tests {
    use expect_test::{Expect, expect};

    use super::tests::{diagnostics, one_system};

    /// micros-like modules with assertions, a warning and services.
    const MICROS: &str = r#"#- /micros/modules/firewall.nix
{ config, lib, ... }:
let cfg = config.networking.firewall; in {
  options.networking.firewall = {
    enable = lib.mkEnableOption "the firewall";
    pingLimit = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; description = "Ping limit."; };
  };
  options.networking.nftables.rulesetFile = lib.mkOption { type = lib.types.nullOr lib.types.str; default = null; description = "Ruleset."; };
  options.assertions = lib.mkOption { type = lib.types.listOf lib.types.unspecified; default = [ ]; description = "Assertions."; };
  options.warnings = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; description = "Warnings."; };
  config = lib.mkIf cfg.enable {
    assertions = [
      { assertion = cfg.pingLimit == null || !(lib.hasPrefix "--" cfg.pingLimit); message = "pingLimit takes a rate such as \"2/second\", not iptables flags"; }
      { assertion = config.networking.nftables.rulesetFile == null; message = "a ruleset file replaces the firewall's rules"; }
    ];
    warnings = lib.optional (cfg.pingLimit == "1/minute") "one ping a minute drops nearly every ping";
  };
}
#- /micros/modules/services.nix
{ config, lib, ... }: {
  options.micros.services = lib.mkOption {
    type = lib.types.attrsOf (lib.types.submodule {
      options.dependencies = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; description = "Started first."; };
      options.startScript = lib.mkOption { type = lib.types.str; default = ""; description = "Script."; };
    });
    default = { };
    description = "Services.";
  };
  options.system.logging.enable = lib.mkOption { type = lib.types.bool; default = true; description = "Logging."; };
  config = lib.mkIf config.system.logging.enable { micros.services.syslog.startScript = "syslogd"; };
}
"#;

    fn check(modules: &[&str], expected: Expect) {
        expected.assert_eq(&diagnostics(&one_system(MICROS, "", modules)));
    }

    #[test]
    fn micros_assertions_fail_at_the_definitions_involved() {
        check(
            &[
                r#"{ networking.firewall.enable = true; networking.nftables.rulesetFile = "/etc/rules.nft"; }"#,
            ],
            expect![[r#"
                /m0.nix 1:72-1:88 assertion-failed: a ruleset file replaces the firewall's rules
            "#]],
        );
        check(
            &[
                "{ networking.firewall.enable = true; }",
                r#"{ networking.firewall.pingLimit = "--limit 1/minute"; }"#,
            ],
            expect![[r#"
                /m1.nix 1:35-1:53 assertion-failed: pingLimit takes a rate such as "2/second", not iptables flags
            "#]],
        );
        // The firewall is off: its assertions do not apply.
        check(
            &[r#"{ networking.nftables.rulesetFile = "/etc/rules.nft"; }"#],
            expect![""],
        );
        // Not decidable (the limit is computed): nothing.
        check(
            &[
                "{ config, ... }: { networking.firewall.enable = true; networking.firewall.pingLimit = config.networking.hostName; }",
            ],
            expect![""],
        );
    }

    #[test]
    fn micros_warnings_are_warnings() {
        check(
            &[
                r#"{ networking.firewall.enable = true; networking.firewall.pingLimit = "1/minute"; }"#,
            ],
            expect![[r#"
                /m0.nix 1:70-1:80 module-warning: one ping a minute drops nearly every ping
            "#]],
        );
    }

    #[test]
    fn dependencies_on_services_no_module_defines() {
        check(
            &[
                r#"{ micros.services.web.dependencies = [ "syslog" "db" "networkd" ]; }"#,
                "{ micros.services.db.startScript = \"db\"; }",
            ],
            expect![[r#"
                /m0.nix 1:54-1:64 unknown-service: `micros.services.web.dependencies` depends on the service "networkd", which no module defines
            "#]],
        );
        // A service defined in a way we cannot see: nothing.
        check(
            &[
                r#"{ micros.services.web.dependencies = [ "networkd" ]; }"#,
                "{ lib, ... }: { micros.services = lib.genAttrs [ \"networkd\" ] (n: { }); }",
            ],
            expect![""],
        );
    }
}

#[cfg(test)]
mod container_tests {
    use expect_test::{Expect, expect};

    use super::tests::diagnostics;

    const CONFIGURATION: &str = "#- /configuration.nix\n{ services.getty.enable = true; networking.firewall.enable = true; }\n";
    const HARDWARE: &str = r#"#- /hardware-configuration.nix
{ ... }: {
  fileSystems."/" = { device = "tmpfs"; fsType = "tmpfs"; };
  networking.interfaces = [ { name = "eth0"; } ];
}
"#;

    /// A flake with the ISO image's modules and the container's, and the
    /// files given; only the container findings are shown.
    fn check(image: &str, container: &str, files: &str, expected: Expect) {
        let text = format!(
            r#"#- /flake.nix
{{
  outputs = {{ micros, ... }}: {{
    packages.x86_64-linux.default = (micros.lib.microsSystem {{
      modules = [ {image} ];
    }}).config.system.build.image;
    packages.x86_64-linux.container = (micros.lib.microsSystem {{
      modules = [ {container} ];
    }}).config.system.build.ociImage;
  }};
}}
{CONFIGURATION}{HARDWARE}{files}"#
        );
        let found: String = diagnostics(&text)
            .lines()
            .filter(|l| l.contains("container-"))
            .map(|l| format!("{l}\n"))
            .collect();
        expected.assert_eq(&found);
    }

    #[test]
    fn the_template_gives_neither() {
        check(
            "./configuration.nix ./hardware-configuration.nix { nixpkgs.hostPlatform = { system = \"x86_64-linux\"; }; }",
            "./configuration.nix { boot.isContainer = true; nixpkgs.hostPlatform = { system = \"x86_64-unknown-linux-musl\"; }; }",
            "",
            expect![""],
        );
    }

    #[test]
    fn hardware_in_a_container_at_the_entry_or_the_option() {
        // At the inline module's option once, however many of its parts
        // are set; an empty list sets nothing.
        check(
            "./configuration.nix ./hardware-configuration.nix",
            "./configuration.nix ./hardware-configuration.nix { boot.isContainer = true; fileSystems.\"/data\".device = \"/dev/vdb\"; fileSystems.\"/data\".fsType = \"ext4\"; networking.interfaces = [ ]; }",
            "",
            expect![[r#"
                /flake.nix 7:39-7:67 container-hardware: `./hardware-configuration.nix` sets hardware options in a container system (`boot.isContainer = true`): fileSystems, networking.interfaces (in packages.x86_64-linux.container)
                /flake.nix 7:95-7:121 container-hardware: `fileSystems."/data".device` is set in a container system (`boot.isContainer = true`), and `fileSystems` is a hardware option (in packages.x86_64-linux.container)
            "#]],
        );
    }

    #[test]
    fn hardware_through_imports_names_the_file() {
        check(
            "./configuration.nix ./hardware-configuration.nix",
            "./base.nix { boot.isContainer = true; }",
            "#- /base.nix\n{ imports = [ ./configuration.nix ./hardware-configuration.nix ]; }\n",
            expect![[r#"
                /flake.nix 7:19-7:29 container-hardware: `./base.nix` sets hardware options (in hardware-configuration.nix) in a container system (`boot.isContainer = true`): fileSystems, networking.interfaces (in packages.x86_64-linux.container)
            "#]],
        );
    }

    #[test]
    fn guarded_or_unsure_hardware_says_nothing() {
        check(
            "./configuration.nix ./hardware-configuration.nix",
            "./configuration.nix ./guarded.nix ./unsure.nix { boot.isContainer = true; }",
            r#"#- /guarded.nix
{ config, lib, ... }: { fileSystems = lib.mkIf (!config.boot.isContainer) { "/".device = "tmpfs"; }; }
#- /unsure.nix
{ lib, ... }: { networking.interfaces = lib.mkIf (builtins.pathExists ./x) [ { name = "eth0"; } ]; }
"#,
            expect![""],
        );
    }

    #[test]
    fn the_output_and_boot_is_container_go_together() {
        // The OCI image of a system that is no container, and the ISO
        // image of one that is.
        check(
            "./configuration.nix { boot.isContainer = true; }",
            "./configuration.nix",
            "",
            expect![[r#"
                /flake.nix 5:8-5:33 container-output: builds the bootable ISO image (`config.system.build.image`), but `boot.isContainer = true` leaves out its kernel modules and kernel initialisation (in packages.x86_64-linux.default)
                /flake.nix 8:8-8:36 container-output: builds the OCI container image (`config.system.build.ociImage`), but `boot.isContainer` is not `true` (in packages.x86_64-linux.container)
            "#]],
        );
        // Not known: nothing.
        check(
            "./configuration.nix",
            "./configuration.nix ({ lib, ... }: { boot.isContainer = lib.mkIf (builtins.pathExists ./x) true; })",
            "",
            expect![""],
        );
    }
}
