//! Turning evaluator type values into the model's `OptionType`.
//!
//! A type value can contain itself (`self = attrsOf self`: the thunk inside
//! gives back the very value being converted) or be built by a function
//! without end (`t = n: attrsOf (t n)`). Conversion therefore remembers the
//! type values it is inside of and stops at the first repeat, and nests at
//! most [`MAX_TYPE_DEPTH`] levels; either becomes one `infinite-recursion`
//! diagnostic and an `Unknown` type at that point, which accepts any value.

use std::rc::Rc;
use std::sync::Arc;

use rowan::TextRange;
use rowan::ast::AstNode;

use super::value::*;
use super::{Evaluator, coerce_to_string};
use crate::model::{OptionType, Submodule};

/// Type constructors nest at most this deep (micros's deepest is 4).
pub const MAX_TYPE_DEPTH: usize = 64;

/// How submodules are resolved while converting a type: `None` when the
/// submodule cannot be resolved (it contains itself; reported already).
pub type SubmoduleResolver<'a> =
    dyn FnMut(&mut Evaluator, &Rc<SubmoduleSpec>) -> Result<Arc<Submodule>, String> + 'a;

/// The source text of a thunk not yet forced, for `Unknown` types.
pub(super) fn pending_source(thunk: &Thunk) -> Option<String> {
    match &*thunk.0.borrow() {
        ThunkState::Pending(expr, _) => Some(expr.syntax().to_string()),
        _ => None,
    }
}

/// One conversion: the type values it is inside of, and where it was last
/// in the source (for the diagnostic of a cycle).
struct Conversion<'r, 'a> {
    resolve: &'r mut SubmoduleResolver<'a>,
    inside: Vec<*const TypeVal>,
    site: Option<(FileId, TextRange)>,
}

/// Force `thunk` and convert it to an option type; `site` is where the
/// type is written, for a cycle met where the source says nothing nearer.
pub fn thunk_option_type(
    eval: &mut Evaluator,
    thunk: &Thunk,
    site: Option<(FileId, TextRange)>,
    resolve: &mut SubmoduleResolver<'_>,
) -> OptionType {
    let mut conversion = Conversion {
        resolve,
        inside: Vec::new(),
        site,
    };
    conversion.thunk(eval, thunk)
}

pub fn option_type(
    eval: &mut Evaluator,
    t: &Rc<TypeVal>,
    resolve: &mut SubmoduleResolver<'_>,
) -> OptionType {
    let mut conversion = Conversion {
        resolve,
        inside: Vec::new(),
        site: None,
    };
    conversion.type_val(eval, t)
}

impl Conversion<'_, '_> {
    fn thunk(&mut self, eval: &mut Evaluator, thunk: &Thunk) -> OptionType {
        let source = pending_source(thunk);
        let outer_site = self.site;
        if let Some(site) = thunk.pending_range() {
            self.site = Some(site);
        }
        let ty =
            match eval.force(thunk) {
                Value::Type(t) => self.type_val(eval, &t),
                Value::Unknown(reason) => {
                    OptionType::Unknown(source.unwrap_or_else(|| reason.to_string()))
                }
                other => OptionType::Unknown(source.unwrap_or_else(|| {
                    format!("a {} where a type was expected", other.type_name())
                })),
            };
        self.site = outer_site;
        ty
    }

    /// The cycle or runaway nesting stops here, with one diagnostic.
    fn recursion(&mut self, eval: &mut Evaluator, message: &str) -> OptionType {
        if let Some((file, range)) = self.site {
            eval.report_recursion(file, range, message);
        }
        OptionType::Unknown("infinite recursion".into())
    }

    fn type_val(&mut self, eval: &mut Evaluator, t: &Rc<TypeVal>) -> OptionType {
        let key = Rc::as_ptr(t);
        if self.inside.contains(&key) {
            return self.recursion(
                eval,
                "infinite recursion encountered: this type contains itself",
            );
        }
        if self.inside.len() >= MAX_TYPE_DEPTH {
            return self.recursion(
                eval,
                &format!(
                    "infinite recursion encountered: this type nests deeper than {MAX_TYPE_DEPTH} levels"
                ),
            );
        }
        // Every node costs a step: a function that builds ever new types
        // in several branches is bounded by the option's budget.
        if !eval.spend(1) {
            return OptionType::Unknown("evaluation budget exhausted".into());
        }
        self.inside.push(key);
        let ty = self.type_val_inner(eval, t);
        self.inside.pop();
        ty
    }

    fn type_val_inner(&mut self, eval: &mut Evaluator, t: &Rc<TypeVal>) -> OptionType {
        match &**t {
            TypeVal::Leaf(leaf) => leaf.clone(),
            TypeVal::Unary(kind, inner) => {
                let inner = self.thunk(eval, inner);
                wrap_unary(*kind, inner)
            }
            TypeVal::Either(left, right) => OptionType::Either(
                Box::new(self.thunk(eval, left)),
                Box::new(self.thunk(eval, right)),
            ),
            TypeVal::OneOf(list) => match eval.force(list) {
                Value::List(items) => {
                    OptionType::OneOf(items.iter().map(|item| self.thunk(eval, item)).collect())
                }
                _ => OptionType::Unknown(pending_source(list).unwrap_or_else(|| "oneOf".into())),
            },
            TypeVal::CoercedTo { from, to } => OptionType::CoercedTo {
                from: Box::new(self.thunk(eval, from)),
                to: Box::new(self.thunk(eval, to)),
            },
            TypeVal::Submodule(spec) => {
                let submodule = match (self.resolve)(eval, spec) {
                    Ok(submodule) => submodule,
                    Err(message) => return self.recursion(eval, &message),
                };
                let ty = OptionType::Submodule(submodule);
                match spec.description.as_ref().map(|d| eval.force(d)) {
                    Some(Value::Str(description)) => OptionType::Custom {
                        name: "submodule".into(),
                        description: description.to_string(),
                        base: Some(Box::new(ty)),
                    },
                    _ => ty,
                }
            }
            TypeVal::Custom {
                name, description, ..
            } => {
                let name = match eval.force(name) {
                    Value::Str(s) => s.to_string(),
                    _ => "unknown".into(),
                };
                let description = match description.as_ref().map(|d| eval.force(d)) {
                    Some(v) => coerce_to_string(&v).unwrap_or_else(|| name.clone()),
                    None => name.clone(),
                };
                OptionType::Custom {
                    name,
                    description,
                    base: None,
                }
            }
            TypeVal::Overridden { base, overrides } => {
                let base_type = self.type_val(eval, base);
                let description = match overrides.get("description").map(|e| e.thunk.clone()) {
                    Some(d) => match eval.force(&d) {
                        Value::Str(s) => Some(s.to_string()),
                        _ => None,
                    },
                    None => None,
                };
                match description {
                    Some(description) if description != base_type.description() => {
                        let name = super::lib::type_name(eval, t);
                        OptionType::Custom {
                            name,
                            description,
                            base: Some(Box::new(base_type)),
                        }
                    }
                    _ => base_type,
                }
            }
        }
    }
}

/// The model type of a type constructor of one argument applied to `inner`.
pub fn wrap_unary(kind: UnaryType, inner: OptionType) -> OptionType {
    let inner = Box::new(inner);
    match kind {
        UnaryType::NullOr => OptionType::NullOr(inner),
        UnaryType::ListOf => OptionType::ListOf(inner),
        UnaryType::NonEmptyListOf => OptionType::NonEmptyListOf(inner),
        UnaryType::AttrsOf => OptionType::AttrsOf(inner),
        UnaryType::LazyAttrsOf => OptionType::LazyAttrsOf(inner),
        UnaryType::AddCheck => OptionType::AddCheck(inner),
        UnaryType::Uniq => OptionType::Uniq(inner),
        UnaryType::FunctionTo => OptionType::FunctionTo(inner),
        UnaryType::DagOf => OptionType::DagOf(inner),
    }
}

/// The type without resolving submodules (for `.description` inside
/// declarations, where evaluating a submodule's modules is not needed).
pub fn shallow_option_type(eval: &mut Evaluator, t: &Rc<TypeVal>) -> OptionType {
    option_type(eval, t, &mut |_, _| Ok(Arc::new(Submodule::default())))
}
