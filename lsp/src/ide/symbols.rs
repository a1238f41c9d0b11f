//! Document symbols: the options a file defines, nested as written, after
//! the file's `let` bindings.

use rowan::TextRange;
use rowan::ast::AstNode;

use crate::analysis::db::{self, File};
use crate::analysis::lower::{Key, Module, Node, NodeId, SourceMap};
use crate::analysis::resolve::{KeyMeaning, Resolution};

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

pub fn symbols(db: &dyn db::Db, file: File) -> Vec<Symbol> {
    let module = db::module(db, file);
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let mut symbols = bindings(db, file);
    if let Some(config) = module.config {
        symbols.extend(collect(module, map, resolution, config, 0));
    }
    symbols
}

/// Each `let` binding, in the order of the text: its name, and the whole
/// `name = value;`.
fn bindings(db: &dyn db::Db, file: File) -> Vec<Symbol> {
    use crate::analysis::scopes::{self, DefKind};
    let scopes = scopes::scopes(db, file);
    let root = db::parse(db, file).root();
    let mut out: Vec<Symbol> = scopes
        .defs
        .iter()
        .filter(|def| def.kind == DefKind::Let)
        .filter_map(|def| {
            let site = *def.sites.first()?;
            let binding = root
                .syntax()
                .covering_element(site)
                .ancestors()
                .find(|n| n.kind() == rnix::SyntaxKind::NODE_ATTRPATH_VALUE)?;
            Some(Symbol {
                name: def.name.clone(),
                kind: SymbolKind::Binding,
                detail: None,
                range: binding.text_range(),
                selection: site,
                children: Vec::new(),
            })
        })
        .collect();
    out.sort_by_key(|s| s.range.start());
    out
}

fn collect(
    module: &Module,
    map: &SourceMap,
    resolution: &Resolution,
    node: NodeId,
    depth: u32,
) -> Vec<Symbol> {
    if depth > 64 {
        return Vec::new();
    }
    match &module.nodes[node.0 as usize] {
        Node::Attrs(entries) => entries
            .iter()
            .map(|entry| {
                let position = map.entry(entry.id);
                let (kind, detail) = match resolution.keys.get(&entry.id) {
                    Some(KeyMeaning::Option(option)) => {
                        (SymbolKind::Option, Some(option.ty.description()))
                    }
                    Some(KeyMeaning::Prefix(_)) => (SymbolKind::Namespace, None),
                    Some(KeyMeaning::Name(_)) => (SymbolKind::Name, None),
                    None => (SymbolKind::Other, None),
                };
                Symbol {
                    name: match &entry.key {
                        Key::Name(name) => name.clone(),
                        Key::Dynamic => "${...}".into(),
                    },
                    kind,
                    detail,
                    range: position.entry.cover(position.key),
                    selection: position.key,
                    children: collect(module, map, resolution, entry.value, depth + 1),
                }
            })
            .collect(),
        Node::Wrapped(inner) => collect(module, map, resolution, *inner, depth + 1),
        Node::Merge(parts) => parts
            .iter()
            .flat_map(|p| collect(module, map, resolution, *p, depth + 1))
            .collect(),
        Node::List(items) => items
            .iter()
            .flat_map(|i| collect(module, map, resolution, *i, depth + 1))
            .collect(),
        _ => Vec::new(),
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
    fn let_bindings_come_first_in_the_order_of_the_text() {
        let f = fixture(
            "{ lib, ... }:\nlet\n  cfg = 1;\n  web.port = 2;\n  web.host = 3;\nin {\n  services.getty.enable = let inner = true; in inner;\n}",
        );
        let symbols = f.host.snapshot().symbols(f.file()).unwrap();
        let mut out = String::new();
        render(&symbols, 0, &mut out);
        expect_test::expect![[r#"
            cfg Binding 
            web Binding 
            inner Binding 
            services Namespace 
              getty Namespace 
                enable Option boolean
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
}
