//! `pkgs.<name>`: completion and checking against the package set of a
//! full nixpkgs tree, read statically (the directories of `pkgs/by-name/`,
//! the top-level names of `pkgs/top-level/all-packages.nix` and
//! `aliases.nix`, and every name bound in the files that add to the set
//! besides them), plus the packages micros's own overlay adds. With the
//! partial tree micros imports modules from (no `pkgs/`), nothing is said.
//!
//! The names of the files besides all-packages.nix are over-approximated
//! (any binding counts): a name missed would be a false error, a name too
//! many only a missed typo.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use micros_options::model::RootKind;
use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, Db, File, Workspace};
use crate::analysis::resolve::Code;
use crate::ide::completion::{CompletionItem, CompletionKind};
use crate::ide::diagnostics::{Diagnostic, Severity};

/// Files read for names; bigger ones are skipped.
const MAX_FILE_BYTES: u64 = micros_options::eval::MAX_FILE_BYTES;
/// Module files of micros looked through for its overlay.
const MAX_MODULE_FILES: usize = 2_000;
/// Completion offers at most this many packages at once; typing narrows.
const MAX_ITEMS: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageSet {
    pub names: BTreeSet<String>,
}

/// The package set of the workspace's nixpkgs tree, when it is a full one.
#[salsa::tracked(returns(ref))]
pub fn package_set(db: &dyn Db, workspace: Workspace) -> Option<Arc<PackageSet>> {
    let index = workspace.options(db);
    let nixpkgs = index.root(RootKind::Nixpkgs)?;
    read_package_set(nixpkgs, index.root(RootKind::Micros)).map(Arc::new)
}

pub fn read_package_set(nixpkgs: &Path, micros: Option<&Path>) -> Option<PackageSet> {
    let top_level = nixpkgs.join("pkgs/top-level");
    let all_packages = parse_file(&top_level.join("all-packages.nix"))?;
    let mut names = BTreeSet::new();
    top_level_names(&all_packages, &mut names);
    if let Some(aliases) = parse_file(&top_level.join("aliases.nix")) {
        top_level_names(&aliases, &mut names);
    }
    for extra in [
        "pkgs/top-level/stage.nix",
        "pkgs/top-level/splice.nix",
        "pkgs/build-support/trivial-builders/default.nix",
        "pkgs/stdenv/adapters.nix",
    ] {
        if let Some(root) = parse_file(&nixpkgs.join(extra)) {
            every_binding(&root, &mut names);
        }
    }
    if let Ok(shards) = std::fs::read_dir(nixpkgs.join("pkgs/by-name")) {
        for shard in shards.filter_map(Result::ok) {
            let Ok(packages) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            names.extend(
                packages
                    .filter_map(Result::ok)
                    .filter(|p| p.path().join("package.nix").is_file())
                    .filter_map(|p| p.file_name().into_string().ok()),
            );
        }
    }
    if let Some(micros) = micros {
        overlay_names(&micros.join("micros/modules"), &mut names);
    }
    Some(PackageSet { names })
}

/// A file of a nixpkgs tree, parsed; `None` when missing or too large.
pub(crate) fn parse_file(path: &Path) -> Option<SyntaxNode> {
    let small = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE_BYTES);
    let text = small
        .then(|| std::fs::read_to_string(path).ok())
        .flatten()?;
    let (green, _) = micros_options::syntax::parse(&text);
    Some(SyntaxNode::new_root(green))
}

/// The set a file's functions (`{ lib, ... }: res: pkgs: super: with pkgs;
/// { ... }`) end in, and its names.
fn top_level_names(root: &SyntaxNode, names: &mut BTreeSet<String>) {
    let mut expr = root.children().find_map(ast::Expr::cast);
    for _ in 0..16 {
        expr = match expr {
            Some(ast::Expr::Lambda(l)) => l.body(),
            Some(ast::Expr::With(w)) => w.body(),
            Some(ast::Expr::LetIn(l)) => l.body(),
            Some(ast::Expr::Paren(p)) => p.expr(),
            Some(ast::Expr::AttrSet(set)) => {
                entry_names(&set, names);
                return;
            }
            _ => return,
        };
    }
}

pub(crate) fn entry_names(node: &impl HasEntry, names: &mut BTreeSet<String>) {
    for entry in node.entries() {
        match entry {
            ast::Entry::AttrpathValue(value) => {
                if let Some(name) = value
                    .attrpath()
                    .and_then(|p| p.attrs().next())
                    .and_then(|a| crate::analysis::lower::attr_text(&a))
                {
                    names.insert(name);
                }
            }
            ast::Entry::Inherit(inherit) => {
                names.extend(
                    inherit
                        .attrs()
                        .filter_map(|a| crate::analysis::lower::attr_text(&a)),
                );
            }
        }
    }
}

/// Every name bound anywhere in the file (sets, `let`, `inherit`).
fn every_binding(root: &SyntaxNode, names: &mut BTreeSet<String>) {
    for node in root.descendants() {
        if let Some(set) = ast::AttrSet::cast(node.clone()) {
            entry_names(&set, names);
        } else if let Some(let_in) = ast::LetIn::cast(node) {
            entry_names(&let_in, names);
        }
    }
}

/// What `nixpkgs.overlays = [ (final: prev: { ... }) ]` in micros's
/// modules adds.
fn overlay_names(modules: &Path, names: &mut BTreeSet<String>) {
    let mut files = Vec::new();
    let mut dirs = vec![modules.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => dirs.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "nix") => {
                    files.push(path)
                }
                _ => {}
            }
            if files.len() >= MAX_MODULE_FILES {
                return;
            }
        }
    }
    for path in files {
        let Some(root) = parse_file(&path) else {
            continue;
        };
        for binding in root.descendants().filter_map(ast::AttrpathValue::cast) {
            let path: Vec<String> = binding
                .attrpath()
                .into_iter()
                .flat_map(|p| p.attrs())
                .filter_map(|a| crate::analysis::lower::attr_text(&a))
                .collect();
            if path.last().map(String::as_str) != Some("overlays") {
                continue;
            }
            for lambda in binding.syntax().descendants().filter_map(ast::Lambda::cast) {
                if let Some(ast::Expr::Lambda(inner)) = lambda.body()
                    && let Some(ast::Expr::AttrSet(set)) = inner.body()
                {
                    entry_names(&set, names);
                }
            }
        }
    }
}

/// `pkgs.` followed by what is typed, ending at `offset`: the range of the
/// name being typed.
fn typed_after_pkgs(text: &str, offset: TextSize) -> Option<TextRange> {
    let end = usize::from(offset).min(text.len());
    let start = text[..end]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || "_-'".contains(*c))
        .last()
        .map_or(end, |(i, _)| i);
    let before = &text[..start];
    let base = before.strip_suffix("pkgs.")?;
    // `pkgs` itself, not `mypkgs` or `x.pkgs`.
    if base
        .chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || "_-'.".contains(c))
    {
        return None;
    }
    Some(TextRange::new(
        TextSize::from(start as u32),
        TextSize::from(end as u32),
    ))
}

/// Completion after `pkgs.`; `None` where it does not apply or the tree
/// is partial.
pub fn completion(db: &dyn Db, file: File, offset: TextSize) -> Option<Vec<CompletionItem>> {
    let text = file.text(db);
    let range = typed_after_pkgs(text, offset)?;
    let root = db::parse(db, file).root();
    if let Some(token) = crate::ide::token_at_offset(root.syntax(), offset).left_biased()
        && matches!(
            token.kind(),
            SyntaxKind::TOKEN_COMMENT | SyntaxKind::TOKEN_STRING_CONTENT
        )
    {
        return None;
    }
    let set = package_set(db, db.workspace()).as_ref()?;
    let typed = &text[std::ops::Range::<usize>::from(range)];
    Some(
        set.names
            .range(typed.to_string()..)
            .take_while(|name| name.starts_with(typed))
            .take(MAX_ITEMS)
            .map(|name| CompletionItem {
                label: name.clone(),
                kind: CompletionKind::Package,
                detail: Some("package".into()),
                documentation: None,
                range,
                insert: if is_plain_name(name) {
                    name.clone()
                } else {
                    format!("\"{name}\"")
                },
                order: None,
            })
            .collect(),
    )
}

fn is_plain_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-'".contains(c))
}

/// `pkgs.<name>` naming no package of a full tree, where `pkgs` is the
/// module's argument.
pub fn diagnostics(db: &dyn Db, file: File) -> Vec<Diagnostic> {
    let Some(set) = package_set(db, db.workspace()).as_ref() else {
        return Vec::new();
    };
    let root = db::parse(db, file).root();
    let Some(ast::Expr::Lambda(module)) = root.expr() else {
        return Vec::new();
    };
    let Some(ast::Param::Pattern(pattern)) = module.param() else {
        return Vec::new();
    };
    if !pattern
        .pat_entries()
        .filter_map(|e| e.ident())
        .any(|i| i.syntax().text() == "pkgs")
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for select in root.syntax().descendants().filter_map(ast::Select::cast) {
        let Some(ast::Expr::Ident(base)) = select.expr() else {
            continue;
        };
        if base.syntax().text() != "pkgs" || rebound(base.syntax()) {
            continue;
        }
        let Some(attr) = select.attrpath().and_then(|p| p.attrs().next()) else {
            continue;
        };
        let Some(name) = crate::analysis::lower::attr_text(&attr) else {
            continue;
        };
        // `pkgs.foo or null` asks whether it exists.
        if select.default_expr().is_some() || set.names.contains(&name) {
            continue;
        }
        let suggestion =
            crate::analysis::options::closest(&name, set.names.iter().map(String::as_str));
        out.push(Diagnostic {
            range: attr.syntax().text_range(),
            severity: Severity::Warning,
            code: Code::UnknownPackage,
            message: format!("`pkgs.{name}` is not a package of nixpkgs"),
            help: suggestion.map(|s| format!("did you mean `pkgs.{s}`?")),
            fix: suggestion.map(|s| crate::ide::diagnostics::Fix {
                title: format!("Replace with `{s}`"),
                range: attr.syntax().text_range(),
                replacement: s.to_string(),
            }),
            related: Vec::new(),
        });
    }
    out
}

/// Whether a scope between the module's arguments and this use binds
/// `pkgs` again.
fn rebound(ident: &SyntaxNode) -> bool {
    let lambdas: Vec<ast::Lambda> = ident.ancestors().filter_map(ast::Lambda::cast).collect();
    let inner = &lambdas[..lambdas.len().saturating_sub(1)];
    inner.iter().any(|lambda| match lambda.param() {
        Some(ast::Param::IdentParam(p)) => p.ident().is_some_and(|i| i.syntax().text() == "pkgs"),
        Some(ast::Param::Pattern(p)) => p
            .pat_entries()
            .filter_map(|e| e.ident())
            .any(|i| i.syntax().text() == "pkgs"),
        None => false,
    }) || ident.ancestors().any(|node| {
        ast::LetIn::cast(node.clone()).is_some_and(|l| {
            l.entries().any(|e| match e {
                ast::Entry::AttrpathValue(b) => b
                    .attrpath()
                    .and_then(|p| p.attrs().next())
                    .is_some_and(|a| a.syntax().text() == "pkgs"),
                ast::Entry::Inherit(i) => i.attrs().any(|a| a.syntax().text() == "pkgs"),
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::ide::fixture::{fixture_nixpkgs, with_nixpkgs};

    fn labels(f: &crate::ide::fixture::Fixture) -> Vec<String> {
        let (file, offset) = f.cursor();
        f.host
            .snapshot()
            .completion(file, offset)
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == CompletionKind::Package)
            .map(|i| format!("{} {}", i.label, i.insert))
            .collect()
    }

    fn partial_tree(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("micros-partial-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nixos/modules")).unwrap();
        dir
    }

    #[test]
    fn completion_after_pkgs() {
        let text = "{ pkgs, ... }: { environment.systemPackages = [ pkgs.$0 ]; }";
        let f = with_nixpkgs(text, &fixture_nixpkgs());
        let all = labels(&f);
        assert!(all.contains(&"hello hello".to_string()), "{all:?}");
        assert!(
            all.contains(&"binutils-unwrapped binutils-unwrapped".to_string()),
            "{all:?}"
        );
        let f = with_nixpkgs(
            "{ pkgs, ... }: { environment.systemPackages = [ pkgs.ri$0 ]; }",
            &fixture_nixpkgs(),
        );
        assert_eq!(labels(&f), ["ripgrep ripgrep"]);
        // Not after another name's `pkgs.`, nor with the partial tree.
        let f = with_nixpkgs("{ mypkgs, ... }: [ mypkgs.h$0 ]", &fixture_nixpkgs());
        assert!(labels(&f).is_empty());
        let partial = partial_tree("completion");
        let f = with_nixpkgs(text, &partial);
        assert!(labels(&f).is_empty());
        let _ = std::fs::remove_dir_all(&partial);
    }

    fn findings(f: &crate::ide::fixture::Fixture) -> Vec<String> {
        f.host
            .snapshot()
            .diagnostics(f.file())
            .unwrap()
            .into_iter()
            .filter(|d| d.code == Code::UnknownPackage)
            .map(|d| format!("{} [{}]", d.message, d.help.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn unknown_packages_only_with_a_full_tree() {
        let text = r#"{ pkgs, ... }: {
  environment.systemPackages = [ pkgs.helo pkgs.hello pkgs.vim (pkgs.nothing or null) ];
  users.alice.packages = let pkgs = { }; in [ pkgs.anything ];
  users.bob.packages = [ pkgs.python3Packages.requests pkgs.ag ];
}"#;
        let f = with_nixpkgs(text, &fixture_nixpkgs());
        assert_eq!(
            findings(&f),
            ["`pkgs.helo` is not a package of nixpkgs [did you mean `pkgs.hello`?]"]
        );
        let partial = partial_tree("check");
        let f = with_nixpkgs(text, &partial);
        assert!(findings(&f).is_empty());
        let _ = std::fs::remove_dir_all(&partial);
        // Without `pkgs` among the module's arguments, nothing is judged.
        let f = with_nixpkgs("pkgs: [ pkgs.helo ]", &fixture_nixpkgs());
        assert!(findings(&f).is_empty());
    }

    #[test]
    fn the_fixture_tree_is_read_like_nixpkgs() {
        let set = read_package_set(&fixture_nixpkgs(), None).unwrap();
        let names: Vec<&str> = set.names.iter().map(String::as_str).collect();
        for name in [
            "hello",
            "ripgrep",
            "vim",
            "openssh",
            "binutils",
            "binutils-unwrapped",
            "python3Packages",
            "ag",
            "writeText",
            "pkgsMusl",
            "callPackage",
            "lib",
            "stdenv",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        // A tree without pkgs/ has no package set.
        let partial = partial_tree("read");
        assert_eq!(read_package_set(&partial, None), None);
        let _ = std::fs::remove_dir_all(&partial);
    }

    #[test]
    fn micros_overlay_packages_count() {
        let micros = std::env::temp_dir().join(format!("micros-overlay-{}", std::process::id()));
        let modules = micros.join("micros/modules/nix");
        std::fs::create_dir_all(&modules).unwrap();
        std::fs::write(
            modules.join("nixpkgs.nix"),
            "{ ... }: { nixpkgs.overlays = [ (_final: prev: { ifupdown-ng = prev.callPackage ./x.nix { }; }) ]; }",
        )
        .unwrap();
        let set = read_package_set(&fixture_nixpkgs(), Some(&micros)).unwrap();
        assert!(set.names.contains("ifupdown-ng"));
        let _ = std::fs::remove_dir_all(&micros);
    }
}
