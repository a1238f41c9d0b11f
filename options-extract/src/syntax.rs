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
    // Open documents can be of any size; what is read from disk is refused
    // at this size before it gets here.
    if let Some(reason) = crate::eval::too_large(text.len() as u64) {
        let message = format!("this file is {reason}");
        return (
            not_analysed(text),
            vec![(TextRange::empty(0.into()), message)],
        );
    }
    if let Some(offset) = nesting_beyond(text, MAX_NESTING) {
        let at = TextSize::try_from(offset).unwrap_or_default();
        let message =
            format!("nested too deeply (more than {MAX_NESTING} levels); the file is not analysed");
        return (not_analysed(text), vec![(TextRange::empty(at), message)]);
    }
    let parse = rnix::Root::parse(text);
    let root = parse.syntax();
    let errors = parse
        .errors()
        .iter()
        .map(|e| {
            let (range, message) = crate::eval::parse_error_parts(e, text.len());
            match (e, unclosed_list_at(&root, range.start())) {
                (rnix::ParseError::UnexpectedWanted(found, ..), Some(opened)) => {
                    let line = text[..usize::from(opened)].matches('\n').count() + 1;
                    let found = crate::eval::describe_kind(*found);
                    let message = format!(
                        "expected `]` to close the list opened on line {line}, or a list element; found {found}"
                    );
                    (range, message)
                }
                _ => (range, message),
            }
        })
        .collect();
    (root.green().to_owned(), errors)
}

/// Where the list that an error at `offset` stands in was opened, when that
/// list is never closed: the parser then takes everything up to the end of
/// the file as elements, and what it wanted at the error (a value) is not
/// what is missing (the `]`).
fn unclosed_list_at(root: &rnix::SyntaxNode, offset: TextSize) -> Option<TextSize> {
    let token = root.token_at_offset(offset).right_biased()?;
    let mut parent = token.parent()?;
    if parent.kind() == NODE_ERROR {
        parent = parent.parent()?;
    }
    let closed = parent
        .children_with_tokens()
        .any(|child| child.kind() == TOKEN_R_BRACK);
    (parent.kind() == NODE_LIST && !closed).then(|| parent.text_range().start())
}

/// The whole text as one error token: a tree that costs nothing to walk.
fn not_analysed(text: &str) -> GreenNode {
    let raw = |kind: SyntaxKind| <rnix::NixLanguage as rowan::Language>::kind_to_raw(kind);
    let token = GreenToken::new(raw(TOKEN_ERROR), text);
    let error = GreenNode::new(raw(NODE_ERROR), [NodeOrToken::Token(token)]);
    GreenNode::new(raw(NODE_ROOT), [NodeOrToken::Node(error)])
}

/// Where the text may nest deeper than `limit`, if anywhere.
///
/// Depth is over-estimated from the tokens: each bracket opens a level, and
/// within one, every token since the last `;` or `,` may nest one level
/// deeper (operators, applications, lambdas chain). List items are
/// siblings, so they add nothing.
pub fn nesting_beyond(text: &str, limit: usize) -> Option<usize> {
    // Every level needs at least one character.
    if text.len() <= limit {
        return None;
    }
    struct Level {
        list: bool,
        run: usize,
    }
    let mut levels = vec![Level {
        list: false,
        run: 0,
    }];
    // The sum of `run + 1` over `levels`, kept up to date.
    let mut depth = 1usize;
    let mut offset = 0usize;
    for (kind, token) in rnix::tokenize(text) {
        match kind {
            TOKEN_WHITESPACE | TOKEN_COMMENT => {}
            TOKEN_L_BRACE | TOKEN_L_BRACK | TOKEN_L_PAREN | TOKEN_INTERPOL_START => {
                levels.push(Level {
                    list: kind == TOKEN_L_BRACK,
                    run: 0,
                });
                depth += 1;
            }
            TOKEN_R_BRACE | TOKEN_R_BRACK | TOKEN_R_PAREN | TOKEN_INTERPOL_END => {
                if levels.len() > 1
                    && let Some(level) = levels.pop()
                {
                    depth -= level.run + 1;
                }
            }
            TOKEN_SEMICOLON | TOKEN_COMMA => {
                if let Some(level) = levels.last_mut() {
                    depth -= level.run;
                    level.run = 0;
                }
            }
            _ => {
                if let Some(level) = levels.last_mut()
                    && !level.list
                {
                    level.run += 1;
                    depth += 1;
                }
            }
        }
        if depth > limit {
            return Some(offset);
        }
        offset += token.len();
    }
    None
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
