//! nil's other lints: a `with` that gives no name, a needless `rec`, an
//! empty `let` or `inherit`, a function argument named twice, a URI
//! literal. The first two come from name resolution (`names.rs`), the
//! others from the syntax alone.

use std::collections::HashSet;

use rnix::SyntaxKind::{self, *};
use rowan::{GreenNodeData, GreenTokenData, NodeOrToken, TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::resolve::Code;
use crate::ide::diagnostics::{Diagnostic, Fix, Severity};

pub fn lints(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    let text = file.text(db);
    let parsed = db::parse(db, file);
    let names = db::names(db, file);
    let mut out = Vec::new();
    let mut push = |code: Code, range: TextRange, message: String, fix: Option<Fix>| {
        out.push(Diagnostic {
            range,
            severity: if code.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            },
            code,
            message,
            help: None,
            fix,
            related: Vec::new(),
        });
    };
    for &range in &names.unused_with {
        push(
            Code::UnusedWith,
            range,
            "this `with` gives its body no name".into(),
            Some(Fix {
                title: "Remove the unused `with`".into(),
                range: with_trailing_space(text, range),
                replacement: String::new(),
            }),
        );
    }
    for &range in &names.needless_rec {
        push(
            Code::NeedlessRec,
            range,
            "this set uses none of its own names: `rec` is not needed".into(),
            Some(Fix {
                title: "Remove `rec`".into(),
                range: with_trailing_space(text, range),
                replacement: String::new(),
            }),
        );
    }
    // Over the green tree: these lints need kinds, texts and offsets only,
    // and red nodes for every node and token of the file would cost more
    // than the lints themselves. Iterative, however deep the file nests.
    let mut uris = Vec::new();
    let mut stack: Vec<(&GreenNodeData, TextSize)> = vec![(&parsed.green, TextSize::from(0))];
    while let Some((node, start)) = stack.pop() {
        let range = TextRange::at(start, node.text_len());
        match kind(node.kind()) {
            SyntaxKind::NODE_LET_IN => {
                let binds = children(node, start)
                    .any(|(c, _)| matches!(kind(c.kind()), NODE_ATTRPATH_VALUE | NODE_INHERIT));
                let token = |wanted| {
                    children(node, start)
                        .find(|(c, _)| c.as_token().is_some() && kind(c.kind()) == wanted)
                        .map(|(c, at)| TextRange::at(at, c.text_len()))
                };
                if !binds
                    && let (Some(let_token), Some(in_token)) = (token(TOKEN_LET), token(TOKEN_IN))
                {
                    let range = let_token.cover(in_token);
                    push(
                        Code::EmptyLet,
                        range,
                        "this `let` binds nothing".into(),
                        Some(Fix {
                            title: "Remove the empty `let`".into(),
                            range: with_trailing_space(text, range),
                            replacement: String::new(),
                        }),
                    );
                }
            }
            SyntaxKind::NODE_INHERIT => {
                // What it names: names, strings and `${...}`, not `(from)`.
                let names = children(node, start).any(|(c, _)| {
                    matches!(kind(c.kind()), NODE_IDENT | NODE_STRING | NODE_DYNAMIC)
                });
                if !names {
                    push(
                        Code::EmptyInherit,
                        range,
                        "this `inherit` names nothing".into(),
                        Some(Fix {
                            title: "Remove the empty `inherit`".into(),
                            range: with_trailing_space(text, range),
                            replacement: String::new(),
                        }),
                    );
                }
            }
            SyntaxKind::NODE_PATTERN => duplicate_formals(node, start, &mut push),
            _ => {}
        }
        let mut nodes = Vec::new();
        for (child, at) in children(node, start) {
            match child {
                NodeOrToken::Node(child) => nodes.push((child, at)),
                NodeOrToken::Token(token) if kind(token.kind()) == TOKEN_URI => {
                    uris.push((TextRange::at(at, token.text_len()), token.text()));
                }
                NodeOrToken::Token(_) => {}
            }
        }
        // In the order of the text.
        stack.extend(nodes.into_iter().rev());
    }
    for (range, uri) in uris {
        push(
            Code::UriLiteral,
            range,
            "unquoted URLs are deprecated in Nix: write a string".into(),
            Some(Fix {
                title: "Quote the URL".into(),
                range,
                replacement: format!("\"{uri}\""),
            }),
        );
    }
    out
}

fn kind(raw: rowan::SyntaxKind) -> SyntaxKind {
    <rnix::NixLanguage as rowan::Language>::kind_from_raw(raw)
}

/// A green node's children, each with its offset in the file.
fn children(
    node: &GreenNodeData,
    start: TextSize,
) -> impl Iterator<Item = (NodeOrToken<&GreenNodeData, &GreenTokenData>, TextSize)> {
    let mut at = start;
    node.children().map(move |child| {
        let child_start = at;
        at += child.text_len();
        (child, child_start)
    })
}

/// The identifier a formal or the `@` binding names: its range and text.
fn ident(node: &GreenNodeData, start: TextSize) -> Option<(TextRange, String)> {
    children(node, start).find_map(|(child, at)| match child {
        NodeOrToken::Node(ident) if kind(ident.kind()) == NODE_IDENT => {
            Some((TextRange::at(at, ident.text_len()), ident.to_string()))
        }
        _ => None,
    })
}

fn duplicate_formals(
    pattern: &GreenNodeData,
    start: TextSize,
    push: &mut impl FnMut(Code, TextRange, String, Option<Fix>),
) {
    let mut seen: HashSet<String> = HashSet::new();
    let formal = |wanted: SyntaxKind| {
        children(pattern, start).filter_map(move |(child, at)| match child {
            NodeOrToken::Node(node) if kind(node.kind()) == wanted => ident(node, at),
            _ => None,
        })
    };
    // The formals, then the `@` binding (wherever it is written).
    for (range, name) in formal(NODE_PAT_ENTRY).chain(formal(NODE_PAT_BIND)) {
        if !seen.insert(name.clone()) {
            push(
                Code::DuplicateFormal,
                range,
                format!("the argument `{name}` is named twice; Nix rejects the function"),
                None,
            );
        }
    }
}

/// The range and the spaces after it, so removing it leaves no gap (nor an
/// empty line, when it stood alone on its line).
fn with_trailing_space(text: &str, range: TextRange) -> TextRange {
    let end = usize::from(range.end());
    let mut spaces = text[end..]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    let line_start = text[..usize::from(range.start())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let alone = text[line_start..usize::from(range.start())]
        .trim()
        .is_empty();
    if alone && text[end + spaces..].starts_with('\n') {
        spaces += 1;
    }
    TextRange::new(
        range.start(),
        range.end() + rowan::TextSize::from(spaces as u32),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::{fixture, show_range};

    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let mut out = String::new();
        for d in analysis.diagnostics(f.file()).unwrap() {
            let fixed = d.fix.as_ref().map(|fix| {
                let mut fixed = text.to_string();
                fixed.replace_range(std::ops::Range::<usize>::from(fix.range), &fix.replacement);
                fixed
            });
            out.push_str(&format!(
                "{} {:?} {}: {}{}\n",
                show_range(text, d.range),
                d.severity,
                d.code.as_str(),
                d.message,
                fixed.map(|f| format!(" => {f}")).unwrap_or_default()
            ));
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn nils_lints() {
        check(
            r#"{ lib, pkgs, lib, ... }:
with lib;
let in {
  a = rec { x = 1; };
  b = let inherit; in 1;
  c = http://example.org;
  d = { x, y, x }: x;
}"#,
            expect![[r#"
                1:14-1:17 Error duplicate-formal: the argument `lib` is named twice; Nix rejects the function
                2:1-2:10 Warning unused-with: this `with` gives its body no name => { lib, pkgs, lib, ... }:
                let in {
                  a = rec { x = 1; };
                  b = let inherit; in 1;
                  c = http://example.org;
                  d = { x, y, x }: x;
                }
                3:1-3:7 Warning empty-let: this `let` binds nothing => { lib, pkgs, lib, ... }:
                with lib;
                {
                  a = rec { x = 1; };
                  b = let inherit; in 1;
                  c = http://example.org;
                  d = { x, y, x }: x;
                }
                4:7-4:10 Warning needless-rec: this set uses none of its own names: `rec` is not needed => { lib, pkgs, lib, ... }:
                with lib;
                let in {
                  a = { x = 1; };
                  b = let inherit; in 1;
                  c = http://example.org;
                  d = { x, y, x }: x;
                }
                5:11-5:19 Warning empty-inherit: this `inherit` names nothing => { lib, pkgs, lib, ... }:
                with lib;
                let in {
                  a = rec { x = 1; };
                  b = let in 1;
                  c = http://example.org;
                  d = { x, y, x }: x;
                }
                6:7-6:25 Warning uri-literal: unquoted URLs are deprecated in Nix: write a string => { lib, pkgs, lib, ... }:
                with lib;
                let in {
                  a = rec { x = 1; };
                  b = let inherit; in 1;
                  c = "http://example.org";
                  d = { x, y, x }: x;
                }
                7:15-7:16 Error duplicate-formal: the argument `x` is named twice; Nix rejects the function
            "#]],
        );
    }

    /// Deep in the file, after other text: each range where its text is.
    #[test]
    fn nested_lints_point_at_their_text() {
        check(
            "{ lib, ... }:\n{\n  a = [ (p@{ p, q }: let in p) ];\n  b = { inherit (lib); };\n  c = [ { u = ftp://x.org/y; } ];\n}\n",
            expect![[r#"
                3:10-3:11 Error duplicate-formal: the argument `p` is named twice; Nix rejects the function
                3:22-3:28 Warning empty-let: this `let` binds nothing => { lib, ... }:
                {
                  a = [ (p@{ p, q }: p) ];
                  b = { inherit (lib); };
                  c = [ { u = ftp://x.org/y; } ];
                }

                4:9-4:23 Warning empty-inherit: this `inherit` names nothing => { lib, ... }:
                {
                  a = [ (p@{ p, q }: let in p) ];
                  b = { };
                  c = [ { u = ftp://x.org/y; } ];
                }

                5:15-5:28 Warning uri-literal: unquoted URLs are deprecated in Nix: write a string => { lib, ... }:
                {
                  a = [ (p@{ p, q }: let in p) ];
                  b = { inherit (lib); };
                  c = [ { u = "ftp://x.org/y"; } ];
                }

            "#]],
        );
    }

    #[test]
    fn what_is_used_is_not_reported() {
        check(
            r#"{ lib, pkgs, ... }:
with lib;
let x = 1; in {
  a = rec { y = 1; z = y; };
  b = let inherit (lib) mkIf; in mkIf true x;
  c = with pkgs; [ hello ];
  d = "http://example.org";
  e = args@{ f, ... }: f;
  g = mkDefault 1;
}"#,
            expect![""],
        );
    }
}
