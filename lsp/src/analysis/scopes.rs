//! Name resolution over a whole file: every binding (`let`, `rec`,
//! function parameters and formals, `inherit`), every use of a name, the
//! scope each lives in, and which binding each use means. References,
//! rename and highlight are answered from it.
//!
//! Nix's rules: a lexical binding anywhere up the chain wins over `with`;
//! `inherit x;` in a `let` or `rec` set binds `x` there and reads the `x`
//! outside it; in a plain set it only reads `x`.

use rnix::ast::{self, HasEntry};
use rowan::TextRange;
use rowan::ast::AstNode;
use rustc_hash::FxHashMap;

use micros_options::eval::GLOBAL_NAMES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    /// The file's scope is the first; each other has a parent.
    pub scopes: Vec<Scope>,
    pub defs: Vec<Def>,
    /// Uses of names, in the order of the text.
    pub refs: Vec<Ref>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub parent: Option<ScopeId>,
    pub kind: ScopeKind,
    /// The text the scope's names are visible in.
    pub range: TextRange,
    pub names: FxHashMap<String, DefId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    File,
    Let,
    Rec,
    Lambda,
    /// `with e; body`: names no lexical scope has may come from `e`.
    With,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Def {
    pub name: String,
    pub kind: DefKind,
    pub scope: ScopeId,
    /// Where the name is written: one place, or the first segment of each
    /// `name.a = ...; name.b = ...;` in the same `let`.
    pub sites: Vec<TextRange>,
    /// The bound expression (`let name = value;`), for following aliases.
    pub value: Option<TextRange>,
    /// `inherit (from) name;`: the `from` expression and the `inherit`.
    pub inherit: Option<InheritSite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    Let,
    Rec,
    /// `x: body`.
    Param,
    /// `{ x, ... }: body`: a name the caller passes.
    Formal,
    /// `args@{ ... }`.
    PatBind,
    /// `inherit x;` in a `let` or `rec` set (a use of the outer `x` too).
    Inherit,
    /// `inherit (from) x;` in a `let` or `rec` set.
    InheritFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InheritSite {
    /// The whole `inherit ... ;`.
    pub inherit: TextRange,
    /// `(from)`'s expression, when there is one.
    pub from: Option<TextRange>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub name: String,
    pub range: TextRange,
    /// The innermost scope where the name was looked up.
    pub scope: ScopeId,
    pub target: Target,
    /// Written as an attribute of `inherit x;` (the `inherit` is given).
    pub inherit: Option<InheritSite>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Def(DefId),
    /// Possibly from the innermost enclosing `with`.
    With(ScopeId),
    /// One of Nix's global names.
    Global,
    Undefined,
}

/// The file's scopes (a tracked query: positions change with every edit,
/// so results are not compared).
#[salsa::tracked(returns(ref), no_eq)]
pub fn scopes(
    db: &dyn crate::analysis::db::Db,
    file: crate::analysis::db::File,
) -> std::sync::Arc<Scopes> {
    std::sync::Arc::new(resolve(&crate::analysis::db::parse(db, file).root()))
}

/// Deeper than this, the walk stops (the parser already limits nesting).
const MAX_DEPTH: u32 = 1_000;

pub fn resolve(root: &ast::Root) -> Scopes {
    let mut walker = Walker {
        out: Scopes::default(),
        current: ScopeId(0),
        depth: 0,
    };
    walker.out.scopes.push(Scope {
        parent: None,
        kind: ScopeKind::File,
        range: root.syntax().text_range(),
        names: FxHashMap::default(),
    });
    if let Some(expr) = root.expr() {
        walker.expr(&expr);
    }
    walker.out.refs.sort_by_key(|r| r.range.start());
    walker.out
}

impl Scopes {
    pub fn def(&self, id: DefId) -> &Def {
        &self.defs[id.0 as usize]
    }

    pub fn scope(&self, id: ScopeId) -> &Scope {
        &self.scopes[id.0 as usize]
    }

    /// The scope and its ancestors, innermost first.
    pub fn chain(&self, from: ScopeId) -> impl Iterator<Item = ScopeId> + '_ {
        std::iter::successors(Some(from), |id| self.scope(*id).parent)
    }

    /// The binding a name at `offset` defines or uses.
    pub fn at(&self, offset: rowan::TextSize) -> Option<DefId> {
        let used = self.refs.iter().find_map(|r| match r.target {
            Target::Def(def) if r.range.contains_inclusive(offset) && r.inherit.is_none() => {
                Some(def)
            }
            _ => None,
        });
        used.or_else(|| {
            (0..self.defs.len() as u32).map(DefId).find(|id| {
                self.def(*id)
                    .sites
                    .iter()
                    .any(|site| site.contains_inclusive(offset))
            })
        })
        .or_else(|| {
            // `inherit x;` in a plain set: the outer `x`.
            self.refs.iter().find_map(|r| match r.target {
                Target::Def(def) if r.range.contains_inclusive(offset) => Some(def),
                _ => None,
            })
        })
    }

    /// The use written exactly at `range`, if any (refs are sorted).
    pub fn ref_at(&self, range: TextRange) -> Option<&Ref> {
        let first = self
            .refs
            .partition_point(|r| r.range.start() < range.start());
        self.refs[first..]
            .iter()
            .take_while(|r| r.range.start() == range.start())
            .find(|r| r.range == range)
    }

    /// The uses of a binding.
    pub fn uses(&self, def: DefId) -> impl Iterator<Item = &Ref> + '_ {
        self.refs
            .iter()
            .filter(move |r| r.target == Target::Def(def))
    }

    /// What `name` would mean if looked up from `scope`.
    pub fn lookup(&self, scope: ScopeId, name: &str) -> Target {
        let mut with = None;
        for id in self.chain(scope) {
            let scope = self.scope(id);
            if let Some(def) = scope.names.get(name) {
                return Target::Def(*def);
            }
            if scope.kind == ScopeKind::With && with.is_none() {
                with = Some(id);
            }
        }
        match with {
            Some(id) => Target::With(id),
            None if GLOBAL_NAMES.contains(&name) || name.starts_with("__") => Target::Global,
            None => Target::Undefined,
        }
    }
}

struct Walker {
    out: Scopes,
    current: ScopeId,
    depth: u32,
}

impl Walker {
    fn push_scope(&mut self, kind: ScopeKind, range: TextRange) -> ScopeId {
        let id = ScopeId(self.out.scopes.len() as u32);
        self.out.scopes.push(Scope {
            parent: Some(self.current),
            kind,
            range,
            names: FxHashMap::default(),
        });
        self.current = id;
        id
    }

    fn pop_scope(&mut self) {
        if let Some(parent) = self.out.scopes[self.current.0 as usize].parent {
            self.current = parent;
        }
    }

    fn define(
        &mut self,
        name: String,
        kind: DefKind,
        site: TextRange,
        value: Option<TextRange>,
        inherit: Option<InheritSite>,
    ) {
        let scope = self.current;
        if let Some(existing) = self.out.scopes[scope.0 as usize].names.get(&name) {
            // `a.x = 1; a.y = 2;` in one `let`: one binding, written twice.
            self.out.defs[existing.0 as usize].sites.push(site);
            return;
        }
        let id = DefId(self.out.defs.len() as u32);
        self.out.defs.push(Def {
            name: name.clone(),
            kind,
            scope,
            sites: vec![site],
            value,
            inherit,
        });
        self.out.scopes[scope.0 as usize].names.insert(name, id);
    }

    fn use_name(
        &mut self,
        name: String,
        range: TextRange,
        scope: ScopeId,
        inherit: Option<InheritSite>,
    ) {
        let target = self.out.lookup(scope, &name);
        self.out.refs.push(Ref {
            name,
            range,
            scope,
            target,
            inherit,
        });
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
                let name = crate::analysis::lower::ident_text(ident);
                // The parser's own: the position of the expression.
                if name != "__curPos" {
                    self.use_name(name, ident.syntax().text_range(), self.current, None);
                }
            }
            ast::Expr::LetIn(let_in) => {
                self.push_scope(ScopeKind::Let, let_in.syntax().text_range());
                self.bindings(let_in, DefKind::Let);
                self.entries(let_in, true);
                self.opt(let_in.body());
                self.pop_scope();
            }
            ast::Expr::LegacyLet(let_) => {
                self.push_scope(ScopeKind::Let, let_.syntax().text_range());
                self.bindings(let_, DefKind::Let);
                self.entries(let_, true);
                self.pop_scope();
            }
            ast::Expr::AttrSet(set) if set.rec_token().is_some() => {
                self.push_scope(ScopeKind::Rec, set.syntax().text_range());
                self.bindings(set, DefKind::Rec);
                self.entries(set, true);
                self.pop_scope();
            }
            ast::Expr::AttrSet(set) => self.entries(set, false),
            ast::Expr::Lambda(lambda) => {
                self.push_scope(ScopeKind::Lambda, lambda.syntax().text_range());
                match lambda.param() {
                    Some(ast::Param::IdentParam(param)) => {
                        if let Some(ident) = param.ident() {
                            self.define_ident(&ident, DefKind::Param);
                        }
                    }
                    Some(ast::Param::Pattern(pattern)) => {
                        for entry in pattern.pat_entries() {
                            if let Some(ident) = entry.ident() {
                                self.define_ident(&ident, DefKind::Formal);
                            }
                        }
                        if let Some(ident) = pattern.pat_bind().and_then(|b| b.ident()) {
                            self.define_ident(&ident, DefKind::PatBind);
                        }
                        // Defaults see the other parameters.
                        for entry in pattern.pat_entries() {
                            self.opt(entry.default());
                        }
                    }
                    None => {}
                }
                self.opt(lambda.body());
                self.pop_scope();
            }
            ast::Expr::With(with) => {
                self.opt(with.namespace());
                self.push_scope(ScopeKind::With, with.syntax().text_range());
                self.opt(with.body());
                self.pop_scope();
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
                        // Interpolations and the like.
                        for grandchild in child.children().filter_map(ast::Expr::cast) {
                            self.expr(&grandchild);
                        }
                    }
                }
            }
        }
    }

    fn define_ident(&mut self, ident: &ast::Ident, kind: DefKind) {
        let name = crate::analysis::lower::ident_text(ident);
        self.define(name, kind, ident.syntax().text_range(), None, None);
    }

    /// The names a `let` or `rec` set binds, before anything in it is
    /// walked (its bindings see each other).
    fn bindings(&mut self, node: &impl HasEntry, kind: DefKind) {
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(value) => {
                    let Some(path) = value.attrpath() else {
                        continue;
                    };
                    let mut attrs = path.attrs();
                    let Some(first) = attrs.next() else { continue };
                    let Some(name) = crate::analysis::lower::attr_text(&first) else {
                        continue;
                    };
                    // Only `name = value;` binds `value` to the name.
                    let bound = match attrs.next() {
                        None => value.value().map(|v| v.syntax().text_range()),
                        Some(_) => None,
                    };
                    self.define(name, kind, first.syntax().text_range(), bound, None);
                }
                ast::Entry::Inherit(inherit) => {
                    let site = inherit_site(&inherit);
                    let kind = match site.from {
                        Some(_) => DefKind::InheritFrom,
                        None => DefKind::Inherit,
                    };
                    for attr in inherit.attrs() {
                        if let Some(name) = crate::analysis::lower::attr_text(&attr) {
                            self.define(name, kind, attr.syntax().text_range(), None, Some(site));
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

    /// The entries of a set or `let`; `own_scope` says whether the current
    /// scope is the one they bind in (`inherit x;` then looks outside it).
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
                        let site = inherit_site(&inherit);
                        let scope = match own_scope {
                            true => self.out.scopes[self.current.0 as usize]
                                .parent
                                .unwrap_or(self.current),
                            false => self.current,
                        };
                        for attr in inherit.attrs() {
                            if let ast::Attr::Ident(ident) = &attr {
                                let name = crate::analysis::lower::ident_text(ident);
                                self.use_name(name, ident.syntax().text_range(), scope, Some(site));
                            }
                        }
                    }
                },
            }
        }
    }
}

fn inherit_site(inherit: &ast::Inherit) -> InheritSite {
    InheritSite {
        inherit: inherit.syntax().text_range(),
        from: inherit
            .from()
            .and_then(|f| f.expr())
            .map(|e| e.syntax().text_range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each use as `name@offset -> what it means`.
    fn show(text: &str) -> Vec<String> {
        let scopes = resolve(&rnix::Root::parse(text).tree());
        scopes
            .refs
            .iter()
            .map(|r| {
                let target = match r.target {
                    Target::Def(def) => {
                        let def = scopes.def(def);
                        format!("{:?}@{}", def.kind, u32::from(def.sites[0].start()))
                    }
                    other => format!("{other:?}"),
                };
                format!("{}@{} -> {target}", r.name, u32::from(r.range.start()))
            })
            .collect()
    }

    #[test]
    fn lexical_bindings_win_over_with() {
        expect_test::expect![[r#"
            [
                "lib@33 -> Formal@2",
                "a@40 -> Let@18",
                "b@42 -> With(ScopeId(3))",
                "map@44 -> Formal@7",
            ]
        "#]]
        .assert_debug_eq(&show("{ lib, map }: let a = 1; in with lib; [ a b map ]"));
    }

    #[test]
    fn inherit_reads_outside_its_own_let() {
        expect_test::expect![[r#"
            [
                "x@15 -> Param@0",
                "x@31 -> Inherit@15",
                "y@33 -> Undefined",
                "toString@40 -> Global",
            ]
        "#]]
        .assert_debug_eq(&show("x: let inherit x; in { inherit x y; z = toString; }"));
        // `rec` sets bind; `inherit (from)` takes its names from `from`.
        expect_test::expect![[r#"
            [
                "b@10 -> Rec@13",
                "lib@29 -> Undefined",
                "mkIf@44 -> InheritFrom@34",
            ]
        "#]]
        .assert_debug_eq(&show("rec { a = b; b = 1; inherit (lib) mkIf; c = mkIf; }"));
    }

    #[test]
    fn one_binding_written_as_several_paths() {
        let scopes = resolve(&rnix::Root::parse("let a.x = 1; a.y = 2; in a").tree());
        assert_eq!(scopes.defs.len(), 1);
        assert_eq!(scopes.defs[0].sites.len(), 2);
        assert_eq!(scopes.uses(DefId(0)).count(), 1);
    }
}
