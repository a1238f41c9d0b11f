//! nil's other lints: a `with` that gives no name, a needless `rec`, an
//! empty `let` or `inherit`, a function argument named twice, a URI
//! literal. The first two come from name resolution (`names.rs`), the
//! others from the syntax alone.

use std::collections::HashSet;

use rnix::ast::{self, HasEntry};
use rnix::{SyntaxKind, SyntaxNode};
use rowan::TextRange;
use rowan::ast::AstNode;

use crate::analysis::db::{self, File};
use crate::analysis::resolve::Code;
use crate::ide::diagnostics::{Diagnostic, Fix, Severity};

pub fn lints(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    let text = file.text(db);
    let root = db::parse(db, file).root();
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
    for node in root.syntax().descendants() {
        match node.kind() {
            SyntaxKind::NODE_LET_IN => {
                let Some(let_in) = ast::LetIn::cast(node.clone()) else {
                    continue;
                };
                if let_in.entries().next().is_none()
                    && let (Some(let_token), Some(in_token)) =
                        (let_in.let_token(), let_in.in_token())
                {
                    let range =
                        TextRange::new(let_token.text_range().start(), in_token.text_range().end());
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
                let Some(inherit) = ast::Inherit::cast(node.clone()) else {
                    continue;
                };
                if inherit.attrs().next().is_none() {
                    push(
                        Code::EmptyInherit,
                        node.text_range(),
                        "this `inherit` names nothing".into(),
                        Some(Fix {
                            title: "Remove the empty `inherit`".into(),
                            range: with_trailing_space(text, node.text_range()),
                            replacement: String::new(),
                        }),
                    );
                }
            }
            SyntaxKind::NODE_PATTERN => duplicate_formals(&node, &mut push),
            _ => {}
        }
    }
    for token in root
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == SyntaxKind::TOKEN_URI)
    {
        let uri = token.text();
        push(
            Code::UriLiteral,
            token.text_range(),
            "unquoted URLs are deprecated in Nix: write a string".into(),
            Some(Fix {
                title: "Quote the URL".into(),
                range: token.text_range(),
                replacement: format!("\"{uri}\""),
            }),
        );
    }
    out
}

fn duplicate_formals(
    node: &SyntaxNode,
    push: &mut impl FnMut(Code, TextRange, String, Option<Fix>),
) {
    let Some(pattern) = ast::Pattern::cast(node.clone()) else {
        return;
    };
    let mut seen: HashSet<String> = HashSet::new();
    let names = pattern
        .pat_entries()
        .filter_map(|e| e.ident())
        .chain(pattern.pat_bind().and_then(|b| b.ident()));
    for ident in names {
        let name = ident.syntax().text().to_string();
        if !seen.insert(name.clone()) {
            push(
                Code::DuplicateFormal,
                ident.syntax().text_range(),
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
