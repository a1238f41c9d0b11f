//! Expanding a selection: from the name under the cursor to its attribute
//! path, the binding, the set, and out to the whole module.

use rnix::SyntaxKind;
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};

/// For each offset, the ranges that contain it, innermost first, each
/// strictly larger than the one before.
pub fn selection_ranges(db: &dyn db::Db, file: File, offsets: &[TextSize]) -> Vec<Vec<TextRange>> {
    let root = db::parse(db, file).root();
    let syntax = root.syntax();
    offsets
        .iter()
        .map(|&offset| {
            let offset = offset.min(syntax.text_range().end());
            let token = crate::ide::token_at_offset(syntax, offset);
            // Between a name and a space or a `;`, the name is meant.
            let token = match (token.clone().left_biased(), token.right_biased()) {
                (Some(left), Some(right)) => {
                    if is_trivia_or_punct(right.kind()) && !is_trivia_or_punct(left.kind()) {
                        Some(left)
                    } else {
                        Some(right)
                    }
                }
                (left, right) => right.or(left),
            };
            let Some(token) = token else {
                return vec![syntax.text_range()];
            };
            let mut ranges = vec![token.text_range()];
            for node in token.parent_ancestors() {
                let range = node.text_range();
                if ranges.last().is_some_and(|last| range.len() <= last.len()) {
                    continue;
                }
                // The binding without its `;` first, as people select it.
                if node.kind() == SyntaxKind::NODE_ATTRPATH_VALUE
                    && let Some(semicolon) = node
                        .last_token()
                        .filter(|t| t.kind() == SyntaxKind::TOKEN_SEMICOLON)
                {
                    let without = TextRange::new(range.start(), semicolon.text_range().start());
                    if ranges.last().is_some_and(|last| without.len() > last.len()) {
                        ranges.push(without);
                    }
                }
                ranges.push(range);
            }
            ranges
        })
        .collect()
}

fn is_trivia_or_punct(kind: SyntaxKind) -> bool {
    use SyntaxKind::*;
    matches!(
        kind,
        TOKEN_WHITESPACE
            | TOKEN_SEMICOLON
            | TOKEN_COMMA
            | TOKEN_R_BRACE
            | TOKEN_R_BRACK
            | TOKEN_R_PAREN
    )
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::fixture;

    fn check(text: &str) -> Vec<String> {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let source = analysis.file_text(file).unwrap();
        analysis.selection_ranges(file, &[offset]).unwrap()[0]
            .iter()
            .map(|r| source[std::ops::Range::<usize>::from(*r)].to_string())
            .collect()
    }

    #[test]
    fn widens_from_a_name_to_the_module() {
        assert_eq!(
            check("{ lib, ... }: {\n  services.get$0ty.enable = true;\n}"),
            [
                "getty",
                "services.getty.enable",
                "services.getty.enable = true",
                "services.getty.enable = true;",
                "{\n  services.getty.enable = true;\n}",
                "{ lib, ... }: {\n  services.getty.enable = true;\n}",
            ]
        );
    }

    #[test]
    fn a_value_and_the_end_of_a_name() {
        let ranges = check("{ a = [ 1 2$0 ]; }");
        assert_eq!(ranges[..3], ["2", "[ 1 2 ]", "a = [ 1 2 ]"]);
        // At the end of a name before `;`: the name, not the `;`.
        assert_eq!(check("{ a = b$0; }")[0], "b");
        // An empty file: the whole (empty) file.
        assert_eq!(check("$0"), [""]);
    }
}
