//! References, rename, document highlight, document links and workspace
//! symbols: requests in, analysis on a snapshot, LSP types out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

use super::line_index::LineIndex;
use super::{Backend, content_modified, convert};
use crate::ide::Analysis;
use crate::ide::document_links::{LinkTarget, PathKind};
use crate::ide::goto_definition::Target;

/// LSP's "the request failed" (3.17), with a message a person reads.
fn request_failed(message: String) -> Error {
    Error {
        code: ErrorCode::ServerError(-32803),
        message: message.into(),
        data: None,
    }
}

impl Backend {
    /// The line index of every file among `paths` the server holds: an open
    /// document's, or one made from the database's text of a loaded file.
    fn line_indexes(
        &self,
        analysis: &Analysis,
        paths: impl IntoIterator<Item = PathBuf>,
    ) -> HashMap<PathBuf, Arc<LineIndex>> {
        let mut out = HashMap::new();
        let mut loaded = Vec::new();
        {
            let state = self.lock();
            for path in paths {
                if out.contains_key(&path) {
                    continue;
                }
                match state.documents.get(&path) {
                    Some(document) => {
                        out.insert(path, document.index.clone());
                    }
                    None => loaded.extend(state.host.file(&path).map(|file| (path, file))),
                }
            }
        }
        // The state is not held while the database is read.
        for (path, file) in loaded {
            if let Ok(text) = analysis.file_text(file) {
                out.entry(path)
                    .or_insert_with(|| Arc::new(LineIndex::new(&text)));
            }
        }
        out
    }

    /// Targets as locations; files the server does not hold are read.
    async fn locations(
        &self,
        indexes: HashMap<PathBuf, Arc<LineIndex>>,
        targets: Vec<Target>,
    ) -> Result<Vec<Location>> {
        self.blocking(move || {
            targets
                .iter()
                .filter_map(|t| convert::location(t, indexes.get(&t.path).cloned()))
                .collect()
        })
        .await
    }

    pub(super) async fn references_request(
        &self,
        params: ReferenceParams,
    ) -> Result<Option<Vec<Location>>> {
        let position = params.text_document_position;
        let Some((analysis, file, index)) = self.snapshot(&position.text_document.uri) else {
            return Ok(None);
        };
        let offset = index.offset(position.position);
        let include = params.context.include_declaration;
        let query = analysis.clone();
        let references = self
            .blocking(move || query.references(file, offset, include))
            .await?
            .map_err(|_| content_modified())?;
        let targets: Vec<Target> = references.into_iter().map(|r| r.target).collect();
        let indexes = self.line_indexes(&analysis, targets.iter().map(|t| t.path.clone()));
        drop(analysis);
        Ok(Some(self.locations(indexes, targets).await?))
    }

    pub(super) async fn highlight_request(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let position = params.text_document_position_params;
        let Some((analysis, file, index)) = self.snapshot(&position.text_document.uri) else {
            return Ok(None);
        };
        let offset = index.offset(position.position);
        let highlights = self
            .blocking(move || analysis.highlight(file, offset))
            .await?
            .map_err(|_| content_modified())?;
        Ok(Some(
            highlights
                .iter()
                .map(|h| DocumentHighlight {
                    range: index.range(h.range),
                    kind: Some(if h.write {
                        DocumentHighlightKind::WRITE
                    } else {
                        DocumentHighlightKind::READ
                    }),
                })
                .collect(),
        ))
    }

    pub(super) async fn prepare_rename_request(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let Some((analysis, file, index)) = self.snapshot(&params.text_document.uri) else {
            return Ok(None);
        };
        let offset = index.offset(params.position);
        let prepared = self
            .blocking(move || analysis.prepare_rename(file, offset))
            .await?
            .map_err(|_| content_modified())?
            .map_err(request_failed)?;
        Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: index.range(prepared.range),
            placeholder: prepared.name,
        }))
    }

    pub(super) async fn rename_request(
        &self,
        params: RenameParams,
    ) -> Result<Option<WorkspaceEdit>> {
        let position = params.text_document_position;
        let Some((analysis, file, index)) = self.snapshot(&position.text_document.uri) else {
            return Ok(None);
        };
        let offset = index.offset(position.position);
        let new_name = params.new_name;
        let query = analysis.clone();
        let edits = self
            .blocking(move || query.rename(file, offset, &new_name))
            .await?
            .map_err(|_| content_modified())?
            .map_err(request_failed)?;
        let paths: Vec<(PathBuf, _)> = edits
            .into_iter()
            .filter_map(|edit| Some((analysis.file_path(edit.file).ok()?, edit)))
            .collect();
        let indexes = self.line_indexes(&analysis, paths.iter().map(|(p, _)| p.clone()));
        let mut changes = HashMap::new();
        for (path, file_edit) in paths {
            let (Some(index), Some(uri)) = (indexes.get(&path), Uri::from_file_path(&path)) else {
                continue;
            };
            let edits = file_edit
                .edits
                .iter()
                .map(|e| TextEdit {
                    range: index.range(e.range),
                    new_text: e.insert.clone(),
                })
                .collect();
            changes.insert(uri, edits);
        }
        Ok(Some(WorkspaceEdit {
            changes: Some(changes),
            ..Default::default()
        }))
    }

    pub(super) async fn document_link_request(
        &self,
        params: DocumentLinkParams,
    ) -> Result<Option<Vec<DocumentLink>>> {
        let Some((analysis, file, index)) = self.snapshot(&params.text_document.uri) else {
            return Ok(None);
        };
        let links = self
            .blocking(move || analysis.document_links(file, &path_kind))
            .await?
            .map_err(|_| content_modified())?;
        Ok(Some(
            links
                .iter()
                .filter_map(|link| {
                    let target = match &link.target {
                        LinkTarget::File(path) => Uri::from_file_path(path)?,
                        LinkTarget::Url(url) => url.parse().ok()?,
                    };
                    Some(DocumentLink {
                        range: index.range(link.range),
                        target: Some(target),
                        tooltip: None,
                        data: None,
                    })
                })
                .collect(),
        ))
    }

    pub(super) async fn workspace_symbol_request(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let analysis = self.lock().host.snapshot();
        let query = analysis.clone();
        let symbols = self
            .blocking(move || query.workspace_symbols(&params.query))
            .await?
            .map_err(|_| content_modified())?;
        let indexes = self.line_indexes(&analysis, symbols.iter().map(|s| s.target.path.clone()));
        #[allow(deprecated)]
        let symbols = self
            .blocking(move || {
                symbols
                    .iter()
                    .filter_map(|symbol| {
                        use crate::ide::workspace_symbols::WorkspaceSymbolKind;
                        let index = indexes.get(&symbol.target.path).cloned();
                        let location = convert::location(&symbol.target, index)?;
                        let (kind, verb) = match symbol.kind {
                            WorkspaceSymbolKind::Declared => (SymbolKind::INTERFACE, "declared"),
                            WorkspaceSymbolKind::Defined => (SymbolKind::PROPERTY, "defined"),
                        };
                        let file = symbol
                            .target
                            .path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        Some(SymbolInformation {
                            name: symbol.name.clone(),
                            kind,
                            tags: None,
                            deprecated: None,
                            location,
                            container_name: Some(format!("{verb} in {file}: {}", symbol.detail)),
                        })
                    })
                    .collect()
            })
            .await?;
        Ok(Some(WorkspaceSymbolResponse::Flat(symbols)))
    }
}

/// What is on disk at a path.
fn path_kind(path: &Path) -> Option<PathKind> {
    let metadata = std::fs::metadata(path).ok()?;
    if metadata.is_dir() {
        Some(PathKind::Directory)
    } else {
        metadata.is_file().then_some(PathKind::File)
    }
}
