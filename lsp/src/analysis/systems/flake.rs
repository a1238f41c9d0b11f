//! Reading `flake.nix` statically: the `microsSystem` calls its outputs
//! make, the names they are exported under, and their modules.
//!
//! Nothing is evaluated by Nix. A small lazy interpreter follows the
//! shapes flakes are written in (`let` bindings and aliases, helper
//! functions the flake defines, `genAttrs`/`map`/`mapAttrs`/`listToAttrs`
//! and flake-utils' `eachSystem` over literal lists, `//` and `++`) and
//! gives up, with `Unknown`, on everything else. It is bounded in steps
//! and depth, so no flake can make it hang or overflow the stack.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use rnix::ast::{self, HasEntry, InterpolPart};
use rowan::TextRange;
use rowan::ast::AstNode;

use crate::analysis::lower::{attr_text, ident_text};

/// What `flake.nix` says about the images it builds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlakeModel {
    /// In the order of their names.
    pub systems: Vec<System>,
    /// The inline modules (sets and functions written in a `modules`
    /// list), by their range in flake.nix, in order of position. A
    /// [`ModuleEntry::Inline`] indexes this.
    pub inline: Vec<TextRange>,
    /// What could not be followed statically, where, and why: said once;
    /// the files are then judged one by one.
    pub unsupported: Option<(TextRange, String)>,
}

/// One `microsSystem` call, under one output name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    /// The output path, shown as Nix shows attribute paths
    /// (`packages.x86_64-linux.container`).
    pub name: String,
    pub segments: Vec<String>,
    /// The attribute that names it in flake.nix.
    pub name_range: TextRange,
    /// The `microsSystem` call.
    pub call: TextRange,
    /// What it builds: `image`, `ociImage`, ... (`config.system.build.*`),
    /// or `None` when the output is the system itself.
    pub output: Option<String>,
    pub modules: Vec<ModuleEntry>,
    /// False when part of the module list is computed (`inputs.x.module`,
    /// a function's result): cross-module findings are then not made.
    pub modules_complete: bool,
    /// The names `specialArgs` provides, or `None` when not known.
    pub special_args: Option<Vec<String>>,
}

/// An entry of a system's `modules` list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModuleEntry {
    /// A path: a file, or a directory's `default.nix`. `range` is the
    /// entry in the list.
    File { path: PathBuf, range: TextRange },
    /// A set or function written in flake.nix.
    Inline { index: usize, range: TextRange },
}

impl ModuleEntry {
    pub fn range(&self) -> TextRange {
        match self {
            ModuleEntry::File { range, .. } | ModuleEntry::Inline { range, .. } => *range,
        }
    }
}

/// Steps of interpretation, at most: a flake is small; one that is not is
/// not followed to the end.
const FUEL: u32 = 200_000;
const MAX_DEPTH: u32 = 150;
/// Output attribute sets are walked this deep for systems.
const MAX_OUTPUT_DEPTH: usize = 8;
/// The systems flake-utils' `eachDefaultSystem` generates.
const DEFAULT_SYSTEMS: &[&str] = &[
    "x86_64-linux",
    "aarch64-linux",
    "x86_64-darwin",
    "aarch64-darwin",
];

/// Read a flake; `dir` is its directory (relative paths are taken from it).
pub fn read(root: &ast::Root, dir: &Path) -> FlakeModel {
    let mut interp = Interp {
        dir: dir.to_path_buf(),
        fuel: FUEL,
        depth: 0,
        calls: Vec::new(),
        unknown: None,
    };
    let mut model = FlakeModel::default();
    let Some(ast::Expr::AttrSet(set)) = root.expr().map(strip_parens) else {
        return model;
    };
    let Some(outputs) = set.attrpath_values().find(|e| {
        e.attrpath()
            .and_then(|p| p.attrs().next())
            .and_then(|a| attr_text(&a))
            .is_some_and(|n| n == "outputs")
    }) else {
        return model;
    };
    let Some(outputs_expr) = outputs.value() else {
        return model;
    };
    let env = Rc::new(Scope::default());
    let value = match interp.eval(&outputs_expr, &env) {
        Val::Lambda(lambda, closure) => {
            let inputs = Thunk::value(Val::Lib("inputs".into()));
            interp.call_lambda(&lambda, &closure, inputs)
        }
        other => other,
    };
    let mut found = Vec::new();
    interp.collect(
        &value,
        &mut Vec::new(),
        outputs.syntax().text_range(),
        &mut found,
    );

    let mut inline_ranges: Vec<TextRange> = Vec::new();
    let mut systems = Vec::new();
    for (segments, name_range, call_index, output) in found {
        let call = interp.calls[call_index].range;
        let (entries, complete, special_args) = interp.system_parts(call_index);
        for entry in &entries {
            if let Entry::Inline(range) = entry {
                inline_ranges.push(*range);
            }
        }
        systems.push((
            segments,
            name_range,
            call,
            output,
            entries,
            complete,
            special_args,
        ));
    }
    inline_ranges.sort_by_key(|r| (r.start(), r.end()));
    inline_ranges.dedup();
    for (segments, name_range, call, output, entries, complete, special_args) in systems {
        let modules = entries
            .into_iter()
            .map(|entry| match entry {
                Entry::File(path, range) => ModuleEntry::File { path, range },
                Entry::Inline(range) => ModuleEntry::Inline {
                    index: inline_ranges
                        .binary_search_by_key(&(range.start(), range.end()), |r| {
                            (r.start(), r.end())
                        })
                        .unwrap_or_default(),
                    range,
                },
            })
            .collect();
        model.systems.push(System {
            name: micros_options::model::show_option(&segments),
            segments,
            name_range,
            call,
            output,
            modules,
            modules_complete: complete,
            special_args,
        });
    }
    model.systems.sort_by(|a, b| a.name.cmp(&b.name));
    model.systems.dedup_by(|a, b| a.name == b.name);
    model.inline = inline_ranges;

    // Calls the walk never reached, while something was not understood:
    // there may be systems we cannot see.
    let reached: Vec<TextRange> = model.systems.iter().map(|s| s.call).collect();
    let unseen = microssystem_calls(set.syntax())
        .into_iter()
        .find(|range| !reached.contains(range));
    let incomplete = model.systems.iter().find(|s| !s.modules_complete);
    model.unsupported = match (unseen, interp.unknown, incomplete) {
        (Some(call), _, _) if interp.fuel == 0 => Some((
            call,
            "this flake is too large to follow statically".into(),
        )),
        (Some(call), Some(_), _) | (Some(call), None, _) => Some((
            call,
            "this `microsSystem` call is not reached by reading `outputs` statically (its outputs come from a function this checker does not follow, such as flake-parts)".into(),
        )),
        (None, _, Some(system)) => Some((
            system.call,
            format!(
                "part of the module list of {} is computed; findings across its modules are not made",
                system.name
            ),
        )),
        (None, _, None) => None,
    };
    model
}

/// The ranges of every `…microsSystem …` application in the text.
fn microssystem_calls(root: &rnix::SyntaxNode) -> Vec<TextRange> {
    root.descendants()
        .filter_map(ast::Apply::cast)
        .filter(|apply| {
            apply
                .lambda()
                .and_then(|head| function_name(&head))
                .is_some_and(|n| n == "microsSystem")
        })
        .map(|apply| apply.syntax().text_range())
        .collect()
}

fn function_name(head: &ast::Expr) -> Option<String> {
    match strip_parens(head.clone()) {
        ast::Expr::Ident(ident) => Some(ident_text(&ident)),
        ast::Expr::Select(select) => select
            .attrpath()?
            .attrs()
            .last()
            .and_then(|a| attr_text(&a)),
        _ => None,
    }
}

fn strip_parens(mut expr: ast::Expr) -> ast::Expr {
    while let ast::Expr::Paren(paren) = &expr {
        match paren.expr() {
            Some(inner) => expr = inner,
            None => break,
        }
    }
    expr
}

// ---- the interpreter ----

#[derive(Clone)]
enum Val {
    Attrs(Rc<Attrs>),
    List(Rc<Vec<Thunk>>, bool),
    Str(String),
    Path(PathBuf),
    Bool(bool),
    Int(i64),
    Null,
    Lambda(ast::Lambda, Env),
    /// A library function or namespace known only by its name
    /// (`micros.lib.microsSystem`, `nixpkgs.lib.genAttrs`, `builtins`).
    Lib(String),
    /// A library function given some of its arguments.
    Partial(String, Vec<Thunk>),
    /// `import path`.
    Import(PathBuf),
    /// The result of a `microsSystem` call (an index into `calls`).
    System(usize),
    /// An attribute of one (`.config.system.build.image`).
    SystemAttr(usize, Vec<String>),
    Unknown,
}

#[derive(Default)]
struct Attrs {
    map: BTreeMap<String, (Thunk, TextRange)>,
    /// False when some names are not known (a computed name, a merge
    /// with something unknown).
    complete: bool,
}

#[derive(Clone)]
struct Thunk(Rc<ThunkCell>);

struct ThunkCell {
    origin: Origin,
    state: RefCell<State>,
}

#[derive(Clone)]
enum Origin {
    Expr(ast::Expr, Env),
    Apply(Val, Thunk, TextRange),
    /// A name looked up in a scope (`inherit a;`).
    Lookup(String, Env, TextRange),
    Value,
}

enum State {
    Pending,
    Forcing,
    Done(Val),
}

impl Thunk {
    fn expr(expr: ast::Expr, env: Env) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            origin: Origin::Expr(expr, env),
            state: RefCell::new(State::Pending),
        }))
    }
    fn value(val: Val) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            origin: Origin::Value,
            state: RefCell::new(State::Done(val)),
        }))
    }
    fn apply(f: Val, arg: Thunk, range: TextRange) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            origin: Origin::Apply(f, arg, range),
            state: RefCell::new(State::Pending),
        }))
    }
    fn lookup(name: String, env: Env, range: TextRange) -> Thunk {
        Thunk(Rc::new(ThunkCell {
            origin: Origin::Lookup(name, env, range),
            state: RefCell::new(State::Pending),
        }))
    }
    fn range(&self) -> Option<TextRange> {
        match &self.0.origin {
            Origin::Expr(expr, _) => Some(expr.syntax().text_range()),
            Origin::Apply(_, _, range) | Origin::Lookup(_, _, range) => Some(*range),
            Origin::Value => None,
        }
    }
}

/// The rest of an attribute path, its value and the path's range.
type NestedPart = (Vec<ast::Attr>, ast::Expr, TextRange);

type Env = Rc<Scope>;

#[derive(Default)]
struct Scope {
    /// Filled after the scope is made when its bindings refer to it.
    names: RefCell<BTreeMap<String, Thunk>>,
    /// `with x;`: names not bound lexically may come from `x`.
    with: Option<Thunk>,
    parent: Option<Env>,
}

fn child(parent: &Env) -> Scope {
    Scope {
        parent: Some(parent.clone()),
        ..Scope::default()
    }
}

struct Call {
    range: TextRange,
    args: Thunk,
}

enum Entry {
    File(PathBuf, TextRange),
    Inline(TextRange),
}

struct Interp {
    dir: PathBuf,
    fuel: u32,
    depth: u32,
    calls: Vec<Call>,
    /// Where something was first not understood.
    unknown: Option<TextRange>,
}

impl Interp {
    fn force(&mut self, thunk: &Thunk) -> Val {
        {
            let state = thunk.0.state.borrow();
            match &*state {
                State::Done(val) => return val.clone(),
                // `let a = a;`: infinite recursion in Nix; unknown here.
                State::Forcing => return Val::Unknown,
                State::Pending => {}
            }
        }
        *thunk.0.state.borrow_mut() = State::Forcing;
        let val = match thunk.0.origin.clone() {
            Origin::Expr(expr, env) => self.eval(&expr, &env),
            Origin::Apply(f, arg, range) => self.apply(f, arg, range),
            Origin::Lookup(name, env, _) => self.lookup(&name, &env),
            Origin::Value => Val::Unknown,
        };
        *thunk.0.state.borrow_mut() = State::Done(val.clone());
        val
    }

    fn eval(&mut self, expr: &ast::Expr, env: &Env) -> Val {
        if self.fuel == 0 || self.depth >= MAX_DEPTH {
            self.fuel = 0;
            return Val::Unknown;
        }
        self.fuel -= 1;
        self.depth += 1;
        let val = self.eval_inner(expr, env);
        self.depth -= 1;
        val
    }

    fn eval_inner(&mut self, expr: &ast::Expr, env: &Env) -> Val {
        match expr {
            ast::Expr::Paren(paren) => match paren.expr() {
                Some(inner) => self.eval(&inner, env),
                None => Val::Unknown,
            },
            ast::Expr::Literal(literal) => {
                let Some(token) = literal.syntax().first_token() else {
                    return Val::Unknown;
                };
                match token.kind() {
                    rnix::SyntaxKind::TOKEN_INTEGER => {
                        token.text().parse().map_or(Val::Unknown, Val::Int)
                    }
                    rnix::SyntaxKind::TOKEN_URI => Val::Str(token.text().to_string()),
                    _ => Val::Unknown,
                }
            }
            ast::Expr::Str(s) => {
                let mut text = String::new();
                for part in s.normalized_parts() {
                    match part {
                        InterpolPart::Literal(literal) => text.push_str(&literal),
                        InterpolPart::Interpolation(interpol) => {
                            let Some(inner) = interpol.expr() else {
                                return Val::Unknown;
                            };
                            match self.eval(&inner, env) {
                                Val::Str(s) => text.push_str(&s),
                                Val::Path(p) => text.push_str(&p.display().to_string()),
                                _ => return Val::Unknown,
                            }
                        }
                    }
                }
                Val::Str(text)
            }
            ast::Expr::PathRel(path) => {
                let Some(parts) = micros_options::syntax::path_parts(path.syntax()) else {
                    return Val::Unknown;
                };
                let mut text = String::new();
                for part in parts {
                    match part {
                        InterpolPart::Literal(content) => text.push_str(&content),
                        InterpolPart::Interpolation(interpol) => {
                            match interpol.expr().map(|e| self.eval(&e, env)) {
                                Some(Val::Str(s)) => text.push_str(&s),
                                _ => return Val::Unknown,
                            }
                        }
                    }
                }
                Val::Path(micros_options::eval::normalize(&self.dir.join(text)))
            }
            ast::Expr::PathAbs(path) => Val::Path(PathBuf::from(path.syntax().text().to_string())),
            ast::Expr::Ident(ident) => {
                let name = ident_text(ident);
                self.lookup(&name, env)
            }
            ast::Expr::Select(select) => self.eval_select(select, env),
            ast::Expr::Apply(apply) => {
                let (Some(head), Some(argument)) = (apply.lambda(), apply.argument()) else {
                    return Val::Unknown;
                };
                let f = self.eval(&head, env);
                let arg = Thunk::expr(argument, env.clone());
                self.apply(f, arg, apply.syntax().text_range())
            }
            ast::Expr::Lambda(lambda) => Val::Lambda(lambda.clone(), env.clone()),
            ast::Expr::LetIn(let_in) => {
                let scope = self.bindings(let_in, env, true);
                match let_in.body() {
                    Some(body) => self.eval(&body, &scope.0),
                    None => Val::Unknown,
                }
            }
            ast::Expr::AttrSet(set) => {
                let (_, attrs) = self.bindings(set, env, set.rec_token().is_some());
                Val::Attrs(Rc::new(attrs))
            }
            ast::Expr::List(list) => Val::List(
                Rc::new(
                    list.items()
                        .map(|item| Thunk::expr(item, env.clone()))
                        .collect(),
                ),
                true,
            ),
            ast::Expr::BinOp(binop) => self.eval_binop(binop, env),
            ast::Expr::IfElse(if_else) => {
                let condition = if_else.condition().map(|c| self.eval(&c, env));
                let branch = match condition {
                    Some(Val::Bool(true)) => if_else.body(),
                    Some(Val::Bool(false)) => if_else.else_body(),
                    _ => return self.note_unknown(expr),
                };
                branch.map_or(Val::Unknown, |b| self.eval(&b, env))
            }
            ast::Expr::With(with) => {
                let (Some(namespace), Some(body)) = (with.namespace(), with.body()) else {
                    return Val::Unknown;
                };
                let scope = Rc::new(Scope {
                    with: Some(Thunk::expr(namespace, env.clone())),
                    ..child(env)
                });
                self.eval(&body, &scope)
            }
            ast::Expr::Assert(assert) => assert.body().map_or(Val::Unknown, |b| self.eval(&b, env)),
            _ => Val::Unknown,
        }
    }

    fn note_unknown(&mut self, expr: &ast::Expr) -> Val {
        self.unknown.get_or_insert(expr.syntax().text_range());
        Val::Unknown
    }

    fn lookup(&mut self, name: &str, env: &Env) -> Val {
        let mut scope = Some(env.clone());
        let mut withs = Vec::new();
        while let Some(current) = scope {
            let bound = current.names.borrow().get(name).cloned();
            if let Some(thunk) = bound {
                return self.force(&thunk);
            }
            if let Some(with) = &current.with {
                withs.push(with.clone());
            }
            scope = current.parent.clone();
        }
        match name {
            "true" => return Val::Bool(true),
            "false" => return Val::Bool(false),
            "null" => return Val::Null,
            _ => {}
        }
        // Lexical names first, then the `with` namespaces, innermost first.
        for with in withs {
            match self.force(&with) {
                Val::Attrs(attrs) => {
                    if let Some((thunk, _)) = attrs.map.get(name) {
                        let thunk = thunk.clone();
                        return self.force(&thunk);
                    }
                }
                Val::Lib(_) => return Val::Lib(name.to_string()),
                _ => {}
            }
        }
        if micros_options::eval::GLOBAL_NAMES.contains(&name) {
            return Val::Lib(name.to_string());
        }
        Val::Unknown
    }

    /// The bindings of a `let` or a set: the scope its values see (one
    /// holding the bindings themselves when `recursive`) and the set.
    fn bindings(&mut self, node: &impl HasEntry, env: &Env, recursive: bool) -> (Env, Attrs) {
        let value_env = if recursive {
            Rc::new(child(env))
        } else {
            env.clone()
        };
        let mut attrs = Attrs {
            complete: true,
            ..Attrs::default()
        };
        let mut nested: BTreeMap<String, Vec<NestedPart>> = BTreeMap::new();
        for entry in node.attrpath_values() {
            let (Some(path), Some(value)) = (entry.attrpath(), entry.value()) else {
                continue;
            };
            let parts: Vec<ast::Attr> = path.attrs().collect();
            let Some(first) = parts.first() else { continue };
            let Some(name) = self.attr_name(first, &value_env) else {
                attrs.complete = false;
                continue;
            };
            let range = path.syntax().text_range();
            if parts.len() == 1 {
                attrs
                    .map
                    .insert(name, (Thunk::expr(value, value_env.clone()), range));
            } else {
                nested
                    .entry(name)
                    .or_default()
                    .push((parts[1..].to_vec(), value, range));
            }
        }
        for (name, parts) in nested {
            let range = parts.first().map_or(TextRange::default(), |(_, _, r)| *r);
            let thunk = self.nested_set(&parts, &value_env, &mut attrs.complete);
            attrs.map.insert(name, (thunk, range));
        }
        for inherit in node.inherits() {
            let from = inherit.from().and_then(|f| f.expr());
            for attr in inherit.attrs() {
                let Some(name) = attr_text(&attr) else {
                    attrs.complete = false;
                    continue;
                };
                let range = attr.syntax().text_range();
                let thunk = match &from {
                    // `inherit (x) a;` is `a = x.a;`.
                    Some(from) => {
                        let source = Thunk::expr(from.clone(), value_env.clone());
                        Thunk::apply(Val::Lib(format!(".{name}")), source, range)
                    }
                    // `inherit a;` is `a = a;` from the enclosing scope.
                    None => Thunk::lookup(name.clone(), env.clone(), range),
                };
                attrs.map.insert(name, (thunk, range));
            }
        }
        if recursive {
            *value_env.names.borrow_mut() = attrs
                .map
                .iter()
                .map(|(name, (thunk, _))| (name.clone(), thunk.clone()))
                .collect();
        }
        (value_env, attrs)
    }

    fn attr_name(&mut self, attr: &ast::Attr, env: &Env) -> Option<String> {
        match attr_text(attr) {
            Some(name) => Some(name),
            None => match attr {
                ast::Attr::Dynamic(dynamic) => match dynamic.expr().map(|e| self.eval(&e, env)) {
                    Some(Val::Str(s)) => Some(s),
                    _ => None,
                },
                _ => None,
            },
        }
    }

    /// `a.b = 1; a.c = 2;` in one set: `a` is a set of its own.
    fn nested_set(&mut self, parts: &[NestedPart], env: &Env, complete: &mut bool) -> Thunk {
        let mut attrs = Attrs {
            complete: true,
            ..Attrs::default()
        };
        let mut deeper: BTreeMap<String, Vec<NestedPart>> = BTreeMap::new();
        for (path, value, range) in parts {
            let Some(name) = path.first().and_then(attr_text) else {
                attrs.complete = false;
                continue;
            };
            if path.len() == 1 {
                attrs
                    .map
                    .insert(name, (Thunk::expr(value.clone(), env.clone()), *range));
            } else {
                deeper
                    .entry(name)
                    .or_default()
                    .push((path[1..].to_vec(), value.clone(), *range));
            }
        }
        for (name, parts) in deeper {
            let range = parts.first().map_or(TextRange::default(), |(_, _, r)| *r);
            let thunk = self.nested_set(&parts, env, complete);
            attrs.map.insert(name, (thunk, range));
        }
        *complete &= attrs.complete;
        Thunk::value(Val::Attrs(Rc::new(attrs)))
    }

    fn eval_select(&mut self, select: &ast::Select, env: &Env) -> Val {
        let Some(base) = select.expr() else {
            return Val::Unknown;
        };
        let mut value = self.eval(&base, env);
        let Some(path) = select.attrpath() else {
            return Val::Unknown;
        };
        for attr in path.attrs() {
            let name = match attr_text(&attr) {
                Some(name) => name,
                None => match &attr {
                    ast::Attr::Dynamic(d) => match d.expr().map(|e| self.eval(&e, env)) {
                        Some(Val::Str(s)) => s,
                        _ => return Val::Unknown,
                    },
                    _ => return Val::Unknown,
                },
            };
            value = match self.select(value, &name) {
                Some(v) => v,
                None => {
                    return match select.default_expr() {
                        Some(default) => self.eval(&default, env),
                        None => Val::Unknown,
                    };
                }
            };
        }
        value
    }

    /// `value.name`; `None` when the set has no such attribute.
    fn select(&mut self, value: Val, name: &str) -> Option<Val> {
        Some(match value {
            Val::Attrs(attrs) => match attrs.map.get(name) {
                Some((thunk, _)) => {
                    let thunk = thunk.clone();
                    self.force(&thunk)
                }
                None if attrs.complete => return None,
                None => Val::Unknown,
            },
            Val::Lib(_) => Val::Lib(name.to_string()),
            Val::System(call) => Val::SystemAttr(call, vec![name.to_string()]),
            Val::SystemAttr(call, mut path) => {
                path.push(name.to_string());
                Val::SystemAttr(call, path)
            }
            _ => Val::Unknown,
        })
    }

    fn eval_binop(&mut self, binop: &ast::BinOp, env: &Env) -> Val {
        let (Some(lhs), Some(rhs), Some(op)) = (binop.lhs(), binop.rhs(), binop.operator()) else {
            return Val::Unknown;
        };
        match op {
            ast::BinOpKind::Update => {
                let (left, right) = (self.eval(&lhs, env), self.eval(&rhs, env));
                let (left, left_known) = as_attrs(left);
                let (right, right_known) = as_attrs(right);
                let mut merged = Attrs {
                    map: left.map.clone(),
                    complete: left.complete && right.complete && left_known && right_known,
                };
                for (name, entry) in &right.map {
                    merged.map.insert(name.clone(), entry.clone());
                }
                Val::Attrs(Rc::new(merged))
            }
            ast::BinOpKind::Concat => {
                let mut items = Vec::new();
                let mut complete = true;
                for side in [lhs, rhs] {
                    match self.eval(&side, env) {
                        Val::List(list, whole) => {
                            items.extend(list.iter().cloned());
                            complete &= whole;
                        }
                        _ => complete = false,
                    }
                }
                Val::List(Rc::new(items), complete)
            }
            ast::BinOpKind::Add => match (self.eval(&lhs, env), self.eval(&rhs, env)) {
                (Val::Str(a), Val::Str(b)) => Val::Str(a + &b),
                (Val::Path(a), Val::Str(b)) => Val::Path(micros_options::eval::normalize(
                    Path::new(&format!("{}{b}", a.display())),
                )),
                _ => Val::Unknown,
            },
            ast::BinOpKind::Equal | ast::BinOpKind::NotEqual => {
                let (a, b) = (self.eval(&lhs, env), self.eval(&rhs, env));
                let equal = match (&a, &b) {
                    (Val::Str(a), Val::Str(b)) => a == b,
                    (Val::Int(a), Val::Int(b)) => a == b,
                    (Val::Bool(a), Val::Bool(b)) => a == b,
                    (Val::Null, Val::Null) => true,
                    _ => return Val::Unknown,
                };
                Val::Bool(equal == (op == ast::BinOpKind::Equal))
            }
            _ => Val::Unknown,
        }
    }

    fn apply(&mut self, f: Val, arg: Thunk, range: TextRange) -> Val {
        if self.fuel == 0 || self.depth >= MAX_DEPTH {
            self.fuel = 0;
            return Val::Unknown;
        }
        self.depth += 1;
        let val = match f {
            Val::Lambda(lambda, closure) => self.call_lambda(&lambda, &closure, arg),
            Val::Lib(name) => self.call_lib(name, vec![arg], range),
            Val::Partial(name, mut args) => {
                args.push(arg);
                self.call_lib(name, args, range)
            }
            _ => Val::Unknown,
        };
        self.depth -= 1;
        val
    }

    fn call_lambda(&mut self, lambda: &ast::Lambda, closure: &Env, arg: Thunk) -> Val {
        let scope: Env = Rc::new(child(closure));
        let mut names = BTreeMap::new();
        match lambda.param() {
            Some(ast::Param::IdentParam(param)) => {
                if let Some(ident) = param.ident() {
                    names.insert(ident_text(&ident), arg);
                }
            }
            Some(ast::Param::Pattern(pattern)) => {
                let given = self.force(&arg);
                if let Some(bind) = pattern.pat_bind().and_then(|b| b.ident()) {
                    names.insert(ident_text(&bind), arg.clone());
                }
                for entry in pattern.pat_entries() {
                    let Some(ident) = entry.ident() else { continue };
                    let name = ident_text(&ident);
                    let thunk = match &given {
                        Val::Attrs(attrs) => match attrs.map.get(&name) {
                            Some((thunk, _)) => thunk.clone(),
                            // Defaults see the function's own scope.
                            None => match entry.default() {
                                Some(default) => Thunk::expr(default, scope.clone()),
                                None => Thunk::value(Val::Unknown),
                            },
                        },
                        // The flake's inputs, a library set: known by name.
                        Val::Lib(_) => Thunk::value(Val::Lib(name.clone())),
                        _ => Thunk::value(Val::Unknown),
                    };
                    names.insert(name, thunk);
                }
            }
            None => {}
        }
        *scope.names.borrow_mut() = names;
        match lambda.body() {
            Some(body) => self.eval(&body, &scope),
            None => Val::Unknown,
        }
    }

    /// The library functions flakes build their outputs with.
    fn call_lib(&mut self, name: String, args: Vec<Thunk>, range: TextRange) -> Val {
        let arity = match name.as_str() {
            "microsSystem" | "listToAttrs" | "eachDefaultSystem" | "import" => 1,
            "genAttrs" | "map" | "mapAttrs" | "eachSystem" | "recursiveUpdate"
            | "optionalAttrs" => 2,
            // `inherit (x) name;`: a selection.
            selector if selector.starts_with('.') => 1,
            _ => return Val::Unknown,
        };
        if args.len() < arity {
            return Val::Partial(name, args);
        }
        if args.len() > arity {
            let (now, later) = args.split_at(arity);
            let mut value = self.call_lib(name, now.to_vec(), range);
            for arg in later {
                value = self.apply(value, arg.clone(), range);
            }
            return value;
        }
        match name.as_str() {
            "microsSystem" => {
                self.calls.push(Call {
                    range,
                    args: args[0].clone(),
                });
                Val::System(self.calls.len() - 1)
            }
            "import" => match self.force(&args[0]) {
                Val::Path(path) => Val::Import(path),
                _ => Val::Unknown,
            },
            selector if selector.starts_with('.') => {
                let source = self.force(&args[0]);
                self.select(source, &selector[1..]).unwrap_or(Val::Unknown)
            }
            "genAttrs" => {
                let Some(names) = self.strings(&args[0]) else {
                    return Val::Unknown;
                };
                let f = self.force(&args[1]);
                let mut attrs = Attrs {
                    complete: true,
                    ..Attrs::default()
                };
                for (name, name_range) in names {
                    let arg = Thunk::value(Val::Str(name.clone()));
                    let thunk = Thunk::apply(f.clone(), arg, range);
                    attrs.map.insert(name, (thunk, name_range.unwrap_or(range)));
                }
                Val::Attrs(Rc::new(attrs))
            }
            "map" => {
                let f = self.force(&args[0]);
                match self.force(&args[1]) {
                    Val::List(items, complete) => Val::List(
                        Rc::new(
                            items
                                .iter()
                                .map(|item| {
                                    let at = item.range().unwrap_or(range);
                                    Thunk::apply(f.clone(), item.clone(), at)
                                })
                                .collect(),
                        ),
                        complete,
                    ),
                    _ => Val::Unknown,
                }
            }
            "mapAttrs" => {
                let f = self.force(&args[0]);
                let Val::Attrs(source) = self.force(&args[1]) else {
                    return Val::Unknown;
                };
                let mut attrs = Attrs {
                    complete: source.complete,
                    ..Attrs::default()
                };
                for (name, (value, name_range)) in &source.map {
                    let with_name =
                        self.apply(f.clone(), Thunk::value(Val::Str(name.clone())), *name_range);
                    let thunk = Thunk::apply(with_name, value.clone(), *name_range);
                    attrs.map.insert(name.clone(), (thunk, *name_range));
                }
                Val::Attrs(Rc::new(attrs))
            }
            "listToAttrs" => {
                let Val::List(items, complete) = self.force(&args[0]) else {
                    return Val::Unknown;
                };
                let mut attrs = Attrs {
                    complete,
                    ..Attrs::default()
                };
                for item in items.iter() {
                    let at = item.range().unwrap_or(range);
                    let pair = self.force(item);
                    let name = self.select(pair.clone(), "name");
                    let Val::Attrs(pair) = pair else {
                        attrs.complete = false;
                        continue;
                    };
                    match (name, pair.map.get("value")) {
                        (Some(Val::Str(name)), Some((value, _))) => {
                            attrs.map.insert(name, (value.clone(), at));
                        }
                        _ => attrs.complete = false,
                    }
                }
                Val::Attrs(Rc::new(attrs))
            }
            "eachDefaultSystem" => {
                let systems = DEFAULT_SYSTEMS
                    .iter()
                    .map(|s| Thunk::value(Val::Str(s.to_string())))
                    .collect();
                let list = Thunk::value(Val::List(Rc::new(systems), true));
                self.call_lib("eachSystem".into(), vec![list, args[0].clone()], range)
            }
            "eachSystem" => {
                // `{ packages.default = x; }` per system becomes
                // `{ packages.<system>.default = x; }`.
                let Some(systems) = self.strings(&args[0]) else {
                    return Val::Unknown;
                };
                let f = self.force(&args[1]);
                let mut outputs: BTreeMap<String, Attrs> = BTreeMap::new();
                let mut complete = true;
                for (system, _) in systems {
                    let result =
                        self.apply(f.clone(), Thunk::value(Val::Str(system.clone())), range);
                    let Val::Attrs(result) = result else {
                        complete = false;
                        continue;
                    };
                    complete &= result.complete;
                    for (output, (thunk, at)) in &result.map {
                        outputs
                            .entry(output.clone())
                            .or_insert_with(|| Attrs {
                                complete: true,
                                ..Attrs::default()
                            })
                            .map
                            .insert(system.clone(), (thunk.clone(), *at));
                    }
                }
                let map = outputs
                    .into_iter()
                    .map(|(name, attrs)| (name, (Thunk::value(Val::Attrs(Rc::new(attrs))), range)))
                    .collect();
                Val::Attrs(Rc::new(Attrs { map, complete }))
            }
            "recursiveUpdate" => {
                let left = self.force(&args[0]);
                let right = self.force(&args[1]);
                self.merge_deep(left, right)
            }
            "optionalAttrs" => match self.force(&args[0]) {
                Val::Bool(true) => self.force(&args[1]),
                Val::Bool(false) => Val::Attrs(Rc::new(Attrs {
                    complete: true,
                    ..Attrs::default()
                })),
                _ => Val::Unknown,
            },
            _ => Val::Unknown,
        }
    }

    fn merge_deep(&mut self, left: Val, right: Val) -> Val {
        let (Val::Attrs(left), Val::Attrs(right)) = (&left, &right) else {
            return right;
        };
        let mut merged = Attrs {
            map: left.map.clone(),
            complete: left.complete && right.complete,
        };
        for (name, (thunk, range)) in &right.map {
            let value = match left.map.get(name) {
                Some((earlier, _)) => {
                    let (earlier, later) = (self.force(earlier), self.force(thunk));
                    Thunk::value(self.merge_deep(earlier, later))
                }
                None => thunk.clone(),
            };
            merged.map.insert(name.clone(), (value, *range));
        }
        Val::Attrs(Rc::new(merged))
    }

    /// A list of strings (each with its range), if it is one.
    fn strings(&mut self, list: &Thunk) -> Option<Vec<(String, Option<TextRange>)>> {
        let Val::List(items, true) = self.force(list) else {
            return None;
        };
        items
            .iter()
            .map(|item| match self.force(item) {
                Val::Str(s) => Some((s, item.range())),
                _ => None,
            })
            .collect()
    }

    /// Systems in the outputs: (output path, name range, call, output).
    fn collect(
        &mut self,
        value: &Val,
        path: &mut Vec<String>,
        range: TextRange,
        found: &mut Vec<(Vec<String>, TextRange, usize, Option<String>)>,
    ) {
        match value {
            Val::System(call) => found.push((path.clone(), range, *call, None)),
            Val::SystemAttr(call, selected) => {
                let output = match selected.as_slice() {
                    [config, system, build, rest @ ..]
                        if config == "config" && system == "system" && build == "build" =>
                    {
                        Some(rest.join("."))
                    }
                    _ => Some(selected.join(".")),
                };
                found.push((path.clone(), range, *call, output));
            }
            Val::Attrs(attrs) if path.len() < MAX_OUTPUT_DEPTH => {
                for (name, (thunk, at)) in &attrs.map {
                    let value = self.force(thunk);
                    path.push(name.clone());
                    self.collect(&value, path, *at, found);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// A system's module entries, whether the list is wholly known, and
    /// the names its `specialArgs` provides.
    fn system_parts(&mut self, call: usize) -> (Vec<Entry>, bool, Option<Vec<String>>) {
        let args = self.calls[call].args.clone();
        let Val::Attrs(args) = self.force(&args) else {
            return (Vec::new(), false, None);
        };
        let mut entries = Vec::new();
        let mut complete = args.complete;
        match args.map.get("modules").map(|(t, _)| t.clone()) {
            Some(modules) => match self.force(&modules) {
                Val::List(items, whole) => {
                    complete &= whole;
                    for item in items.iter() {
                        match self.module_entry(item) {
                            Some(entry) => entries.push(entry),
                            None => complete = false,
                        }
                    }
                }
                _ => complete = false,
            },
            None => complete = args.complete,
        }
        let special_args = match args.map.get("specialArgs").map(|(t, _)| t.clone()) {
            Some(thunk) => match self.force(&thunk) {
                Val::Attrs(given) if given.complete => Some(given.map.keys().cloned().collect()),
                _ => None,
            },
            None if args.complete => Some(Vec::new()),
            None => None,
        };
        (entries, complete, special_args)
    }

    fn module_entry(&mut self, item: &Thunk) -> Option<Entry> {
        let mut thunk = item.clone();
        let at = item.range()?;
        // Follow names to the expression they are bound to.
        for _ in 0..32 {
            let Origin::Expr(expr, env) = thunk.0.origin.clone() else {
                break;
            };
            match strip_parens(expr) {
                ast::Expr::AttrSet(set) => return Some(Entry::Inline(set.syntax().text_range())),
                ast::Expr::Lambda(lambda) => {
                    return Some(Entry::Inline(lambda.syntax().text_range()));
                }
                ast::Expr::Ident(ident) => {
                    let name = ident_text(&ident);
                    match find_binding(&env, &name) {
                        Some(bound) => thunk = bound,
                        None => break,
                    }
                }
                _ => break,
            }
        }
        match self.force(&thunk) {
            Val::Path(path) | Val::Import(path) => Some(Entry::File(path, at)),
            _ => None,
        }
    }
}

fn find_binding(env: &Env, name: &str) -> Option<Thunk> {
    let mut scope = Some(env.clone());
    while let Some(current) = scope {
        if let Some(thunk) = current.names.borrow().get(name) {
            return Some(thunk.clone());
        }
        scope = current.parent.clone();
    }
    None
}

fn as_attrs(value: Val) -> (Rc<Attrs>, bool) {
    match value {
        Val::Attrs(attrs) => (attrs, true),
        _ => (Rc::new(Attrs::default()), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model, one line per system and one for the note.
    fn show(text: &str) -> String {
        let root = rnix::Root::parse(text).tree();
        let model = read(&root, Path::new("/flake"));
        let mut out = String::new();
        for system in &model.systems {
            let modules: Vec<String> = system
                .modules
                .iter()
                .map(|m| match m {
                    ModuleEntry::File { path, .. } => path.display().to_string(),
                    ModuleEntry::Inline { index, range } => {
                        assert_eq!(model.inline[*index], *range);
                        format!("inline:{}", &text[*range].replace('\n', " "))
                    }
                })
                .collect();
            out.push_str(&format!(
                "{} [{}] output={} modules=[{}]{} specialArgs={}\n",
                system.name,
                &text[system.name_range],
                system.output.as_deref().unwrap_or("-"),
                modules.join(", "),
                if system.modules_complete {
                    ""
                } else {
                    " (incomplete)"
                },
                match &system.special_args {
                    Some(names) => format!("{names:?}"),
                    None => "?".into(),
                },
            ));
        }
        if let Some((range, message)) = &model.unsupported {
            out.push_str(&format!("note at `{}`: {message}\n", &text[*range]));
        }
        out
    }

    /// A module path cut by a line break before an unclosed `${` holds
    /// whitespace, where rnix's `parts()` panicked: it is no module file.
    #[test]
    fn a_module_path_broken_by_an_unclosed_interpolation_is_no_file() {
        let out = show(
            "{ outputs = { micros, ... }: { packages.x86_64-linux.default = \
             micros.lib.microsSystem { modules = [ ./configuration.nix\n${ ]; }; }; }",
        );
        assert!(!out.contains("/flake/configuration.nix"), "{out}");
    }

    #[test]
    fn the_two_packages_of_a_template_like_flake() {
        expect_test::expect![[r#"
            packages.x86_64-linux.container [packages.x86_64-linux.container] output=ociImage modules=[/flake/configuration.nix, inline:{ boot.isContainer = true; }] specialArgs=["inputs"]
            packages.x86_64-linux.default [packages.x86_64-linux.default] output=image modules=[/flake/configuration.nix, /flake/hardware-configuration.nix, inline:{ nixpkgs.hostPlatform.system = "x86_64-linux"; }] specialArgs=["inputs"]
        "#]]
        .assert_eq(&show(
            r#"{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { nixpkgs, micros, ... } @ inputs: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      specialArgs = { inherit inputs; };
      modules = [ ./configuration.nix ./hardware-configuration.nix { nixpkgs.hostPlatform.system = "x86_64-linux"; } ];
    }).config.system.build.image;
    packages.x86_64-linux.container = (micros.lib.microsSystem {
      specialArgs = { inherit inputs; };
      modules = [ ./configuration.nix { boot.isContainer = true; } ];
    }).config.system.build.ociImage;
  };
}"#,
        ));
    }

    #[test]
    fn aliases_helpers_and_inputs_spelled_out() {
        expect_test::expect![[r#"
            nixosConfigurations.db [db] output=- modules=[/flake/common.nix, /flake/hosts/db.nix, inline:{ config, ... }: { networking.hostName = "x"; }] specialArgs=["host", "inputs"]
            nixosConfigurations.web [web] output=- modules=[/flake/common.nix, /flake/hosts/web.nix, inline:{ config, ... }: { networking.hostName = "x"; }] specialArgs=["host", "inputs"]
            packages.x86_64-linux.default [packages.x86_64-linux.default] output=image modules=[/flake/hosts/iso] specialArgs=[]
        "#]]
        .assert_eq(&show(
            r#"{
  outputs = inputs: let
    inherit (inputs.micros.lib) microsSystem;
    mkSystem = microsSystem;
    shared = ({ config, ... }: { networking.hostName = "x"; });
    host = name: mkSystem {
      specialArgs = { inherit inputs; host = name; };
      modules = [ ./common.nix ./hosts/${name}.nix shared ];
    };
  in {
    nixosConfigurations = { web = host "web"; db = host "db"; };
    packages.x86_64-linux.default =
      (inputs.micros.lib.microsSystem { modules = [ (import ./hosts/iso) ]; }).config.system.build.image;
  };
}"#,
        ));
    }

    #[test]
    fn systems_over_literal_lists() {
        expect_test::expect![[r#"
            checks.aarch64-linux.iso [checks.iso] output=image modules=[/flake/c.nix] specialArgs=[]
            checks.x86_64-darwin.iso [checks.iso] output=image modules=[/flake/c.nix] specialArgs=[]
            packages.aarch64-linux.default [default] output=image modules=[inline:{ nixpkgs.hostPlatform = system; }] specialArgs=[]
            packages.x86_64-linux.default [default] output=image modules=[inline:{ nixpkgs.hostPlatform = system; }] specialArgs=[]
        "#]]
        .assert_eq(&show(
            r#"{
  outputs = { nixpkgs, micros, flake-utils, ... }: let
    forAllSystems = nixpkgs.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ];
  in {
    packages = forAllSystems (system: {
      default = (micros.lib.microsSystem { modules = [ { nixpkgs.hostPlatform = system; } ]; }).config.system.build.image;
    });
  } // flake-utils.lib.eachSystem [ "aarch64-linux" "x86_64-darwin" ] (system: {
    checks.iso = (micros.lib.microsSystem { modules = [ ./c.nix ]; }).config.system.build.image;
  });
}"#,
        ));
    }

    #[test]
    fn what_cannot_be_followed_is_said_once() {
        // flake-parts: the outputs come from another flake's function.
        expect_test::expect![[r#"
            note at `micros.lib.microsSystem { modules = [ ./c.nix ]; }`: this `microsSystem` call is not reached by reading `outputs` statically (its outputs come from a function this checker does not follow, such as flake-parts)
        "#]]
        .assert_eq(&show(
            r#"{
  outputs = inputs@{ flake-parts, micros, ... }: flake-parts.lib.mkFlake { inherit inputs; } {
    flake.nixosConfigurations.box = micros.lib.microsSystem { modules = [ ./c.nix ]; };
  };
}"#,
        ));
        // A computed module list.
        expect_test::expect![[r#"
            nixosConfigurations.box [nixosConfigurations.box] output=- modules=[/flake/c.nix] (incomplete) specialArgs=?
            note at `micros.lib.microsSystem { specialArgs = inputs.extra; modules = [ ./c.nix ] ++ inputs.other.modules; }`: part of the module list of nixosConfigurations.box is computed; findings across its modules are not made
        "#]]
        .assert_eq(&show(
            r#"{
  outputs = { micros, ... } @ inputs: {
    nixosConfigurations.box = micros.lib.microsSystem { specialArgs = inputs.extra; modules = [ ./c.nix ] ++ inputs.other.modules; };
  };
}"#,
        ));
        // No flake at all, and endless recursion: nothing, quickly.
        assert_eq!(show("let f = x: f x; in f 1"), "");
        assert_eq!(
            show(
                "{ outputs = { ... }: let f = x: f (x + 1); in { a = f 1; b = rec { c = c; }; }; }"
            ),
            ""
        );
    }
}
