//! What one module defines, as the module system merges it: each
//! definition of an option with its priority and the conditions it is
//! under, plus the few things cross-module checks read (assertions,
//! warnings, `_module.args`, the names an `attrsOf` gets, list items).

use std::sync::Arc;

use micros_options::OptionType;
use micros_options::model::OptionDecl;

use crate::analysis::cond::Cond;
use crate::analysis::lower::{DEFAULT_PRIORITY, EntryId, Form, Key, Literal, Module, Node, NodeId};
use crate::analysis::resolve::{KeyMeaning, Resolution};

/// One definition of an option (or of a name in an `attrsOf`).
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// The concrete path (`users.micros.uid`).
    pub path: Vec<String>,
    pub option: Arc<OptionDecl>,
    /// The type the value is merged with (the element type for a name of
    /// an `attrsOf`).
    pub ty: OptionType,
    pub value: DefValue,
    /// `None`: a priority that is not a literal.
    pub priority: Option<u32>,
    /// All of these must hold for the definition to count.
    pub conditions: Vec<Cond>,
    /// Under `//` or `recursiveUpdate`: it may be overwritten.
    pub uncertain: bool,
    /// The value, and the attribute that names the option.
    pub node: NodeId,
    pub key: EntryId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefValue {
    Literal(Literal),
    /// Known not to be `null`, not comparable here (a set, a list, ...).
    NotNull,
    Unknown,
}

/// `{ assertion = ...; message = "..."; }` in `assertions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub assertion: Cond,
    pub message: String,
    pub conditions: Vec<Cond>,
    pub node: NodeId,
}

/// A literal message in `warnings` (`lib.optional c "..."`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub message: String,
    pub conditions: Vec<Cond>,
    pub node: NodeId,
}

/// The names a definition gives an `attrsOf` option (`None`: not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub path: Vec<String>,
    pub names: Option<Vec<String>>,
    pub conditions: Vec<Cond>,
}

/// The items of a list definition: literal strings, or `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItems {
    pub path: Vec<String>,
    pub items: Vec<(Option<String>, NodeId)>,
    pub conditions: Vec<Cond>,
    /// The list, and the attribute that names the option.
    pub node: NodeId,
    pub key: EntryId,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Collected {
    pub definitions: Vec<Definition>,
    pub assertions: Vec<Assertion>,
    pub warnings: Vec<Warning>,
    /// Names `_module.args` provides, and whether some are not known.
    pub module_args: Vec<String>,
    pub module_args_unknown: bool,
    pub names: Vec<Names>,
    pub lists: Vec<ListItems>,
    /// Paths whose definitions are not known (`micros = f x;`): anything
    /// below them may be defined.
    pub opaque: Vec<Vec<String>>,
}

#[derive(Clone)]
struct Context {
    priority: Option<u32>,
    conditions: Vec<Cond>,
    uncertain: bool,
}

/// Collect what `config` (one module's, or one inline module's) defines.
pub fn collect(module: &Module, resolution: &Resolution, config: Option<NodeId>) -> Collected {
    // A value that does not fit its type is reported as such; what it
    // would merge with does not matter then.
    let ill_typed = resolution
        .diagnostics
        .iter()
        .filter(|d| d.code == crate::analysis::resolve::Code::TypeMismatch)
        .filter_map(|d| match d.anchor {
            crate::analysis::resolve::Anchor::Node(node) => Some(node),
            _ => None,
        })
        .collect();
    let mut collector = Collector {
        module,
        resolution,
        ill_typed,
        out: Collected::default(),
        steps: 0,
    };
    if let Some(config) = config {
        let context = Context {
            priority: Some(DEFAULT_PRIORITY),
            conditions: Vec::new(),
            uncertain: false,
        };
        collector.top(config, context);
    }
    collector.out
}

/// Nodes visited at most: lowering is bounded, this is a backstop.
const MAX_STEPS: u32 = 1_000_000;

struct Collector<'a> {
    module: &'a Module,
    resolution: &'a Resolution,
    ill_typed: std::collections::HashSet<NodeId>,
    out: Collected,
    steps: u32,
}

impl<'a> Collector<'a> {
    fn node(&self, id: NodeId) -> &'a Node {
        let module: &'a Module = self.module;
        &module.nodes[id.0 as usize]
    }

    fn budget(&mut self) -> bool {
        self.steps += 1;
        self.steps <= MAX_STEPS
    }

    /// Look through wrappers and merges, calling `f` on each value with
    /// its context.
    fn each_value(
        &mut self,
        node: NodeId,
        context: Context,
        f: &mut dyn FnMut(&mut Self, NodeId, Context),
    ) {
        if !self.budget() {
            return;
        }
        match self.node(node) {
            Node::Wrapped(inner) => {
                let mut context = context;
                match self.module.forms.get(&node) {
                    Some(Form::If(cond)) => context.conditions.push(cond.clone()),
                    // The module system reads the outermost override.
                    Some(Form::Priority(priority))
                        if context.priority == Some(DEFAULT_PRIORITY) =>
                    {
                        context.priority = *priority;
                    }
                    _ => {}
                }
                self.each_value(*inner, context, f);
            }
            Node::Merge(parts) => match self.module.forms.get(&node) {
                Some(Form::Update) => {
                    for part in parts {
                        let mut context = context.clone();
                        context.uncertain = true;
                        self.each_value(*part, context, f);
                    }
                }
                Some(Form::Choice(cond)) => {
                    let branches = [cond.clone(), Cond::Not(Box::new(cond.clone()))];
                    for (part, branch) in parts.iter().zip(branches) {
                        let mut context = context.clone();
                        context.conditions.push(branch);
                        self.each_value(*part, context, f);
                    }
                }
                _ => {
                    for part in parts {
                        self.each_value(*part, context.clone(), f);
                    }
                }
            },
            _ => f(self, node, context),
        }
    }

    /// The module's top level: options, and the module system's own
    /// `_module.args`, `assertions`, `warnings`.
    fn top(&mut self, config: NodeId, context: Context) {
        self.each_value(config, context, &mut |this, node, context| {
            let Node::Attrs(entries) = this.node(node) else {
                this.out.opaque.push(Vec::new());
                return;
            };
            for entry in entries {
                let Key::Name(name) = &entry.key else {
                    continue;
                };
                match name.as_str() {
                    "_module" => this.module_args(entry.value, context.clone()),
                    "assertions" => this.assertions(entry.value, context.clone()),
                    "warnings" => this.warnings(entry.value, context.clone()),
                    _ => this.entry(entry, &mut vec![name.clone()], context.clone()),
                }
            }
        });
    }

    /// A set at a level of option names (`path` so far).
    fn level(&mut self, node: NodeId, path: &mut Vec<String>, context: Context) {
        self.each_value(node, context, &mut |this, node, context| {
            let Node::Attrs(entries) = this.node(node) else {
                this.out.opaque.push(path.clone());
                return;
            };
            for entry in entries {
                let Key::Name(name) = &entry.key else {
                    continue;
                };
                path.push(name.clone());
                this.entry(entry, path, context.clone());
                path.pop();
            }
        });
    }

    fn entry(
        &mut self,
        entry: &crate::analysis::lower::Entry,
        path: &mut Vec<String>,
        context: Context,
    ) {
        match self.resolution.keys.get(&entry.id) {
            Some(KeyMeaning::Option(option)) => {
                let option = option.clone();
                let ty = option.ty.clone();
                self.option_value(entry.value, entry.id, path, &option, &ty, context);
            }
            Some(KeyMeaning::Prefix(_) | KeyMeaning::Name(_)) => {
                self.level(entry.value, path, context)
            }
            None => {}
        }
    }

    fn option_value(
        &mut self,
        node: NodeId,
        key: EntryId,
        path: &mut Vec<String>,
        option: &Arc<OptionDecl>,
        ty: &OptionType,
        context: Context,
    ) {
        self.each_value(node, context, &mut |this, node, context| {
            this.one_definition(node, key, path, option, ty, context);
        });
    }

    fn one_definition(
        &mut self,
        node: NodeId,
        key: EntryId,
        path: &mut Vec<String>,
        option: &Arc<OptionDecl>,
        ty: &OptionType,
        context: Context,
    ) {
        use OptionType as T;
        let value = self.node(node);
        match strip_checks(ty) {
            T::Submodule(_) => {
                if let Node::Attrs(entries) = value {
                    for entry in entries {
                        let Key::Name(name) = &entry.key else {
                            continue;
                        };
                        path.push(name.clone());
                        self.entry(entry, path, context.clone());
                        path.pop();
                    }
                }
            }
            T::AttrsOf(inner) | T::LazyAttrsOf(inner) => {
                let names = match value {
                    Node::Attrs(entries) => entries
                        .iter()
                        .map(|e| match &e.key {
                            Key::Name(name) => Some(name.clone()),
                            Key::Dynamic => None,
                        })
                        .collect::<Option<Vec<String>>>(),
                    _ => None,
                };
                self.out.names.push(Names {
                    path: path.clone(),
                    names,
                    conditions: context.conditions.clone(),
                });
                if let Node::Attrs(entries) = value {
                    let inner = (**inner).clone();
                    for entry in entries {
                        let Key::Name(name) = &entry.key else {
                            continue;
                        };
                        path.push(name.clone());
                        self.option_value(
                            entry.value,
                            entry.id,
                            path,
                            option,
                            &inner,
                            context.clone(),
                        );
                        path.pop();
                    }
                }
            }
            T::ListOf(_) | T::NonEmptyListOf(_) => {
                if let Node::List(items) = value {
                    let items = items
                        .iter()
                        .map(|item| match self.node(*item) {
                            Node::Literal(Literal::Str(s)) => (Some(s.clone()), *item),
                            _ => (None, *item),
                        })
                        .collect();
                    self.out.lists.push(ListItems {
                        path: path.clone(),
                        items,
                        conditions: context.conditions.clone(),
                        node,
                        key,
                    });
                }
            }
            _ => {
                let value = match value {
                    _ if self.ill_typed.contains(&node) => DefValue::Unknown,
                    Node::Literal(Literal::StrInterpolated { .. } | Literal::Path) => {
                        DefValue::NotNull
                    }
                    Node::Literal(literal) => DefValue::Literal(literal.clone()),
                    Node::Attrs(_) | Node::List(_) | Node::Lambda => DefValue::NotNull,
                    _ => DefValue::Unknown,
                };
                self.out.definitions.push(Definition {
                    path: path.clone(),
                    option: option.clone(),
                    ty: ty.clone(),
                    value,
                    priority: context.priority,
                    conditions: context.conditions,
                    uncertain: context.uncertain,
                    node,
                    key,
                });
            }
        }
    }

    fn module_args(&mut self, node: NodeId, context: Context) {
        self.each_value(node, context, &mut |this, node, context| {
            let Node::Attrs(entries) = this.node(node) else {
                this.out.module_args_unknown = true;
                return;
            };
            for entry in entries {
                if entry.key != Key::Name("args".into()) {
                    continue;
                }
                this.each_value(
                    entry.value,
                    context.clone(),
                    &mut |this, node, _| match this.node(node) {
                        Node::Attrs(args) => {
                            for arg in args {
                                match &arg.key {
                                    Key::Name(name) => this.out.module_args.push(name.clone()),
                                    Key::Dynamic => this.out.module_args_unknown = true,
                                }
                            }
                        }
                        _ => this.out.module_args_unknown = true,
                    },
                );
            }
        });
    }

    fn assertions(&mut self, node: NodeId, context: Context) {
        self.each_value(node, context, &mut |this, node, context| {
            let Node::List(items) = this.node(node) else {
                return;
            };
            for item in items {
                this.each_value(*item, context.clone(), &mut |this, item, context| {
                    let Node::Attrs(fields) = this.node(item) else {
                        return;
                    };
                    let field = |name: &str| {
                        fields
                            .iter()
                            .find(|e| e.key == Key::Name(name.into()))
                            .map(|e| e.value)
                    };
                    let (Some(assertion), Some(message)) = (field("assertion"), field("message"))
                    else {
                        return;
                    };
                    let Node::Literal(Literal::Str(message)) = this.node(message) else {
                        return;
                    };
                    let Some(cond) = this.module.conditions.get(&assertion) else {
                        return;
                    };
                    this.out.assertions.push(Assertion {
                        assertion: cond.clone(),
                        message: message.clone(),
                        conditions: context.conditions,
                        node: item,
                    });
                });
            }
        });
    }

    fn warnings(&mut self, node: NodeId, context: Context) {
        self.each_value(node, context, &mut |this, node, context| {
            let Node::List(items) = this.node(node) else {
                return;
            };
            for item in items {
                if let Node::Literal(Literal::Str(message)) = this.node(*item) {
                    this.out.warnings.push(Warning {
                        message: message.clone(),
                        conditions: context.conditions.clone(),
                        node: *item,
                    });
                }
            }
        });
    }
}

/// The type that decides merging: checks added with `addCheck` do not
/// change it (a custom type may merge its own way, and stays as it is).
pub fn strip_checks(ty: &OptionType) -> &OptionType {
    match ty {
        OptionType::AddCheck(inner) => strip_checks(inner),
        other => other,
    }
}
