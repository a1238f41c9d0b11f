//! IDE features, one file each: pure functions of the database and a
//! position. They know nothing about LSP; `server/` converts.

pub mod code_actions;
pub mod completion;
pub mod diagnostics;
pub mod document_links;
#[cfg(test)]
pub(crate) mod fixture;
pub mod folding_ranges;
pub mod formatting;
pub mod goto_definition;
pub mod highlight;
pub mod hover;
pub mod inlay_hints;
pub mod lints;
pub mod packages;
pub mod passwords;
pub mod path_completion;
pub mod platforms;
pub mod refactor;
pub mod references;
pub mod rename;
pub mod selection_range;
pub mod semantic_tokens;
pub mod symbols;
pub mod untracked;
pub mod workspace_symbols;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rowan::{TextRange, TextSize};
use salsa::Setter;

use crate::analysis::db::{File, RootDatabase};
use crate::analysis::options::OptionIndex;

pub use diagnostics::{Diagnostic, Severity};

/// A request that a newer edit made stale.
pub type Cancellable<T> = Result<T, salsa::Cancelled>;

/// Owns the database; edits go through it.
#[derive(Default)]
pub struct AnalysisHost {
    db: RootDatabase,
    files: HashMap<PathBuf, File>,
}

impl AnalysisHost {
    pub fn set_options(&mut self, index: impl Into<Arc<OptionIndex>>) {
        let workspace = crate::analysis::db::Db::workspace(&self.db);
        workspace.set_options(&mut self.db).to(index.into());
    }

    /// What git leaves out of the workspace's work trees.
    pub fn set_git(&mut self, git: crate::analysis::git::GitState) {
        let workspace = crate::analysis::db::Db::workspace(&self.db);
        if workspace.git(&self.db).as_ref() != &git {
            workspace.set_git(&mut self.db).to(Arc::new(git));
        }
    }

    /// Whether `path` was found absent from disk (an import or a system's
    /// module the front end looked for); set only when it changes.
    pub fn set_absent(&mut self, path: &Path, absent: bool) {
        let workspace = crate::analysis::db::Db::workspace(&self.db);
        if workspace.absent(&self.db).contains(path) == absent {
            return;
        }
        let mut paths = (**workspace.absent(&self.db)).clone();
        if absent {
            paths.insert(path.to_path_buf());
        } else {
            paths.remove(path);
        }
        workspace.set_absent(&mut self.db).to(Arc::new(paths));
    }

    /// Add or change a file; returns its handle.
    pub fn set_file(&mut self, path: &Path, text: String) -> File {
        if let Some(file) = self.files.get(path).copied() {
            if file.text(&self.db) != &text {
                file.set_text(&mut self.db).to(text);
            }
            return file;
        }
        let file = File::new(&self.db, path.to_path_buf(), text);
        self.files.insert(path.to_path_buf(), file);
        let mut files: Vec<File> = self.files.values().copied().collect();
        files.sort_by(|a, b| a.path(&self.db).cmp(b.path(&self.db)));
        let workspace = crate::analysis::db::Db::workspace(&self.db);
        workspace.set_files(&mut self.db).to(files);
        file
    }

    pub fn file(&self, path: &Path) -> Option<File> {
        self.files.get(path).copied()
    }

    /// Take a file out of the workspace (deleted from disk): what it
    /// declares no longer counts, and imports of it find nothing.
    pub fn remove_file(&mut self, path: &Path) {
        if self.files.remove(path).is_none() {
            return;
        }
        let mut files: Vec<File> = self.files.values().copied().collect();
        files.sort_by(|a, b| a.path(&self.db).cmp(b.path(&self.db)));
        let workspace = crate::analysis::db::Db::workspace(&self.db);
        workspace.set_files(&mut self.db).to(files);
    }

    /// The paths of the files the workspace holds.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.keys().cloned().collect()
    }

    pub fn file_count(&self) -> usize {
        self.files.len()
    }

    pub fn snapshot(&self) -> Analysis {
        Analysis {
            db: self.db.clone(),
        }
    }

    pub fn db(&self) -> &RootDatabase {
        &self.db
    }
}

/// A read-only view for answering requests; cancelled by the next edit.
#[derive(Clone)]
pub struct Analysis {
    db: RootDatabase,
}

impl Analysis {
    fn with<T>(&self, f: impl FnOnce(&RootDatabase) -> T) -> Cancellable<T> {
        // A cancelled query unwinds; the snapshot is dropped with it, so no
        // broken state is observed afterwards.
        let db = std::panic::AssertUnwindSafe(self.db.clone());
        let f = std::panic::AssertUnwindSafe(f);
        salsa::Cancelled::catch(move || {
            let (db, f) = (db, f);
            (f.0)(&db.0)
        })
    }

    pub fn diagnostics(&self, file: File) -> Cancellable<Vec<Diagnostic>> {
        self.with(move |db| diagnostics::diagnostics(db, file))
    }

    pub fn completion(
        &self,
        file: File,
        offset: TextSize,
    ) -> Cancellable<Vec<completion::CompletionItem>> {
        self.with(move |db| completion::completion(db, file, offset))
    }

    pub fn hover(&self, file: File, offset: TextSize) -> Cancellable<Option<hover::Hover>> {
        self.with(move |db| hover::hover(db, file, offset))
    }

    pub fn goto_definition(
        &self,
        file: File,
        offset: TextSize,
    ) -> Cancellable<Vec<goto_definition::Target>> {
        self.with(move |db| goto_definition::goto_definition(db, file, offset))
    }

    pub fn symbols(&self, file: File) -> Cancellable<Vec<symbols::Symbol>> {
        self.with(move |db| symbols::symbols(db, file))
    }

    pub fn code_actions(
        &self,
        file: File,
        range: TextRange,
    ) -> Cancellable<Vec<code_actions::CodeAction>> {
        self.with(move |db| code_actions::code_actions(db, file, range))
    }

    pub fn semantic_tokens(
        &self,
        file: File,
        range: Option<TextRange>,
    ) -> Cancellable<Vec<semantic_tokens::SemanticToken>> {
        self.with(move |db| semantic_tokens::semantic_tokens(db, file, range))
    }

    pub fn selection_ranges(
        &self,
        file: File,
        offsets: &[TextSize],
    ) -> Cancellable<Vec<Vec<TextRange>>> {
        let offsets = offsets.to_vec();
        self.with(move |db| selection_range::selection_ranges(db, file, &offsets))
    }

    pub fn inlay_hints(
        &self,
        file: File,
        range: Option<TextRange>,
        config: inlay_hints::InlayConfig,
    ) -> Cancellable<Vec<inlay_hints::InlayHint>> {
        self.with(move |db| inlay_hints::inlay_hints(db, file, range, &config))
    }

    pub fn folding_ranges(&self, file: File) -> Cancellable<Vec<folding_ranges::Fold>> {
        self.with(move |db| folding_ranges::folding_ranges(db, file))
    }

    /// Format the file, or the piece of it around `range`.
    pub fn format(
        &self,
        file: File,
        range: Option<TextRange>,
        formatter: formatting::Formatter,
    ) -> Cancellable<Result<Vec<formatting::TextEdit>, formatting::FormatError>> {
        self.with(move |db| match range {
            Some(range) => formatting::format_range(db, file, range, &formatter),
            None => formatting::format_document(db, file, &formatter),
        })
    }

    pub fn references(
        &self,
        file: File,
        offset: TextSize,
        include_declaration: bool,
    ) -> Cancellable<Vec<references::Reference>> {
        self.with(move |db| references::references(db, file, offset, include_declaration))
    }

    pub fn document_links(
        &self,
        file: File,
        kind: &dyn Fn(&Path) -> Option<document_links::PathKind>,
    ) -> Cancellable<Vec<document_links::DocumentLink>> {
        self.with(move |db| document_links::document_links(db, file, kind))
    }

    pub fn highlight(
        &self,
        file: File,
        offset: TextSize,
    ) -> Cancellable<Vec<highlight::Highlight>> {
        self.with(move |db| highlight::highlight(db, file, offset))
    }

    pub fn prepare_rename(
        &self,
        file: File,
        offset: TextSize,
    ) -> Cancellable<Result<rename::Renameable, String>> {
        self.with(move |db| rename::prepare_rename(db, file, offset))
    }

    pub fn rename(
        &self,
        file: File,
        offset: TextSize,
        new_name: &str,
    ) -> Cancellable<Result<Vec<rename::FileEdit>, String>> {
        self.with(move |db| rename::rename(db, file, offset, new_name))
    }

    pub fn workspace_symbols(
        &self,
        query: &str,
    ) -> Cancellable<Vec<workspace_symbols::WorkspaceSymbol>> {
        self.with(move |db| workspace_symbols::workspace_symbols(db, query))
    }

    pub fn file_path(&self, file: File) -> Cancellable<PathBuf> {
        self.with(move |db| file.path(db).clone())
    }

    pub fn file_text(&self, file: File) -> Cancellable<String> {
        self.with(move |db| file.text(db).clone())
    }
}

/// The attribute-path segment under the cursor, and its range.
pub(crate) fn entry_at(
    db: &dyn crate::analysis::db::Db,
    file: File,
    offset: TextSize,
) -> Option<(crate::analysis::lower::EntryId, TextRange)> {
    let map = crate::analysis::db::source_map(db, file);
    (0..map.entries.len() as u32)
        .map(crate::analysis::lower::EntryId)
        .map(|id| (id, map.entry(id).key))
        .filter(|(_, key)| key.contains_inclusive(offset))
        .min_by_key(|(_, key)| key.len())
}

/// The trie node at a loc of the top-level option tree, going through
/// submodules for placeholder segments.
pub(crate) fn trie_at<'a>(
    index: &'a OptionIndex,
    loc: &[String],
) -> Option<&'a crate::analysis::options::Trie> {
    let mut trie = &index.root;
    let mut i = 0;
    while i < loc.len() {
        match trie.children.get(&loc[i]) {
            Some(child) => {
                trie = child;
                i += 1;
            }
            None => {
                // Inside an option's submodule: skip its placeholders.
                let option = trie.option.as_ref()?;
                let (placeholders, sub) = option.ty.sub_options()?;
                i += placeholders.len();
                trie = index.submodule(sub)?;
                if placeholders.is_empty() && !trie.children.contains_key(loc.get(i)?) {
                    return None;
                }
            }
        }
    }
    Some(trie)
}

/// An option's documentation as markdown (hover, completion).
pub fn option_markdown(option: &micros_options::OptionDecl, index: &OptionIndex) -> String {
    use micros_options::model::LiteralKind;
    let mut out = format!(
        "**`{}`**\n\n*Type:* {}\n",
        option.name(),
        option.ty.description()
    );
    let literal = |label: &str, literal: &micros_options::model::Literal| match literal.kind {
        LiteralKind::Expression if literal.text.contains('\n') => {
            format!("\n*{label}:*\n```nix\n{}\n```\n", literal.text)
        }
        LiteralKind::Expression => format!("\n*{label}:* `{}`\n", literal.text),
        LiteralKind::Markdown => format!("\n*{label}:* {}\n", literal.text),
    };
    if let Some(default) = option.shown_default() {
        out.push_str(&literal("Default", default));
    }
    if let Some(example) = &option.example {
        out.push_str(&literal("Example", example));
    }
    if option.read_only {
        out.push_str("\n*Read-only.*\n");
    }
    if let Some(description) = &option.description {
        out.push('\n');
        out.push_str(description.trim_end());
        out.push('\n');
    }
    let declared: Vec<String> = option
        .declarations
        .iter()
        .map(|d| {
            let name = d.file.display_name();
            match index.declaration_path(d) {
                Some(path) if d.line > 0 => {
                    format!("[{name}:{}](file://{}#L{})", d.line, path.display(), d.line)
                }
                Some(path) => format!("[{name}](file://{})", path.display()),
                None => format!("`{name}`"),
            }
        })
        .collect();
    if !declared.is_empty() {
        out.push_str(&format!("\n*Declared in:* {}\n", declared.join(", ")));
    }
    out
}

/// The token at `offset` (both, at a boundary between two), as rowan's
/// `token_at_offset` gives it, found by binary search down the tree:
/// rowan's walks the children of each level one by one, and the top level
/// of a configuration has thousands.
pub fn token_at_offset(
    root: &rnix::SyntaxNode,
    offset: TextSize,
) -> rowan::TokenAtOffset<rnix::SyntaxToken> {
    use rowan::{NodeOrToken, TokenAtOffset};
    let range = root.text_range();
    let containing = |at: TextSize| {
        if at < range.start() || at >= range.end() {
            return None;
        }
        let byte = TextRange::at(at, 1.into());
        let mut node = root.clone();
        loop {
            match node.child_or_token_at_range(byte)? {
                NodeOrToken::Node(child) => node = child,
                NodeOrToken::Token(token) => return Some(token),
            }
        }
    };
    let left = offset
        .checked_sub(1.into())
        .filter(|_| offset > range.start())
        .and_then(containing);
    let right = containing(offset);
    match (left, right) {
        (Some(left), Some(right)) if left == right => TokenAtOffset::Single(left),
        (Some(left), Some(right)) => TokenAtOffset::Between(left, right),
        (Some(token), None) | (None, Some(token)) => TokenAtOffset::Single(token),
        (None, None) => TokenAtOffset::None,
    }
}

#[cfg(test)]
mod token_tests {
    use rowan::TextSize;

    /// At every offset, what rowan's own walk gives.
    #[test]
    fn token_at_offset_is_rowans() {
        let texts = [
            include_str!("../../../tests/fixtures/template/configuration.nix"),
            "{ a = \"x${b}y\"; c = ''\n  z\n''; d = [ 1 2 ]; e = ./p; }",
            "",
            "x",
            "{ a = ; }",
        ];
        for text in texts {
            let root =
                rnix::SyntaxNode::new_root(crate::analysis::reparse::Parsed::new(text).green);
            for at in 0..=text.len() as u32 {
                let offset = TextSize::from(at);
                let ours: Vec<_> = super::token_at_offset(&root, offset).collect();
                let rowans: Vec<_> = root.token_at_offset(offset).collect();
                assert_eq!(ours, rowans, "{text:?} at {at}");
            }
        }
    }
}
