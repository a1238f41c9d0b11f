//! Completion of option paths (at any depth, inside submodules), of values
//! (enum members, booleans) and of names in scope.

use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use micros_options::OptionType;
use micros_options::model::{EnumValue, LiteralKind, OptionDecl};

use crate::analysis::db::{self, File};
use crate::analysis::lower::{Module, Node, NodeId, SourceMap};
use crate::analysis::options::{OptionIndex, Trie};
use crate::analysis::resolve::{Resolution, SetScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// The type (and default) of an option.
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    /// The text the item replaces.
    pub range: TextRange,
    pub insert: String,
    /// Where the item goes in the list, when the order matters (the
    /// client sorts by label otherwise).
    pub order: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Option,
    /// A path leading to more options.
    Namespace,
    Value,
    Variable,
    File,
    Folder,
    Package,
}

pub fn completion(db: &dyn db::Db, file: File, offset: TextSize) -> Vec<CompletionItem> {
    let text = file.text(db);
    let offset = clamp(text, offset);
    let root = db::parse(db, file).root();
    let syntax = root.syntax().clone();
    if let Some(items) = super::path_completion::path_completion(db, file, offset) {
        return items;
    }
    if let Some(items) = super::packages::completion(db, file, offset) {
        return items;
    }
    if let Some(items) = super::platforms::completion(db, file, offset) {
        return items;
    }
    let index = db::option_index(db, db.workspace());
    if let Some(name_end) = set_being_typed(&syntax, offset) {
        return completion_in_typed_set(index, text, name_end, offset);
    }
    if in_formals(&syntax, offset) {
        // A function's parameters are names of the caller's choosing.
        return Vec::new();
    }
    if let Some(items) = value_completion(db, file, &syntax, offset) {
        return items;
    }
    let view = View {
        syntax,
        module: db::module(db, file),
        map: db::source_map(db, file),
        resolution: db::resolution(db, file),
    };
    path_completion(index, &view, text, offset)
}

/// A file's tree, lowered module, positions and resolution: the database's,
/// or those of a patched copy of the text.
struct View<'a> {
    syntax: SyntaxNode,
    module: &'a Module,
    map: &'a SourceMap,
    resolution: &'a Resolution,
}

/// `{ fire }` with the cursor on the name: rnix reads it as the start of a
/// function's formals (`{ fire }: ...`) that lacks its `:`. A lone formal
/// with no `:` after it is a set being typed; the end of the name is where
/// its `= value;` would go.
fn set_being_typed(syntax: &SyntaxNode, offset: TextSize) -> Option<TextSize> {
    let token = crate::ide::token_at_offset(syntax, offset).left_biased()?;
    if token.kind() != SyntaxKind::TOKEN_IDENT {
        return None;
    }
    let entry = token.parent_ancestors().find_map(ast::PatEntry::cast)?;
    let pattern = ast::Pattern::cast(entry.syntax().parent()?)?;
    let lambda = ast::Lambda::cast(pattern.syntax().parent()?)?;
    let lone = pattern.pat_entries().count() == 1
        && entry.default().is_none()
        && pattern.ellipsis_token().is_none()
        && pattern.pat_bind().is_none()
        && !pattern
            .syntax()
            .children_with_tokens()
            .any(|t| t.kind() == SyntaxKind::TOKEN_COMMA);
    (lone && lambda.token_colon().is_none()).then(|| token.text_range().end())
}

fn in_formals(syntax: &SyntaxNode, offset: TextSize) -> bool {
    crate::ide::token_at_offset(syntax, offset)
        .left_biased()
        .is_some_and(|token| {
            token
                .parent_ancestors()
                .any(|n| ast::Pattern::can_cast(n.kind()))
        })
}

/// Complete in a copy of the text where the name being typed is defined
/// (`{ fire = null; }`), so the set it is in resolves as a set.
fn completion_in_typed_set(
    index: &OptionIndex,
    text: &str,
    name_end: TextSize,
    offset: TextSize,
) -> Vec<CompletionItem> {
    let mut patched = text.to_string();
    patched.insert_str(usize::from(name_end), " = null;");
    let parsed = crate::analysis::reparse::Parsed::new(&patched);
    let (module, map) = crate::analysis::lower::lower(&parsed.root());
    let resolution = crate::analysis::resolve::resolve(&module, index);
    let view = View {
        syntax: parsed.root().syntax().clone(),
        module: &module,
        map: &map,
        resolution: &resolution,
    };
    // Before the cursor, the copy and the text are the same.
    path_completion(index, &view, text, offset)
}

/// Offsets past the end or inside a character move to a boundary.
fn clamp(text: &str, offset: TextSize) -> TextSize {
    let mut offset = usize::from(offset).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    TextSize::from(offset as u32)
}

// ---- values ----

fn value_completion(
    db: &dyn db::Db,
    file: File,
    syntax: &SyntaxNode,
    offset: TextSize,
) -> Option<Vec<CompletionItem>> {
    // In a set nested in the value, names are being written, not a value.
    let token = crate::ide::token_at_offset(syntax, offset).left_biased()?;
    let entry = token.parent_ancestors().find_map(|node| {
        if ast::AttrSet::can_cast(node.kind()) && node.text_range().start() < offset {
            Some(None)
        } else {
            ast::AttrpathValue::cast(node).map(Some)
        }
    })??;
    let assign = entry.assign_token()?;
    if offset <= assign.text_range().start() {
        return None;
    }
    // The value being written: the string or identifier under the cursor.
    let token = crate::ide::token_at_offset(syntax, offset).left_biased()?;
    let (range, in_string) = match token.parent_ancestors().find_map(ast::Str::cast) {
        Some(s) if s.syntax().text_range().start() < offset => (s.syntax().text_range(), true),
        _ if token.kind() == SyntaxKind::TOKEN_IDENT => (token.text_range(), false),
        _ => (TextRange::empty(offset), false),
    };
    let attr = entry.attrpath()?.attrs().last()?;
    let option = option_of_key(db, file, attr.syntax().text_range());
    let mut items = Vec::new();
    if let Some(option) = &option {
        add_value_items(&option.ty, range, in_string, &mut items);
    }
    if !in_string {
        add_scope_items(&entry, range, &mut items);
    }
    Some(items)
}

fn option_of_key(
    db: &dyn db::Db,
    file: File,
    key: TextRange,
) -> Option<std::sync::Arc<OptionDecl>> {
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let entry = (0..map.entries.len() as u32)
        .map(crate::analysis::lower::EntryId)
        .find(|id| map.entry(*id).key == key)?;
    match resolution.keys.get(&entry)? {
        crate::analysis::resolve::KeyMeaning::Option(option) => Some(option.clone()),
        _ => None,
    }
}

fn add_value_items(
    ty: &OptionType,
    range: TextRange,
    in_string: bool,
    items: &mut Vec<CompletionItem>,
) {
    let mut push = |label: String, insert: String| {
        if !items.iter().any(|i| i.label == label) {
            items.push(CompletionItem {
                label,
                kind: CompletionKind::Value,
                detail: Some(ty.description()),
                documentation: None,
                range,
                insert,
                order: None,
            });
        }
    };
    match ty {
        OptionType::Bool if !in_string => {
            push("true".into(), "true".into());
            push("false".into(), "false".into());
        }
        OptionType::Enum(values) => {
            for value in values {
                match value {
                    EnumValue::Str(s) => push(format!("\"{s}\""), format!("\"{s}\"")),
                    EnumValue::Int(i) if !in_string => push(i.to_string(), i.to_string()),
                    EnumValue::Bool(b) if !in_string => push(b.to_string(), b.to_string()),
                    _ => {}
                }
            }
        }
        OptionType::NullOr(inner) => {
            if !in_string {
                push("null".into(), "null".into());
            }
            add_value_items(inner, range, in_string, items);
        }
        OptionType::Either(a, b) => {
            add_value_items(a, range, in_string, items);
            add_value_items(b, range, in_string, items);
        }
        OptionType::OneOf(members) => members
            .iter()
            .for_each(|m| add_value_items(m, range, in_string, items)),
        OptionType::AddCheck(inner) | OptionType::Uniq(inner) => {
            add_value_items(inner, range, in_string, items)
        }
        OptionType::CoercedTo { to, .. } => add_value_items(to, range, in_string, items),
        OptionType::Custom {
            base: Some(base), ..
        } => add_value_items(base, range, in_string, items),
        _ => {}
    }
}

/// Names visible at the entry: `let` bindings, function parameters, the
/// names of enclosing `rec` sets.
fn add_scope_items(entry: &ast::AttrpathValue, range: TextRange, items: &mut Vec<CompletionItem>) {
    let mut names: Vec<String> = Vec::new();
    for node in entry.syntax().ancestors() {
        if let Some(let_in) = ast::LetIn::cast(node.clone()) {
            names.extend(binding_names(&let_in));
        } else if let Some(lambda) = ast::Lambda::cast(node.clone()) {
            match lambda.param() {
                Some(ast::Param::IdentParam(p)) => {
                    names.extend(p.ident().map(|i| i.syntax().text().to_string()))
                }
                Some(ast::Param::Pattern(pattern)) => {
                    names.extend(
                        pattern
                            .pat_entries()
                            .filter_map(|e| e.ident())
                            .map(|i| i.syntax().text().to_string()),
                    );
                    names.extend(
                        pattern
                            .pat_bind()
                            .and_then(|b| b.ident())
                            .map(|i| i.syntax().text().to_string()),
                    );
                }
                None => {}
            }
        } else if let Some(set) = ast::AttrSet::cast(node.clone())
            && set.rec_token().is_some()
        {
            names.extend(binding_names(&set));
        }
    }
    for name in names {
        if !items.iter().any(|i| i.label == name) {
            items.push(CompletionItem {
                label: name.clone(),
                kind: CompletionKind::Variable,
                detail: None,
                documentation: None,
                range,
                insert: name,
                order: None,
            });
        }
    }
}

fn binding_names(node: &impl HasEntry) -> Vec<String> {
    let mut names = Vec::new();
    for entry in node.attrpath_values() {
        if let Some(name) = entry
            .attrpath()
            .and_then(|p| p.attrs().next())
            .and_then(|a| crate::analysis::lower::attr_text(&a))
        {
            names.push(name);
        }
    }
    for inherit in node.inherits() {
        names.extend(
            inherit
                .attrs()
                .filter_map(|a| crate::analysis::lower::attr_text(&a)),
        );
    }
    names
}

// ---- option paths ----

fn path_completion(
    index: &OptionIndex,
    view: &View,
    text: &str,
    offset: TextSize,
) -> Vec<CompletionItem> {
    let (segments, partial_range) = typed_path(text, offset);
    let Some(start) = scope_at(view, offset, index) else {
        return Vec::new();
    };
    let Some(trie) = descend(index, start, &segments) else {
        return Vec::new();
    };
    trie.children
        .iter()
        .map(|(name, child)| {
            let label = micros_options::model::show_option(std::slice::from_ref(name));
            match &child.option {
                Some(option) => CompletionItem {
                    label: label.clone(),
                    kind: CompletionKind::Option,
                    detail: Some(option_detail(option)),
                    documentation: option.description.clone(),
                    range: partial_range,
                    insert: label,
                    order: None,
                },
                None => CompletionItem {
                    label: label.clone(),
                    kind: CompletionKind::Namespace,
                    detail: Some(format!("{} options", child.options().len())),
                    documentation: None,
                    range: partial_range,
                    insert: label,
                    order: None,
                },
            }
        })
        .collect()
}

fn option_detail(option: &OptionDecl) -> String {
    let mut detail = option.ty.description();
    if let Some(default) = option.shown_default()
        && default.kind == LiteralKind::Expression
        && !default.text.contains('\n')
        && default.text.len() <= 40
    {
        detail.push_str(" = ");
        detail.push_str(&default.text);
    }
    detail
}

/// The dotted path typed before the cursor in the current attribute path:
/// the complete segments, and the range of the one being typed.
fn typed_path(text: &str, offset: TextSize) -> (Vec<String>, TextRange) {
    let end = usize::from(offset);
    let bytes = text.as_bytes();
    let mut start = end;
    while start > 0 {
        let c = bytes[start - 1];
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'\'' | b'-' | b'.' | b'"') {
            start -= 1;
        } else {
            break;
        }
    }
    let typed = &text[start..end];
    let mut segments: Vec<String> = split_path(typed);
    let partial = segments.pop().unwrap_or_default();
    let partial_start = end - partial.len().min(end - start);
    // A quoted partial segment is replaced with its quotes.
    let partial_start = if typed.ends_with('"') {
        partial_start
    } else {
        text[..end]
            .rfind(|c: char| c == '.' || !is_path_char(c))
            .map_or(start, |i| (i + 1).max(start))
    };
    (
        segments,
        TextRange::new(TextSize::from(partial_start as u32), offset),
    )
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '-' | '"')
}

fn split_path(typed: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in typed.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("starts with one").push(c),
        }
    }
    out
}

/// Where option names are looked up at the cursor: the option scope of the
/// innermost set around it that resolution visited.
enum Start<'a> {
    Trie(&'a Trie),
}

fn scope_at<'a>(view: &View, offset: TextSize, index: &'a OptionIndex) -> Option<Start<'a>> {
    let (module, map, resolution) = (view.module, view.map, view.resolution);
    let token = crate::ide::token_at_offset(&view.syntax, offset).left_biased()?;
    for set in token.parent_ancestors().filter_map(ast::AttrSet::cast) {
        let range = set.syntax().text_range();
        if offset <= range.start() {
            continue;
        }
        let found = (0..module.nodes.len() as u32).map(NodeId).find(|id| {
            map.node(*id) == range
                && matches!(module.nodes[id.0 as usize], Node::Attrs(_))
                && resolution.sets.contains_key(id)
        });
        if let Some(id) = found {
            let trie = match &resolution.sets[&id] {
                SetScope::Tree(loc) => super::trie_at(index, loc)?,
                SetScope::Submodule(sub, loc) => {
                    let base = index.submodule(sub)?;
                    let mut trie = base;
                    for segment in &loc[base.loc.len().min(loc.len())..] {
                        trie = trie.children.get(segment)?;
                    }
                    trie
                }
            };
            return Some(Start::Trie(trie));
        }
    }
    // Outside any visited set (an empty or broken file): the top level.
    Some(Start::Trie(&index.root))
}

/// Follow typed segments, through `attrsOf`/`listOf` submodules (a name
/// typed for `<name>`).
fn descend<'a>(index: &'a OptionIndex, start: Start<'a>, segments: &[String]) -> Option<&'a Trie> {
    let Start::Trie(mut trie) = start;
    let mut pending_names = 0usize;
    let mut submodule_trie: Option<&Trie> = None;
    for segment in segments {
        if pending_names > 0 {
            pending_names -= 1;
            if pending_names == 0 {
                trie = submodule_trie?;
            }
            continue;
        }
        let child = trie.children.get(segment)?;
        match child.option.as_ref().and_then(|o| o.ty.sub_options()) {
            Some((placeholders, sub)) => {
                let sub_trie = index.submodule(sub)?;
                if placeholders.is_empty() {
                    trie = sub_trie;
                } else {
                    pending_names = placeholders.len();
                    submodule_trie = Some(sub_trie);
                }
            }
            None => trie = child,
        }
    }
    if pending_names > 0 { None } else { Some(trie) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_path_splits_segments() {
        let text = "{ services.ge";
        let (segments, range) = typed_path(text, TextSize::from(text.len() as u32));
        assert_eq!(segments, ["services"]);
        assert_eq!(&text[range], "ge");
        let text = "{ boot.kernel.sysctl.\"net.ipv4";
        let (segments, _) = typed_path(text, TextSize::from(text.len() as u32));
        assert_eq!(segments, ["boot", "kernel", "sysctl"]);
    }
}

#[cfg(test)]
mod feature_tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::fixture;

    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let items = f.host.snapshot().completion(file, offset).unwrap();
        let out: Vec<String> = items
            .iter()
            .map(|i| {
                format!(
                    "{} ({:?}) {}",
                    i.label,
                    i.kind,
                    i.detail.clone().unwrap_or_default()
                )
            })
            .collect();
        expected.assert_eq(&out.join("\n"));
    }

    #[test]
    fn option_paths_at_the_top_level_and_below() {
        check(
            "{ services.$0 }",
            expect![[r#"getty (Namespace) 2 options"#]],
        );
        check(
            "{ services.getty.e$0 }",
            expect![[r#"
                enable (Option) boolean = false
                terminal (Option) string = "/dev/ttyS0""#]],
        );
        check(
            "{ services = { getty = { $0 }; }; }",
            expect![[r#"
                enable (Option) boolean = false
                terminal (Option) string = "/dev/ttyS0""#]],
        );
    }

    #[test]
    fn inside_submodule_elements() {
        check(
            "{ users.alice = { $0 }; }",
            expect![[r#"
                gid (Option) null or signed integer = null
                home (Option) absolute path = "/home/‹name›"
                packages (Option) list of package = [ ]
                password (Option) string = "!"
                uid (Option) null or signed integer = null"#]],
        );
        check(
            "{ micros.services.web.$0 }",
            expect![[r#"
                dependencies (Option) list of string = [ ]
                enable (Option) boolean = true
                startOnBoot (Option) boolean = false
                startScript (Option) null or strings concatenated with "\n" = null
                type (Option) one of "longrun", "oneshot" = "longrun""#]],
        );
        check(
            "{ networking.interfaces = [ { $0 } ]; }",
            expect![[r#"
                ipv4 (Namespace) 1 options
                name (Option) string"#]],
        );
    }

    /// `{ fire }` parses as the start of a function's formals; while a name
    /// is typed in a nested set, it is a set all the same.
    #[test]
    fn a_name_being_typed_inside_braces() {
        check(
            "{ networking = { fire$0 }; }",
            expect![[r#"
                domain (Option) null or string = null
                domainName (Option) null or string
                firewall (Namespace) 2 options
                hostName (Option) string matching the pattern ^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$ = "micros"
                interfaces (Option) list of (submodule) = [ ]
                useDHCP (Option) unspecified value"#]],
        );
        check(
            "{\n  users.alice = {\n    ui$0\n  };\n}\n",
            expect![[r#"
                gid (Option) null or signed integer = null
                home (Option) absolute path = "/home/‹name›"
                packages (Option) list of package = [ ]
                password (Option) string = "!"
                uid (Option) null or signed integer = null"#]],
        );
        check(
            "{ networking.interfaces = [ { na$0 } ]; }",
            expect![[r#"
                ipv4 (Namespace) 1 options
                name (Option) string"#]],
        );
        // Real formals stay formals.
        check("{ lib, pk$0 }: { }", expect![""]);
    }

    #[test]
    fn values_enum_members_booleans_and_names_in_scope() {
        check(
            r#"{ micros.services.web.type = "$0"; }"#,
            expect![[r#"
                "longrun" (Value) one of "longrun", "oneshot"
                "oneshot" (Value) one of "longrun", "oneshot""#]],
        );
        check(
            "{ lib, ... }: let port = 22; in { services.getty.enable = $0 }",
            expect![[r#"
                true (Value) boolean
                false (Value) boolean
                port (Variable) 
                lib (Variable) "#]],
        );
    }
}
