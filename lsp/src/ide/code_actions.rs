//! Fixes offered for diagnostics: an unknown option to the suggested one,
//! a renamed option to its new name, an enum value to the closest member.

use rowan::TextRange;

use crate::db::{self, File};
use crate::ide::diagnostics::Diagnostic;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub range: TextRange,
    pub replacement: String,
    pub diagnostic: Diagnostic,
}

pub fn code_actions(db: &dyn db::Db, file: File, range: TextRange) -> Vec<CodeAction> {
    super::diagnostics::diagnostics(db, file)
        .into_iter()
        .filter(|d| d.range.intersect(range).is_some() || d.range.contains_range(range))
        .filter_map(|diagnostic| {
            let fix = diagnostic.fix.clone()?;
            Some(CodeAction {
                title: fix.title,
                range: fix.range,
                replacement: fix.replacement,
                diagnostic,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rowan::TextRange;

    use crate::ide::fixture::fixture;

    fn fixes(text: &str) -> Vec<String> {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let source = analysis.file_text(f.file()).unwrap();
        let whole = TextRange::up_to((source.len() as u32).into());
        analysis
            .code_actions(f.file(), whole)
            .unwrap()
            .into_iter()
            .map(|a| {
                let mut fixed = source.clone();
                fixed.replace_range(std::ops::Range::<usize>::from(a.range), &a.replacement);
                format!("{}: {fixed}", a.title)
            })
            .collect()
    }

    #[test]
    fn unknown_renamed_and_enum_fixes() {
        assert_eq!(
            fixes("{ services.gety.enable = true; }"),
            ["Replace with `getty`: { services.getty.enable = true; }"]
        );
        assert_eq!(
            fixes("{ networking.domainName = \"a\"; }"),
            ["Rename to `networking.domain`: { networking.domain = \"a\"; }"]
        );
        assert_eq!(
            fixes("{ networking = { domainName = \"a\"; }; }"),
            ["Rename to `networking.domain`: { networking = { domain = \"a\"; }; }"]
        );
        assert_eq!(
            fixes("{ micros.services.a.type = \"oneshoot\"; }"),
            ["Replace with `\"oneshot\"`: { micros.services.a.type = \"oneshot\"; }"]
        );
    }
}
