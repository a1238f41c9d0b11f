//! Lowering a module file into what it defines.
//!
//! The result has two halves, as in nil: [`Module`] holds no positions, so
//! an edit that only moves text (whitespace, comments) lowers to an equal
//! module and everything computed from it is reused; [`SourceMap`] holds
//! the positions.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;

use crate::analysis::cond::{Cond, Value as CondValue};

use rnix::ast::{self, HasEntry};
use rowan::TextRange;
use rowan::ast::AstNode;

/// Index of a value node in [`Module::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of an attribute entry (one attribute-path segment of a
/// definition) in the source map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub u32);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Module {
    pub nodes: Vec<Node>,
    /// The value the module defines options with (`config`, or the whole
    /// set in the shorthand form).
    pub config: Option<NodeId>,
    /// Relative paths of `imports` (`./x.nix`), in order; the entry id
    /// points at the import in the source map.
    pub imports: Vec<(String, EntryId)>,
    /// Whether the module declares options (`options = ...`).
    pub declares_options: bool,
    /// Pairs (first, again) of attributes defined twice in one set.
    pub duplicates: Vec<(EntryId, EntryId)>,
    /// What the file's expression looks like: a module, or not.
    pub shape: Shape,
    /// The formals of the module function (`{ config, webRoot, ... }:`).
    pub formals: Option<Formals>,
    /// How wrappers and merges combine what they hold, by node (a merge
    /// without an entry is `mkMerge`'s: each part a definition of its own;
    /// a wrapper without one changes nothing).
    pub forms: BTreeMap<NodeId, Form>,
    /// The condition each `assertion = ...;` value spells, by value node.
    pub conditions: BTreeMap<NodeId, Cond>,
    /// flake.nix only: the modules written inline in its `modules` lists,
    /// in the order of [`crate::analysis::systems::FlakeModel::inline`]. `config`
    /// above merges theirs; `imports` holds theirs too.
    pub inline: Vec<InlineModule>,
}

/// What a wrapper or a merge does to the definitions it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `mkIf c x`, `optionalAttrs c x`, `optional c x`: defined when `c`.
    If(Cond),
    /// `mkDefault` (1000), `mkForce` (50), `mkOverride n`, ...; `None`
    /// when the priority is not a literal.
    Priority(Option<u32>),
    /// `mkBefore`, `mkAfter`, `mkOrder`: ordering only.
    Order,
    /// `a // b`, `recursiveUpdate a b`: one value made of the parts.
    Update,
    /// `if c then a else b`: one of the two parts.
    Choice(Cond),
}

/// The priority of a plain definition, as the module system gives it.
pub const DEFAULT_PRIORITY: u32 = 100;

/// A module written in flake.nix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InlineModule {
    pub config: Option<NodeId>,
    pub formals: Option<Formals>,
    /// Relative paths of its `imports` (from the flake's directory).
    pub imports: Vec<(String, EntryId)>,
    pub declares_options: bool,
}

/// The outline of a file's expression, enough to tell a module from a
/// library, data or package file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shape {
    /// The function's formals name `config`, `options`, `pkgs` or
    /// `modulesPath` and end in `...`.
    pub takes_module_args: bool,
    /// The body is a set with `imports`, `options` or `config` at the top.
    pub structured: bool,
    /// The body's top-level names, when it is a set literal.
    pub top_names: Option<Vec<String>>,
    /// A function returning a function (`self: super: { ... }`, an
    /// overlay): never a module, which must give a set.
    pub curried: bool,
}

/// Names every module set may hold besides options.
pub const MODULE_KEYWORDS: &[&str] = &[
    "imports",
    "_file",
    "key",
    "disabledModules",
    "_class",
    "freeformType",
    "require",
    "meta",
    "_module",
];

impl Shape {
    /// Whether a file of this shape is a module, judged on its own (no
    /// system reaches it): `is_option_root` says which top-level names
    /// the option set has.
    pub fn looks_like_module(&self, is_option_root: impl Fn(&str) -> bool) -> bool {
        !self.curried
            && (self.takes_module_args
                || self.structured
                || self.top_names.as_ref().is_some_and(|names| {
                    names
                        .iter()
                        .all(|n| MODULE_KEYWORDS.contains(&n.as_str()) || is_option_root(n))
                }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formals {
    pub names: Vec<Formal>,
    pub ellipsis: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formal {
    pub name: String,
    pub has_default: bool,
    /// The formal's name in the source map.
    pub id: EntryId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Attrs(Vec<Entry>),
    List(Vec<NodeId>),
    Literal(Literal),
    /// `mkIf c x`, `mkDefault x`, `mkForce x`, `mkOverride n x`,
    /// `mkBefore x`, `optionalAttrs c x`...: defines what `x` defines.
    Wrapped(NodeId),
    /// `mkMerge [ a b ]`, `a // b`, `recursiveUpdate a b`.
    Merge(Vec<NodeId>),
    Lambda,
    /// Not decidable statically (a function call, `config.x`, `pkgs.x`).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub value: NodeId,
    pub id: EntryId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Name(String),
    /// `${expr}` or an interpolated string: unknown name.
    Dynamic,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A string with interpolations: a string, content unknown. The
    /// literal prefix before the first interpolation is kept.
    StrInterpolated {
        prefix: String,
    },
    Path,
}

// Floats are compared bitwise so that lowering equality is reflexive.
impl Eq for Literal {}

/// Positions of a lowered module.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceMap {
    /// Range of each node's expression.
    pub nodes: Vec<TextRange>,
    pub entries: Vec<EntryPos>,
    /// References that close a cycle of bindings (`a = b; b = a;`): the
    /// name and where it is written.
    pub recursion: Vec<(String, TextRange)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPos {
    /// The attribute-path segment (`enable` in `services.getty.enable`).
    pub key: TextRange,
    /// The whole `path = value;`.
    pub entry: TextRange,
    /// The whole attribute path.
    pub path: TextRange,
    /// Which segment of that path this entry is (0 for the first).
    pub segment: u32,
}

impl SourceMap {
    pub fn node(&self, id: NodeId) -> TextRange {
        self.nodes[id.0 as usize]
    }
    pub fn entry(&self, id: EntryId) -> &EntryPos {
        &self.entries[id.0 as usize]
    }
}

/// Lowering gives up beyond these, leaving `Unknown`: no file can make it
/// loop or blow up.
const MAX_NODES: usize = 200_000;
const MAX_DEPTH: u32 = 200;

/// Functions that wrap a definition without changing what it defines.
const WRAPPERS: &[&str] = &[
    "mkIf",
    "mkDefault",
    "mkForce",
    "mkOverride",
    "mkOptionDefault",
    "mkBefore",
    "mkAfter",
    "mkOrder",
    "mkVMOverride",
    "mkImageMediaOverride",
    "optionalAttrs",
    "mkFixStrictness",
];

/// The values a module's `config` gives a path, seen through wrappers and
/// merges; a `None` segment of `pattern` stands for any name, and each
/// value comes with the names those segments matched (`None` for a
/// computed one). Iterative and bounded, whatever the nesting.
pub fn values_at(module: &Module, pattern: &[Option<&str>]) -> Vec<(Vec<Option<String>>, NodeId)> {
    let mut out = Vec::new();
    let Some(config) = module.config else {
        return out;
    };
    // (node, how many segments of the pattern are matched, the names).
    let mut stack: Vec<(NodeId, usize, Vec<Option<String>>)> = vec![(config, 0, Vec::new())];
    let mut visited = 0usize;
    while let Some((id, depth, names)) = stack.pop() {
        visited += 1;
        if visited > module.nodes.len() * 4 + 16 {
            break;
        }
        match &module.nodes[id.0 as usize] {
            Node::Wrapped(inner) => stack.push((*inner, depth, names)),
            Node::Merge(parts) => stack.extend(parts.iter().map(|p| (*p, depth, names.clone()))),
            _ if depth == pattern.len() => out.push((names, id)),
            Node::Attrs(entries) => {
                for entry in entries {
                    let name = match &entry.key {
                        Key::Name(name) => Some(name.as_str()),
                        Key::Dynamic => None,
                    };
                    match pattern[depth] {
                        None => {
                            let mut names = names.clone();
                            names.push(name.map(str::to_string));
                            stack.push((entry.value, depth + 1, names));
                        }
                        Some(wanted) if name == Some(wanted) => {
                            stack.push((entry.value, depth + 1, names.clone()))
                        }
                        Some(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|(_, id)| *id);
    out
}

pub fn lower(root: &ast::Root) -> (Module, SourceMap) {
    let mut lowerer = Lowerer::default();
    if let Some(expr) = root.expr() {
        lowerer.lower_module(&expr);
    }
    (lowerer.module, lowerer.map)
}

/// Lower the modules written inline in a flake, at `ranges` (each a set
/// or a function expression).
pub fn lower_inline(root: &ast::Root, ranges: &[TextRange]) -> (Module, SourceMap) {
    let mut lowerer = Lowerer::default();
    let mut configs = Vec::new();
    for range in ranges {
        let expr = match root.syntax().covering_element(*range) {
            rowan::NodeOrToken::Node(node) => node
                .ancestors()
                .take_while(|n| n.text_range() == *range)
                .find_map(ast::Expr::cast),
            rowan::NodeOrToken::Token(_) => None,
        };
        let scopes = lowerer.scopes.len();
        let imports = lowerer.module.imports.len();
        let declared = std::mem::take(&mut lowerer.module.declares_options);
        if let Some(expr) = expr {
            lowerer.lower_module(&expr);
        }
        lowerer.scopes.truncate(scopes);
        let module = &mut lowerer.module;
        let inline = InlineModule {
            config: module.config.take(),
            formals: module.formals.take(),
            imports: module.imports[imports..].to_vec(),
            declares_options: module.declares_options,
        };
        module.declares_options |= declared;
        configs.extend(inline.config);
        module.inline.push(inline);
    }
    let module = &mut lowerer.module;
    // What the flake's own expression looks like does not matter: it is
    // not a module, its inline modules are.
    module.shape = Shape {
        structured: true,
        ..Shape::default()
    };
    if !configs.is_empty() {
        let whole = root.syntax().text_range();
        lowerer.module.config = Some(lowerer.alloc(Node::Merge(configs), whole));
    }
    (lowerer.module, lowerer.map)
}

/// How many entries a set has before its names are indexed.
const INDEXED_FROM: usize = 8;

#[derive(Default)]
struct Lowerer {
    module: Module,
    map: SourceMap,
    /// Lexical scopes of `let` bindings (and lambda parameters, which
    /// shadow them as unknown).
    scopes: Vec<HashMap<String, Option<ast::Expr>>>,
    depth: u32,
    /// Bindings being followed, to stop on `let a = a; in`, each with the
    /// count of `constructors` when it was entered (`None` for a function
    /// whose body is spliced in: calling itself may well end).
    following: Vec<(String, Option<u32>)>,
    /// Sets and lists entered so far: a binding met again inside one is a
    /// lazy, infinite value (fine in Nix); met again without one, it needs
    /// itself to be computed.
    constructors: u32,
    /// Entry lookup by set and name, for sets of [`INDEXED_FROM`] entries
    /// or more: sets can be large.
    by_name: FxHashMap<NodeId, FxHashMap<String, (NodeId, EntryId)>>,
}

impl Lowerer {
    fn alloc(&mut self, node: Node, range: TextRange) -> NodeId {
        let id = NodeId(self.module.nodes.len() as u32);
        self.module.nodes.push(node);
        self.map.nodes.push(range);
        id
    }

    fn alloc_with(&mut self, node: Node, range: TextRange, form: Form) -> NodeId {
        let id = self.alloc(node, range);
        self.module.forms.insert(id, form);
        id
    }

    /// The form of `name args...` (a wrapper in [`WRAPPERS`]).
    fn wrapper_form(&mut self, name: &str, args: &[ast::Expr]) -> Option<Form> {
        Some(match name {
            "mkIf" | "optionalAttrs" => match args {
                [condition, _] => Form::If(self.cond(condition)),
                _ => Form::If(Cond::Unknown),
            },
            "mkDefault" => Form::Priority(Some(1000)),
            "mkOptionDefault" => Form::Priority(Some(1500)),
            "mkForce" => Form::Priority(Some(50)),
            "mkVMOverride" => Form::Priority(Some(10)),
            "mkImageMediaOverride" => Form::Priority(Some(60)),
            "mkOverride" => Form::Priority(match args {
                [priority, _] => match ast_literal(priority) {
                    Some(Literal::Int(n)) => u32::try_from(n).ok(),
                    _ => None,
                },
                _ => None,
            }),
            "mkBefore" | "mkAfter" | "mkOrder" => Form::Order,
            _ => return None,
        })
    }

    /// A condition as [`Cond`], its names followed through this file's
    /// bindings (`cfg = config.networking.firewall;`).
    fn cond(&mut self, expr: &ast::Expr) -> Cond {
        if self.depth >= MAX_DEPTH || self.following.len() > 32 {
            return Cond::Unknown;
        }
        self.depth += 1;
        let cond = self.cond_inner(expr);
        self.depth -= 1;
        cond
    }

    fn cond_inner(&mut self, expr: &ast::Expr) -> Cond {
        let boxed = |c: Cond| Box::new(c);
        match expr {
            ast::Expr::Paren(paren) => paren.expr().map_or(Cond::Unknown, |e| self.cond(&e)),
            ast::Expr::Ident(ident) => {
                let name = ident_text(ident);
                match self.lookup(&name).cloned() {
                    Some(Some(bound)) if !self.following.iter().any(|(n, _)| *n == name) => {
                        self.following.push((name, None));
                        let cond = self.cond(&bound);
                        self.following.pop();
                        cond
                    }
                    Some(_) if name == "config" => Cond::Config(Vec::new()),
                    Some(_) => Cond::Unknown,
                    None => match name.as_str() {
                        "true" => Cond::Lit(CondValue::Bool(true)),
                        "false" => Cond::Lit(CondValue::Bool(false)),
                        "null" => Cond::Lit(CondValue::Null),
                        _ => Cond::Unknown,
                    },
                }
            }
            ast::Expr::Select(select) if select.default_expr().is_none() => {
                let base = select.expr().map_or(Cond::Unknown, |b| self.cond(&b));
                let Cond::Config(mut path) = base else {
                    return Cond::Unknown;
                };
                for attr in select.attrpath().iter().flat_map(|p| p.attrs()) {
                    match attr_text(&attr) {
                        Some(name) => path.push(name),
                        None => return Cond::Unknown,
                    }
                }
                Cond::Config(path)
            }
            ast::Expr::Literal(literal) => match literal_value(literal) {
                Some(Literal::Int(i)) => Cond::Lit(CondValue::Int(i)),
                _ => Cond::Unknown,
            },
            ast::Expr::Str(s) => match string_literal(s) {
                Literal::Str(text) => Cond::Lit(CondValue::Str(text)),
                _ => Cond::Unknown,
            },
            ast::Expr::List(list) => {
                if list.items().next().is_none() {
                    Cond::Lit(CondValue::EmptyList)
                } else {
                    Cond::Lit(CondValue::List)
                }
            }
            ast::Expr::UnaryOp(unary) if unary.operator() == Some(ast::UnaryOpKind::Invert) => {
                Cond::Not(boxed(unary.expr().map_or(Cond::Unknown, |e| self.cond(&e))))
            }
            ast::Expr::BinOp(binop) => {
                let (Some(lhs), Some(rhs)) = (binop.lhs(), binop.rhs()) else {
                    return Cond::Unknown;
                };
                let (a, b) = (boxed(self.cond(&lhs)), boxed(self.cond(&rhs)));
                match binop.operator() {
                    Some(ast::BinOpKind::And) => Cond::And(a, b),
                    Some(ast::BinOpKind::Or) => Cond::Or(a, b),
                    Some(ast::BinOpKind::Implication) => Cond::Implies(a, b),
                    Some(ast::BinOpKind::Equal) => Cond::Eq(a, b),
                    Some(ast::BinOpKind::NotEqual) => Cond::Not(boxed(Cond::Eq(a, b))),
                    _ => Cond::Unknown,
                }
            }
            ast::Expr::Apply(apply) => {
                // `lib.hasPrefix p s` (also `lib.strings.hasPrefix`).
                let (Some(ast::Expr::Apply(inner)), Some(string)) =
                    (apply.lambda(), apply.argument())
                else {
                    return Cond::Unknown;
                };
                let (Some(head), Some(prefix)) = (inner.lambda(), inner.argument()) else {
                    return Cond::Unknown;
                };
                if function_name(&head).as_deref() == Some("hasPrefix") {
                    Cond::HasPrefix(boxed(self.cond(&prefix)), boxed(self.cond(&string)))
                } else {
                    Cond::Unknown
                }
            }
            _ => Cond::Unknown,
        }
    }

    fn entry_id(&mut self, pos: EntryPos) -> EntryId {
        let id = EntryId(self.map.entries.len() as u32);
        self.map.entries.push(pos);
        id
    }

    fn lower_module(&mut self, expr: &ast::Expr) {
        let mut body = expr.clone();
        let mut outermost = true;
        // `{ config, lib, ... }: body` (possibly curried), `let .. in body`,
        // parentheses: look through to the module's set.
        for _ in 0..16 {
            body = match body {
                ast::Expr::Lambda(lambda) => {
                    if std::mem::take(&mut outermost) {
                        self.record_formals(&lambda);
                        self.module.shape.curried =
                            matches!(lambda.body(), Some(ast::Expr::Lambda(_)));
                    }
                    let mut scope = HashMap::new();
                    bind_params(&lambda, &mut scope);
                    self.scopes.push(scope);
                    match lambda.body() {
                        Some(b) => b,
                        None => return,
                    }
                }
                ast::Expr::LetIn(let_in) => {
                    outermost = false;
                    self.push_let(&let_in);
                    match let_in.body() {
                        Some(b) => b,
                        None => return,
                    }
                }
                ast::Expr::Paren(paren) => match paren.expr() {
                    Some(e) => e,
                    None => return,
                },
                // `let m = { .. }; in m`.
                ast::Expr::Ident(ref ident) => match self.lookup(&ident_text(ident)) {
                    Some(Some(bound)) => bound.clone(),
                    _ => return,
                },
                _ => break,
            };
        }
        let ast::Expr::AttrSet(set) = body else {
            // A module that is not a set literal (a function call, an
            // import): what it defines is not known.
            return;
        };
        let mut structured = false;
        let mut top_names = Vec::new();
        for inherit in set.inherits() {
            top_names.extend(inherit.attrs().filter_map(|a| attr_text(&a)));
        }
        for entry in set.attrpath_values() {
            let Some(first) = entry.attrpath().and_then(|p| p.attrs().next()) else {
                continue;
            };
            let name = attr_text(&first);
            // A computed name (`${x} = ...`) could be anything.
            top_names.push(name.clone().unwrap_or_else(|| "${..}".into()));
            match name.as_deref() {
                Some("imports") => self.lower_imports(&entry),
                Some("options") => {
                    self.module.declares_options = true;
                    structured = true;
                }
                Some("config") => structured = true,
                _ => {}
            }
        }
        self.module.shape.structured = structured;
        top_names.sort();
        top_names.dedup();
        self.module.shape.top_names = Some(top_names);
        if structured {
            // `config = ...;` (or `config.x = ...;`) only.
            let node = self.lower_attrs(&set, |name| name == "config");
            let config = match &self.module.nodes[node.0 as usize] {
                Node::Attrs(entries) => entries
                    .iter()
                    .filter(|e| e.key == Key::Name("config".into()))
                    .map(|e| e.value)
                    .collect::<Vec<_>>(),
                _ => Vec::new(),
            };
            self.module.config = match config.as_slice() {
                [] => None,
                [single] => Some(*single),
                many => Some(self.alloc(Node::Merge(many.to_vec()), set.syntax().text_range())),
            };
        } else {
            const SPECIAL: &[&str] = &[
                "imports",
                "_file",
                "key",
                "disabledModules",
                "_class",
                "freeformType",
                "require",
            ];
            self.module.config = Some(self.lower_attrs(&set, |name| !SPECIAL.contains(&name)));
        }
    }

    fn record_formals(&mut self, lambda: &ast::Lambda) {
        let Some(ast::Param::Pattern(pattern)) = lambda.param() else {
            return;
        };
        let ellipsis = pattern.ellipsis_token().is_some();
        let mut names = Vec::new();
        for entry in pattern.pat_entries() {
            let Some(ident) = entry.ident() else { continue };
            let range = ident.syntax().text_range();
            let id = self.entry_id(EntryPos {
                key: range,
                entry: entry.syntax().text_range(),
                path: range,
                segment: 0,
            });
            names.push(Formal {
                name: ident_text(&ident),
                has_default: entry.default().is_some(),
                id,
            });
        }
        const MODULE_ARGS: &[&str] = &["config", "options", "pkgs", "modulesPath"];
        self.module.shape.takes_module_args =
            ellipsis && names.iter().any(|f| MODULE_ARGS.contains(&f.name.as_str()));
        self.module.formals = Some(Formals { names, ellipsis });
    }

    fn lower_imports(&mut self, entry: &ast::AttrpathValue) {
        let Some(ast::Expr::List(list)) = entry.value() else {
            return;
        };
        for item in list.items() {
            if let ast::Expr::PathRel(path) = &item {
                let text = path.syntax().text().to_string();
                let range = item.syntax().text_range();
                let id = self.entry_id(EntryPos {
                    key: range,
                    entry: range,
                    path: range,
                    segment: 0,
                });
                self.module.imports.push((text, id));
            }
        }
    }

    fn push_let(&mut self, let_in: &ast::LetIn) {
        let mut scope = HashMap::new();
        for entry in let_in.attrpath_values() {
            let Some(path) = entry.attrpath() else {
                continue;
            };
            let attrs: Vec<ast::Attr> = path.attrs().collect();
            if let [attr] = attrs.as_slice()
                && let Some(name) = attr_text(attr)
            {
                scope.insert(name, entry.value());
            }
        }
        for inherit in let_in.inherits() {
            for attr in inherit.attrs() {
                if let Some(name) = attr_text(&attr) {
                    scope.insert(name, None);
                }
            }
        }
        self.scopes.push(scope);
    }

    fn lookup(&self, name: &str) -> Option<&Option<ast::Expr>> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Lower a set literal, keeping only top-level attributes `keep` accepts.
    fn lower_attrs(&mut self, set: &impl HasEntry, keep: impl Fn(&str) -> bool) -> NodeId {
        let range = set.syntax().text_range();
        let node = self.alloc(Node::Attrs(Vec::new()), range);
        // Names defined by each path in this set: merging follows Nix's
        // parser (nested literal sets merge; anything else twice is an error).
        for entry in set.attrpath_values() {
            let Some(path) = entry.attrpath() else {
                continue;
            };
            let attrs: Vec<ast::Attr> = path.attrs().collect();
            let Some(first) = attrs.first() else { continue };
            if let Some(name) = attr_text(first)
                && !keep(&name)
            {
                continue;
            }
            self.insert_path(node, &attrs, &entry, path.syntax().text_range());
        }
        for inherit in set.inherits() {
            for attr in inherit.attrs() {
                let Some(name) = attr_text(&attr) else {
                    continue;
                };
                if !keep(&name) {
                    continue;
                }
                let range = attr.syntax().text_range();
                let value = self.alloc(Node::Unknown, range);
                let id = self.entry_id(EntryPos {
                    key: range,
                    entry: inherit.syntax().text_range(),
                    path: range,
                    segment: 0,
                });
                self.push_entry(node, Key::Name(name), value, id, false);
            }
        }
        node
    }

    fn insert_path(
        &mut self,
        mut node: NodeId,
        attrs: &[ast::Attr],
        entry: &ast::AttrpathValue,
        path_range: TextRange,
    ) {
        let entry_range = entry.syntax().text_range();
        for (i, attr) in attrs.iter().enumerate() {
            let key = match attr_text(attr) {
                Some(name) => Key::Name(name),
                None => Key::Dynamic,
            };
            let id = self.entry_id(EntryPos {
                key: attr.syntax().text_range(),
                entry: entry_range,
                path: path_range,
                segment: i as u32,
            });
            let last = i + 1 == attrs.len();
            if last {
                let value_expr = entry.value();
                let is_set = matches!(value_expr, Some(ast::Expr::AttrSet(_)));
                let value = match &value_expr {
                    // A path being typed (`services.` or `boot.kern` before
                    // `}`, where the parser wraps what follows in an error
                    // node) defines nothing yet: the syntax error says it
                    // all. After its `=`, a missing value still defines the
                    // option, so completion knows the type the value must
                    // have.
                    Some(ast::Expr::Error(_)) if !assigns(entry) => return,
                    Some(v) => self.lower_expr(v),
                    None => return,
                };
                if key == Key::Name("assertion".into())
                    && let Some(v) = &value_expr
                {
                    let condition = self.cond(v);
                    self.module.conditions.insert(value, condition);
                }
                self.push_entry(node, key, value, id, is_set);
            } else {
                // An intermediate segment: reuse the set an earlier path made.
                let existing = self.find_entry(node, &key);
                node = match existing {
                    Some((value, _))
                        if matches!(self.module.nodes[value.0 as usize], Node::Attrs(_)) =>
                    {
                        value
                    }
                    Some((_, first)) => {
                        self.module.duplicates.push((first, id));
                        return;
                    }
                    None => {
                        let nested =
                            self.alloc(Node::Attrs(Vec::new()), attr.syntax().text_range());
                        self.add_entry(
                            node,
                            Entry {
                                key,
                                value: nested,
                                id,
                            },
                        );
                        nested
                    }
                };
            }
        }
    }

    fn attrs_mut(&mut self, node: NodeId) -> &mut Vec<Entry> {
        match &mut self.module.nodes[node.0 as usize] {
            Node::Attrs(entries) => entries,
            _ => unreachable!("only set nodes take entries"),
        }
    }

    fn find_entry(&self, node: NodeId, key: &Key) -> Option<(NodeId, EntryId)> {
        let Key::Name(name) = key else {
            return None;
        };
        if let Some(index) = self.by_name.get(&node) {
            return index.get(name.as_str()).copied();
        }
        let Node::Attrs(entries) = &self.module.nodes[node.0 as usize] else {
            return None;
        };
        entries
            .iter()
            .find(|e| matches!(&e.key, Key::Name(n) if n == name))
            .map(|e| (e.value, e.id))
    }

    /// Names are unique in a set (a second one is a duplicate, not an
    /// entry), so a small set is searched in place; a large one gets an
    /// index once it has [`INDEXED_FROM`] entries. An index for every set
    /// made lowering a flake of 5,000 inline modules mostly allocation.
    fn add_entry(&mut self, node: NodeId, entry: Entry) {
        let indexed = match self.by_name.get_mut(&node) {
            Some(index) => {
                if let Key::Name(name) = &entry.key {
                    index.insert(name.clone(), (entry.value, entry.id));
                }
                true
            }
            None => false,
        };
        let entries = self.attrs_mut(node);
        entries.push(entry);
        if !indexed && entries.len() == INDEXED_FROM {
            let index = entries
                .iter()
                .filter_map(|e| match &e.key {
                    Key::Name(n) => Some((n.clone(), (e.value, e.id))),
                    Key::Dynamic => None,
                })
                .collect();
            self.by_name.insert(node, index);
        }
    }

    /// Add `key = value` to a set node. A second definition of a name is a
    /// duplicate unless both values are set literals, whose direct entries
    /// then merge (one level, as Nix's parser does).
    fn push_entry(
        &mut self,
        node: NodeId,
        key: Key,
        value: NodeId,
        id: EntryId,
        value_is_set: bool,
    ) {
        match self.find_entry(node, &key) {
            Some((existing, first)) => {
                let existing_is_set =
                    matches!(self.module.nodes[existing.0 as usize], Node::Attrs(_));
                if existing_is_set && value_is_set {
                    let Node::Attrs(incoming) = self.module.nodes[value.0 as usize].clone() else {
                        unreachable!("checked above")
                    };
                    for inner in incoming {
                        match self.find_entry(existing, &inner.key) {
                            Some((_, earlier)) => self.module.duplicates.push((earlier, inner.id)),
                            None => self.add_entry(existing, inner),
                        }
                    }
                } else {
                    self.module.duplicates.push((first, id));
                }
            }
            None => self.add_entry(node, Entry { key, value, id }),
        }
    }

    fn lower_expr(&mut self, expr: &ast::Expr) -> NodeId {
        let range = expr.syntax().text_range();
        if self.module.nodes.len() >= MAX_NODES || self.depth >= MAX_DEPTH {
            return self.alloc(Node::Unknown, range);
        }
        self.depth += 1;
        let node = self.lower_expr_inner(expr, range);
        self.depth -= 1;
        node
    }

    fn lower_expr_inner(&mut self, expr: &ast::Expr, range: TextRange) -> NodeId {
        match expr {
            ast::Expr::AttrSet(set) => {
                self.constructors += 1;
                let node = if set.rec_token().is_some() {
                    // Values may refer to each other; names are still known.
                    let mut scope = HashMap::new();
                    for entry in set.attrpath_values() {
                        if let Some(name) = entry
                            .attrpath()
                            .and_then(|p| p.attrs().next())
                            .and_then(|a| attr_text(&a))
                        {
                            scope.insert(name, None);
                        }
                    }
                    self.scopes.push(scope);
                    let node = self.lower_attrs(set, |_| true);
                    self.scopes.pop();
                    node
                } else {
                    self.lower_attrs(set, |_| true)
                };
                self.constructors -= 1;
                node
            }
            ast::Expr::List(list) => {
                self.constructors += 1;
                let items = list.items().map(|item| self.lower_expr(&item)).collect();
                self.constructors -= 1;
                self.alloc(Node::List(items), range)
            }
            ast::Expr::Literal(literal) => {
                let value = literal_value(literal);
                self.alloc(value.map_or(Node::Unknown, Node::Literal), range)
            }
            ast::Expr::Str(s) => self.alloc(Node::Literal(string_literal(s)), range),
            ast::Expr::PathAbs(_) | ast::Expr::PathRel(_) | ast::Expr::PathHome(_) => {
                self.alloc(Node::Literal(Literal::Path), range)
            }
            ast::Expr::PathSearch(_) => self.alloc(Node::Literal(Literal::Path), range),
            ast::Expr::Paren(paren) => match paren.expr() {
                Some(inner) => self.lower_expr(&inner),
                None => self.alloc(Node::Unknown, range),
            },
            ast::Expr::Lambda(_) => self.alloc(Node::Lambda, range),
            ast::Expr::UnaryOp(unary) => {
                match (
                    unary.operator(),
                    unary.expr().as_ref().and_then(ast_literal),
                ) {
                    (Some(ast::UnaryOpKind::Negate), Some(Literal::Int(i))) => {
                        self.alloc(Node::Literal(Literal::Int(i.wrapping_neg())), range)
                    }
                    (Some(ast::UnaryOpKind::Negate), Some(Literal::Float(f))) => {
                        self.alloc(Node::Literal(Literal::Float(-f)), range)
                    }
                    _ => self.alloc(Node::Unknown, range),
                }
            }
            ast::Expr::BinOp(binop) if binop.operator() == Some(ast::BinOpKind::Update) => {
                let parts: Vec<NodeId> = [binop.lhs(), binop.rhs()]
                    .into_iter()
                    .flatten()
                    .map(|e| self.lower_expr(&e))
                    .collect();
                self.alloc_with(Node::Merge(parts), range, Form::Update)
            }
            ast::Expr::LetIn(let_in) => {
                self.push_let(let_in);
                let node = match let_in.body() {
                    Some(body) => self.lower_expr(&body),
                    None => self.alloc(Node::Unknown, range),
                };
                self.scopes.pop();
                node
            }
            ast::Expr::With(with) => match with.body() {
                // `with lib;` brings names we cannot list: bindings seen
                // through it stay unknown, but the body's shape is kept.
                Some(body) => self.lower_expr(&body),
                None => self.alloc(Node::Unknown, range),
            },
            ast::Expr::Ident(ident) => {
                let name = ident_text(ident);
                let followed = self.following.iter().rev().find(|(n, _)| *n == name);
                if let Some((_, Some(entered))) = followed
                    && *entered == self.constructors
                {
                    self.map.recursion.push((name.clone(), range));
                }
                match self.lookup(&name).cloned() {
                    Some(Some(bound)) if followed.is_none() => {
                        self.following.push((name, Some(self.constructors)));
                        let node = self.lower_expr(&bound);
                        self.following.pop();
                        node
                    }
                    _ => match name.as_str() {
                        "true" => self.alloc(Node::Literal(Literal::Bool(true)), range),
                        "false" => self.alloc(Node::Literal(Literal::Bool(false)), range),
                        "null" => self.alloc(Node::Literal(Literal::Null), range),
                        _ => self.alloc(Node::Unknown, range),
                    },
                }
            }
            ast::Expr::Apply(apply) => self.lower_apply(apply, range),
            ast::Expr::IfElse(if_else) => {
                // Either branch may be what is defined: both are checked.
                let parts: Vec<NodeId> = [if_else.body(), if_else.else_body()]
                    .into_iter()
                    .flatten()
                    .map(|e| self.lower_expr(&e))
                    .collect();
                let condition = match if_else.condition() {
                    Some(c) if parts.len() == 2 => self.cond(&c),
                    _ => Cond::Unknown,
                };
                self.alloc_with(Node::Merge(parts), range, Form::Choice(condition))
            }
            ast::Expr::Assert(assert) => match assert.body() {
                Some(body) => self.lower_expr(&body),
                None => self.alloc(Node::Unknown, range),
            },
            _ => self.alloc(Node::Unknown, range),
        }
    }

    /// Function applications: the module-system wrappers are seen through;
    /// a call to a function bound in this file splices its body in.
    fn lower_apply(&mut self, apply: &ast::Apply, range: TextRange) -> NodeId {
        let mut args = Vec::new();
        let mut head = ast::Expr::Apply(apply.clone());
        while let ast::Expr::Apply(a) = &head {
            if let Some(arg) = a.argument() {
                args.push(arg);
            }
            let Some(next) = a.lambda() else { break };
            head = next;
        }
        args.reverse();
        let name = function_name(&head);
        // A name bound in this file is its own function, not lib's.
        let locally_bound = match &head {
            ast::Expr::Ident(ident) => {
                matches!(self.lookup(&ident_text(ident)), Some(Some(_)))
            }
            _ => false,
        };
        if let Some(name) = name.as_deref()
            && !locally_bound
        {
            if WRAPPERS.contains(&name)
                && let Some(last) = args.last()
            {
                let form = self.wrapper_form(name, &args);
                let inner = self.lower_expr(last);
                return match form {
                    Some(form) => self.alloc_with(Node::Wrapped(inner), range, form),
                    None => self.alloc(Node::Wrapped(inner), range),
                };
            }
            // `optional c x` is `[ x ]` when `c`; `optionals c xs`, `xs`.
            if matches!(name, "optional" | "optionals")
                && let [condition, value] = args.as_slice()
            {
                let form = Form::If(self.cond(condition));
                let inner = self.lower_expr(value);
                let inner = if name == "optional" {
                    let item_range = value.syntax().text_range();
                    self.alloc(Node::List(vec![inner]), item_range)
                } else {
                    inner
                };
                return self.alloc_with(Node::Wrapped(inner), range, form);
            }
            if name == "mkMerge"
                && let Some(ast::Expr::List(list)) = args.first()
            {
                let parts = list.items().map(|item| self.lower_expr(&item)).collect();
                return self.alloc(Node::Merge(parts), range);
            }
            if name == "recursiveUpdate" && args.len() == 2 {
                let parts = args.iter().map(|a| self.lower_expr(a)).collect();
                return self.alloc_with(Node::Merge(parts), range, Form::Update);
            }
        }
        // `f x` with `f = { a, ... }: { ... };` in this file.
        if let ast::Expr::Ident(ident) = &head {
            let name = ident_text(ident);
            if let Some(Some(ast::Expr::Lambda(lambda))) = self.lookup(&name).cloned()
                && !self.following.iter().any(|(n, _)| *n == name)
            {
                let mut body = Some(ast::Expr::Lambda(lambda));
                let mut pushed = 0;
                for _ in &args {
                    match body {
                        Some(ast::Expr::Lambda(l)) => {
                            let mut scope = HashMap::new();
                            bind_params(&l, &mut scope);
                            self.scopes.push(scope);
                            pushed += 1;
                            body = l.body();
                        }
                        _ => {
                            body = None;
                            break;
                        }
                    }
                }
                let node = match body {
                    Some(b) if !matches!(b, ast::Expr::Lambda(_)) => {
                        self.following.push((name, None));
                        let node = self.lower_expr(&b);
                        self.following.pop();
                        node
                    }
                    _ => self.alloc(Node::Unknown, range),
                };
                for _ in 0..pushed {
                    self.scopes.pop();
                }
                return node;
            }
        }
        self.alloc(Node::Unknown, range)
    }
}

/// Parameters shadow outer bindings and are unknown.
fn bind_params(lambda: &ast::Lambda, scope: &mut HashMap<String, Option<ast::Expr>>) {
    match lambda.param() {
        Some(ast::Param::IdentParam(p)) => {
            if let Some(ident) = p.ident() {
                scope.insert(ident_text(&ident), None);
            }
        }
        Some(ast::Param::Pattern(pattern)) => {
            for entry in pattern.pat_entries() {
                if let Some(ident) = entry.ident() {
                    scope.insert(ident_text(&ident), None);
                }
            }
            if let Some(bind) = pattern.pat_bind().and_then(|b| b.ident()) {
                scope.insert(bind.syntax().text().to_string(), None);
            }
        }
        None => {}
    }
}

/// `mkIf` for `mkIf`, `lib.mkIf`, `lib.modules.mkIf`.
fn function_name(head: &ast::Expr) -> Option<String> {
    match head {
        ast::Expr::Ident(ident) => Some(ident_text(ident)),
        ast::Expr::Select(select) if select.default_expr().is_none() => select
            .attrpath()?
            .attrs()
            .last()
            .and_then(|a| attr_text(&a)),
        _ => None,
    }
}

/// Whether `=` follows the entry's path. Not rnix's `assign_token`: after
/// a path without one (`boot.kern` before the next line's `a = 1;`) the
/// parser puts the next line's `=` into the same entry.
fn assigns(entry: &ast::AttrpathValue) -> bool {
    entry
        .syntax()
        .children_with_tokens()
        .skip_while(|child| child.kind() != rnix::SyntaxKind::NODE_ATTRPATH)
        .skip(1)
        .find(|child| !child.kind().is_trivia())
        .is_some_and(|child| child.kind() == rnix::SyntaxKind::TOKEN_ASSIGN)
}

/// The name an attribute spells out, if it is static.
pub fn attr_text(attr: &ast::Attr) -> Option<String> {
    match attr {
        ast::Attr::Ident(ident) => Some(ident_text(ident)),
        ast::Attr::Str(s) => match string_literal(s) {
            Literal::Str(text) => Some(text),
            _ => None,
        },
        ast::Attr::Dynamic(dynamic) => match dynamic.expr() {
            Some(ast::Expr::Str(s)) => match string_literal(&s) {
                Literal::Str(text) => Some(text),
                _ => None,
            },
            _ => None,
        },
    }
}

/// An identifier's name (its one token's text, without building a
/// `SyntaxText`).
pub fn ident_text(ident: &ast::Ident) -> String {
    match ident.ident_token() {
        Some(token) => token.text().to_string(),
        None => ident.syntax().text().to_string(),
    }
}

pub fn string_literal(s: &ast::Str) -> Literal {
    use rnix::SyntaxKind::*;
    // Most strings are `"text"` with no escapes: read the content token
    // directly. Anything else goes through rnix's normalization.
    let mut plain = None;
    let mut simple = true;
    let mut interpolated = false;
    for child in s.syntax().children_with_tokens() {
        match child {
            rowan::NodeOrToken::Token(t) => match t.kind() {
                TOKEN_STRING_START => simple &= t.text() == "\"",
                TOKEN_STRING_END => {}
                TOKEN_STRING_CONTENT => {
                    simple &= plain.is_none() && !t.text().contains('\\');
                    plain = Some(t);
                }
                _ => {
                    return Literal::StrInterpolated {
                        prefix: String::new(),
                    };
                }
            },
            rowan::NodeOrToken::Node(n) if n.kind() == NODE_INTERPOL => interpolated = true,
            rowan::NodeOrToken::Node(_) => {
                return Literal::StrInterpolated {
                    prefix: String::new(),
                };
            }
        }
    }
    if simple && !interpolated {
        return Literal::Str(plain.map(|t| t.text().to_string()).unwrap_or_default());
    }
    let mut text = String::new();
    for part in s.normalized_parts() {
        match part {
            ast::InterpolPart::Literal(literal) => text.push_str(&literal),
            ast::InterpolPart::Interpolation(_) => {
                return Literal::StrInterpolated { prefix: text };
            }
        }
    }
    Literal::Str(text)
}

fn literal_value(literal: &ast::Literal) -> Option<Literal> {
    use rnix::SyntaxKind::*;
    let token = literal.syntax().first_token()?;
    match token.kind() {
        TOKEN_INTEGER => token.text().parse().ok().map(Literal::Int),
        TOKEN_FLOAT => token.text().parse().ok().map(Literal::Float),
        TOKEN_URI => Some(Literal::Str(token.text().to_string())),
        _ => None,
    }
}

fn ast_literal(expr: &ast::Expr) -> Option<Literal> {
    match expr {
        ast::Expr::Literal(l) => literal_value(l),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(text: &str) -> (Module, SourceMap) {
        lower(&rnix::Root::parse(text).tree())
    }

    /// `a.b = 1`-style listing of what a module defines.
    fn definitions(module: &Module) -> Vec<String> {
        fn go(module: &Module, node: NodeId, prefix: &str, out: &mut Vec<String>) {
            match &module.nodes[node.0 as usize] {
                Node::Attrs(entries) => {
                    for e in entries {
                        let key = match &e.key {
                            Key::Name(n) => n.clone(),
                            Key::Dynamic => "${..}".into(),
                        };
                        let path = if prefix.is_empty() {
                            key
                        } else {
                            format!("{prefix}.{key}")
                        };
                        go(module, e.value, &path, out);
                    }
                }
                Node::Wrapped(inner) => go(module, *inner, prefix, out),
                Node::Merge(parts) => parts.iter().for_each(|p| go(module, *p, prefix, out)),
                other => out.push(format!("{prefix} = {other:?}")),
            }
        }
        let mut out = Vec::new();
        if let Some(config) = module.config {
            go(module, config, "", &mut out);
        }
        out
    }

    #[test]
    fn dotted_paths_nested_sets_and_wrappers() {
        let (module, _) = lowered(
            r#"{ lib, pkgs, ... }:
let common = { startOnBoot = true; }; mk = name: { "${name}".type = "oneshot"; };
in {
  services.getty.enable = true;
  users = { micros = { uid = 1000; }; };
  users.micros.gid = lib.mkDefault 1000;
  micros.services.a = common // { type = "longrun"; };
  boot.kernel.sysctl."net.ipv4.ip_forward" = 1;
  networking = lib.mkIf true { hostName = "x"; };
  environment.systemPackages = [ pkgs.vim ];
  imports = [ ./hardware-configuration.nix ];
}"#,
        );
        expect_test::expect![[r#"
            [
                "services.getty.enable = Literal(Bool(true))",
                "users.micros.uid = Literal(Int(1000))",
                "users.micros.gid = Literal(Int(1000))",
                "micros.services.a.startOnBoot = Literal(Bool(true))",
                "micros.services.a.type = Literal(Str(\"longrun\"))",
                "boot.kernel.sysctl.net.ipv4.ip_forward = Literal(Int(1))",
                "networking.hostName = Literal(Str(\"x\"))",
                "environment.systemPackages = List([NodeId(24)])",
            ]
        "#]]
        .assert_debug_eq(&definitions(&module));
        assert_eq!(module.imports.len(), 1);
        assert!(module.duplicates.is_empty());
    }

    #[test]
    fn structured_form_defines_only_config() {
        let (module, _) = lowered(
            "{ lib, ... }: { options.foo = lib.mkOption { }; config = { foo = 1; }; config.bar = 2; }",
        );
        assert!(module.declares_options);
        expect_test::expect![[r#"
            [
                "foo = Literal(Int(1))",
                "bar = Literal(Int(2))",
            ]
        "#]]
        .assert_debug_eq(&definitions(&module));
    }

    #[test]
    fn duplicates_follow_nix_merging_rules() {
        let (module, map) = lowered(
            "{ a = 1; a = 2; b.c = 1; b = { d = 2; }; e = { f = 1; }; e = { f = 2; }; g.h = 1; g.h.i = 2; }",
        );
        let text = "{ a = 1; a = 2; b.c = 1; b = { d = 2; }; e = { f = 1; }; e = { f = 2; }; g.h = 1; g.h.i = 2; }";
        let dups: Vec<&str> = module
            .duplicates
            .iter()
            .map(|(_, again)| &text[map.entry(*again).key])
            .collect();
        assert_eq!(dups, ["a", "f", "h"]);
    }

    #[test]
    fn whitespace_and_comments_do_not_change_the_module() {
        let (a, map_a) = lowered("{ services.getty.enable = true; }");
        let (b, map_b) = lowered("{\n  # a comment\n  services.getty.enable   = true;\n}\n");
        assert_eq!(a, b);
        assert_ne!(map_a, map_b);
    }
}
