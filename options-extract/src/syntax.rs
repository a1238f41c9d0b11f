//! Parsing Nix text, bounded.
//!
//! rnix builds trees through rowan's node cache, which re-hashes cached
//! nodes recursively when its table grows: a chain of small nested nodes
//! (`[[[[...]]]]`, `1+1+1+...`, `f x x x ...`) costs time quadratic in its
//! depth (40,000 nested lists take seconds). Real configurations nest a few
//! dozen levels, so text that could nest deeper than [`MAX_NESTING`] is not
//! parsed at all: it becomes one error node with one clear message.

use rnix::SyntaxKind::{self, *};
use rowan::{GreenNode, GreenToken, NodeOrToken, TextRange, TextSize};

/// The parts of a path expression (`./a/${x}/b`): its literal text and
/// its interpolations, or `None` when it holds anything else. rnix's own
/// `parts()` panics there, and a broken path such as `/s` followed by a
/// line break and an unclosed `${` leaves whitespace inside the path node.
pub fn path_parts(path: &rnix::SyntaxNode) -> Option<Vec<rnix::ast::InterpolPart<String>>> {
    use rnix::ast::{Interpol, InterpolPart};
    use rowan::ast::AstNode;
    path.children_with_tokens()
        .map(|child| match child {
            NodeOrToken::Token(token)
                if matches!(
                    token.kind(),
                    TOKEN_PATH_ABS | TOKEN_PATH_REL | TOKEN_PATH_HOME
                ) =>
            {
                Some(InterpolPart::Literal(token.text().to_string()))
            }
            NodeOrToken::Token(_) => None,
            NodeOrToken::Node(node) => Interpol::cast(node).map(InterpolPart::Interpolation),
        })
        .collect()
}

/// The deepest nesting analysed (an upper bound estimated from the tokens).
pub const MAX_NESTING: usize = 1_000;

/// A parse: the green tree and the syntax errors (range, message).
pub fn parse(text: &str) -> (GreenNode, Vec<(TextRange, String)>) {
    let (green, errors, _) = parse_measured(text);
    (green, errors)
}

/// [`parse`], and an upper bound of the text's nesting estimate (see
/// [`Nesting`]; meaningful only when the text was parsed): an incremental
/// reparse of a piece of the text proves the guard's answer from it
/// without estimating the whole text again.
pub fn parse_measured(text: &str) -> (GreenNode, Vec<(TextRange, String)>, usize) {
    // Open documents can be of any size; what is read from disk is refused
    // at this size before it gets here.
    if let Some(reason) = crate::eval::too_large(text.len() as u64) {
        let message = format!("this file is {reason}");
        return (
            not_analysed(text),
            vec![(TextRange::empty(0.into()), message)],
            usize::MAX,
        );
    }
    let nesting = match nesting_within(text, MAX_NESTING) {
        Ok(nesting) => nesting,
        Err(offset) => {
            let at = TextSize::try_from(offset).unwrap_or_default();
            let message = format!(
                "nested too deeply (more than {MAX_NESTING} levels); the file is not analysed"
            );
            return (
                not_analysed(text),
                vec![(TextRange::empty(at), message)],
                usize::MAX,
            );
        }
    };
    let parse = rnix::Root::parse(text);
    let root = parse.syntax();
    let mut lists: Option<UnclosedLists> = None;
    let errors = parse
        .errors()
        .iter()
        .map(|e| {
            let (range, message) = crate::eval::parse_error_parts(e, text.len());
            let rnix::ParseError::UnexpectedWanted(found, ..) = e else {
                return (range, message);
            };
            let lists = lists.get_or_insert_with(|| UnclosedLists::of(&root, text));
            let Some(line) = lists.opened_line(range.start()) else {
                return (range, message);
            };
            let found = crate::eval::describe_kind(*found);
            let message = format!(
                "expected `]` to close the list opened on line {line}, or a list element; found {found}"
            );
            (range, message)
        })
        .collect();
    (root.green().to_owned(), errors, nesting)
}

/// The lists a parse never closed: the parser then takes everything up
/// to the end of the file as elements, and what it wanted at an error in
/// one (a value) is not what is missing (the `]`). Found in one walk, as a
/// file with an unclosed list can have thousands of errors in it.
struct UnclosedLists {
    /// The tokens that stand in such a list, directly or in an error node
    /// of it, by start, and the line (from 1) the list was opened on.
    tokens: Vec<(TextRange, usize)>,
}

impl UnclosedLists {
    fn of(root: &rnix::SyntaxNode, text: &str) -> UnclosedLists {
        let mut tokens = Vec::new();
        let line_of = |offset: TextSize| text[..usize::from(offset)].matches('\n').count() + 1;
        for list in root.descendants().filter(|n| n.kind() == NODE_LIST) {
            // A closed list's last child is its `]`.
            if list
                .last_child_or_token()
                .is_some_and(|last| last.kind() == TOKEN_R_BRACK)
            {
                continue;
            }
            let line = line_of(list.text_range().start());
            for child in list.children_with_tokens() {
                match child {
                    NodeOrToken::Token(token) => tokens.push((token.text_range(), line)),
                    NodeOrToken::Node(node) if node.kind() == NODE_ERROR => tokens.extend(
                        node.children_with_tokens()
                            .filter_map(|c| c.into_token())
                            .map(|token| (token.text_range(), line)),
                    ),
                    NodeOrToken::Node(_) => {}
                }
            }
        }
        tokens.sort_by_key(|(range, _)| range.start());
        UnclosedLists { tokens }
    }

    /// The line of the unclosed list the token at `offset` stands in.
    fn opened_line(&self, offset: TextSize) -> Option<usize> {
        let after = self
            .tokens
            .partition_point(|(range, _)| range.start() <= offset);
        let (range, line) = self.tokens[..after].last()?;
        (offset < range.end()).then_some(*line)
    }
}

/// The whole text as one error token: a tree that costs nothing to walk.
fn not_analysed(text: &str) -> GreenNode {
    let raw = |kind: SyntaxKind| <rnix::NixLanguage as rowan::Language>::kind_to_raw(kind);
    let token = GreenToken::new(raw(TOKEN_ERROR), text);
    let error = GreenNode::new(raw(NODE_ERROR), [NodeOrToken::Token(token)]);
    GreenNode::new(raw(NODE_ROOT), [NodeOrToken::Node(error)])
}

/// Where the text may nest deeper than `limit`, if anywhere.
pub fn nesting_beyond(text: &str, limit: usize) -> Option<usize> {
    nesting_within(text, limit).err()
}

/// The text's deepest nesting estimate when it is within `limit` (an upper
/// bound of it for short texts), else where it goes past.
fn nesting_within(text: &str, limit: usize) -> Result<usize, usize> {
    // Every level needs at least one character.
    if text.len() <= limit {
        return Ok(text.len() + 1);
    }
    let mut nesting = Nesting::new();
    let mut offset = 0usize;
    for (kind, token) in rnix::tokenize(text) {
        nesting.token(kind);
        if nesting.depth > limit {
            return Err(offset);
        }
        offset += token.len();
    }
    Ok(nesting.deepest)
}

/// The nesting estimate, a token at a time.
///
/// Depth is over-estimated from the tokens: each bracket opens a level, and
/// within one, every token since the last `;` or `,` may nest one level
/// deeper (operators, applications, lambdas chain). List items are
/// siblings, so they add nothing.
pub struct Nesting {
    levels: Vec<Level>,
    /// The sum of `run + 1` over `levels`, kept up to date.
    depth: usize,
    /// The deepest `depth` so far.
    deepest: usize,
    /// A bracket closed that no token here opened.
    closed_outer: bool,
}

struct Level {
    list: bool,
    run: usize,
}

impl Default for Nesting {
    fn default() -> Self {
        Nesting::new()
    }
}

impl Nesting {
    pub fn new() -> Nesting {
        Nesting {
            levels: vec![Level {
                list: false,
                run: 0,
            }],
            depth: 1,
            deepest: 1,
            closed_outer: false,
        }
    }

    pub fn token(&mut self, kind: SyntaxKind) {
        match kind {
            TOKEN_WHITESPACE | TOKEN_COMMENT => {}
            TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_L_PAREN | TOKEN_INTERPOL_START => {
                self.levels.push(Level {
                    list: kind == TOKEN_L_BRACK,
                    run: 0,
                });
                self.depth += 1;
            }
            TOKEN_R_BRACE | TOKEN_R_BRACK | TOKEN_R_PAREN | TOKEN_INTERPOL_END => {
                if self.levels.len() > 1
                    && let Some(level) = self.levels.pop()
                {
                    self.depth -= level.run + 1;
                } else {
                    self.closed_outer = true;
                }
            }
            TOKEN_SEMICOLON | TOKEN_COMMA => {
                if let Some(level) = self.levels.last_mut() {
                    self.depth -= level.run;
                    level.run = 0;
                }
            }
            _ => {
                if let Some(level) = self.levels.last_mut()
                    && !level.list
                {
                    level.run += 1;
                    self.depth += 1;
                }
            }
        }
        self.deepest = self.deepest.max(self.depth);
    }

    /// The deepest estimate so far, counting the level the tokens started in.
    pub fn deepest(&self) -> usize {
        self.deepest
    }

    /// Every bracket the tokens opened they closed, and no other, and the
    /// last `;` or `,` ended the run of the level they started in: the
    /// estimate after them is what it was before them.
    pub fn back_where_it_started(&self) -> bool {
        !self.closed_outer && self.levels.len() == 1 && self.depth == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_code_is_far_from_the_limit() {
        let text = include_str!("../../tests/fixtures/template/configuration.nix");
        assert_eq!(nesting_beyond(text, 40), None);
        let long_list = format!("{{ x = [ {} ]; }}", "\"item\" ".repeat(50_000));
        assert_eq!(nesting_beyond(&long_list, MAX_NESTING), None);
        let big_set: String = (0..20_000).map(|i| format!("a{i} = {i};\n")).collect();
        assert_eq!(
            nesting_beyond(&format!("{{ {big_set} }}"), MAX_NESTING),
            None
        );
    }

    #[test]
    fn deep_chains_are_refused_with_a_position() {
        for text in [
            format!("{{ x = {}1{}; }}", "[".repeat(50_000), "]".repeat(50_000)),
            format!("{{ x = {}; }}", vec!["1"; 50_000].join("+")),
            format!("{{ x = f {}; }}", "x ".repeat(50_000)),
            format!("{}1{}", "(".repeat(50_000), ")".repeat(50_000)),
        ] {
            let (green, errors) = parse(&text);
            assert_eq!(errors.len(), 1);
            assert!(errors[0].1.contains("nested too deeply"), "{errors:?}");
            assert!(usize::from(errors[0].0.start()) < 10_000);
            // The tree still covers the text, so positions stay valid.
            assert_eq!(usize::from(green.text_len()), text.len());
        }
    }

    #[test]
    fn an_unclosed_list_says_its_bracket_is_missing() {
        let text = "{\n  x = [ 1 2\n  ;\n  y = 1;\n}\n";
        let (_, errors) = parse(text);
        assert_eq!(
            errors[0].1,
            "expected `]` to close the list opened on line 2, or a list element; found `;`"
        );
        assert_eq!(usize::from(errors[0].0.start()), text.find(';').unwrap());
        // A stray `;` in a list that is closed is only that.
        let (_, errors) = parse("{ x = [ 1 ; 2 ]; }");
        assert!(errors[0].1.starts_with("expected `(`"), "{errors:?}");
    }

    #[test]
    fn nesting_within_the_limit_parses() {
        let text = format!("{{ x = {}1{}; }}", "[ ".repeat(900), " ]".repeat(900));
        let (_, errors) = parse(&text);
        assert!(errors.is_empty(), "{errors:?}");
    }
}
