//! The language server: tower-lsp-server glue only. Analysis lives in
//! `ide/`; here are capabilities, position conversion, settings, progress.

mod convert;
mod documents;
pub mod line_index;
mod navigation;
mod semantic_tokens;
mod settings;
mod transport;
mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService};

use crate::analysis::db::File;
use crate::ide::{Analysis, AnalysisHost, Cancellable};
use line_index::LineIndex;
pub use settings::{Preread, Settings};

#[derive(Default)]
struct State {
    host: AnalysisHost,
    documents: HashMap<PathBuf, documents::Document>,
    /// The last document revision given out.
    revision: u64,
    /// Whether the client asked to shut down (exiting without that is an
    /// error, as the protocol says).
    shutdown_requested: bool,
    /// How the client watches files for us, if it does.
    watching: watch::Support,
    /// The trees the option set was read from (edits there reload it).
    option_roots: Vec<PathBuf>,
    settings: Settings,
    workspace_root: Option<PathBuf>,
    /// Whether the option set is loaded (until then, only syntax and name
    /// diagnostics are meaningful).
    options_loaded: bool,
    /// Whether the client takes `window/workDoneProgress/create`.
    progress_supported: bool,
    /// Bumped by each option load; only the newest one's result is used.
    options_generation: u64,
    /// Semantic token types and modifiers agreed with the client.
    legend: semantic_tokens::Legend,
    /// The last semantic tokens sent for each document, for deltas.
    semantic_results: HashMap<PathBuf, (String, Vec<SemanticToken>)>,
    semantic_result_count: u64,
    /// Directories already searched for the flake around a document.
    flake_dirs_searched: std::collections::HashSet<PathBuf>,
    /// The flakes' directories git was last asked about, and a count of
    /// the asks (only the newest answer is used).
    git_dirs: Vec<PathBuf>,
    git_generation: u64,
    /// Options files read before this server started (see [`serve`]).
    preread: settings::Preread,
    /// The load started by `initialize`, reported from `initialized`.
    initial_load: Option<PendingLoad>,
}

/// An option load running on the blocking pool.
struct PendingLoad {
    /// Its `options_generation`: only the newest load's set is used.
    generation: u64,
    job: tokio::task::JoinHandle<settings::Loaded>,
}

#[derive(Clone)]
pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    outbox: documents::Outbox,
}

/// Serve on stdin/stdout until the client exits (or goes away); whether
/// it asked to shut down first.
pub async fn run_stdio() -> bool {
    let (to_server, inbox) = tokio::sync::mpsc::unbounded_channel();
    // std's stdin, read on a thread of its own: tokio's would hand every
    // read to its blocking pool and back.
    let reader = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || transport::read_blocking(std::io::stdin().lock(), to_server));
    if reader.is_err() {
        return false;
    }
    // stdout unbuffered (std's is line-buffered: two writes a frame).
    let output = match std::os::fd::AsFd::as_fd(&std::io::stdout()).try_clone_to_owned() {
        Ok(fd) => transport::Output::Blocking(std::fs::File::from(fd)),
        Err(_) => transport::Output::Async(Box::pin(tokio::io::stdout())),
    };
    run(inbox, output, Preread::default()).await
}

/// Serve one client on `input`/`output` until it exits: the in-memory
/// pipes of the fuzzer (`crate::fuzzing`), whose sessions give the options
/// files they use already read (`preread`) rather than parse the same file
/// in each. Whether the client asked to shut down before it went.
pub async fn serve<I, O>(input: I, output: O, preread: Preread) -> bool
where
    I: tokio::io::AsyncRead + Unpin + Send + 'static,
    O: tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (to_server, inbox) = tokio::sync::mpsc::unbounded_channel();
    // Reading the client may block until it closes; the session ends
    // without waiting for that.
    tokio::spawn(transport::read_async(input, to_server));
    run(inbox, transport::Output::Async(Box::pin(output)), preread).await
}

async fn run(inbox: transport::Inbox, output: transport::Output, preread: Preread) -> bool {
    let state = Arc::new(Mutex::new(State {
        preread,
        ..State::default()
    }));
    let (service, socket) = LspService::new(|client| Backend {
        outbox: documents::publisher(client.clone()),
        client,
        state: state.clone(),
    });
    transport::dispatch(service, socket, inbox, output).await;
    let state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    state.shutdown_requested
}

/// Run the server to completion on a runtime of its own.
pub fn main() -> std::process::ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Analysis of deeply nested files recurses; give it room.
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => {
            let clean = runtime.block_on(run_stdio());
            // A read of stdin may still be blocked; do not wait for it.
            runtime.shutdown_timeout(std::time::Duration::from_millis(100));
            if clean {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::ExitCode::from(2)
        }
    }
}

fn path_of(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// How many times a request cancelled by writes the client did not make
/// is run again before it is answered ContentModified.
const MAX_ATTEMPTS: usize = 8;

/// Where a request's analysis runs.
#[derive(Clone, Copy)]
enum Run {
    /// On the task that takes the client's messages (tens of microseconds).
    AtOnce,
    /// On the blocking pool.
    Blocking,
}

/// A request's result and the line index of the text it was computed on.
struct Answer<T> {
    value: T,
    index: Arc<LineIndex>,
}

fn content_modified() -> Error {
    Error {
        code: ErrorCode::ContentModified,
        message: "the document changed".into(),
        data: None,
    }
}

impl Backend {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock must not take the server down.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A snapshot, the document's line index and its revision, for a
    /// request. Whoever holds a snapshot must not lock the state: a writer
    /// holding the lock waits for every snapshot to be dropped.
    fn snapshot(&self, uri: &Uri) -> Option<(Analysis, File, Arc<LineIndex>, u64)> {
        let path = path_of(uri)?;
        let state = self.lock();
        let document = state.documents.get(&path)?;
        Some((
            state.host.snapshot(),
            document.file,
            document.index.clone(),
            document.revision,
        ))
    }

    /// Run a cheap request's analysis here, on the task that takes the
    /// client's messages: a hover or a completion is tens of microseconds
    /// of work, less than the two thread hops to the blocking pool and
    /// back, and answering before the next message is taken means it sees
    /// every change before it. A panic is an internal error, as from the
    /// pool.
    fn at_once<T>(f: impl FnOnce() -> T) -> Result<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|_| Error::internal_error())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|_| Error::internal_error())
    }

    /// Answer a request about an open document: `query` runs on a snapshot
    /// (here or on the blocking pool, as `run` says). A write cancels it;
    /// when the write was not the client's (options loaded, a watched file,
    /// git's answer) it runs again on the new state, and only a change of
    /// the document itself, or a state that keeps changing, makes the
    /// answer ContentModified. None when the document is not open.
    async fn on_document<T: Send + 'static>(
        &self,
        uri: &Uri,
        run: Run,
        query: impl Fn(&Analysis, File, &LineIndex) -> Cancellable<T> + Send + Sync + 'static,
    ) -> Result<Option<Answer<T>>> {
        let query = Arc::new(query);
        let mut first_revision = None;
        for _ in 0..MAX_ATTEMPTS {
            let Some((analysis, file, index, revision)) = self.snapshot(uri) else {
                return Ok(None);
            };
            if *first_revision.get_or_insert(revision) != revision {
                return Err(content_modified());
            }
            // The snapshot moves into the query and is dropped there, before
            // anything else is awaited or locked.
            let outcome = match run {
                Run::AtOnce => Self::at_once(|| {
                    let analysis = analysis;
                    query(&analysis, file, &index)
                })?,
                Run::Blocking => {
                    let (query, index) = (query.clone(), index.clone());
                    self.blocking(move || query(&analysis, file, &index))
                        .await?
                }
            };
            if let Ok(value) = outcome {
                return Ok(Some(Answer { value, index }));
            }
        }
        Err(content_modified())
    }

    /// A document's semantic tokens, encoded; a whole file's are kept (under
    /// a new result id) for the next delta.
    async fn semantic_tokens(
        &self,
        uri: &Uri,
        range: Option<Range>,
    ) -> Result<Option<(String, Vec<SemanticToken>)>> {
        let legend = self.lock().legend.clone();
        let answer = self
            .on_document(uri, Run::Blocking, move |analysis, file, index| {
                let text_range = range.map(|r| index.text_range(r));
                let tokens = analysis.semantic_tokens(file, text_range)?;
                Ok(legend.encode(&tokens, index))
            })
            .await?;
        let Some(Answer { value: data, .. }) = answer else {
            return Ok(None);
        };
        let mut state = self.lock();
        state.semantic_result_count += 1;
        let result_id = state.semantic_result_count.to_string();
        if range.is_none()
            && let Some(path) = path_of(uri)
        {
            state
                .semantic_results
                .insert(path, (result_id.clone(), data.clone()));
        }
        Ok(Some((result_id, data)))
    }

    /// Format a document (or a range of it); what cannot be formatted is
    /// left as it is and said in a message.
    async fn format(&self, uri: &Uri, range: Option<Range>) -> Result<Option<Vec<TextEdit>>> {
        let formatter = self.lock().settings.formatter();
        let answer = self
            .on_document(uri, Run::Blocking, move |analysis, file, index| {
                let text_range = range.map(|r| index.text_range(r));
                analysis.format(file, text_range, formatter.clone())
            })
            .await?;
        let Some(Answer {
            value: result,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        match result {
            Ok(edits) => Ok(Some(
                edits
                    .iter()
                    .map(|e| TextEdit {
                        range: index.range(e.range),
                        new_text: e.replacement.clone(),
                    })
                    .collect(),
            )),
            Err(error) => {
                let message = format!("micros: {}", error.message(index.text()));
                self.client
                    .show_message(MessageType::WARNING, message)
                    .await;
                Ok(None)
            }
        }
    }

    /// Load the option set the settings point at in the background, and
    /// use it when it is the newest.
    fn spawn_load_options(&self) {
        self.spawn_finish_load_options(self.start_load_options());
    }

    /// Report a started load and use its set, in a task of its own: a
    /// notification handler that waited for it (or for the client to
    /// answer a progress request) would hold up every notification after
    /// it, `exit` included.
    fn spawn_finish_load_options(&self, load: PendingLoad) {
        let backend = self.clone();
        tokio::spawn(async move { backend.finish_load_options(load).await });
    }

    /// Start extracting (or reading) the option set on the blocking pool,
    /// at once: from a spawned task it would wait for the message task to
    /// yield (tokio runs a task spawned from a worker on that worker next,
    /// where no other worker takes it), after the document just opened.
    fn start_load_options(&self) -> PendingLoad {
        let (settings, root, preread, generation) = {
            let mut state = self.lock();
            state.options_generation += 1;
            (
                state.settings.clone(),
                state.workspace_root.clone(),
                state.preread.clone(),
                state.options_generation,
            )
        };
        PendingLoad {
            generation,
            job: tokio::task::spawn_blocking(move || {
                settings::load_options(&settings, root.as_deref(), &preread)
            }),
        }
    }

    /// Report a load with progress, and use its option set unless newer
    /// settings started another.
    async fn finish_load_options(&self, load: PendingLoad) {
        let PendingLoad { generation, job } = load;
        let progress_supported = self.lock().progress_supported;
        let token = ProgressToken::String(format!("micros/options/{generation}"));
        let created = progress_supported
            && tokio::time::timeout(
                std::time::Duration::from_secs(5),
                self.client.create_work_done_progress(token.clone()),
            )
            .await
            .is_ok_and(|answer| answer.is_ok());
        let progress = if created {
            Some(
                self.client
                    .progress(token, "Reading MicrOS options")
                    .with_message("extracting option declarations")
                    .begin()
                    .await,
            )
        } else {
            None
        };
        let loaded = job.await;
        let message = match loaded {
            Ok(loaded) => {
                let summary = loaded.summary.clone();
                let current = {
                    let mut state = self.lock();
                    let current = state.options_generation == generation;
                    if current {
                        // The sources', not the user's (whose files are
                        // documents and imports).
                        state.option_roots = loaded
                            .index
                            .roots
                            .iter()
                            .filter(|(kind, _)| *kind != micros_options::model::RootKind::User)
                            .map(|(_, dir)| dir.clone())
                            .collect();
                        state.host.set_options(loaded.index);
                        state.options_loaded = true;
                    }
                    current
                };
                if !current {
                    // Settings changed while this load ran: the newer load
                    // reports and publishes.
                    if let Some(progress) = progress {
                        progress.finish_with_message("superseded").await;
                    }
                    return;
                }
                for warning in loaded.warnings {
                    self.client
                        .show_message(MessageType::WARNING, warning)
                        .await;
                }
                summary
            }
            Err(_) => "reading the options failed".into(),
        };
        self.client.log_message(MessageType::INFO, &message).await;
        if let Some(progress) = progress {
            progress.finish_with_message(message).await;
        }
        // The option sources may have moved: watch where they are now.
        self.spawn_watch();
        self.publish_all().await;
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        {
            let mut state = self.lock();
            if let Some(options) = &params.initialization_options {
                state.settings.update(options);
            }
            #[allow(deprecated)]
            let root = params
                .workspace_folders
                .as_ref()
                .and_then(|f| f.first())
                .and_then(|f| path_of(&f.uri))
                .or_else(|| params.root_uri.as_ref().and_then(path_of));
            state.workspace_root = root;
            state.watching = watch::Support::of(&params.capabilities);
            state.progress_supported = params
                .capabilities
                .window
                .as_ref()
                .and_then(|w| w.work_done_progress)
                .unwrap_or(false);
            state.legend = semantic_tokens::Legend::negotiate(
                params
                    .capabilities
                    .text_document
                    .as_ref()
                    .and_then(|t| t.semantic_tokens.as_ref()),
            );
        }
        // The settings and the root are known: the options need nothing
        // more, and are loaded while the client gets ready. Their progress
        // waits for `initialized` (nothing may be sent to the client
        // before the answer to this).
        let load = self.start_load_options();
        let legend = {
            let mut state = self.lock();
            state.initial_load = Some(load);
            state.legend.to_lsp()
        };
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "micros-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "\"".into(), "/".into()]),
                    ..Default::default()
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::REFACTOR_REWRITE,
                            CodeActionKind::REFACTOR_INLINE,
                        ]),
                        ..Default::default()
                    },
                )),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                selection_range_provider: Some(SelectionRangeProviderCapability::Simple(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_highlight_provider: Some(OneOf::Left(true)),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: Default::default(),
                }),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensOptions {
                        legend,
                        range: Some(true),
                        full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                        ..Default::default()
                    }
                    .into(),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let started = self.lock().initial_load.take();
        self.spawn_finish_load_options(started.unwrap_or_else(|| self.start_load_options()));
    }

    async fn shutdown(&self) -> Result<()> {
        self.lock().shutdown_requested = true;
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        self.set_document(
            path.clone(),
            params.text_document.text,
            params.text_document.version,
        );
        self.spawn_git(false);
        self.publish(path).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let Some(path) = path_of(&params.text_document.uri) else {
            return;
        };
        let version = params.text_document.version;
        if self.change_document(path.clone(), params.content_changes, version) {
            self.publish(path.clone()).await;
            self.publish_others(&path).await;
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        if let Some(path) = path_of(&params.text_document.uri) {
            self.publish(path).await;
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.close_document(params.text_document.uri);
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.files_changed(params.changes).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let changed = {
            let mut state = self.lock();
            let before = state.settings.clone();
            state.settings.update(&params.settings);
            (
                state.settings.options_differ(&before),
                state.settings.skip_generic_diagnostics != before.skip_generic_diagnostics,
            )
        };
        match changed {
            // Loading the options publishes everything again.
            (true, _) => self.spawn_load_options(),
            (false, true) => self.publish_all().await,
            (false, false) => {}
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let position = params.text_document_position;
        let at = position.position;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::AtOnce,
                move |analysis, file, index| analysis.completion(file, index.offset(at)),
            )
            .await?;
        let Some(Answer {
            value: items,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        let items = items
            .iter()
            .map(|i| convert::completion_item(i, &index))
            .collect();
        Ok(Some(CompletionResponse::Array(items)))
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let position = params.text_document_position_params;
        let at = position.position;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::AtOnce,
                move |analysis, file, index| analysis.hover(file, index.offset(at)),
            )
            .await?;
        let Some(Answer {
            value: hover,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        Ok(hover.map(|h| Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: h.markdown,
            }),
            range: Some(index.range(h.range)),
        }))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let position = params.text_document_position_params;
        let at = position.position;
        let answer = self
            .on_document(
                &position.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| analysis.goto_definition(file, index.offset(at)),
            )
            .await?;
        let Some(Answer { value: targets, .. }) = answer else {
            return Ok(None);
        };
        let open: HashMap<PathBuf, Arc<LineIndex>> = self
            .lock()
            .documents
            .iter()
            .map(|(p, d)| (p.clone(), d.index.clone()))
            .collect();
        let locations: Vec<Location> = self
            .blocking(move || {
                targets
                    .iter()
                    .filter_map(|t| convert::location(t, open.get(&t.path).cloned()))
                    .collect()
            })
            .await?;
        Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                |analysis, file, _| analysis.symbols(file),
            )
            .await?;
        let Some(Answer {
            value: symbols,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        Ok(Some(DocumentSymbolResponse::Nested(
            symbols.iter().map(|s| convert::symbol(s, &index)).collect(),
        )))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let skip_generic = self.lock().settings.skip_generic_diagnostics;
        let range = params.range;
        let answer = self
            .on_document(&uri, Run::Blocking, move |analysis, file, index| {
                analysis.code_actions(file, index.text_range(range))
            })
            .await?;
        let Some(Answer {
            value: mut actions,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        // The other server offers the fixes of what it reports.
        actions.retain(|a| {
            !(skip_generic && a.diagnostic.as_ref().is_some_and(|d| d.code.is_generic()))
        });
        Ok(Some(
            actions
                .iter()
                .map(|a| convert::code_action(a, &index, &uri))
                .collect(),
        ))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let tokens = self
            .semantic_tokens(&params.text_document.uri, None)
            .await?;
        Ok(tokens.map(|(result_id, data)| {
            SemanticTokens {
                result_id: Some(result_id),
                data,
            }
            .into()
        }))
    }

    async fn semantic_tokens_full_delta(
        &self,
        params: SemanticTokensDeltaParams,
    ) -> Result<Option<SemanticTokensFullDeltaResult>> {
        let uri = params.text_document.uri;
        let previous = path_of(&uri).and_then(|path| {
            let state = self.lock();
            state
                .semantic_results
                .get(&path)
                .filter(|(id, _)| *id == params.previous_result_id)
                .map(|(_, data)| data.clone())
        });
        let Some((result_id, data)) = self.semantic_tokens(&uri, None).await? else {
            return Ok(None);
        };
        Ok(Some(match previous {
            Some(old) => SemanticTokensDelta {
                result_id: Some(result_id),
                edits: semantic_tokens::delta(&old, &data),
            }
            .into(),
            None => SemanticTokens {
                result_id: Some(result_id),
                data,
            }
            .into(),
        }))
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        let tokens = self
            .semantic_tokens(&params.text_document.uri, Some(params.range))
            .await?;
        Ok(tokens.map(|(_, data)| {
            SemanticTokens {
                result_id: None,
                data,
            }
            .into()
        }))
    }

    async fn selection_range(
        &self,
        params: SelectionRangeParams,
    ) -> Result<Option<Vec<SelectionRange>>> {
        let positions = params.positions;
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| {
                    let offsets: Vec<_> = positions.iter().map(|p| index.offset(*p)).collect();
                    analysis.selection_ranges(file, &offsets)
                },
            )
            .await?;
        let Some(Answer {
            value: chains,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        Ok(Some(
            chains
                .iter()
                .map(|chain| convert::selection_range(chain, &index))
                .collect(),
        ))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let config = self.lock().settings.inlay_config();
        let range = params.range;
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                move |analysis, file, index| {
                    analysis.inlay_hints(file, Some(index.text_range(range)), config)
                },
            )
            .await?;
        let Some(Answer {
            value: hints,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        Ok(Some(
            hints
                .iter()
                .map(|h| convert::inlay_hint(h, &index))
                .collect(),
        ))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let answer = self
            .on_document(
                &params.text_document.uri,
                Run::Blocking,
                |analysis, file, _| analysis.folding_ranges(file),
            )
            .await?;
        let Some(Answer {
            value: folds,
            index,
        }) = answer
        else {
            return Ok(None);
        };
        Ok(Some(
            folds
                .iter()
                .filter_map(|f| convert::folding_range(f, &index))
                .collect(),
        ))
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.format(&params.text_document.uri, None).await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        self.format(&params.text_document.uri, Some(params.range))
            .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.references_request(params).await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        self.highlight_request(params).await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.prepare_rename_request(params).await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        self.rename_request(params).await
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        self.document_link_request(params).await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.workspace_symbol_request(params).await
    }
}
