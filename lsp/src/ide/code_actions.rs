//! Fixes offered for diagnostics (an unknown option to the suggested one,
//! a renamed option to its new name, an enum value to the closest member,
//! nil's lints) and the refactorings of `refactor.rs`.

use rowan::TextRange;

use crate::analysis::db::{self, File};
use crate::ide::diagnostics::Diagnostic;
use crate::ide::formatting::TextEdit;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeAction {
    pub title: String,
    pub kind: ActionKind,
    /// Applied together; they do not overlap.
    pub edits: Vec<TextEdit>,
    /// The diagnostic a quick fix fixes.
    pub diagnostic: Option<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    QuickFix,
    RefactorRewrite,
    RefactorInline,
}

pub fn code_actions(db: &dyn db::Db, file: File, range: TextRange) -> Vec<CodeAction> {
    let touching: Vec<Diagnostic> = super::diagnostics::diagnostics(db, file)
        .into_iter()
        .filter(|d| d.range.intersect(range).is_some() || d.range.contains_range(range))
        .collect();
    let mut actions: Vec<CodeAction> = touching
        .iter()
        .filter_map(|diagnostic| {
            let fix = diagnostic.fix.clone()?;
            Some(CodeAction {
                title: fix.title,
                kind: ActionKind::QuickFix,
                edits: vec![TextEdit {
                    range: fix.range,
                    replacement: fix.replacement,
                }],
                diagnostic: Some(diagnostic.clone()),
            })
        })
        .collect();
    actions.extend(super::refactor::refactors(db, file, range, &touching));
    actions
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
            .filter(|a| a.kind == super::ActionKind::QuickFix)
            .map(|a| {
                let mut fixed = source.clone();
                let edit = &a.edits[0];
                fixed.replace_range(
                    std::ops::Range::<usize>::from(edit.range),
                    &edit.replacement,
                );
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
