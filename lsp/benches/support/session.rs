//! A server over stdio as the benches drive it: started, initialized,
//! one document opened; requests timed from sending to the answer.

// Each bench uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "../../tests/client/process.rs"]
mod process;
pub use process::LspProcess;

pub const TIMEOUT: Duration = Duration::from_secs(120);

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A server's command, the option sources only from the settings given.
pub fn server_command(program: PathBuf) -> Command {
    let mut command = Command::new(program);
    command
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS");
    command
}

/// Line and column of the first `needle` in ASCII text, `skip` bytes in.
pub fn position(text: &str, needle: &str, skip: usize) -> Value {
    let offset = text.find(needle).expect("the needle is in the module") + skip;
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let character = offset - before.rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": character })
}

pub struct Session {
    pub lsp: LspProcess,
    pub uri: String,
    /// The last diagnostics published for the open document while it
    /// started (the first, and those once the options are loaded).
    pub diagnostics: Value,
}

impl Session {
    pub fn start(
        command: Command,
        root: &Path,
        open: &Path,
        text: &str,
        options: &Value,
    ) -> Session {
        let mut lsp = LspProcess::spawn(command).expect("start the server");
        let id = lsp.send_request(
            "initialize",
            json!({ "processId": std::process::id(), "rootUri": uri(root),
                    "capabilities": { "textDocument": { "rename": { "prepareSupport": true } } },
                    "initializationOptions": options }),
        );
        lsp.response(id, TIMEOUT).expect("initialize answered");
        lsp.notify("initialized", json!({}));
        lsp.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(open), "languageId": "nix", "version": 1, "text": text } }),
        );
        let open_uri = uri(open);
        let is_published = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == open_uri
        };
        let mut diagnostics = lsp
            .wait_for(is_published, TIMEOUT)
            .map_or(Value::Null, |(_, m)| m["params"]["diagnostics"].clone());
        // The option set loads in the background: let it.
        let _ = lsp.wait_for(|_| false, Duration::from_secs(2));
        if let Some((_, m)) = lsp.backlog.iter().rev().find(|(_, m)| is_published(m)) {
            diagnostics = m["params"]["diagnostics"].clone();
        }
        lsp.backlog.clear();
        Session {
            lsp,
            uri: open_uri,
            diagnostics,
        }
    }

    /// The time to the answer, and the answer.
    pub fn ask(&mut self, method: &str, params: Value) -> (Duration, Value) {
        let sent = Instant::now();
        let id = self.lsp.send_request(method, params);
        let (arrived, response) = self.lsp.response(id, TIMEOUT).expect("an answer");
        (arrived - sent, response)
    }

    pub fn at(&self, position: &Value) -> Value {
        json!({ "textDocument": { "uri": self.uri }, "position": position })
    }

    pub fn stop(mut self) {
        let id = self.lsp.send_request("shutdown", Value::Null);
        let _ = self.lsp.response(id, TIMEOUT);
        self.lsp.notify("exit", Value::Null);
        let _ = self.lsp.wait_for_exit(Duration::from_secs(10));
    }
}
