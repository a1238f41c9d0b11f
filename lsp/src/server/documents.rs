//! Open documents: their text (the client's is the truth, whatever the
//! version says), the files they import read from disk, and their
//! diagnostics published in the order the state decided them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::*;

use super::line_index::LineIndex;
use super::{Backend, State, convert, path_of};
use crate::analysis::db::File;

/// Files reachable through `imports` from open documents are read from
/// disk (so the options they declare are known), up to this many.
const MAX_LOADED_FILES: usize = 500;
const MAX_FILE_BYTES: u64 = micros_options::eval::MAX_FILE_BYTES;
/// A file with thousands of mistakes is better served by the first ones.
const MAX_PUBLISHED: usize = 1_000;

pub(super) struct Document {
    pub file: File,
    pub version: i32,
    pub index: Arc<LineIndex>,
    /// Bumped by every change (versions from the client need not grow):
    /// diagnostics computed for an older revision are not published.
    pub revision: u64,
}

/// Diagnostics on their way to the client. They are queued while the state
/// is locked, so a document's diagnostics and the empty list its closing
/// sends reach the client in the order the state saw them.
pub(super) type Outbox = mpsc::UnboundedSender<PublishDiagnosticsParams>;

/// The task that sends what is queued, in order.
pub(super) fn publisher(client: Client) -> Outbox {
    let (outbox, mut queued) = mpsc::unbounded_channel::<PublishDiagnosticsParams>();
    tokio::spawn(async move {
        while let Some(params) = queued.recv().await {
            client
                .publish_diagnostics(params.uri, params.diagnostics, params.version)
                .await;
        }
    });
    outbox
}

impl Backend {
    /// Take the document's new text (opened, or changed as a whole).
    pub(super) fn set_document(&self, path: PathBuf, text: String, version: i32) {
        let mut state = self.lock();
        let index = Arc::new(LineIndex::new(&text));
        let file = state.host.set_file(&path, text);
        state.revision += 1;
        let revision = state.revision;
        state.documents.insert(
            path.clone(),
            Document {
                file,
                version,
                index,
                revision,
            },
        );
        load_imports(&mut state, file);
        if let Some(flake) = find_flake(&mut state, &path) {
            load_imports(&mut state, flake);
        }
    }

    /// Apply edits to an open document; false if it is not open.
    pub(super) fn change_document(
        &self,
        path: PathBuf,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
    ) -> bool {
        let text = {
            let state = self.lock();
            let Some(document) = state.documents.get(&path) else {
                return false;
            };
            let mut index = document.index.clone();
            let mut text = index.text().to_string();
            let last = changes.len().saturating_sub(1);
            for (i, change) in changes.into_iter().enumerate() {
                match change.range {
                    Some(range) => {
                        let range = index.text_range(range);
                        text.replace_range(std::ops::Range::<usize>::from(range), &change.text);
                        // Positions of the next change are in this text.
                        if i < last {
                            index = Arc::new(LineIndex::new(&text));
                        }
                    }
                    None => {
                        text = change.text;
                        if i < last {
                            index = Arc::new(LineIndex::new(&text));
                        }
                    }
                }
            }
            text
        };
        self.set_document(path, text, version);
        true
    }

    /// Forget a closed document and clear its diagnostics.
    pub(super) fn close_document(&self, uri: Uri) {
        let Some(path) = path_of(&uri) else { return };
        let mut state = self.lock();
        state.documents.remove(&path);
        state.semantic_results.remove(&path);
        let _ = self.outbox.send(PublishDiagnosticsParams {
            uri,
            diagnostics: Vec::new(),
            version: None,
        });
    }

    /// Compute a document's diagnostics off the async workers and queue
    /// them, unless the document changed or closed meanwhile (then the
    /// newer state publishes, or nothing should).
    pub(super) async fn publish(&self, path: PathBuf) {
        let Some((analysis, file, index, version, revision, skip_generic)) = ({
            let state = self.lock();
            state.documents.get(&path).map(|d| {
                (
                    state.host.snapshot(),
                    d.file,
                    d.index.clone(),
                    d.version,
                    d.revision,
                    state.settings.skip_generic_diagnostics,
                )
            })
        }) else {
            return;
        };
        let Some(uri) = Uri::from_file_path(&path) else {
            return;
        };
        let converted = self
            .blocking(move || {
                let diagnostics = analysis.diagnostics(file)?;
                Ok::<_, salsa::Cancelled>(
                    diagnostics
                        .iter()
                        .filter(|d| !(skip_generic && d.code.is_generic()))
                        .take(MAX_PUBLISHED)
                        .map(|d| convert::diagnostic(d, &index, &uri))
                        .collect::<Vec<_>>(),
                )
            })
            .await;
        // Cancelled by a newer edit: that edit publishes.
        let Ok(Ok(diagnostics)) = converted else {
            return;
        };
        let state = self.lock();
        if state
            .documents
            .get(&path)
            .is_some_and(|d| d.revision == revision)
            && let Some(uri) = Uri::from_file_path(&path)
        {
            let _ = self.outbox.send(PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: Some(version),
            });
        }
    }

    /// Findings across a system's modules change with any of them.
    pub(super) async fn publish_others(&self, edited: &Path) {
        let paths: Vec<PathBuf> = self
            .lock()
            .documents
            .keys()
            .filter(|p| p.as_path() != edited)
            .cloned()
            .collect();
        for path in paths {
            self.publish(path).await;
        }
    }

    pub(super) async fn publish_all(&self) {
        let paths: Vec<PathBuf> = self.lock().documents.keys().cloned().collect();
        for path in paths {
            self.publish(path).await;
        }
    }
}

/// The flake around a document (the nearest `flake.nix` above it), read
/// from disk unless the editor has it open, so the document is analysed as
/// a module of the systems that reach it.
fn find_flake(state: &mut State, document: &Path) -> Option<File> {
    for dir in document.ancestors().skip(1) {
        let flake = dir.join("flake.nix");
        if let Some(file) = state.host.file(&flake) {
            return Some(file);
        }
        if !state.flake_dirs_searched.insert(dir.to_path_buf()) {
            continue;
        }
        let small =
            std::fs::metadata(&flake).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE_BYTES);
        if small && let Ok(text) = std::fs::read_to_string(&flake) {
            return Some(state.host.set_file(&flake, text));
        }
    }
    None
}

/// Read the files an open document brings in (its imports, a flake's
/// systems' modules), transitively, so that the options they declare and
/// the systems they make up are known; note which of them are not on disk.
pub(super) fn load_imports(state: &mut State, file: File) {
    let mut queue = vec![file];
    while let Some(file) = queue.pop() {
        let db = state.host.db();
        let imports = crate::analysis::systems::referenced_paths(db, file);
        for mut path in imports {
            // A path that is not there is `missing-import` where it is
            // named; one that is there again is no longer.
            let absent =
                std::fs::metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
            state.host.set_absent(&path, absent);
            if path.is_dir() {
                path = path.join("default.nix");
            }
            if state.host.file(&path).is_some() || state.host.file_count() >= MAX_LOADED_FILES {
                continue;
            }
            let small =
                std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_FILE_BYTES);
            if let Some(text) = small.then(|| std::fs::read_to_string(&path).ok()).flatten() {
                queue.push(state.host.set_file(&path, text));
            }
        }
    }
}
