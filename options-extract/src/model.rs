//! The option model: what an option is, independent of how it was obtained.

use std::fmt::Write as _;
use std::sync::Arc;

/// One declared option, as the module system sees it after merging every
/// declaration of the same path.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionDecl {
    /// Path segments. Inside `attrsOf (submodule ..)` the segment is
    /// `<name>`, inside `listOf (submodule ..)` it is `*`, as in nixpkgs.
    pub loc: Vec<String>,
    pub ty: OptionType,
    /// The declared `default`, rendered as Nix text.
    pub default: Option<Literal>,
    /// `defaultText`, which documentation shows instead of `default`.
    pub default_text: Option<Literal>,
    pub example: Option<Literal>,
    /// Markdown.
    pub description: Option<String>,
    pub declarations: Vec<Declaration>,
    pub read_only: bool,
    pub internal: bool,
    pub visible: Visibility,
}

impl OptionDecl {
    pub fn new(loc: Vec<String>, ty: OptionType) -> Self {
        OptionDecl {
            loc,
            ty,
            default: None,
            default_text: None,
            example: None,
            description: None,
            declarations: Vec::new(),
            read_only: false,
            internal: false,
            visible: Visibility::Visible,
        }
    }

    /// The dotted name nixpkgs uses as the options.json key
    /// (`lib.showOption`: segments that are not identifiers are quoted).
    pub fn name(&self) -> String {
        show_option(&self.loc)
    }

    /// The default as documentation shows it: `defaultText` when given,
    /// otherwise the default itself.
    pub fn shown_default(&self) -> Option<&Literal> {
        self.default_text.as_ref().or(self.default.as_ref())
    }
}

/// `lib.showOption`: joins segments with dots, quoting those that are not
/// plain identifiers, but leaving the placeholders `<name>` and `*` alone.
pub fn show_option(loc: &[String]) -> String {
    let mut out = String::new();
    for (i, segment) in loc.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let is_placeholder = segment == "*" || (segment.starts_with('<') && segment.ends_with('>'));
        if is_placeholder || is_nix_identifier(segment) {
            out.push_str(segment);
        } else {
            out.push_str(&quote_nix_string(segment));
        }
    }
    out
}

/// Whether `s` can stand unquoted as an attribute name.
pub fn is_nix_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-'))
        && !matches!(
            s,
            "if" | "then" | "else" | "assert" | "with" | "let" | "in" | "rec" | "inherit" | "or"
        )
}

/// A string as a double-quoted Nix string literal.
pub fn quote_nix_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Visibility {
    #[default]
    Visible,
    Hidden,
    /// `visible = "shallow"`: shown, but its sub-options are not.
    Shallow,
    /// `visible = "transparent"`: hidden, but its sub-options are shown.
    Transparent,
}

impl Visibility {
    pub fn is_visible(self) -> bool {
        matches!(self, Visibility::Visible | Visibility::Shallow)
    }
}

/// Text shown for a default or example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub kind: LiteralKind,
    pub text: String,
}

impl Literal {
    pub fn expression(text: impl Into<String>) -> Self {
        Literal {
            kind: LiteralKind::Expression,
            text: text.into(),
        }
    }
    pub fn markdown(text: impl Into<String>) -> Self {
        Literal {
            kind: LiteralKind::Markdown,
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// Nix source (`literalExpression`, or a plain value rendered as Nix).
    Expression,
    /// Markdown prose (`literalMD`).
    Markdown,
}

/// Where an option is declared.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Declaration {
    pub file: SourceFile,
    /// Byte range of the declaring attribute (`name = mkOption {..}`) in
    /// the file, when known.
    pub range: Option<(u32, u32)>,
    /// 1-based line and column of the range's start.
    pub line: u32,
    pub column: u32,
}

/// A file named relative to one of the roots the extractor was given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceFile {
    pub root: RootKind,
    /// Slash-separated path below the root.
    pub path: String,
}

impl SourceFile {
    /// The name options.json uses: `micros/modules/x.nix`,
    /// `<nixpkgs>/nixos/modules/x.nix`, or the path below the user's root.
    pub fn display_name(&self) -> String {
        match self.root {
            RootKind::Nixpkgs => format!("<nixpkgs>/{}", self.path),
            RootKind::Micros | RootKind::User => self.path.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootKind {
    Micros,
    Nixpkgs,
    User,
}

/// A member of an `enum` type.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumValue {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Something else (a float, a path, a list...): only its kind is kept.
    Other(String),
}

impl EnumValue {
    /// As nixpkgs' `types.enum` shows a member.
    pub fn show(&self) -> String {
        match self {
            EnumValue::Str(s) => format!("\"{s}\""),
            EnumValue::Int(i) => i.to_string(),
            EnumValue::Bool(b) => b.to_string(),
            EnumValue::Other(kind) => format!("<{kind}>"),
        }
    }
}

/// The options of a submodule, with locs relative to the submodule.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Submodule {
    pub options: Vec<OptionDecl>,
    /// `freeformType`: the type of definitions that match no option.
    pub freeform: Option<OptionType>,
    /// Whether the submodule was given in the shorthand form only, so that
    /// definitions of it may be any attribute set (`shorthandOnlyDefinesConfig`).
    pub shorthand_only_defines_config: bool,
}

/// Structured option type, close to nixpkgs' `lib.types`.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionType {
    Bool,
    /// `int`, `ints.*`, `port`. The bounds are inclusive.
    Int(IntType),
    Float,
    /// `number`, `numbers.*`: an int or a float.
    Number {
        min: Option<f64>,
        max: Option<f64>,
        description: String,
    },
    Str,
    /// `nonEmptyStr`, `singleLineStr`, `passwdEntry str` and other string
    /// refinements nixpkgs names itself.
    StrRefined {
        kind: StrRefinement,
    },
    /// `separatedString sep`; `lines` is `"\n"`, `commas` is `","`.
    SeparatedString(String),
    /// `path`: an absolute path or a string starting with `/`.
    Path,
    /// `pathInStore`.
    PathInStore,
    Package,
    ShellPackage,
    Enum(Vec<EnumValue>),
    /// `strMatching`: the regex, after Nix string unescaping.
    StrMatching(String),
    NullOr(Box<OptionType>),
    ListOf(Box<OptionType>),
    NonEmptyListOf(Box<OptionType>),
    AttrsOf(Box<OptionType>),
    LazyAttrsOf(Box<OptionType>),
    Submodule(Arc<Submodule>),
    Either(Box<OptionType>, Box<OptionType>),
    /// `oneOf [..]`; nixpkgs folds it into `either`, we keep the members.
    OneOf(Vec<OptionType>),
    CoercedTo {
        from: Box<OptionType>,
        to: Box<OptionType>,
    },
    /// `addCheck t f`: `t` plus a predicate we cannot see.
    AddCheck(Box<OptionType>),
    /// `uniq t` / `unique { message } t`.
    Uniq(Box<OptionType>),
    FunctionTo(Box<OptionType>),
    /// `dagOf t` (micros's extended lib).
    DagOf(Box<OptionType>),
    Unspecified,
    Anything,
    Raw,
    /// `attrs`: any attribute set.
    Attrs,
    /// `functionTo`-less `function` type: any function.
    Function,
    /// `optionType`: the type of option types.
    OptionTypeType,
    /// A type made with `mkOptionType`, or one whose `description` was
    /// overridden with `//`. `base` is what it refines, when known.
    Custom {
        name: String,
        description: String,
        base: Option<Box<OptionType>>,
    },
    /// What the extractor could not resolve; keeps the source text.
    Unknown(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrRefinement {
    NonEmpty,
    SingleLine,
    /// `passwdEntry str`: no newlines or colons.
    PasswdEntry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntType {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub kind: IntKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntKind {
    /// `int`
    Signed,
    /// `ints.unsigned`
    Unsigned,
    /// `ints.positive`
    Positive,
    /// `ints.between a b`
    Between,
    /// `ints.u8` .. `ints.u32`, `port` (`bits` says which)
    UnsignedBits(u8),
    /// `ints.s8` .. `ints.s32`
    SignedBits(u8),
}

impl IntType {
    pub fn signed() -> Self {
        IntType {
            min: None,
            max: None,
            kind: IntKind::Signed,
        }
    }
    pub fn between(min: i64, max: i64) -> Self {
        IntType {
            min: Some(min),
            max: Some(max),
            kind: IntKind::Between,
        }
    }
    pub fn unsigned_bits(bits: u8) -> Self {
        let max = (1i64 << bits) - 1;
        IntType {
            min: Some(0),
            max: Some(max),
            kind: IntKind::UnsignedBits(bits),
        }
    }
    pub fn signed_bits(bits: u8) -> Self {
        let half = 1i64 << (bits - 1);
        IntType {
            min: Some(-half),
            max: Some(half - 1),
            kind: IntKind::SignedBits(bits),
        }
    }
    pub fn contains(&self, value: i64) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

/// How nixpkgs decides whether a nested type's description needs
/// parentheses (`descriptionClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DescriptionClass {
    Noun,
    Conjunction,
    Composite,
    Nonrestrictive,
    None,
}

impl OptionType {
    pub fn port() -> Self {
        OptionType::Int(IntType::unsigned_bits(16))
    }
    pub fn lines() -> Self {
        OptionType::SeparatedString("\n".into())
    }

    /// The human description nixpkgs renders for this type
    /// (`type.description`), e.g. `null or signed integer`.
    pub fn description(&self) -> String {
        use OptionType::*;
        match self {
            Bool => "boolean".into(),
            Int(int) => int.description(),
            Float => "floating point number".into(),
            Number { description, .. } => description.clone(),
            Str => "string".into(),
            StrRefined {
                kind: StrRefinement::NonEmpty,
            } => "non-empty string".into(),
            StrRefined {
                kind: StrRefinement::SingleLine,
            } => "(optionally newline-terminated) single-line string".into(),
            StrRefined {
                kind: StrRefinement::PasswdEntry,
            } => "string, not containing newlines or colons".into(),
            SeparatedString(sep) => {
                format!("strings concatenated with {}", json_string(sep))
            }
            Path => "absolute path".into(),
            PathInStore => "path in the Nix store".into(),
            Package => "package".into(),
            // `shellPackage` is `package // { check = ..; }`: same name.
            ShellPackage => "package".into(),
            Enum(values) => match values.as_slice() {
                [] => "impossible (empty enum)".into(),
                [single] => format!("value {} (singular enum)", single.show()),
                many => {
                    let shown: Vec<String> = many.iter().map(EnumValue::show).collect();
                    format!("one of {}", shown.join(", "))
                }
            },
            StrMatching(pattern) => format!("string matching the pattern {pattern}"),
            NullOr(inner) => format!(
                "null or {}",
                inner.phrase(|c| matches!(
                    c,
                    DescriptionClass::Noun | DescriptionClass::Conjunction
                ))
            ),
            ListOf(inner) => format!("list of {}", inner.phrase(noun_or_composite)),
            NonEmptyListOf(inner) => {
                let list = ListOf(inner.clone());
                format!("non-empty {}", list.phrase(|c| c == DescriptionClass::Noun))
            }
            AttrsOf(inner) => format!("attribute set of {}", inner.phrase(noun_or_composite)),
            LazyAttrsOf(inner) => {
                format!("lazy attribute set of {}", inner.phrase(noun_or_composite))
            }
            Submodule(sub) => match &sub.freeform {
                Some(freeform) => {
                    format!("open submodule of {}", freeform.phrase(noun_or_composite))
                }
                None => "submodule".into(),
            },
            Either(left, right) => either_description(left, right),
            OneOf(members) => match members.split_first() {
                None => "impossible (empty oneOf)".into(),
                // nixpkgs folds `oneOf` into nested `either`s from the left:
                // spelled out here, as nesting them would recurse once per
                // member and copy the list as often.
                Some((first, [])) => first.description(),
                Some((first, rest)) => {
                    let noun_or_conjunction =
                        |c| matches!(c, DescriptionClass::Noun | DescriptionClass::Conjunction);
                    let right_side = |c| noun_or_conjunction(c) || c == DescriptionClass::Composite;
                    let mut rest = rest.iter();
                    // The innermost `either`, then one right side per member.
                    let mut text = if first.description_class() == DescriptionClass::Nonrestrictive
                    {
                        let second = rest.next().expect("two members at least");
                        format!(
                            "{}, or {}",
                            first.description(),
                            second.phrase(noun_or_conjunction)
                        )
                    } else {
                        first.phrase(noun_or_conjunction)
                    };
                    for member in rest {
                        text.push_str(" or ");
                        text.push_str(&member.phrase(right_side));
                    }
                    text
                }
            },
            CoercedTo { from, to } => format!(
                "{} or {} convertible to it",
                to.phrase(|c| c == DescriptionClass::Noun),
                from.phrase(|c| c == DescriptionClass::Noun)
            ),
            AddCheck(inner) | Uniq(inner) => inner.description(),
            FunctionTo(inner) => format!(
                "function that evaluates to a(n) {}",
                inner.phrase(noun_or_composite)
            ),
            DagOf(inner) => format!("DAG of {}", inner.description()),
            Unspecified => "unspecified value".into(),
            Anything => "anything".into(),
            Raw => "raw value".into(),
            Attrs => "attribute set".into(),
            Function => "function".into(),
            OptionTypeType => "optionType".into(),
            Custom { description, .. } => description.clone(),
            Unknown(source) => format!("unknown type `{source}`"),
        }
    }

    fn description_class(&self) -> DescriptionClass {
        use OptionType::*;
        match self {
            Bool
            | Float
            | Str
            | Path
            | PathInStore
            | Package
            | ShellPackage
            | Unspecified
            | Anything
            | Raw
            | Function
            | SeparatedString(_)
            | StrMatching(_)
            | OptionTypeType
            | Number { .. } => DescriptionClass::Noun,
            StrRefined {
                kind: StrRefinement::NonEmpty | StrRefinement::SingleLine,
            } => DescriptionClass::Noun,
            StrRefined {
                kind: StrRefinement::PasswdEntry,
            } => DescriptionClass::Nonrestrictive,
            // `ints.between` and the sized ints are `addCheck int ..`, so they
            // keep `int`'s class; `unsigned` and `positive` set their own.
            Int(int) => match int.kind {
                IntKind::Unsigned | IntKind::Positive => DescriptionClass::Nonrestrictive,
                _ => DescriptionClass::Noun,
            },
            Enum(values) if values.len() < 2 => DescriptionClass::Noun,
            Enum(_) | NullOr(_) | Either(_, _) | OneOf(_) => DescriptionClass::Conjunction,
            ListOf(_) | AttrsOf(_) | LazyAttrsOf(_) | FunctionTo(_) => DescriptionClass::Composite,
            // `nonEmptyListOf` is `addCheck (listOf ..)`, so it stays composite.
            NonEmptyListOf(_) => DescriptionClass::Composite,
            AddCheck(inner) | Uniq(inner) => inner.description_class(),
            // `t // { description = ..; }` keeps `t`'s class.
            Custom {
                base: Some(base), ..
            } => base.description_class(),
            Attrs | Submodule(_) | CoercedTo { .. } | DagOf(_) | Custom { .. } | Unknown(_) => {
                DescriptionClass::None
            }
        }
    }

    /// `optionDescriptionPhrase`: the description, parenthesized unless its
    /// class is one the context accepts bare.
    fn phrase(&self, bare: impl Fn(DescriptionClass) -> bool) -> String {
        if bare(self.description_class()) {
            self.description()
        } else {
            format!("({})", self.description())
        }
    }

    /// Sub-options for documentation and completion, with the placeholder
    /// segment nixpkgs inserts (`<name>`, `*`), as `getSubOptions` does.
    pub fn sub_options(&self) -> Option<(Vec<&'static str>, &Arc<Submodule>)> {
        use OptionType::*;
        match self {
            Submodule(sub) => Some((Vec::new(), sub)),
            NullOr(inner) | AddCheck(inner) | Uniq(inner) => inner.sub_options(),
            CoercedTo { to, .. } => to.sub_options(),
            AttrsOf(inner) | LazyAttrsOf(inner) | DagOf(inner) => {
                inner.sub_options().map(|(mut prefix, sub)| {
                    prefix.insert(0, "<name>");
                    (prefix, sub)
                })
            }
            ListOf(inner) | NonEmptyListOf(inner) => {
                inner.sub_options().map(|(mut prefix, sub)| {
                    prefix.insert(0, "*");
                    (prefix, sub)
                })
            }
            FunctionTo(inner) => inner.sub_options().map(|(mut prefix, sub)| {
                prefix.insert(0, "<function body>");
                (prefix, sub)
            }),
            Custom {
                base: Some(base), ..
            } => base.sub_options(),
            _ => None,
        }
    }

    /// The default nixpkgs documents for an option of this type that
    /// declares none (the type's `emptyValue`), as Nix text. Like
    /// `optionAttrSetToDocList`, only for types without submodules.
    pub fn documented_empty_value(&self) -> Option<&'static str> {
        if self.sub_options().is_some() {
            return None;
        }
        self.empty_value()
    }

    fn empty_value(&self) -> Option<&'static str> {
        use OptionType::*;
        match self {
            NullOr(_) => Some("null"),
            ListOf(_) => Some("[ ]"),
            AttrsOf(_) | LazyAttrsOf(_) | DagOf(_) | Submodule(_) | Attrs => Some("{ }"),
            AddCheck(inner) | Uniq(inner) => inner.empty_value(),
            CoercedTo { to, .. } => to.empty_value(),
            Custom {
                base: Some(base), ..
            } => base.empty_value(),
            _ => None,
        }
    }

    /// Whether anything in this type could not be resolved statically.
    pub fn has_unknown(&self) -> bool {
        use OptionType::*;
        match self {
            Unknown(_) => true,
            NullOr(t) | ListOf(t) | NonEmptyListOf(t) | AttrsOf(t) | LazyAttrsOf(t)
            | AddCheck(t) | Uniq(t) | FunctionTo(t) | DagOf(t) => t.has_unknown(),
            Either(a, b) | CoercedTo { from: a, to: b } => a.has_unknown() || b.has_unknown(),
            OneOf(members) => members.iter().any(OptionType::has_unknown),
            Custom {
                base: Some(base), ..
            } => base.has_unknown(),
            _ => false,
        }
    }
}

fn noun_or_composite(class: DescriptionClass) -> bool {
    matches!(class, DescriptionClass::Noun | DescriptionClass::Composite)
}

fn either_description(left: &OptionType, right: &OptionType) -> String {
    if left.description_class() == DescriptionClass::Nonrestrictive {
        return format!(
            "{}, or {}",
            left.description(),
            right.phrase(|c| matches!(c, DescriptionClass::Noun | DescriptionClass::Conjunction))
        );
    }
    format!(
        "{} or {}",
        left.phrase(|c| matches!(c, DescriptionClass::Noun | DescriptionClass::Conjunction)),
        right.phrase(|c| matches!(
            c,
            DescriptionClass::Noun | DescriptionClass::Conjunction | DescriptionClass::Composite
        ))
    )
}

impl IntType {
    pub fn description(&self) -> String {
        match self.kind {
            IntKind::Signed => "signed integer".into(),
            IntKind::Unsigned => "unsigned integer, meaning >=0".into(),
            IntKind::Positive => "positive integer, meaning >0".into(),
            IntKind::Between => format!(
                "integer between {} and {} (both inclusive)",
                self.min.unwrap_or(i64::MIN),
                self.max.unwrap_or(i64::MAX)
            ),
            IntKind::UnsignedBits(bits) => format!(
                "{bits} bit unsigned integer; between {} and {} (both inclusive)",
                self.min.unwrap_or(0),
                self.max.unwrap_or(i64::MAX)
            ),
            IntKind::SignedBits(bits) => format!(
                "{bits} bit signed integer; between {} and {} (both inclusive)",
                self.min.unwrap_or(i64::MIN),
                self.max.unwrap_or(i64::MAX)
            ),
        }
    }
}

/// `builtins.toJSON` of a string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A renamed, aliased or removed option, from `mkRenamedOptionModule`,
/// `mkAliasOptionModule` and `mkRemovedOptionModule`.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionMigration {
    pub from: Vec<String>,
    pub kind: MigrationKind,
    pub declaration: Declaration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MigrationKind {
    /// Renamed; definitions still work but warn.
    Renamed { to: Vec<String> },
    /// An alias without a warning.
    Alias { to: Vec<String> },
    /// Gone; `message` says what to do instead.
    Removed { message: String },
}

/// Everything extracted: the options (top level, sub-options inside their
/// submodule types) and the migrations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OptionSet {
    /// Sorted by `loc`.
    pub options: Vec<OptionDecl>,
    pub migrations: Vec<OptionMigration>,
}

impl OptionSet {
    /// Every option, sub-options of submodules included with their full loc
    /// (as `optionAttrSetToDocList` lists them), in loc order.
    pub fn flatten(&self) -> Vec<OptionDecl> {
        let mut out = Vec::new();
        flatten_into(&self.options, &[], &mut out);
        out.sort_by(|a, b| a.loc.cmp(&b.loc));
        out
    }

    /// The top-level option with this exact loc.
    pub fn get(&self, loc: &[String]) -> Option<&OptionDecl> {
        self.options
            .binary_search_by(|o| o.loc.as_slice().cmp(loc))
            .ok()
            .map(|i| &self.options[i])
    }
}

fn flatten_into(options: &[OptionDecl], prefix: &[String], out: &mut Vec<OptionDecl>) {
    for option in options {
        let mut full = option.clone();
        full.loc = prefix.iter().chain(option.loc.iter()).cloned().collect();
        // As `optionAttrSetToDocList`: sub-options are listed when the option
        // is visible or "transparent".
        let sub_visible = matches!(
            option.visible,
            Visibility::Visible | Visibility::Transparent
        );
        let sub = if sub_visible {
            option.ty.sub_options()
        } else {
            None
        };
        if let Some((placeholders, submodule)) = sub {
            let mut sub_prefix = full.loc.clone();
            sub_prefix.extend(placeholders.iter().map(|s| s.to_string()));
            flatten_into(&submodule.options, &sub_prefix, out);
        }
        out.push(full);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(t: OptionType) -> Box<OptionType> {
        Box::new(t)
    }

    #[test]
    fn descriptions_match_nixpkgs() {
        use OptionType::*;
        let cases = [
            (NullOr(b(Int(IntType::signed()))), "null or signed integer"),
            (
                ListOf(b(OptionType::port())),
                "list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)",
            ),
            (
                Enum(vec![
                    EnumValue::Str("longrun".into()),
                    EnumValue::Str("oneshot".into()),
                ]),
                "one of \"longrun\", \"oneshot\"",
            ),
            (
                AttrsOf(b(Submodule(Default::default()))),
                "attribute set of (submodule)",
            ),
            (
                NullOr(b(Int(IntType {
                    min: Some(0),
                    max: None,
                    kind: IntKind::Unsigned,
                }))),
                "null or (unsigned integer, meaning >=0)",
            ),
            (
                Either(
                    b(Bool),
                    b(Enum(vec![
                        EnumValue::Str("strict".into()),
                        EnumValue::Str("loose".into()),
                    ])),
                ),
                "boolean or one of \"strict\", \"loose\"",
            ),
            (
                CoercedTo {
                    from: b(ListOf(b(Str))),
                    to: b(AttrsOf(b(Bool))),
                },
                "(attribute set of boolean) or (list of string) convertible to it",
            ),
            (
                OneOf(vec![Str, Int(IntType::signed()), Bool, Path, Package]),
                "string or signed integer or boolean or absolute path or package",
            ),
            (
                Either(b(Str), b(FunctionTo(b(Str)))),
                "string or function that evaluates to a(n) string",
            ),
            (
                NullOr(b(OptionType::lines())),
                "null or strings concatenated with \"\\n\"",
            ),
            (
                ListOf(b(Enum(vec![EnumValue::Str("dependencies".into())]))),
                "list of value \"dependencies\" (singular enum)",
            ),
            (NullOr(b(ListOf(b(Str)))), "null or (list of string)"),
        ];
        for (ty, expected) in cases {
            assert_eq!(ty.description(), expected, "{ty:?}");
        }
    }

    /// `oneOf` reads as the nested `either`s nixpkgs folds it into, for
    /// every kind of member in every place, and a long one costs no stack.
    #[test]
    fn one_of_reads_as_nested_eithers() {
        use OptionType::*;
        let kinds = [
            Str,
            Int(IntType::unsigned_bits(8)),
            Int(IntType::between(0, 1)),
            NullOr(b(Bool)),
            ListOf(b(Str)),
            Submodule(Arc::default()),
            Enum(vec![]),
        ];
        for a in &kinds {
            for bb in &kinds {
                for c in &kinds {
                    let members = vec![a.clone(), bb.clone(), c.clone()];
                    let nested = Either(b(Either(b(a.clone()), b(bb.clone()))), b(c.clone()));
                    assert_eq!(OneOf(members).description(), nested.description());
                    let pair = Either(b(a.clone()), b(bb.clone()));
                    assert_eq!(
                        OneOf(vec![a.clone(), bb.clone()]).description(),
                        pair.description()
                    );
                }
            }
        }
        let long = OneOf(vec![Bool; 200_000]);
        assert_eq!(long.description().len(), 200_000 * 11 - 4);
    }

    #[test]
    fn show_option_quotes_what_is_not_an_identifier() {
        let loc: Vec<String> = ["boot", "kernel", "sysctl", "net.ipv4.ip_forward"]
            .map(String::from)
            .into();
        assert_eq!(
            show_option(&loc),
            "boot.kernel.sysctl.\"net.ipv4.ip_forward\""
        );
        let loc: Vec<String> = ["users", "<name>", "uid"].map(String::from).into();
        assert_eq!(show_option(&loc), "users.<name>.uid");
    }

    #[test]
    fn int_bounds() {
        let port = IntType::unsigned_bits(16);
        assert!(
            port.contains(0) && port.contains(65535) && !port.contains(65536) && !port.contains(-1)
        );
        let s8 = IntType::signed_bits(8);
        assert_eq!((s8.min, s8.max), (Some(-128), Some(127)));
    }
}
