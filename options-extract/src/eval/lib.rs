//! Native `builtins` and `lib`: the parts option declarations use.
//!
//! `lib` here is micros's extended nixpkgs lib (it adds `types.dagOf`).
//! Anything not provided selects to `Unknown`, so a module using an exotic
//! function loses precision only where it uses it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

use super::types::shallow_option_type;
use super::value::*;
use super::{Evaluator, coerce_to_string};
use crate::model::{EnumValue, IntKind, IntType, OptionType, StrRefinement, show_option};

fn prim(name: &'static str, arity: usize, func: PrimFn) -> Value {
    Value::Prim(Rc::new(PrimApp {
        name,
        arity,
        func,
        args: Vec::new(),
    }))
}

fn ty(t: TypeVal) -> Value {
    Value::Type(Rc::new(t))
}

fn leaf(t: OptionType) -> Value {
    ty(TypeVal::Leaf(t))
}

fn attrs_value(entries: Vec<(&'static str, Value)>) -> Value {
    Value::Attrs(Rc::new(Attrs::from_values(entries)))
}

// Argument helpers: each returns the Unknown (or an error) to hand back
// when the argument is not of the expected kind.

fn arg_attrs(eval: &mut Evaluator, thunk: &Thunk) -> Result<Rc<Attrs>, Value> {
    match eval.force(thunk) {
        Value::Attrs(a) => Ok(a),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        other => Err(Value::unknown(format!(
            "expected a set, got a {}",
            other.type_name()
        ))),
    }
}

fn arg_str(eval: &mut Evaluator, thunk: &Thunk) -> Result<Rc<str>, Value> {
    match eval.force(thunk) {
        Value::Str(s) => Ok(s),
        Value::Path(p) => Ok(p.display().to_string().into()),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        other => Err(Value::unknown(format!(
            "expected a string, got a {}",
            other.type_name()
        ))),
    }
}

fn arg_list(eval: &mut Evaluator, thunk: &Thunk) -> Result<Rc<[Thunk]>, Value> {
    match eval.force(thunk) {
        // Natives walk the lists they take: pay for it.
        Value::List(l) if !eval.spend(l.len()) => Err(exhausted()),
        Value::List(l) => Ok(l),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        other => Err(Value::unknown(format!(
            "expected a list, got a {}",
            other.type_name()
        ))),
    }
}

fn arg_int(eval: &mut Evaluator, thunk: &Thunk) -> Result<i64, Value> {
    match eval.force(thunk) {
        Value::Int(i) => Ok(i),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        other => Err(Value::unknown(format!(
            "expected an integer, got a {}",
            other.type_name()
        ))),
    }
}

fn arg_bool(eval: &mut Evaluator, thunk: &Thunk) -> Result<bool, Value> {
    match eval.force(thunk) {
        Value::Bool(b) => Ok(b),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        other => Err(Value::unknown(format!(
            "expected a boolean, got a {}",
            other.type_name()
        ))),
    }
}

/// Unwraps `Result<Value, Value>` style early returns.
fn exhausted() -> Value {
    Value::unknown("evaluation budget exhausted")
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(unknown) => return unknown,
        }
    };
}

fn to_list(eval: &mut Evaluator, thunk: &Thunk) -> Vec<Thunk> {
    match eval.force(thunk) {
        Value::List(items) => items.to_vec(),
        _ => vec![thunk.clone()],
    }
}

fn string_list(eval: &mut Evaluator, thunk: &Thunk) -> Result<Vec<String>, Value> {
    let items = arg_list(eval, thunk)?;
    items
        .iter()
        .map(|item| arg_str(eval, item).map(|s| s.to_string()))
        .collect()
}

/// `{ _type = "option"; ... }` from the attributes given to `mkOption`,
/// keeping their source origins.
fn make_option(fields: &Attrs) -> Value {
    let mut option = Attrs {
        entries: fields.entries.clone(),
    };
    option.insert("_type", Thunk::value(Value::str("option")));
    Value::Attrs(Rc::new(option))
}

fn mk_option(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let fields = tri!(arg_attrs(eval, &args[0]));
    make_option(&fields)
}

fn mk_enable_option(_eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let name = args[0].clone();
    let description = Thunk::native(move |eval| match eval.force(&name) {
        Value::Str(s) => Value::str(format!("Whether to enable {s}.")),
        other => other,
    });
    let mut fields = Attrs::from_values([
        ("default", Value::Bool(false)),
        ("example", Value::Bool(true)),
        ("type", leaf(OptionType::Bool)),
    ]);
    fields.insert("description", description);
    make_option(&fields)
}

fn literal(kind: &'static str, text: Thunk) -> Value {
    let mut attrs = Attrs::from_values([("_type", Value::str(kind))]);
    attrs.insert("text", text);
    Value::Attrs(Rc::new(attrs))
}

fn mk_package_option(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let settings = tri!(arg_attrs(eval, &args[2]));
    let get = |eval: &mut Evaluator, name: &str| {
        settings
            .get(name)
            .map(|e| e.thunk.clone())
            .map(|t| eval.force(&t))
    };
    let name_path: Vec<String> = match eval.force(&args[1]) {
        Value::Str(s) => vec![s.to_string()],
        Value::List(_) => tri!(string_list(eval, &args[1])),
        Value::Unknown(r) => return Value::Unknown(r),
        _ => return Value::unknown("mkPackageOption: name is not a string"),
    };
    let short_name = name_path.last().cloned().unwrap_or_default();
    let nullable = matches!(get(eval, "nullable"), Some(Value::Bool(true)));
    let pkgs_text = match get(eval, "pkgsText") {
        Some(Value::Str(s)) => s.to_string(),
        _ => "pkgs".into(),
    };
    let default_path: Option<Vec<String>> = match get(eval, "default") {
        None => Some(name_path.clone()),
        Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(vec![s.to_string()]),
        Some(Value::List(items)) => {
            let list = Thunk::value(Value::List(items));
            Some(tri!(string_list(eval, &list)))
        }
        Some(Value::Unknown(r)) => return Value::Unknown(r),
        Some(_) => return Value::unknown("mkPackageOption: default is not a path"),
    };
    let extra = match get(eval, "extraDescription") {
        Some(Value::Str(s)) => s.to_string(),
        _ => String::new(),
    };
    let mut description = format!("The {short_name} package to use.");
    if !extra.is_empty() {
        description.push(' ');
        description.push_str(&extra);
    }
    let package = OptionType::Package;
    let ty = if nullable {
        OptionType::NullOr(Box::new(package))
    } else {
        package
    };
    let mut fields =
        Attrs::from_values([("description", Value::str(description)), ("type", leaf(ty))]);
    match default_path {
        Some(path) => {
            let shown = show_option(&path);
            fields.insert(
                "default",
                Thunk::value(Value::unknown(format!("{pkgs_text}.{shown}"))),
            );
            fields.insert(
                "defaultText",
                Thunk::value(literal(
                    "literalExpression",
                    Thunk::value(Value::str(format!("{pkgs_text}.{shown}"))),
                )),
            );
        }
        None if nullable => fields.insert("default", Thunk::value(Value::Null)),
        None => {}
    }
    match get(eval, "example") {
        None | Some(Value::Null) => {}
        Some(Value::List(items)) => {
            let list = Thunk::value(Value::List(items));
            let path = tri!(string_list(eval, &list));
            let text = format!("{pkgs_text}.{}", show_option(&path));
            fields.insert(
                "example",
                Thunk::value(literal("literalExpression", Thunk::value(Value::str(text)))),
            );
        }
        Some(Value::Str(s)) => fields.insert(
            "example",
            Thunk::value(literal("literalExpression", Thunk::value(Value::Str(s)))),
        ),
        Some(other) => fields.insert("example", Thunk::value(other)),
    }
    make_option(&fields)
}

fn mk_sink_undeclared_options(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let overrides = tri!(arg_attrs(eval, &args[0]));
    let mut fields = Attrs::from_values([
        ("internal", Value::Bool(true)),
        ("visible", Value::Bool(false)),
        ("default", Value::Bool(false)),
        ("description", Value::str("Sink for option definitions.")),
        (
            "type",
            leaf(OptionType::Custom {
                name: "sink".into(),
                description: "sink".into(),
                base: None,
            }),
        ),
    ]);
    for (k, v) in &overrides.entries {
        fields.entries.insert(k.clone(), v.clone());
    }
    make_option(&fields)
}

/// Option migrations are recorded, not emulated: the extractor reads
/// this marker in `imports`.
fn migration(
    kind: &'static str,
    from: Thunk,
    target: Option<Thunk>,
    message: Option<Thunk>,
) -> Value {
    let mut attrs = Attrs::from_values([
        ("_type", Value::str("micros-option-migration")),
        ("kind", Value::str(kind)),
    ]);
    attrs.insert("from", from);
    if let Some(target) = target {
        attrs.insert("to", target);
    }
    if let Some(message) = message {
        attrs.insert("message", message);
    }
    Value::Attrs(Rc::new(attrs))
}

fn mk_renamed(_: &mut Evaluator, args: &[Thunk]) -> Value {
    migration("renamed", args[0].clone(), Some(args[1].clone()), None)
}
fn mk_renamed_with(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let spec = tri!(arg_attrs(eval, &args[0]));
    let get = |name: &str| spec.get(name).map(|e| e.thunk.clone());
    match (get("from"), get("to")) {
        (Some(from), Some(to)) => migration("renamed", from, Some(to), None),
        _ => Value::unknown("mkRenamedOptionModuleWith without from/to"),
    }
}
fn mk_alias(_: &mut Evaluator, args: &[Thunk]) -> Value {
    migration("alias", args[0].clone(), Some(args[1].clone()), None)
}
fn mk_removed(_: &mut Evaluator, args: &[Thunk]) -> Value {
    migration("removed", args[0].clone(), None, Some(args[1].clone()))
}
fn mk_changed(_: &mut Evaluator, args: &[Thunk]) -> Value {
    // `mkChangedOptionModule from to f`: the value changes shape, but the
    // name moves like a rename.
    migration("renamed", args[0].clone(), Some(args[1].clone()), None)
}
fn mk_merged(_: &mut Evaluator, args: &[Thunk]) -> Value {
    // `mkMergedOptionModule [from..] to f`: several old options fold into one.
    migration("merged", args[0].clone(), Some(args[1].clone()), None)
}

fn property(kind: &'static str, fields: Vec<(&'static str, Thunk)>) -> Value {
    let mut attrs = Attrs::from_values([("_type", Value::str(kind))]);
    for (name, thunk) in fields {
        attrs.insert(name, thunk);
    }
    Value::Attrs(Rc::new(attrs))
}

fn mk_override(_: &mut Evaluator, a: &[Thunk]) -> Value {
    property(
        "override",
        vec![("priority", a[0].clone()), ("content", a[1].clone())],
    )
}

fn mk_order(_: &mut Evaluator, a: &[Thunk]) -> Value {
    property(
        "order",
        vec![("priority", a[0].clone()), ("content", a[1].clone())],
    )
}

/// `mkOverride priority` / `mkOrder priority`, partially applied.
fn with_priority(name: &'static str, func: PrimFn, priority: i64) -> Value {
    Value::Prim(Rc::new(PrimApp {
        name,
        arity: 2,
        func,
        args: vec![Thunk::value(Value::Int(priority))],
    }))
}

// ---- types ----

fn int_type(t: IntType) -> Value {
    leaf(OptionType::Int(t))
}

fn ints_between(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let lo = tri!(arg_int(eval, &args[0]));
    let hi = tri!(arg_int(eval, &args[1]));
    int_type(IntType::between(lo, hi))
}

fn numbers_between(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let number = |eval: &mut Evaluator, t: &Thunk| match eval.force(t) {
        Value::Int(i) => Ok((i as f64, i.to_string())),
        Value::Float(f) => Ok((
            f,
            super::pretty::to_pretty(eval, &Value::Float(f)).unwrap_or_default(),
        )),
        Value::Unknown(r) => Err(Value::Unknown(r)),
        _ => Err(Value::unknown("numbers.between: not a number")),
    };
    let (lo, lo_text) = tri!(number(eval, &args[0]));
    let (hi, hi_text) = tri!(number(eval, &args[1]));
    leaf(OptionType::Number {
        min: Some(lo),
        max: Some(hi),
        description: format!(
            "integer or floating point number between {lo_text} and {hi_text} (both inclusive)"
        ),
    })
}

fn unary(kind: UnaryType) -> PrimFn {
    match kind {
        UnaryType::NullOr => |_, a| ty(TypeVal::Unary(UnaryType::NullOr, a[0].clone())),
        UnaryType::ListOf => |_, a| ty(TypeVal::Unary(UnaryType::ListOf, a[0].clone())),
        UnaryType::NonEmptyListOf => {
            |_, a| ty(TypeVal::Unary(UnaryType::NonEmptyListOf, a[0].clone()))
        }
        UnaryType::AttrsOf => |_, a| ty(TypeVal::Unary(UnaryType::AttrsOf, a[0].clone())),
        UnaryType::LazyAttrsOf => |_, a| ty(TypeVal::Unary(UnaryType::LazyAttrsOf, a[0].clone())),
        UnaryType::Uniq => |_, a| ty(TypeVal::Unary(UnaryType::Uniq, a[0].clone())),
        UnaryType::FunctionTo => |_, a| ty(TypeVal::Unary(UnaryType::FunctionTo, a[0].clone())),
        UnaryType::DagOf => |_, a| ty(TypeVal::Unary(UnaryType::DagOf, a[0].clone())),
        UnaryType::AddCheck => |_, a| ty(TypeVal::Unary(UnaryType::AddCheck, a[0].clone())),
    }
}

fn attrs_with(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let spec = tri!(arg_attrs(eval, &args[0]));
    let Some(elem) = spec.get("elemType").map(|e| e.thunk.clone()) else {
        return Value::unknown("attrsWith without elemType");
    };
    let lazy = match spec.get("lazy").map(|e| e.thunk.clone()) {
        Some(t) => tri!(arg_bool(eval, &t)),
        None => false,
    };
    let kind = if lazy {
        UnaryType::LazyAttrsOf
    } else {
        UnaryType::AttrsOf
    };
    ty(TypeVal::Unary(kind, elem))
}

fn enum_type(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    let mut values = Vec::with_capacity(items.len());
    for item in items.iter() {
        values.push(match eval.force(item) {
            Value::Str(s) => EnumValue::Str(s.to_string()),
            Value::Int(i) => EnumValue::Int(i),
            Value::Bool(b) => EnumValue::Bool(b),
            Value::Unknown(r) => return Value::Unknown(r),
            other => EnumValue::Other(other.type_name().to_string()),
        });
    }
    leaf(OptionType::Enum(values))
}

fn str_matching(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let pattern = tri!(arg_str(eval, &args[0]));
    leaf(OptionType::StrMatching(pattern.to_string()))
}

fn separated_string(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let sep = tri!(arg_str(eval, &args[0]));
    leaf(OptionType::SeparatedString(sep.to_string()))
}

fn passwd_entry(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Type(t) if matches!(&*t, TypeVal::Leaf(OptionType::Str)) => {
            leaf(OptionType::StrRefined {
                kind: StrRefinement::PasswdEntry,
            })
        }
        Value::Unknown(r) => Value::Unknown(r),
        _ => ty(TypeVal::Unary(UnaryType::AddCheck, args[0].clone())),
    }
}

fn submodule(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let modules = to_list(eval, &args[0]);
    ty(TypeVal::Submodule(Rc::new(SubmoduleSpec {
        modules,
        shorthand_only_defines_config: true,
        special_args: None,
        description: None,
    })))
}

fn submodule_with(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let spec = tri!(arg_attrs(eval, &args[0]));
    let get = |name: &str| spec.get(name).map(|e| e.thunk.clone());
    let modules = match get("modules") {
        Some(m) => to_list(eval, &m),
        None => Vec::new(),
    };
    let shorthand = match get("shorthandOnlyDefinesConfig") {
        Some(t) => matches!(eval.force(&t), Value::Bool(true)),
        None => false,
    };
    ty(TypeVal::Submodule(Rc::new(SubmoduleSpec {
        modules,
        shorthand_only_defines_config: shorthand,
        special_args: get("specialArgs"),
        description: get("description"),
    })))
}

fn deferred_module(_: &mut Evaluator, _: &[Thunk]) -> Value {
    leaf(OptionType::Custom {
        name: "deferredModule".into(),
        description: "module".into(),
        base: None,
    })
}

fn either(_: &mut Evaluator, args: &[Thunk]) -> Value {
    ty(TypeVal::Either(args[0].clone(), args[1].clone()))
}

fn one_of(_: &mut Evaluator, args: &[Thunk]) -> Value {
    ty(TypeVal::OneOf(args[0].clone()))
}

fn coerced_to(_: &mut Evaluator, args: &[Thunk]) -> Value {
    ty(TypeVal::CoercedTo {
        from: args[0].clone(),
        to: args[2].clone(),
    })
}

fn add_check(_: &mut Evaluator, args: &[Thunk]) -> Value {
    ty(TypeVal::Unary(UnaryType::AddCheck, args[0].clone()))
}

fn unique(_: &mut Evaluator, args: &[Thunk]) -> Value {
    ty(TypeVal::Unary(UnaryType::Uniq, args[1].clone()))
}

fn mk_option_type(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let spec = tri!(arg_attrs(eval, &args[0]));
    let Some(name) = spec.get("name").map(|e| e.thunk.clone()) else {
        return Value::unknown("mkOptionType without name");
    };
    ty(TypeVal::Custom {
        name,
        description: spec.get("description").map(|e| e.thunk.clone()),
        attrs: spec,
    })
}

fn is_type(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let kind = tri!(arg_str(eval, &args[0]));
    match eval.force(&args[1]) {
        Value::Type(_) => Value::Bool(&*kind == "option-type"),
        Value::Attrs(attrs) => match attrs.get("_type").map(|e| e.thunk.clone()) {
            Some(t) => match eval.force(&t) {
                Value::Str(s) => Value::Bool(*s == *kind),
                other => other,
            },
            None => Value::Bool(false),
        },
        Value::Unknown(r) => Value::Unknown(r),
        _ => Value::Bool(false),
    }
}

fn types_set() -> Value {
    use OptionType as T;
    let mut ints = Attrs::from_values([
        ("between", prim("ints.between", 2, ints_between)),
        (
            "unsigned",
            int_type(IntType {
                min: Some(0),
                max: None,
                kind: IntKind::Unsigned,
            }),
        ),
        (
            "positive",
            int_type(IntType {
                min: Some(1),
                max: None,
                kind: IntKind::Positive,
            }),
        ),
        ("u8", int_type(IntType::unsigned_bits(8))),
        ("u16", int_type(IntType::unsigned_bits(16))),
        ("u32", int_type(IntType::unsigned_bits(32))),
        ("s8", int_type(IntType::signed_bits(8))),
        ("s16", int_type(IntType::signed_bits(16))),
        ("s32", int_type(IntType::signed_bits(32))),
    ]);
    ints.insert("port", Thunk::value(int_type(IntType::unsigned_bits(16))));
    let numbers = Attrs::from_values([
        ("between", prim("numbers.between", 2, numbers_between)),
        (
            "nonnegative",
            leaf(T::Number {
                min: Some(0.0),
                max: None,
                description: "nonnegative integer or floating point number, meaning >=0".into(),
            }),
        ),
        (
            "positive",
            leaf(T::Number {
                min: None,
                max: None,
                description: "positive integer or floating point number, meaning >0".into(),
            }),
        ),
    ]);
    let custom = |name: &str, description: &str, base: Option<T>| {
        leaf(T::Custom {
            name: name.into(),
            description: description.into(),
            base: base.map(Box::new),
        })
    };
    let entries: Vec<(&'static str, Value)> = vec![
        ("bool", leaf(T::Bool)),
        (
            "boolByOr",
            custom("boolByOr", "boolean (merged using or)", Some(T::Bool)),
        ),
        ("int", int_type(IntType::signed())),
        ("ints", Value::Attrs(Rc::new(ints))),
        ("port", int_type(IntType::unsigned_bits(16))),
        ("float", leaf(T::Float)),
        (
            "number",
            leaf(T::Number {
                min: None,
                max: None,
                description: "signed integer or floating point number".into(),
            }),
        ),
        ("numbers", Value::Attrs(Rc::new(numbers))),
        ("str", leaf(T::Str)),
        ("string", leaf(T::Str)),
        (
            "nonEmptyStr",
            leaf(T::StrRefined {
                kind: StrRefinement::NonEmpty,
            }),
        ),
        (
            "singleLineStr",
            leaf(T::StrRefined {
                kind: StrRefinement::SingleLine,
            }),
        ),
        ("strMatching", prim("types.strMatching", 1, str_matching)),
        (
            "separatedString",
            prim("types.separatedString", 1, separated_string),
        ),
        ("lines", leaf(T::SeparatedString("\n".into()))),
        ("commas", leaf(T::SeparatedString(",".into()))),
        ("envVar", leaf(T::SeparatedString(":".into()))),
        ("passwdEntry", prim("types.passwdEntry", 1, passwd_entry)),
        ("path", leaf(T::Path)),
        ("pathInStore", leaf(T::PathInStore)),
        (
            "externalPath",
            custom("path", "absolute path not in the Nix store", Some(T::Path)),
        ),
        ("package", leaf(T::Package)),
        ("shellPackage", leaf(T::ShellPackage)),
        (
            "pkgs",
            custom("pkgs", "Nixpkgs package set", Some(T::Attrs)),
        ),
        ("enum", prim("types.enum", 1, enum_type)),
        ("nullOr", prim("types.nullOr", 1, unary(UnaryType::NullOr))),
        ("listOf", prim("types.listOf", 1, unary(UnaryType::ListOf))),
        (
            "nonEmptyListOf",
            prim("types.nonEmptyListOf", 1, unary(UnaryType::NonEmptyListOf)),
        ),
        (
            "attrsOf",
            prim("types.attrsOf", 1, unary(UnaryType::AttrsOf)),
        ),
        ("loaOf", prim("types.loaOf", 1, unary(UnaryType::AttrsOf))),
        (
            "lazyAttrsOf",
            prim("types.lazyAttrsOf", 1, unary(UnaryType::LazyAttrsOf)),
        ),
        ("attrsWith", prim("types.attrsWith", 1, attrs_with)),
        ("uniq", prim("types.uniq", 1, unary(UnaryType::Uniq))),
        ("unique", prim("types.unique", 2, unique)),
        (
            "functionTo",
            prim("types.functionTo", 1, unary(UnaryType::FunctionTo)),
        ),
        ("dagOf", prim("types.dagOf", 1, unary(UnaryType::DagOf))),
        ("addCheck", prim("types.addCheck", 2, add_check)),
        ("submodule", prim("types.submodule", 1, submodule)),
        (
            "submoduleWith",
            prim("types.submoduleWith", 1, submodule_with),
        ),
        (
            "deferredModuleWith",
            prim("types.deferredModuleWith", 1, deferred_module),
        ),
        ("either", prim("types.either", 2, either)),
        ("oneOf", prim("types.oneOf", 1, one_of)),
        ("coercedTo", prim("types.coercedTo", 3, coerced_to)),
        ("unspecified", leaf(T::Unspecified)),
        ("anything", leaf(T::Anything)),
        ("raw", leaf(T::Raw)),
        ("attrs", leaf(T::Attrs)),
        ("optionType", leaf(T::OptionTypeType)),
        ("fileset", custom("fileset", "fileset", None)),
        ("luaInline", custom("luaInline", "inline lua", None)),
        ("mkOptionType", prim("mkOptionType", 1, mk_option_type)),
        ("isType", prim("isType", 2, is_type)),
    ];
    let mut types = Attrs::from_values(entries);
    types.insert(
        "deferredModule",
        Thunk::value(custom("deferredModule", "module", None)),
    );
    Value::Attrs(Rc::new(types))
}

/// `.description` of a type value (what `"${t.description}"` gives).
pub fn type_description(eval: &mut Evaluator, t: &Rc<TypeVal>) -> String {
    shallow_option_type(eval, t).description()
}

pub fn type_name(eval: &mut Evaluator, t: &Rc<TypeVal>) -> String {
    type_name_within(eval, t, super::types::MAX_TYPE_DEPTH)
}

/// `budget` bounds the `addCheck` chain and the `//` overrides looked
/// through: `t = addCheck t f` would otherwise never end.
fn type_name_within(eval: &mut Evaluator, t: &Rc<TypeVal>, budget: usize) -> String {
    let Some(budget) = budget.checked_sub(1) else {
        return "unknown".into();
    };
    match &**t {
        TypeVal::Leaf(leaf) => leaf_name(leaf).to_string(),
        TypeVal::Unary(kind, inner) => match kind {
            UnaryType::NullOr => "nullOr",
            UnaryType::ListOf | UnaryType::NonEmptyListOf => "listOf",
            UnaryType::AttrsOf => "attrsOf",
            UnaryType::LazyAttrsOf => "lazyAttrsOf",
            // `addCheck t f` is `t // { check = ..; }`: it keeps `t`'s name.
            UnaryType::AddCheck => {
                return match eval.force(inner) {
                    Value::Type(inner) => type_name_within(eval, &inner, budget),
                    _ => "unknown".into(),
                };
            }
            UnaryType::Uniq => "unique",
            UnaryType::FunctionTo => "functionTo",
            UnaryType::DagOf => "dagOf",
        }
        .to_string(),
        TypeVal::Either(..) | TypeVal::OneOf(_) => "either".into(),
        TypeVal::CoercedTo { .. } => "coercedTo".into(),
        TypeVal::Submodule(_) => "submodule".into(),
        TypeVal::Custom { name, .. } => match eval.force(name) {
            Value::Str(s) => s.to_string(),
            _ => "unknown".into(),
        },
        TypeVal::Overridden { base, overrides } => {
            match overrides.get("name").map(|e| e.thunk.clone()) {
                Some(name) => match eval.force(&name) {
                    Value::Str(s) => s.to_string(),
                    _ => type_name_within(eval, base, budget),
                },
                None => type_name_within(eval, base, budget),
            }
        }
    }
}

fn leaf_name(t: &OptionType) -> &'static str {
    match t {
        OptionType::Bool => "bool",
        OptionType::Int(_) => "int",
        OptionType::Float => "float",
        OptionType::Str | OptionType::StrRefined { .. } => "str",
        OptionType::StrMatching(_) => "strMatching",
        OptionType::SeparatedString(_) => "separatedString",
        OptionType::Path | OptionType::PathInStore => "path",
        OptionType::Package | OptionType::ShellPackage => "package",
        OptionType::Enum(_) => "enum",
        OptionType::Attrs => "attrs",
        OptionType::Unspecified => "unspecified",
        OptionType::Anything => "anything",
        OptionType::Raw => "raw",
        _ => "unknown",
    }
}

// ---- strings, lists, attrsets, trivial ----

fn concat_strings_sep(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let sep = tri!(arg_str(eval, &args[0]));
    let items = tri!(arg_list(eval, &args[1]));
    let mut parts = Vec::with_capacity(items.len());
    for item in items.iter() {
        match coerce_to_string(&eval.force(item)) {
            Some(s) => parts.push(s),
            None => return Value::unknown("concatStringsSep of an unknown string"),
        }
    }
    let length = parts.iter().map(|p| p.len() + sep.len()).sum();
    if !eval.spend_bytes(length) {
        return exhausted();
    }
    Value::str(parts.join(&sep))
}

fn concat_map_strings_sep(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let mapped = map_list(eval, &args[1], &args[2]);
    concat_strings_sep(eval, &[args[0].clone(), Thunk::value(mapped)])
}

fn concat_strings(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    concat_strings_sep(eval, &[Thunk::value(Value::str("")), args[0].clone()])
}

fn concat_map_strings(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let mapped = map_list(eval, &args[0], &args[1]);
    concat_strings(eval, &[Thunk::value(mapped)])
}

fn optional_string(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    if tri!(arg_bool(eval, &args[0])) {
        eval.force(&args[1])
    } else {
        Value::str("")
    }
}

fn to_string(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Str(s) => Value::Str(s),
        Value::Path(p) => Value::str(p.display().to_string()),
        Value::Int(i) => Value::str(i.to_string()),
        Value::Bool(true) => Value::str("1"),
        Value::Bool(false) | Value::Null => Value::str(""),
        Value::Float(f) => {
            Value::str(super::pretty::to_pretty(eval, &Value::Float(f)).unwrap_or_default())
        }
        Value::List(items) => {
            let mut parts = Vec::new();
            for item in items.iter() {
                match to_string(eval, std::slice::from_ref(item)) {
                    Value::Str(s) => parts.push(s.to_string()),
                    other => return other,
                }
            }
            Value::str(parts.join(" "))
        }
        Value::Unknown(r) => Value::Unknown(r),
        other => Value::unknown(format!("cannot coerce a {} to a string", other.type_name())),
    }
}

fn str_pred(f: fn(&str, &str) -> bool) -> impl Fn(&mut Evaluator, &[Thunk]) -> Value {
    move |eval, args| {
        let a = tri!(arg_str(eval, &args[0]));
        let b = tri!(arg_str(eval, &args[1]));
        Value::Bool(f(&a, &b))
    }
}

fn has_prefix(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    str_pred(|prefix, s| s.starts_with(prefix))(eval, args)
}
fn has_suffix(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    str_pred(|suffix, s| s.ends_with(suffix))(eval, args)
}
fn has_infix(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    str_pred(|infix, s| s.contains(infix))(eval, args)
}
fn remove_prefix(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let prefix = tri!(arg_str(eval, &args[0]));
    let s = tri!(arg_str(eval, &args[1]));
    Value::str(s.strip_prefix(&*prefix).unwrap_or(&s))
}
fn remove_suffix(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let suffix = tri!(arg_str(eval, &args[0]));
    let s = tri!(arg_str(eval, &args[1]));
    Value::str(s.strip_suffix(&*suffix).unwrap_or(&s))
}
fn to_upper(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::str(tri!(arg_str(eval, &args[0])).to_uppercase())
}
fn to_lower(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::str(tri!(arg_str(eval, &args[0])).to_lowercase())
}
fn string_length(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::Int(tri!(arg_str(eval, &args[0])).len() as i64)
}
fn substring(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let start = tri!(arg_int(eval, &args[0])).max(0) as usize;
    let len = tri!(arg_int(eval, &args[1]));
    let s = tri!(arg_str(eval, &args[2]));
    let bytes = s.as_bytes();
    let start = start.min(bytes.len());
    let end = if len < 0 {
        bytes.len()
    } else {
        (start + len as usize).min(bytes.len())
    };
    Value::str(String::from_utf8_lossy(&bytes[start..end]).into_owned())
}
fn replace_strings(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let from = tri!(string_list(eval, &args[0]));
    let to = tri!(string_list(eval, &args[1]));
    let s = tri!(arg_str(eval, &args[2]));
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i <= s.len() {
        for (pattern, replacement) in from.iter().zip(to.iter()) {
            if s[i..].starts_with(pattern.as_str()) {
                if !eval.spend_bytes(replacement.len() + 16) {
                    return exhausted();
                }
                out.push_str(replacement);
                if pattern.is_empty() {
                    if let Some(c) = s[i..].chars().next() {
                        out.push(c);
                        i += c.len_utf8();
                    } else {
                        break 'outer;
                    }
                } else {
                    i += pattern.len();
                }
                continue 'outer;
            }
        }
        match s[i..].chars().next() {
            Some(c) => {
                out.push(c);
                i += c.len_utf8();
            }
            None => break,
        }
    }
    Value::str(out)
}
fn split_string(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let sep = tri!(arg_str(eval, &args[0]));
    let s = tri!(arg_str(eval, &args[1]));
    if sep.is_empty() {
        return Value::unknown("splitString with an empty separator");
    }
    Value::List(
        s.split(&*sep)
            .map(|part| Thunk::value(Value::str(part)))
            .collect(),
    )
}
fn escape_shell_arg(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let s = tri!(arg_str(eval, &args[0]));
    Value::str(format!("'{}'", s.replace('\'', "'\\''")))
}

fn map_list(eval: &mut Evaluator, func: &Thunk, list: &Thunk) -> Value {
    let items = tri!(arg_list(eval, list));
    let func = func.clone();
    Value::List(
        items
            .iter()
            .map(|item| {
                let (func, item) = (func.clone(), item.clone());
                Thunk::native(move |eval| {
                    let f = eval.force(&func);
                    eval.apply(f, item)
                })
            })
            .collect(),
    )
}

fn map(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    map_list(eval, &args[0], &args[1])
}

fn call1(eval: &mut Evaluator, func: &Thunk, arg: Thunk) -> Value {
    let f = eval.force(func);
    eval.apply(f, arg)
}

fn filter(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[1]));
    let mut kept = Vec::new();
    for item in items.iter() {
        match call1(eval, &args[0], item.clone()) {
            Value::Bool(true) => kept.push(item.clone()),
            Value::Bool(false) => {}
            other => return unknown_or(other, "filter predicate returned a non-boolean"),
        }
    }
    Value::List(kept.into())
}

fn unknown_or(value: Value, message: &str) -> Value {
    match value {
        Value::Unknown(r) => Value::Unknown(r),
        _ => Value::unknown(message.to_string()),
    }
}

fn concat_lists(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let lists = tri!(arg_list(eval, &args[0]));
    let mut out = Vec::new();
    for list in lists.iter() {
        out.extend(tri!(arg_list(eval, list)).iter().cloned());
    }
    Value::List(out.into())
}

fn concat_map(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let mapped = map_list(eval, &args[0], &args[1]);
    concat_lists(eval, &[Thunk::value(mapped)])
}

fn flatten(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    fn go(eval: &mut Evaluator, value: Value, out: &mut Vec<Thunk>) -> Result<(), Value> {
        match value {
            Value::List(items) => {
                for item in items.iter() {
                    let v = eval.force(item);
                    go(eval, v, out)?;
                }
                Ok(())
            }
            Value::Unknown(r) => Err(Value::Unknown(r)),
            other => {
                out.push(Thunk::value(other));
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    let value = eval.force(&args[0]);
    tri!(go(eval, value, &mut out));
    Value::List(out.into())
}

fn optional(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    if tri!(arg_bool(eval, &args[0])) {
        Value::List([args[1].clone()].into())
    } else {
        Value::List([].into())
    }
}
fn optionals(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    if tri!(arg_bool(eval, &args[0])) {
        eval.force(&args[1])
    } else {
        Value::List([].into())
    }
}
fn optional_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    if tri!(arg_bool(eval, &args[0])) {
        eval.force(&args[1])
    } else {
        Value::Attrs(Rc::new(Attrs::default()))
    }
}
fn to_list_prim(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::List(to_list(eval, &args[0]).into())
}
fn head(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    match items.first() {
        Some(first) => eval.force(first),
        None => Value::unknown("head of an empty list"),
    }
}
fn last(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    match items.last() {
        Some(last) => eval.force(last),
        None => Value::unknown("last of an empty list"),
    }
}
fn tail(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    if items.is_empty() {
        return Value::unknown("tail of an empty list");
    }
    Value::List(items[1..].into())
}
fn length(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::Int(tri!(arg_list(eval, &args[0])).len() as i64)
}
fn elem_at(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    let index = tri!(arg_int(eval, &args[1]));
    match usize::try_from(index).ok().and_then(|i| items.get(i)) {
        Some(item) => eval.force(item),
        None => Value::unknown("list index out of bounds"),
    }
}
fn elem(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let needle = eval.force(&args[0]);
    let items = tri!(arg_list(eval, &args[1]));
    let mut unknown = false;
    for item in items.iter() {
        let item = eval.force(item);
        match eval.equal(&needle, &item) {
            Some(true) => return Value::Bool(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        Value::unknown("elem of unknown values")
    } else {
        Value::Bool(false)
    }
}
fn any_all(eval: &mut Evaluator, args: &[Thunk], any: bool) -> Value {
    let items = tri!(arg_list(eval, &args[1]));
    let mut unknown = None;
    for item in items.iter() {
        match call1(eval, &args[0], item.clone()) {
            Value::Bool(b) if b == any => return Value::Bool(any),
            Value::Bool(_) => {}
            other => unknown = Some(other),
        }
    }
    match unknown {
        Some(u) => unknown_or(u, "predicate returned a non-boolean"),
        None => Value::Bool(!any),
    }
}
fn any(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    any_all(eval, args, true)
}
fn all(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    any_all(eval, args, false)
}
fn foldl(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[2]));
    let mut acc = args[1].clone();
    for item in items.iter() {
        let f = eval.force(&args[0]);
        let partial = eval.apply(f, acc);
        acc = Thunk::value(eval.apply(partial, item.clone()));
    }
    eval.force(&acc)
}
fn foldr(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[2]));
    let mut acc = args[1].clone();
    for item in items.iter().rev() {
        let f = eval.force(&args[0]);
        let partial = eval.apply(f, item.clone());
        acc = Thunk::value(eval.apply(partial, acc));
    }
    eval.force(&acc)
}
fn gen_list(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let n = tri!(arg_int(eval, &args[1]));
    if !(0..=1_000_000).contains(&n) {
        return Value::unknown("genList of an unreasonable length");
    }
    if !eval.spend(n as usize) {
        return exhausted();
    }
    let func = args[0].clone();
    Value::List(
        (0..n)
            .map(|i| {
                let func = func.clone();
                Thunk::native(move |eval| call1(eval, &func, Thunk::value(Value::Int(i))))
            })
            .collect(),
    )
}
fn range(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let lo = tri!(arg_int(eval, &args[0]));
    let hi = tri!(arg_int(eval, &args[1]));
    if hi.saturating_sub(lo) > 1_000_000 {
        return Value::unknown("range too long");
    }
    if !eval.spend(hi.saturating_sub(lo).max(0) as usize) {
        return exhausted();
    }
    Value::List((lo..=hi).map(|i| Thunk::value(Value::Int(i))).collect())
}
fn reverse_list(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    Value::List(items.iter().rev().cloned().collect())
}
fn unique_list(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    let mut kept: Vec<(Thunk, Value)> = Vec::new();
    for item in items.iter() {
        let value = eval.force(item);
        let mut seen = false;
        for (_, other) in &kept {
            match eval.equal(&value, other) {
                Some(true) => seen = true,
                Some(false) => {}
                None => return Value::unknown("unique of unknown values"),
            }
        }
        if !seen {
            kept.push((item.clone(), value));
        }
    }
    Value::List(kept.into_iter().map(|(t, _)| t).collect())
}

fn attr_names(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[0]));
    Value::List(
        attrs
            .entries
            .keys()
            .map(|k| Thunk::value(Value::Str(k.clone())))
            .collect(),
    )
}
fn attr_values(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[0]));
    Value::List(attrs.entries.values().map(|e| e.thunk.clone()).collect())
}
fn has_attr(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let name = tri!(arg_str(eval, &args[0]));
    let attrs = tri!(arg_attrs(eval, &args[1]));
    Value::Bool(attrs.get(&name).is_some())
}
fn get_attr(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let name = tri!(arg_str(eval, &args[0]));
    let attrs = tri!(arg_attrs(eval, &args[1]));
    match attrs.get(&name) {
        Some(entry) => eval.force(&entry.thunk.clone()),
        None => Value::unknown(format!("attribute `{name}` missing")),
    }
}
fn remove_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[0]));
    let names = tri!(string_list(eval, &args[1]));
    let mut out = Attrs {
        entries: attrs.entries.clone(),
    };
    for name in names {
        out.entries.remove(name.as_str());
    }
    Value::Attrs(Rc::new(out))
}
fn map_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[1]));
    let func = args[0].clone();
    let mut out = Attrs::default();
    for (name, entry) in &attrs.entries {
        let (func, name_value, value) =
            (func.clone(), Value::Str(name.clone()), entry.thunk.clone());
        out.entries.insert(
            name.clone(),
            AttrEntry {
                thunk: Thunk::native(move |eval| {
                    let f = eval.force(&func);
                    let partial = eval.apply(f, Thunk::value(name_value));
                    eval.apply(partial, value)
                }),
                origin: entry.origin.clone(),
            },
        );
    }
    Value::Attrs(Rc::new(out))
}
fn map_attrs_to_list(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[1]));
    let func = args[0].clone();
    Value::List(
        attrs
            .entries
            .iter()
            .map(|(name, entry)| {
                let (func, name, value) =
                    (func.clone(), Value::Str(name.clone()), entry.thunk.clone());
                Thunk::native(move |eval| {
                    let f = eval.force(&func);
                    let partial = eval.apply(f, Thunk::value(name));
                    eval.apply(partial, value)
                })
            })
            .collect(),
    )
}
fn filter_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let attrs = tri!(arg_attrs(eval, &args[1]));
    let mut out = Attrs::default();
    for (name, entry) in &attrs.entries {
        let f = eval.force(&args[0]);
        let partial = eval.apply(f, Thunk::value(Value::Str(name.clone())));
        match eval.apply(partial, entry.thunk.clone()) {
            Value::Bool(true) => {
                out.entries.insert(name.clone(), entry.clone());
            }
            Value::Bool(false) => {}
            other => return unknown_or(other, "filterAttrs predicate returned a non-boolean"),
        }
    }
    Value::Attrs(Rc::new(out))
}
fn list_to_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let items = tri!(arg_list(eval, &args[0]));
    let mut out = Attrs::default();
    for item in items.iter() {
        let pair = tri!(arg_attrs(eval, item));
        let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) else {
            return Value::unknown("listToAttrs element without name or value");
        };
        let name = tri!(arg_str(eval, &name.thunk.clone()));
        out.entries.entry(name).or_insert_with(|| AttrEntry {
            thunk: value.thunk.clone(),
            origin: None,
        });
    }
    Value::Attrs(Rc::new(out))
}
fn name_value_pair(_: &mut Evaluator, args: &[Thunk]) -> Value {
    let mut attrs = Attrs::default();
    attrs.insert("name", args[0].clone());
    attrs.insert("value", args[1].clone());
    Value::Attrs(Rc::new(attrs))
}
fn gen_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let names = tri!(string_list(eval, &args[0]));
    let mut out = Attrs::default();
    for name in names {
        let func = args[1].clone();
        let arg = Value::str(name.as_str());
        out.insert(
            name.as_str(),
            Thunk::native(move |eval| call1(eval, &func, Thunk::value(arg))),
        );
    }
    Value::Attrs(Rc::new(out))
}
fn recursive_update(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    fn merge(eval: &mut Evaluator, a: Rc<Attrs>, b: Rc<Attrs>, depth: u32) -> Value {
        let mut out = Attrs {
            entries: a.entries.clone(),
        };
        for (name, entry) in &b.entries {
            let merged = match out.entries.get(name) {
                Some(existing) if depth < 64 => {
                    let (x, y) = (
                        eval.force(&existing.thunk.clone()),
                        eval.force(&entry.thunk.clone()),
                    );
                    match (x, y) {
                        (Value::Attrs(x), Value::Attrs(y)) => AttrEntry {
                            thunk: Thunk::value(merge(eval, x, y, depth + 1)),
                            origin: entry.origin.clone(),
                        },
                        _ => entry.clone(),
                    }
                }
                _ => entry.clone(),
            };
            out.entries.insert(name.clone(), merged);
        }
        Value::Attrs(Rc::new(out))
    }
    let a = tri!(arg_attrs(eval, &args[0]));
    let b = tri!(arg_attrs(eval, &args[1]));
    merge(eval, a, b, 0)
}
fn attr_by_path(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let path = tri!(string_list(eval, &args[0]));
    let mut value = eval.force(&args[2]);
    for name in &path {
        value = match eval.select_attr(&value, name) {
            Some(v) => v,
            None => return eval.force(&args[1]),
        };
    }
    value
}
fn get_attr_from_path(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let missing = Thunk::value(Value::unknown("attribute path missing"));
    attr_by_path(eval, &[args[0].clone(), missing, args[1].clone()])
}
fn set_attr_by_path(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let path = tri!(string_list(eval, &args[0]));
    let mut value = args[1].clone();
    for name in path.iter().rev() {
        let mut attrs = Attrs::default();
        attrs.insert(name.as_str(), value);
        value = Thunk::value(Value::Attrs(Rc::new(attrs)));
    }
    eval.force(&value)
}
fn cat_attrs(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let name = tri!(arg_str(eval, &args[0]));
    let items = tri!(arg_list(eval, &args[1]));
    let mut out = Vec::new();
    for item in items.iter() {
        let attrs = tri!(arg_attrs(eval, item));
        if let Some(entry) = attrs.get(&name) {
            out.push(entry.thunk.clone());
        }
    }
    Value::List(out.into())
}

fn type_of(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Unknown(r) => Value::Unknown(r),
        v => Value::str(v.type_name()),
    }
}
fn is_kind(kind: &'static str) -> PrimFn {
    match kind {
        "string" => |e, a| is_named(e, a, "string"),
        "int" => |e, a| is_named(e, a, "int"),
        "bool" => |e, a| is_named(e, a, "bool"),
        "list" => |e, a| is_named(e, a, "list"),
        "set" => |e, a| is_named(e, a, "set"),
        "lambda" => |e, a| is_named(e, a, "lambda"),
        "path" => |e, a| is_named(e, a, "path"),
        "float" => |e, a| is_named(e, a, "float"),
        _ => |e, a| is_named(e, a, "null"),
    }
}
fn is_named(eval: &mut Evaluator, args: &[Thunk], kind: &str) -> Value {
    match eval.force(&args[0]) {
        Value::Unknown(r) => Value::Unknown(r),
        v => Value::Bool(v.type_name() == kind),
    }
}
fn identity(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    eval.force(&args[0])
}
fn second(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    eval.force(&args[1])
}
fn third(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    eval.force(&args[2])
}
fn constant(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    eval.force(&args[0])
}
fn flip(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let f = eval.force(&args[0]);
    let partial = eval.apply(f, args[2].clone());
    eval.apply(partial, args[1].clone())
}
fn pipe(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let funcs = tri!(arg_list(eval, &args[1]));
    let mut value = args[0].clone();
    for f in funcs.iter() {
        value = Thunk::value(call1(eval, f, value));
    }
    eval.force(&value)
}
fn throw(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Str(s) => Value::unknown(format!("throw: {s}")),
        _ => Value::unknown("throw"),
    }
}
fn throw_if(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Bool(false) => eval.force(&args[2]),
        Value::Bool(true) => throw(eval, &args[1..2]),
        other => unknown_or(other, "throwIf condition is not a boolean"),
    }
}
fn throw_if_not(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Bool(true) => eval.force(&args[2]),
        Value::Bool(false) => throw(eval, &args[1..2]),
        other => unknown_or(other, "throwIfNot condition is not a boolean"),
    }
}
fn bool_to_string(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    Value::str(if tri!(arg_bool(eval, &args[0])) {
        "true"
    } else {
        "false"
    })
}
fn min_max(eval: &mut Evaluator, args: &[Thunk], max: bool) -> Value {
    let a = eval.force(&args[0]);
    let b = eval.force(&args[1]);
    match eval.binop_values(rnix::ast::BinOpKind::Less, a.clone(), b.clone()) {
        Value::Bool(less) => {
            if less != max {
                a
            } else {
                b
            }
        }
        other => other,
    }
}
fn min(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    min_max(eval, args, false)
}
fn max(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    min_max(eval, args, true)
}
fn modulo(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let a = tri!(arg_int(eval, &args[0]));
    let b = tri!(arg_int(eval, &args[1]));
    if b == 0 {
        Value::unknown("modulo by zero")
    } else {
        Value::Int(a % b)
    }
}
fn function_args(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Lambda(lambda) => {
            let mut out = Attrs::default();
            if let rnix::ast::Param::Pattern(pattern) = &lambda.param {
                for entry in pattern.pat_entries() {
                    if let Some(name) = entry.ident().and_then(|i| i.ident_token()) {
                        out.insert(
                            name.text(),
                            Thunk::value(Value::Bool(entry.default().is_some())),
                        );
                    }
                }
            }
            Value::Attrs(Rc::new(out))
        }
        Value::Unknown(r) => Value::Unknown(r),
        _ => Value::Attrs(Rc::new(Attrs::default())),
    }
}
fn import(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Path(p) => eval.import_path(&p, None),
        Value::Str(s) if s.starts_with('/') => eval.import_path(Path::new(&*s), None),
        Value::Unknown(r) => Value::Unknown(r),
        other => Value::unknown(format!("cannot import a {}", other.type_name())),
    }
}
fn base_name_of(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    let s = tri!(arg_str(eval, &args[0]));
    Value::str(s.trim_end_matches('/').rsplit('/').next().unwrap_or(""))
}
fn dir_of(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Path(p) => Value::Path(p.parent().unwrap_or(&p).into()),
        Value::Str(s) => Value::str(
            s.rsplit_once('/')
                .map_or(".", |(d, _)| if d.is_empty() { "/" } else { d }),
        ),
        other => unknown_or(other, "dirOf of a non-path"),
    }
}
fn seq(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    eval.force(&args[0]);
    eval.force(&args[1])
}
fn to_json(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Str(s) => Value::str(serde_json::Value::String(s.to_string()).to_string()),
        Value::Int(i) => Value::str(i.to_string()),
        Value::Bool(b) => Value::str(b.to_string()),
        Value::Null => Value::str("null"),
        other => unknown_or(other, "toJSON of a complex value"),
    }
}
fn try_eval(eval: &mut Evaluator, args: &[Thunk]) -> Value {
    match eval.force(&args[0]) {
        Value::Unknown(r) if r.starts_with("throw") || r.starts_with("assertion") => {
            attrs_value(vec![
                ("success", Value::Bool(false)),
                ("value", Value::Bool(false)),
            ])
        }
        Value::Unknown(r) => Value::Unknown(r),
        v => attrs_value(vec![("success", Value::Bool(true)), ("value", v)]),
    }
}
fn impure(_: &mut Evaluator, _: &[Thunk]) -> Value {
    Value::unknown("impure or unsupported builtin")
}

fn options_and_modules(set: &mut Attrs) {
    let entries: Vec<(&'static str, Value)> = vec![
        ("mkOption", prim("mkOption", 1, mk_option)),
        (
            "mkEnableOption",
            prim("mkEnableOption", 1, mk_enable_option),
        ),
        (
            "mkPackageOption",
            prim("mkPackageOption", 3, mk_package_option),
        ),
        (
            "mkPackageOptionMD",
            prim("mkPackageOptionMD", 3, mk_package_option),
        ),
        (
            "mkSinkUndeclaredOptions",
            prim("mkSinkUndeclaredOptions", 1, mk_sink_undeclared_options),
        ),
        (
            "literalExpression",
            prim("literalExpression", 1, |_, a| {
                literal("literalExpression", a[0].clone())
            }),
        ),
        (
            "literalExample",
            prim("literalExample", 1, |_, a| {
                literal("literalExpression", a[0].clone())
            }),
        ),
        (
            "literalMD",
            prim("literalMD", 1, |_, a| literal("literalMD", a[0].clone())),
        ),
        ("mdDoc", prim("mdDoc", 1, identity)),
        (
            "mkRenamedOptionModule",
            prim("mkRenamedOptionModule", 2, mk_renamed),
        ),
        (
            "mkRenamedOptionModuleWith",
            prim("mkRenamedOptionModuleWith", 1, mk_renamed_with),
        ),
        (
            "mkAliasOptionModule",
            prim("mkAliasOptionModule", 2, mk_alias),
        ),
        (
            "mkAliasOptionModuleMD",
            prim("mkAliasOptionModuleMD", 2, mk_alias),
        ),
        (
            "mkRemovedOptionModule",
            prim("mkRemovedOptionModule", 2, mk_removed),
        ),
        (
            "mkChangedOptionModule",
            prim("mkChangedOptionModule", 3, mk_changed),
        ),
        (
            "mkMergedOptionModule",
            prim("mkMergedOptionModule", 3, mk_merged),
        ),
        (
            "mkIf",
            prim("mkIf", 2, |_, a| {
                property(
                    "if",
                    vec![("condition", a[0].clone()), ("content", a[1].clone())],
                )
            }),
        ),
        (
            "mkMerge",
            prim("mkMerge", 1, |_, a| {
                property("merge", vec![("contents", a[0].clone())])
            }),
        ),
        ("mkOverride", prim("mkOverride", 2, mk_override)),
        ("mkOrder", prim("mkOrder", 2, mk_order)),
        ("mkDefault", with_priority("mkDefault", mk_override, 1000)),
        ("mkForce", with_priority("mkForce", mk_override, 50)),
        (
            "mkOptionDefault",
            with_priority("mkOptionDefault", mk_override, 1500),
        ),
        (
            "mkImageMediaOverride",
            with_priority("mkImageMediaOverride", mk_override, 60),
        ),
        (
            "mkVMOverride",
            with_priority("mkVMOverride", mk_override, 10),
        ),
        ("mkBefore", with_priority("mkBefore", mk_order, 500)),
        ("mkAfter", with_priority("mkAfter", mk_order, 1500)),
        ("mkOptionType", prim("mkOptionType", 1, mk_option_type)),
        ("isType", prim("isType", 2, is_type)),
        (
            "isOption",
            prim("isOption", 1, |e, a| {
                is_type(e, &[Thunk::value(Value::str("option")), a[0].clone()])
            }),
        ),
        (
            "showOption",
            prim("showOption", 1, |e, a| match string_list(e, &a[0]) {
                Ok(loc) => Value::str(show_option(&loc)),
                Err(u) => u,
            }),
        ),
    ];
    for (name, value) in entries {
        set.insert(name, Thunk::value(value));
    }
}

fn strings_lists_attrsets(set: &mut Attrs) {
    let entries: Vec<(&'static str, Value)> = vec![
        ("concatStrings", prim("concatStrings", 1, concat_strings)),
        (
            "concatStringsSep",
            prim("concatStringsSep", 2, concat_strings_sep),
        ),
        (
            "concatMapStrings",
            prim("concatMapStrings", 2, concat_map_strings),
        ),
        (
            "concatMapStringsSep",
            prim("concatMapStringsSep", 3, concat_map_strings_sep),
        ),
        ("optionalString", prim("optionalString", 2, optional_string)),
        ("hasPrefix", prim("hasPrefix", 2, has_prefix)),
        ("hasSuffix", prim("hasSuffix", 2, has_suffix)),
        ("hasInfix", prim("hasInfix", 2, has_infix)),
        ("removePrefix", prim("removePrefix", 2, remove_prefix)),
        ("removeSuffix", prim("removeSuffix", 2, remove_suffix)),
        ("toUpper", prim("toUpper", 1, to_upper)),
        ("toLower", prim("toLower", 1, to_lower)),
        ("stringLength", prim("stringLength", 1, string_length)),
        ("substring", prim("substring", 3, substring)),
        ("replaceStrings", prim("replaceStrings", 3, replace_strings)),
        ("splitString", prim("splitString", 2, split_string)),
        (
            "escapeShellArg",
            prim("escapeShellArg", 1, escape_shell_arg),
        ),
        ("toString", prim("toString", 1, to_string)),
        ("boolToString", prim("boolToString", 1, bool_to_string)),
        ("map", prim("map", 2, map)),
        ("filter", prim("filter", 2, filter)),
        ("concatLists", prim("concatLists", 1, concat_lists)),
        ("concatMap", prim("concatMap", 2, concat_map)),
        ("flatten", prim("flatten", 1, flatten)),
        ("optional", prim("optional", 2, optional)),
        ("optionals", prim("optionals", 2, optionals)),
        ("toList", prim("toList", 1, to_list_prim)),
        ("head", prim("head", 1, head)),
        ("last", prim("last", 1, last)),
        ("tail", prim("tail", 1, tail)),
        ("length", prim("length", 1, length)),
        ("elemAt", prim("elemAt", 2, elem_at)),
        ("elem", prim("elem", 2, elem)),
        ("any", prim("any", 2, any)),
        ("all", prim("all", 2, all)),
        ("foldl", prim("foldl", 3, foldl)),
        ("foldl'", prim("foldl'", 3, foldl)),
        ("foldr", prim("foldr", 3, foldr)),
        ("genList", prim("genList", 2, gen_list)),
        ("range", prim("range", 2, range)),
        ("reverseList", prim("reverseList", 1, reverse_list)),
        ("unique", prim("unique", 1, unique_list)),
        ("attrNames", prim("attrNames", 1, attr_names)),
        ("attrValues", prim("attrValues", 1, attr_values)),
        ("hasAttr", prim("hasAttr", 2, has_attr)),
        ("getAttr", prim("getAttr", 2, get_attr)),
        ("removeAttrs", prim("removeAttrs", 2, remove_attrs)),
        ("mapAttrs", prim("mapAttrs", 2, map_attrs)),
        (
            "mapAttrsToList",
            prim("mapAttrsToList", 2, map_attrs_to_list),
        ),
        ("filterAttrs", prim("filterAttrs", 2, filter_attrs)),
        ("listToAttrs", prim("listToAttrs", 1, list_to_attrs)),
        ("nameValuePair", prim("nameValuePair", 2, name_value_pair)),
        ("genAttrs", prim("genAttrs", 2, gen_attrs)),
        ("optionalAttrs", prim("optionalAttrs", 2, optional_attrs)),
        (
            "recursiveUpdate",
            prim("recursiveUpdate", 2, recursive_update),
        ),
        ("attrByPath", prim("attrByPath", 3, attr_by_path)),
        (
            "getAttrFromPath",
            prim("getAttrFromPath", 2, get_attr_from_path),
        ),
        ("setAttrByPath", prim("setAttrByPath", 2, set_attr_by_path)),
        ("catAttrs", prim("catAttrs", 2, cat_attrs)),
        ("id", prim("id", 1, identity)),
        ("const", prim("const", 2, constant)),
        ("flip", prim("flip", 3, flip)),
        ("pipe", prim("pipe", 2, pipe)),
        ("warn", prim("warn", 2, second)),
        ("warnIf", prim("warnIf", 3, third)),
        ("warnIfNot", prim("warnIfNot", 3, third)),
        ("throwIf", prim("throwIf", 3, throw_if)),
        ("throwIfNot", prim("throwIfNot", 3, throw_if_not)),
        ("trace", prim("trace", 2, second)),
        ("seq", prim("seq", 2, seq)),
        ("deepSeq", prim("deepSeq", 2, second)),
        ("min", prim("min", 2, min)),
        ("max", prim("max", 2, max)),
        ("mod", prim("mod", 2, modulo)),
        ("isString", prim("isString", 1, is_kind("string"))),
        ("isInt", prim("isInt", 1, is_kind("int"))),
        ("isBool", prim("isBool", 1, is_kind("bool"))),
        ("isList", prim("isList", 1, is_kind("list"))),
        ("isAttrs", prim("isAttrs", 1, is_kind("set"))),
        ("isFunction", prim("isFunction", 1, is_kind("lambda"))),
        ("isPath", prim("isPath", 1, is_kind("path"))),
        ("isFloat", prim("isFloat", 1, is_kind("float"))),
        ("functionArgs", prim("functionArgs", 1, function_args)),
        ("typeOf", prim("typeOf", 1, type_of)),
    ];
    for (name, value) in entries {
        set.insert(name, Thunk::value(value));
    }
}

/// Build `lib` and `builtins`.
pub(super) fn build() -> (Value, Value) {
    let mut lib = Attrs::default();
    options_and_modules(&mut lib);
    strings_lists_attrsets(&mut lib);
    let types = types_set();
    lib.insert("types", Thunk::value(types));
    // Sub-libraries (`lib.options.mkOption`, `lib.strings.hasPrefix`, ...)
    // share the same functions.
    let flat = Rc::new(Attrs {
        entries: lib.entries.clone(),
    });
    for name in [
        "options", "modules", "strings", "lists", "attrsets", "trivial",
    ] {
        lib.insert(name, Thunk::value(Value::Attrs(flat.clone())));
    }
    lib.insert("micros", Thunk::value(Value::unknown("lib.micros")));
    lib.insert(
        "maintainers",
        Thunk::value(Value::unknown("lib.maintainers")),
    );
    lib.insert("teams", Thunk::value(Value::unknown("lib.teams")));
    lib.insert("version", Thunk::value(Value::unknown("lib.version")));
    lib.insert(
        "fakeHash",
        Thunk::value(Value::str(
            "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )),
    );
    lib.insert("fakeSha256", Thunk::value(Value::str("0".repeat(52))));
    lib.insert("fakeSha512", Thunk::value(Value::str("0".repeat(128))));

    let mut builtins = Attrs::default();
    strings_lists_attrsets(&mut builtins);
    let extra: Vec<(&'static str, Value)> = vec![
        ("import", prim("import", 1, import)),
        ("throw", prim("throw", 1, throw)),
        ("abort", prim("abort", 1, throw)),
        ("baseNameOf", prim("baseNameOf", 1, base_name_of)),
        ("dirOf", prim("dirOf", 1, dir_of)),
        ("isNull", prim("isNull", 1, is_kind("null"))),
        ("toJSON", prim("toJSON", 1, to_json)),
        ("tryEval", prim("tryEval", 1, try_eval)),
        ("addErrorContext", prim("addErrorContext", 2, second)),
        (
            "unsafeDiscardStringContext",
            prim("unsafeDiscardStringContext", 1, identity),
        ),
        ("currentSystem", Value::unknown("builtins.currentSystem")),
        ("nixVersion", Value::unknown("builtins.nixVersion")),
        ("storeDir", Value::str("/nix/store")),
    ];
    for (name, value) in extra {
        builtins.insert(name, Thunk::value(value));
    }
    // Impure or store-touching builtins answer Unknown: static analysis
    // never reads, fetches or runs anything on a module's behalf.
    for name in [
        "readFile",
        "readDir",
        "pathExists",
        "fetchurl",
        "fetchTarball",
        "fetchGit",
        "fetchTree",
        "getEnv",
        "exec",
        "derivation",
        "storePath",
        "path",
        "filterSource",
        "toFile",
        "getFlake",
        "unsafeGetAttrPos",
        "match",
        "split",
        "hashString",
        "fromJSON",
        "fromTOML",
        "sort",
        "genericClosure",
        "placeholder",
        "findFile",
        "scopedImport",
    ] {
        builtins.insert(name, Thunk::value(prim(name, 1, impure)));
    }
    (Value::Attrs(Rc::new(lib)), Value::Attrs(Rc::new(builtins)))
}

/// The names Nix defines in every scope, without `builtins.`: its
/// constants and the primops registered without the `__` prefix
/// (`src/libexpr/primops.cc`, `primops/*.cc`). Every other builtin is
/// global only as `__name` (`__fetchurl`), which callers accept by prefix.
pub const GLOBAL_NAMES: &[&str] = &[
    "abort",
    "baseNameOf",
    "break",
    "builtins",
    "derivation",
    "derivationStrict",
    "dirOf",
    "false",
    "fetchFinalTree",
    "fetchGit",
    "fetchMercurial",
    "fetchTarball",
    "fetchTree",
    "fromTOML",
    "import",
    "isNull",
    "map",
    "null",
    "placeholder",
    "removeAttrs",
    "scopedImport",
    "throw",
    "toString",
    "true",
];

/// The global scope: `builtins` and the names Nix exposes without it.
pub(super) fn globals(builtins: Value) -> Env {
    let mut map = BTreeMap::new();
    let Value::Attrs(b) = &builtins else {
        unreachable!("builtins is a set")
    };
    for &name in GLOBAL_NAMES {
        if let Some(entry) = b.get(name) {
            map.insert(name.into(), entry.thunk.clone());
        }
    }
    map.insert("builtins".into(), Thunk::value(builtins.clone()));
    map.insert("true".into(), Thunk::value(Value::Bool(true)));
    map.insert("false".into(), Thunk::value(Value::Bool(false)));
    map.insert("null".into(), Thunk::value(Value::Null));
    Rc::new(Scope {
        kind: ScopeKind::Bindings(RefCell::new(map)),
        parent: None,
        file: FileId(u32::MAX),
    })
}
