//! Completion of relative paths (`./`, `../`), as in `imports`: the files
//! and directories beside the module.

use std::path::Path;

use rnix::SyntaxKind;
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::ide::completion::{CompletionItem, CompletionKind};

/// A directory with more entries than this is listed in part.
const MAX_ENTRIES: usize = 1_000;

/// Items when the cursor ends a relative path being typed; `None` when it
/// does not (other completion applies).
pub fn path_completion(
    db: &dyn db::Db,
    file: File,
    offset: TextSize,
) -> Option<Vec<CompletionItem>> {
    let text = file.text(db);
    let end = usize::from(offset).min(text.len());
    let start = text[..end]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || "._-+/".contains(*c))
        .last()
        .map_or(end, |(i, _)| i);
    let typed = &text[start..end];
    if !(typed.starts_with("./") || typed.starts_with("../")) {
        return None;
    }
    // Not inside a string or a comment.
    let root = db::parse(db, file).root();
    if let Some(token) = crate::ide::token_at_offset(root.syntax(), offset).left_biased()
        && matches!(
            token.kind(),
            SyntaxKind::TOKEN_COMMENT | SyntaxKind::TOKEN_STRING_CONTENT
        )
    {
        return None;
    }
    let slash = typed.rfind('/')?;
    let (dir_part, partial) = (&typed[..=slash], &typed[slash + 1..]);
    let base = file.path(db).parent()?.join(dir_part);
    let range = TextRange::new(
        TextSize::from((start + slash + 1) as u32),
        TextSize::from(end as u32),
    );
    let mut items: Vec<CompletionItem> = std::fs::read_dir(&base)
        .ok()?
        .filter_map(Result::ok)
        .take(MAX_ENTRIES)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if name.starts_with('.') && !partial.starts_with('.') || !name.starts_with(partial) {
                return None;
            }
            // Nix path literals cannot hold every character.
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
            {
                return None;
            }
            let path = entry.path();
            let is_dir = entry.file_type().ok()?.is_dir()
                || entry.file_type().ok()?.is_symlink() && path.is_dir();
            if !is_dir && (!name.ends_with(".nix") || same_file(&path, file.path(db))) {
                return None;
            }
            Some(CompletionItem {
                label: if is_dir {
                    format!("{name}/")
                } else {
                    name.clone()
                },
                kind: if is_dir {
                    CompletionKind::Folder
                } else {
                    CompletionKind::File
                },
                detail: is_dir
                    .then(|| path.join("default.nix").is_file())
                    .and_then(|has_default| has_default.then(|| "has default.nix".to_string())),
                documentation: None,
                range,
                insert: name,
                order: None,
            })
        })
        .collect();
    items.sort_by(|a, b| {
        (a.kind != CompletionKind::Folder, &a.label)
            .cmp(&(b.kind != CompletionKind::Folder, &b.label))
    });
    Some(items)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use crate::ide::completion::CompletionKind;
    use crate::ide::fixture::fixture;

    fn scratch_tree(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "micros-path-completion-{test}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in [
            ("hosts/web/default.nix", "{ }"),
            ("modules/users.nix", "{ }"),
            ("hardware-configuration.nix", "{ }"),
            ("notes.txt", "x"),
            (".hidden.nix", "{ }"),
            ("configuration.nix", "{ }"),
        ] {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn labels(dir: &std::path::Path, text: &str) -> Option<Vec<(String, CompletionKind)>> {
        let config = dir.join("configuration.nix");
        let f = fixture(&format!("#- {}\n{text}", config.display()));
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let items = analysis.completion(file, offset).unwrap();
        let source = analysis.file_text(file).unwrap();
        // Each item replaces what was typed after the last `/`.
        for item in &items {
            let replaced = &source[std::ops::Range::<usize>::from(item.range)];
            assert!(item.insert.starts_with(replaced), "{replaced:?} {item:?}");
        }
        (!items.is_empty()).then(|| items.into_iter().map(|i| (i.label, i.kind)).collect())
    }

    #[test]
    fn files_and_directories_beside_the_module() {
        let dir = scratch_tree("beside");
        let all = labels(&dir, "{ imports = [ ./$0 ]; }").unwrap();
        assert_eq!(
            all,
            [
                ("hosts/".to_string(), CompletionKind::Folder),
                ("modules/".to_string(), CompletionKind::Folder),
                (
                    "hardware-configuration.nix".to_string(),
                    CompletionKind::File
                ),
            ]
        );
        let some = labels(&dir, "{ imports = [ ./ha$0 ]; }").unwrap();
        assert_eq!(
            some,
            [(
                "hardware-configuration.nix".to_string(),
                CompletionKind::File
            )]
        );
        let deeper = labels(&dir, "{ imports = [ ./modules/$0 ]; }").unwrap();
        assert_eq!(deeper, [("users.nix".to_string(), CompletionKind::File)]);
        let up = labels(&dir, "{ imports = [ ./modules/../ho$0 ]; }").unwrap();
        assert_eq!(up, [("hosts/".to_string(), CompletionKind::Folder)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn not_in_strings_comments_or_missing_directories() {
        let dir = scratch_tree("not");
        let no_paths = |text: &str| {
            labels(&dir, text).is_none_or(|items| {
                items
                    .iter()
                    .all(|(_, k)| !matches!(k, CompletionKind::File | CompletionKind::Folder))
            })
        };
        assert!(no_paths("{ a = \"./$0\"; }"));
        assert!(no_paths("{ # ./$0\n}"));
        assert!(no_paths("{ imports = [ ./nowhere/$0 ]; }"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
