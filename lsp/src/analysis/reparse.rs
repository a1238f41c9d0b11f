//! Incremental reparsing: an edit inside one token (typing in a string, a
//! name or a number, or in whitespace) swaps that token in the old green
//! tree instead of parsing the file again.
//!
//! The fast path only applies where the result provably equals a full
//! parse: the new text must lex to one token of the same kind, and its
//! neighbours must lex exactly as before. An edit within the bindings of
//! one set or `let` parses those bindings (and two after them) again
//! alone and splices them in, where that provably gives the full parse
//! (`reparse_bindings`). Everything else is parsed from scratch. A tree
//! with syntax errors is never the starting point: edits
//! start from the file's last parse without errors (its [`Baseline`]), so
//! typing back the `;` an edit deleted is no change at all against it.

use std::sync::Arc;

use rnix::SyntaxKind::{self, *};
use rowan::{GreenNode, GreenToken, TextRange, TextSize};

/// A parsed file: the green tree and the syntax errors (range, message).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub green: GreenNode,
    pub errors: Vec<(TextRange, String)>,
    /// An upper bound of the text's nesting estimate
    /// (`micros_options::syntax::Nesting`), for a reparse of a piece of it.
    nesting: usize,
}

/// Two parses are the same tree and errors, however they were reached.
impl PartialEq for Parsed {
    fn eq(&self, other: &Parsed) -> bool {
        self.green == other.green && self.errors == other.errors
    }
}

impl Eq for Parsed {}

impl Parsed {
    pub fn new(text: &str) -> Parsed {
        let (green, errors, nesting) = micros_options::syntax::parse_measured(text);
        let (green, errors) = crate::analysis::recover::parse_with(
            text,
            (green, errors),
            &mut micros_options::syntax::parse,
        );
        Parsed {
            green,
            errors,
            nesting,
        }
    }

    pub fn root(&self) -> rnix::ast::Root {
        use rowan::ast::AstNode;
        rnix::ast::Root::cast(rnix::SyntaxNode::new_root(self.green.clone()))
            .expect("a parse is rooted at ROOT")
    }

    /// The parse of `new_text`, reusing this parse of `old_text` when the
    /// two are equal, differ inside one token, or differ inside a few
    /// bindings of one set or `let`.
    pub fn reparse(&self, old_text: &str, new_text: &str) -> Parsed {
        // The parser is deterministic: the same text, the same parse.
        if old_text == new_text {
            return self.clone();
        }
        if let Some(parsed) = self.relex_token(old_text, new_text) {
            return parsed;
        }
        let parse = |text: &str| {
            self.reparse_bindings(old_text, text).unwrap_or_else(|| {
                let (green, errors, nesting) = micros_options::syntax::parse_measured(text);
                Parsed {
                    green,
                    errors,
                    nesting,
                }
            })
        };
        let first = parse(new_text);
        if first.errors.is_empty() {
            return first;
        }
        // A `;` deleted: the repair the parse tries is this text again,
        // less a line break, which is a change inside one token of it.
        let nesting = first.nesting;
        let (green, errors) = crate::analysis::recover::parse_with(
            new_text,
            (first.green, first.errors),
            &mut |candidate: &str| {
                let parsed = self
                    .relex_token(old_text, candidate)
                    .unwrap_or_else(|| parse(candidate));
                (parsed.green, parsed.errors)
            },
        );
        Parsed {
            green,
            errors,
            nesting,
        }
    }

    fn relex_token(&self, old_text: &str, new_text: &str) -> Option<Parsed> {
        if !self.errors.is_empty() || old_text == new_text {
            return None;
        }
        let (start, old_end, new_end) = changed_span(old_text, new_text);
        let root = rnix::SyntaxNode::new_root(self.green.clone());
        let token = token_around(&root, start, old_end)?;
        let range = token.text_range();
        let delta = new_end as i64 - old_end as i64;
        let new_token_end = usize::try_from(usize::from(range.end()) as i64 + delta).ok()?;
        let new_token_text = new_text.get(usize::from(range.start())..new_token_end)?;
        if new_token_text.is_empty() {
            return None;
        }
        let kind = token.kind();
        let fits = match kind {
            TOKEN_STRING_CONTENT => {
                plain_string_content(token.text()) && plain_string_content(new_token_text)
            }
            TOKEN_IDENT => {
                // The parser reads identifier text in two places: `__curPos`
                // and duplicate formals (`{ a, a }:`).
                token.text() != "__curPos"
                    && new_token_text != "__curPos"
                    && !token.parent_ancestors().any(|n| n.kind() == NODE_PATTERN)
                    && relexes_in_place(&token, new_text, new_token_end)
            }
            TOKEN_INTEGER | TOKEN_FLOAT | TOKEN_WHITESPACE | TOKEN_COMMENT => {
                relexes_in_place(&token, new_text, new_token_end)
            }
            _ => false,
        };
        if !fits {
            return None;
        }
        let green = token.replace_with(GreenToken::new(
            <rnix::NixLanguage as rowan::Language>::kind_to_raw(kind),
            new_token_text,
        ));
        // Same kinds of tokens, so the same nesting estimate.
        Some(Parsed {
            green,
            errors: Vec::new(),
            nesting: self.nesting,
        })
    }
}

/// Sets and `let`s, innermost first, whose bindings a change is tried in.
const MAX_ENCLOSING_SETS: usize = 4;
/// Bindings after the changed ones that are reparsed with them, so that a
/// binding the change left without its `;` ends where the next one does.
const BINDINGS_AFTER: usize = 2;
/// rnix's parser stops at 512 nested expressions; a piece is reparsed
/// only well short of that, where the depth cannot make a difference.
const MAX_PIECE_DEPTH: usize = 400;

impl Parsed {
    /// The parse of `new_text`, with only the bindings of one set or `let`
    /// that the change falls in parsed again (in a set of their own) and
    /// put in place of the old ones.
    ///
    /// The parser reads a set's bindings in a loop that starts each binding
    /// afresh (`parse_set`), so a run of bindings parses the same alone as
    /// in the file, provided it starts where a binding did, lexes the same
    /// (it starts at a token of its own and its brackets and strings close
    /// within it), and leaves the loop where it was: it ends with a
    /// complete binding, past the change. The piece's own parse tells
    /// that. What the parser decides by looking ahead of the first binding
    /// (a `{` that may open a pattern, a `let {`) is checked besides, and
    /// the nesting guard's answer follows from this parse's bound.
    fn reparse_bindings(&self, old_text: &str, new_text: &str) -> Option<Parsed> {
        if !self.errors.is_empty()
            || micros_options::eval::too_large(new_text.len() as u64).is_some()
        {
            return None;
        }
        let (start, old_end, new_end) = changed_span(old_text, new_text);
        let change = TextRange::new(
            TextSize::try_from(start).ok()?,
            TextSize::try_from(old_end).ok()?,
        );
        let root = rnix::SyntaxNode::new_root(self.green.clone());
        if change.end() > root.text_range().end() {
            return None;
        }
        let covering = match root.covering_element(change) {
            rowan::NodeOrToken::Node(node) => node,
            rowan::NodeOrToken::Token(token) => token.parent()?,
        };
        let delta = new_end as i64 - old_end as i64;
        covering
            .ancestors()
            .filter(|node| matches!(node.kind(), NODE_ATTR_SET | NODE_LET_IN | NODE_LEGACY_LET))
            .take(MAX_ENCLOSING_SETS)
            .find_map(|set| self.reparse_in(&set, change, delta, new_text))
    }

    fn reparse_in(
        &self,
        set: &rnix::SyntaxNode,
        change: TextRange,
        delta: i64,
        new_text: &str,
    ) -> Option<Parsed> {
        let bindings: Vec<(usize, TextRange)> = set
            .children_with_tokens()
            .enumerate()
            .filter(|(_, child)| matches!(child.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT))
            .map(|(index, child)| (index, child.text_range()))
            .collect();
        let first = bindings
            .iter()
            .rposition(|(_, range)| range.start() <= change.start())?;
        let last = bindings
            .iter()
            .position(|(_, range)| range.end() >= change.end())?
            .max(first);
        let last = (last + BINDINGS_AFTER).min(bindings.len() - 1);
        let piece_start = usize::from(bindings[first].1.start());
        let piece_end = usize::try_from(usize::from(bindings[last].1.end()) as i64 + delta).ok()?;
        let piece = new_text.get(piece_start..piece_end)?;
        // Starting with whitespace, the piece would lex as one token with
        // the whitespace before it.
        if piece.chars().next().is_none_or(char::is_whitespace) {
            return None;
        }

        let mut nesting = micros_options::syntax::Nesting::new();
        let mut significant = Vec::with_capacity(2);
        for (kind, _) in rnix::tokenize(piece) {
            nesting.token(kind);
            if !kind.is_trivia() && significant.len() < 2 {
                significant.push(kind);
            }
        }
        // Brackets, strings and interpolations closed within the piece: the
        // rest lexes and estimates as before. The depth before the piece is
        // at most this parse's bound.
        if !nesting.back_where_it_started() {
            return None;
        }
        let limit = micros_options::syntax::MAX_NESTING;
        let nesting = if new_text.len() <= limit {
            // Too short to nest past the limit: the guard has nothing to say.
            new_text.len() + 1
        } else {
            (self.nesting + nesting.deepest()).checked_sub(1)?
        };
        if nesting > limit && new_text.len() > limit {
            return None;
        }
        let (prefix, suffix, wrapper_kind) = match set.kind() {
            NODE_LET_IN => ("let ", " in null", NODE_LET_IN),
            _ => ("rec{", "}", NODE_ATTR_SET),
        };
        // `let {` and a set's `{` look ahead at what follows them.
        let looks_ahead = match set.kind() {
            NODE_LET_IN => significant.first() == Some(&TOKEN_L_BRACE),
            NODE_ATTR_SET => {
                first == 0
                    && set.first_token().map(|t| t.kind()) == Some(TOKEN_L_BRACE)
                    && may_open_a_pattern(&significant)
            }
            _ => false,
        };
        if looks_ahead {
            return None;
        }

        let wrapped = format!("{prefix}{piece}{suffix}");
        let parse = rnix::Root::parse(&wrapped);
        let inside = TextRange::at(TextSize::of(prefix), TextSize::try_from(piece.len()).ok()?);
        let wrapper_root = parse.syntax();
        let mut top = wrapper_root.children_with_tokens();
        let wrapper = top.next()?.into_node()?;
        if top.next().is_some() || wrapper.kind() != wrapper_kind {
            return None;
        }
        let mut interior = Vec::new();
        let mut outside = Vec::new();
        for child in wrapper.children_with_tokens() {
            let range = child.text_range();
            if inside.contains_range(range) && !range.is_empty() {
                interior.push(child);
            } else if range.end() <= inside.start() || range.start() >= inside.end() {
                outside.push(child.kind());
            } else {
                return None;
            }
        }
        let expected_outside: &[SyntaxKind] = match wrapper_kind {
            NODE_LET_IN => &[
                TOKEN_LET,
                TOKEN_WHITESPACE,
                TOKEN_WHITESPACE,
                TOKEN_IN,
                TOKEN_WHITESPACE,
                NODE_IDENT,
            ],
            _ => &[TOKEN_REC, TOKEN_L_BRACE, TOKEN_R_BRACE],
        };
        if outside != expected_outside {
            return None;
        }
        // It ends with a complete binding, so the loop goes on as before.
        let last_binding = interior.last()?.as_node()?.clone();
        if !matches!(last_binding.kind(), NODE_ATTRPATH_VALUE | NODE_INHERIT)
            || last_binding.text_range().end() != inside.end()
            || last_binding.last_token()?.kind() != TOKEN_SEMICOLON
        {
            return None;
        }
        let mut errors = Vec::with_capacity(parse.errors().len());
        for error in parse.errors() {
            use rnix::ParseError::*;
            let (Unexpected(range)
            | UnexpectedWanted(_, range, _)
            | UnexpectedDoubleBind(range)
            | DuplicatedArgs(range, _)) = error
            else {
                return None;
            };
            if !inside.contains_range(*range) {
                return None;
            }
            let (_, message) = micros_options::eval::parse_error_parts(error, wrapped.len());
            let at = TextSize::try_from(piece_start).ok()?;
            errors.push((*range - inside.start() + at, message));
        }
        let unclosed_list = || {
            wrapper.descendants().any(|node| {
                node.kind() == NODE_LIST
                    && node.last_child_or_token().map(|last| last.kind()) != Some(TOKEN_R_BRACK)
            })
        };
        // Errors in an unclosed list get their own message from the full parse.
        if parse
            .errors()
            .iter()
            .any(|e| matches!(e, rnix::ParseError::UnexpectedWanted(..)))
            && unclosed_list()
        {
            return None;
        }
        if set.ancestors().count() + tree_depth(&wrapper) > MAX_PIECE_DEPTH {
            return None;
        }
        let green_children = interior.into_iter().map(|child| match child {
            rowan::NodeOrToken::Node(node) => rowan::NodeOrToken::Node(node.green().to_owned()),
            rowan::NodeOrToken::Token(token) => rowan::NodeOrToken::Token(token.green().to_owned()),
        });
        let new_set = set
            .green()
            .splice_children(bindings[first].0..=bindings[last].0, green_children);
        Some(Parsed {
            green: set.replace_with(new_set),
            errors,
            nesting,
        })
    }
}

/// Whether the two tokens after a `{` make rnix read it as a pattern.
fn may_open_a_pattern(first_two: &[SyntaxKind]) -> bool {
    matches!(
        first_two,
        [TOKEN_IDENT, TOKEN_COMMA | TOKEN_QUESTION | TOKEN_R_BRACE]
            | [TOKEN_ELLIPSIS, TOKEN_R_BRACE]
            | [TOKEN_R_BRACE, TOKEN_COLON | TOKEN_AT]
            | []
            | [_]
    )
}

/// The depth of the deepest node under `node`, walked without recursion.
fn tree_depth(node: &rnix::SyntaxNode) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in node.preorder() {
        match event {
            rowan::WalkEvent::Enter(_) => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            rowan::WalkEvent::Leave(_) => depth -= 1,
        }
    }
    deepest
}

/// A file's last parse without syntax errors and its text, where the next
/// edit's reparse starts from, however many edits with errors came between.
#[derive(Debug, Clone)]
pub struct Baseline {
    text: Arc<str>,
    parsed: Parsed,
}

impl Baseline {
    /// The parse of `text`, from `baseline` where there is one; a parse
    /// without errors becomes the baseline.
    pub fn parse(baseline: &mut Option<Baseline>, text: &str) -> Parsed {
        let parsed = match baseline {
            Some(last) => last.parsed.reparse(&last.text, text),
            None => Parsed::new(text),
        };
        if parsed.errors.is_empty() {
            *baseline = Some(Baseline {
                text: Arc::from(text),
                parsed: parsed.clone(),
            });
        }
        parsed
    }
}

/// The changed span: its start, and its end in the old and in the new text.
fn changed_span(old: &str, new: &str) -> (usize, usize, usize) {
    let (old, new) = (old.as_bytes(), new.as_bytes());
    let prefix = common_prefix(old, new);
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = common_suffix(&old[prefix..], &new[prefix..]).min(max_suffix);
    (prefix, old.len() - suffix, new.len() - suffix)
}

/// Texts are compared a chunk at a time (a memcmp each), then byte by byte
/// in the first chunk that differs: a whole file is compared on every edit.
const CHUNK: usize = 64;

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let whole = CHUNK * same_run(a.chunks_exact(CHUNK), b.chunks_exact(CHUNK));
    whole + same_run(a[whole..].iter(), b[whole..].iter())
}

fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let whole = CHUNK * same_run(a.rchunks_exact(CHUNK), b.rchunks_exact(CHUNK));
    let (a, b) = (&a[..a.len() - whole], &b[..b.len() - whole]);
    whole + same_run(a.iter().rev(), b.iter().rev())
}

/// How many items the two sequences begin with alike.
fn same_run<T: PartialEq>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>) -> usize {
    a.zip(b).take_while(|(x, y)| x == y).count()
}

/// The token whose range contains `start..end` (an edit at a boundary may
/// belong to either neighbour; prefer the one that is not whitespace).
fn token_around(root: &rnix::SyntaxNode, start: usize, end: usize) -> Option<rnix::SyntaxToken> {
    let start = TextSize::try_from(start).ok()?;
    let end = TextSize::try_from(end).ok()?;
    if start > root.text_range().end() {
        return None;
    }
    let contains = |t: &rnix::SyntaxToken| {
        let r = t.text_range();
        r.start() <= start && end <= r.end()
    };
    let mut candidates: Vec<rnix::SyntaxToken> =
        root.token_at_offset(start).filter(contains).collect();
    candidates.sort_by_key(|t| t.kind() == TOKEN_WHITESPACE);
    candidates.into_iter().next()
}

/// Content of a string with nothing that could start or end an escape, an
/// interpolation or the string itself, so its tokens cannot move.
fn plain_string_content(text: &str) -> bool {
    !text.contains(['"', '\'', '\\', '$'])
}

/// Lexed from scratch, the replaced token and its neighbours come out with
/// the same kinds and lengths as before (two tokens after it, since the
/// lexer looks ahead to tell paths, URIs and floats from names).
fn relexes_in_place(token: &rnix::SyntaxToken, new_text: &str, new_token_end: usize) -> bool {
    let Some(prev) = token.prev_token() else {
        return false;
    };
    let Some(next) = token.next_token() else {
        return false;
    };
    let next2 = next.next_token();
    let neighbours_plain = [Some(&prev), Some(&next), next2.as_ref()]
        .into_iter()
        .flatten()
        .all(|t| context_free(t.kind()));
    if !neighbours_plain {
        return false;
    }
    let shift = |offset: TextSize| {
        usize::from(offset) + new_token_end - usize::from(token.text_range().end())
    };
    let window_end = shift(next2.as_ref().unwrap_or(&next).text_range().end());
    let Some(window) = new_text.get(usize::from(prev.text_range().start())..window_end) else {
        return false;
    };
    let mut expected: Vec<(SyntaxKind, usize)> = vec![
        (prev.kind(), prev.text().len()),
        (
            token.kind(),
            new_token_end - usize::from(token.text_range().start()),
        ),
        (next.kind(), next.text().len()),
    ];
    if let Some(t) = &next2 {
        expected.push((t.kind(), t.text().len()));
    }
    rnix::tokenize(window)
        .map(|(kind, text)| (kind, text.len()))
        .eq(expected)
}

/// Tokens that lex the same wherever they start in code: not part of a
/// string, a path or an interpolation.
fn context_free(kind: SyntaxKind) -> bool {
    !matches!(
        kind,
        TOKEN_STRING_START
            | TOKEN_STRING_END
            | TOKEN_STRING_CONTENT
            | TOKEN_INTERPOL_START
            | TOKEN_INTERPOL_END
            | TOKEN_PATH_ABS
            | TOKEN_PATH_HOME
            | TOKEN_PATH_REL
            | TOKEN_PATH_SEARCH
            | TOKEN_URI
            | TOKEN_ERROR
            | TOKEN_CUR_POS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<&'static str> {
        vec![
            include_str!("../../../tests/fixtures/template/configuration.nix"),
            "{ config, lib, pkgs, ... }:\nlet port = 22; name = \"x\"; in {\n  # a comment\n  services.getty.enable = true;\n  users.alice = { uid = 1000; home = \"/home/alice\"; };\n  networking.hostName = \"host-${name}\";\n  boot.kernel.sysctl.\"net.ipv4.ip_forward\" = 1;\n  x = ./some/path.nix;\n  y = 1.5e3; z = a/b; u = http://example.org;\n  s = ''\n    echo ''${HOME} $out\n  '';\n  f = { a, b ? 2 }: a + b;\n  /* block */ g = __curPos;\n}\n",
        ]
    }

    /// Each of `inserts` at every character boundary of `text`, and the
    /// deletion of each character, with where the edit is.
    fn one_character_edits(text: &str, inserts: &[&str]) -> Vec<(usize, String)> {
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let mut edits = Vec::new();
        for &at in &boundaries {
            for insert in inserts {
                edits.push((at, format!("{}{insert}{}", &text[..at], &text[at..])));
            }
            if let Some(&next) = boundaries.iter().find(|&&b| b > at) {
                edits.push((at, format!("{}{}", &text[..at], &text[next..])));
            }
        }
        edits
    }

    /// Every one-character insertion and deletion, everywhere: the fast
    /// path either declines or gives exactly what a full parse gives.
    #[test]
    fn token_relex_equals_full_parse() {
        let inserts = [
            "a", "Z", "1", "_", "-", "'", "\"", "$", "{", "}", "\\", " ", "\n", ";", ".", "/", ":",
            "#", "*", "e",
        ];
        let mut fast = 0;
        let mut checked = 0;
        for text in samples() {
            let old = Parsed::new(text);
            assert!(old.errors.is_empty(), "{:?}", old.errors);
            for (at, new_text) in one_character_edits(text, &inserts) {
                checked += 1;
                if let Some(incremental) = old.relex_token(text, &new_text) {
                    fast += 1;
                    let full = Parsed::new(&new_text);
                    assert_eq!(
                        incremental,
                        full,
                        "edit at {at}: {:?}",
                        &new_text[at.saturating_sub(10)..(at + 10).min(new_text.len())]
                    );
                }
            }
        }
        // The fast path must actually be taken for ordinary typing.
        assert!(fast * 4 > checked, "fast path taken {fast} of {checked}");
    }

    /// Every one-character insertion and deletion, everywhere: the
    /// bindings' reparse either declines or gives exactly what a full
    /// parse gives, and so does the whole incremental reparse.
    #[test]
    fn bindings_reparse_equals_full_parse() {
        let inserts = [
            "a", "'", "\"", "$", "{", "}", "[", "(", ")", "\n", ";", "=", ":", ",", "#", "in",
        ];
        let mut fast = 0;
        let mut checked = 0;
        for text in samples() {
            let old = Parsed::new(text);
            for (at, new_text) in one_character_edits(text, &inserts) {
                checked += 1;
                let full = Parsed::new(&new_text);
                let context = &new_text[at.saturating_sub(12)..(at + 12).min(new_text.len())];
                if let Some(incremental) = old.reparse_bindings(text, &new_text) {
                    fast += 1;
                    let unrepaired = micros_options::syntax::parse(&new_text);
                    assert_eq!(
                        (incremental.green, incremental.errors),
                        unrepaired,
                        "edit at {at}: {context:?}"
                    );
                }
                assert_eq!(
                    old.reparse(text, &new_text),
                    full,
                    "edit at {at}: {context:?}"
                );
            }
        }
        assert!(fast * 2 > checked, "bindings reparsed {fast} of {checked}");
    }

    /// A `;` deleted in a long set: the parse of the text without it comes
    /// from the tree of the text with it.
    #[test]
    fn a_semicolon_deleted_in_a_long_set_reparses_three_bindings() {
        let good: String = std::iter::once("{ config, ... }: {\n".to_string())
            .chain((0..2_000).map(|i| format!("  services.s{i}.enable = true;\n")))
            .chain(std::iter::once("}\n".to_string()))
            .collect();
        let at = good.find("s1000.enable = true;").unwrap() + "s1000.enable = true".len();
        let broken = format!("{}{}", &good[..at], &good[at + 1..]);
        let old = Parsed::new(&good);
        let incremental = old
            .reparse_bindings(&good, &broken)
            .expect("reparsed in place");
        let unrepaired = micros_options::syntax::parse(&broken);
        assert_eq!((incremental.green, incremental.errors), unrepaired);
        assert_eq!(old.reparse(&good, &broken), Parsed::new(&broken));
    }

    #[test]
    fn edit_in_a_string_keeps_the_tree_shape() {
        let text = "{ a = \"hello\"; b = 1; }";
        let old = Parsed::new(text);
        let new_text = "{ a = \"hellx\"; b = 1; }";
        let new = old.relex_token(text, new_text).expect("fast path");
        assert_eq!(new, Parsed::new(new_text));
        // An edit that ends the string is not a token edit.
        assert!(
            old.relex_token(text, "{ a = \"hel\"lo\"; b = 1; }")
                .is_none()
        );
    }

    #[test]
    fn files_with_errors_are_parsed_again() {
        let text = "{ a = ; }";
        let old = Parsed::new(text);
        assert!(!old.errors.is_empty());
        assert!(old.relex_token(text, "{ ab = ; }").is_none());
        assert_eq!(old.reparse(text, "{ ab = ; }"), Parsed::new("{ ab = ; }"));
    }

    /// A `;` deleted and typed again: the deletion is parsed in full (the
    /// file has an error), the `;` typed back is the baseline's own text,
    /// and its tree is reused as it is.
    #[test]
    fn typing_back_a_deleted_semicolon_reuses_the_last_good_tree() {
        let good = "{ a = \"hello\";\n  b = 1;\n}\n";
        let broken = "{ a = \"hello\"\n  b = 1;\n}\n";
        let mut baseline = None;
        let first = Baseline::parse(&mut baseline, good);
        let after_delete = Baseline::parse(&mut baseline, broken);
        assert_eq!(after_delete, Parsed::new(broken));
        assert!(!after_delete.errors.is_empty());
        let retyped = Baseline::parse(&mut baseline, good);
        assert_eq!(retyped, Parsed::new(good));
        // The very tree, not a parse equal to it.
        assert!(std::ptr::eq::<rowan::GreenNodeData>(
            &*retyped.green,
            &*first.green
        ));
    }

    /// The span found a chunk at a time is the one found byte by byte,
    /// wherever the change is and whatever the lengths.
    #[test]
    fn changed_span_by_chunks() {
        let bytewise = |old: &str, new: &str| {
            let (old, new) = (old.as_bytes(), new.as_bytes());
            let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
            let max_suffix = old.len().min(new.len()) - prefix;
            let suffix = old
                .iter()
                .rev()
                .zip(new.iter().rev())
                .take(max_suffix)
                .take_while(|(a, b)| a == b)
                .count();
            (prefix, old.len() - suffix, new.len() - suffix)
        };
        let base: String = (0..300).map(|i| (b'a' + (i % 7) as u8) as char).collect();
        for at in [0, 1, 63, 64, 65, 127, 128, 150, 299, 300] {
            for (cut, insert) in [
                (0, "x"),
                (1, ""),
                (1, "a"),
                (2, "bc"),
                (0, "aaaa"),
                (70, ""),
            ] {
                let end = (at + cut).min(base.len());
                let new = format!("{}{insert}{}", &base[..at], &base[end..]);
                assert_eq!(
                    changed_span(&base, &new),
                    bytewise(&base, &new),
                    "{at} {cut} {insert:?}"
                );
                assert_eq!(
                    changed_span(&new, &base),
                    bytewise(&new, &base),
                    "{at} {cut} {insert:?}"
                );
            }
        }
        assert_eq!(changed_span(&base, &base), (300, 300, 300));
        assert_eq!(changed_span("", &base), (0, 0, 300));
    }

    /// Deleting a `;`: the parse repairs the text into the good one less a
    /// line break, and that candidate comes from the good tree.
    #[test]
    fn a_deleted_semicolon_is_repaired_from_the_good_tree() {
        let good = "{\n  a = \"hello\";\n  b = 1;\n}\n";
        let broken = "{\n  a = \"hello\"\n  b = 1;\n}\n";
        let repaired = "{\n  a = \"hello\";  b = 1;\n}\n";
        let old = Parsed::new(good);
        let full = Parsed::new(broken);
        assert_eq!(
            full.errors,
            vec![(
                TextRange::empty(15.into()),
                crate::analysis::recover::MISSING_SEMICOLON.to_string()
            )]
        );
        assert!(old.relex_token(good, repaired).is_some());
        let mut candidates = Vec::new();
        let (green, errors) = crate::analysis::recover::parse_with(
            broken,
            micros_options::syntax::parse(broken),
            &mut |c: &str| {
                candidates.push(c.to_string());
                micros_options::syntax::parse(c)
            },
        );
        assert_eq!(candidates, [repaired]);
        assert_eq!((green, errors), (full.green.clone(), full.errors.clone()));
        // The broken text itself comes from the good tree, its first
        // binding and the two after it parsed again.
        let reparsed = old
            .reparse_bindings(good, broken)
            .expect("reparsed in place");
        assert_eq!(
            (reparsed.green, reparsed.errors),
            micros_options::syntax::parse(broken)
        );
        assert_eq!(old.reparse(good, broken), full);
    }

    /// After edits with errors, an edit that is one token away from the
    /// last good text takes the fast path against it.
    #[test]
    fn edits_after_an_error_start_from_the_last_good_parse() {
        let good = "{ a = \"hello\"; b = 1; }";
        let broken = "{ a = \"hello\" b = 1; }";
        let typed = "{ a = \"hellx\"; b = 1; }";
        let mut baseline = None;
        Baseline::parse(&mut baseline, good);
        Baseline::parse(&mut baseline, broken);
        let kept = baseline.clone().expect("the good parse stays the baseline");
        assert_eq!(&*kept.text, good);
        assert!(kept.parsed.relex_token(good, typed).is_some());
        assert_eq!(Baseline::parse(&mut baseline, typed), Parsed::new(typed));
        assert_eq!(baseline.map(|b| b.text), Some(Arc::from(typed)));
    }

    /// A file that never parsed cleanly has no baseline: each edit is
    /// parsed in full.
    #[test]
    fn no_baseline_without_a_good_parse() {
        let mut baseline = None;
        let text = "{ a = ; }";
        assert_eq!(Baseline::parse(&mut baseline, text), Parsed::new(text));
        assert!(baseline.is_none());
        let text = "{ ab = ; }";
        assert_eq!(Baseline::parse(&mut baseline, text), Parsed::new(text));
        assert!(baseline.is_none());
    }
}
