//! Folding: sets, lists, `let` blocks, function arguments, multi-line
//! strings and runs of comments.

use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;
use rowan::ast::AstNode;

use crate::analysis::db::{self, File};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    pub range: TextRange,
    pub kind: FoldKind,
    /// The fold ends with a closing delimiter (`}`, `]`, `in`, `''`) that
    /// stays visible when folded.
    pub closes: bool,
}

pub fn folding_ranges(db: &dyn db::Db, file: File) -> Vec<Fold> {
    let text = file.text(db);
    let root = db::parse(db, file).root();
    let multi_line = |range: TextRange| text[std::ops::Range::<usize>::from(range)].contains('\n');
    let mut folds = Vec::new();
    for node in root.syntax().descendants() {
        use SyntaxKind::*;
        let range = match node.kind() {
            NODE_ATTR_SET | NODE_LIST | NODE_PATTERN | NODE_STRING | NODE_PAREN => {
                node.text_range()
            }
            // From `let` to `in`: the bindings.
            NODE_LET_IN => match let_block(&node) {
                Some(range) => range,
                None => continue,
            },
            _ => continue,
        };
        if multi_line(range) {
            folds.push(Fold {
                range,
                kind: FoldKind::Region,
                closes: true,
            });
        }
    }
    // Runs of line comments, and block comments over several lines.
    let mut run: Option<TextRange> = None;
    let mut lines_between = 0;
    for token in root
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        match token.kind() {
            SyntaxKind::TOKEN_COMMENT if token.text().starts_with('#') => {
                run = Some(match run {
                    Some(r) if lines_between <= 1 => r.cover(token.text_range()),
                    Some(r) => {
                        push_comment(&mut folds, r, &multi_line);
                        token.text_range()
                    }
                    None => token.text_range(),
                });
                lines_between = 0;
            }
            SyntaxKind::TOKEN_COMMENT => {
                if let Some(r) = run.take() {
                    push_comment(&mut folds, r, &multi_line);
                }
                push_comment(&mut folds, token.text_range(), &multi_line);
            }
            SyntaxKind::TOKEN_WHITESPACE => {
                lines_between += token.text().matches('\n').count();
            }
            _ => {
                if let Some(r) = run.take() {
                    push_comment(&mut folds, r, &multi_line);
                }
            }
        }
    }
    if let Some(r) = run {
        push_comment(&mut folds, r, &multi_line);
    }
    folds.sort_by_key(|f| (f.range.start(), std::cmp::Reverse(f.range.end())));
    folds
}

fn push_comment(folds: &mut Vec<Fold>, range: TextRange, multi_line: &dyn Fn(TextRange) -> bool) {
    if multi_line(range) {
        folds.push(Fold {
            range,
            kind: FoldKind::Comment,
            closes: false,
        });
    }
}

fn let_block(node: &SyntaxNode) -> Option<TextRange> {
    let let_in = rnix::ast::LetIn::cast(node.clone())?;
    let start = let_in.let_token()?.text_range().start();
    let end = let_in.in_token()?.text_range().end();
    Some(TextRange::new(start, end))
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::{fixture, show_range};

    fn check(text: &str) -> Vec<String> {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        analysis
            .folding_ranges(f.file())
            .unwrap()
            .iter()
            .map(|fold| format!("{} {:?}", show_range(text, fold.range), fold.kind))
            .collect()
    }

    #[test]
    fn sets_lists_let_strings_and_comments() {
        let text = r#"# A module.
# Two lines of comment.
{ lib,
  ... }:
let
  a = 1;
in {
  x = [
    1
  ];
  y = ''
    text
  '';
  z = { inline = true; };
  /* a block
     comment */
}
"#;
        assert_eq!(
            check(text),
            [
                "1:1-2:24 Comment",
                "3:1-4:8 Region",
                "5:1-7:3 Region",
                "7:4-17:2 Region",
                "8:7-10:4 Region",
                "11:7-13:5 Region",
                "15:3-16:16 Comment",
            ]
        );
    }

    #[test]
    fn one_line_constructs_do_not_fold() {
        assert!(check("{ a = [ 1 2 ]; b = { c = 1; }; } # one comment").is_empty());
        // Comments apart from each other are separate runs, each one line.
        assert!(check("# one\n\n# two\n1").is_empty());
    }
}
