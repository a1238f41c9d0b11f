//! Refactorings offered at a range: pack `a.b = x; a.c = y;` into
//! `a = { b = x; c = y; };` and flatten it back, `inherit` for `x = x;`,
//! inline a `let` binding, rewrite a string between `"..."` and `''...''`,
//! add an undefined name to the module's arguments, remove an unused
//! binding, and remove a definition equal to its option's default.
//!
//! Each works on the syntax tree of a file without syntax errors (a broken
//! tree would be rewritten into something else) and keeps the user's text
//! for everything it does not rewrite.

use std::collections::HashSet;

use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::resolve::{Code, KeyMeaning};
use crate::ide::code_actions::{ActionKind, CodeAction};
use crate::ide::diagnostics::Diagnostic;
use crate::ide::formatting::TextEdit;

pub fn refactors(
    db: &dyn db::Db,
    file: File,
    range: TextRange,
    diagnostics: &[Diagnostic],
) -> Vec<CodeAction> {
    let parsed = db::parse(db, file);
    if !parsed.errors.is_empty() {
        return Vec::new();
    }
    let text = file.text(db).as_str();
    let root = parsed.root();
    let syntax = root.syntax();
    let Some(range) = range.intersect(syntax.text_range()) else {
        return Vec::new();
    };
    let node = match syntax.covering_element(range) {
        rowan::NodeOrToken::Node(node) => node,
        rowan::NodeOrToken::Token(token) => match token.parent() {
            Some(parent) => parent,
            None => return Vec::new(),
        },
    };
    let mut out = Vec::new();
    let binding = node.ancestors().find_map(ast::AttrpathValue::cast);
    if let Some(binding) = &binding {
        out.extend(pack(text, binding));
        // The nearest binding whose value is a set, around the cursor.
        out.extend(
            node.ancestors()
                .filter_map(ast::AttrpathValue::cast)
                .find_map(|b| flatten(text, &b)),
        );
        out.extend(convert_to_inherit(binding));
        out.extend(remove_default(db, file, text, binding));
    }
    out.extend(inline(text, &node));
    if let Some(string) = node.ancestors().find_map(ast::Str::cast) {
        out.extend(rewrite_string(&string));
    }
    for diagnostic in diagnostics {
        match diagnostic.code {
            Code::UndefinedVariable => out.extend(add_to_formals(text, &root, diagnostic)),
            Code::UnusedBinding => out.extend(remove_unused(text, syntax, diagnostic)),
            _ => {}
        }
    }
    out
}

fn action(title: impl Into<String>, kind: ActionKind, edits: Vec<TextEdit>) -> CodeAction {
    CodeAction {
        title: title.into(),
        kind,
        edits,
        diagnostic: None,
    }
}

fn edit(range: TextRange, replacement: impl Into<String>) -> TextEdit {
    TextEdit {
        range,
        replacement: replacement.into(),
    }
}

fn node_text(text: &str, node: &SyntaxNode) -> String {
    text[std::ops::Range::<usize>::from(node.text_range())].to_string()
}

/// The whitespace a line starts with.
fn indent_at(text: &str, offset: TextSize) -> &str {
    let start = text[..usize::from(offset)].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[start..];
    &rest[..rest.len() - rest.trim_start_matches([' ', '\t']).len()]
}

/// A node's range widened to its whole line(s) when nothing else stands
/// on them, so that deleting it leaves no blank line.
fn deletion_range(text: &str, range: TextRange) -> TextRange {
    let (start, end) = (usize::from(range.start()), usize::from(range.end()));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let after = text[end..].find('\n').map_or(text.len(), |i| end + i);
    if text[line_start..start].trim().is_empty() && text[end..after].trim().is_empty() {
        let to = if after < text.len() { after + 1 } else { after };
        return TextRange::new((line_start as u32).into(), (to as u32).into());
    }
    let spaces = text[end..].len() - text[end..].trim_start_matches(' ').len();
    TextRange::new(range.start(), ((end + spaces) as u32).into())
}

fn attr_texts(path: &ast::Attrpath) -> Vec<String> {
    path.attrs()
        .map(|a| a.syntax().text().to_string())
        .collect()
}

// ---- pack and flatten ----

/// `a.b = x; a.c = y;` → `a = { b = x; c = y; };`, for every binding of
/// the set whose path starts with the same name as this one's.
fn pack(text: &str, binding: &ast::AttrpathValue) -> Option<CodeAction> {
    let path = binding.attrpath()?;
    let first = path.attrs().next()?;
    let first_name = crate::analysis::lower::attr_text(&first)?;
    path.attrs().nth(1)?;
    let parent = binding.syntax().parent()?;
    let entries: Vec<ast::Entry> = match parent.kind() {
        SyntaxKind::NODE_ATTR_SET => ast::AttrSet::cast(parent.clone())?.entries().collect(),
        SyntaxKind::NODE_LET_IN => ast::LetIn::cast(parent.clone())?.entries().collect(),
        _ => return None,
    };
    let mut group = Vec::new();
    for entry in entries {
        let ast::Entry::AttrpathValue(other) = entry else {
            continue;
        };
        let Some(other_path) = other.attrpath() else {
            continue;
        };
        let mut attrs = other_path.attrs();
        if attrs
            .next()
            .and_then(|a| crate::analysis::lower::attr_text(&a))
            .as_deref()
            != Some(&first_name)
        {
            continue;
        }
        // `a = { ... };` beside `a.b = ...;` would have to be merged into.
        attrs.next()?;
        group.push(other);
    }
    let multi_line = text[std::ops::Range::<usize>::from(parent.text_range())].contains('\n');
    let indent = indent_at(text, binding.syntax().text_range().start()).to_string();
    let inner: Vec<String> = group
        .iter()
        .filter_map(|b| {
            let path = b.attrpath()?;
            let rest = attr_texts(&path)[1..].join(".");
            let value = node_text(text, b.value()?.syntax());
            Some(format!("{rest} = {};", value.replace('\n', "\n  ")))
        })
        .collect();
    let first_text = first.syntax().text().to_string();
    let packed = if multi_line {
        format!(
            "{first_text} = {{\n{}\n{indent}}};",
            inner
                .iter()
                .map(|b| format!("{indent}  {b}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    } else {
        format!("{first_text} = {{ {} }};", inner.join(" "))
    };
    let mut edits = vec![edit(group[0].syntax().text_range(), packed)];
    edits.extend(
        group[1..]
            .iter()
            .map(|b| edit(deletion_range(text, b.syntax().text_range()), "")),
    );
    Some(action(
        format!("Pack the `{first_name}.*` bindings into `{first_name} = {{ ... }}`"),
        ActionKind::RefactorRewrite,
        edits,
    ))
}

/// `a = { b = x; c = y; };` → `a.b = x; a.c = y;`.
fn flatten(text: &str, binding: &ast::AttrpathValue) -> Option<CodeAction> {
    let path = binding.attrpath()?;
    let ast::Expr::AttrSet(set) = binding.value()? else {
        return None;
    };
    if set.rec_token().is_some() {
        return None;
    }
    let prefix = attr_texts(&path).join(".");
    let mut lines = Vec::new();
    for entry in set.entries() {
        // An `inherit` cannot stand under a path.
        let ast::Entry::AttrpathValue(inner) = entry else {
            return None;
        };
        let inner_path = attr_texts(&inner.attrpath()?).join(".");
        let value = node_text(text, inner.value()?.syntax());
        lines.push(format!("{prefix}.{inner_path} = {value};"));
    }
    if lines.is_empty() {
        return None;
    }
    let indent = indent_at(text, binding.syntax().text_range().start());
    let separator = if text[std::ops::Range::<usize>::from(binding.syntax().text_range())]
        .contains('\n')
        || binding
            .syntax()
            .parent()
            .is_some_and(|p| p.text().to_string().contains('\n'))
    {
        format!("\n{indent}")
    } else {
        " ".to_string()
    };
    Some(action(
        format!("Flatten `{prefix} = {{ ... }}` into `{prefix}.*` bindings"),
        ActionKind::RefactorRewrite,
        vec![edit(binding.syntax().text_range(), lines.join(&separator))],
    ))
}

// ---- inherit ----

/// `x = x;` → `inherit x;` and `x = y.x;` → `inherit (y) x;`, in sets
/// that are not `rec` (where `x = x;` means itself).
fn convert_to_inherit(binding: &ast::AttrpathValue) -> Option<CodeAction> {
    let path = binding.attrpath()?;
    let mut attrs = path.attrs();
    let ast::Attr::Ident(key) = attrs.next()? else {
        return None;
    };
    if attrs.next().is_some() {
        return None;
    }
    let parent = ast::AttrSet::cast(binding.syntax().parent()?)?;
    if parent.rec_token().is_some() {
        return None;
    }
    let name = key.syntax().text().to_string();
    let replacement = match binding.value()? {
        ast::Expr::Ident(value) if value.syntax().text() == name.as_str() => {
            format!("inherit {name};")
        }
        ast::Expr::Select(select) if select.default_expr().is_none() => {
            let selected: Vec<ast::Attr> = select.attrpath()?.attrs().collect();
            let (last, before) = selected.split_last()?;
            if last.syntax().text() != name.as_str() {
                return None;
            }
            let from = select.expr()?.syntax().text().to_string();
            let from = if before.is_empty() {
                from
            } else {
                let before: Vec<String> = before
                    .iter()
                    .map(|a| a.syntax().text().to_string())
                    .collect();
                format!("{from}.{}", before.join("."))
            };
            format!("inherit ({from}) {name};")
        }
        _ => return None,
    };
    Some(action(
        format!("Write as `{replacement}`"),
        ActionKind::RefactorRewrite,
        vec![edit(binding.syntax().text_range(), replacement)],
    ))
}

// ---- inline ----

/// Inline a `let` binding: at its definition, into every use (and the
/// binding goes); at a use, into that use.
fn inline(text: &str, node: &SyntaxNode) -> Option<CodeAction> {
    let (let_in, name, at_use) = if let Some(ident) = node
        .ancestors()
        .take(2)
        .find_map(ast::Ident::cast)
        .filter(|i| {
            i.syntax()
                .parent()
                .is_some_and(|p| p.kind() != SyntaxKind::NODE_ATTRPATH)
        }) {
        let name = ident.syntax().text().to_string();
        let let_in = binding_let(ident.syntax(), &name)?;
        (let_in, name, Some(ident))
    } else {
        let binding = node.ancestors().find_map(ast::AttrpathValue::cast)?;
        let let_in = ast::LetIn::cast(binding.syntax().parent()?)?;
        let mut attrs = binding.attrpath()?.attrs();
        let ast::Attr::Ident(key) = attrs.next()? else {
            return None;
        };
        if attrs.next().is_some() || !key.syntax().text_range().contains_range(node.text_range()) {
            return None;
        }
        (let_in, key.syntax().text().to_string(), None)
    };
    // Exactly one plain binding of the name in this `let`.
    let bindings: Vec<ast::AttrpathValue> = let_in
        .entries()
        .filter_map(|e| match e {
            ast::Entry::AttrpathValue(b) => Some(b),
            ast::Entry::Inherit(_) => None,
        })
        .filter(|b| {
            b.attrpath()
                .and_then(|p| p.attrs().next())
                .is_some_and(|a| a.syntax().text() == name.as_str())
        })
        .collect();
    let [binding] = bindings.as_slice() else {
        return None;
    };
    if binding.attrpath()?.attrs().nth(1).is_some() {
        return None;
    }
    let value = binding.value()?;
    let free = free_names(value.syntax());
    if free.contains(&name) {
        return None;
    }
    let mut uses = Vec::new();
    let scopes: Vec<SyntaxNode> = let_in
        .entries()
        .filter_map(|e| match e {
            ast::Entry::AttrpathValue(b) => b.value().map(|v| v.syntax().clone()),
            ast::Entry::Inherit(i) => i.from().map(|f| f.syntax().clone()),
        })
        .chain(let_in.body().map(|b| b.syntax().clone()))
        .collect();
    for scope in &scopes {
        if !collect_uses(scope, &name, &free, &mut uses, 0) {
            return None;
        }
    }
    let value_text = node_text(text, value.syntax());
    let atomic = matches!(
        value,
        ast::Expr::Ident(_)
            | ast::Expr::Literal(_)
            | ast::Expr::Str(_)
            | ast::Expr::List(_)
            | ast::Expr::AttrSet(_)
            | ast::Expr::Paren(_)
            | ast::Expr::Select(_)
            | ast::Expr::PathAbs(_)
            | ast::Expr::PathRel(_)
            | ast::Expr::PathHome(_)
            | ast::Expr::PathSearch(_)
    );
    let replacement = if atomic {
        value_text
    } else {
        format!("({value_text})")
    };
    match at_use {
        Some(ident) => Some(action(
            format!("Inline `{name}` here"),
            ActionKind::RefactorInline,
            vec![edit(ident.syntax().text_range(), replacement)],
        )),
        None => {
            let mut edits: Vec<TextEdit> = uses
                .iter()
                .map(|range| edit(*range, replacement.clone()))
                .collect();
            let only = let_in.entries().count() == 1;
            let removed = if only {
                // The `let` goes with its last binding.
                let body = let_in.body()?;
                TextRange::new(
                    let_in.syntax().text_range().start(),
                    body.syntax().text_range().start(),
                )
            } else {
                deletion_range(text, binding.syntax().text_range())
            };
            edits.push(edit(removed, ""));
            Some(action(
                format!("Inline `{name}` everywhere and remove it"),
                ActionKind::RefactorInline,
                edits,
            ))
        }
    }
}

/// The `let` that binds `name` where `ident` stands, if no nearer scope
/// binds it.
fn binding_let(ident: &SyntaxNode, name: &str) -> Option<ast::LetIn> {
    for ancestor in ident.ancestors().skip(1) {
        if let Some(let_in) = ast::LetIn::cast(ancestor.clone()) {
            if binds(&let_in, name) {
                return Some(let_in);
            }
        } else if binds_name(&ancestor, name) {
            return None;
        }
    }
    None
}

fn binds(node: &impl HasEntry, name: &str) -> bool {
    node.entries().any(|e| match e {
        ast::Entry::AttrpathValue(b) => b
            .attrpath()
            .and_then(|p| p.attrs().next())
            .is_some_and(|a| a.syntax().text() == name),
        ast::Entry::Inherit(i) => i.attrs().any(|a| a.syntax().text() == name),
    })
}

/// Whether a lambda, `let` or `rec` set binds `name` for what is inside.
fn binds_name(node: &SyntaxNode, name: &str) -> bool {
    if let Some(lambda) = ast::Lambda::cast(node.clone()) {
        return match lambda.param() {
            Some(ast::Param::IdentParam(p)) => p.ident().is_some_and(|i| i.syntax().text() == name),
            Some(ast::Param::Pattern(p)) => {
                p.pat_entries()
                    .filter_map(|e| e.ident())
                    .any(|i| i.syntax().text() == name)
                    || p.pat_bind()
                        .and_then(|b| b.ident())
                        .is_some_and(|i| i.syntax().text() == name)
            }
            None => false,
        };
    }
    if let Some(let_in) = ast::LetIn::cast(node.clone()) {
        return binds(&let_in, name);
    }
    if let Some(set) = ast::AttrSet::cast(node.clone()) {
        return set.rec_token().is_some() && binds(&set, name);
    }
    false
}

/// Names an expression uses (over-approximated: every identifier).
fn free_names(node: &SyntaxNode) -> HashSet<String> {
    node.descendants()
        .filter_map(ast::Ident::cast)
        .map(|i| i.syntax().text().to_string())
        .collect()
}

/// The uses of `name` below `node`; false when inlining there would
/// change meaning (`inherit name;`, or a scope that rebinds one of the
/// value's names around a use).
fn collect_uses(
    node: &SyntaxNode,
    name: &str,
    value_names: &HashSet<String>,
    uses: &mut Vec<TextRange>,
    depth: u32,
) -> bool {
    if depth > 500 {
        return false;
    }
    if binds_name(node, name) {
        return true;
    }
    if let Some(ident) = ast::Ident::cast(node.clone()) {
        let in_path = node.parent().is_some_and(|p| {
            matches!(
                p.kind(),
                SyntaxKind::NODE_ATTRPATH | SyntaxKind::NODE_INHERIT
            )
        });
        if ident.syntax().text() == name {
            if node
                .parent()
                .is_some_and(|p| p.kind() == SyntaxKind::NODE_INHERIT)
            {
                return false;
            }
            if !in_path {
                uses.push(node.text_range());
            }
        }
        return true;
    }
    let shadows_value = value_names.iter().any(|n| binds_name(node, n));
    let before = uses.len();
    for child in node.children() {
        if !collect_uses(&child, name, value_names, uses, depth + 1) {
            return false;
        }
    }
    !(shadows_value && uses.len() > before)
}

// ---- strings ----

/// `"..."` ⇄ `''...''`, keeping the string's value.
fn rewrite_string(string: &ast::Str) -> Option<CodeAction> {
    let syntax = string.syntax();
    if syntax
        .parent()
        .is_some_and(|p| p.kind() == SyntaxKind::NODE_ATTRPATH)
    {
        return None;
    }
    let start = syntax.first_token()?;
    let parts = string_parts(string)?;
    let indented = start.text() == "''";
    let replacement = if indented {
        to_double_quoted(&parts)
    } else {
        to_indented(&parts)?
    };
    Some(action(
        if indented {
            "Rewrite as a \"...\" string"
        } else {
            "Rewrite as a ''...'' string"
        },
        ActionKind::RefactorRewrite,
        vec![edit(syntax.text_range(), replacement)],
    ))
}

enum Part {
    Text(String),
    /// An interpolation, `${...}` as written.
    Interpolation(String),
}

/// The string's value: text (escapes decoded, an indented string's
/// indentation stripped as Nix strips it) and interpolations.
fn string_parts(string: &ast::Str) -> Option<Vec<Part>> {
    let indented = string.syntax().first_token()?.text() == "''";
    let mut parts = Vec::new();
    for part in string.parts() {
        match part {
            ast::InterpolPart::Literal(literal) => {
                let raw = rnix::ast::AstToken::syntax(&literal).text();
                parts.push(Part::Text(if indented {
                    decode_indented(raw)
                } else {
                    decode_double(raw)
                }));
            }
            ast::InterpolPart::Interpolation(interpolation) => {
                parts.push(Part::Interpolation(
                    interpolation.syntax().text().to_string(),
                ));
            }
        }
    }
    Some(if indented {
        strip_indentation(parts)
    } else {
        parts
    })
}

fn decode_double(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn decode_indented(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find("''") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        if let Some(tail) = after.strip_prefix('\'') {
            out.push_str("''");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('\\') {
            let mut chars = tail.chars();
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => {}
            }
            rest = chars.as_str();
        } else {
            out.push_str("''");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Nix's rule for indented strings: a first line holding only spaces goes
/// with its newline, then the smallest indentation of the lines that hold
/// more than spaces (an interpolation counts) goes from every line.
fn strip_indentation(parts: Vec<Part>) -> Vec<Part> {
    enum Item {
        Char(char),
        Interpolation(String),
    }
    let mut items = Vec::new();
    for part in parts {
        match part {
            Part::Text(t) => items.extend(t.chars().map(Item::Char)),
            Part::Interpolation(i) => items.push(Item::Interpolation(i)),
        }
    }
    let mut lines: Vec<Vec<Item>> = vec![Vec::new()];
    for item in items {
        match item {
            Item::Char('\n') => lines.push(Vec::new()),
            other => lines.last_mut().expect("one line at least").push(other),
        }
    }
    let spaces = |line: &[Item]| {
        line.iter()
            .take_while(|i| matches!(i, Item::Char(' ')))
            .count()
    };
    if lines.len() > 1 && spaces(&lines[0]) == lines[0].len() {
        lines.remove(0);
    }
    let min_indent = lines
        .iter()
        .filter(|line| spaces(line) < line.len())
        .map(|line| spaces(line))
        .min()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut text = String::new();
    for (n, line) in lines.into_iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        let drop = spaces(&line).min(min_indent);
        for item in line.into_iter().skip(drop) {
            match item {
                Item::Char(c) => text.push(c),
                Item::Interpolation(i) => {
                    out.push(Part::Text(std::mem::take(&mut text)));
                    out.push(Part::Interpolation(i));
                }
            }
        }
    }
    out.push(Part::Text(text));
    out
}

fn to_double_quoted(parts: &[Part]) -> String {
    let mut out = String::from("\"");
    for part in parts {
        match part {
            Part::Interpolation(i) => out.push_str(i),
            Part::Text(t) => {
                let mut chars = t.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push('"');
    out
}

/// `None` when Nix would read the result differently: an indented
/// string strips common indentation and a blank first line, and ends at
/// `''` (so the text cannot end in `'`).
fn to_indented(parts: &[Part]) -> Option<String> {
    let mut body = String::new();
    for part in parts {
        match part {
            Part::Interpolation(i) => body.push_str(i),
            Part::Text(t) => {
                let mut chars = t.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\'' if chars.peek() == Some(&'\'') => {
                            chars.next();
                            body.push_str("'''");
                        }
                        '$' if chars.peek() == Some(&'{') => body.push_str("''$"),
                        '\r' => body.push_str("''\\r"),
                        c => body.push(c),
                    }
                }
            }
        }
    }
    let lines: Vec<&str> = body.split('\n').collect();
    let blank_first = lines.len() > 1 && lines[0].trim_start_matches(' ').is_empty();
    let indented = lines
        .iter()
        .filter(|l| !l.trim_start_matches(' ').is_empty())
        .all(|l| l.starts_with(' '))
        && lines.iter().any(|l| !l.trim_start_matches(' ').is_empty());
    if blank_first || indented || body.ends_with('\'') {
        return None;
    }
    Some(format!("''{body}''"))
}

// ---- formals ----

/// An undefined name, as an argument of the module's function (a module
/// that is a plain set becomes one).
fn add_to_formals(text: &str, root: &ast::Root, diagnostic: &Diagnostic) -> Option<CodeAction> {
    let name = &text[std::ops::Range::<usize>::from(diagnostic.range)];
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '\'')
    {
        return None;
    }
    let expr = root.expr()?;
    let edit = match &expr {
        ast::Expr::Lambda(lambda) => {
            let ast::Param::Pattern(pattern) = lambda.param()? else {
                return None;
            };
            let entries: Vec<ast::PatEntry> = pattern.pat_entries().collect();
            match (entries.last(), pattern.ellipsis_token()) {
                (_, Some(ellipsis)) => edit(
                    TextRange::empty(ellipsis.text_range().start()),
                    format!("{name}, "),
                ),
                (Some(last), None) => edit(
                    TextRange::empty(last.syntax().text_range().end()),
                    format!(", {name}"),
                ),
                (None, None) => {
                    let open = pattern.syntax().first_token()?;
                    edit(
                        TextRange::empty(open.text_range().end()),
                        format!(" {name} "),
                    )
                }
            }
        }
        ast::Expr::AttrSet(_) => edit(
            TextRange::empty(expr.syntax().text_range().start()),
            format!("{{ {name}, ... }}:\n"),
        ),
        _ => return None,
    };
    Some(CodeAction {
        title: format!("Add `{name}` to the module's arguments"),
        kind: ActionKind::QuickFix,
        edits: vec![edit],
        diagnostic: Some(diagnostic.clone()),
    })
}

// ---- unused bindings ----

fn remove_unused(text: &str, root: &SyntaxNode, diagnostic: &Diagnostic) -> Option<CodeAction> {
    let name = root.covering_element(diagnostic.range);
    let node = match name {
        rowan::NodeOrToken::Node(node) => node,
        rowan::NodeOrToken::Token(token) => token.parent()?,
    };
    let range = if let Some(inherit) = node.ancestors().find_map(ast::Inherit::cast) {
        let attrs: Vec<ast::Attr> = inherit.attrs().collect();
        if attrs.len() == 1 {
            deletion_range(text, inherit.syntax().text_range())
        } else {
            let attr = attrs
                .iter()
                .find(|a| a.syntax().text_range().contains_range(diagnostic.range))?;
            deletion_range(text, attr.syntax().text_range())
        }
    } else {
        let binding = node.ancestors().find_map(ast::AttrpathValue::cast)?;
        deletion_range(text, binding.syntax().text_range())
    };
    let binding_name = &text[std::ops::Range::<usize>::from(diagnostic.range)];
    Some(CodeAction {
        title: format!("Remove the unused binding `{binding_name}`"),
        kind: ActionKind::QuickFix,
        edits: vec![edit(range, "")],
        diagnostic: Some(diagnostic.clone()),
    })
}

// ---- definitions equal to the default ----

/// `services.getty.terminal = "/dev/ttyS0";` where that is the default:
/// the definition says nothing (unless another module sets the option,
/// which the user knows best; it is offered, never reported).
fn remove_default(
    db: &dyn db::Db,
    file: File,
    text: &str,
    binding: &ast::AttrpathValue,
) -> Option<CodeAction> {
    let last = binding.attrpath()?.attrs().last()?;
    let key = last.syntax().text_range();
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let entry = (0..map.entries.len() as u32)
        .map(crate::analysis::lower::EntryId)
        .find(|id| map.entry(*id).key == key)?;
    let KeyMeaning::Option(option) = resolution.keys.get(&entry)? else {
        return None;
    };
    let default = option.default.as_ref()?;
    let default = rnix::Root::parse(&default.text);
    if !default.errors().is_empty() {
        return None;
    }
    let default = default.tree().expr()?;
    let value = binding.value()?;
    if !same_value(&value, &default, 0) {
        return None;
    }
    Some(action(
        format!(
            "Remove the definition of `{}`: it is the default",
            option.name()
        ),
        ActionKind::RefactorRewrite,
        vec![edit(
            deletion_range(text, binding.syntax().text_range()),
            "",
        )],
    ))
}

/// Whether two expressions are the same plain value (literals, strings
/// without interpolation, lists and sets of them).
fn same_value(a: &ast::Expr, b: &ast::Expr, depth: u32) -> bool {
    use ast::Expr;
    if depth > 50 {
        return false;
    }
    match (a, b) {
        (Expr::Paren(p), other) | (other, Expr::Paren(p)) => p
            .expr()
            .is_some_and(|inner| same_value(&inner, other, depth + 1)),
        (Expr::Literal(x), Expr::Literal(y)) => x.syntax().text() == y.syntax().text(),
        (Expr::Ident(x), Expr::Ident(y)) => {
            let x = x.syntax().text();
            (x == "true" || x == "false" || x == "null") && x == y.syntax().text()
        }
        (Expr::Str(x), Expr::Str(y)) => match (
            crate::analysis::lower::string_literal(x),
            crate::analysis::lower::string_literal(y),
        ) {
            (crate::analysis::lower::Literal::Str(x), crate::analysis::lower::Literal::Str(y)) => {
                x == y
            }
            _ => false,
        },
        (Expr::List(x), Expr::List(y)) => {
            let (x, y): (Vec<Expr>, Vec<Expr>) = (x.items().collect(), y.items().collect());
            x.len() == y.len() && x.iter().zip(&y).all(|(x, y)| same_value(x, y, depth + 1))
        }
        (Expr::AttrSet(x), Expr::AttrSet(y)) => {
            x.rec_token().is_none()
                && y.rec_token().is_none()
                && x.entries().next().is_none()
                && y.entries().next().is_none()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use rowan::TextRange;

    use crate::ide::fixture::fixture;

    /// Every action offered at the cursor (or the range between two `$0`
    /// markers... one marker: an empty range), applied.
    fn actions(text: &str) -> Vec<(String, String)> {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let source = analysis.file_text(file).unwrap();
        analysis
            .code_actions(file, TextRange::empty(offset))
            .unwrap()
            .into_iter()
            .map(|a| {
                let mut fixed = source.clone();
                let mut edits = a.edits.clone();
                edits.sort_by_key(|e| std::cmp::Reverse(e.range.start()));
                for e in edits {
                    fixed.replace_range(std::ops::Range::<usize>::from(e.range), &e.replacement);
                }
                (a.title, fixed)
            })
            .collect()
    }

    #[track_caller]
    fn check(text: &str, title: &str, expected: &str) {
        let all = actions(text);
        let found = all.iter().find(|(t, _)| t.starts_with(title));
        match found {
            Some((_, fixed)) => assert_eq!(fixed, expected),
            None => panic!("no action {title:?} in {all:#?}"),
        }
    }

    #[track_caller]
    fn check_none(text: &str, title: &str) {
        let all = actions(text);
        assert!(!all.iter().any(|(t, _)| t.starts_with(title)), "{all:#?}");
    }

    #[test]
    fn pack_and_flatten() {
        check(
            "{\n  services.getty.enable = true;\n  networking.hostName = \"a\";\n  serv$0ices.getty.terminal = \"x\";\n}",
            "Pack",
            "{\n  services = {\n    getty.enable = true;\n    getty.terminal = \"x\";\n  };\n  networking.hostName = \"a\";\n}",
        );
        check("{ a.b$0 = 1; }", "Pack", "{ a = { b = 1; }; }");
        check(
            "{\n  services = { get$0ty.enable = true; getty.terminal = \"x\"; };\n}",
            "Flatten `services",
            "{\n  services.getty.enable = true;\n  services.getty.terminal = \"x\";\n}",
        );
        check(
            "{ a = $0{ b = 1; c = 2; }; }",
            "Flatten",
            "{ a.b = 1; a.c = 2; }",
        );
        // `a = { ... }` beside `a.b` is no simple pack; `rec` and
        // `inherit` sets are not flattened.
        check_none("{ a = { c = 1; }; a.b$0 = 1; }", "Pack");
        check_none("{ a = rec { b$0 = 1; }; }", "Flatten `a");
        check_none("{ a = { inherit b$0; }; }", "Flatten `a");
    }

    #[test]
    fn inherit_from_a_binding() {
        check("x: { x$0 = x; }", "Write as", "x: { inherit x; }");
        check(
            "lib: { mkIf$0 = lib.mkIf; }",
            "Write as",
            "lib: { inherit (lib) mkIf; }",
        );
        check(
            "lib: { str$0 = lib.types.str; }",
            "Write as",
            "lib: { inherit (lib.types) str; }",
        );
        // In `rec` and `let`, `x = x` is itself.
        check_none("x: rec { x$0 = x; }", "Write as");
        check_none("x: let x$0 = x; in x", "Write as");
        check_none("y: { x$0 = y; }", "Write as");
    }

    #[test]
    fn inline_a_let_binding() {
        check(
            "let port$0 = 22; in { a = port; b = [ port ]; }",
            "Inline `port` everywhere",
            "{ a = 22; b = [ 22 ]; }",
        );
        check(
            "let a = 1; b$0 = a + 1; in b * b",
            "Inline `b` everywhere",
            "let a = 1; in (a + 1) * (a + 1)",
        );
        check(
            "let a = 1; in [ a$0 a ]",
            "Inline `a` here",
            "let a = 1; in [ 1 a ]",
        );
        // A use under a function that rebinds a name of the value, an
        // `inherit` of it, and a recursive binding are refused.
        check_none("let y = 1; x$0 = y; in (y: x) 2", "Inline");
        check_none("let x$0 = 1; in { inherit x; }", "Inline");
        check_none("let x$0 = [ x ]; in x", "Inline");
        // Shadowed uses are left alone.
        check(
            "let x$0 = 1; in [ x (x: x) ]",
            "Inline `x` everywhere",
            "[ 1 (x: x) ]",
        );
    }

    #[test]
    fn rewrite_strings() {
        check(
            "{ a = \"line one\\nline \\\"two\\\" $0\\${x} ${y}\"; }",
            "Rewrite as a ''",
            "{ a = ''line one\nline \"two\" ''${x} ${y}''; }",
        );
        check(
            "{ a = ''\n    echo \"$0hi\"\n      indented ''${HOME}\n  ''; }",
            "Rewrite as a \"",
            "{ a = \"echo \\\"hi\\\"\\n  indented \\${HOME}\\n\"; }",
        );
        check_none("{ \"a$0b\" = 1; }", "Rewrite");
    }

    #[test]
    fn add_an_undefined_name_to_the_arguments() {
        check(
            "{ config, lib, ... }: { environment.systemPackages = [ pk$0gs.hello ]; }",
            "Add `pkgs`",
            "{ config, lib, pkgs, ... }: { environment.systemPackages = [ pkgs.hello ]; }",
        );
        check(
            "{ lib }: { a = pk$0gs; }",
            "Add `pkgs`",
            "{ lib, pkgs }: { a = pkgs; }",
        );
        check(
            "{ environment.systemPackages = [ pk$0gs.hello ]; }",
            "Add `pkgs`",
            "{ pkgs, ... }:\n{ environment.systemPackages = [ pkgs.hello ]; }",
        );
        check_none("{ lib, ... }: { a = lib$0; }", "Add");
    }

    #[test]
    fn remove_unused_bindings() {
        check(
            "let\n  unused$0 = 1;\n  used = 2;\nin used",
            "Remove the unused binding",
            "let\n  used = 2;\nin used",
        );
        check(
            "lib: let inherit (lib) mkIf mk$0Force; in mkIf",
            "Remove the unused binding",
            "lib: let inherit (lib) mkIf ; in mkIf",
        );
        check_none("let used$0 = 2; in used", "Remove the unused binding");
    }

    #[test]
    fn remove_a_definition_equal_to_the_default() {
        check(
            "{\n  services.getty.terminal$0 = \"/dev/ttyS0\";\n  services.getty.enable = true;\n}",
            "Remove the definition of `services.getty.terminal`",
            "{\n  services.getty.enable = true;\n}",
        );
        check(
            "{ networking.firewall.allowedTCPPorts$0 = [ ]; }",
            "Remove the definition",
            "{ }",
        );
        check_none(
            "{ services.getty.terminal$0 = \"/dev/tty1\"; }",
            "Remove the definition",
        );
        check_none(
            "{ networking.hostName$0 = lib.mkDefault \"micros\"; }",
            "Remove the definition",
        );
    }

    #[test]
    fn a_broken_file_gets_no_refactoring() {
        assert!(actions("{ a.b$0 = 1; c = }").is_empty());
    }
}
