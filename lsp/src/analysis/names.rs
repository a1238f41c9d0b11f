//! Name resolution over a whole file: variables no scope defines, and
//! `let` bindings nothing uses.

use std::collections::HashMap;

use micros_options::eval::GLOBAL_NAMES;
use rnix::ast::{self, HasEntry};
use rowan::TextRange;
use rowan::ast::AstNode;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameProblems {
    pub undefined: Vec<(String, TextRange)>,
    pub unused: Vec<Unused>,
    /// `with x;` (this range) that gives no name to its body.
    pub unused_with: Vec<TextRange>,
    /// The `rec` of sets whose values use none of its names.
    pub needless_rec: Vec<TextRange>,
}

/// A binding nothing uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    pub name: String,
    pub range: TextRange,
    /// Bound by `inherit`, where the name must stay the source's: such a
    /// binding can only be removed, not renamed to `_name`.
    pub inherited: bool,
}

struct Binding {
    range: TextRange,
    used: bool,
    report_unused: bool,
    inherited: bool,
}

/// An enclosing `with`: its `with x;` and whether a name came from it.
struct With {
    range: TextRange,
    used: bool,
}

#[derive(Default)]
struct Walker {
    scopes: Vec<HashMap<String, Binding>>,
    /// Inside `with`, any name may come from the namespace. A name no
    /// scope binds uses every enclosing one (which has it is not known).
    withs: Vec<With>,
    out: NameProblems,
    depth: u32,
}

/// Deeper than this, the walk stops (the parser already limits nesting).
const MAX_DEPTH: u32 = 1_000;

pub fn check_names(root: &ast::Root) -> NameProblems {
    let mut walker = Walker::default();
    if let Some(expr) = root.expr() {
        walker.expr(&expr);
    }
    walker.out.undefined.sort_by_key(|(_, r)| r.start());
    walker.out.unused.sort_by_key(|u| u.range.start());
    walker.out.unused_with.sort_by_key(|r| r.start());
    walker.out.needless_rec.sort_by_key(|r| r.start());
    walker.out
}

impl Walker {
    fn use_name(&mut self, name: &str, range: TextRange, skip_innermost: bool) {
        let frames = self.scopes.len() - usize::from(skip_innermost && !self.scopes.is_empty());
        for scope in self.scopes[..frames].iter_mut().rev() {
            if let Some(binding) = scope.get_mut(name) {
                binding.used = true;
                return;
            }
        }
        // Nix's globals are lexical: a `with` cannot shadow them.
        if GLOBAL_NAMES.contains(&name) || name.starts_with("__") {
            return;
        }
        if !self.withs.is_empty() {
            for with in &mut self.withs {
                with.used = true;
            }
            return;
        }
        self.out.undefined.push((name.to_string(), range));
    }

    /// Pop a `rec` set's scope: a `rec` none of whose names is used is
    /// needless.
    fn pop_rec_scope(&mut self, rec: TextRange) {
        if let Some(scope) = self.scopes.last()
            && !scope.values().any(|b| b.used)
        {
            self.out.needless_rec.push(rec);
        }
        self.pop_scope();
    }

    fn pop_scope(&mut self) {
        if let Some(scope) = self.scopes.pop() {
            for (name, binding) in scope {
                if binding.report_unused && !binding.used && !name.starts_with('_') {
                    self.out.unused.push(Unused {
                        name,
                        range: binding.range,
                        inherited: binding.inherited,
                    });
                }
            }
        }
    }

    fn opt(&mut self, expr: Option<ast::Expr>) {
        if let Some(expr) = expr {
            self.expr(&expr);
        }
    }

    fn expr(&mut self, expr: &ast::Expr) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_inner(expr);
        self.depth -= 1;
    }

    fn expr_inner(&mut self, expr: &ast::Expr) {
        match expr {
            ast::Expr::Ident(ident) => {
                let name = ident.syntax().text().to_string();
                self.use_name(&name, ident.syntax().text_range(), false);
            }
            ast::Expr::LetIn(let_in) => {
                let scope = bindings_of(let_in, true);
                self.scopes.push(scope);
                self.entries(let_in, true);
                self.opt(let_in.body());
                self.pop_scope();
            }
            ast::Expr::LegacyLet(let_) => {
                let scope = bindings_of(let_, false);
                self.scopes.push(scope);
                self.entries(let_, true);
                self.pop_scope();
            }
            ast::Expr::AttrSet(set) => {
                if let Some(rec) = set.rec_token() {
                    let scope = bindings_of(set, false);
                    self.scopes.push(scope);
                    self.entries(set, true);
                    self.pop_rec_scope(rec.text_range());
                } else {
                    self.entries(set, false);
                }
            }
            ast::Expr::Lambda(lambda) => {
                let mut scope = HashMap::new();
                match lambda.param() {
                    Some(ast::Param::IdentParam(p)) => {
                        if let Some(ident) = p.ident() {
                            scope.insert(ident.syntax().text().to_string(), param(&ident));
                        }
                    }
                    Some(ast::Param::Pattern(pattern)) => {
                        for entry in pattern.pat_entries() {
                            if let Some(ident) = entry.ident() {
                                scope.insert(ident.syntax().text().to_string(), param(&ident));
                            }
                        }
                        if let Some(ident) = pattern.pat_bind().and_then(|b| b.ident()) {
                            scope.insert(ident.syntax().text().to_string(), param(&ident));
                        }
                        self.scopes.push(scope);
                        // Defaults see the other parameters.
                        for entry in pattern.pat_entries() {
                            self.opt(entry.default());
                        }
                        self.opt(lambda.body());
                        self.pop_scope();
                        return;
                    }
                    None => {}
                }
                self.scopes.push(scope);
                self.opt(lambda.body());
                self.pop_scope();
            }
            ast::Expr::With(with) => {
                self.opt(with.namespace());
                let start = with.syntax().text_range().start();
                let end = with
                    .semicolon_token()
                    .map_or(start, |t| t.text_range().end());
                self.withs.push(With {
                    range: TextRange::new(start, end),
                    used: false,
                });
                self.opt(with.body());
                if let Some(with) = self.withs.pop()
                    && !with.used
                {
                    self.out.unused_with.push(with.range);
                }
            }
            ast::Expr::Select(select) => {
                self.opt(select.expr());
                if let Some(path) = select.attrpath() {
                    self.attrpath(&path);
                }
                self.opt(select.default_expr());
            }
            ast::Expr::HasAttr(has) => {
                self.opt(has.expr());
                if let Some(path) = has.attrpath() {
                    self.attrpath(&path);
                }
            }
            other => {
                for child in other.syntax().children() {
                    if let Some(child) = ast::Expr::cast(child.clone()) {
                        self.expr(&child);
                    } else {
                        // Interpolations, inherit-from and the like.
                        for grandchild in child.children().filter_map(ast::Expr::cast) {
                            self.expr(&grandchild);
                        }
                    }
                }
            }
        }
    }

    /// Dynamic attribute names are expressions; plain ones are not.
    fn attrpath(&mut self, path: &ast::Attrpath) {
        for attr in path.attrs() {
            match attr {
                ast::Attr::Dynamic(dynamic) => self.opt(dynamic.expr()),
                ast::Attr::Str(s) => {
                    for part in s.syntax().children().filter_map(ast::Interpol::cast) {
                        self.opt(part.expr());
                    }
                }
                ast::Attr::Ident(_) => {}
            }
        }
    }

    /// The entries of a set or `let`; `own_scope` says whether their own
    /// bindings are the innermost scope (for `inherit x;`, which looks
    /// outside it).
    fn entries(&mut self, node: &impl HasEntry, own_scope: bool) {
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(value) => {
                    if let Some(path) = value.attrpath() {
                        self.attrpath(&path);
                    }
                    self.opt(value.value());
                }
                ast::Entry::Inherit(inherit) => match inherit.from() {
                    Some(from) => self.opt(from.expr()),
                    None => {
                        for attr in inherit.attrs() {
                            if let ast::Attr::Ident(ident) = &attr {
                                let name = ident.syntax().text().to_string();
                                self.use_name(&name, ident.syntax().text_range(), own_scope);
                            }
                        }
                    }
                },
            }
        }
    }
}

fn param(ident: &ast::Ident) -> Binding {
    // Module arguments (`{ pkgs, lib, ... }:`) are often unused, and that
    // is fine: they are never reported.
    Binding {
        range: ident.syntax().text_range(),
        used: false,
        report_unused: false,
        inherited: false,
    }
}

fn bindings_of(node: &impl HasEntry, report_unused: bool) -> HashMap<String, Binding> {
    let mut scope = HashMap::new();
    for entry in node.entries() {
        match entry {
            ast::Entry::AttrpathValue(value) => {
                let Some(first) = value.attrpath().and_then(|p| p.attrs().next()) else {
                    continue;
                };
                if let Some(name) = crate::analysis::lower::attr_text(&first) {
                    let range = first.syntax().text_range();
                    scope.entry(name).or_insert(Binding {
                        range,
                        used: false,
                        report_unused,
                        inherited: false,
                    });
                }
            }
            ast::Entry::Inherit(inherit) => {
                for attr in inherit.attrs() {
                    if let Some(name) = crate::analysis::lower::attr_text(&attr) {
                        let range = attr.syntax().text_range();
                        scope.entry(name).or_insert(Binding {
                            range,
                            used: false,
                            report_unused,
                            inherited: true,
                        });
                    }
                }
            }
        }
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> (Vec<String>, Vec<String>) {
        let names = check_names(&rnix::Root::parse(text).tree());
        (
            names.undefined.into_iter().map(|(n, _)| n).collect(),
            names.unused.into_iter().map(|u| u.name).collect(),
        )
    }

    #[test]
    fn undefined_and_unused() {
        let (undefined, unused) = problems(
            "{ pkgs, lib, ... }: let a = 1; b = a; unused = 2; inherit (lib) mkIf; in { x = b; y = mkIf true c; z = pkgs.hello; }",
        );
        assert_eq!(undefined, ["c"]);
        assert_eq!(unused, ["unused"]);
    }

    #[test]
    fn with_and_rec_and_inherit() {
        let (undefined, unused) = problems(
            "{ lib, ... }: with lib; rec { a = mkOption { }; b = a; inherit (types) str; c = let x = 1; in { inherit x; }; }",
        );
        assert!(undefined.is_empty(), "{undefined:?}");
        assert!(unused.is_empty(), "{unused:?}");
        let (undefined, _) = problems("let inherit x; in x");
        assert_eq!(undefined, ["x"]);
        let (undefined, _) =
            problems("x: { a = x; b = y; ${z} = 1; c = builtins.map; d = __add; }");
        assert_eq!(undefined, ["y", "z"]);
    }

    #[test]
    fn unused_with_and_needless_rec() {
        let check = |text: &str| {
            let names = check_names(&rnix::Root::parse(text).tree());
            let show = |ranges: Vec<TextRange>| -> Vec<String> {
                ranges
                    .iter()
                    .map(|r| text[std::ops::Range::<usize>::from(*r)].to_string())
                    .collect()
            };
            (show(names.unused_with), show(names.needless_rec))
        };
        // A name from the namespace uses it; a bound name or a global does not.
        let (with, _) = check("pkgs: lib: with pkgs; with lib; [ hello ]");
        assert!(with.is_empty(), "{with:?}");
        let (with, _) = check("pkgs: let x = 1; in with pkgs; [ x map true ]");
        assert_eq!(with, ["with pkgs;"]);
        let (with, _) = check("lib: { a = with lib; { b = 1; }; }");
        assert_eq!(with, ["with lib;"]);
        // `inherit x;` inside a `with` takes `x` from it.
        let (with, _) = check("lib: with lib; { inherit mkIf; }");
        assert!(with.is_empty(), "{with:?}");
        let (_, rec) = check("rec { a = 1; b = a; }");
        assert!(rec.is_empty(), "{rec:?}");
        let (_, rec) = check("x: rec { a = 1; b = x; c = { a = 2; }; }");
        assert_eq!(rec, ["rec"]);
        let (_, rec) = check("rec { a = 1; b = rec { c = a; }; }");
        assert_eq!(rec, ["rec"], "the inner rec binds nothing it uses");
        // Globals Nix has without `builtins.` (nixpkgs's lib/trivial.nix).
        let (undefined, _) = problems("path: fromTOML (builtins.readFile path)");
        assert!(undefined.is_empty(), "{undefined:?}");
    }
}
