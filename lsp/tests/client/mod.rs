//! A JSON-RPC client of the real `micros-lsp` binary over stdio, for the
//! end-to-end tests.

// Each test binary that includes this uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::fixtures;

pub mod process;
pub use process::{LspProcess, WaitError};

// Generous: it only detects a server that never answers, and the 10 MB file
// takes a debug build many seconds on a loaded two-core machine.
pub const TIMEOUT: Duration = Duration::from_secs(120);

pub struct Client {
    pub lsp: LspProcess,
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
            .env_remove("MICROS_NIXPKGS")
            // Scratch directories sit in this repository's ignored target/:
            // git is not to find it from there.
            .env("GIT_CEILING_DIRECTORIES", env!("CARGO_TARGET_TMPDIR"));
        configure(&mut command);
        Client {
            lsp: LspProcess::spawn(command).expect("start micros-lsp"),
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
        assert!(self.lsp.send(&message), "the server stopped reading");
    }

    pub fn send_raw(&mut self, body: &str) {
        assert!(self.lsp.send_raw(body), "the server stopped reading");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    #[track_caller]
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.lsp.send_request(method, params);
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
        match self.lsp.wait_for(matches, TIMEOUT) {
            Ok((_, message)) => message,
            Err(WaitError::Timeout) => panic!("timed out; seen: {:#?}", self.backlog()),
            Err(WaitError::Exited) => panic!("server exited; seen: {:#?}", self.backlog()),
        }
    }

    /// The next message, whatever it is (the server's requests unanswered).
    pub fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        if !self.lsp.backlog.is_empty() {
            return Some(self.lsp.backlog.remove(0).1);
        }
        self.lsp.messages.recv_timeout(timeout).ok().map(|(_, m)| m)
    }

    /// The diagnostics of the first publication for `path` whose codes
    /// `done` accepts. Publications in between are skipped: the server
    /// publishes again when git's answer or a watched file arrives.
    #[track_caller]
    pub fn diagnostics_until(
        &mut self,
        path: &Path,
        done: impl Fn(&[String]) -> bool,
    ) -> Vec<Value> {
        let uri = uri(path);
        let mut seen = Vec::new();
        for _ in 0..20 {
            let message = self.wait_for(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            });
            let diagnostics = message["params"]["diagnostics"].as_array().unwrap().clone();
            if done(&codes(&diagnostics)) {
                return diagnostics;
            }
            seen.push(codes(&diagnostics));
        }
        panic!("never got there; saw {seen:?}");
    }

    /// Messages seen while waiting for others.
    pub fn backlog(&self) -> Vec<&Value> {
        self.lsp.backlog.iter().map(|(_, m)| m).collect()
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

    #[track_caller]
    pub fn wait_for_exit(&mut self) {
        let status = self
            .lsp
            .wait_for_exit(TIMEOUT)
            .expect("server did not exit");
        assert!(status.success(), "{status}");
    }
}

pub fn fixture_options() -> Value {
    let f = fixtures();
    json!({ "micros": { "source": f.join("micros"), "nixpkgs": f.join("nixpkgs") } })
}

/// The labels of a completion answer (a list of items), in order.
pub fn labels(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

pub fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}
