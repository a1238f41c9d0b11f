//! Rename a binding and its uses, or an option the workspace declares with
//! its declaration, definitions and reads. Refused, with the reason: an
//! option micros or nixpkgs declares, a name that is not a Nix
//! identifier, a name a use would then mean something else by.

use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::scopes::{DefKind, ScopeId, Scopes, Target};
use crate::ide::references::{Occurrence, ReferenceKind, Symbol, occurrences, symbol_at};

/// What the cursor is on, and the name a client can offer to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renameable {
    pub range: TextRange,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    pub file: File,
    /// Sorted, not overlapping.
    pub edits: Vec<TextEdit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub insert: String,
}

pub fn prepare_rename(db: &dyn db::Db, file: File, offset: TextSize) -> Result<Renameable, String> {
    let (symbol, range) = symbol_at(db, file, offset).ok_or("there is no name here to rename")?;
    check_symbol(db, &symbol)?;
    let name = file.text(db)[range].to_string();
    Ok(Renameable { range, name })
}

pub fn rename(
    db: &dyn db::Db,
    file: File,
    offset: TextSize,
    new_name: &str,
) -> Result<Vec<FileEdit>, String> {
    let (symbol, _) = symbol_at(db, file, offset).ok_or("there is no name here to rename")?;
    check_symbol(db, &symbol)?;
    check_identifier(new_name)?;
    let (old_name, places) = match &symbol {
        Symbol::Binding(file, def) => {
            let scopes = crate::analysis::scopes::scopes(db, *file);
            check_capture(db, *file, scopes, *def, new_name)?;
            (
                scopes.def(*def).name.clone(),
                occurrences(db, &symbol, None),
            )
        }
        Symbol::Option(loc) => {
            check_option_name_free(db, loc, new_name)?;
            let old = loc.last().cloned().unwrap_or_default();
            (old, occurrences(db, &symbol, None))
        }
    };
    if old_name == new_name {
        return Ok(Vec::new());
    }
    let mut by_file: Vec<FileEdit> = Vec::new();
    for place in &places {
        let text = place.file.text(db);
        let written = &text[place.range];
        // Definitions through a renamed option's old name say another name.
        if written.trim_matches('"') != old_name {
            continue;
        }
        let edits = edits_for(db, &symbol, place, &old_name, new_name);
        match by_file.iter_mut().find(|f| f.file == place.file) {
            Some(existing) => existing.edits.extend(edits),
            None => by_file.push(FileEdit {
                file: place.file,
                edits,
            }),
        }
    }
    for file_edit in &mut by_file {
        file_edit
            .edits
            .sort_by_key(|e| (e.range.start(), e.range.end()));
        file_edit.edits.dedup();
    }
    Ok(by_file)
}

fn check_symbol(db: &dyn db::Db, symbol: &Symbol) -> Result<(), String> {
    match symbol {
        Symbol::Binding(file, def) => {
            let scopes = crate::analysis::scopes::scopes(db, *file);
            let binding = scopes.def(*def);
            if binding.kind == DefKind::Formal {
                return Err(format!(
                    "`{}` is a function argument its callers pass by name; renaming it here would not rename it where it is passed",
                    binding.name
                ));
            }
            let text = file.text(db);
            if binding.sites.iter().any(|site| text[*site] != binding.name) {
                return Err(format!(
                    "`{}` is written as a string here; rename it by hand",
                    binding.name
                ));
            }
            Ok(())
        }
        Symbol::Option(loc) => {
            let index = db::option_index(db, db.workspace());
            let name = micros_options::model::show_option(loc);
            let option = super::trie_at(index, loc)
                .and_then(|t| t.option.clone())
                .ok_or_else(|| format!("`{name}` is not a declared option"))?;
            if let Some(declaration) = option
                .declarations
                .iter()
                .find(|d| d.file.root != micros_options::model::RootKind::User)
            {
                let by = match declaration.file.root {
                    micros_options::model::RootKind::Nixpkgs => "nixpkgs",
                    _ => "micros",
                };
                return Err(format!(
                    "`{name}` is declared by {by} ({}); only options your own modules declare can be renamed",
                    declaration.file.display_name()
                ));
            }
            let in_workspace = |d: &micros_options::model::Declaration| {
                index
                    .declaration_path(d)
                    .is_some_and(|path| db_file(db, &path).is_some())
            };
            if option.declarations.is_empty() || !option.declarations.iter().all(in_workspace) {
                return Err(format!(
                    "`{name}` is declared in a file the workspace does not hold; open it first"
                ));
            }
            Ok(())
        }
    }
}

fn db_file(db: &dyn db::Db, path: &std::path::Path) -> Option<File> {
    db.workspace()
        .files(db)
        .iter()
        .copied()
        .find(|f| f.path(db) == path)
}

const KEYWORDS: &[&str] = &[
    "if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or",
];

fn check_identifier(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'));
    if !valid {
        return Err(format!(
            "`{name}` is not a valid Nix identifier (a letter or `_`, then letters, digits, `_`, `'` or `-`)"
        ));
    }
    if KEYWORDS.contains(&name) {
        return Err(format!("`{name}` is a Nix keyword"));
    }
    Ok(())
}

/// The new name must not change what any name means: the renamed uses must
/// still find the binding, and no other use may find it instead.
fn check_capture(
    db: &dyn db::Db,
    file: File,
    scopes: &Scopes,
    def: crate::analysis::scopes::DefId,
    new_name: &str,
) -> Result<(), String> {
    let text = file.text(db);
    let line = |range: TextRange| super::references::line_of(text, range.start());
    let binding = scopes.def(def);
    if let Some(other) = scopes.scope(binding.scope).names.get(new_name)
        && *other != def
    {
        let site = scopes.def(*other).sites[0];
        return Err(format!(
            "`{new_name}` is already bound here, on line {}",
            line(site)
        ));
    }
    // A binding of the new name between a use and the binding would take
    // the use.
    for used in scopes.uses(def) {
        for scope in scopes.chain(used.scope) {
            if scope == binding.scope {
                break;
            }
            if let Some(shadow) = scopes.scope(scope).names.get(new_name) {
                return Err(format!(
                    "the use on line {} would then mean the `{new_name}` bound on line {}",
                    line(used.range),
                    line(scopes.def(*shadow).sites[0])
                ));
            }
        }
    }
    // A use of the new name inside the binding's scope would take it.
    for other in scopes.refs.iter().filter(|r| r.name == new_name) {
        if !within(scopes, other.scope, binding.scope) {
            continue;
        }
        let nearer = match other.target {
            Target::Def(d) => {
                let found = scopes.def(d).scope;
                found != binding.scope && within(scopes, found, binding.scope)
            }
            _ => false,
        };
        if !nearer {
            return Err(format!(
                "`{new_name}` on line {} would then mean this binding instead of {}",
                line(other.range),
                match other.target {
                    Target::Def(d) => format!("the one on line {}", line(scopes.def(d).sites[0])),
                    Target::With(_) => "what `with` brings".into(),
                    Target::Global => format!("Nix's global `{new_name}`"),
                    Target::Undefined => "nothing (it is undefined)".into(),
                }
            ));
        }
    }
    Ok(())
}

/// Whether `inner` is `outer` or nested in it.
fn within(scopes: &Scopes, inner: ScopeId, outer: ScopeId) -> bool {
    scopes.chain(inner).any(|s| s == outer)
}

/// The option's siblings must not have the new name already.
fn check_option_name_free(db: &dyn db::Db, loc: &[String], new_name: &str) -> Result<(), String> {
    let index = db::option_index(db, db.workspace());
    let parent = &loc[..loc.len().saturating_sub(1)];
    let siblings = match parent {
        [] => Some(&index.root),
        _ => super::trie_at(index, parent),
    };
    // Inside a submodule the parent is the submodule's trie.
    let siblings = siblings.map(|t| match &t.option {
        Some(option) => option
            .ty
            .sub_options()
            .and_then(|(_, sub)| index.submodule(sub))
            .unwrap_or(t),
        None => t,
    });
    if siblings.is_some_and(|t| t.children.contains_key(new_name)) {
        let mut taken = parent.to_vec();
        taken.push(new_name.to_string());
        return Err(format!(
            "`{}` already exists",
            micros_options::model::show_option(&taken)
        ));
    }
    Ok(())
}

/// The edits for one place: the name replaced, or, for a name written in
/// an `inherit`, the attribute taken out and bound on its own (an
/// `inherit` of that one name is replaced as a whole).
fn edits_for(
    db: &dyn db::Db,
    symbol: &Symbol,
    place: &Occurrence,
    old_name: &str,
    new_name: &str,
) -> Vec<TextEdit> {
    let Some(site) = place.inherit else {
        return vec![TextEdit {
            range: place.range,
            insert: new_name.to_string(),
        }];
    };
    let text = place.file.text(db);
    // The binding keeps its name where only the attribute changes, and the
    // other way round.
    let binding_renamed = match symbol {
        Symbol::Binding(..) => place.kind == ReferenceKind::Declaration,
        Symbol::Option(_) => false,
    };
    let (bound, attribute) = match binding_renamed {
        true => (new_name, old_name),
        false => (old_name, new_name),
    };
    let value = match site.from {
        Some(from) => {
            let from = &text[from];
            let simple = from
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-' | '.'));
            if simple {
                format!("{from}.{attribute}")
            } else {
                format!("({from}).{attribute}")
            }
        }
        None => attribute.to_string(),
    };
    let binding = format!("{bound} = {value};");
    let root = db::parse(db, place.file).root();
    let names = root
        .syntax()
        .descendants()
        .filter_map(rnix::ast::Inherit::cast)
        .find(|i| i.syntax().text_range() == site.inherit)
        .map_or(1, |i| i.attrs().count());
    if names <= 1 {
        return vec![TextEdit {
            range: site.inherit,
            insert: binding,
        }];
    }
    // Take the attribute (and the whitespace before it) out; bind it after.
    let start = text[..usize::from(place.range.start())].trim_end().len();
    vec![
        TextEdit {
            range: TextRange::new(TextSize::from(start as u32), place.range.end()),
            insert: String::new(),
        },
        TextEdit {
            range: TextRange::empty(site.inherit.end()),
            insert: format!(" {binding}"),
        },
    ]
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::fixture;

    /// The files after the rename, or the refusal.
    fn check(text: &str, new_name: &str, expected: Expect) {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let out = match analysis.rename(file, offset, new_name).unwrap() {
            Ok(edits) => {
                let mut out = String::new();
                for file_edit in edits {
                    let mut text = analysis.file_text(file_edit.file).unwrap();
                    for edit in file_edit.edits.iter().rev() {
                        text.replace_range(
                            std::ops::Range::<usize>::from(edit.range),
                            &edit.insert,
                        );
                    }
                    let path = f
                        .files
                        .iter()
                        .find(|(_, f)| *f == file_edit.file)
                        .map(|(p, _)| p.display().to_string())
                        .unwrap_or_default();
                    out.push_str(&format!("#- {path}\n{}\n", text.trim_end()));
                }
                out
            }
            Err(message) => format!("refused: {message}\n"),
        };
        expected.assert_eq(&out);
    }

    #[test]
    fn bindings_and_their_uses() {
        check(
            "{ lib, ... }: let po$0rt = 22; other = port; in { x = port; inherit port; y = let inherit port; in port; }",
            "sshPort",
            expect![[r#"
                #- /configuration.nix
                { lib, ... }: let sshPort = 22; other = sshPort; in { x = sshPort; port = sshPort; y = let port = sshPort; in port; }
            "#]],
        );
        check(
            "let a.x = 1; a.y = 2; f = n$0: n + 1; in { b = a; c = f 2; }",
            "k",
            expect![[r#"
                #- /configuration.nix
                let a.x = 1; a.y = 2; f = k: k + 1; in { b = a; c = f 2; }
            "#]],
        );
        check(
            "let a$0.x = 1; a.y = 2; in a",
            "k",
            expect![[r#"
            #- /configuration.nix
            let k.x = 1; k.y = 2; in k
        "#]],
        );
        check(
            "{ lib, ... }: let inherit (lib) mk$0If mkForce; in { x = mkIf; }",
            "when",
            expect![[r#"
                #- /configuration.nix
                { lib, ... }: let inherit (lib) mkForce; when = lib.mkIf; in { x = when; }
            "#]],
        );
    }

    #[test]
    fn refused_bindings() {
        check(
            "{ pk$0gs, ... }: { x = pkgs; }",
            "p",
            expect![[r#"
            refused: `pkgs` is a function argument its callers pass by name; renaming it here would not rename it where it is passed
        "#]],
        );
        check(
            "let a$0 = 1; in a",
            "2x",
            expect![[r#"
            refused: `2x` is not a valid Nix identifier (a letter or `_`, then letters, digits, `_`, `'` or `-`)
        "#]],
        );
        check(
            "let a$0 = 1; in a",
            "in",
            expect![[r#"
            refused: `in` is a Nix keyword
        "#]],
        );
        check(
            "let a$0 = 1; b = 2; in a + b",
            "b",
            expect![[r#"
            refused: `b` is already bound here, on line 1
        "#]],
        );
        check(
            "let a$0 = 1; in let b = 2; in a + b",
            "b",
            expect![[r#"
            refused: the use on line 1 would then mean the `b` bound on line 1
        "#]],
        );
        check(
            "let a$0 = 1; in [ a map ]",
            "map",
            expect![[r#"
            refused: `map` on line 1 would then mean this binding instead of Nix's global `map`
        "#]],
        );
        check(
            "{ x = tr$0ue; }",
            "y",
            expect![[r#"
            refused: there is no name here to rename
        "#]],
        );
    }

    #[test]
    fn options_the_workspace_declares() {
        let web = crate::ide::references::tests::WEB;
        // Declaration, definitions and reads, in every module.
        check(
            &web.replace("    port = lib.mkOption", "    po$0rt = lib.mkOption"),
            "listenPort",
            expect![[r##"
                #- /configuration.nix
                { imports = [ ./web.nix ]; my.web.listenPort = 8080; my.web = { enable = true; }; }
                #- /other.nix
                { config, ... }: { my.web.listenPort = 1; services.getty.enable = config.my.web.enable; }
                #- /web.nix
                { config, lib, ... }:
                let
                  cfg = config.my.web;
                  port = config.my.web.listenPort;
                in {
                  options.my.web = {
                    enable = lib.mkEnableOption "the web server";
                    listenPort = lib.mkOption { type = lib.types.port; default = 80; };
                  };
                  config = lib.mkIf cfg.enable {
                    networking.firewall.allowedTCPPorts = [ cfg.listenPort port config.my.web.listenPort ];
                  };
                }
            "##]],
        );
        // From a read through `inherit (config.my.web)`.
        check(
            &web.replace(
                "inherit (config.my.web) port;",
                "inherit (config.my.web) po$0rt;",
            ),
            "listenPort",
            expect![[r##"
                #- /configuration.nix
                { imports = [ ./web.nix ]; my.web.listenPort = 8080; my.web = { enable = true; }; }
                #- /other.nix
                { config, ... }: { my.web.listenPort = 1; services.getty.enable = config.my.web.enable; }
                #- /web.nix
                { config, lib, ... }:
                let
                  cfg = config.my.web;
                  port = config.my.web.listenPort;
                in {
                  options.my.web = {
                    enable = lib.mkEnableOption "the web server";
                    listenPort = lib.mkOption { type = lib.types.port; default = 80; };
                  };
                  config = lib.mkIf cfg.enable {
                    networking.firewall.allowedTCPPorts = [ cfg.listenPort port config.my.web.listenPort ];
                  };
                }
            "##]],
        );
    }

    #[test]
    fn refused_options() {
        let web = crate::ide::references::tests::WEB;
        check(
            &web.replace("services.getty.enable", "services.getty.ena$0ble"),
            "on",
            expect![[r#"
                refused: `services.getty.enable` is declared by micros (modules/getty.nix); only options your own modules declare can be renamed
            "#]],
        );
        check(
            &web.replace("    port = lib.mkOption", "    po$0rt = lib.mkOption"),
            "enable",
            expect![[r#"
                refused: `my.web.enable` already exists
            "#]],
        );
        check(
            &web.replace("    port = lib.mkOption", "    po$0rt = lib.mkOption"),
            "listen port",
            expect![[r#"
                refused: `listen port` is not a valid Nix identifier (a letter or `_`, then letters, digits, `_`, `'` or `-`)
            "#]],
        );
    }
}
