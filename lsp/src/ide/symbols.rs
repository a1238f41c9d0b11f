//! Document symbols: every binding of the file, nested as written (a set's
//! bindings under the binding whose value holds the set, through functions,
//! calls, `let` and lists), as a generic Nix server shows them: a flake's
//! `inputs` and `outputs`, a module's `options` and `config`. Where the
//! analysis knows what a key means (an option, a namespace of options, a
//! name in an `attrsOf`), the symbol says so, with the option's type.

use std::collections::HashMap;

use rnix::SyntaxKind::{NODE_ATTRPATH_VALUE, NODE_INHERIT, NODE_LET_IN};
use rnix::ast;
use rowan::ast::AstNode;
use rowan::{TextRange, WalkEvent};

use crate::analysis::db::{self, File};
use crate::analysis::lower::attr_text;
use crate::analysis::resolve::KeyMeaning;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The type of the option, for options.
    pub detail: Option<String>,
    pub range: TextRange,
    pub selection: TextRange,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Option,
    Namespace,
    Name,
    Other,
    /// A `let` binding.
    Binding,
}

/// Bindings nested deeper than this are left out of the outline: no editor
/// shows them usefully, and the conversion to LSP recurses over the nesting.
const MAX_DEPTH: usize = 64;

/// A binding whose value is being walked: its path's segments, and the
/// symbols found in its value so far.
struct Open {
    segments: Vec<Symbol>,
    children: Vec<Symbol>,
}

pub fn symbols(db: &dyn db::Db, file: File) -> Vec<Symbol> {
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let meanings: HashMap<TextRange, &KeyMeaning> = resolution
        .keys
        .iter()
        .map(|(id, meaning)| (map.entry(*id).key, meaning))
        .collect();
    // What the key at `range` means; a name a `let` binds is a binding.
    let classify = |range: TextRange, let_binding: bool| match meanings.get(&range) {
        Some(KeyMeaning::Option(option)) => (SymbolKind::Option, Some(option.ty.description())),
        Some(KeyMeaning::Prefix(_)) => (SymbolKind::Namespace, None),
        Some(KeyMeaning::Name(_)) => (SymbolKind::Name, None),
        None if let_binding => (SymbolKind::Binding, None),
        None => (SymbolKind::Other, None),
    };
    let root = db::parse(db, file).root();
    let mut top: Vec<Symbol> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    // Bindings entered beyond MAX_DEPTH, so their leaving is ignored too.
    let mut skipped = 0usize;
    // The walk is iterative: a file's nesting cannot exhaust the stack.
    for event in root.syntax().preorder() {
        match event {
            WalkEvent::Enter(node) if node.kind() == NODE_ATTRPATH_VALUE => {
                if skipped > 0 || open.len() >= MAX_DEPTH {
                    skipped += 1;
                    continue;
                }
                let in_let = in_let(&node);
                let range = node.text_range();
                let attrs = ast::AttrpathValue::cast(node)
                    .and_then(|entry| entry.attrpath())
                    .map(|path| path.attrs().collect::<Vec<_>>())
                    .unwrap_or_default();
                let segments = attrs
                    .iter()
                    .enumerate()
                    .map(|(i, attr)| {
                        let selection = attr.syntax().text_range();
                        let (kind, detail) = classify(selection, in_let && i == 0);
                        Symbol {
                            name: attr_text(attr).unwrap_or_else(|| "${...}".into()),
                            kind,
                            detail,
                            range,
                            selection,
                            children: Vec::new(),
                        }
                    })
                    .collect();
                open.push(Open {
                    segments,
                    children: Vec::new(),
                });
            }
            WalkEvent::Enter(node) if node.kind() == NODE_INHERIT => {
                // Cut where bindings are: never below MAX_DEPTH.
                if skipped > 0 || open.len() >= MAX_DEPTH {
                    continue;
                }
                let in_let = in_let(&node);
                let Some(inherit) = ast::Inherit::cast(node) else {
                    continue;
                };
                let siblings = match open.last_mut() {
                    Some(parent) => &mut parent.children,
                    None => &mut top,
                };
                for attr in inherit.attrs() {
                    let Some(name) = attr_text(&attr) else {
                        continue;
                    };
                    let selection = attr.syntax().text_range();
                    let (kind, detail) = classify(selection, in_let);
                    siblings.push(Symbol {
                        name,
                        kind,
                        detail,
                        range: selection,
                        selection,
                        children: Vec::new(),
                    });
                }
            }
            WalkEvent::Leave(node) if node.kind() == NODE_ATTRPATH_VALUE => {
                if skipped > 0 {
                    skipped -= 1;
                    continue;
                }
                let Some(Open { segments, children }) = open.pop() else {
                    continue;
                };
                // `a.b.c = v;` nests as a, b, c, with v's bindings under c.
                let mut children = Some(children);
                let symbol = segments.into_iter().rev().fold(None, |inner, mut segment| {
                    segment.children = match inner {
                        Some(inner) => vec![inner],
                        None => children.take().unwrap_or_default(),
                    };
                    Some(segment)
                });
                if let Some(symbol) = symbol {
                    match open.last_mut() {
                        Some(parent) => merge_into(&mut parent.children, symbol),
                        None => merge_into(&mut top, symbol),
                    }
                }
            }
            _ => {}
        }
    }
    top
}

/// Whether `node` (a binding or an `inherit`) is one of a `let`'s.
fn in_let(node: &rnix::SyntaxNode) -> bool {
    node.parent().is_some_and(|p| p.kind() == NODE_LET_IN)
}

/// Add `symbol` to its siblings; paths that share a prefix
/// (`packages.x86_64-linux.default` and `packages.x86_64-linux.container`)
/// show it once, as nil shows them. Only sets merge: two definitions of one
/// name stay two. The recursion follows the symbols' nesting, at most
/// `MAX_DEPTH` deep.
fn merge_into(siblings: &mut Vec<Symbol>, symbol: Symbol) {
    let same = siblings.iter_mut().find(|sibling| {
        sibling.name == symbol.name
            && sibling.kind == symbol.kind
            && !sibling.children.is_empty()
            && !symbol.children.is_empty()
    });
    match same {
        Some(sibling) => {
            sibling.range = sibling.range.cover(symbol.range);
            for child in symbol.children {
                merge_into(&mut sibling.children, child);
            }
        }
        None => siblings.push(symbol),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::fixture::fixture;

    fn render(symbols: &[Symbol], depth: usize, out: &mut String) {
        for s in symbols {
            out.push_str(&format!(
                "{}{} {:?} {}\n",
                "  ".repeat(depth),
                s.name,
                s.kind,
                s.detail.clone().unwrap_or_default()
            ));
            render(&s.children, depth + 1, out);
        }
    }

    #[test]
    fn definitions_nest_as_written() {
        let f = fixture("{ services.getty.enable = true; users.alice = { uid = 1; }; foo = 1; }");
        let symbols = f.host.snapshot().symbols(f.file()).unwrap();
        let mut out = String::new();
        render(&symbols, 0, &mut out);
        expect_test::expect![[r#"
            services Namespace 
              getty Namespace 
                enable Option boolean
            users Option attribute set of (submodule)
              alice Name 
                uid Option null or signed integer
            foo Other 
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn bindings_nest_in_the_order_of_the_text() {
        let f = fixture(
            "{ lib, ... }:\nlet\n  cfg = 1;\n  web.port = 2;\n  web.host = 3;\nin {\n  services.getty.enable = let inner = true; in inner;\n}",
        );
        let symbols = f.host.snapshot().symbols(f.file()).unwrap();
        let mut out = String::new();
        render(&symbols, 0, &mut out);
        expect_test::expect![[r#"
            cfg Binding 
            web Binding 
              port Other 
              host Other 
            services Namespace 
              getty Namespace 
                enable Option boolean
                  inner Binding 
        "#]]
        .assert_eq(&out);
        let text = f.host.snapshot().file_text(f.file()).unwrap();
        assert_eq!(&text[symbols[0].range], "cfg = 1;");
        assert_eq!(&text[symbols[0].selection], "cfg");
        // A file with only bindings, no module.
        let f = fixture("let x = 1; in x");
        let names: Vec<String> = f
            .host
            .snapshot()
            .symbols(f.file())
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["x"]);
    }

    fn outline(text: &str) -> String {
        let f = fixture(text);
        let symbols = f.host.snapshot().symbols(f.file()).unwrap();
        let mut out = String::new();
        render(&symbols, 0, &mut out);
        out
    }

    /// A flake's own structure is the outline, with its inline modules'
    /// options where they are written.
    #[test]
    fn a_flake_shows_its_inputs_and_outputs() {
        let out = outline(
            r#"#- /flake.nix
{
  description = "A MicrOS system";
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix { boot.isContainer = true; } ];
    }).config.system.build.image;
    packages.x86_64-linux.container = 1;
  };
}
#- /configuration.nix
{ services.getty.enable = true; }
"#,
        );
        expect_test::expect![[r#"
            description Other 
            inputs Other 
              micros Other 
                url Other 
            outputs Other 
              packages Other 
                x86_64-linux Other 
                  default Other 
                    modules Other 
                      boot Namespace 
                        isContainer Option boolean
                  container Other 
        "#]]
        .assert_eq(&out);
    }

    /// A module's declarations are in the outline beside its definitions.
    #[test]
    fn a_module_shows_the_options_it_declares() {
        let out = outline(
            r#"{ lib, config, ... }: let
  cfg = config.my.web;
  inherit (lib) mkOption;
in {
  options.my.web.port = mkOption { type = lib.types.port; default = 80; };
  config = lib.mkIf (cfg.port > 0) { networking.firewall.allowedTCPPorts = [ cfg.port ]; };
}"#,
        );
        expect_test::expect![[r#"
            cfg Binding 
            mkOption Binding 
            options Other 
              my Other 
                web Other 
                  port Other 
                    type Other 
                    default Other 
            config Other 
              networking Namespace 
                firewall Namespace 
                  allowedTCPPorts Option list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)
        "#]]
        .assert_eq(&out);
    }

    /// Nesting deeper than the outline shows is cut, not followed.
    #[test]
    fn deep_nesting_is_cut() {
        let levels = |depth: usize, innermost: &str| {
            let text = format!(
                "{}{innermost}{}",
                "{ a = ".repeat(depth),
                "; }".repeat(depth)
            );
            let f = fixture(&text);
            let symbols = f.host.snapshot().symbols(f.file()).unwrap();
            let mut levels = 0;
            let mut level = &symbols;
            while let Some(first) = level.first() {
                levels += 1;
                level = &first.children;
            }
            levels
        };
        assert_eq!(levels(200, "1"), MAX_DEPTH);
        // Names inherited at the deepest level shown are cut too.
        assert_eq!(levels(MAX_DEPTH, "{ inherit x; }"), MAX_DEPTH);
        assert_eq!(levels(MAX_DEPTH - 1, "{ inherit x; }"), MAX_DEPTH);
    }
}
