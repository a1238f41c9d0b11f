//! A JSON-RPC client of the real `micros-lsp` binary over stdio, for the
//! end-to-end tests.

// Each test binary that includes this uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::fixtures;

// Generous: it only detects a server that never answers, and the 10 MB file
// takes a debug build many seconds on a loaded two-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    pub child: Child,
    pub stdin: ChildStdin,
    pub messages: Receiver<Value>,
    pub next_id: i64,
    /// Notifications seen while waiting for something else.
    pub backlog: Vec<Value>,
    /// What the server said when the option set was loaded.
    pub options_summary: String,
    /// What the server answered `initialize` with.
    pub capabilities: Value,
}

pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Client {
    /// The server process with a reader thread, before `initialize`.
    pub fn spawn() -> Client {
        Client::spawn_with(|_| {})
    }

    /// The server process, its environment adjusted by `configure`.
    pub fn spawn_with(configure: impl FnOnce(&mut Command)) -> Client {
        let mut command = Command::new(env!("CARGO_BIN_EXE_micros-lsp"));
        command
            .env_remove("MICROS_SRC")
            .env_remove("MICROS_NIXPKGS");
        configure(&mut command);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start micros-lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if tx
                    .send(serde_json::from_slice(&body).expect("server sends JSON"))
                    .is_err()
                {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 0,
            backlog: Vec::new(),
            options_summary: String::new(),
            capabilities: Value::Null,
        }
    }

    pub fn start(root: &Path, options: Value) -> Client {
        Client::start_with(root, options, |_| {})
    }

    pub fn start_with(root: &Path, options: Value, configure: impl FnOnce(&mut Command)) -> Client {
        let capabilities = json!({ "window": { "workDoneProgress": true } });
        Client::start_with_capabilities(root, options, capabilities, configure)
    }

    pub fn start_with_capabilities(
        root: &Path,
        options: Value,
        capabilities: Value,
        configure: impl FnOnce(&mut Command),
    ) -> Client {
        let mut client = Client::spawn_with(configure);
        let result = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": uri(root), "capabilities": capabilities,
                    "initializationOptions": options }),
        );
        client.capabilities = result["capabilities"].clone();
        assert!(
            result["capabilities"]["completionProvider"].is_object(),
            "{result}"
        );
        client.notify("initialized", json!({}));
        // The option set is loaded before the first diagnostics that use it.
        let loaded = client.wait_for(|m| {
            m["method"] == "window/logMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|s| s.contains("options"))
        });
        client.options_summary = loaded["params"]["message"].as_str().unwrap().into();
        client
    }

    pub fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn send_raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    #[track_caller]
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
    }

    #[track_caller]
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// Wait for a message; answer the server's own requests on the way.
    #[track_caller]
    pub fn wait_for(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&matches) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(message) => {
                    if message.get("method").is_some() && message.get("id").is_some() {
                        // window/workDoneProgress/create and the like.
                        let id = message["id"].clone();
                        self.send(json!({ "jsonrpc": "2.0", "id": id, "result": null }));
                    }
                    if matches(&message) {
                        return message;
                    }
                    self.backlog.push(message);
                }
                Err(RecvTimeoutError::Timeout) => panic!("timed out; seen: {:#?}", self.backlog),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("server exited; seen: {:#?}", self.backlog)
                }
            }
        }
    }

    #[track_caller]
    pub fn diagnostics_for(&mut self, path: &Path, version: i64) -> Vec<Value> {
        let uri = uri(path);
        let message = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    pub fn open(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": "nix", "version": 1, "text": text } }),
        );
    }

    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.wait_for_exit();
    }

    pub fn wait_for_exit(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            assert!(start.elapsed() < TIMEOUT, "server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

pub fn fixture_options() -> Value {
    let f = fixtures();
    json!({ "micros": { "source": f.join("micros"), "nixpkgs": f.join("nixpkgs") } })
}

pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}
