//! Recovering from a missing `;`.
//!
//! Without its `;`, a binding's value runs on into the next line:
//! `enable = true` followed by `networking.x = 1;` parses as the call
//! `true networking.x`, then fails at the `=`, and everything read from that
//! tree (an undefined `networking`, unknown options) is noise. Where putting
//! a `;` at the end of the line before the parser's first error lets it go
//! further, that is the error: it is reported there, once, and the file is
//! read as if the `;` were present.
//!
//! The `;` takes the place of the whitespace character after the value, so
//! every offset of the repaired tree is the file's own.

use rnix::SyntaxKind::{self, *};
use rowan::{GreenNode, TextRange, TextSize};

/// Repairs tried per parse: each costs a parse of the whole file.
const MAX_REPAIRS: usize = 8;

pub const MISSING_SEMICOLON: &str = "expected `;` after this value";

/// A parse: the tree, and the errors (range, message).
pub type Parse = (GreenNode, Vec<(TextRange, String)>);

/// A bounded parse (see `micros_options::syntax`), with missing `;`s
/// repaired: the tree, and the errors (range, message).
pub fn parse(text: &str) -> Parse {
    parse_with(
        text,
        micros_options::syntax::parse(text),
        &mut micros_options::syntax::parse,
    )
}

/// [`parse`] from `parsed`, the text's own parse, with each repaired
/// candidate parsed by `parse_candidate`; both must be what
/// `micros_options::syntax::parse` gives. An edit
/// that deletes a `;` is repaired into the text before the edit less a
/// line break: incremental reparsing (`reparse`) has that text's tree and
/// gets the candidate's from it without the parser.
pub fn parse_with(
    text: &str,
    parsed: Parse,
    parse_candidate: &mut dyn FnMut(&str) -> Parse,
) -> Parse {
    let (mut green, mut errors) = parsed;
    if errors.is_empty() || unparsed(&green) {
        return (green, errors);
    }
    let mut repaired = text.to_string();
    let mut missing = Vec::new();
    for _ in 0..MAX_REPAIRS {
        let Some(first) = first_error(&errors) else {
            break;
        };
        let Some((value_end, replaced)) = line_end_before(&green, &repaired, first) else {
            break;
        };
        let mut candidate = repaired.clone();
        candidate.replace_range(replaced..replaced + 1, ";");
        let (candidate_green, candidate_errors) = parse_candidate(&candidate);
        // A repair must get the parser past the error it was made for.
        if first_error(&candidate_errors).is_some_and(|next| next <= first) {
            break;
        }
        missing.push(value_end);
        repaired = candidate;
        green = candidate_green;
        errors = candidate_errors;
    }
    if !missing.is_empty() {
        let mut all: Vec<(TextRange, String)> = missing
            .into_iter()
            .map(|at| (TextRange::empty(at), MISSING_SEMICOLON.to_string()))
            .collect();
        all.append(&mut errors);
        all.sort_by_key(|(range, _)| range.start());
        errors = all;
    }
    (green, errors)
}

/// Text refused by the nesting guard is one error node: nothing to repair.
fn unparsed(green: &GreenNode) -> bool {
    let raw = <rnix::NixLanguage as rowan::Language>::kind_to_raw(NODE_ERROR);
    let mut children = green.children();
    matches!(
        (children.next(), children.next()),
        (Some(rowan::NodeOrToken::Node(node)), None) if node.kind() == raw
    )
}

fn first_error(errors: &[(TextRange, String)]) -> Option<TextSize> {
    errors.iter().map(|(range, _)| range.start()).min()
}

/// The last line break before `error` that follows a complete value: the
/// end of that value, and the byte after it (a whitespace character) that a
/// `;` can replace. Read backwards from the error in `green`, the tree of
/// `text`, whose tokens are the lexer's (the parser renames only `or` used
/// as a name): the file before it is not lexed again.
fn line_end_before(green: &GreenNode, text: &str, error: TextSize) -> Option<(TextSize, usize)> {
    let root = rnix::SyntaxNode::new_root(green.clone());
    let lexed_kind = |token: &rnix::SyntaxToken| match token.kind() {
        TOKEN_IDENT if token.text() == "or" => TOKEN_OR,
        kind => kind,
    };
    let is_break =
        |token: &rnix::SyntaxToken| token.kind() == TOKEN_WHITESPACE && token.text().contains('\n');
    // The last token that starts before the error.
    let mut token = match root.token_at_offset(error) {
        rowan::TokenAtOffset::None => root.last_token()?,
        rowan::TokenAtOffset::Single(token) => token,
        rowan::TokenAtOffset::Between(before, _) => before,
    };
    while token.text_range().start() >= error {
        token = token.prev_token()?;
    }
    // The last line break before it ...
    while !is_break(&token) {
        token = token.prev_token()?;
    }
    // ... follows a value when the last token on its line is one.
    let mut before = token.prev_token()?;
    while matches!(before.kind(), TOKEN_WHITESPACE | TOKEN_COMMENT) {
        if is_break(&before) {
            return None;
        }
        before = before.prev_token()?;
    }
    if !ends_a_value(lexed_kind(&before)) {
        return None;
    }
    let value_end = usize::from(before.text_range().end());
    if !text.as_bytes().get(value_end)?.is_ascii_whitespace() {
        return None;
    }
    Some((before.text_range().end(), value_end))
}

/// Tokens a value can end with.
fn ends_a_value(kind: SyntaxKind) -> bool {
    matches!(
        kind,
        TOKEN_IDENT
            | TOKEN_INTEGER
            | TOKEN_FLOAT
            | TOKEN_URI
            | TOKEN_PATH_ABS
            | TOKEN_PATH_HOME
            | TOKEN_PATH_REL
            | TOKEN_PATH_SEARCH
            | TOKEN_STRING_END
            | TOKEN_R_BRACE
            | TOKEN_R_BRACK
            | TOKEN_R_PAREN
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lexer's reading, from the start of the text: what the tree's
    /// tokens must give.
    fn line_end_before_by_lexing(text: &str, error: TextSize) -> Option<(TextSize, usize)> {
        let error = usize::from(error);
        let mut offset = 0;
        let mut last_value_end: Option<usize> = None;
        let mut candidate = None;
        for (kind, token) in rnix::tokenize(text) {
            let start = offset;
            offset += token.len();
            if start >= error {
                break;
            }
            match kind {
                TOKEN_WHITESPACE if token.contains('\n') => {
                    candidate = last_value_end;
                    last_value_end = None;
                }
                TOKEN_WHITESPACE | TOKEN_COMMENT => {}
                kind if ends_a_value(kind) => last_value_end = Some(offset),
                _ => last_value_end = None,
            }
        }
        let value_end = candidate?;
        if !text.as_bytes().get(value_end)?.is_ascii_whitespace() {
            return None;
        }
        Some((TextSize::try_from(value_end).ok()?, value_end))
    }

    #[test]
    fn the_line_end_read_from_the_tree_is_the_lexers() {
        let texts = [
            include_str!("../../../tests/fixtures/template/configuration.nix"),
            "{\n  a = x.or\n  b = 1 # c\n  /* d */ c = \"s\n t\"\n  d = ''\n x\n '' e\n\n f = [ 1\n 2 ]\n  g = or\n}\n",
            "\n\nx\n",
            "",
        ];
        for text in texts {
            let (green, _) = micros_options::syntax::parse(text);
            for error in 0..=text.len() {
                let error = TextSize::try_from(error).unwrap();
                assert_eq!(
                    line_end_before(&green, text, error),
                    line_end_before_by_lexing(text, error),
                    "error at {error:?} in {text:?}"
                );
            }
        }
    }
}
