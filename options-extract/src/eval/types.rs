//! Turning evaluator type values into the model's `OptionType`.

use std::rc::Rc;
use std::sync::Arc;

use rowan::ast::AstNode;

use super::value::*;
use super::{Evaluator, coerce_to_string};
use crate::model::{OptionType, Submodule};

/// How submodules are resolved while converting a type.
pub type SubmoduleResolver<'a> =
    dyn FnMut(&mut Evaluator, &Rc<SubmoduleSpec>) -> Arc<Submodule> + 'a;

/// The source text of a thunk not yet forced, for `Unknown` types.
pub(super) fn pending_source(thunk: &Thunk) -> Option<String> {
    match &*thunk.0.borrow() {
        ThunkState::Pending(expr, _) => Some(expr.syntax().to_string()),
        _ => None,
    }
}

/// Force `thunk` and convert it to an option type.
pub fn thunk_option_type(
    eval: &mut Evaluator,
    thunk: &Thunk,
    resolve: &mut SubmoduleResolver<'_>,
) -> OptionType {
    let source = pending_source(thunk);
    match eval.force(thunk) {
        Value::Type(t) => option_type(eval, &t, resolve),
        Value::Unknown(reason) => OptionType::Unknown(source.unwrap_or_else(|| reason.to_string())),
        other => OptionType::Unknown(
            source.unwrap_or_else(|| format!("a {} where a type was expected", other.type_name())),
        ),
    }
}

pub fn option_type(
    eval: &mut Evaluator,
    t: &Rc<TypeVal>,
    resolve: &mut SubmoduleResolver<'_>,
) -> OptionType {
    match &**t {
        TypeVal::Leaf(leaf) => leaf.clone(),
        TypeVal::Unary(kind, inner) => {
            let inner = thunk_option_type(eval, inner, resolve);
            wrap_unary(*kind, inner)
        }
        TypeVal::Either(left, right) => OptionType::Either(
            Box::new(thunk_option_type(eval, left, resolve)),
            Box::new(thunk_option_type(eval, right, resolve)),
        ),
        TypeVal::OneOf(list) => match eval.force(list) {
            Value::List(items) => OptionType::OneOf(
                items
                    .iter()
                    .map(|item| thunk_option_type(eval, item, resolve))
                    .collect(),
            ),
            _ => OptionType::Unknown(pending_source(list).unwrap_or_else(|| "oneOf".into())),
        },
        TypeVal::CoercedTo { from, to } => OptionType::CoercedTo {
            from: Box::new(thunk_option_type(eval, from, resolve)),
            to: Box::new(thunk_option_type(eval, to, resolve)),
        },
        TypeVal::Submodule(spec) => {
            let submodule = resolve(eval, spec);
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
            let base_type = option_type(eval, base, resolve);
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
    option_type(eval, t, &mut |_, _| Arc::new(Submodule::default()))
}
