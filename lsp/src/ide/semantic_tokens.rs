//! Semantic highlighting: every token of a file classified, with option
//! path segments apart from variables (renamed or removed options marked
//! deprecated, read-only ones readonly) and Nix's builtins and `lib`'s
//! functions marked as the default library.

use std::collections::HashMap;

use micros_options::eval::GLOBAL_NAMES;
use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode, SyntaxToken};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};
use rustc_hash::FxHashMap;

use crate::analysis::db::{self, File};
use crate::analysis::resolve::{Anchor, Code, KeyMeaning};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    Keyword,
    Operator,
    String,
    /// A path literal (`./x.nix`), a URI.
    Path,
    Number,
    Comment,
    Variable,
    Parameter,
    /// An attribute name; an option path segment.
    Property,
    Function,
    /// `builtins`.
    Namespace,
    /// `true`, `false`, `null`.
    Constant,
}

impl TokenKind {
    pub const ALL: [TokenKind; 12] = [
        TokenKind::Keyword,
        TokenKind::Operator,
        TokenKind::String,
        TokenKind::Path,
        TokenKind::Number,
        TokenKind::Comment,
        TokenKind::Variable,
        TokenKind::Parameter,
        TokenKind::Property,
        TokenKind::Function,
        TokenKind::Namespace,
        TokenKind::Constant,
    ];
}

/// A set of modifiers, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Modifiers(pub u8);

impl Modifiers {
    pub const DECLARATION: Modifiers = Modifiers(1);
    /// A renamed or removed option.
    pub const DEPRECATED: Modifiers = Modifiers(2);
    /// A read-only option.
    pub const READONLY: Modifiers = Modifiers(4);
    /// Nix's builtins, `lib` and what comes from it.
    pub const DEFAULT_LIBRARY: Modifiers = Modifiers(8);
    pub const ALL: [Modifiers; 4] = [
        Modifiers::DECLARATION,
        Modifiers::DEPRECATED,
        Modifiers::READONLY,
        Modifiers::DEFAULT_LIBRARY,
    ];

    pub fn contains(self, other: Modifiers) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Modifiers {
    type Output = Modifiers;
    fn bitor(self, other: Modifiers) -> Modifiers {
        Modifiers(self.0 | other.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub kind: TokenKind,
    pub modifiers: Modifiers,
}

/// The tokens of the file (within `range`, when given), in order and
/// without overlaps. Multi-line tokens (strings, comments) are whole here;
/// the server splits them per line.
pub fn semantic_tokens(
    db: &dyn db::Db,
    file: File,
    range: Option<TextRange>,
) -> Vec<SemanticToken> {
    let root = db::parse(db, file).root();
    let mut classifier = Classifier {
        names: FxHashMap::default(),
        scopes: Vec::new(),
        library_with: 0,
        depth: 0,
        options: option_keys(db, file),
        index: crate::analysis::db::option_index(db, db.workspace()).clone(),
    };
    if let Some(expr) = root.expr() {
        classifier.node(expr.syntax());
    }
    let syntax = root.syntax();
    let tokens = match range {
        Some(range) => {
            let range = range.intersect(syntax.text_range()).unwrap_or_default();
            let covering = syntax.covering_element(range);
            let node = match covering {
                rowan::NodeOrToken::Node(node) => node,
                rowan::NodeOrToken::Token(token) => token.parent().unwrap_or(syntax.clone()),
            };
            node.descendants_with_tokens()
                .filter_map(|e| e.into_token())
                .filter(|t| {
                    t.text_range()
                        .intersect(range)
                        .is_some_and(|r| !r.is_empty())
                })
                .collect::<Vec<_>>()
        }
        None => syntax
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
            .collect(),
    };
    tokens
        .iter()
        .filter_map(|token| {
            let (kind, modifiers) = match classifier.names.get(&token.text_range().start()) {
                Some(&class) => class,
                None => (lexical(token)?, Modifiers::default()),
            };
            Some(SemanticToken {
                range: token.text_range(),
                kind,
                modifiers,
            })
        })
        .collect()
}

/// What a token is by itself.
fn lexical(token: &SyntaxToken) -> Option<TokenKind> {
    use SyntaxKind::*;
    Some(match token.kind() {
        TOKEN_ASSERT | TOKEN_ELSE | TOKEN_IF | TOKEN_IN | TOKEN_INHERIT | TOKEN_LET | TOKEN_REC
        | TOKEN_THEN | TOKEN_WITH | TOKEN_OR => TokenKind::Keyword,
        TOKEN_ADD | TOKEN_AND_AND | TOKEN_CONCAT | TOKEN_DIV | TOKEN_EQUAL | TOKEN_IMPLICATION
        | TOKEN_INVERT | TOKEN_LESS | TOKEN_LESS_OR_EQ | TOKEN_MORE | TOKEN_MORE_OR_EQ
        | TOKEN_MUL | TOKEN_NOT_EQUAL | TOKEN_OR_OR | TOKEN_PIPE_LEFT | TOKEN_PIPE_RIGHT
        | TOKEN_QUESTION | TOKEN_SUB | TOKEN_UPDATE | TOKEN_ASSIGN | TOKEN_AT | TOKEN_ELLIPSIS => {
            TokenKind::Operator
        }
        TOKEN_STRING_START | TOKEN_STRING_CONTENT | TOKEN_STRING_END => TokenKind::String,
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL | TOKEN_PATH_SEARCH | TOKEN_URI => {
            TokenKind::Path
        }
        TOKEN_INTEGER | TOKEN_FLOAT => TokenKind::Number,
        TOKEN_COMMENT => TokenKind::Comment,
        // Names are classified where they stand; one the walk did not reach
        // (inside a broken part of the tree) is still a name.
        TOKEN_IDENT => TokenKind::Variable,
        _ => return None,
    })
}

/// What each option key of the module means, by the start of its range,
/// and where renamed or removed options are written.
struct OptionKeys {
    keys: FxHashMap<TextSize, KeyMeaning>,
    deprecated: Vec<TextRange>,
}

fn option_keys(db: &dyn db::Db, file: File) -> OptionKeys {
    let map = db::source_map(db, file);
    let resolution = db::resolution(db, file);
    let keys = resolution
        .keys
        .iter()
        .map(|(id, meaning)| (map.entry(*id).key.start(), meaning.clone()))
        .collect();
    let deprecated = resolution
        .diagnostics
        .iter()
        .filter(|d| matches!(d.code, Code::RenamedOption | Code::RemovedOption))
        .map(|d| super::diagnostics::anchor_range(map, d.anchor))
        .chain(
            resolution
                .diagnostics
                .iter()
                .filter(|d| matches!(d.code, Code::RenamedOption | Code::RemovedOption))
                .filter_map(|d| match d.anchor {
                    Anchor::PathThrough(id) => Some(map.entry(id).path),
                    _ => None,
                }),
        )
        .collect();
    OptionKeys { keys, deprecated }
}

#[derive(Clone, Copy)]
struct Binding {
    kind: TokenKind,
    library: bool,
}

/// Deeper than this the walk stops; what it did not reach keeps its
/// lexical class (the parser already refuses deeper nesting).
const MAX_DEPTH: u32 = 1_000;

struct Classifier {
    /// Identifier tokens by their start, with what they are.
    names: FxHashMap<TextSize, (TokenKind, Modifiers)>,
    scopes: Vec<HashMap<String, Binding>>,
    /// Inside `with lib;` (or `with builtins;`) names the scopes do not
    /// know come from the library.
    library_with: u32,
    depth: u32,
    options: OptionKeys,
    index: std::sync::Arc<crate::analysis::options::OptionIndex>,
}

impl Classifier {
    fn mark(&mut self, token: TextRange, kind: TokenKind, modifiers: Modifiers) {
        self.names.insert(token.start(), (kind, modifiers));
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).copied())
    }

    fn children(&mut self, node: &SyntaxNode) {
        for child in node.children() {
            self.node(&child);
        }
    }

    fn node(&mut self, node: &SyntaxNode) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        self.node_inner(node);
        self.depth -= 1;
    }

    fn node_inner(&mut self, node: &SyntaxNode) {
        use SyntaxKind::*;
        match node.kind() {
            NODE_IDENT => {
                let Some(ident) = ast::Ident::cast(node.clone()) else {
                    return;
                };
                self.reference(&ident);
            }
            NODE_LAMBDA => {
                let Some(lambda) = ast::Lambda::cast(node.clone()) else {
                    return;
                };
                let mut scope = HashMap::new();
                let mut param = |ident: Option<ast::Ident>, this: &mut Classifier| {
                    if let Some(ident) = ident {
                        let name = ident.syntax().text().to_string();
                        let library = name == "lib";
                        this.mark(
                            ident.syntax().text_range(),
                            TokenKind::Parameter,
                            declaration(library),
                        );
                        scope.insert(
                            name,
                            Binding {
                                kind: TokenKind::Parameter,
                                library,
                            },
                        );
                    }
                };
                match lambda.param() {
                    Some(ast::Param::IdentParam(p)) => param(p.ident(), self),
                    Some(ast::Param::Pattern(pattern)) => {
                        for entry in pattern.pat_entries() {
                            param(entry.ident(), self);
                        }
                        param(pattern.pat_bind().and_then(|b| b.ident()), self);
                    }
                    None => {}
                }
                self.scopes.push(scope);
                if let Some(ast::Param::Pattern(pattern)) = lambda.param() {
                    for default in pattern.pat_entries().filter_map(|e| e.default()) {
                        self.node(default.syntax());
                    }
                }
                if let Some(body) = lambda.body() {
                    self.node(body.syntax());
                }
                self.scopes.pop();
            }
            NODE_LET_IN => {
                let Some(let_in) = ast::LetIn::cast(node.clone()) else {
                    return;
                };
                self.scopes
                    .push(self.bindings(&let_in, TokenKind::Variable));
                self.entries(&let_in, TokenKind::Variable);
                if let Some(body) = let_in.body() {
                    self.node(body.syntax());
                }
                self.scopes.pop();
            }
            NODE_LEGACY_LET => {
                let Some(let_) = ast::LegacyLet::cast(node.clone()) else {
                    return;
                };
                self.scopes.push(self.bindings(&let_, TokenKind::Variable));
                self.entries(&let_, TokenKind::Variable);
                self.scopes.pop();
            }
            NODE_ATTR_SET => {
                let Some(set) = ast::AttrSet::cast(node.clone()) else {
                    return;
                };
                let rec = set.rec_token().is_some();
                if rec {
                    self.scopes.push(self.bindings(&set, TokenKind::Property));
                }
                self.entries(&set, TokenKind::Property);
                if rec {
                    self.scopes.pop();
                }
            }
            NODE_WITH => {
                let Some(with) = ast::With::cast(node.clone()) else {
                    return;
                };
                let namespace = with.namespace();
                let library = namespace.as_ref().is_some_and(|n| self.is_library(n));
                if let Some(namespace) = &namespace {
                    self.node(namespace.syntax());
                }
                self.library_with += u32::from(library);
                if let Some(body) = with.body() {
                    self.node(body.syntax());
                }
                self.library_with -= u32::from(library);
            }
            NODE_SELECT => {
                let Some(select) = ast::Select::cast(node.clone()) else {
                    return;
                };
                let base = select.expr();
                if let Some(base) = &base {
                    self.node(base.syntax());
                }
                let applied = node
                    .parent()
                    .and_then(ast::Apply::cast)
                    .and_then(|apply| apply.lambda())
                    .is_some_and(|f| f.syntax() == node);
                if let Some(path) = select.attrpath() {
                    match &base {
                        Some(base) if self.is_library(base) => {
                            self.library_path(&path, applied);
                        }
                        Some(ast::Expr::Ident(ident)) if ident.syntax().text() == "config" => {
                            self.config_path(&path);
                        }
                        _ => self.attrpath(&path, None),
                    }
                }
                if let Some(default) = select.default_expr() {
                    self.node(default.syntax());
                }
            }
            NODE_HAS_ATTR => {
                let Some(has) = ast::HasAttr::cast(node.clone()) else {
                    return;
                };
                if let Some(expr) = has.expr() {
                    self.node(expr.syntax());
                }
                if let Some(path) = has.attrpath() {
                    self.attrpath(&path, None);
                }
            }
            _ => self.children(node),
        }
    }

    /// A name used as an expression.
    fn reference(&mut self, ident: &ast::Ident) {
        let name = ident.syntax().text().to_string();
        let range = ident.syntax().text_range();
        if let Some(binding) = self.lookup(&name) {
            let modifiers = if binding.library {
                Modifiers::DEFAULT_LIBRARY
            } else {
                Modifiers::default()
            };
            self.mark(range, binding.kind, modifiers);
            return;
        }
        let (kind, modifiers) = match name.as_str() {
            "true" | "false" | "null" => (TokenKind::Constant, Modifiers::DEFAULT_LIBRARY),
            "builtins" => (TokenKind::Namespace, Modifiers::DEFAULT_LIBRARY),
            _ if GLOBAL_NAMES.contains(&name.as_str()) || name.starts_with("__") => {
                (TokenKind::Function, Modifiers::DEFAULT_LIBRARY)
            }
            _ if self.library_with > 0 => (TokenKind::Function, Modifiers::DEFAULT_LIBRARY),
            _ => (TokenKind::Variable, Modifiers::default()),
        };
        self.mark(range, kind, modifiers);
    }

    /// `lib`, `builtins`, `lib.types`, or a name bound to them.
    fn is_library(&self, expr: &ast::Expr) -> bool {
        match expr {
            ast::Expr::Ident(ident) => {
                let name = ident.syntax().text().to_string();
                match self.lookup(&name) {
                    Some(binding) => binding.library,
                    None => name == "builtins" || name == "lib" && self.library_with == 0,
                }
            }
            ast::Expr::Select(select) => select.expr().is_some_and(|e| self.is_library(&e)),
            ast::Expr::Paren(paren) => paren.expr().is_some_and(|e| self.is_library(&e)),
            _ => false,
        }
    }

    /// The names a `let` or `rec` set binds.
    fn bindings(&self, node: &impl HasEntry, kind: TokenKind) -> HashMap<String, Binding> {
        let mut scope = HashMap::new();
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(value) => {
                    let mut attrs = value.attrpath().into_iter().flat_map(|p| p.attrs());
                    let Some(name) = attrs
                        .next()
                        .and_then(|a| crate::analysis::lower::attr_text(&a))
                    else {
                        continue;
                    };
                    let library = attrs.next().is_none()
                        && value.value().is_some_and(|v| self.is_library(&v));
                    scope.entry(name).or_insert(Binding { kind, library });
                }
                ast::Entry::Inherit(inherit) => {
                    let library = inherit
                        .from()
                        .and_then(|f| f.expr())
                        .is_some_and(|e| self.is_library(&e))
                        || inherit.from().is_none()
                            && inherit.attrs().any(|a| {
                                crate::analysis::lower::attr_text(&a)
                                    .is_some_and(|n| self.lookup(&n).is_some_and(|b| b.library))
                            });
                    for attr in inherit.attrs() {
                        if let Some(name) = crate::analysis::lower::attr_text(&attr) {
                            scope.entry(name).or_insert(Binding { kind, library });
                        }
                    }
                }
            }
        }
        scope
    }

    /// The entries of a set or `let`: their keys are `kind` (an option key
    /// is a property whatever the set), values are walked.
    fn entries(&mut self, node: &impl HasEntry, kind: TokenKind) {
        for entry in node.entries() {
            match entry {
                ast::Entry::AttrpathValue(value) => {
                    if let Some(path) = value.attrpath() {
                        let first_kind = (kind, Modifiers::DECLARATION);
                        self.attrpath(&path, Some(first_kind));
                    }
                    if let Some(value) = value.value() {
                        self.node(value.syntax());
                    }
                }
                ast::Entry::Inherit(inherit) => {
                    let from = inherit.from().and_then(|f| f.expr());
                    let library = from.as_ref().is_some_and(|e| self.is_library(e));
                    if let Some(from) = &from {
                        self.node(from.syntax());
                    }
                    for attr in inherit.attrs() {
                        match &attr {
                            ast::Attr::Ident(ident) => {
                                let modifiers = if library
                                    || from.is_none()
                                        && self
                                            .lookup(&ident.syntax().text().to_string())
                                            .is_some_and(|b| b.library)
                                {
                                    Modifiers::DECLARATION | Modifiers::DEFAULT_LIBRARY
                                } else {
                                    Modifiers::DECLARATION
                                };
                                let range = ident.syntax().text_range();
                                let kind = self.option_key(range).map_or(kind, |(k, _)| k);
                                self.mark(range, kind, modifiers);
                            }
                            other => self.dynamic(other),
                        }
                    }
                }
            }
        }
    }

    /// Interpolated parts of an attribute name.
    fn dynamic(&mut self, attr: &ast::Attr) {
        match attr {
            ast::Attr::Dynamic(dynamic) => {
                if let Some(expr) = dynamic.expr() {
                    self.node(expr.syntax());
                }
            }
            ast::Attr::Str(s) => {
                for part in s.syntax().children().filter_map(ast::Interpol::cast) {
                    if let Some(expr) = part.expr() {
                        self.node(expr.syntax());
                    }
                }
            }
            ast::Attr::Ident(_) => {}
        }
    }

    /// An option key of the module, if the range is one: a property with
    /// the option's modifiers.
    fn option_key(&self, range: TextRange) -> Option<(TokenKind, Modifiers)> {
        let mut modifiers = Modifiers::default();
        if self
            .options
            .deprecated
            .iter()
            .any(|d| d.contains_range(range))
        {
            modifiers = modifiers | Modifiers::DEPRECATED;
        }
        match self.options.keys.get(&range.start()) {
            Some(KeyMeaning::Option(option)) if option.read_only => {
                Some((TokenKind::Property, modifiers | Modifiers::READONLY))
            }
            Some(_) => Some((TokenKind::Property, modifiers)),
            None if modifiers.contains(Modifiers::DEPRECATED) => {
                Some((TokenKind::Property, modifiers))
            }
            None => None,
        }
    }

    /// A binding's attribute path (`first` gives its first segment's class,
    /// `None` in a selection) or a selection's.
    fn attrpath(&mut self, path: &ast::Attrpath, first: Option<(TokenKind, Modifiers)>) {
        for (i, attr) in path.attrs().enumerate() {
            let range = attr.syntax().text_range();
            if let Some(class) = self.option_key(range) {
                self.mark_attr(&attr, class);
                continue;
            }
            let class = match first {
                Some(first) if i == 0 => first,
                Some(_) => (TokenKind::Property, Modifiers::DECLARATION),
                None => (TokenKind::Property, Modifiers::default()),
            };
            self.mark_attr(&attr, class);
        }
    }

    fn mark_attr(&mut self, attr: &ast::Attr, (kind, modifiers): (TokenKind, Modifiers)) {
        match attr {
            ast::Attr::Ident(ident) => self.mark(ident.syntax().text_range(), kind, modifiers),
            // A quoted name stays a string, its interpolations are walked.
            other => self.dynamic(other),
        }
    }

    /// `lib.strings.concatMapStrings`: the library's; the last segment a
    /// function where it is applied.
    fn library_path(&mut self, path: &ast::Attrpath, applied: bool) {
        let attrs: Vec<ast::Attr> = path.attrs().collect();
        for (i, attr) in attrs.iter().enumerate() {
            let kind = if applied && i + 1 == attrs.len() {
                TokenKind::Function
            } else {
                TokenKind::Property
            };
            self.mark_attr(attr, (kind, Modifiers::DEFAULT_LIBRARY));
        }
    }

    /// `config.networking.hostName`: option segments, readonly where the
    /// option is.
    fn config_path(&mut self, path: &ast::Attrpath) {
        let mut loc = Vec::new();
        for attr in path.attrs() {
            let Some(name) = crate::analysis::lower::attr_text(&attr) else {
                self.dynamic(&attr);
                return;
            };
            loc.push(name);
            let read_only = super::trie_at(&self.index, &loc)
                .and_then(|t| t.option.as_ref())
                .is_some_and(|o| o.read_only);
            let deprecated = self.index.migration(&loc).is_some();
            let mut modifiers = Modifiers::default();
            if read_only {
                modifiers = modifiers | Modifiers::READONLY;
            }
            if deprecated {
                modifiers = modifiers | Modifiers::DEPRECATED;
            }
            self.mark_attr(&attr, (TokenKind::Property, modifiers));
        }
    }
}

fn declaration(library: bool) -> Modifiers {
    if library {
        Modifiers::DECLARATION | Modifiers::DEFAULT_LIBRARY
    } else {
        Modifiers::DECLARATION
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use rowan::TextRange;

    use super::*;
    use crate::ide::fixture::fixture;

    fn render(tokens: &[SemanticToken], source: &str) -> String {
        let mut out = String::new();
        for t in tokens {
            let text = &source[std::ops::Range::<usize>::from(t.range)];
            out.push_str(&format!("{text} {:?}", t.kind));
            for (modifier, name) in Modifiers::ALL.iter().zip([
                "declaration",
                "deprecated",
                "readonly",
                "defaultLibrary",
            ]) {
                if t.modifiers.contains(*modifier) {
                    out.push_str(&format!(" +{name}"));
                }
            }
            out.push('\n');
        }
        out
    }

    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let source = analysis.file_text(f.file()).unwrap();
        let tokens = analysis.semantic_tokens(f.file(), None).unwrap();
        expected.assert_eq(&render(&tokens, &source));
    }

    #[test]
    fn options_are_properties_with_their_modifiers() {
        check(
            r#"{ config, lib, ... }: {
  services.getty.enable = lib.mkDefault true;
  networking.domainName = config.system.stateVersion;
  system.stateVersion = "25.05";
}"#,
            expect![[r#"
                config Parameter +declaration
                lib Parameter +declaration +defaultLibrary
                ... Operator
                services Property
                getty Property
                enable Property
                = Operator
                lib Parameter +defaultLibrary
                mkDefault Function +defaultLibrary
                true Constant +defaultLibrary
                networking Property +deprecated
                domainName Property +deprecated
                = Operator
                config Parameter
                system Property
                stateVersion Property +readonly
                system Property
                stateVersion Property +readonly
                = Operator
                " String
                25.05 String
                " String
            "#]],
        );
    }

    #[test]
    fn names_builtins_and_the_library() {
        check(
            r#"{ lib, pkgs, ... }:
let
  inherit (lib) mkIf types;
  port = 22; # the ssh port
  f = x: x + port;
in with lib; {
  a = mkIf true (f 1);
  b = builtins.map toString [ ./x.nix 1.5 ];
  c = mkMerge [ ];
  d = rec { e = 1; g = e; };
  h = pkgs.hello.name or null;
}"#,
            expect![[r#"
                lib Parameter +declaration +defaultLibrary
                pkgs Parameter +declaration
                ... Operator
                let Keyword
                inherit Keyword
                lib Parameter +defaultLibrary
                mkIf Variable +declaration +defaultLibrary
                types Variable +declaration +defaultLibrary
                port Variable +declaration
                = Operator
                22 Number
                # the ssh port Comment
                f Variable +declaration
                = Operator
                x Parameter +declaration
                x Parameter
                + Operator
                port Variable
                in Keyword
                with Keyword
                lib Parameter +defaultLibrary
                a Property +declaration
                = Operator
                mkIf Variable +defaultLibrary
                true Constant +defaultLibrary
                f Variable
                1 Number
                b Property +declaration
                = Operator
                builtins Namespace +defaultLibrary
                map Function +defaultLibrary
                toString Function +defaultLibrary
                ./x.nix Path
                1.5 Number
                c Property +declaration
                = Operator
                mkMerge Function +defaultLibrary
                d Property +declaration
                = Operator
                rec Keyword
                e Property +declaration
                = Operator
                1 Number
                g Property +declaration
                = Operator
                e Property
                h Property +declaration
                = Operator
                pkgs Parameter
                hello Property
                name Property
                or Keyword
                null Constant +defaultLibrary
            "#]],
        );
    }

    #[test]
    fn a_shadowed_builtin_is_a_variable() {
        check(
            "let map = 1; lib = { }; in [ map (lib.x 1) ]",
            expect![[r#"
                let Keyword
                map Variable +declaration
                = Operator
                1 Number
                lib Variable +declaration
                = Operator
                in Keyword
                map Variable
                lib Variable
                x Property
                1 Number
            "#]],
        );
    }

    #[test]
    fn a_range_gives_only_its_tokens() {
        let text = "{\n  a = 1;\n  b = \"x\";\n}";
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let start = text.find('b').unwrap() as u32;
        let range = TextRange::new(start.into(), (start + 3).into());
        let tokens = analysis.semantic_tokens(f.file(), Some(range)).unwrap();
        expected_range(&tokens, text);
    }

    fn expected_range(tokens: &[SemanticToken], text: &str) {
        expect![[r#"
            b Property +declaration
            = Operator
        "#]]
        .assert_eq(&render(tokens, text));
    }

    #[test]
    fn a_broken_file_still_gets_its_tokens() {
        check(
            "{ a = ; b = 1",
            expect![[r#"
                a Property +declaration
                = Operator
                b Variable
                = Operator
                1 Number
            "#]],
        );
    }
}
