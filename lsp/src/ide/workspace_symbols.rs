//! Workspace symbols: the options the workspace's modules declare and the
//! ones they define, found by a fuzzy match on the option's name
//! (`fwport` finds `networking.firewall.allowedTCPPorts`).

use rowan::TextRange;

use crate::analysis::db::{self, File};
use crate::analysis::lower::{Key, Node, NodeId};
use crate::analysis::resolve::KeyMeaning;
use crate::ide::goto_definition::Target;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSymbol {
    /// The option's name as written (`users.alice.uid`), or as declared
    /// (`my.sites.<name>.port`).
    pub name: String,
    pub kind: WorkspaceSymbolKind,
    /// The option's type.
    pub detail: String,
    pub target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceSymbolKind {
    Declared,
    Defined,
}

/// More than a client shows; the best matches come first.
const MAX_SYMBOLS: usize = 500;

pub fn workspace_symbols(db: &dyn db::Db, query: &str) -> Vec<WorkspaceSymbol> {
    let index = db::option_index(db, db.workspace());
    let mut scored: Vec<(i64, WorkspaceSymbol)> = Vec::new();
    let mut push = |name: String, kind, detail: String, file: File, range: TextRange| {
        if let Some(score) = fuzzy_score(query, &name) {
            let line = super::references::line_of(file.text(db), range.start());
            scored.push((
                score,
                WorkspaceSymbol {
                    name,
                    kind,
                    detail,
                    target: Target {
                        path: file.path(db).clone(),
                        range: Some(range),
                        line,
                    },
                },
            ));
        }
    };
    for file in super::references::workspace_modules(db) {
        for (loc, range) in crate::analysis::option_uses::declarations(db, file).iter() {
            let detail = super::trie_at(index, loc)
                .and_then(|t| t.option.as_ref())
                .map(|o| o.ty.description())
                .unwrap_or_default();
            let name = micros_options::model::show_option(loc);
            push(name, WorkspaceSymbolKind::Declared, detail, file, *range);
        }
        for (path, option, range) in definitions(db, file) {
            let name = micros_options::model::show_option(&path);
            push(name, WorkspaceSymbolKind::Defined, option, file, range);
        }
    }
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.name.cmp(&b.1.name))
            .then_with(|| a.1.target.path.cmp(&b.1.target.path))
    });
    scored.truncate(MAX_SYMBOLS);
    scored.into_iter().map(|(_, symbol)| symbol).collect()
}

/// The options a module defines: each path as written, its option's type,
/// and the range of the last segment.
fn definitions(db: &dyn db::Db, file: File) -> Vec<(Vec<String>, String, TextRange)> {
    let module = db::module(db, file);
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let mut out = Vec::new();
    let Some(config) = module.config else {
        return out;
    };
    // (node, path to it, depth): iterative, as files can nest deeply.
    let mut stack: Vec<(NodeId, Vec<String>)> = vec![(config, Vec::new())];
    while let Some((node, path)) = stack.pop() {
        match &module.nodes[node.0 as usize] {
            Node::Attrs(entries) => {
                for entry in entries.iter().rev() {
                    let Key::Name(name) = &entry.key else {
                        continue;
                    };
                    let mut below = path.clone();
                    below.push(name.clone());
                    if let Some(KeyMeaning::Option(option)) = resolution.keys.get(&entry.id) {
                        out.push((
                            below.clone(),
                            option.ty.description(),
                            map.entry(entry.id).key,
                        ));
                    }
                    stack.push((entry.value, below));
                }
            }
            Node::Wrapped(inner) => stack.push((*inner, path)),
            Node::Merge(parts) => stack.extend(parts.iter().rev().map(|p| (*p, path.clone()))),
            Node::List(items) => stack.extend(items.iter().rev().map(|i| (*i, path.clone()))),
            _ => {}
        }
    }
    out
}

/// How well `query` matches `name`, if it does: its characters in order
/// (ignoring case), best when they start segments or words and follow
/// each other; an empty query matches everything.
pub fn fuzzy_score(query: &str, name: &str) -> Option<i64> {
    let query: Vec<char> = query
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    let chars: Vec<char> = name.chars().collect();
    let mut score = 0i64;
    let mut at = 0usize;
    let mut previous: Option<usize> = None;
    for wanted in &query {
        let found =
            (at..chars.len()).find(|&i| chars[i].to_lowercase().eq(std::iter::once(*wanted)))?;
        let starts_word = found == 0
            || matches!(chars[found - 1], '.' | '-' | '_' | '<' | '"')
            || (chars[found].is_uppercase() && chars[found - 1].is_lowercase());
        score += 1;
        if starts_word {
            score += 8;
        }
        if previous.is_some_and(|p| p + 1 == found) {
            score += 5;
        }
        score -= (found - at).min(8) as i64;
        previous = Some(found);
        at = found + 1;
    }
    // Of equal matches, the shorter name.
    Some(score * 100 - chars.len() as i64)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::fixture;

    fn check(text: &str, query: &str, expected: Expect) {
        let f = fixture(text);
        let out: Vec<String> = f
            .host
            .snapshot()
            .workspace_symbols(query)
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {:?} {} {}:{}",
                    s.name,
                    s.kind,
                    s.detail,
                    s.target.path.display(),
                    s.target.line
                )
            })
            .collect();
        expected.assert_eq(&out.join("\n"));
    }

    const WORKSPACE: &str = r#"
#- /configuration.nix
{ imports = [ ./web.nix ]; my.web.port = 8080; users.alice = { uid = 1000; }; services.getty.enable = true; }
#- /web.nix
{ config, lib, ... }: {
  options.my.web = {
    enable = lib.mkEnableOption "the web server";
    port = lib.mkOption { type = lib.types.port; default = 80; };
  };
  config.networking.firewall.allowedTCPPorts = [ config.my.web.port ];
}
"#;

    #[test]
    fn declared_and_defined_options_by_fuzzy_name() {
        check(
            WORKSPACE,
            "webport",
            expect![[r#"
            my.web.port Defined 16 bit unsigned integer; between 0 and 65535 (both inclusive) /configuration.nix:1
            my.web.port Declared 16 bit unsigned integer; between 0 and 65535 (both inclusive) /web.nix:4"#]],
        );
        check(
            WORKSPACE,
            "fwtcp",
            expect![
                "networking.firewall.allowedTCPPorts Defined list of 16 bit unsigned integer; between 0 and 65535 (both inclusive) /web.nix:6"
            ],
        );
        check(
            WORKSPACE,
            "",
            expect![[r#"
            users Defined attribute set of (submodule) /configuration.nix:1
            my.web.port Defined 16 bit unsigned integer; between 0 and 65535 (both inclusive) /configuration.nix:1
            my.web.port Declared 16 bit unsigned integer; between 0 and 65535 (both inclusive) /web.nix:4
            my.web.enable Declared boolean /web.nix:3
            users.alice.uid Defined null or signed integer /configuration.nix:1
            services.getty.enable Defined boolean /configuration.nix:1
            networking.firewall.allowedTCPPorts Defined list of 16 bit unsigned integer; between 0 and 65535 (both inclusive) /web.nix:6"#]],
        );
    }

    #[test]
    fn no_match() {
        check(WORKSPACE, "zzz", expect![""]);
        check("{ x = 1; }", "x", expect![""]);
    }
}
