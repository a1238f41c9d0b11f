//! References, rename, document highlight, document links and workspace
//! symbols: requests in, analysis on a snapshot, LSP types out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

use super::line_index::LineIndex;
use super::{Answer, Backend, MAX_ATTEMPTS, Run, content_modified, convert};
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
    /// Called with no snapshot held (it locks the state).
    fn line_indexes(
        &self,
        paths: impl IntoIterator<Item = PathBuf>,
    ) -> HashMap<PathBuf, Arc<LineIndex>> {
        let mut out = HashMap::new();
        let state = self.lock();
        for path in paths {
            if out.contains_key(&path) {
                continue;
            }
            let index = match state.documents.get(&path) {
                Some(document) => document.index.clone(),
                // A file's text is an input: reading it is never cancelled.
                None => match state.host.file(&path) {
                    Some(file) => Arc::new(LineIndex::new(file.text(state.host.db()))),
                    None => continue,
                },
            };
            out.insert(path, index);
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
        let at = position.position;
        let include = params.context.include_declaration;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| analysis.references(file, index.offset(at), include),
            )
            .await?;
        let Some(Answer {
            value: references, ..
        }) = answer
        else {
            return Ok(None);
        };
        let targets: Vec<Target> = references.into_iter().map(|r| r.target).collect();
        let indexes = self.line_indexes(targets.iter().map(|t| t.path.clone()));
        Ok(Some(self.locations(indexes, targets).await?))
    }

    pub(super) async fn highlight_request(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let position = params.text_document_position_params;
        let at = position.position;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| analysis.highlight(file, index.offset(at)),
            )
            .await?;
        let Some(Answer {
            value: highlights,
            index,
        }) = answer
        else {
            return Ok(None);
        };
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
        let at = params.position;
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| analysis.prepare_rename(file, index.offset(at)),
            )
            .await?;
        let Some(Answer {
            value: prepared,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        let prepared = prepared.map_err(request_failed)?;
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
        let at = position.position;
        let new_name = params.new_name;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| {
                    let edits = match analysis.rename(file, index.offset(at), &new_name)? {
                        Ok(edits) => edits,
                        Err(message) => return Ok(Err(message)),
                    };
                    // Each edit's file as a path, while the snapshot is at hand.
                    let mut paths = Vec::with_capacity(edits.len());
                    for edit in edits {
                        paths.push((analysis.file_path(edit.file)?, edit));
                    }
                    Ok(Ok(paths))
                },
            )
            .await?;
        let Some(Answer { value: paths, .. }) = answer else {
            return Ok(None);
        };
        let paths: Vec<(PathBuf, _)> = paths.map_err(request_failed)?;
        let indexes = self.line_indexes(paths.iter().map(|(p, _)| p.clone()));
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
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                |analysis, file, _| analysis.document_links(file, &path_kind),
            )
            .await?;
        let Some(Answer {
            value: links,
            index,
        }) = answer
        else {
            return Ok(None);
        };
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
        let query = Arc::new(params.query);
        let mut found = None;
        // Not one document's: any write cancels it, and it runs again.
        for _ in 0..MAX_ATTEMPTS {
            let analysis = self.lock().host.snapshot();
            let query = query.clone();
            if let Ok(symbols) = self
                .blocking(move || analysis.workspace_symbols(&query))
                .await?
            {
                found = Some(symbols);
                break;
            }
        }
        let symbols = found.ok_or_else(content_modified)?;
        let indexes = self.line_indexes(symbols.iter().map(|s| s.target.path.clone()));
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
