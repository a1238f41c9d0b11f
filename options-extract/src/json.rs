//! options.json in the nixpkgs schema (`lib.optionAttrSetToDocList` keyed by
//! name), both ways.
//!
//! Writing produces exactly the fields nixpkgs does, plus `declarationPositions`
//! (our extension: where in each file the option is declared), which other
//! readers ignore. Reading is lenient: unknown fields are ignored,
//! declarations may be strings or `{ name, url }` objects, defaults may be
//! literal objects or plain JSON values, and the structured type is recovered
//! from its description.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::{
    Declaration, EnumValue, IntKind, IntType, Literal, LiteralKind, OptionDecl, OptionSet,
    OptionType, RootKind, SourceFile, StrRefinement, Submodule, Visibility, quote_nix_string,
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonOption {
    #[serde(default)]
    pub declarations: Vec<JsonDeclaration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_positions: Option<Vec<JsonPosition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<JsonLiteral>,
    /// Always written (as `null` when absent), as nixpkgs does.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<JsonLiteral>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub loc: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    #[serde(default = "yes")]
    pub visible: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JsonDeclaration {
    Path(String),
    Linked { name: String, url: Option<String> },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct JsonPosition {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JsonLiteral {
    Literal {
        #[serde(rename = "_type")]
        kind: String,
        text: String,
    },
    /// Older options.json files carry plain values.
    Plain(serde_json::Value),
}

/// Serialize an option set as options.json. `include_internal` keeps
/// internal options, which documentation usually leaves out.
pub fn to_json(set: &OptionSet, include_internal: bool) -> String {
    let mut map = BTreeMap::new();
    for option in set.flatten() {
        if option.internal && !include_internal {
            continue;
        }
        map.insert(option.name(), to_json_option(&option));
    }
    let mut text = serde_json::to_string_pretty(&map).expect("options serialize");
    text.push('\n');
    text
}

fn to_json_option(option: &OptionDecl) -> JsonOption {
    let positions: Vec<JsonPosition> = option
        .declarations
        .iter()
        .filter_map(|d| {
            d.range.map(|(start, end)| JsonPosition {
                file: d.file.display_name(),
                line: d.line,
                column: d.column,
                start,
                end,
            })
        })
        .collect();
    JsonOption {
        declarations: option
            .declarations
            .iter()
            .map(|d| JsonDeclaration::Path(d.file.display_name()))
            .collect(),
        declaration_positions: (!positions.is_empty()).then_some(positions),
        default: option.shown_default().map(literal_json),
        description: option.description.clone(),
        example: option.example.as_ref().map(literal_json),
        internal: option.internal,
        loc: option.loc.clone(),
        read_only: option.read_only,
        ty: Some(option.ty.description()),
        visible: matches!(option.visible, Visibility::Visible | Visibility::Shallow),
    }
}

fn literal_json(literal: &Literal) -> JsonLiteral {
    let kind = match literal.kind {
        LiteralKind::Expression => "literalExpression",
        LiteralKind::Markdown => "literalMD",
    };
    JsonLiteral::Literal {
        kind: kind.into(),
        text: literal.text.clone(),
    }
}

/// A read error with the position serde reports.
#[derive(Debug)]
pub struct ReadError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Read options.json. Sub-options (`users.<name>.uid`) are put back into
/// their option's submodule type.
pub fn from_json(text: &str) -> Result<OptionSet, ReadError> {
    read_entries(text).map(into_set)
}

/// [`from_json`] for a text the caller no longer needs: it is dropped once
/// its entries are read, before the set is put together (a large file is a
/// third of the reading's peak memory).
pub fn from_json_text(text: String) -> Result<OptionSet, ReadError> {
    let entries = read_entries(&text)?;
    drop(text);
    Ok(into_set(entries))
}

fn read_entries(text: &str) -> Result<Vec<(String, OptionDecl)>, ReadError> {
    // Each entry becomes an option as soon as it is read: holding every
    // entry's JSON form first would cost as much again as the set.
    let Options(flat) = serde_json::from_str(text).map_err(|e| ReadError {
        line: e.line(),
        column: e.column(),
        message: format!(
            "{e}; expected an options.json object mapping option names to {{ loc, type, description, ... }}"
        )
        .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })?;
    Ok(flat)
}

fn into_set(mut flat: Vec<(String, OptionDecl)>) -> OptionSet {
    // By name, the later of two equal names kept, as a JSON object reads.
    flat.sort_by(|a, b| a.0.cmp(&b.0));
    flat.reverse();
    flat.dedup_by(|later, earlier| later.0 == earlier.0);
    let mut flat: Vec<OptionDecl> = flat.into_iter().map(|(_, option)| option).collect();
    flat.sort_by(|a, b| a.loc.cmp(&b.loc));
    OptionSet {
        options: nest(flat),
        migrations: Vec::new(),
    }
}

/// An options.json object, each entry converted as it is read.
struct Options(Vec<(String, OptionDecl)>);

impl<'de> Deserialize<'de> for Options {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Options;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Options, A::Error> {
                let mut options = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(name) = map.next_key::<String>()? {
                    let json: JsonOption = map.next_value()?;
                    let option = from_json_option(&name, json);
                    options.push((name, option));
                }
                Ok(Options(options))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

fn from_json_option(name: &str, json: JsonOption) -> OptionDecl {
    let loc = if json.loc.is_empty() {
        split_name(name)
    } else {
        json.loc
    };
    let ty = json
        .ty
        .as_deref()
        .map(parse_type_description)
        .unwrap_or(OptionType::Unspecified);
    let mut option = OptionDecl::new(loc, ty);
    let positions = json.declaration_positions.unwrap_or_default();
    option.declarations = json
        .declarations
        .into_iter()
        .map(|d| {
            let name = match d {
                JsonDeclaration::Path(p) => p,
                JsonDeclaration::Linked { name, .. } => name,
            };
            let position = positions.iter().find(|p| p.file == name);
            let file = match name.strip_prefix("<nixpkgs>/") {
                Some(rest) => SourceFile {
                    root: RootKind::Nixpkgs,
                    path: rest.into(),
                },
                None if name.starts_with("micros/") => SourceFile {
                    root: RootKind::Micros,
                    path: name.clone(),
                },
                None => SourceFile {
                    root: RootKind::User,
                    path: name.clone(),
                },
            };
            Declaration {
                file,
                range: position.map(|p| (p.start, p.end)),
                line: position.map_or(0, |p| p.line),
                column: position.map_or(0, |p| p.column),
            }
        })
        .collect();
    option.default = json.default.map(json_literal);
    option.example = json.example.map(json_literal);
    option.description = json.description;
    option.internal = json.internal;
    option.read_only = json.read_only;
    option.visible = if json.visible {
        Visibility::Visible
    } else {
        Visibility::Hidden
    };
    option
}

fn json_literal(json: JsonLiteral) -> Literal {
    match json {
        JsonLiteral::Literal { kind, text } if kind == "literalMD" || kind == "literalDocBook" => {
            Literal::markdown(text)
        }
        JsonLiteral::Literal { text, .. } => Literal::expression(text),
        JsonLiteral::Plain(value) => Literal::expression(json_to_nix(&value)),
    }
}

/// Plain JSON as Nix text, for old options.json files.
fn json_to_nix(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => quote_nix_string(s),
        J::Array(items) if items.is_empty() => "[ ]".into(),
        J::Array(items) => {
            let inner: Vec<String> = items.iter().map(json_to_nix).collect();
            format!("[ {} ]", inner.join(" "))
        }
        J::Object(map) if map.is_empty() => "{ }".into(),
        J::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} = {};",
                        crate::model::show_option(std::slice::from_ref(k)),
                        json_to_nix(v)
                    )
                })
                .collect();
            format!("{{ {} }}", inner.join(" "))
        }
    }
}

/// Split `a."b.c".d` into segments.
fn split_name(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '.' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    out
}

/// Rebuild the tree: an option whose loc extends another option's loc (past
/// the placeholders of its type) goes into that option's submodule.
fn nest(mut flat: Vec<OptionDecl>) -> Vec<OptionDecl> {
    // In place: the roots so far are `flat[..roots]`, and the slot of each
    // option taken out is free for the next root (a second list of 20,000
    // options would double the set's memory while it is read).
    let mut roots = 0;
    for i in 0..flat.len() {
        let option = std::mem::replace(&mut flat[i], OptionDecl::new(Vec::new(), OptionType::Bool));
        if let Some(option) = insert_nested(&mut flat[..roots], option, MAX_DESCRIPTION_DEPTH) {
            flat[roots] = option;
            roots += 1;
        }
    }
    flat.truncate(roots);
    flat.shrink_to_fit();
    flat
}

/// Put `option` into the submodule of the option in `options` whose loc is
/// its longest prefix that takes it; the option comes back when none does. `options` is sorted
/// by loc (options arrive sorted, so each list of sub-options is too): each
/// prefix is found by binary search, not by a scan of every option before
/// it, which made reading 20,000 options quadratic. `budget` bounds the
/// nesting a hostile file can ask for; an option deeper than that stays
/// where it is.
fn insert_nested(
    options: &mut [OptionDecl],
    option: OptionDecl,
    budget: usize,
) -> Option<OptionDecl> {
    let Some(budget) = budget.checked_sub(1) else {
        return Some(option);
    };
    // Every option whose loc is a prefix of this one sorts before it, and
    // none can be longer than the prefix it shares with the option just
    // before it: longer prefixes need no search (a loc of a hundred
    // segments, nested in itself, made each search quadratic in it).
    let before = options.partition_point(|p| p.loc <= option.loc);
    let longest = before.checked_sub(1).map_or(0, |at| {
        options[at]
            .loc
            .iter()
            .zip(&option.loc)
            .take_while(|(a, b)| a == b)
            .count()
    });
    for len in (0..option.loc.len().min(longest + 1)).rev() {
        let prefix = &option.loc[..len];
        // The last option with this loc, as a JSON object keeps the later
        // of two equal names.
        let end = options.partition_point(|p| p.loc.as_slice() <= prefix);
        let Some(parent) = end
            .checked_sub(1)
            .map(|at| &mut options[at])
            .filter(|p| p.loc.as_slice() == prefix)
        else {
            continue;
        };
        let Some(placeholders) = sub_option_prefix(&mut parent.ty) else {
            continue;
        };
        let count = placeholders.len();
        let rest = &option.loc[len..];
        if rest.len() <= count || rest[..count].iter().zip(&placeholders).any(|(a, b)| a != b) {
            continue;
        }
        // options.json lists the sub-options of a hidden option only when
        // it is "transparent" (`visible` has room for a boolean only).
        if parent.visible == Visibility::Hidden {
            parent.visible = Visibility::Transparent;
        }
        let mut child = option;
        child.loc.drain(..len + count);
        let submodule = submodule_mut(&mut parent.ty).expect("checked by sub_option_prefix");
        if let Some(child) = insert_nested(&mut submodule.options, child, budget) {
            submodule.options.push(child);
        }
        return None;
    }
    Some(option)
}

fn sub_option_prefix(ty: &mut OptionType) -> Option<Vec<&'static str>> {
    ty.sub_options().map(|(prefix, _)| prefix)
}

fn submodule_mut(ty: &mut OptionType) -> Option<&mut Submodule> {
    use OptionType::*;
    match ty {
        Submodule(sub) => Some(Arc::make_mut(sub)),
        NullOr(inner)
        | AddCheck(inner)
        | Uniq(inner)
        | AttrsOf(inner)
        | LazyAttrsOf(inner)
        | DagOf(inner)
        | ListOf(inner)
        | NonEmptyListOf(inner)
        | FunctionTo(inner) => submodule_mut(inner),
        CoercedTo { to, .. } => submodule_mut(to),
        Custom {
            base: Some(base), ..
        } => submodule_mut(base),
        _ => None,
    }
}

/// Recover a structured type from nixpkgs' description of it. Exact for
/// what [`OptionType::description`] produces; anything else becomes a
/// `Custom` type that keeps the text (with the structure found as its
/// base), so that writing it again gives the same text.
pub fn parse_type_description(text: &str) -> OptionType {
    let text = text.trim();
    let parsed = parse_desc(text);
    if parsed.description() == text {
        return parsed;
    }
    match parsed {
        // A custom type whose text the parser could not split keeps it.
        OptionType::Custom { .. } => parsed,
        // Structure found, but nixpkgs worded it differently (a type
        // description overridden with `//` inside `listOf`, say).
        base => OptionType::Custom {
            name: text.to_string(),
            description: text.to_string(),
            base: Some(Box::new(base)),
        },
    }
}

/// Descriptions nest at most this deep: a longer chain (`null or null or
/// ...`, from a hostile file) stays one custom type with its text.
const MAX_DESCRIPTION_DEPTH: usize = 64;

fn parse_desc(s: &str) -> OptionType {
    parse_desc_within(s, MAX_DESCRIPTION_DEPTH)
}

fn parse_desc_within(s: &str, budget: usize) -> OptionType {
    use OptionType as T;
    let Some(budget) = budget.checked_sub(1) else {
        return T::Custom {
            name: s.to_string(),
            description: s.to_string(),
            base: None,
        };
    };
    let parse_desc = |s: &str| parse_desc_within(s, budget);
    if let Some(inner) = strip_parens(s) {
        return parse_desc_within(inner, budget);
    }
    let custom = |base: Option<T>| T::Custom {
        name: s.to_string(),
        description: s.to_string(),
        base: base.map(Box::new),
    };
    // Whole-text forms first: they may contain " or " inside.
    if let Some(pattern) = s.strip_prefix("string matching the pattern ") {
        return T::StrMatching(pattern.to_string());
    }
    if let Some(values) = s.strip_prefix("one of ")
        && let Some(values) = parse_enum_values(values)
    {
        return T::Enum(values);
    }
    if let Some(rest) = s
        .strip_prefix("value ")
        .and_then(|r| r.strip_suffix(" (singular enum)"))
        && let Some(values) = parse_enum_values(rest)
    {
        return T::Enum(values);
    }
    if let Some(sep) = s.strip_prefix("strings concatenated with ")
        && let Ok(sep) = serde_json::from_str::<String>(sep)
    {
        return T::SeparatedString(sep);
    }
    if let Some(rest) = s.strip_suffix(" convertible to it")
        && let Some((to, from)) = split_top_level(rest, " or ", false)
    {
        return T::CoercedTo {
            from: Box::new(parse_desc(from)),
            to: Box::new(parse_desc(to)),
        };
    }
    if let Some(rest) = s.strip_prefix("null or ") {
        return T::NullOr(Box::new(parse_desc(rest)));
    }
    for (prefix, make) in [
        ("list of ", T::ListOf as fn(Box<T>) -> T),
        ("attribute set of ", T::AttrsOf),
        ("lazy attribute set of ", T::LazyAttrsOf),
        ("function that evaluates to a(n) ", T::FunctionTo),
        ("DAG of ", T::DagOf),
    ] {
        if let Some(rest) = s.strip_prefix(prefix)
            && split_top_level(rest, " or ", true).is_none()
        {
            return make(Box::new(parse_desc(rest)));
        }
    }
    if let Some(rest) = s
        .strip_prefix("non-empty (list of ")
        .and_then(|r| r.strip_suffix(')'))
    {
        return T::NonEmptyListOf(Box::new(parse_desc(rest)));
    }
    if let Some(rest) = s.strip_prefix("open submodule of ") {
        return T::Submodule(Arc::new(Submodule {
            freeform: Some(parse_desc(rest)),
            ..Default::default()
        }));
    }
    if let Some((left, right)) = split_top_level(s, ", or ", true) {
        return T::Either(Box::new(parse_desc(left)), Box::new(parse_desc(right)));
    }
    if let Some((left, right)) = split_top_level(s, " or ", true) {
        return T::Either(Box::new(parse_desc(left)), Box::new(parse_desc(right)));
    }
    if let Some(base) = s
        .strip_suffix(')')
        .and_then(|r| r.rsplit_once(" (with check: "))
    {
        return custom(Some(parse_desc(base.0)));
    }
    if let Some(int) = parse_int_description(s) {
        return T::Int(int);
    }
    match s {
        "boolean" => T::Bool,
        "signed integer" => T::Int(IntType::signed()),
        "floating point number" => T::Float,
        "string" => T::Str,
        "non-empty string" => T::StrRefined {
            kind: StrRefinement::NonEmpty,
        },
        "(optionally newline-terminated) single-line string" => T::StrRefined {
            kind: StrRefinement::SingleLine,
        },
        "string, not containing newlines or colons" => T::StrRefined {
            kind: StrRefinement::PasswdEntry,
        },
        "absolute path" => T::Path,
        "path in the Nix store" => T::PathInStore,
        "package" => T::Package,
        "submodule" => T::Submodule(Arc::default()),
        "unspecified value" | "unspecified" => T::Unspecified,
        "anything" => T::Anything,
        "raw value" => T::Raw,
        "attribute set" => T::Attrs,
        "function" => T::Function,
        "optionType" => T::OptionTypeType,
        "impossible (empty enum)" => T::Enum(Vec::new()),
        _ => custom(None),
    }
}

fn parse_int_description(s: &str) -> Option<IntType> {
    if s == "unsigned integer, meaning >=0" {
        return Some(IntType {
            min: Some(0),
            max: None,
            kind: IntKind::Unsigned,
        });
    }
    if s == "positive integer, meaning >0" {
        return Some(IntType {
            min: Some(1),
            max: None,
            kind: IntKind::Positive,
        });
    }
    let bounds = |rest: &str| -> Option<(i64, i64)> {
        let rest = rest.strip_suffix(" (both inclusive)")?;
        let (lo, hi) = rest.split_once(" and ")?;
        Some((lo.parse().ok()?, hi.parse().ok()?))
    };
    if let Some(rest) = s.strip_prefix("integer between ") {
        let (lo, hi) = bounds(rest)?;
        return Some(IntType::between(lo, hi));
    }
    let (head, rest) = s.split_once("; between ")?;
    let (lo, hi) = bounds(rest)?;
    let (bits, signedness) = head.split_once(" bit ")?;
    let bits: u8 = bits.parse().ok()?;
    let kind = match signedness {
        "unsigned integer" => IntKind::UnsignedBits(bits),
        "signed integer" => IntKind::SignedBits(bits),
        _ => return None,
    };
    Some(IntType {
        min: Some(lo),
        max: Some(hi),
        kind,
    })
}

fn parse_enum_values(s: &str) -> Option<Vec<EnumValue>> {
    let mut values = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if rest.starts_with('"') {
            // Enum members are shown without escaping: find the closing
            // quote followed by a separator or the end.
            let body = &rest[1..];
            let end = body
                .match_indices('"')
                .map(|(i, _)| i)
                .find(|&i| body[i + 1..].is_empty() || body[i + 1..].starts_with(", "))?;
            values.push(EnumValue::Str(body[..end].to_string()));
            rest = body[end + 1..].trim_start_matches(", ");
        } else {
            let (item, tail) = rest.split_once(", ").unwrap_or((rest, ""));
            values.push(match item {
                "true" => EnumValue::Bool(true),
                "false" => EnumValue::Bool(false),
                other => match other.parse() {
                    Ok(i) => EnumValue::Int(i),
                    Err(_) => EnumValue::Other(other.trim_matches(['<', '>']).to_string()),
                },
            });
            rest = tail;
        }
    }
    Some(values)
}

/// `(...)` wrapping the whole text.
fn strip_parens(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner)
}

/// Split at `sep` outside parentheses and quotes: the last occurrence when
/// `last` (nixpkgs folds `either` to the left), else the first.
fn split_top_level<'a>(s: &'a str, sep: &str, last: bool) -> Option<(&'a str, &'a str)> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut found = None;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            // Bytes, not `s[i..]`: `i` may fall inside a character.
            _ if !quoted && depth == 0 && bytes[i..].starts_with(sep.as_bytes()) => {
                found = Some(i);
                if !last {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    found.map(|i| (&s[..i], &s[i + sep.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_round_trip_through_the_parser() {
        for text in [
            "list of string, with spaces inside double quotes",
            "null or signed integer",
            "list of 16 bit unsigned integer; between 0 and 65535 (both inclusive)",
            "one of \"longrun\", \"oneshot\"",
            "attribute set of (submodule)",
            "boolean or one of \"strict\", \"loose\"",
            "(attribute set of boolean) or (list of string) convertible to it",
            "string or signed integer or boolean or absolute path or package",
            "null or (unsigned integer, meaning >=0)",
            "non-empty (list of string (with check: non-empty))",
            "open submodule of lazy attribute set of unspecified value",
            "list of value \"dependencies\" (singular enum)",
            "null or strings concatenated with \"\\n\"",
            "string or function that evaluates to a(n) string",
            "attribute set of (string or (submodule))",
            "integer between 1 and 10 (both inclusive)",
        ] {
            assert_eq!(parse_type_description(text).description(), text);
        }
        assert_eq!(
            parse_type_description("null or signed integer"),
            OptionType::NullOr(Box::new(OptionType::Int(IntType::signed())))
        );
    }

    #[test]
    fn reading_nests_sub_options_into_their_submodule() {
        let json = r#"{
          "users": {"loc": ["users"], "type": "attribute set of (submodule)", "declarations": ["micros/modules/system/users.nix"], "description": "Users."},
          "users.<name>.uid": {"loc": ["users", "<name>", "uid"], "type": "null or signed integer", "default": {"_type": "literalExpression", "text": "null"}, "declarations": ["micros/modules/system/users.nix"], "description": "Account User ID"}
        }"#;
        let set = from_json(json).unwrap();
        assert_eq!(set.options.len(), 1);
        let (prefix, sub) = set.options[0].ty.sub_options().unwrap();
        assert_eq!(prefix, vec!["<name>"]);
        assert_eq!(sub.options[0].loc, vec!["uid"]);
        assert_eq!(set.flatten().len(), 2);
        assert_eq!(set.options[0].declarations[0].file.root, RootKind::Micros);
    }

    /// Each sub-option goes to the longest prefix whose type takes it, past
    /// siblings between them in name order and options that only look
    /// like parents (a prefix whose type has no submodule, placeholders
    /// that differ).
    #[test]
    fn sub_options_find_their_parent_among_siblings() {
        let entry = |name: &str, ty: &str| {
            let loc: Vec<String> = split_name(name)
                .into_iter()
                .map(|s| format!("{s:?}"))
                .collect();
            format!(
                r#""{}": {{"loc": [{}], "type": "{ty}", "declarations": [], "description": ""}}"#,
                name.replace('"', "\\\""),
                loc.join(", ")
            )
        };
        let json = format!(
            "{{{}}}",
            [
                entry("a", "attribute set of (submodule)"),
                entry("a.<name>.b", "list of (submodule)"),
                entry("a.<name>.b.*.c", "boolean"),
                entry("a.<name>.d", "string"),
                entry("a.<name>.e", "boolean"),
                entry("a.<name>.e.f", "boolean"),
                entry("a.z", "boolean"),
                entry("a.z.*.g", "boolean"),
                entry("h", "list of (submodule)"),
                entry("h.<name>.i", "boolean"),
                entry("h.*.j", "boolean"),
            ]
            .join(",")
        );
        let set = from_json(&json).unwrap();
        let names = |options: &[OptionDecl]| -> Vec<String> {
            options.iter().map(|o| o.loc.join(".")).collect()
        };
        // a.z.*.g: z is a boolean; h.<name>.i: h's placeholder is `*`.
        // They stay where they were listed; so does e.f in a's submodule.
        assert_eq!(
            names(&set.options),
            ["a", "a.z", "a.z.*.g", "h", "h.<name>.i"]
        );
        let (_, a) = set.options[0].ty.sub_options().unwrap();
        assert_eq!(names(&a.options), ["b", "d", "e", "e.f"]);
        let (prefix, b) = a.options[0].ty.sub_options().unwrap();
        assert_eq!(prefix, ["*"]);
        assert_eq!(names(&b.options), ["c"]);
        let (_, h) = set.options[3].ty.sub_options().unwrap();
        assert_eq!(names(&h.options), ["j"]);
        assert_eq!(set.flatten().len(), 11);
    }

    /// A hostile options.json can neither overflow the stack nor panic:
    /// long chains of types, deep nesting, text that is not ASCII.
    #[test]
    fn hostile_types_and_nesting_are_read_within_bounds() {
        let chain = "null or ".repeat(200_000) + "boolean";
        assert_eq!(parse_type_description(&chain).description(), chain);
        let either = vec!["boolean"; 100_000].join(" or ");
        assert_eq!(parse_type_description(&either).description(), either);
        for text in [
            "é or ü",
            "list of (ü)",
            "null or \u{2028}(",
            "one of \"é\", \"ü\"",
        ] {
            parse_type_description(text);
        }
        let mut json = String::from("{");
        let mut name = String::from("a");
        for i in 0..300 {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!(
                r#""{name}": {{"loc": [], "type": "attribute set of (submodule)", "declarations": [], "description": ""}}"#
            ));
            name.push_str(".<name>.a");
        }
        json.push('}');
        let set = from_json(&json).unwrap();
        assert_eq!(set.flatten().len(), 300);
    }

    #[test]
    fn malformed_json_names_line_and_expectation() {
        let error = from_json("{\n  \"a\": [1,\n").unwrap_err();
        // serde_json places an unexpected end on the last line it read.
        assert_eq!(error.line, 2);
        assert!(
            error.message.contains("expected an options.json object"),
            "{error}"
        );
    }
}
