//! The server target: a session of LSP messages made from the input, sent
//! to the real server (`crate::server::serve`) in process over in-memory
//! pipes, on one runtime shared by every execution.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::server::Preread;

/// The JSON-RPC code the server answers with when a handler panicked.
const INTERNAL_ERROR: i64 = -32603;

/// A session: initialize with the fixture options, then one message per
/// part of the input (opens, full and ranged edits with any version,
/// hover, completion, definition, symbols, code actions, formatting,
/// semantic tokens, selection and folding ranges, settings changes, saves,
/// closes, raw frames, unknown methods), then shutdown and exit. Every
/// request must be answered, and not with an internal error (a handler
/// that panicked); the server and the session's tasks must end.
pub fn server_session(data: &[u8]) {
    runtime().block_on(async {
        let session = tokio::time::timeout(Duration::from_secs(20), drive(data));
        session
            .await
            .expect("the server answered and exited in time");
    });
}

/// One thread runs the client's and the server's tasks alike (analysis
/// still goes to the blocking pool): with the session on the fuzzer's
/// thread and the server on a worker, every message was two thread
/// wake-ups, and a replay of the corpus took 7.7 s rather than 5.9.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .thread_stack_size(16 * 1024 * 1024)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The two options files the settings switch between (two paths, so that
/// a change between them reloads), both the fixture options. Each server
/// gets them already read: parsing the JSON and indexing it, the same in
/// every session, was a sixth of the target's time (a replay of its corpus,
/// 4.7 s of CPU before, 3.9 s after). The paths are not on disk.
fn options_files() -> &'static (Preread, [PathBuf; 2]) {
    static FILES: OnceLock<(Preread, [PathBuf; 2])> = OnceLock::new();
    FILES.get_or_init(|| {
        let index = super::fixture_index();
        let count = index.set.flatten().len();
        let paths = ["a", "b"].map(|copy| PathBuf::from(format!("/fuzz/options-{copy}.json")));
        let preread = paths
            .iter()
            .map(|path| (path.clone(), index.clone(), count))
            .collect();
        (Preread(Arc::new(preread)), paths)
    })
}

/// The settings a session switches between (see [`Op::Settings`]).
fn settings(variant: u32) -> Value {
    let [first, second] = &options_files().1;
    match variant {
        0 => json!({ "micros": { "options": first } }),
        1 => json!({ "micros": { "options": second, "eval": false } }),
        // Neither an options file nor a source tree: a warning, then
        // syntax and names only.
        _ => json!({ "micros": { "options": "/nonexistent/options.json",
                                 "source": "/nonexistent/micros" } }),
    }
}

/// The client's side of the pipes: frames go out through a writer task
/// and come in through a reader task, so neither side can block the other
/// however much the server publishes; the reader answers the server's own
/// requests.
struct Client {
    outgoing: mpsc::UnboundedSender<Vec<u8>>,
    incoming: mpsc::UnboundedReceiver<Value>,
    next_id: i64,
}

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// One message from the server, or `None` when its output closed.
async fn read_message(from_server: &mut BufReader<tokio::io::DuplexStream>) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if from_server.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.expect("the server sends a Content-Length")];
    from_server.read_exact(&mut body).await.ok()?;
    Some(serde_json::from_slice(&body).expect("the server sends JSON"))
}

impl Client {
    fn send(&self, message: Value) {
        // The server may have stopped reading (after exit): nothing to do.
        let _ = self.outgoing.send(frame(&message.to_string()));
    }

    fn notify(&self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    async fn receive(&mut self) -> Value {
        self.incoming
            .recv()
            .await
            .expect("the server keeps its output open until exit")
    }

    async fn wait_for_log(&mut self) {
        while self.receive().await["method"] != "window/logMessage" {}
    }

    /// Send a request and wait for its answer.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive().await;
            if message["id"] == id && message.get("method").is_none() {
                assert!(
                    message.get("result").is_some() || message.get("error").is_some(),
                    "{method}: an answer without result or error: {message}"
                );
                assert_ne!(
                    message["error"]["code"], INTERNAL_ERROR,
                    "{method}: the handler failed: {message}"
                );
                return message;
            }
        }
    }
}

/// A byte of the input as a small number, and the rest.
fn take(bytes: &[u8]) -> (u32, &[u8]) {
    match bytes.split_first() {
        Some((first, rest)) => (u32::from(*first), rest),
        None => (0, bytes),
    }
}

/// What one part of the input asks for, by its first byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Open,
    Replace,
    Edit,
    Hover,
    Completion,
    Definition,
    Symbols,
    CodeActions,
    Settings,
    Close,
    RawFrame,
    Format,
    FormatRange,
    SemanticTokens,
    Ranges,
    SaveOrUnknown,
}

impl Op {
    const ALL: [Op; 16] = [
        Op::Open,
        Op::Replace,
        Op::Edit,
        Op::Hover,
        Op::Completion,
        Op::Definition,
        Op::Symbols,
        Op::CodeActions,
        Op::Settings,
        Op::Close,
        Op::RawFrame,
        Op::Format,
        Op::FormatRange,
        Op::SemanticTokens,
        Op::Ranges,
        Op::SaveOrUnknown,
    ];

    fn of(byte: u32) -> Op {
        Op::ALL[byte as usize % Op::ALL.len()]
    }
}

async fn drive(data: &[u8]) {
    let (mut to_server, server_input) = tokio::io::duplex(1 << 16);
    let (server_output, from_server) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(crate::server::serve(
        server_input,
        server_output,
        options_files().0.clone(),
    ));
    let (outgoing, mut frames) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            if to_server.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let (deliver, incoming) = mpsc::unbounded_channel();
    let answers = outgoing.clone();
    let reader = tokio::spawn(async move {
        let mut from_server = BufReader::new(from_server);
        while let Some(message) = read_message(&mut from_server).await {
            if message.get("method").is_some() && message.get("id").is_some() {
                let answer = json!({ "jsonrpc": "2.0", "id": message["id"], "result": null });
                let _ = answers.send(frame(&answer.to_string()));
            }
            let _ = deliver.send(message);
        }
    });
    let mut client = Client {
        outgoing,
        incoming,
        next_id: 0,
    };

    client
        .request(
            "initialize",
            json!({ "capabilities": {}, "initializationOptions": settings(0) }),
        )
        .await;
    client.notify("initialized", json!({}));
    // The options are loaded in the background; the summary says when.
    client.wait_for_log().await;
    session(&mut client, data).await;
    client.request("shutdown", json!(null)).await;
    client.notify("exit", json!(null));

    server.await.expect("the server task ends without a panic");
    drop(client);
    reader
        .await
        .expect("the reader ends with the server's output");
    writer.await.expect("the writer ends with the client");
}

async fn session(client: &mut Client, data: &[u8]) {
    let uris = [
        "file:///fuzz/configuration.nix",
        "file:///fuzz/module.nix",
        "untitled:Untitled-1",
    ];
    let mut versions = [0i32; 3];
    let mut settings_variant = 0;
    for (step, part) in data.split(|b| *b == 0).enumerate() {
        let (op, rest) = take(part);
        let (which, rest) = take(rest);
        let doc = which as usize % uris.len();
        let uri = uris[doc];
        let text = String::from_utf8_lossy(rest).into_owned();
        let (line, rest_pos) = take(rest);
        let (character, _) = take(rest_pos);
        let position = json!({ "line": line % 16, "character": character });
        let end = json!({ "line": line % 16 + character % 3, "character": character / 2 });
        let range = json!({ "start": position, "end": end });
        let document = json!({ "uri": uri });
        let op = if step == 0 { Op::Open } else { Op::of(op) };
        // The client's text is the truth, whatever the version says.
        let mut next_version = || {
            versions[doc] += 1;
            if which & 0x80 != 0 {
                versions[doc] - 3
            } else {
                versions[doc]
            }
        };
        match op {
            Op::Open => client.notify(
                "textDocument/didOpen",
                json!({ "textDocument": { "uri": uri, "languageId": "nix",
                                          "version": next_version(), "text": text } }),
            ),
            Op::Replace => client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": next_version() },
                        "contentChanges": [{ "text": text }] }),
            ),
            Op::Edit => client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": next_version() },
                        "contentChanges": [{ "range": range, "text": text }] }),
            ),
            Op::Hover => {
                client
                    .request(
                        "textDocument/hover",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            Op::Completion => {
                client
                    .request(
                        "textDocument/completion",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            Op::Definition => {
                client
                    .request(
                        "textDocument/definition",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            Op::Symbols => {
                client
                    .request(
                        "textDocument/documentSymbol",
                        json!({ "textDocument": document }),
                    )
                    .await;
            }
            Op::CodeActions => {
                client
                    .request(
                        "textDocument/codeAction",
                        json!({ "textDocument": document, "range": range,
                                "context": { "diagnostics": [] } }),
                    )
                    .await;
            }
            Op::Settings => {
                let variant = character % 3;
                client.notify(
                    "workspace/didChangeConfiguration",
                    json!({ "settings": settings(variant) }),
                );
                if variant != settings_variant {
                    // A reload: wait for it, so that no load outlives the
                    // session.
                    settings_variant = variant;
                    client.wait_for_log().await;
                }
            }
            Op::Close => {
                client.notify("textDocument/didClose", json!({ "textDocument": document }));
            }
            Op::RawFrame => {
                // Raw text as a message body: the transport's guard answers.
                let _ = client.outgoing.send(frame(&text));
            }
            Op::Format => {
                client
                    .request(
                        "textDocument/formatting",
                        json!({ "textDocument": document,
                                "options": { "tabSize": 2, "insertSpaces": true } }),
                    )
                    .await;
            }
            Op::FormatRange => {
                client
                    .request(
                        "textDocument/rangeFormatting",
                        json!({ "textDocument": document, "range": range,
                                "options": { "tabSize": 2, "insertSpaces": true } }),
                    )
                    .await;
            }
            Op::SemanticTokens => {
                let (method, params) = match character % 3 {
                    0 => (
                        "textDocument/semanticTokens/full",
                        json!({ "textDocument": document }),
                    ),
                    1 => (
                        "textDocument/semanticTokens/full/delta",
                        json!({ "textDocument": document,
                                "previousResultId": (line % 4).to_string() }),
                    ),
                    _ => (
                        "textDocument/semanticTokens/range",
                        json!({ "textDocument": document, "range": range }),
                    ),
                };
                client.request(method, params).await;
            }
            Op::Ranges => {
                if character % 2 == 0 {
                    client
                        .request(
                            "textDocument/selectionRange",
                            json!({ "textDocument": document, "positions": [position, end] }),
                        )
                        .await;
                } else {
                    client
                        .request(
                            "textDocument/foldingRange",
                            json!({ "textDocument": document }),
                        )
                        .await;
                }
            }
            Op::SaveOrUnknown => {
                if character % 2 == 0 {
                    client.notify("textDocument/didSave", json!({ "textDocument": document }));
                } else {
                    client
                        .request("micros/unknownRequest", json!({ "text": text }))
                        .await;
                }
            }
        }
    }
}
