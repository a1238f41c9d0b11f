//! What the fuzz targets (`fuzz/`) run, one function per target, so that
//! `cargo test` can replay their corpora through exactly the same code
//! (`lsp/tests/fuzz_corpus.rs`). Each panics on a broken invariant; a
//! crash, a hang or a stack overflow is the fuzzer's finding.
//!
//! Inputs are bytes, read as UTF-8 (lossily) and cut into parts at NUL
//! bytes, which Nix text never contains.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use micros_options::model::RootKind;
use micros_options::{ExtractRequest, ModuleSource, OptionSet, Root};
use rowan::{TextRange, TextSize};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::ide::AnalysisHost;
use crate::options::OptionIndex;
use crate::reparse::Parsed;

/// The project's fixture trees, where the fuzz targets' options come from.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The fixture tree's options, extracted once per process.
pub fn fixture_options() -> Arc<OptionSet> {
    static OPTIONS: OnceLock<Arc<OptionSet>> = OnceLock::new();
    OPTIONS
        .get_or_init(|| {
            let f = fixtures();
            let request = micros_options::sources::micros_request(
                &f.join("micros"),
                Some(&f.join("nixpkgs")),
            )
            .expect("the fixture tree");
            Arc::new(micros_options::extract(&request).options)
        })
        .clone()
}

fn parts(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\0')
        .map(str::to_string)
        .collect()
}

/// Parse + incremental reparse: the text before and after an edit (the
/// parts before and after the first NUL; without one, the text and the
/// text less its middle character). Reparsing must equal a full parse.
pub fn parse_and_reparse(data: &[u8]) {
    let parts = parts(data);
    let old = &parts[0];
    let new = match parts.get(1) {
        Some(new) => new.clone(),
        None => {
            let mut new = old.clone();
            let middle = (0..=old.len() / 2)
                .rev()
                .find(|&i| old.is_char_boundary(i))
                .unwrap_or(0);
            if middle < old.len() {
                new.remove(middle);
            }
            new
        }
    };
    let before = Parsed::new(old);
    let incremental = before.reparse(old, &new);
    let full = Parsed::new(&new);
    assert_eq!(incremental, full, "reparse differs from a full parse");
    assert_tree_holds_text(&full, &new);
}

/// The tree holds the text byte for byte, except where a missing `;` was
/// repaired: there the recovery put a `;` in place of the whitespace after
/// the value (`crate::recover`), and says so in an error at that offset.
fn assert_tree_holds_text(parsed: &Parsed, text: &str) {
    let tree = rnix::SyntaxNode::new_root(parsed.green.clone()).to_string();
    assert_eq!(tree.len(), text.len(), "the tree's text has another length");
    let repaired: Vec<usize> = parsed
        .errors
        .iter()
        .filter(|(_, message)| message == crate::recover::MISSING_SEMICOLON)
        .map(|(range, _)| usize::from(range.start()))
        .collect();
    for (at, (in_tree, in_text)) in tree.bytes().zip(text.bytes()).enumerate() {
        if in_tree != in_text {
            assert!(
                repaired.contains(&at) && in_tree == b';' && in_text.is_ascii_whitespace(),
                "the tree differs from the text at byte {at}, where no `;` was repaired"
            );
        }
    }
    for at in repaired {
        assert_eq!(
            tree.as_bytes().get(at),
            Some(&b';'),
            "no `;` repaired at {at}"
        );
    }
}

/// Offsets inside `text` derived from its length: the start, the end, and
/// a few places between, on character boundaries.
fn offsets(text: &str) -> Vec<TextSize> {
    let len = text.len();
    [0, len / 3, len / 2, 2 * len / 3, len]
        .into_iter()
        .map(|at| {
            (0..=at)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0)
        })
        .map(|at| TextSize::from(at as u32))
        .collect()
}

/// Lowering, resolution and every diagnostic of one file against the
/// fixture options (the first part is the file; a second part is a module
/// it imports, so declared options and import cycles are exercised),
/// then hover, completion and definitions at a few offsets.
pub fn analyse_file(data: &[u8]) {
    let parts = parts(data);
    let mut host = AnalysisHost::default();
    host.set_options(OptionIndex::new(fixture_options(), true));
    let main = host.set_file(Path::new("/fuzz/configuration.nix"), parts[0].clone());
    if let Some(imported) = parts.get(1) {
        host.set_file(Path::new("/fuzz/module.nix"), imported.clone());
    }
    let analysis = host.snapshot();
    let cancelled = "nothing edits the database meanwhile";
    let diagnostics = analysis.diagnostics(main).expect(cancelled);
    let len = TextSize::of(parts[0].as_str());
    for diagnostic in &diagnostics {
        assert!(diagnostic.range.end() <= len, "{diagnostic:?} past the end");
    }
    analysis.symbols(main).expect(cancelled);
    for offset in offsets(&parts[0]) {
        analysis.hover(main, offset).expect(cancelled);
        analysis.completion(main, offset).expect(cancelled);
        analysis.goto_definition(main, offset).expect(cancelled);
        analysis
            .code_actions(main, TextRange::new(0.into(), offset))
            .expect(cancelled);
    }
}

/// Static option extraction of a module tree made from the input: up to
/// three files (`default.nix`, `a.nix`, `b.nix`) in memory, all given as
/// modules, so that they may import themselves or each other. Nothing is
/// read from disk: the root does not exist.
pub fn extract_tree(data: &[u8]) {
    let root = PathBuf::from("/nonexistent-fuzz-root");
    let names = ["default.nix", "a.nix", "b.nix"];
    let modules = parts(data)
        .into_iter()
        .zip(names)
        .map(|(text, name)| ModuleSource::Text {
            path: root.join(name),
            text,
        })
        .collect();
    let request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::User,
            dir: root,
        }],
        modules,
        skip_imports: false,
    };
    let extraction = micros_options::extract::extract_here(&request);
    // What the options become downstream: JSON, and the text of each type.
    let json = micros_options::json::to_json(&extraction.options, true);
    let read = micros_options::json::from_json(&json).expect("our own JSON reads back");
    for option in read.flatten() {
        option.ty.description();
    }
}

/// The whole server, in process: a session of LSP messages made from the
/// input over in-memory pipes (initialize with the fixture options, then
/// one message per part: opens, full and ranged edits, requests at
/// arbitrary positions, settings changes, closes; then shutdown and exit).
/// Every request must be answered, and the server must exit.
pub fn server_session(data: &[u8]) {
    runtime().block_on(async {
        let session = tokio::time::timeout(Duration::from_secs(20), drive_server(data));
        session
            .await
            .expect("the server answered and exited in time");
    });
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_stack_size(16 * 1024 * 1024)
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

/// The fixture options as an options.json file, written once: reading it
/// is the cheapest way for a new server to get options.
fn fixture_options_json() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("micros-fuzz-options-{}.json", std::process::id()));
        let json = micros_options::json::to_json(&fixture_options(), true);
        std::fs::write(&path, json).expect("write the fixture options");
        path
    })
}

struct Session {
    to_server: tokio::io::DuplexStream,
    from_server: BufReader<tokio::io::DuplexStream>,
    next_id: i64,
}

impl Session {
    async fn send(&mut self, message: Value) {
        let body = message.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.to_server
            .write_all(frame.as_bytes())
            .await
            .expect("the server reads");
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    async fn receive(&mut self) -> Value {
        let mut length = None;
        loop {
            let mut line = String::new();
            let read = self.from_server.read_line(&mut line).await;
            assert!(read.is_ok_and(|n| n > 0), "the server closed its output");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a Content-Length header")];
        self.from_server
            .read_exact(&mut body)
            .await
            .expect("a whole body");
        serde_json::from_slice(&body).expect("JSON from the server")
    }

    /// Wait for the message `matches` accepts, answering the server's own
    /// requests on the way.
    async fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let message = self.receive().await;
            if message.get("method").is_some() && message.get("id").is_some() {
                let id = message["id"].clone();
                self.send(json!({ "jsonrpc": "2.0", "id": id, "result": null }))
                    .await;
            }
            if matches(&message) {
                return message;
            }
        }
    }

    async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
            .await
    }
}

/// A byte of the input as a small number, and the rest.
fn take(bytes: &[u8]) -> (u32, &[u8]) {
    match bytes.split_first() {
        Some((first, rest)) => (u32::from(*first), rest),
        None => (0, bytes),
    }
}

async fn drive_server(data: &[u8]) {
    let (to_server, server_input) = tokio::io::duplex(1 << 16);
    let (server_output, from_server) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(crate::server::serve(server_input, server_output));
    let mut session = Session {
        to_server,
        from_server: BufReader::new(from_server),
        next_id: 0,
    };
    let options = json!({ "micros": { "options": fixture_options_json() } });
    session
        .request(
            "initialize",
            json!({ "capabilities": {}, "initializationOptions": options }),
        )
        .await;
    session.notify("initialized", json!({})).await;
    // The options are loaded in the background; the summary says when.
    session
        .wait_for(|m| m["method"] == "window/logMessage")
        .await;

    let uris = ["file:///fuzz/configuration.nix", "file:///fuzz/module.nix"];
    let mut versions = [0i32; 2];
    for (step, part) in data.split(|b| *b == 0).enumerate() {
        let (op, rest) = take(part);
        let (which, rest) = take(rest);
        let doc = (which % 2) as usize;
        let uri = uris[doc];
        let text = String::from_utf8_lossy(rest).into_owned();
        let (line, rest_pos) = take(rest);
        let (character, _) = take(rest_pos);
        let position = json!({ "line": line % 16, "character": character });
        let document = json!({ "uri": uri });
        if step == 0 || op % 12 == 0 {
            versions[doc] += 1;
            session
                .notify(
                    "textDocument/didOpen",
                    json!({ "textDocument": { "uri": uri, "languageId": "nix",
                                              "version": versions[doc], "text": text } }),
                )
                .await;
            continue;
        }
        match op % 12 {
            1 => {
                versions[doc] += 1;
                session
                    .notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": uri, "version": versions[doc] },
                                "contentChanges": [{ "text": text }] }),
                    )
                    .await;
            }
            2 => {
                versions[doc] += 1;
                let end = json!({ "line": line % 16 + character % 3, "character": character / 2 });
                session
                    .notify(
                        "textDocument/didChange",
                        json!({ "textDocument": { "uri": uri, "version": versions[doc] },
                                "contentChanges": [{ "range": { "start": position, "end": end },
                                                     "text": text }] }),
                    )
                    .await;
            }
            3 => {
                session
                    .request(
                        "textDocument/hover",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            4 => {
                session
                    .request(
                        "textDocument/completion",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            5 => {
                session
                    .request(
                        "textDocument/definition",
                        json!({ "textDocument": document, "position": position }),
                    )
                    .await;
            }
            6 => {
                session
                    .request(
                        "textDocument/documentSymbol",
                        json!({ "textDocument": document }),
                    )
                    .await;
            }
            7 => {
                session
                    .request(
                        "textDocument/codeAction",
                        json!({ "textDocument": document,
                                "range": { "start": { "line": 0, "character": 0 }, "end": position },
                                "context": { "diagnostics": [] } }),
                    )
                    .await;
            }
            8 => {
                // Settings: the same options, or a file that is missing
                // (the server then checks syntax and names only).
                let options = if character % 2 == 0 {
                    fixture_options_json().to_path_buf()
                } else {
                    PathBuf::from("/nonexistent/options.json")
                };
                let settings = json!({ "micros": { "options": options, "eval": false } });
                session
                    .notify(
                        "workspace/didChangeConfiguration",
                        json!({ "settings": settings }),
                    )
                    .await;
            }
            9 => {
                session
                    .notify("textDocument/didClose", json!({ "textDocument": document }))
                    .await;
            }
            10 => {
                // Raw text as a message body: the transport's guard answers.
                let frame = format!("Content-Length: {}\r\n\r\n{text}", text.len());
                session
                    .to_server
                    .write_all(frame.as_bytes())
                    .await
                    .expect("the server reads");
            }
            _ => {
                session
                    .request("micros/unknownRequest", json!({ "text": text }))
                    .await;
            }
        }
    }
    session.request("shutdown", json!(null)).await;
    session.notify("exit", json!(null)).await;
    server.await.expect("the server task ends without a panic");
}
