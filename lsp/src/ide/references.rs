//! Find references: of a binding (`let`, `rec`, function arguments,
//! `inherit`), in its file; of an option, across the workspace's modules:
//! each definition (`my.web.port = 80;`), each read (`config.my.web.port`,
//! `cfg.port` after `cfg = config.my.web;`) and its declaration.

use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::resolve::KeyMeaning;
use crate::analysis::scopes::{DefId, InheritSite};
use crate::ide::goto_definition::Target;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: Target,
    pub kind: ReferenceKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReferenceKind {
    /// Where a binding is bound, or an option declared.
    Declaration,
    /// Where an option is given a value.
    Definition,
    /// Where a binding or an option is read.
    Read,
}

/// What a name at the cursor stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Symbol {
    Binding(File, DefId),
    /// An option, by its loc (placeholders included).
    Option(Vec<String>),
}

/// One place a symbol is written, in a file of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Occurrence {
    pub file: File,
    pub range: TextRange,
    pub kind: ReferenceKind,
    /// Written as an attribute of this `inherit`.
    pub inherit: Option<InheritSite>,
}

pub fn references(
    db: &dyn db::Db,
    file: File,
    offset: TextSize,
    include_declaration: bool,
) -> Vec<Reference> {
    let Some((symbol, _)) = symbol_at(db, file, offset) else {
        return Vec::new();
    };
    let mut out: Vec<Reference> = occurrences(db, &symbol, None)
        .into_iter()
        .filter(|o| include_declaration || o.kind != ReferenceKind::Declaration)
        .map(|o| Reference {
            target: Target {
                path: o.file.path(db).clone(),
                range: Some(o.range),
                line: line_of(o.file.text(db), o.range.start()),
            },
            kind: o.kind,
        })
        .collect();
    // Declarations outside the workspace (micros, nixpkgs) are found where
    // they are, as go to definition finds them.
    if include_declaration && let Symbol::Option(loc) = &symbol {
        let index = db::option_index(db, db.workspace());
        let option = super::trie_at(index, loc).and_then(|t| t.option.clone());
        for declaration in option.iter().flat_map(|o| o.declarations.iter()) {
            let Some(path) = index.declaration_path(declaration) else {
                continue;
            };
            if out.iter().any(|r| r.target.path == path) {
                continue;
            }
            out.push(Reference {
                target: Target {
                    path,
                    range: declaration
                        .range
                        .map(|(s, e)| TextRange::new(s.into(), e.into())),
                    line: declaration.line,
                },
                kind: ReferenceKind::Declaration,
            });
        }
    }
    out
}

pub(crate) fn line_of(text: &str, offset: TextSize) -> u32 {
    let offset = usize::from(offset).min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u32
        + 1
}

/// The modules references are looked for in: every file of the database
/// that is analysed as a module (open files, what they import, and the
/// modules of the flake's systems as the front ends load them).
pub(crate) fn workspace_modules(db: &dyn db::Db) -> Vec<File> {
    db.workspace()
        .files(db)
        .iter()
        .copied()
        .filter(|file| *crate::analysis::systems::is_module(db, *file))
        .collect()
}

/// The symbol named at `offset`, and the range of that name.
pub(crate) fn symbol_at(
    db: &dyn db::Db,
    file: File,
    offset: TextSize,
) -> Option<(Symbol, TextRange)> {
    // An option defined here.
    if let Some((entry, range)) = super::entry_at(db, file, offset)
        && let Some(KeyMeaning::Option(option)) = db::resolution(db, file).keys.get(&entry)
    {
        return Some((Symbol::Option(option.loc.clone()), range));
    }
    // An option read here (`config.a.b`, `inherit (cfg) b;`).
    let reads = crate::analysis::option_uses::reads(db, file);
    if let Some(read) = reads.iter().find(|r| r.range.contains_inclusive(offset)) {
        return Some((Symbol::Option(read.loc.clone()), read.range));
    }
    // An option declared here.
    let declared = crate::analysis::option_uses::declarations(db, file);
    if let Some((loc, range)) = declared.iter().find(|(_, r)| r.contains_inclusive(offset)) {
        return Some((Symbol::Option(loc.clone()), *range));
    }
    let scopes = crate::analysis::scopes::scopes(db, file);
    let def = scopes.at(offset)?;
    let binding = scopes.def(def);
    let range = binding
        .sites
        .iter()
        .chain(scopes.uses(def).map(|r| &r.range))
        .find(|r| r.contains_inclusive(offset))
        .copied()?;
    Some((Symbol::Binding(file, def), range))
}

/// Every place the symbol is written: in `only` when given, else in the
/// binding's file or the workspace's modules.
pub(crate) fn occurrences(db: &dyn db::Db, symbol: &Symbol, only: Option<File>) -> Vec<Occurrence> {
    match symbol {
        Symbol::Binding(file, def) => {
            if only.is_some_and(|f| f != *file) {
                return Vec::new();
            }
            let scopes = crate::analysis::scopes::scopes(db, *file);
            let binding = scopes.def(*def);
            let mut out: Vec<Occurrence> = binding
                .sites
                .iter()
                .map(|range| Occurrence {
                    file: *file,
                    range: *range,
                    kind: ReferenceKind::Declaration,
                    inherit: binding.inherit,
                })
                .collect();
            out.extend(scopes.uses(*def).map(|r| Occurrence {
                file: *file,
                range: r.range,
                kind: ReferenceKind::Read,
                inherit: r.inherit,
            }));
            out.sort_by_key(|o| o.range.start());
            out
        }
        Symbol::Option(loc) => {
            let files = match only {
                Some(file) => vec![file],
                None => workspace_modules(db),
            };
            let mut out = Vec::new();
            for file in files {
                option_occurrences_in(db, file, loc, &mut out);
            }
            out
        }
    }
}

fn option_occurrences_in(db: &dyn db::Db, file: File, loc: &[String], out: &mut Vec<Occurrence>) {
    let start = out.len();
    for (declared, range) in crate::analysis::option_uses::declarations(db, file).iter() {
        if declared == loc {
            out.push(Occurrence {
                file,
                range: *range,
                kind: ReferenceKind::Declaration,
                inherit: None,
            });
        }
    }
    let map = db::source_map(db, file);
    for (entry, meaning) in &db::resolution(db, file).keys {
        if let KeyMeaning::Option(option) = meaning
            && option.loc == loc
        {
            out.push(Occurrence {
                file,
                range: map.entry(*entry).key,
                kind: ReferenceKind::Definition,
                inherit: None,
            });
        }
    }
    for read in crate::analysis::option_uses::reads(db, file).iter() {
        if read.loc == loc {
            out.push(Occurrence {
                file,
                range: read.range,
                kind: ReferenceKind::Read,
                inherit: read.inherit,
            });
        }
    }
    out[start..].sort_by_key(|o| o.range.start());
}

#[cfg(test)]
pub(crate) mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::fixture;

    /// `path:line:col-line:col kind` per reference.
    fn check(text: &str, include_declaration: bool, expected: Expect) {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let references = analysis
            .references(file, offset, include_declaration)
            .unwrap();
        let out: Vec<String> = references
            .iter()
            .map(|r| {
                let at = match (r.target.range, f.host.file(&r.target.path)) {
                    (Some(range), Some(file)) => {
                        let text = analysis.file_text(file).unwrap();
                        crate::ide::fixture::show_range(&text, range)
                    }
                    _ => format!("line {}", r.target.line),
                };
                format!("{}:{at} {:?}", r.target.path.display(), r.kind)
            })
            .collect();
        expected.assert_eq(&out.join("\n"));
    }

    #[test]
    fn let_bindings_arguments_and_inherited_names() {
        check(
            "{ lib, ... }: let po$0rt = 22; other = port; in { x = port; inherit port; y = let inherit port; in port; }",
            true,
            expect![[r#"
                /configuration.nix:1:19-1:23 Declaration
                /configuration.nix:1:38-1:42 Read
                /configuration.nix:1:53-1:57 Read
                /configuration.nix:1:67-1:71 Read
                /configuration.nix:1:89-1:93 Read"#]],
        );
        check(
            "{ lib, ... }: let port = 22; in { x = po$0rt; }",
            false,
            expect!["/configuration.nix:1:39-1:43 Read"],
        );
        check(
            "{ li$0b, ... }: with lib; { x = lib.mkIf; y = mkIf; }",
            true,
            expect![[r#"
                /configuration.nix:1:3-1:6 Declaration
                /configuration.nix:1:20-1:23 Read
                /configuration.nix:1:31-1:34 Read"#]],
        );
    }

    pub(crate) const WEB: &str = r#"
#- /configuration.nix
{ imports = [ ./web.nix ]; my.web.port = 8080; my.web = { enable = true; }; }
#- /web.nix
{ config, lib, ... }:
let
  cfg = config.my.web;
  inherit (config.my.web) port;
in {
  options.my.web = {
    enable = lib.mkEnableOption "the web server";
    port = lib.mkOption { type = lib.types.port; default = 80; };
  };
  config = lib.mkIf cfg.enable {
    networking.firewall.allowedTCPPorts = [ cfg.port port config.my.web.port ];
  };
}
#- /other.nix
{ config, ... }: { my.web.port = 1; services.getty.enable = config.my.web.enable; }
"#;

    #[test]
    fn options_across_the_workspace() {
        // From the declaration: every definition, every read, through the
        // alias and the inherited name.
        check(
            &WEB.replace("    port = lib.mkOption", "    po$0rt = lib.mkOption"),
            true,
            expect![[r#"
                /configuration.nix:1:35-1:39 Definition
                /other.nix:1:27-1:31 Definition
                /web.nix:4:27-4:31 Read
                /web.nix:8:5-8:9 Declaration
                /web.nix:11:49-11:53 Read
                /web.nix:11:73-11:77 Read"#]],
        );
        // From a read through an alias, without the declaration.
        check(
            &WEB.replace("[ cfg.port", "[ cfg.po$0rt"),
            false,
            expect![[r#"
            /configuration.nix:1:35-1:39 Definition
            /other.nix:1:27-1:31 Definition
            /web.nix:4:27-4:31 Read
            /web.nix:11:49-11:53 Read
            /web.nix:11:73-11:77 Read"#]],
        );
        // From a definition.
        check(
            &WEB.replace("my.web = { enable", "my.web = { ena$0ble"),
            true,
            expect![[r#"
            /configuration.nix:1:59-1:65 Definition
            /other.nix:1:75-1:81 Read
            /web.nix:7:5-7:11 Declaration
            /web.nix:10:25-10:31 Read"#]],
        );
    }

    /// The inline modules of flake.nix define and read options too.
    #[test]
    fn options_in_a_flakes_inline_modules() {
        let flake = r#"
#- /flake.nix
{
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./web.nix ({ config, ... }: { my.web.port = 1; services.getty.enable = config.my.web.enable; }) ];
    }).config.system.build.image;
  };
}
"#;
        let web = &WEB[WEB.find("#- /web.nix").unwrap()..WEB.find("#- /other.nix").unwrap()];
        check(
            &format!(
                "{flake}{}",
                web.replace("    enable = lib", "    ena$0ble = lib")
            ),
            true,
            expect![[r#"
                /flake.nix:4:104-4:110 Read
                /web.nix:7:5-7:11 Declaration
                /web.nix:10:25-10:31 Read"#]],
        );
    }

    #[test]
    fn options_declared_by_micros() {
        check(
            &WEB.replace("services.getty.enable", "services.getty.ena$0ble"),
            true,
            expect![[r#"
                /other.nix:1:52-1:58 Definition
                /micros/modules/getty.nix:line 3 Declaration"#]],
        );
    }

    #[test]
    fn nothing_to_find() {
        check("{ services.getty.enable = tr$0ue; }", true, expect![""]);
        check("{ x = builtins.ma$0p; }", true, expect![""]);
        check("{ $0 }", true, expect![""]);
    }
}
