//! A lazy partial evaluator for the subset of Nix that module and option
//! declarations are written in.
//!
//! It interprets rnix syntax trees directly. `lib` and `builtins` are native.
//! Whatever it cannot know (`config`, `pkgs`, impure builtins, a `throw`) is
//! a `Value::Unknown` that spreads through the operations using it, so that
//! one unresolvable expression costs one option its precision, never the
//! whole set. It never runs programs, never reaches the network, and reads
//! only files below the roots it is given.

mod lib;
pub use lib::GLOBAL_NAMES;
mod pretty;
pub mod types;
pub mod value;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::rc::{Rc, Weak};

use rnix::ast::{self, AstToken, InterpolPart};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;
use rowan::ast::AstNode;

pub use pretty::to_pretty;
pub use value::*;

/// Files larger than this are refused: module sources are small, and a
/// multi-megabyte file is a mistake or an attack. One limit for `micros
/// check`, `micros options` and the editor alike.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a text of `bytes` bytes is not analysed, if it is too large.
pub fn too_large(bytes: u64) -> Option<String> {
    (bytes > MAX_FILE_BYTES).then(|| {
        format!(
            "{bytes} bytes, more than the {} MiB a Nix module may have: not analysed",
            MAX_FILE_BYTES / (1024 * 1024)
        )
    })
}

/// Nix-level nesting of evaluation before we give up on an expression;
/// keeps deep or runaway recursion from overflowing the stack.
const MAX_DEPTH: u32 = 400;

/// A problem met while reading or evaluating sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalDiagnostic {
    pub file: FileId,
    pub range: TextRange,
    pub message: String,
    /// A stable name for the kind of problem, where it has one
    /// ([`INFINITE_RECURSION`]).
    pub code: Option<&'static str>,
}

/// The code of a value or type defined in terms of itself.
pub const INFINITE_RECURSION: &str = "infinite-recursion";

/// A source file the evaluator has read.
pub struct SourceText {
    pub path: PathBuf,
    pub text: Rc<str>,
    pub root: Option<SyntaxNode>,
    line_starts: Vec<u32>,
}

impl SourceText {
    fn new(path: PathBuf, text: Rc<str>, root: Option<SyntaxNode>) -> Self {
        let mut line_starts = vec![0u32];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        SourceText {
            path,
            text,
            root,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1)
            - 1;
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let column = self
            .text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }
}

/// Evaluation steps an evaluator may take in one phase of an extraction
/// (reading the modules, then resolving the options they declare). The
/// micros tree with its nixpkgs modules takes 4,453 in all; the generated
/// tree of 20,000 options in the extraction benchmark 312,001. Bulk work
/// (lists, strings) is charged too, so this bounds time and memory: a
/// step costs 120-170 ns in the fuzzing build, where the 50 million steps
/// allowed before (a module that imports itself twice at every level,
/// found by the extract fuzzer) took 8.4 s.
pub const FUEL: u64 = 3_000_000;

/// The budget outside a [`Evaluator::enter_budget`] scope.
#[must_use]
pub struct BudgetScope {
    total: u64,
    slice: u64,
}

thread_local! {
    /// `lib` and the global scope, built once per thread rather than per
    /// evaluator (a fuzzer's or an editor's thread makes many). Sharing is
    /// sound because nothing in them ever changes: their thunks are values
    /// already, never pending, and evaluation only fills scopes it creates.
    static BASE: (Thunk, Env) = {
        let (lib, builtins) = lib::build();
        (Thunk::value(lib), lib::globals(builtins))
    };
}

pub struct Evaluator {
    files: Vec<SourceText>,
    file_ids: HashMap<PathBuf, FileId>,
    imports: HashMap<FileId, Thunk>,
    /// Directories below which files may be read.
    roots: Vec<PathBuf>,
    globals: Env,
    lib: Thunk,
    depth: u32,
    /// The depth limit was reported in the current descent.
    depth_reported: bool,
    /// Infinite recursions met (see [`Evaluator::recursions_met`]).
    recursions: usize,
    /// Evaluation steps left; bounds the work any input can cause.
    fuel: u64,
    /// Submodules resolved under the outermost one being resolved now
    /// (see `resolve_submodule` in extract.rs).
    pub submodules_resolved: u32,
    /// Options those submodules declared.
    pub sub_options_resolved: usize,
    /// Modules collected by the extraction, and those refused past
    /// `extract::MAX_MODULES`.
    pub modules_collected: usize,
    /// Sets and declarations read under `options` by the extraction, all
    /// modules and submodules together (`extract::MAX_OPTION_ENTRIES`).
    pub option_entries: usize,
    /// Whether a runaway `options` tree has been reported.
    pub option_walk_reported: bool,
    /// The sets under `options` reported as containing themselves.
    pub option_cycles_reported: std::collections::HashSet<usize>,
    pub diagnostics: Vec<EvalDiagnostic>,
    /// The scopes of `let`, `rec` and function calls, whose thunks hold
    /// their scope back: cycles that reference counting never frees. They
    /// are emptied when the evaluator is dropped (see `Drop`).
    cyclic_scopes: Vec<Weak<Scope>>,
    /// `cyclic_scopes` is pruned of freed scopes when it doubles past this.
    cyclic_scopes_pruned: usize,
}

impl Evaluator {
    /// An evaluator that may read below `roots` (canonicalized here).
    pub fn new(roots: &[PathBuf]) -> Self {
        let roots = roots
            .iter()
            .map(|r| r.canonicalize().unwrap_or_else(|_| r.clone()))
            .collect();
        let (lib, globals) = BASE.with(Clone::clone);
        Evaluator {
            files: Vec::new(),
            file_ids: HashMap::new(),
            imports: HashMap::new(),
            roots,
            globals,
            lib,
            depth: 0,
            depth_reported: false,
            recursions: 0,
            fuel: FUEL,
            submodules_resolved: 0,
            sub_options_resolved: 0,
            modules_collected: 0,
            option_entries: 0,
            option_walk_reported: false,
            option_cycles_reported: Default::default(),
            diagnostics: Vec::new(),
            cyclic_scopes: Vec::new(),
            cyclic_scopes_pruned: 1024,
        }
    }

    pub fn lib(&self) -> Thunk {
        self.lib.clone()
    }

    /// Pay for bulk work a single step does (building a list, a string):
    /// false, with the budget spent, when it does not cover it.
    pub fn spend(&mut self, amount: usize) -> bool {
        let amount = amount as u64;
        if amount > self.fuel {
            self.fuel = 0;
            return false;
        }
        self.fuel -= amount;
        true
    }

    /// [`Evaluator::spend`] for the size of a string: a byte is cheaper
    /// than an evaluation step.
    pub fn spend_bytes(&mut self, bytes: usize) -> bool {
        self.spend(bytes / 16)
    }

    /// Run `f` with at most `budget` steps (charged to the whole budget
    /// too): one expensive default cannot starve the options after it.
    pub fn with_budget<T>(&mut self, budget: u64, f: impl FnOnce(&mut Self) -> T) -> T {
        let scope = self.enter_budget(budget);
        let result = f(self);
        self.leave_budget(scope);
        result
    }

    /// Limit the steps until [`Evaluator::leave_budget`] to `budget`.
    pub fn enter_budget(&mut self, budget: u64) -> BudgetScope {
        let scope = BudgetScope {
            total: self.fuel,
            slice: budget.min(self.fuel),
        };
        self.fuel = scope.slice;
        scope
    }

    pub fn leave_budget(&mut self, scope: BudgetScope) {
        let used = scope.slice - self.fuel.min(scope.slice);
        self.fuel = scope.total - used;
    }

    pub fn set_fuel(&mut self, fuel: u64) {
        self.fuel = fuel;
    }

    /// An empty scope of bindings below `parent`, whose thunks may refer
    /// back to it; the evaluator breaks that cycle when it is dropped.
    fn bindings_scope(&mut self, parent: &Env) -> Env {
        let scope = Rc::new(Scope {
            kind: ScopeKind::Bindings(RefCell::new(BTreeMap::new())),
            parent: Some(parent.clone()),
            file: parent.file,
        });
        if self.cyclic_scopes.len() >= 2 * self.cyclic_scopes_pruned {
            self.cyclic_scopes.retain(|scope| scope.strong_count() > 0);
            self.cyclic_scopes_pruned = self.cyclic_scopes.len().max(1024);
        }
        self.cyclic_scopes.push(Rc::downgrade(&scope));
        scope
    }

    pub fn file(&self, id: FileId) -> &SourceText {
        &self.files[id.0 as usize]
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    /// Register source text under a path without reading the disk (used for
    /// tests and for buffers an editor holds).
    pub fn add_source(&mut self, path: PathBuf, text: &str) -> FileId {
        let (green, errors) = crate::syntax::parse(text);
        let root = SyntaxNode::new_root(green);
        let id = FileId(self.files.len() as u32);
        self.files
            .push(SourceText::new(path.clone(), text.into(), Some(root)));
        self.file_ids.insert(path, id);
        for (range, message) in errors {
            self.diagnostics.push(EvalDiagnostic {
                file: id,
                range,
                message,
                code: None,
            });
        }
        id
    }

    fn is_allowed(&self, path: &Path) -> bool {
        self.roots.iter().any(|root| path.starts_with(root))
    }

    /// Read and parse a file below the roots. A `default.nix` is used for a
    /// directory, as `import` does.
    pub fn load_file(&mut self, path: &Path) -> Result<FileId, String> {
        let mut path = normalize(path);
        if let Some(&id) = self.file_ids.get(&path) {
            return Ok(id);
        }
        if path.is_dir() {
            path = path.join("default.nix");
            if let Some(&id) = self.file_ids.get(&path) {
                return Ok(id);
            }
        }
        let canonical = path
            .canonicalize()
            .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
        if !self.is_allowed(&canonical) {
            return Err(format!(
                "`{}` is outside the source roots; not reading it",
                path.display()
            ));
        }
        let meta = std::fs::metadata(&canonical)
            .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
        if let Some(reason) = too_large(meta.len()) {
            return Err(format!("`{}` is {reason}", path.display()));
        }
        let bytes = std::fs::read(&canonical)
            .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("`{}` is not UTF-8 text", path.display()))?;
        Ok(self.add_source(path, &text))
    }

    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        self.file_ids.get(&normalize(path)).copied()
    }

    /// The value of a file, evaluated lazily and once.
    pub fn import_file(&mut self, id: FileId) -> Thunk {
        if let Some(thunk) = self.imports.get(&id) {
            return thunk.clone();
        }
        let root = self.files[id.0 as usize].root.clone();
        let expr = root.and_then(ast::Root::cast).and_then(|r| r.expr());
        let thunk = match expr {
            Some(expr) => {
                let env = Rc::new(Scope {
                    kind: ScopeKind::Bindings(RefCell::new(BTreeMap::new())),
                    parent: Some(self.globals.clone()),
                    file: id,
                });
                Thunk::pending(expr, env)
            }
            None => Thunk::value(Value::unknown("empty file")),
        };
        self.imports.insert(id, thunk.clone());
        thunk
    }

    /// `import path`, restricted to the roots.
    pub fn import_path(&mut self, path: &Path, from: Option<(FileId, TextRange)>) -> Value {
        match self.load_file(path) {
            Ok(id) => {
                let thunk = self.import_file(id);
                self.force(&thunk)
            }
            Err(message) => {
                if let Some((file, range)) = from {
                    self.diagnostics.push(EvalDiagnostic {
                        file,
                        range,
                        message: message.clone(),
                        code: None,
                    });
                }
                Value::unknown(message)
            }
        }
    }

    /// Evaluate an expression of `file` in a scope holding `bindings` (and
    /// the globals), ignoring the expression's real enclosing scopes.
    pub fn eval_with_bindings(
        &mut self,
        expr: &ast::Expr,
        file: FileId,
        bindings: Vec<(&str, Value)>,
    ) -> Value {
        let map = bindings
            .into_iter()
            .map(|(k, v)| (Rc::from(k), Thunk::value(v)))
            .collect();
        let env = Rc::new(Scope {
            kind: ScopeKind::Bindings(RefCell::new(map)),
            parent: Some(self.globals.clone()),
            file,
        });
        self.eval(expr, &env)
    }

    pub fn report(&mut self, file: FileId, range: TextRange, message: impl Into<String>) {
        self.diagnostics.push(EvalDiagnostic {
            file,
            range,
            message: message.into(),
            code: None,
        });
    }

    /// Report a value or type defined in terms of itself, once per place.
    pub fn report_recursion(&mut self, file: FileId, range: TextRange, message: &str) {
        self.recursions += 1;
        let known = self
            .diagnostics
            .iter()
            .any(|d| d.file == file && d.range == range && d.code == Some(INFINITE_RECURSION));
        if !known {
            self.diagnostics.push(EvalDiagnostic {
                file,
                range,
                message: message.into(),
                code: Some(INFINITE_RECURSION),
            });
        }
    }

    /// How many times infinite recursion was met so far: a caller compares
    /// two readings to know whether its evaluation met one (and was told).
    pub fn recursions_met(&self) -> usize {
        self.recursions
    }

    pub fn force(&mut self, thunk: &Thunk) -> Value {
        let state = {
            let mut cell = thunk.0.borrow_mut();
            match &*cell {
                ThunkState::Done(v) => return v.clone(),
                ThunkState::Blackhole(site) => {
                    let site = *site;
                    drop(cell);
                    if let Some((file, range)) = site {
                        self.report_recursion(
                            file,
                            range,
                            "infinite recursion encountered: this value is defined in terms of itself",
                        );
                    }
                    return Value::unknown("infinite recursion");
                }
                ThunkState::Pending(expr, env) => {
                    let site = Some((env.file, expr.syntax().text_range()));
                    std::mem::replace(&mut *cell, ThunkState::Blackhole(site))
                }
                ThunkState::Native(_) => std::mem::replace(&mut *cell, ThunkState::Blackhole(None)),
            }
        };
        let value = match state {
            ThunkState::Pending(expr, env) => self.eval(&expr, &env),
            ThunkState::Native(f) => f(self),
            ThunkState::Blackhole(_) | ThunkState::Done(_) => unreachable!("handled above"),
        };
        *thunk.0.borrow_mut() = ThunkState::Done(value.clone());
        value
    }

    /// Evaluation reached [`MAX_DEPTH`]: a function that calls itself
    /// without end, almost surely. Said once per descent, where it stopped.
    fn too_deep(&mut self, file: FileId, range: TextRange) -> Value {
        if !self.depth_reported {
            self.depth_reported = true;
            self.report_recursion(
                file,
                range,
                &format!(
                    "infinite recursion encountered: evaluation nests deeper than {MAX_DEPTH} levels here"
                ),
            );
        }
        Value::unknown("expression nested too deeply")
    }

    pub fn eval(&mut self, expr: &ast::Expr, env: &Env) -> Value {
        if self.fuel == 0 {
            return Value::unknown("evaluation budget exhausted");
        }
        self.fuel -= 1;
        if self.depth >= MAX_DEPTH {
            return self.too_deep(env.file, expr.syntax().text_range());
        }
        self.depth += 1;
        let value = self.eval_inner(expr, env);
        self.depth -= 1;
        if self.depth == 0 {
            self.depth_reported = false;
        }
        value
    }

    fn eval_inner(&mut self, expr: &ast::Expr, env: &Env) -> Value {
        use ast::Expr;
        match expr {
            Expr::Apply(apply) => {
                let (Some(func), Some(arg)) = (apply.lambda(), apply.argument()) else {
                    return Value::unknown("incomplete application");
                };
                let func = self.eval(&func, env);
                self.apply(func, Thunk::pending(arg, env.clone()))
            }
            Expr::Assert(assert) => {
                // An assertion we cannot decide is assumed to hold: the
                // declarations behind it are still worth knowing.
                match assert.condition().map(|c| self.eval(&c, env)) {
                    Some(Value::Bool(false)) => Value::unknown("assertion failed"),
                    _ => self.eval_opt(assert.body(), env),
                }
            }
            Expr::Error(_) => Value::unknown("syntax error"),
            Expr::IfElse(if_else) => {
                let condition = self.eval_opt(if_else.condition(), env);
                match condition {
                    Value::Bool(true) => self.eval_opt(if_else.body(), env),
                    Value::Bool(false) => self.eval_opt(if_else.else_body(), env),
                    Value::Unknown(reason) => Value::Unknown(reason),
                    other => Value::unknown(format!("`if` on a {}", other.type_name())),
                }
            }
            Expr::Select(select) => self.eval_select(select, env),
            Expr::Str(s) => self.eval_string(s, env, false),
            Expr::PathAbs(_) | Expr::PathRel(_) | Expr::PathHome(_) | Expr::PathSearch(_) => {
                self.eval_path(expr, env)
            }
            Expr::Literal(literal) => eval_literal(literal),
            Expr::Lambda(lambda) => match (lambda.param(), lambda.body()) {
                (Some(param), Some(body)) => Value::Lambda(Rc::new(Lambda {
                    param,
                    body,
                    env: env.clone(),
                })),
                _ => Value::unknown("incomplete function"),
            },
            Expr::LegacyLet(let_) => {
                let attrs = self.build_attrs(let_.syntax(), env, true);
                match attrs.get("body") {
                    Some(entry) => {
                        let thunk = entry.thunk.clone();
                        self.force(&thunk)
                    }
                    None => Value::unknown("`let { }` without `body`"),
                }
            }
            Expr::LetIn(let_in) => {
                let scope = self.let_scope(let_in, env);
                self.eval_opt(let_in.body(), &scope)
            }
            Expr::List(list) => Value::List(
                list.items()
                    .map(|item| Thunk::pending(item, env.clone()))
                    .collect(),
            ),
            Expr::BinOp(binop) => self.eval_binop(binop, env),
            Expr::Paren(paren) => self.eval_opt(paren.expr(), env),
            Expr::Root(root) => self.eval_opt(root.expr(), env),
            Expr::AttrSet(set) => {
                let attrs = self.build_attrs(set.syntax(), env, set.rec_token().is_some());
                Value::Attrs(Rc::new(attrs))
            }
            Expr::UnaryOp(unary) => {
                let operand = self.eval_opt(unary.expr(), env);
                match (unary.operator(), operand) {
                    (_, Value::Unknown(r)) => Value::Unknown(r),
                    (Some(ast::UnaryOpKind::Invert), Value::Bool(b)) => Value::Bool(!b),
                    (Some(ast::UnaryOpKind::Negate), Value::Int(i)) => Value::Int(i.wrapping_neg()),
                    (Some(ast::UnaryOpKind::Negate), Value::Float(f)) => Value::Float(-f),
                    _ => Value::unknown("ill-typed unary operation"),
                }
            }
            Expr::Ident(ident) => {
                let Some(token) = ident.ident_token() else {
                    return Value::unknown("missing identifier");
                };
                let name = token.text();
                match self.lookup(env, name) {
                    Some(thunk) => self.force(&thunk),
                    None => Value::unknown(format!("undefined variable `{name}`")),
                }
            }
            Expr::With(with) => {
                let namespace = match with.namespace() {
                    Some(ns) => Thunk::pending(ns, env.clone()),
                    None => Thunk::value(Value::unknown("missing `with` namespace")),
                };
                let scope = Rc::new(Scope {
                    kind: ScopeKind::With(namespace),
                    parent: Some(env.clone()),
                    file: env.file,
                });
                self.eval_opt(with.body(), &scope)
            }
            Expr::HasAttr(has) => {
                let mut value = self.eval_opt(has.expr(), env);
                let Some(path) = has.attrpath() else {
                    return Value::unknown("missing attribute path");
                };
                for attr in path.attrs() {
                    let name = match self.attr_name(&attr, env) {
                        Ok(name) => name,
                        Err(unknown) => return unknown,
                    };
                    value = match value {
                        Value::Attrs(attrs) => match attrs.get(&name) {
                            Some(entry) => {
                                let thunk = entry.thunk.clone();
                                self.force(&thunk)
                            }
                            None => return Value::Bool(false),
                        },
                        Value::Type(ty) => match self.type_attr(&ty, &name) {
                            Some(v) => v,
                            None => return Value::Bool(false),
                        },
                        Value::Unknown(r) => return Value::Unknown(r),
                        _ => return Value::Bool(false),
                    };
                }
                Value::Bool(true)
            }
            Expr::CurPos(_) => Value::unknown("__curPos"),
        }
    }

    fn eval_opt(&mut self, expr: Option<ast::Expr>, env: &Env) -> Value {
        match expr {
            Some(expr) => self.eval(&expr, env),
            None => Value::unknown("missing expression"),
        }
    }

    pub fn lookup(&self, env: &Env, name: &str) -> Option<Thunk> {
        // Lexical bindings win over every `with`, however close the `with`.
        let mut withs = Vec::new();
        let mut scope = Some(env);
        while let Some(s) = scope {
            match &s.kind {
                ScopeKind::Bindings(bindings) => {
                    if let Some(thunk) = bindings.borrow().get(name) {
                        return Some(thunk.clone());
                    }
                }
                ScopeKind::With(ns) => withs.push(ns.clone()),
            }
            scope = s.parent.as_ref();
        }
        if withs.is_empty() {
            return None;
        }
        let name: Rc<str> = name.into();
        Some(Thunk::native(move |eval| {
            for ns in &withs {
                match eval.force(ns) {
                    Value::Attrs(attrs) => {
                        if let Some(entry) = attrs.get(&name) {
                            let thunk = entry.thunk.clone();
                            return eval.force(&thunk);
                        }
                    }
                    Value::Unknown(r) => return Value::Unknown(r),
                    _ => {}
                }
            }
            Value::unknown(format!("undefined variable `{name}`"))
        }))
    }

    /// The name an attribute stands for, or the `Unknown` that hides it.
    pub fn attr_name(&mut self, attr: &ast::Attr, env: &Env) -> Result<Rc<str>, Value> {
        match attr {
            ast::Attr::Ident(ident) => match ident.ident_token() {
                Some(token) => Ok(token.text().into()),
                None => Err(Value::unknown("missing identifier")),
            },
            ast::Attr::Str(s) => match self.eval_string(s, env, false) {
                Value::Str(s) => Ok(s),
                other => Err(non_string_name(other)),
            },
            ast::Attr::Dynamic(dynamic) => match self.eval_opt(dynamic.expr(), env) {
                Value::Str(s) => Ok(s),
                other => Err(non_string_name(other)),
            },
        }
    }

    fn eval_select(&mut self, select: &ast::Select, env: &Env) -> Value {
        let mut value = self.eval_opt(select.expr(), env);
        let Some(path) = select.attrpath() else {
            return Value::unknown("missing attribute path");
        };
        for attr in path.attrs() {
            let name = match self.attr_name(&attr, env) {
                Ok(name) => name,
                Err(unknown) => return unknown,
            };
            value = match self.select_attr(&value, &name) {
                Some(v) => v,
                None if value.is_unknown() => return value,
                None => {
                    return match select.default_expr() {
                        Some(default) => self.eval(&default, env),
                        None => Value::unknown(format!("attribute `{name}` missing")),
                    };
                }
            };
        }
        value
    }

    /// `value.name`: `None` when `value` has no such attribute (or is not a
    /// set); `Some(Unknown)` when it is unknown itself.
    pub fn select_attr(&mut self, value: &Value, name: &str) -> Option<Value> {
        match value {
            Value::Attrs(attrs) => {
                let thunk = attrs.get(name)?.thunk.clone();
                Some(self.force(&thunk))
            }
            Value::Type(ty) => self.type_attr(ty, name),
            Value::Unknown(r) => Some(Value::Unknown(r.clone())),
            _ => None,
        }
    }

    /// Attributes an option type answers, as nixpkgs' type attrsets do.
    fn type_attr(&mut self, ty: &Rc<TypeVal>, name: &str) -> Option<Value> {
        if let TypeVal::Overridden { base, overrides } = &**ty {
            if let Some(entry) = overrides.get(name) {
                let thunk = entry.thunk.clone();
                return Some(self.force(&thunk));
            }
            return self.type_attr(base, name);
        }
        match name {
            "_type" => Some(Value::str("option-type")),
            "description" => Some(Value::str(lib::type_description(self, ty))),
            "name" => Some(Value::str(lib::type_name(self, ty))),
            "check" | "merge" | "getSubOptions" | "getSubModules" | "substSubModules"
            | "typeMerge" | "functor" | "nestedTypes" | "emptyValue" | "descriptionClass" => {
                Some(Value::unknown(format!("type attribute `{name}`")))
            }
            _ => None,
        }
    }

    /// Build an attribute set from `entries` (of an attrset or a `let`),
    /// nesting attribute paths and merging nested literal sets as Nix does.
    fn build_attrs(&mut self, node: &SyntaxNode, env: &Env, recursive: bool) -> Attrs {
        // For `rec` sets and `let`, values see the set's own bindings.
        let (value_env, bindings) = if recursive {
            let scope = self.bindings_scope(env);
            (scope.clone(), Some(scope))
        } else {
            (env.clone(), None)
        };
        let mut builder = AttrsBuilder::default();
        self.fill_builder(&mut builder, node, env, &value_env);
        let attrs = builder.finish();
        if let Some(scope) = bindings
            && let ScopeKind::Bindings(cell) = &scope.kind
        {
            let mut map = cell.borrow_mut();
            for (name, entry) in &attrs.entries {
                map.insert(name.clone(), entry.thunk.clone());
            }
        }
        attrs
    }

    fn fill_builder(
        &mut self,
        builder: &mut AttrsBuilder,
        node: &SyntaxNode,
        outer_env: &Env,
        value_env: &Env,
    ) {
        for child in node.children() {
            if let Some(inherit) = ast::Inherit::cast(child.clone()) {
                let from = inherit
                    .from()
                    .and_then(|f| f.expr())
                    .map(|e| Thunk::pending(e, value_env.clone()));
                for attr in inherit.attrs() {
                    let Ok(name) = self.attr_name(&attr, value_env) else {
                        continue;
                    };
                    let thunk = match &from {
                        Some(source) => {
                            let source = source.clone();
                            let key = name.clone();
                            Thunk::native(move |eval| {
                                let value = eval.force(&source);
                                eval.select_attr(&value, &key).unwrap_or_else(|| {
                                    Value::unknown(format!("attribute `{key}` missing"))
                                })
                            })
                        }
                        // `inherit x;` takes `x` from the enclosing scope,
                        // not from the set being built.
                        None => self.lookup(outer_env, &name).unwrap_or_else(|| {
                            Thunk::value(Value::unknown(format!("undefined variable `{name}`")))
                        }),
                    };
                    let origin = Rc::new(Origin {
                        file: value_env.file,
                        entry: inherit.syntax().text_range(),
                        expr: ast::Expr::Ident(match attr {
                            ast::Attr::Ident(ref i) => i.clone(),
                            _ => continue,
                        }),
                        env: value_env.clone(),
                    });
                    builder.insert_value(
                        name,
                        AttrEntry {
                            thunk,
                            origin: Some(origin),
                        },
                    );
                }
            } else if let Some(entry) = ast::AttrpathValue::cast(child) {
                let (Some(path), Some(value)) = (entry.attrpath(), entry.value()) else {
                    continue;
                };
                let mut names = Vec::new();
                let mut resolved = true;
                for attr in path.attrs() {
                    match self.attr_name(&attr, value_env) {
                        Ok(name) => names.push(name),
                        Err(_) => {
                            resolved = false;
                            break;
                        }
                    }
                }
                if !resolved || names.is_empty() {
                    continue;
                }
                let origin = Rc::new(Origin {
                    file: value_env.file,
                    entry: entry.syntax().text_range(),
                    expr: value.clone(),
                    env: value_env.clone(),
                });
                let attr_entry = AttrEntry {
                    thunk: Thunk::pending(value.clone(), value_env.clone()),
                    origin: Some(origin),
                };
                self.builder_insert(builder, &names, attr_entry, &value, value_env);
            }
        }
    }

    fn builder_insert(
        &mut self,
        builder: &mut AttrsBuilder,
        names: &[Rc<str>],
        entry: AttrEntry,
        value: &ast::Expr,
        env: &Env,
    ) {
        let (first, rest) = names.split_first().expect("non-empty path");
        if rest.is_empty() {
            match builder.entries.get_mut(first) {
                // `a.b = 1; a = { c = 2; };`: a literal set merges into the
                // nested one.
                Some(BuilderEntry::Nested(nested, _)) => {
                    if let ast::Expr::AttrSet(set) = value
                        && set.rec_token().is_none()
                    {
                        self.fill_builder(nested, set.syntax(), env, env);
                    }
                }
                Some(BuilderEntry::Value(..)) => {} // duplicate: Nix rejects it, keep the first
                None => {
                    let literal = match value {
                        ast::Expr::AttrSet(set) if set.rec_token().is_none() => Some(set.clone()),
                        _ => None,
                    };
                    builder.entries.insert(
                        first.clone(),
                        BuilderEntry::Value(entry, literal, env.clone()),
                    );
                }
            }
            return;
        }
        let origin = entry.origin.clone();
        let slot = builder.entries.remove(first);
        let mut nested = match slot {
            Some(BuilderEntry::Nested(nested, origin)) => (nested, origin),
            Some(BuilderEntry::Value(existing, Some(set), set_env)) => {
                let mut nested = AttrsBuilder::default();
                self.fill_builder(&mut nested, set.syntax(), &set_env, &set_env);
                (nested, existing.origin)
            }
            Some(other @ BuilderEntry::Value(..)) => {
                // `a = f x; a.b = 1;` is an error in Nix; keep the first.
                builder.entries.insert(first.clone(), other);
                return;
            }
            None => (AttrsBuilder::default(), origin),
        };
        self.builder_insert(&mut nested.0, rest, entry, value, env);
        builder
            .entries
            .insert(first.clone(), BuilderEntry::Nested(nested.0, nested.1));
    }

    fn let_scope(&mut self, let_in: &ast::LetIn, env: &Env) -> Env {
        let scope = self.bindings_scope(env);
        let mut builder = AttrsBuilder::default();
        self.fill_builder(&mut builder, let_in.syntax(), &scope, &scope);
        let attrs = builder.finish();
        if let ScopeKind::Bindings(cell) = &scope.kind {
            let mut map = cell.borrow_mut();
            for (name, entry) in attrs.entries {
                map.insert(name, entry.thunk);
            }
        }
        scope
    }

    fn eval_binop(&mut self, binop: &ast::BinOp, env: &Env) -> Value {
        use ast::BinOpKind::*;
        let Some(op) = binop.operator() else {
            return Value::unknown("missing operator");
        };
        // Short-circuiting operators look at the left side first.
        match op {
            And | Or | Implication => {
                let lhs = self.eval_opt(binop.lhs(), env);
                let lhs = match (op, lhs) {
                    (And, Value::Bool(false)) => return Value::Bool(false),
                    (Or, Value::Bool(true)) => return Value::Bool(true),
                    (Implication, Value::Bool(false)) => return Value::Bool(true),
                    (_, Value::Bool(b)) => b,
                    (_, Value::Unknown(r)) => {
                        // `unknown || true` is still true.
                        let rhs = self.eval_opt(binop.rhs(), env);
                        return match (op, rhs) {
                            (Or | Implication, Value::Bool(true)) => Value::Bool(true),
                            (And, Value::Bool(false)) => Value::Bool(false),
                            _ => Value::Unknown(r),
                        };
                    }
                    _ => return Value::unknown("boolean operator on a non-boolean"),
                };
                let _ = lhs;
                return match self.eval_opt(binop.rhs(), env) {
                    Value::Bool(b) => Value::Bool(b),
                    Value::Unknown(r) => Value::Unknown(r),
                    _ => Value::unknown("boolean operator on a non-boolean"),
                };
            }
            PipeRight | PipeLeft => {
                let (func, arg) = if op == PipeRight {
                    (binop.rhs(), binop.lhs())
                } else {
                    (binop.lhs(), binop.rhs())
                };
                let func = self.eval_opt(func, env);
                let arg = match arg {
                    Some(arg) => Thunk::pending(arg, env.clone()),
                    None => Thunk::value(Value::unknown("missing operand")),
                };
                return self.apply(func, arg);
            }
            _ => {}
        }
        let lhs = self.eval_opt(binop.lhs(), env);
        let rhs = self.eval_opt(binop.rhs(), env);
        self.binop_values(op, lhs, rhs)
    }

    pub fn binop_values(&mut self, op: ast::BinOpKind, lhs: Value, rhs: Value) -> Value {
        use Value::*;
        use ast::BinOpKind::*;
        match (op, lhs, rhs) {
            (Update, Type(base), Attrs(overrides)) => {
                Value::Type(Rc::new(TypeVal::Overridden { base, overrides }))
            }
            (Update, Attrs(a), Attrs(b)) => {
                if b.entries.is_empty() {
                    return Attrs(a);
                }
                if !self.spend(a.entries.len() + b.entries.len()) {
                    return Value::unknown("evaluation budget exhausted");
                }
                let mut merged = value::Attrs {
                    entries: a.entries.clone(),
                };
                for (k, v) in &b.entries {
                    merged.entries.insert(k.clone(), v.clone());
                }
                Attrs(Rc::new(merged))
            }
            (Equal, a, b) => self
                .equal(&a, &b)
                .map_or_else(|| Value::unknown("comparison"), Bool),
            (NotEqual, a, b) => self
                .equal(&a, &b)
                .map_or_else(|| Value::unknown("comparison"), |e| Bool(!e)),
            (_, Unknown(r), _) | (_, _, Unknown(r)) => Unknown(r),
            (Concat, List(a), List(b)) => {
                if !self.spend(a.len() + b.len()) {
                    return Value::unknown("evaluation budget exhausted");
                }
                List(a.iter().chain(b.iter()).cloned().collect())
            }
            (Add, Int(a), Int(b)) => Int(a.wrapping_add(b)),
            (Sub, Int(a), Int(b)) => Int(a.wrapping_sub(b)),
            (Mul, Int(a), Int(b)) => Int(a.wrapping_mul(b)),
            (Div, Int(_), Int(0)) => Value::unknown("division by zero"),
            (Div, Int(a), Int(b)) => Int(a.wrapping_div(b)),
            (Add | Sub | Mul | Div, a @ (Int(_) | Float(_)), b @ (Int(_) | Float(_))) => {
                let (a, b) = (as_float(&a), as_float(&b));
                Float(match op {
                    Add => a + b,
                    Sub => a - b,
                    Mul => a * b,
                    _ => a / b,
                })
            }
            (Add, Str(a), Str(b)) => {
                if !self.spend_bytes(a.len() + b.len()) {
                    return Value::unknown("evaluation budget exhausted");
                }
                Str(format!("{a}{b}").into())
            }
            (Add, Str(a), Path(b)) => Str(format!("{a}{}", b.display()).into()),
            (Add, Path(a), Str(b)) => {
                Path(normalize(std::path::Path::new(&format!("{}{b}", a.display()))).into())
            }
            (Add, Path(a), Path(b)) => Path(
                normalize(std::path::Path::new(&format!(
                    "{}{}",
                    a.display(),
                    b.display()
                )))
                .into(),
            ),
            (Less, a, b) => self
                .less(&a, &b)
                .map_or_else(|| Value::unknown("comparison"), Bool),
            (MoreOrEq, a, b) => self
                .less(&a, &b)
                .map_or_else(|| Value::unknown("comparison"), |l| Bool(!l)),
            (More, a, b) => self
                .less(&b, &a)
                .map_or_else(|| Value::unknown("comparison"), Bool),
            (LessOrEq, a, b) => self
                .less(&b, &a)
                .map_or_else(|| Value::unknown("comparison"), |l| Bool(!l)),
            (op, a, b) => Value::unknown(format!(
                "{op:?} of a {} and a {}",
                a.type_name(),
                b.type_name()
            )),
        }
    }

    /// Nix equality; `None` when it depends on something unknown.
    pub fn equal(&mut self, a: &Value, b: &Value) -> Option<bool> {
        use Value::*;
        match (a, b) {
            (Unknown(_), _) | (_, Unknown(_)) => None,
            (Null, Null) => Some(true),
            (Bool(a), Bool(b)) => Some(a == b),
            (Int(a), Int(b)) => Some(a == b),
            (Int(_) | Float(_), Int(_) | Float(_)) => Some(as_float(a) == as_float(b)),
            (Str(a), Str(b)) => Some(a == b),
            (Path(a), Path(b)) => Some(a == b),
            (List(a), List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                for (x, y) in a.iter().zip(b.iter()) {
                    let (x, y) = (self.force(x), self.force(y));
                    if !self.equal(&x, &y)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (Attrs(a), Attrs(b)) => {
                if a.entries.len() != b.entries.len() || !a.entries.keys().eq(b.entries.keys()) {
                    return Some(false);
                }
                for (x, y) in a.entries.values().zip(b.entries.values()) {
                    let (x, y) = (self.force(&x.thunk), self.force(&y.thunk));
                    if !self.equal(&x, &y)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
            (Lambda(_) | Prim(_) | Type(_), _) | (_, Lambda(_) | Prim(_) | Type(_)) => None,
            _ => Some(false),
        }
    }

    fn less(&mut self, a: &Value, b: &Value) -> Option<bool> {
        use Value::*;
        match (a, b) {
            (Int(a), Int(b)) => Some(a < b),
            (Int(_) | Float(_), Int(_) | Float(_)) => Some(as_float(a) < as_float(b)),
            (Str(a), Str(b)) => Some(a < b),
            (Path(a), Path(b)) => Some(a < b),
            _ => None,
        }
    }

    /// Apply a function value to an argument.
    pub fn apply(&mut self, func: Value, arg: Thunk) -> Value {
        if self.fuel == 0 {
            return Value::unknown("evaluation budget exhausted");
        }
        self.fuel -= 1;
        match func {
            Value::Lambda(lambda) => self.call_lambda(&lambda, arg),
            Value::Prim(prim) => {
                let mut args = prim.args.clone();
                args.push(arg);
                if args.len() == prim.arity {
                    if self.depth >= MAX_DEPTH {
                        return Value::unknown("expression nested too deeply");
                    }
                    self.depth += 1;
                    let value = (prim.func)(self, &args);
                    self.depth -= 1;
                    value
                } else {
                    Value::Prim(Rc::new(PrimApp {
                        args,
                        ..*prim_clone(&prim)
                    }))
                }
            }
            Value::Attrs(attrs) => match attrs.get("__functor") {
                Some(entry) => {
                    let functor = self.force(&entry.thunk.clone());
                    let with_self = self.apply(functor, Thunk::value(Value::Attrs(attrs.clone())));
                    self.apply(with_self, arg)
                }
                None => Value::unknown("attempt to call a set"),
            },
            Value::Unknown(r) => Value::Unknown(r),
            other => Value::unknown(format!("attempt to call a {}", other.type_name())),
        }
    }

    pub fn apply_values(&mut self, func: Value, args: &[Value]) -> Value {
        let mut result = func;
        for arg in args {
            result = self.apply(result, Thunk::value(arg.clone()));
        }
        result
    }

    fn call_lambda(&mut self, lambda: &Lambda, arg: Thunk) -> Value {
        let scope = self.bindings_scope(&lambda.env);
        let ScopeKind::Bindings(cell) = &scope.kind else {
            unreachable!()
        };
        match &lambda.param {
            ast::Param::IdentParam(param) => {
                if let Some(token) = param.ident().and_then(|i| i.ident_token()) {
                    cell.borrow_mut().insert(token.text().into(), arg);
                }
            }
            ast::Param::Pattern(pattern) => {
                let arg_value = self.force(&arg);
                if let Some(bind) = pattern
                    .pat_bind()
                    .and_then(|b| b.ident())
                    .and_then(|i| i.ident_token())
                {
                    cell.borrow_mut().insert(bind.text().into(), arg.clone());
                }
                for entry in pattern.pat_entries() {
                    let Some(name) = entry.ident().and_then(|i| i.ident_token()) else {
                        continue;
                    };
                    let name: Rc<str> = name.text().into();
                    let given = match &arg_value {
                        Value::Attrs(attrs) => attrs.get(&name).map(|e| e.thunk.clone()),
                        Value::Unknown(r) => Some(Thunk::value(Value::Unknown(r.clone()))),
                        _ => None,
                    };
                    let thunk = match (given, entry.default()) {
                        (Some(thunk), _) => thunk,
                        // Defaults may refer to the other parameters.
                        (None, Some(default)) => Thunk::pending(default, scope.clone()),
                        // A module asking for an argument we do not provide
                        // (a specialArg, say) just cannot use it.
                        (None, None) => Thunk::value(Value::unknown(format!("argument `{name}`"))),
                    };
                    cell.borrow_mut().insert(name, thunk);
                }
            }
        }
        self.eval(&lambda.body, &scope)
    }

    fn eval_string(&mut self, s: &ast::Str, env: &Env, lenient: bool) -> Value {
        let well_formed = s.syntax().children_with_tokens().all(|child| match child {
            rowan::NodeOrToken::Token(t) => matches!(
                t.kind(),
                SyntaxKind::TOKEN_STRING_START
                    | SyntaxKind::TOKEN_STRING_END
                    | SyntaxKind::TOKEN_STRING_CONTENT
            ),
            rowan::NodeOrToken::Node(n) => n.kind() == SyntaxKind::NODE_INTERPOL,
        });
        if !well_formed {
            return Value::unknown("malformed string");
        }
        let mut out = String::new();
        for part in s.normalized_parts() {
            match part {
                InterpolPart::Literal(text) => out.push_str(&text),
                InterpolPart::Interpolation(interpol) => {
                    let value = self.eval_opt(interpol.expr(), env);
                    match coerce_to_string(&value) {
                        Some(text) => {
                            if !self.spend_bytes(out.len() + text.len()) {
                                return Value::unknown("evaluation budget exhausted");
                            }
                            out.push_str(&text)
                        }
                        None if lenient => {
                            out.push_str("${");
                            out.push_str(
                                &interpol
                                    .expr()
                                    .map(|e| e.syntax().to_string())
                                    .unwrap_or_default(),
                            );
                            out.push('}');
                        }
                        None => {
                            return match value {
                                Value::Unknown(r) => Value::Unknown(r),
                                other => Value::unknown(format!(
                                    "cannot interpolate a {}",
                                    other.type_name()
                                )),
                            };
                        }
                    }
                }
            }
        }
        Value::str(out)
    }

    /// A string expression's text, with interpolations that cannot be
    /// evaluated kept as source (`${pkgs.foo}`): for descriptions.
    pub fn eval_string_lenient(&mut self, s: &ast::Str, env: &Env) -> Value {
        self.eval_string(s, env, true)
    }

    fn eval_path(&mut self, expr: &ast::Expr, env: &Env) -> Value {
        let path = match expr {
            ast::Expr::PathSearch(_) => {
                return Value::unknown(format!("search path {}", expr.syntax()));
            }
            ast::Expr::PathHome(_) => return Value::unknown("home-relative path"),
            ast::Expr::PathAbs(_) | ast::Expr::PathRel(_) => {
                crate::syntax::path_parts(expr.syntax())
            }
            _ => return Value::unknown("not a path"),
        };
        let Some(path) = path else {
            return Value::unknown("malformed path");
        };
        let mut text = String::new();
        for part in path {
            match part {
                InterpolPart::Literal(content) => text.push_str(&content),
                InterpolPart::Interpolation(interpol) => {
                    match coerce_to_string(&self.eval_opt(interpol.expr(), env)) {
                        Some(s) => text.push_str(&s),
                        None => return Value::unknown("path with an unknown part"),
                    }
                }
            }
        }
        if matches!(expr, ast::Expr::PathRel(_)) {
            let Some(base) = self
                .files
                .get(env.file.0 as usize)
                .and_then(|f| f.path.parent())
            else {
                return Value::unknown("relative path outside a file");
            };
            return Value::Path(normalize(&base.join(&text)).into());
        }
        Value::Path(normalize(Path::new(&text)).into())
    }
}

impl Drop for Evaluator {
    /// Empty the scopes that may sit in cycles, so that everything the
    /// evaluation built is freed (an extraction per options reload would
    /// otherwise leak all of it).
    fn drop(&mut self) {
        for scope in self.cyclic_scopes.drain(..) {
            if let Some(scope) = scope.upgrade()
                && let ScopeKind::Bindings(bindings) = &scope.kind
            {
                let emptied = std::mem::take(&mut *bindings.borrow_mut());
                drop(emptied);
            }
        }
    }
}

#[derive(Default)]
struct AttrsBuilder {
    entries: BTreeMap<Rc<str>, BuilderEntry>,
}

enum BuilderEntry {
    /// A value; if it is a literal (non-`rec`) set, kept so that later
    /// paths into it can merge.
    Value(AttrEntry, Option<ast::AttrSet>, Env),
    Nested(AttrsBuilder, Option<Rc<Origin>>),
}

impl AttrsBuilder {
    fn insert_value(&mut self, name: Rc<str>, entry: AttrEntry) {
        self.entries.entry(name).or_insert_with(|| {
            let env = entry.origin.as_ref().map(|o| o.env.clone());
            BuilderEntry::Value(entry, None, env.expect("inherit entries have an origin"))
        });
    }

    fn finish(self) -> Attrs {
        let mut attrs = Attrs::default();
        for (name, entry) in self.entries {
            let entry = match entry {
                BuilderEntry::Value(entry, ..) => entry,
                BuilderEntry::Nested(nested, origin) => AttrEntry {
                    thunk: Thunk::value(Value::Attrs(Rc::new(nested.finish()))),
                    origin,
                },
            };
            attrs.entries.insert(name, entry);
        }
        attrs
    }
}

fn prim_clone(prim: &PrimApp) -> Box<PrimApp> {
    Box::new(PrimApp {
        name: prim.name,
        arity: prim.arity,
        func: prim.func,
        args: Vec::new(),
    })
}

fn as_float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

fn non_string_name(value: Value) -> Value {
    match value {
        Value::Unknown(r) => Value::Unknown(r),
        other => Value::unknown(format!("attribute name is a {}", other.type_name())),
    }
}

/// What `"${v}"` gives, where it can be known without a store.
pub fn coerce_to_string(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.to_string()),
        // Real Nix copies the path to the store; the path itself is the
        // useful text for documentation and imports.
        Value::Path(p) => Some(p.display().to_string()),
        _ => None,
    }
}

fn eval_literal(literal: &ast::Literal) -> Value {
    let Some(token) = literal.syntax().first_token() else {
        return Value::unknown("empty literal");
    };
    match token.kind() {
        SyntaxKind::TOKEN_INTEGER => match ast::Integer::cast(token).map(|i| i.value()) {
            Some(Ok(i)) => Value::Int(i),
            _ => Value::unknown("integer out of range"),
        },
        SyntaxKind::TOKEN_FLOAT => match ast::Float::cast(token).map(|f| f.value()) {
            Some(Ok(f)) => Value::Float(f),
            _ => Value::unknown("malformed float"),
        },
        SyntaxKind::TOKEN_URI => Value::str(token.text()),
        _ => Value::unknown("unknown literal"),
    }
}

/// Lexically normalize `.` and `..` (as Nix does for path literals).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

/// Range and message of an rnix parse error.
pub fn parse_error_parts(error: &rnix::ParseError, len: usize) -> (TextRange, String) {
    use rnix::ParseError::*;
    let end = rowan::TextSize::from(len as u32);
    match error {
        Unexpected(range) => (*range, "unexpected input".into()),
        UnexpectedExtra(range) => (*range, "unexpected input after the expression".into()),
        UnexpectedWanted(found, range, wanted) => (
            *range,
            format!(
                "expected {}, found {}",
                describe_kinds(wanted),
                describe_kind(*found)
            ),
        ),
        UnexpectedDoubleBind(range) => (*range, "this argument is bound twice".into()),
        UnexpectedEOF => (TextRange::empty(end), "unexpected end of file".into()),
        UnexpectedEOFWanted(wanted) => (
            TextRange::empty(end),
            format!(
                "unexpected end of file, expected {}",
                describe_kinds(wanted)
            ),
        ),
        DuplicatedArgs(range, name) => (*range, format!("argument `{name}` is bound twice")),
        RecursionLimitExceeded => (TextRange::empty(end), "nested too deeply to parse".into()),
        _ => (TextRange::empty(end), error.to_string()),
    }
}

/// How a parse error names a token.
pub fn describe_kind(kind: SyntaxKind) -> String {
    use SyntaxKind::*;
    let spelled = match kind {
        // The parser wants "a name" in three spellings.
        TOKEN_IDENT | TOKEN_OR | TOKEN_CUR_POS | NODE_IDENT => "a name",
        TOKEN_INTEGER | TOKEN_FLOAT => "a number",
        TOKEN_STRING_START | NODE_STRING => "a string",
        TOKEN_STRING_END => "the end of the string",
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL | TOKEN_PATH_SEARCH => "a path",
        TOKEN_URI => "a URI",
        TOKEN_ERROR => "invalid input",
        TOKEN_COMMENT => "a comment",
        TOKEN_L_BRACE => "`{`",
        TOKEN_R_BRACE | TOKEN_INTERPOL_END => "`}`",
        TOKEN_L_BRACK => "`[`",
        TOKEN_R_BRACK => "`]`",
        TOKEN_L_PAREN => "`(`",
        TOKEN_R_PAREN => "`)`",
        TOKEN_SEMICOLON => "`;`",
        TOKEN_ASSIGN => "`=`",
        TOKEN_DOT => "`.`",
        TOKEN_COLON => "`:`",
        TOKEN_COMMA => "`,`",
        TOKEN_QUESTION => "`?`",
        TOKEN_AT => "`@`",
        TOKEN_ELLIPSIS => "`...`",
        TOKEN_INTERPOL_START => "`${`",
        TOKEN_LET => "`let`",
        TOKEN_IN => "`in`",
        TOKEN_IF => "`if`",
        TOKEN_THEN => "`then`",
        TOKEN_ELSE => "`else`",
        TOKEN_WITH => "`with`",
        TOKEN_REC => "`rec`",
        TOKEN_INHERIT => "`inherit`",
        TOKEN_ASSERT => "`assert`",
        _ => {
            let name = format!("{kind:?}");
            return name
                .trim_start_matches("TOKEN_")
                .trim_start_matches("NODE_")
                .to_lowercase()
                .replace('_', " ");
        }
    };
    spelled.to_string()
}

/// "a or b or c", each once.
fn describe_kinds(kinds: &[SyntaxKind]) -> String {
    let mut names: Vec<String> = Vec::new();
    for kind in kinds {
        let name = describe_kind(*kind);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `let`, a `rec` set and a function's default that refer to
    /// themselves are cycles of reference counts: dropping the evaluator
    /// must still free what they built.
    #[test]
    fn dropping_the_evaluator_frees_self_referring_values() {
        let sources = [
            "let a = { b = a; }; in a",
            "rec { a = { b = a; }; }.a",
            "({ a ? { b = a; } }: a) { }",
        ];
        for source in sources {
            let mut eval = Evaluator::new(&[]);
            let file = eval.add_source(PathBuf::from("/cycle.nix"), source);
            let thunk = eval.import_file(file);
            let Value::Attrs(attrs) = eval.force(&thunk) else {
                panic!("{source}: not a set");
            };
            let freed = Rc::downgrade(&attrs);
            drop((attrs, thunk, eval));
            assert!(
                freed.upgrade().is_none(),
                "{source}: its value outlives the evaluator"
            );
        }
    }
}
