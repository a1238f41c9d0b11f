//! Go to the declaration of what a path segment names: an option, the
//! options below a prefix, the option holding a name of your choosing;
//! elsewhere, the binding a name stands for, or the file a relative path
//! literal names.

use std::collections::BTreeMap;
use std::path::PathBuf;

use micros_options::model::{Declaration, SourceFile};
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::resolve::KeyMeaning;
use crate::analysis::systems::TextPosition;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    /// The declaring attribute, when its position is known.
    pub range: Option<TextRange>,
    /// 1-based line of the declaration, when known (for files not open).
    pub line: u32,
}

pub fn goto_definition(db: &dyn db::Db, file: File, offset: TextSize) -> Vec<Target> {
    let options = option_declarations(db, file, offset);
    if !options.is_empty() {
        return options;
    }
    binding(db, file, offset)
        .or_else(|| path_literal(db, file, offset))
        .into_iter()
        .collect()
}

/// Where the binding a name at `offset` uses (or defines) is written.
fn binding(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Target> {
    let scopes = crate::analysis::scopes::scopes(db, file);
    let def = scopes.def(scopes.at(offset)?);
    let site = *def.sites.first()?;
    Some(place(db, file, site))
}

/// The workspace file a relative path literal at `offset` names (a
/// directory stands for its `default.nix`).
fn path_literal(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Target> {
    let root = db::parse(db, file).root();
    let (_, literal, _) = super::document_links::path_literals(&root)
        .into_iter()
        .find(|(range, _, relative)| *relative && range.contains_inclusive(offset))?;
    let target = crate::analysis::import_graph::imported(db, file, &literal)?;
    Some(Target {
        path: target.path(db).clone(),
        range: Some(TextRange::empty(0.into())),
        line: 1,
    })
}

fn place(db: &dyn db::Db, file: File, range: TextRange) -> Target {
    Target {
        path: file.path(db).clone(),
        range: Some(range),
        line: TextPosition::of(file.text(db), range.start()).line + 1,
    }
}

fn option_declarations(db: &dyn db::Db, file: File, offset: TextSize) -> Vec<Target> {
    let Some((entry, _)) = super::entry_at(db, file, offset) else {
        return Vec::new();
    };
    let Some(meaning) = db::resolution(db, file).keys.get(&entry).cloned() else {
        return Vec::new();
    };
    let index = db::option_index(db, db.workspace());
    let declarations: Vec<&Declaration> = match &meaning {
        KeyMeaning::Option(option) => option.declarations.iter().collect(),
        // A prefix is declared where the options below it are: the first
        // declaration in each file.
        KeyMeaning::Prefix(loc) => {
            let Some(trie) = super::trie_at(index, loc) else {
                return Vec::new();
            };
            let mut first_in_file: BTreeMap<&SourceFile, &Declaration> = BTreeMap::new();
            for option in trie.options() {
                for declaration in &option.declarations {
                    first_in_file
                        .entry(&declaration.file)
                        .and_modify(|first| {
                            if (declaration.line, declaration.range) < (first.line, first.range) {
                                *first = declaration;
                            }
                        })
                        .or_insert(declaration);
                }
            }
            first_in_file.into_values().collect()
        }
        // A name in an `attrsOf`: the option that holds the names.
        KeyMeaning::Name(loc) => {
            let holder = &loc[..loc.len().saturating_sub(1)];
            match super::trie_at(index, holder).and_then(|t| t.option.as_ref()) {
                Some(option) => option.declarations.iter().collect(),
                None => return Vec::new(),
            }
        }
    };
    declarations
        .into_iter()
        .filter_map(|declaration| {
            Some(Target {
                path: index.declaration_path(declaration)?,
                range: declaration
                    .range
                    .map(|(s, e)| TextRange::new(s.into(), e.into())),
                line: declaration.line,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::ide::fixture::fixture;

    #[test]
    fn goes_to_the_declaring_attribute() {
        let f = fixture("{ services.getty.ena$0ble = true; }");
        let (file, offset) = f.cursor();
        let targets = f.host.snapshot().goto_definition(file, offset).unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].path, PathBuf::from("/micros/modules/getty.nix"));
        assert_eq!(targets[0].line, 3);
        let prelude = crate::ide::fixture::PRELUDE;
        let getty = &prelude[prelude.find("#- /micros/modules/getty.nix\n").unwrap() + 29..];
        let range = targets[0].range.unwrap();
        assert!(
            getty[range].starts_with("enable = lib.mkEnableOption"),
            "{}",
            &getty[range]
        );
    }

    fn target_files(text: &str) -> Vec<String> {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let targets = f.host.snapshot().goto_definition(file, offset).unwrap();
        targets
            .iter()
            .map(|t| format!("{}:{}", t.path.display(), t.line))
            .collect()
    }

    #[test]
    fn a_name_goes_to_its_binding() {
        // A use, a function's argument, an inherited name, the binding itself.
        assert_eq!(
            target_files(
                "let\n  greeting = \"hi\";\nin { environment.etc.motd.text = greet$0ing; }"
            ),
            ["/configuration.nix:2"]
        );
        assert_eq!(
            target_files(
                "{ lib, ... }:\n{ networking.hostName = lib.mkDefault (l$0ib.toLower \"A\"); }"
            ),
            ["/configuration.nix:1"]
        );
        assert_eq!(
            target_files("let\n  x = 1;\nin {\n  inherit x$0;\n}"),
            ["/configuration.nix:2"]
        );
        // Nix's own names and names nothing binds go nowhere.
        assert!(target_files("{ x = builti$0ns.map; }").is_empty());
        assert!(target_files("{ x = undefi$0ned; }").is_empty());
    }

    #[test]
    fn a_relative_path_goes_to_the_file_it_names() {
        let text = "#- /configuration.nix\n{ imports = [ ./hard$0ware.nix ./services ]; }\n#- /hardware.nix\n{ }\n#- /services/default.nix\n{ }\n";
        assert_eq!(target_files(text), ["/hardware.nix:1"]);
        assert_eq!(
            target_files(&text.replace("$0", "").replace("./services", "./serv$0ices")),
            ["/services/default.nix:1"]
        );
        // A file the workspace does not hold is not guessed at.
        assert!(target_files("{ imports = [ ./nowh$0ere.nix ]; }").is_empty());
    }

    /// Every segment of a path goes somewhere: a prefix to the files that
    /// declare the options below it, a name of an `attrsOf` to the option.
    #[test]
    fn every_segment_of_a_path() {
        assert_eq!(
            target_files("{ services.get$0ty.enable = true; }"),
            ["/micros/modules/getty.nix:3"]
        );
        assert_eq!(
            target_files("{ ser$0vices.getty.enable = true; }"),
            ["/micros/modules/getty.nix:3"]
        );
        assert_eq!(
            target_files("{ networking = { fire$0wall.enable = true; }; }"),
            ["/micros/modules/networking.nix:26"]
        );
        assert_eq!(
            target_files("{ users.ali$0ce.uid = 1; }"),
            ["/micros/modules/users.nix:14"]
        );
        assert_eq!(
            target_files("{ networking.interfaces = [ { ip$0v4.address = null; } ]; }"),
            ["/micros/modules/networking.nix:7"]
        );
        assert!(target_files("{ totally.unkn$0own = 1; }").is_empty());
        assert!(target_files("{ services.getty.enable = tr$0ue; }").is_empty());
    }

    #[test]
    fn a_prefix_declared_in_several_files_goes_to_each() {
        let files = target_files(
            r#"
#- /micros/modules/b.nix
{ lib, ... }: {
  options.services.b.enable = lib.mkEnableOption "b";
}
#- /micros/modules/a.nix
{ lib, ... }: {
  options.services.a.package = lib.mkOption { type = lib.types.str; };
  options.services.a.enable = lib.mkEnableOption "a";
}
#- /configuration.nix
{ serv$0ices.a.enable = true; }
"#,
        );
        assert_eq!(
            files,
            ["/micros/modules/a.nix:2", "/micros/modules/b.nix:2"]
        );
    }

    /// A user's module is found where it is, not below `/`.
    #[test]
    fn options_declared_in_a_nested_directory() {
        let f = fixture(
            r#"
#- /home/u/conf/configuration.nix
{ imports = [ ./my.nix ]; services.mine.po$0rt = 1; }
#- /home/u/conf/my.nix
{ lib, ... }: {
  options.services.mine = {
    port = lib.mkOption { type = lib.types.submodule { options.x = lib.mkOption { }; }; };
  };
}
"#,
        );
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let targets = analysis.goto_definition(file, offset).unwrap();
        assert_eq!(targets.len(), 1, "{targets:?}");
        assert_eq!(targets[0].path, PathBuf::from("/home/u/conf/my.nix"));
        assert_eq!(targets[0].line, 3);
        // Sub-options too.
        let db = f.host.db();
        let index = crate::analysis::db::option_index(db, crate::analysis::db::Db::workspace(db));
        let flat = index.set.flatten();
        let sub = flat.iter().find(|o| o.name() == "services.mine.port.x");
        assert_eq!(
            index.declaration_path(&sub.unwrap().declarations[0]),
            Some(PathBuf::from("/home/u/conf/my.nix"))
        );
    }

    #[test]
    fn options_the_users_modules_declare() {
        let f = fixture(
            r#"
#- /configuration.nix
{ imports = [ ./my.nix ]; services.mine.po$0rt = 1; }
#- /my.nix
{ lib, ... }: {
  options.services.mine.port = lib.mkOption { type = lib.types.port; };
}
"#,
        );
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let targets = analysis.goto_definition(file, offset).unwrap();
        assert_eq!(targets[0].path, PathBuf::from("/my.nix"));
        assert_eq!(targets[0].line, 2);
        assert!(analysis.diagnostics(file).unwrap().is_empty());
    }
}
