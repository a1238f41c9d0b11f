//! Go to the declaration of the option a path segment names.

use std::path::PathBuf;

use rowan::{TextRange, TextSize};

use crate::db::{self, File};
use crate::resolve::KeyMeaning;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: PathBuf,
    /// The declaring attribute, when its position is known.
    pub range: Option<TextRange>,
    /// 1-based line of the declaration, when known (for files not open).
    pub line: u32,
}

pub fn goto_definition(db: &dyn db::Db, file: File, offset: TextSize) -> Vec<Target> {
    let Some((entry, _)) = super::entry_at(db, file, offset) else {
        return Vec::new();
    };
    let Some(KeyMeaning::Option(option)) = db::resolution(db, file).keys.get(&entry).cloned()
    else {
        return Vec::new();
    };
    let index = db::option_index(db, db.workspace());
    option
        .declarations
        .iter()
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
