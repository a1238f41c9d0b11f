//! Values of the partial evaluator.
//!
//! Everything is reference counted and single threaded: one extraction runs
//! on one thread and hands back the `Send` model.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use rnix::ast;
use rowan::TextRange;

use super::Evaluator;
use crate::model::OptionType;

/// Index of a file in the evaluator's file table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

#[derive(Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    Path(Rc<Path>),
    List(Rc<[Thunk]>),
    Attrs(Rc<Attrs>),
    Lambda(Rc<Lambda>),
    Prim(Rc<PrimApp>),
    /// An option type (`types.*`), kept native so that the extractor can
    /// read its structure; it answers `.description`, `.name` and `//`.
    Type(Rc<TypeVal>),
    /// What cannot be known without a real evaluation (`config`, `pkgs`,
    /// a `throw`, an unsupported builtin...). Operations on it yield it.
    Unknown(Rc<str>),
}

impl Value {
    pub fn unknown(reason: impl Into<Rc<str>>) -> Value {
        Value::Unknown(reason.into())
    }
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Path(_) => "path",
            Value::List(_) => "list",
            Value::Attrs(_) | Value::Type(_) => "set",
            Value::Lambda(_) | Value::Prim(_) => "lambda",
            Value::Unknown(_) => "unknown",
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }
}

/// A lazily evaluated value. Forcing replaces the suspension with its result.
#[derive(Clone)]
pub struct Thunk(pub(super) Rc<RefCell<ThunkState>>);

pub(super) enum ThunkState {
    Pending(ast::Expr, Env),
    Native(Box<dyn FnOnce(&mut Evaluator) -> Value>),
    /// Being forced: reaching it again is infinite recursion. Keeps where
    /// its expression is written, to say so there.
    Blackhole(Option<(FileId, TextRange)>),
    Done(Value),
}

impl Thunk {
    pub fn value(v: Value) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Done(v))))
    }
    pub fn pending(expr: ast::Expr, env: Env) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Pending(expr, env))))
    }
    pub fn native(f: impl FnOnce(&mut Evaluator) -> Value + 'static) -> Thunk {
        Thunk(Rc::new(RefCell::new(ThunkState::Native(Box::new(f)))))
    }
    /// Where the expression of a thunk not yet forced is written.
    pub fn pending_range(&self) -> Option<(FileId, TextRange)> {
        use rowan::ast::AstNode;
        match &*self.0.borrow() {
            ThunkState::Pending(expr, env) => Some((env.file, expr.syntax().text_range())),
            _ => None,
        }
    }

    /// The value, if already computed.
    pub fn peek(&self) -> Option<Value> {
        match &*self.0.borrow() {
            ThunkState::Done(v) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Where an attribute was defined in source: enough to point at it and to
/// show its value's text when the value itself cannot be computed.
pub struct Origin {
    pub file: FileId,
    /// The whole `path = value;` entry.
    pub entry: TextRange,
    /// The value expression and the scope it was written in.
    pub expr: ast::Expr,
    pub env: Env,
}

#[derive(Clone)]
pub struct AttrEntry {
    pub thunk: Thunk,
    pub origin: Option<Rc<Origin>>,
}

#[derive(Default)]
pub struct Attrs {
    pub entries: BTreeMap<Rc<str>, AttrEntry>,
}

impl Attrs {
    pub fn get(&self, name: &str) -> Option<&AttrEntry> {
        self.entries.get(name)
    }
    pub fn from_values(values: impl IntoIterator<Item = (&'static str, Value)>) -> Attrs {
        let mut attrs = Attrs::default();
        for (name, value) in values {
            attrs.insert(name, Thunk::value(value));
        }
        attrs
    }
    pub fn insert(&mut self, name: impl Into<Rc<str>>, thunk: Thunk) {
        self.entries.insert(
            name.into(),
            AttrEntry {
                thunk,
                origin: None,
            },
        );
    }
}

pub struct Lambda {
    pub param: ast::Param,
    pub body: ast::Expr,
    pub env: Env,
}

pub type PrimFn = fn(&mut Evaluator, &[Thunk]) -> Value;

/// A native function, possibly partially applied.
pub struct PrimApp {
    pub name: &'static str,
    pub arity: usize,
    pub func: PrimFn,
    pub args: Vec<Thunk>,
}

/// Lexical scope chain.
pub type Env = Rc<Scope>;

pub struct Scope {
    pub kind: ScopeKind,
    pub parent: Option<Env>,
    pub file: FileId,
}

pub enum ScopeKind {
    Bindings(RefCell<BTreeMap<Rc<str>, Thunk>>),
    With(Thunk),
}

/// An option type value before it is turned into the model's `OptionType`:
/// nested types stay lazy, submodules keep their modules.
pub enum TypeVal {
    Leaf(OptionType),
    Unary(UnaryType, Thunk),
    Either(Thunk, Thunk),
    OneOf(Thunk),
    CoercedTo {
        from: Thunk,
        to: Thunk,
    },
    Submodule(Rc<SubmoduleSpec>),
    /// `mkOptionType { .. }`: name and description.
    Custom {
        name: Thunk,
        description: Option<Thunk>,
        attrs: Rc<Attrs>,
    },
    /// A type with attributes overridden through `//`.
    Overridden {
        base: Rc<TypeVal>,
        overrides: Rc<Attrs>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryType {
    NullOr,
    ListOf,
    NonEmptyListOf,
    AttrsOf,
    LazyAttrsOf,
    AddCheck,
    Uniq,
    FunctionTo,
    DagOf,
}

pub struct SubmoduleSpec {
    pub modules: Vec<Thunk>,
    pub shorthand_only_defines_config: bool,
    pub special_args: Option<Thunk>,
    pub description: Option<Thunk>,
}
