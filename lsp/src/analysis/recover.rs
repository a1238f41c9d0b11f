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
    parse_with(text, &mut micros_options::syntax::parse)
}

/// [`parse`], with each repaired candidate parsed by `parse_candidate`,
/// which must give what `micros_options::syntax::parse` gives. An edit
/// that deletes a `;` is repaired into the text before the edit less a
/// line break: incremental reparsing (`reparse`) has that text's tree and
/// gets the candidate's from it without the parser.
pub fn parse_with(text: &str, parse_candidate: &mut dyn FnMut(&str) -> Parse) -> Parse {
    let (mut green, mut errors) = micros_options::syntax::parse(text);
    if errors.is_empty() || unparsed(&green) {
        return (green, errors);
    }
    let mut repaired = text.to_string();
    let mut missing = Vec::new();
    for _ in 0..MAX_REPAIRS {
        let Some(first) = first_error(&errors) else {
            break;
        };
        let Some((value_end, replaced)) = line_end_before(&repaired, first) else {
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
/// `;` can replace.
fn line_end_before(text: &str, error: TextSize) -> Option<(TextSize, usize)> {
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
