//! Every diagnostic of a file: syntax, names, and definitions resolved
//! against the option set.

use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::lower::SourceMap;
use crate::analysis::resolve::{Anchor, Code, FixKind};

/// The same severities the extractor reports with.
pub use micros_options::Severity;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub help: Option<String>,
    /// Replacing `range`'s text... with this fixes it (code actions).
    pub fix: Option<Fix>,
    /// Other places the finding involves (the other definitions of a
    /// conflict, the assertion that fails).
    pub related: Vec<crate::analysis::systems::Related>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub range: TextRange,
    pub replacement: String,
}

pub fn anchor_range(map: &SourceMap, anchor: Anchor) -> TextRange {
    match anchor {
        Anchor::Key(id) => map.entry(id).key,
        Anchor::Node(id) => map.node(id),
        Anchor::PathThrough(id) => {
            let entry = map.entry(id);
            TextRange::new(entry.path.start(), entry.key.end().max(entry.path.start()))
        }
    }
}

/// The file's diagnostics (a tracked query: see `db::diagnostics`).
pub fn diagnostics(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    db::diagnostics(db, file).clone()
}

pub(crate) fn compute(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    let mut out = file_diagnostics(db, file);
    add_findings(
        &mut out,
        crate::analysis::systems::findings_for(db, file, None),
    );
    out
}

/// The file's diagnostics as one system sees it (`micros check --system`):
/// in flake.nix, nothing from the inline modules of other systems; of the
/// findings across modules, that system's.
pub fn diagnostics_in(
    db: &dyn db::Db,
    file: File,
    system: crate::analysis::systems::SystemRef,
) -> Vec<Diagnostic> {
    let mut out = file_diagnostics(db, file);
    if file == system.flake {
        let model = crate::analysis::systems::flake_model(db, file);
        let entries = &crate::analysis::systems::system(db, system).modules;
        let own: Vec<TextRange> = entries
            .iter()
            .filter(|entry| matches!(entry, crate::analysis::systems::ModuleEntry::Inline { .. }))
            .map(|entry| entry.range())
            .collect();
        // Another system's missing module stops only that system.
        let others: Vec<TextRange> = model
            .systems
            .iter()
            .flat_map(|s| &s.modules)
            .map(|entry| entry.range())
            .filter(|range| !entries.iter().any(|e| e.range() == *range))
            .collect();
        out.retain(|d| {
            let elsewhere = model.inline.iter().any(|inline| {
                inline.contains_range(d.range) && !own.iter().any(|o| o.contains_range(*inline))
            });
            let other_system = d.code == Code::MissingImport && others.contains(&d.range);
            !(elsewhere || other_system)
        });
    }
    add_findings(
        &mut out,
        crate::analysis::systems::findings_for(db, file, Some(system)),
    );
    out
}

fn add_findings(
    out: &mut Vec<Diagnostic>,
    findings: Vec<crate::analysis::systems::analysis::Finding>,
) {
    for finding in findings {
        out.push(Diagnostic {
            range: finding.range,
            severity: if finding.code.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            },
            code: finding.code,
            message: finding.message,
            help: finding.help,
            fix: None,
            related: finding.related,
        });
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
}

/// Everything but the findings across a system's modules.
fn file_diagnostics(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let text_len = TextSize::of(file.text(db).as_str());
    let mut seen_syntax: std::collections::HashSet<TextSize> = Default::default();
    for (range, message) in &db::parse(db, file).errors {
        let range = TextRange::new(range.start().min(text_len), range.end().min(text_len));
        // The parser repeats itself after an error, at the same place and at
        // the end of the file: the first error is the one to fix.
        let at_the_end_again = range.start() == text_len && !seen_syntax.is_empty();
        if at_the_end_again || !seen_syntax.insert(range.start()) {
            continue;
        }
        out.push(Diagnostic {
            range,
            severity: Severity::Error,
            code: Code::SyntaxError,
            message: message.clone(),
            help: None,
            fix: None,
            related: Vec::new(),
        });
    }
    let names = db::names(db, file);
    for (name, range) in &names.undefined {
        out.push(Diagnostic {
            range: *range,
            severity: Severity::Error,
            code: Code::UndefinedVariable,
            message: format!("undefined variable `{name}`"),
            help: None,
            fix: None,
            related: Vec::new(),
        });
    }
    for unused in &names.unused {
        let name = &unused.name;
        // `inherit (lib) _mkIf;` would look for `_mkIf` in lib.
        let help = if unused.inherited {
            format!("remove `{name}` from the `inherit`")
        } else {
            format!("remove the binding, or name it `_{name}`")
        };
        out.push(Diagnostic {
            range: unused.range,
            severity: Severity::Warning,
            code: Code::UnusedBinding,
            message: format!("`{name}` is never used"),
            help: Some(help),
            fix: None,
            related: Vec::new(),
        });
    }
    out.extend(super::lints::lints(db, file));
    out.extend(super::packages::diagnostics(db, file));
    let map = db::source_map(db, file);
    // A set defining a name twice is an error in any file; the rest
    // judges definitions, and only a module makes any.
    let is_module = *crate::analysis::systems::is_module(db, file);
    if is_module {
        recursion(db, file, map, &mut out);
        out.extend(super::passwords::plaintext_passwords(db, file));
        out.extend(super::platforms::diagnostics(db, file));
    }
    // Also where a module no longer looks like one: what its imports
    // declared may be what made it look like one.
    out.extend(missing_imports(db, file));
    let definitions = db::resolution(db, file)
        .diagnostics
        .iter()
        .filter(|d| is_module || d.code == Code::DuplicateDefinition);
    for diagnostic in definitions {
        let range = anchor_range(map, diagnostic.anchor);
        let fix = diagnostic.fix.as_ref().and_then(|fix| match fix {
            FixKind::Replace(replacement) => Some(Fix {
                title: format!("Replace with `{replacement}`"),
                range,
                replacement: replacement.clone(),
            }),
            FixKind::Rename { from, to } => {
                let Anchor::PathThrough(entry) = diagnostic.anchor else {
                    return None;
                };
                rename_fix(from, to, map.entry(entry).segment as usize, range)
            }
        });
        out.push(Diagnostic {
            range,
            severity: if diagnostic.code.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            },
            code: diagnostic.code,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            fix,
            related: Vec::new(),
        });
    }
    out.extend(super::untracked::untracked_files(db, file));
    if crate::analysis::systems::is_flake(file.path(db))
        && let Some((range, message)) = &crate::analysis::systems::flake_model(db, file).unsupported
    {
        out.push(Diagnostic {
            range: *range,
            severity: Severity::Warning,
            code: Code::FlakeNotUnderstood,
            message: message.clone(),
            help: Some(
                "the files of this system are checked one by one, as modules where they look like one".into(),
            ),
            fix: None,
            related: Vec::new(),
        });
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out
}

/// Imports (and a flake's system modules) naming files not on disk.
fn missing_imports(db: &dyn db::Db, file: File) -> impl Iterator<Item = Diagnostic> {
    let missing = crate::analysis::import_graph::missing_imports(db, file);
    missing.into_iter().map(|missing| Diagnostic {
        range: missing.range,
        severity: Severity::Error,
        code: Code::MissingImport,
        message: format!(
            "`{}` does not exist; nix will stop with \"getting status of '{}': No such file or directory\"",
            missing.written,
            missing.path.display()
        ),
        help: None,
        fix: None,
        related: Vec::new(),
    })
}

/// Values and types defined in terms of themselves, and import cycles.
fn recursion(db: &dyn db::Db, file: File, map: &SourceMap, out: &mut Vec<Diagnostic>) {
    let plain = |range, severity, code, message| Diagnostic {
        range,
        severity,
        code,
        message,
        help: None,
        fix: None,
        related: Vec::new(),
    };
    for (name, range) in &map.recursion {
        out.push(plain(
            *range,
            Severity::Error,
            Code::InfiniteRecursion,
            format!("infinite recursion encountered: `{name}` is defined in terms of itself"),
        ));
    }
    for (range, message) in &db::declarations(db, file).recursion {
        out.push(plain(
            *range,
            Severity::Error,
            Code::InfiniteRecursion,
            message.clone(),
        ));
    }
    for (entry, chain) in crate::analysis::import_graph::import_cycles(db, file) {
        let shown: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
        out.push(plain(
            map.entry(entry).key,
            Severity::Warning,
            Code::ImportCycle,
            format!(
                "import cycle: {} (each file is imported once)",
                shown.join(" → ")
            ),
        ));
    }
}

/// The entry writes the last `segment + 1` segments of `from`; what comes
/// before is written elsewhere and must stay the same in `to`.
fn rename_fix(from: &[String], to: &[String], segment: usize, range: TextRange) -> Option<Fix> {
    let outside = from.len().checked_sub(segment + 1)?;
    if to.len() <= outside || from[..outside] != to[..outside] {
        return None;
    }
    let replacement = micros_options::model::show_option(&to[outside..]);
    Some(Fix {
        title: format!("Rename to `{}`", micros_options::model::show_option(to)),
        range,
        replacement,
    })
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::{fixture, fixture_with, show_range};

    fn check(text: &str, expected: Expect) {
        check_with(text, true, expected)
    }

    fn check_with(text: &str, has_nixpkgs: bool, expected: Expect) {
        let f = fixture_with(text, has_nixpkgs);
        expected.assert_eq(&render(&f.host, f.file()));
    }

    /// Every diagnostic of `file`, one a line.
    fn render(host: &crate::ide::AnalysisHost, file: crate::analysis::db::File) -> String {
        let analysis = host.snapshot();
        let source = analysis.file_text(file).unwrap();
        let mut out = String::new();
        for d in analysis.diagnostics(file).unwrap() {
            out.push_str(&format!(
                "{} {:?} {}: {}{}{}\n",
                show_range(&source, d.range),
                d.severity,
                d.code.as_str(),
                d.message,
                d.help.map(|h| format!(" [help: {h}]")).unwrap_or_default(),
                d.fix
                    .map(|f| format!(" [fix: {}]", f.replacement))
                    .unwrap_or_default(),
            ));
        }
        out
    }

    #[test]
    fn getting_started_configuration_is_clean() {
        // The template's configuration.nix and hardware-configuration.nix,
        // as MicrOS's getting-started guide shows them.
        let template = include_str!("../../../tests/fixtures/template/configuration.nix");
        let f = fixture(
            &r#"
#- /configuration.nix
{TEMPLATE}#- /hardware-configuration.nix
{ lib, ... }: {
  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;
  fileSystems."/" = { device = "/dev/vda1"; fsType = "ext4"; };
  networking.interfaces = [ { name = "eth0"; } ];
  nixpkgs.hostPlatform = { system = "x86_64-linux"; };
}
"#
            .replace("{TEMPLATE}", template),
        );
        let analysis = f.host.snapshot();
        for (path, file) in &f.files {
            let diagnostics = analysis.diagnostics(*file).unwrap();
            assert!(
                diagnostics.is_empty(),
                "{}: {diagnostics:#?}",
                path.display()
            );
        }
    }

    #[test]
    fn imports_of_absent_files_are_missing_imports() {
        let mut f = fixture(
            r#"
#- /site/flake.nix
{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = micros.lib.microsSystem {
      modules = [ ./configuration.nix ./hosts/gone.nix ./elsewhere.nix ];
    };
  };
}
#- /site/configuration.nix
{ ... }: {
  imports = [ ./gone.nix ./hardware.nix ../outside.nix ];
  services.getty.enable = true;
}
#- /site/hardware.nix
{ ... }: { }
"#,
        );
        let show = |f: &crate::ide::fixture::Fixture, path: &str| {
            render(&f.host, f.host.file(std::path::Path::new(path)).unwrap())
        };
        // Nothing was looked for and not found: nothing is said (a file the
        // workspace does not hold may exist outside it).
        assert_eq!(show(&f, "/site/configuration.nix"), "");
        assert_eq!(show(&f, "/site/flake.nix"), "");
        for path in ["/site/gone.nix", "/site/hosts/gone.nix", "/outside.nix"] {
            f.host.set_absent(std::path::Path::new(path), true);
        }
        expect![[r#"
            2:15-2:25 Error missing-import: `./gone.nix` does not exist; nix will stop with "getting status of '/site/gone.nix': No such file or directory"
            2:41-2:55 Error missing-import: `../outside.nix` does not exist; nix will stop with "getting status of '/outside.nix': No such file or directory"
        "#]]
        .assert_eq(&show(&f, "/site/configuration.nix"));
        expect![[r#"
            5:39-5:55 Error missing-import: `./hosts/gone.nix` does not exist; nix will stop with "getting status of '/site/hosts/gone.nix': No such file or directory"
        "#]]
        .assert_eq(&show(&f, "/site/flake.nix"));
        // Back on disk: cleared.
        f.host
            .set_absent(std::path::Path::new("/site/gone.nix"), false);
        assert!(!show(&f, "/site/configuration.nix").contains("gone.nix"));
    }

    #[test]
    fn unknown_options_with_did_you_mean() {
        check(
            r#"{ config, lib, ... }: {
  services.gety.enable = true;
  services.getty.enabel = true;
  users.alice.uidd = 1;
  micros.services.web.startonboot = true;
  networking.interfaces = [ { nmae = "eth0"; } ];
  totally.unrelated = 1;
}"#,
            expect![[r#"
                2:12-2:16 Error unknown-option: the option `services.gety` does not exist [help: did you mean `services.getty`?] [fix: getty]
                3:18-3:24 Error unknown-option: the option `services.getty.enabel` does not exist [help: did you mean `services.getty.enable`?] [fix: enable]
                4:15-4:19 Error unknown-option: the option `users.alice.uidd` does not exist [help: did you mean `users.alice.uid`?] [fix: uid]
                5:23-5:34 Error unknown-option: the option `micros.services.web.startonboot` does not exist [help: did you mean `micros.services.web.startOnBoot`?] [fix: startOnBoot]
                6:31-6:35 Error unknown-option: the option `networking.interfaces.*.nmae` does not exist [help: did you mean `networking.interfaces.*.name`?] [fix: name]
                7:3-7:10 Error unknown-option: the option `totally` does not exist
            "#]],
        );
    }

    #[test]
    fn values_that_do_not_fit() {
        check(
            r#"{
  services.getty.enable = "yes";
  users.root.uid = "0";
  micros.services.a.type = "oneshoot";
  networking.firewall.allowedTCPPorts = [ 22 70000 ];
  networking.hostName = "not a hostname";
  networking.interfaces = [ { name = "eth0"; ipv4.address = "10.0.0.1"; } ];
  boot.kernel.sysctl."vm.swappiness" = [ 1 ];
  fileSystems."/".fsType = null;
  environment.systemPackages = [ true ];
  micros.services.b.dependencies = "a";
}"#,
            expect![[r#"
                2:27-2:32 Error type-mismatch: `services.getty.enable` is the string "yes", but its type is boolean
                3:20-3:23 Error type-mismatch: `users.root.uid` is the string "0", but its type is null or signed integer
                4:28-4:38 Error type-mismatch: the string "oneshoot" is not a valid value of `micros.services.a.type`: expected one of "longrun", "oneshot" [help: did you mean "oneshot"?] [fix: "oneshot"]
                5:46-5:51 Error type-mismatch: 70000 is out of range for `networking.firewall.allowedTCPPorts.*`: 16 bit unsigned integer; between 0 and 65535 (both inclusive)
                6:25-6:41 Error type-mismatch: "not a hostname" does not match the pattern of `networking.hostName`: ^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$
                7:61-7:71 Error type-mismatch: "10.0.0.1" does not match the pattern of `networking.interfaces.*.ipv4.address`: ^([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}$
                8:40-8:45 Error type-mismatch: `boot.kernel.sysctl."vm.swappiness"` is a list, but its type is null or boolean or string or signed integer
                9:28-9:32 Error type-mismatch: `fileSystems."/".fsType` is null, but its type is string
                10:34-10:38 Error type-mismatch: `environment.systemPackages.*` is the boolean true, but its type is package
                11:36-11:39 Error type-mismatch: `micros.services.b.dependencies` is the string "a", but its type is list of string
            "#]],
        );
    }

    #[test]
    fn undecidable_values_are_never_reported() {
        check(
            r#"{ config, lib, pkgs, ... }:
let port = 22; common = { startOnBoot = true; };
in {
  services.getty.enable = config.boot.isContainer;
  users.root.uid = lib.toInt "0";
  users.${config.networking.hostName}.uid = 1;
  networking.hostName = "${config.networking.domain}-host";
  networking.firewall.allowedTCPPorts = [ port ] ++ [ 80 ];
  micros.services.a = common // { type = if config.boot.isContainer then "oneshot" else "longrun"; };
  environment.systemPackages = with pkgs; [ vim ];
  boot.kernel.sysctl = lib.mkIf config.boot.isContainer { "net.core.somaxconn" = 1024; };
  fileSystems = lib.mkMerge [ { "/".device = "/dev/vda"; } (lib.mkIf true { "/boot".fsType = "vfat"; }) ];
}"#,
            expect![""],
        );
    }

    #[test]
    fn wrappers_and_let_bindings_are_followed() {
        check(
            r#"{ lib, ... }:
let
  mkService = name: { "${name}".type = "forever"; };
  shared = { startOnBoot = 1; };
in {
  micros.services = lib.mkMerge [ (mkService "a") { b = shared; } ];
  services.getty = lib.mkIf true (lib.mkDefault { enable = 3; });
}"#,
            expect![[r#"
                4:28-4:29 Error type-mismatch: `micros.services.b.startOnBoot` is the integer 1, but its type is boolean
                7:60-7:61 Error type-mismatch: `services.getty.enable` is the integer 3, but its type is boolean
            "#]],
        );
    }

    #[test]
    fn an_unused_inherit_is_removed_not_renamed() {
        // Renamed to `_mkForce`, the inherit would look for `_mkForce` in lib.
        check(
            r#"{ lib, ... }:
let inherit (lib) mkIf mkForce; spare = 1;
in { networking.hostName = mkIf true "a"; }"#,
            expect![[r#"
                2:24-2:31 Warning unused-binding: `mkForce` is never used [help: remove `mkForce` from the `inherit`]
                2:33-2:38 Warning unused-binding: `spare` is never used [help: remove the binding, or name it `_spare`]
            "#]],
        );
    }

    #[test]
    fn duplicates_migrations_read_only_names_and_syntax() {
        check(
            r#"{ lib, pkgs, ... }:
let unused = 1; used = 2;
in {
  networking.domainName = "example.org";
  networking.useDHCP = true;
  system.stateVersion = "24.11";
  services.getty.enable = true;
  services.getty.enable = false;
  users.root.uid = used + undefinedThing;
  networking = { hostName = "a" }
}"#,
            expect![[r#"
                2:5-2:11 Warning unused-binding: `unused` is never used [help: remove the binding, or name it `_unused`]
                4:3-4:24 Warning renamed-option: the option `networking.domainName` has been renamed to `networking.domain` [help: use `networking.domain` instead] [fix: networking.domain]
                5:3-5:21 Error removed-option: the option `networking.useDHCP` has been removed: DHCP is configured per interface.
                6:10-6:22 Error read-only-option: `system.stateVersion` is read-only: it is set by the module that declares it
                8:18-8:24 Error duplicate-definition: this attribute is already defined in this set [help: Nix rejects a set that defines the same attribute twice; merge the two definitions]
                9:27-9:41 Error undefined-variable: undefined variable `undefinedThing`
                10:33-11:2 Error syntax-error: expected `;`, found `}`
            "#]],
        );
    }

    /// A file no system reaches is judged as a module only when it looks
    /// like one; library, data and package files get syntax and names.
    #[test]
    fn library_data_and_package_files_are_not_modules() {
        // Library code: `lib` alone, names of its own.
        check(
            r#"{ lib }: {
  mkThing = name: { inherit name; services = 1; };
  hostNames = [ "a" "b" ];
}"#,
            expect![""],
        );
        // Library code taking `...`, still no module argument.
        check(
            "{ lib, ... }: rec { helpers.enable = 1; networking = helpers; }",
            expect![""],
        );
        // Data.
        check(
            r#"{ web = { ip = "10.0.0.1"; }; db.ip = "10.0.0.2"; }"#,
            expect![""],
        );
        // An overlay: a function returning a function is never a module.
        check(
            "self: super: { services = super.services // { extra = 1; }; }",
            expect![""],
        );
        // A package expression.
        check(
            r#"{ stdenv, fetchurl }: stdenv.mkDerivation { pname = "x"; version = "1"; }"#,
            expect![""],
        );
        // Syntax, names and duplicates still count everywhere.
        check(
            "{ lib }: { a = 1; a = 2; b = undefinedName; }",
            expect![[r#"
                1:19-1:20 Error duplicate-definition: this attribute is already defined in this set [help: Nix rejects a set that defines the same attribute twice; merge the two definitions]
                1:30-1:43 Error undefined-variable: undefined variable `undefinedName`
            "#]],
        );
    }

    /// What looks like a module is checked as one, wherever it is.
    #[test]
    fn files_that_look_like_modules_are_checked() {
        // Module arguments with `...`.
        check(
            "{ pkgs, ... }: { servics.getty.enable = true; }",
            expect![[r#"
                1:18-1:25 Error unknown-option: the option `servics` does not exist [help: did you mean `services`?] [fix: services]
            "#]],
        );
        // The structured form.
        check(
            "{ lib }: { imports = [ ]; config.services.getty.enabel = true; }",
            expect![[r#"
                1:49-1:55 Error unknown-option: the option `services.getty.enabel` does not exist [help: did you mean `services.getty.enable`?] [fix: enable]
            "#]],
        );
        // Only option roots at the top, as hardware-configuration.nix has.
        check(
            "{ ... }: { boot.isContainr = true; fileSystems = { }; }",
            expect![[r#"
                1:17-1:27 Error unknown-option: the option `boot.isContainr` does not exist [help: did you mean `boot.isContainer`?] [fix: isContainer]
            "#]],
        );
    }

    /// Nix's global names are defined without `builtins.`; the other
    /// builtins (here `fetchurl`) only through it or as `__name`.
    #[test]
    fn global_names_are_nixs_own() {
        check(
            r#"let
  used = [ fromTOML break fetchTree fetchGit derivationStrict scopedImport placeholder ];
  alsoUsed = [ builtins.fetchurl __fetchurl builtins.fromTOML ];
  notGlobal = fetchurl;
in { services.getty.enable = builtins.isList (used ++ alsoUsed ++ [ notGlobal ]); }"#,
            expect![[r#"
                4:15-4:23 Error undefined-variable: undefined variable `fetchurl`
            "#]],
        );
    }

    #[test]
    fn missing_nixpkgs_silences_its_prefixes_only() {
        check_with(
            r#"{
  boot.kernelPackages = 1;
  environment.etc."hosts".text = "x";
  nixpkgs.config.allowUnfree = true;
  assertions = [ ];
  services.getty.enabel = true;
}"#,
            false,
            expect![[r#"
                6:18-6:24 Error unknown-option: the option `services.getty.enabel` does not exist [help: did you mean `services.getty.enable`?] [fix: enable]
            "#]],
        );
    }

    /// A missing `;` is one error at the end of the line that lacks it; the
    /// lines after it are read as if it were there.
    #[test]
    fn a_missing_semicolon_is_one_error_where_it_is_missing() {
        check(
            "{\n  services.getty.enable = true\n  networking.firewall.enable = true;\n}\n",
            expect![[r#"
                2:31-2:31 Error syntax-error: expected `;` after this value
            "#]],
        );
        // Three of them, one before a comment; what follows is still checked.
        check(
            "{ lib, ... }:\nlet port = 22 # ssh\nin {\n  services.getty.enable = true\n  networking.firewall.allowedTCPPorts = [ port ]\n  networking.firewall.enable = 1;\n}\n",
            expect![[r#"
                2:14-2:14 Error syntax-error: expected `;` after this value
                4:31-4:31 Error syntax-error: expected `;` after this value
                5:49-5:49 Error syntax-error: expected `;` after this value
                6:32-6:33 Error type-mismatch: `networking.firewall.enable` is the integer 1, but its type is boolean
            "#]],
        );
        // At the end of a set.
        check(
            "{\n  services.getty.enable = true\n}\n",
            expect![[r#"
                2:31-2:31 Error syntax-error: expected `;` after this value
            "#]],
        );
        // Not a missing `;`: the errors stay the parser's.
        check(
            "{ networking = { hostName = \"a\" }; }\n",
            expect![[r#"
                1:33-1:34 Error syntax-error: expected `;`, found `}`
            "#]],
        );
        check(
            "{\n  networking = {\n    fire\n  };\n}\n",
            expect![[r#"
                4:4-5:2 Error syntax-error: expected `:`, found `;`
            "#]],
        );
    }

    /// Half-typed lines are syntax errors, and only that: the parser's
    /// recovery must not surface as duplicates or unknown options.
    #[test]
    fn unfinished_lines_report_only_the_syntax_error() {
        // Still valid Nix: the next line continues the path.
        check(
            "{\n  services.\n  services.getty.enable = true;\n}\n",
            expect![[r#"
                3:3-3:11 Error unknown-option: the option `services.services` does not exist
            "#]],
        );
        check(
            "{\n  services.getty.enable = true;\n  services.\n}\n",
            expect![[r#"
                4:1-4:2 Error syntax-error: expected a name, found `}`
            "#]],
        );
        check(
            "{\n  services.getty.enable = true;\n  services.getty.\n  users.alice.uid = 1;\n}\n",
            expect![[r#"
                4:3-4:8 Error unknown-option: the option `services.getty.users` does not exist [help: the closest declared options are `services.getty.enable`, `services.getty.terminal`]
            "#]],
        );
        check(
            "{\n  services.getty.enable = true;\n  boot.kern\n}\n",
            expect![[r#"
                4:1-4:2 Error syntax-error: expected `=`, found `}`
            "#]],
        );
        check(
            "{\n  boot.kern\n  services.getty.enable = true;\n}\n",
            expect![[r#"
                3:3-3:24 Error syntax-error: expected `=`, found a name
            "#]],
        );
        check(
            "{ lib, ... }: {\n  services.getty.enable = true;\n  servic\n}\n",
            expect![[r#"
                4:1-4:2 Error syntax-error: expected `=`, found `}`
            "#]],
        );
    }
}
