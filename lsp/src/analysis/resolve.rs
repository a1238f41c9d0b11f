//! Resolving a module's definitions against the option set: which option
//! each attribute names, and what does not fit.
//!
//! A value whose kind cannot be decided statically is never reported: no
//! false positives on valid configurations.

use std::collections::HashMap;
use std::sync::Arc;

use micros_options::OptionType;
use micros_options::model::{EnumValue, OptionDecl, show_option};

use crate::analysis::lower::{EntryId, Key, Literal, Module, Node, NodeId};
use crate::analysis::options::{OptionIndex, Trie, closest, migration_message};

/// Stable diagnostic codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    SyntaxError,
    UnknownOption,
    TypeMismatch,
    DuplicateDefinition,
    RemovedOption,
    RenamedOption,
    ReadOnlyOption,
    UndefinedVariable,
    UnusedBinding,
    MissingSources,
    FlakeNotUnderstood,
    UnusedWith,
    NeedlessRec,
    EmptyLet,
    EmptyInherit,
    DuplicateFormal,
    UriLiteral,
    InfiniteRecursion,
    ImportCycle,
    MissingImport,
    ConflictingDefinitions,
    MissingModuleArgument,
    AssertionFailed,
    ModuleWarning,
    UnknownService,
    PlaintextPassword,
    UntrackedFile,
    UnknownPackage,
    UnknownPlatform,
    ContainerHardware,
    ContainerOutput,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::SyntaxError => "syntax-error",
            Code::UnknownOption => "unknown-option",
            Code::TypeMismatch => "type-mismatch",
            Code::DuplicateDefinition => "duplicate-definition",
            Code::RemovedOption => "removed-option",
            Code::RenamedOption => "renamed-option",
            Code::ReadOnlyOption => "read-only-option",
            Code::UndefinedVariable => "undefined-variable",
            Code::UnusedBinding => "unused-binding",
            Code::MissingSources => "missing-sources",
            Code::FlakeNotUnderstood => "flake-not-understood",
            Code::UnusedWith => "unused-with",
            Code::NeedlessRec => "needless-rec",
            Code::EmptyLet => "empty-let",
            Code::EmptyInherit => "empty-inherit",
            Code::DuplicateFormal => "duplicate-formal",
            Code::UriLiteral => "uri-literal",
            Code::UnknownPackage => "unknown-package",
            Code::InfiniteRecursion => "infinite-recursion",
            Code::ImportCycle => "import-cycle",
            Code::MissingImport => "missing-import",
            Code::ConflictingDefinitions => "conflicting-definitions",
            Code::MissingModuleArgument => "missing-module-argument",
            Code::AssertionFailed => "assertion-failed",
            Code::ModuleWarning => "module-warning",
            Code::UnknownService => "unknown-service",
            Code::PlaintextPassword => "plaintext-password",
            Code::UntrackedFile => "untracked-file",
            Code::UnknownPlatform => "unknown-platform",
            Code::ContainerHardware => "container-hardware",
            Code::ContainerOutput => "container-output",
        }
    }

    pub fn is_warning(self) -> bool {
        matches!(
            self,
            Code::UnusedBinding
                | Code::RenamedOption
                | Code::MissingSources
                | Code::FlakeNotUnderstood
                | Code::UnusedWith
                | Code::NeedlessRec
                | Code::EmptyLet
                | Code::EmptyInherit
                | Code::UriLiteral
                | Code::ImportCycle
                | Code::ModuleWarning
                | Code::UnknownService
                | Code::PlaintextPassword
                | Code::UntrackedFile
                | Code::ContainerHardware
                | Code::ContainerOutput
        )
    }

    /// Findings about Nix itself, which any Nix language server makes
    /// (syntax, names, nil's lints), as opposed to those about options.
    pub fn is_generic(self) -> bool {
        matches!(
            self,
            Code::SyntaxError
                | Code::UndefinedVariable
                | Code::UnusedBinding
                | Code::DuplicateDefinition
                | Code::UnusedWith
                | Code::NeedlessRec
                | Code::EmptyLet
                | Code::EmptyInherit
                | Code::DuplicateFormal
                | Code::UriLiteral
        )
    }
}

/// Where a semantic diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// An attribute-path segment.
    Key(EntryId),
    /// A value.
    Node(NodeId),
    /// From the start of an entry's attribute path to the end of this key:
    /// the text a rename replaces.
    PathThrough(EntryId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemanticDiagnostic {
    pub code: Code,
    pub anchor: Anchor,
    pub message: String,
    pub help: Option<String>,
    pub fix: Option<FixKind>,
}

/// How a diagnostic can be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixKind {
    /// Replace the anchor's text.
    Replace(String),
    /// Rewrite an option path: the anchor covers the tail of `from`
    /// written in this entry.
    Rename { from: Vec<String>, to: Vec<String> },
}

/// The option scope of a set in the module: what its attributes name.
#[derive(Debug, Clone, PartialEq)]
pub enum SetScope {
    /// Options below this loc of the top-level set.
    Tree(Vec<String>),
    /// The options of a submodule, at this loc.
    Submodule(Arc<micros_options::model::Submodule>, Vec<String>),
}

/// What an attribute-path segment names.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMeaning {
    Option(Arc<OptionDecl>),
    /// A prefix of options (`services` in `services.getty.enable`).
    Prefix(Vec<String>),
    /// A name in an `attrsOf`, the `<name>` of its loc.
    Name(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    pub diagnostics: Vec<SemanticDiagnostic>,
    pub keys: HashMap<EntryId, KeyMeaning>,
    /// The option scope of each set that was walked (for completion).
    pub sets: HashMap<NodeId, SetScope>,
    /// The option each value node defines (for value completion).
    pub values: HashMap<NodeId, Arc<OptionDecl>>,
}

pub fn resolve(module: &Module, index: &OptionIndex) -> Resolution {
    let mut resolver = Resolver {
        probing: 0,
        submodule: None,
        module,
        index,
        out: Resolution::default(),
        regexes: HashMap::new(),
    };
    for (first, again) in &module.duplicates {
        let _ = first;
        resolver.out.diagnostics.push(SemanticDiagnostic {
            code: Code::DuplicateDefinition,
            anchor: Anchor::Key(*again),
            message: "this attribute is already defined in this set".into(),
            help: Some("Nix rejects a set that defines the same attribute twice; merge the two definitions".into()),
            fix: None,
        });
    }
    // Without an option set (sources not found) nothing can be judged
    // unknown; that was said once, elsewhere.
    if let Some(config) = module.config
        && !index.root.children.is_empty()
    {
        resolver.walk(config, &index.root, &mut Vec::new(), None);
    }
    resolver.out
}

struct Resolver<'a> {
    /// Inside a quiet trial of an `either` alternative: record nothing.
    probing: u32,
    /// The submodule being walked, if any.
    submodule: Option<Arc<micros_options::model::Submodule>>,
    module: &'a Module,
    index: &'a OptionIndex,
    out: Resolution,
    regexes: HashMap<String, Option<regex::Regex>>,
}

/// Whether a value fits a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    No,
}

impl<'a> Resolver<'a> {
    /// The node, borrowed from the module (not from the resolver).
    fn node(&self, id: NodeId) -> &'a Node {
        let module: &'a Module = self.module;
        &module.nodes[id.0 as usize]
    }

    fn diagnostic(
        &mut self,
        code: Code,
        anchor: Anchor,
        message: String,
        help: Option<String>,
        fix: Option<FixKind>,
    ) {
        self.out.diagnostics.push(SemanticDiagnostic {
            code,
            anchor,
            message,
            help,
            fix,
        });
    }

    fn record_key(&mut self, id: EntryId, meaning: KeyMeaning) {
        if self.probing == 0 {
            self.out.keys.insert(id, meaning);
        }
    }

    fn record_value(&mut self, node: NodeId, option: Arc<OptionDecl>) {
        if self.probing == 0 {
            self.out.values.insert(node, option);
        }
    }

    fn record_set(&mut self, node: NodeId, scope: SetScope) {
        if self.probing == 0 {
            self.out.sets.entry(node).or_insert(scope);
        }
    }

    /// Definitions at a level of option names.
    fn walk(
        &mut self,
        node: NodeId,
        trie: &Trie,
        path: &mut Vec<String>,
        freeform: Option<&OptionType>,
    ) {
        match self.node(node) {
            Node::Attrs(entries) => {
                let scope = match &self.submodule {
                    Some(sub) => SetScope::Submodule(sub.clone(), trie.loc.clone()),
                    None => SetScope::Tree(trie.loc.clone()),
                };
                self.record_set(node, scope);
                for entry in entries {
                    let Key::Name(name) = &entry.key else {
                        continue;
                    };
                    path.push(name.clone());
                    self.walk_entry(entry, name, trie, path, freeform);
                    path.pop();
                }
            }
            Node::Wrapped(inner) => self.walk(*inner, trie, path, freeform),
            Node::Merge(parts) => {
                for &part in parts {
                    self.walk(part, trie, path, freeform);
                }
            }
            Node::Unknown | Node::Lambda => {}
            Node::List(_) | Node::Literal(_) => {
                if !path.is_empty() {
                    let found = self.describe(node);
                    self.diagnostic(
                        Code::TypeMismatch,
                        Anchor::Node(node),
                        format!(
                            "`{}` holds options; it is set to {found}, not a set",
                            show_option(path)
                        ),
                        None,
                        None,
                    );
                }
            }
        }
    }

    fn walk_entry(
        &mut self,
        entry: &crate::analysis::lower::Entry,
        name: &str,
        trie: &Trie,
        path: &mut Vec<String>,
        freeform: Option<&OptionType>,
    ) {
        if let Some(migration) = self.index.migration(path).cloned() {
            let (message, to) = migration_message(&migration);
            let code = match to {
                Some(_) => Code::RenamedOption,
                None => Code::RemovedOption,
            };
            let fix = to.as_ref().map(|to| FixKind::Rename {
                from: path.clone(),
                to: to.clone(),
            });
            let help = to
                .as_ref()
                .map(|to| format!("use `{}` instead", show_option(to)));
            self.diagnostic(code, Anchor::PathThrough(entry.id), message, help, fix);
            if let Some(to) = to
                && let Some(option) = self.option_at(&to).cloned()
            {
                self.record_key(entry.id, KeyMeaning::Option(option.clone()));
                let ty = option.ty.clone();
                self.check(entry.value, &ty, path);
            }
            return;
        }
        match trie.children.get(name) {
            Some(child) => match &child.option {
                Some(option) => {
                    self.record_key(entry.id, KeyMeaning::Option(option.clone()));
                    self.record_value(entry.value, option.clone());
                    if option.read_only {
                        self.diagnostic(
                            Code::ReadOnlyOption,
                            Anchor::Key(entry.id),
                            format!(
                                "`{}` is read-only: it is set by the module that declares it",
                                option.name()
                            ),
                            None,
                            None,
                        );
                    }
                    let ty = option.ty.clone();
                    self.check(entry.value, &ty, path);
                }
                None => {
                    self.record_key(entry.id, KeyMeaning::Prefix(child.loc.clone()));
                    self.walk(entry.value, child, path, None);
                }
            },
            None => {
                if let Some(freeform) = freeform {
                    // The freeform type types the set of all unmatched
                    // definitions; each one is a member of it.
                    if let OptionType::AttrsOf(member) | OptionType::LazyAttrsOf(member) = freeform
                    {
                        let member = (**member).clone();
                        self.check(entry.value, &member, path);
                    }
                } else if name == "_module" || self.index.owned_by_missing_nixpkgs(path) {
                    // The module system's own options, or options nixpkgs
                    // would declare: not ours to judge.
                } else if !self.index.has_micros && self.submodule.is_none() {
                    // Only the user's own options are known (micros's
                    // sources were not found): any other name may be
                    // one of micros's. Inside a submodule the user
                    // declared, all of its options are known.
                } else {
                    self.unknown_option(entry.id, name, trie, path);
                }
            }
        }
    }

    fn unknown_option(&mut self, id: EntryId, name: &str, trie: &Trie, path: &[String]) {
        let suggestion =
            closest(name, trie.children.keys().map(String::as_str)).map(str::to_string);
        let full = show_option(path);
        let mut help = match &suggestion {
            Some(s) => {
                let mut suggested = path.to_vec();
                *suggested.last_mut().expect("path has the key") = s.clone();
                Some(format!("did you mean `{}`?", show_option(&suggested)))
            }
            None => None,
        };
        if help.is_none() {
            // The closest declared paths anywhere.
            let typed = full.to_lowercase();
            let mut candidates: Vec<(usize, String)> = self
                .index
                .root
                .options()
                .iter()
                .map(|o| o.name())
                .map(|n| {
                    (
                        crate::analysis::options::edit_distance(&typed, &n.to_lowercase()),
                        n,
                    )
                })
                .filter(|(d, n)| *d <= (n.len() / 3).max(2))
                .collect();
            candidates.sort();
            candidates.truncate(3);
            if !candidates.is_empty() {
                let names: Vec<String> = candidates
                    .into_iter()
                    .map(|(_, n)| format!("`{n}`"))
                    .collect();
                help = Some(format!(
                    "the closest declared options are {}",
                    names.join(", ")
                ));
            }
        }
        self.diagnostic(
            Code::UnknownOption,
            Anchor::Key(id),
            format!("the option `{full}` does not exist"),
            help,
            suggestion.map(FixKind::Replace),
        );
    }

    fn option_at(&self, path: &[String]) -> Option<&Arc<OptionDecl>> {
        let mut trie = &self.index.root;
        for segment in path {
            trie = trie.children.get(segment)?;
        }
        trie.option.as_ref()
    }

    /// Check a definition against its option's type, reporting what
    /// definitely does not fit.
    fn check(&mut self, node: NodeId, ty: &OptionType, path: &mut Vec<String>) -> Fit {
        match self.node(node) {
            Node::Wrapped(inner) => return self.check(*inner, ty, path),
            Node::Merge(parts) => {
                let mut fit = Fit::Yes;
                for part in parts {
                    if self.check(*part, ty, path) == Fit::No {
                        fit = Fit::No;
                    }
                }
                return fit;
            }
            Node::Unknown => return Fit::Yes,
            _ => {}
        }
        match self.fits(node, ty, path) {
            Ok(fit) => fit,
            Err(problem) => {
                let message = match problem {
                    Problem::Kind => format!(
                        "`{}` is {}, but its type is {}",
                        show_option(path),
                        self.describe(node),
                        ty.description()
                    ),
                    Problem::Detail(detail) => detail,
                };
                let (help, fix) = match self.enum_help(node, ty) {
                    Some((help, fix)) => (Some(help), Some(fix)),
                    None => (None, None),
                };
                let fix = fix.map(FixKind::Replace);
                self.diagnostic(Code::TypeMismatch, Anchor::Node(node), message, help, fix);
                Fit::No
            }
        }
    }

    fn enum_help(&self, node: NodeId, ty: &OptionType) -> Option<(String, String)> {
        let Node::Literal(Literal::Str(s)) = self.node(node) else {
            return None;
        };
        let values = enum_values(ty)?;
        let strings: Vec<&str> = values
            .iter()
            .filter_map(|v| match v {
                EnumValue::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        closest(s, strings).map(|c| (format!("did you mean \"{c}\"?"), format!("\"{c}\"")))
    }

    /// Whether `node` (a concrete value) fits `ty`. `Err` says what is
    /// wrong; `Ok(Yes)` covers "fits" and "cannot tell".
    fn fits(
        &mut self,
        node: NodeId,
        ty: &OptionType,
        path: &mut Vec<String>,
    ) -> Result<Fit, Problem> {
        use OptionType as T;
        let value = self.node(node);
        if matches!(value, Node::Unknown) {
            return Ok(Fit::Yes);
        }
        if let Node::Wrapped(inner) = value {
            return self.fits(*inner, ty, path);
        }
        if let Node::Merge(_) = value {
            return Ok(self.check(node, ty, path));
        }
        match ty {
            T::Unspecified | T::Anything | T::Raw | T::OptionTypeType | T::Unknown(_) => {
                Ok(Fit::Yes)
            }
            T::Custom {
                base: Some(base), ..
            } => self.fits(node, base, path),
            T::Custom { base: None, .. } => Ok(Fit::Yes),
            T::Bool => kind(matches!(value, Node::Literal(Literal::Bool(_)))),
            T::Int(int) => match value {
                Node::Literal(Literal::Int(i)) if int.contains(*i) => Ok(Fit::Yes),
                Node::Literal(Literal::Int(i)) => Err(Problem::Detail(format!(
                    "{i} is out of range for `{}`: {}",
                    show_option(path),
                    int.description()
                ))),
                _ => Err(Problem::Kind),
            },
            T::Float => kind(matches!(value, Node::Literal(Literal::Float(_)))),
            T::Number { min, max, .. } => match value {
                Node::Literal(Literal::Int(i)) => number_in(*i as f64, *min, *max, path, ty),
                Node::Literal(Literal::Float(f)) => number_in(*f, *min, *max, path, ty),
                _ => Err(Problem::Kind),
            },
            T::Str | T::SeparatedString(_) | T::StrRefined { .. } => match value {
                Node::Literal(Literal::Str(s)) => self.refined(s, ty, path),
                Node::Literal(Literal::StrInterpolated { .. }) => Ok(Fit::Yes),
                _ => Err(Problem::Kind),
            },
            T::StrMatching(pattern) => match value {
                Node::Literal(Literal::Str(s)) => {
                    if self.matches(pattern, s) == Some(false) {
                        Err(Problem::Detail(format!(
                            "\"{s}\" does not match the pattern of `{}`: {pattern}",
                            show_option(path)
                        )))
                    } else {
                        Ok(Fit::Yes)
                    }
                }
                Node::Literal(Literal::StrInterpolated { .. }) => Ok(Fit::Yes),
                _ => Err(Problem::Kind),
            },
            T::Enum(values) => match &value {
                Node::Literal(literal) => {
                    let member = match literal {
                        Literal::Str(s) => Some(EnumValue::Str(s.clone())),
                        Literal::Int(i) => Some(EnumValue::Int(*i)),
                        Literal::Bool(b) => Some(EnumValue::Bool(*b)),
                        Literal::StrInterpolated { .. } => None,
                        _ => Some(EnumValue::Other(String::new())),
                    };
                    match member {
                        None => Ok(Fit::Yes),
                        Some(m) if values.contains(&m) => Ok(Fit::Yes),
                        Some(_) if values.iter().any(|v| matches!(v, EnumValue::Other(_))) => {
                            Ok(Fit::Yes)
                        }
                        Some(_) => Err(Problem::Detail(format!(
                            "{} is not a valid value of `{}`: expected {}",
                            self.describe_literal(literal),
                            show_option(path),
                            ty.description()
                        ))),
                    }
                }
                _ => Err(Problem::Kind),
            },
            T::Path | T::PathInStore => match &value {
                Node::Literal(Literal::Path) => Ok(Fit::Yes),
                Node::Literal(Literal::Str(s)) if s.starts_with('/') => Ok(Fit::Yes),
                Node::Literal(Literal::StrInterpolated { prefix })
                    if prefix.is_empty() || prefix.starts_with('/') =>
                {
                    Ok(Fit::Yes)
                }
                Node::Literal(Literal::Str(_) | Literal::StrInterpolated { .. }) => {
                    Err(Problem::Detail(format!(
                        "`{}` must be an absolute path, and this string does not start with `/`",
                        show_option(path)
                    )))
                }
                _ => Err(Problem::Kind),
            },
            // Derivations come from `pkgs`, which is unknown here; only
            // values that can never be a package are reported.
            T::Package | T::ShellPackage => match value {
                Node::Literal(
                    Literal::Bool(_) | Literal::Int(_) | Literal::Float(_) | Literal::Null,
                )
                | Node::List(_)
                | Node::Lambda => Err(Problem::Kind),
                _ => Ok(Fit::Yes),
            },
            T::NullOr(inner) => match value {
                Node::Literal(Literal::Null) => Ok(Fit::Yes),
                _ => self.fits(node, inner, path),
            },
            T::ListOf(inner) | T::NonEmptyListOf(inner) => match value {
                Node::List(items) => {
                    if items.is_empty() && matches!(ty, T::NonEmptyListOf(_)) {
                        return Err(Problem::Detail(format!(
                            "`{}` must not be an empty list",
                            show_option(path)
                        )));
                    }
                    path.push("*".into());
                    let mut fit = Fit::Yes;
                    for item in items {
                        if self.check(*item, inner, path) == Fit::No {
                            fit = Fit::No;
                        }
                    }
                    path.pop();
                    Ok(fit)
                }
                _ => Err(Problem::Kind),
            },
            T::AttrsOf(inner) | T::LazyAttrsOf(inner) | T::DagOf(inner) => match value {
                Node::Attrs(entries) => {
                    let mut fit = Fit::Yes;
                    for entry in entries {
                        let Key::Name(name) = &entry.key else {
                            continue;
                        };
                        let mut loc = path.to_vec();
                        loc.push("<name>".into());
                        self.record_key(entry.id, KeyMeaning::Name(loc));
                        path.push(name.clone());
                        // A DAG entry made with `lib.dag.entry*` is unknown here.
                        if self.check(entry.value, inner, path) == Fit::No {
                            fit = Fit::No;
                        }
                        path.pop();
                    }
                    Ok(fit)
                }
                _ => Err(Problem::Kind),
            },
            T::Attrs => kind(matches!(value, Node::Attrs(_))),
            T::Submodule(submodule) => match value {
                Node::Attrs(_) => {
                    let index = self.index;
                    let Some(trie) = index.submodule(submodule) else {
                        return Ok(Fit::Yes);
                    };
                    let before = self.out.diagnostics.len();
                    let config = self.submodule_config(node, trie);
                    let outer = self.submodule.replace(submodule.clone());
                    self.walk(config, trie, path, submodule.freeform.as_ref());
                    self.submodule = outer;
                    Ok(if self.out.diagnostics.len() > before {
                        Fit::No
                    } else {
                        Fit::Yes
                    })
                }
                // A module function or a module file.
                Node::Lambda | Node::Literal(Literal::Path) => Ok(Fit::Yes),
                _ => Err(Problem::Kind),
            },
            T::Either(left, right) => self.fits_any(node, &[left.as_ref(), right.as_ref()], path),
            T::OneOf(members) => {
                let members: Vec<&OptionType> = members.iter().collect();
                self.fits_any(node, &members, path)
            }
            T::CoercedTo { from, to } => self.fits_any(node, &[to.as_ref(), from.as_ref()], path),
            T::AddCheck(inner) | T::Uniq(inner) => self.fits(node, inner, path),
            T::FunctionTo(_) | T::Function => kind(matches!(value, Node::Lambda)),
        }
    }

    /// Try each alternative quietly; report only when none fits.
    fn fits_any(
        &mut self,
        node: NodeId,
        alternatives: &[&OptionType],
        path: &mut Vec<String>,
    ) -> Result<Fit, Problem> {
        for ty in alternatives {
            let before = self.out.diagnostics.len();
            self.probing += 1;
            let result = self.fits(node, ty, path);
            self.probing -= 1;
            let quiet = self.out.diagnostics.len() == before;
            self.out.diagnostics.truncate(before);
            if matches!(result, Ok(Fit::Yes)) && quiet {
                if self.probing == 0 {
                    // Again, for real: what the keys name is recorded now.
                    let _ = self.fits(node, ty, path);
                }
                return Ok(Fit::Yes);
            }
        }
        // A set checked against a submodule alternative: its own findings
        // say more than "not of this type".
        if let Node::Attrs(_) = self.node(node)
            && let Some(sub) = alternatives
                .iter()
                .find(|t| matches!(t, OptionType::Submodule(_)))
        {
            let sub = (*sub).clone();
            return self.fits(node, &sub, path);
        }
        Err(Problem::Kind)
    }

    /// A submodule definition may itself be a structured module.
    fn submodule_config(&self, node: NodeId, trie: &Trie) -> NodeId {
        if let Node::Attrs(entries) = self.node(node) {
            let has = |name: &str| entries.iter().any(|e| e.key == Key::Name(name.into()));
            if has("config")
                && !trie.children.contains_key("config")
                && let Some(config) = entries.iter().find(|e| e.key == Key::Name("config".into()))
            {
                return config.value;
            }
        }
        node
    }

    fn refined(&mut self, s: &str, ty: &OptionType, path: &[String]) -> Result<Fit, Problem> {
        use micros_options::model::StrRefinement;
        match ty {
            OptionType::StrRefined {
                kind: StrRefinement::NonEmpty,
            } if s.trim().is_empty() => Err(Problem::Detail(format!(
                "`{}` must not be empty",
                show_option(path)
            ))),
            OptionType::StrRefined {
                kind: StrRefinement::SingleLine,
            } if s.trim_end_matches('\n').contains('\n') => Err(Problem::Detail(format!(
                "`{}` must be a single line",
                show_option(path)
            ))),
            OptionType::StrRefined {
                kind: StrRefinement::PasswdEntry,
            } if s.contains(':') || s.contains('\n') => Err(Problem::Detail(format!(
                "`{}` must not contain colons or newlines",
                show_option(path)
            ))),
            _ => Ok(Fit::Yes),
        }
    }

    /// `builtins.match` semantics: the whole string, POSIX extended regex.
    /// `None` when the pattern is beyond what we can evaluate faithfully.
    fn matches(&mut self, pattern: &str, s: &str) -> Option<bool> {
        let regex = self
            .regexes
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok())
            .as_ref()?;
        Some(regex.is_match(s))
    }

    fn describe(&self, node: NodeId) -> String {
        match self.node(node) {
            Node::Attrs(_) => "a set".into(),
            Node::List(_) => "a list".into(),
            Node::Lambda => "a function".into(),
            Node::Literal(literal) => self.describe_literal(literal),
            Node::Wrapped(inner) => self.describe(*inner),
            Node::Merge(_) | Node::Unknown => "a value".into(),
        }
    }

    fn describe_literal(&self, literal: &Literal) -> String {
        match literal {
            Literal::Null => "null".into(),
            Literal::Bool(b) => format!("the boolean {b}"),
            Literal::Int(i) => format!("the integer {i}"),
            Literal::Float(f) => format!("the float {f}"),
            Literal::Str(s) if s.len() <= 40 && !s.contains('\n') => format!("the string \"{s}\""),
            Literal::Str(_) | Literal::StrInterpolated { .. } => "a string".into(),
            Literal::Path => "a path".into(),
        }
    }
}

enum Problem {
    /// The value is of the wrong kind altogether.
    Kind,
    Detail(String),
}

fn kind(ok: bool) -> Result<Fit, Problem> {
    if ok { Ok(Fit::Yes) } else { Err(Problem::Kind) }
}

fn number_in(
    v: f64,
    min: Option<f64>,
    max: Option<f64>,
    path: &[String],
    ty: &OptionType,
) -> Result<Fit, Problem> {
    if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
        Err(Problem::Detail(format!(
            "{v} is out of range for `{}`: {}",
            show_option(path),
            ty.description()
        )))
    } else {
        Ok(Fit::Yes)
    }
}

fn enum_values(ty: &OptionType) -> Option<&Vec<EnumValue>> {
    match ty {
        OptionType::Enum(values) => Some(values),
        OptionType::NullOr(t) | OptionType::AddCheck(t) | OptionType::Uniq(t) => enum_values(t),
        OptionType::Either(a, b) => enum_values(a).or_else(|| enum_values(b)),
        _ => None,
    }
}
