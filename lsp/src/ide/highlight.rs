//! Document highlight: where the binding or option under the cursor is
//! written in this file, bound or defined (written) and read.

use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::ide::references::{ReferenceKind, occurrences, symbol_at};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub range: TextRange,
    /// Bound, declared or given a value here, rather than read.
    pub write: bool,
}

pub fn highlight(db: &dyn db::Db, file: File, offset: TextSize) -> Vec<Highlight> {
    let Some((symbol, _)) = symbol_at(db, file, offset) else {
        return Vec::new();
    };
    occurrences(db, &symbol, Some(file))
        .into_iter()
        .map(|o| Highlight {
            range: o.range,
            write: o.kind != ReferenceKind::Read,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use crate::ide::fixture::{fixture, show_range};

    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        let analysis = f.host.snapshot();
        let source = analysis.file_text(file).unwrap();
        let out: Vec<String> = analysis
            .highlight(file, offset)
            .unwrap()
            .iter()
            .map(|h| {
                let kind = if h.write { "write" } else { "read" };
                format!(
                    "{} {kind} {}",
                    show_range(&source, h.range),
                    &source[h.range]
                )
            })
            .collect();
        expected.assert_eq(&out.join("\n"));
    }

    #[test]
    fn a_binding_in_its_file() {
        check(
            "{ lib, ... }: let port = 22; in { x = po$0rt; inherit port; }",
            expect![[r#"
                1:19-1:23 write port
                1:39-1:43 read port
                1:53-1:57 read port"#]],
        );
    }

    #[test]
    fn an_option_in_this_file_only() {
        check(
            &crate::ide::references::tests::WEB.replace("[ cfg.port", "[ cfg.po$0rt"),
            expect![[r#"
                4:27-4:31 read port
                8:5-8:9 write port
                11:49-11:53 read port
                11:73-11:77 read port"#]],
        );
    }

    #[test]
    fn nothing_under_the_cursor() {
        check("{ services.getty.enable = tr$0ue; }", expect![""]);
        check("{ totally.unkno$0wn = 1; }", expect![""]);
    }
}
