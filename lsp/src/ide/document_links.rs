//! Document links: path literals (`imports = [ ./hardware.nix ];`,
//! `./keys/id.pub`) to the files they name, when those exist; in a
//! `flake.nix`, each input's `url` to its web page.

use std::path::{Path, PathBuf};

use rnix::SyntaxKind;
use rnix::ast::{self, HasEntry};
use rowan::TextRange;
use rowan::ast::AstNode;

use crate::analysis::db::{self, File};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLink {
    pub range: TextRange,
    pub target: LinkTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    File(PathBuf),
    Url(String),
}

/// What a path is on disk, as the caller finds out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    File,
    Directory,
}

/// The links of a file; `kind` says what exists where (the front end asks
/// the file system).
pub fn document_links(
    db: &dyn db::Db,
    file: File,
    kind: &dyn Fn(&Path) -> Option<PathKind>,
) -> Vec<DocumentLink> {
    let root = db::parse(db, file).root();
    let dir = file.path(db).parent().unwrap_or(Path::new("/"));
    let mut links = Vec::new();
    for (range, literal, _) in path_literals(&root) {
        if let Some(target) = existing(&dir.join(literal), kind) {
            links.push(DocumentLink {
                range,
                target: LinkTarget::File(target),
            });
        }
    }
    if file.path(db).file_name().is_some_and(|n| n == "flake.nix") {
        for (range, url) in input_urls(&root) {
            let target = match url.strip_prefix("path:") {
                // A local flake: its flake.nix.
                Some(path) => {
                    let path = dir.join(path.split('?').next().unwrap_or(path));
                    existing(&path.join("flake.nix"), kind)
                        .or_else(|| existing(&path, kind))
                        .map(LinkTarget::File)
                }
                None => web_page(&url).map(LinkTarget::Url),
            };
            if let Some(target) = target {
                links.push(DocumentLink { range, target });
            }
        }
    }
    links.sort_by_key(|l| l.range.start());
    links
}

/// Every path literal written out whole (not `./dir/${name}.nix`, whose
/// target is not known): its range, its text, and whether it is relative.
pub(crate) fn path_literals(root: &ast::Root) -> Vec<(TextRange, String, bool)> {
    root.syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|token| {
            matches!(
                token.kind(),
                SyntaxKind::TOKEN_PATH_REL | SyntaxKind::TOKEN_PATH_ABS
            ) && token
                .parent()
                .is_some_and(|p| p.text_range() == token.text_range())
        })
        .map(|token| {
            let relative = token.kind() == SyntaxKind::TOKEN_PATH_REL;
            (token.text_range(), token.text().to_string(), relative)
        })
        .collect()
}

/// The file a path names: itself, or a directory's `default.nix` (what
/// `import` reads), or the directory.
fn existing(path: &Path, kind: &dyn Fn(&Path) -> Option<PathKind>) -> Option<PathBuf> {
    let path = micros_options::eval::normalize(path);
    match kind(&path)? {
        PathKind::File => Some(path),
        PathKind::Directory => {
            let default = path.join("default.nix");
            Some(match kind(&default) {
                Some(PathKind::File) => default,
                _ => path,
            })
        }
    }
}

/// `inputs.<name>.url = "...";` in any of its spellings (`inputs = { x.url
/// = ...; }`, `inputs.x = { url = ...; }`): the string's content and text.
fn input_urls(root: &ast::Root) -> Vec<(TextRange, String)> {
    let mut out = Vec::new();
    if let Some(ast::Expr::AttrSet(set)) = root.expr() {
        collect_urls(&set, &mut Vec::new(), &mut out);
    }
    out
}

fn collect_urls(set: &impl HasEntry, prefix: &mut Vec<String>, out: &mut Vec<(TextRange, String)>) {
    // inputs, a name, url: no deeper.
    if prefix.len() >= 3 {
        return;
    }
    for entry in set.attrpath_values() {
        let Some(path) = entry.attrpath() else {
            continue;
        };
        let names: Option<Vec<String>> = path
            .attrs()
            .map(|a| crate::analysis::lower::attr_text(&a))
            .collect();
        let Some(names) = names else { continue };
        let depth = prefix.len();
        prefix.extend(names);
        let is_input_url = prefix.len() == 3 && prefix[0] == "inputs" && prefix[2] == "url";
        let under_inputs = prefix.first().is_some_and(|n| n == "inputs") || prefix.is_empty();
        match entry.value() {
            Some(ast::Expr::Str(s)) if is_input_url => {
                if let crate::analysis::lower::Literal::Str(url) =
                    crate::analysis::lower::string_literal(&s)
                {
                    out.push((content_range(&s), url));
                }
            }
            Some(ast::Expr::AttrSet(inner)) if under_inputs && prefix.len() < 3 => {
                collect_urls(&inner, prefix, out);
            }
            _ => {}
        }
        prefix.truncate(depth);
    }
}

/// The string without its quotes.
fn content_range(s: &ast::Str) -> TextRange {
    let range = s.syntax().text_range();
    let quote = rowan::TextSize::from(1);
    if range.len() >= quote + quote {
        TextRange::new(range.start() + quote, range.end() - quote)
    } else {
        range
    }
}

/// The web page of a flake reference, for the kinds that have one.
pub fn web_page(url: &str) -> Option<String> {
    let (reference, query) = match url.split_once('?') {
        Some((reference, query)) => (reference, query),
        None => (url, ""),
    };
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    };
    let forge = |host: &str, rest: &str, tree: &str| -> Option<String> {
        let mut parts = rest.splitn(3, '/');
        let owner = parts.next().filter(|s| !s.is_empty())?;
        let repo = parts.next().filter(|s| !s.is_empty())?;
        let mut page = format!("https://{host}/{owner}/{repo}");
        let reference = parts
            .next()
            .filter(|s| !s.is_empty())
            .or_else(|| param("ref"))
            .or_else(|| param("rev"));
        match (reference, param("dir")) {
            (Some(reference), Some(dir)) => page.push_str(&format!("{tree}{reference}/{dir}")),
            (Some(reference), None) => page.push_str(&format!("{tree}{reference}")),
            (None, Some(dir)) => page.push_str(&format!("{tree}HEAD/{dir}")),
            (None, None) => {}
        }
        Some(page)
    };
    if let Some(rest) = reference.strip_prefix("github:") {
        return forge("github.com", rest, "/tree/");
    }
    if let Some(rest) = reference.strip_prefix("gitlab:") {
        return forge(param("host").unwrap_or("gitlab.com"), rest, "/-/tree/");
    }
    if let Some(rest) = reference.strip_prefix("sourcehut:") {
        return forge(param("host").unwrap_or("git.sr.ht"), rest, "/tree/");
    }
    for transport in ["git+", "tarball+", "file+"] {
        if let Some(rest) = reference.strip_prefix(transport)
            && (rest.starts_with("https://") || rest.starts_with("http://"))
        {
            return Some(rest.to_string());
        }
    }
    (reference.starts_with("https://") || reference.starts_with("http://")).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use expect_test::{Expect, expect};

    use super::{PathKind, web_page};
    use crate::ide::fixture::{fixture, show_range};

    /// Links of the first file; the fixture's files exist, and the
    /// directories above them.
    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let paths: Vec<std::path::PathBuf> = f.files.iter().map(|(p, _)| p.clone()).collect();
        let kind = |path: &Path| {
            if paths.iter().any(|p| p == path) {
                Some(PathKind::File)
            } else if paths.iter().any(|p| p.starts_with(path)) {
                Some(PathKind::Directory)
            } else {
                None
            }
        };
        let analysis = f.host.snapshot();
        let source = analysis.file_text(f.file()).unwrap();
        let out: Vec<String> = analysis
            .document_links(f.file(), &kind)
            .unwrap()
            .iter()
            .map(|l| format!("{} {:?}", show_range(&source, l.range), l.target))
            .collect();
        expected.assert_eq(&out.join("\n"));
    }

    #[test]
    fn paths_to_files_that_exist() {
        check(
            r#"
#- /conf/configuration.nix
{ imports = [ ./hardware.nix ./hosts/web ../shared/users.nix ./missing.nix ./hosts/${"web"}.nix ];
  environment.etc."motd".source = ./motd.txt;
  users.root.home = /etc;
}
#- /conf/hardware.nix
{ }
#- /conf/hosts/web/default.nix
{ }
#- /shared/users.nix
{ }
#- /conf/motd.txt
Welcome
"#,
            expect![[r#"
                1:15-1:29 File("/conf/hardware.nix")
                1:30-1:41 File("/conf/hosts/web/default.nix")
                1:42-1:61 File("/shared/users.nix")
                2:35-2:45 File("/conf/motd.txt")"#]],
        );
    }

    #[test]
    fn flake_inputs_link_to_their_pages() {
        check(
            r#"
#- /flake.nix
{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
  inputs = {
    micros = { url = "github:snugnug/micros"; inputs.nixpkgs.follows = "nixpkgs"; };
    local.url = "path:./vendor/thing";
    registry.url = "nixpkgs";
  };
  outputs = { micros, ... }: { x = micros.lib.microsSystem { modules = [ ./configuration.nix ]; }; };
}
#- /configuration.nix
{ }
#- /vendor/thing/flake.nix
{ }
"#,
            expect![[r#"
                2:25-2:60 Url("https://github.com/NixOS/nixpkgs/tree/nixos-unstable")
                4:23-4:44 Url("https://github.com/snugnug/micros")
                5:18-5:37 File("/vendor/thing/flake.nix")
                8:74-8:93 File("/configuration.nix")"#]],
        );
    }

    #[test]
    fn flake_references_to_web_pages() {
        let cases = [
            ("github:NixOS/nixpkgs", "https://github.com/NixOS/nixpkgs"),
            (
                "github:NixOS/nixpkgs/nixos-24.11",
                "https://github.com/NixOS/nixpkgs/tree/nixos-24.11",
            ),
            (
                "github:owner/repo?dir=sub&ref=dev",
                "https://github.com/owner/repo/tree/dev/sub",
            ),
            ("gitlab:o/r", "https://gitlab.com/o/r"),
            (
                "gitlab:o/r?host=git.example.org",
                "https://git.example.org/o/r",
            ),
            ("sourcehut:~me/r/main", "https://git.sr.ht/~me/r/tree/main"),
            (
                "git+https://codeberg.org/o/r?ref=main",
                "https://codeberg.org/o/r",
            ),
            (
                "https://example.org/x.tar.gz",
                "https://example.org/x.tar.gz",
            ),
        ];
        for (url, page) in cases {
            assert_eq!(web_page(url).as_deref(), Some(page), "{url}");
        }
        for url in [
            "nixpkgs",
            "flake:nixpkgs",
            "git+ssh://git@host/r",
            "github:only-owner",
        ] {
            assert_eq!(web_page(url), None, "{url}");
        }
    }
}
