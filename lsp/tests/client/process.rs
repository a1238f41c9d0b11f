//! A language server in a child process, spoken to over stdio as an editor
//! does: Content-Length frames, a reader thread that stamps each message
//! with the instant it arrived, and the server's own requests answered.
//! Shared by the end-to-end tests (through `Client`) and the editor
//! benchmark.

// Each user (tests, benchmark) takes the part it needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct LspProcess {
    pub child: Child,
    stdin: Option<ChildStdin>,
    /// Each message from the server, with the instant its frame was read.
    pub messages: Receiver<(Instant, Value)>,
    next_id: i64,
    /// Messages seen while waiting for something else.
    pub backlog: Vec<(Instant, Value)>,
}

/// Why waiting for a message ended without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitError {
    Timeout,
    /// The server closed its output (it exited).
    Exited,
}

impl LspProcess {
    /// Start `command` with piped stdin and stdout (stderr is dropped).
    pub fn spawn(mut command: Command) -> std::io::Result<LspProcess> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(body) = read_frame(&mut reader) {
                let arrived = Instant::now();
                let Ok(value) = serde_json::from_slice::<Value>(&body) else {
                    panic!("the server sent a frame that is not JSON");
                };
                if tx.send((arrived, value)).is_err() {
                    return;
                }
            }
        });
        Ok(LspProcess {
            child,
            stdin,
            messages,
            next_id: 0,
            backlog: Vec::new(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Write one frame; false once the server no longer reads.
    pub fn send_raw(&mut self, body: &str) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).is_ok()
            && stdin.flush().is_ok()
    }

    /// Write raw bytes (for tests that cut a frame short).
    pub fn send_bytes(&mut self, bytes: &[u8]) -> bool {
        let Some(stdin) = self.stdin.as_mut() else {
            return false;
        };
        stdin.write_all(bytes).is_ok() && stdin.flush().is_ok()
    }

    /// Close the server's stdin, as a client that goes away does.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    pub fn send(&mut self, message: &Value) -> bool {
        self.send_raw(&message.to_string())
    }

    pub fn notify(&mut self, method: &str, params: Value) -> bool {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }))
    }

    /// Send a request; its id, to wait for with [`LspProcess::response`].
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        id
    }

    /// The response to request `id`, and when it arrived.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Result<(Instant, Value), WaitError> {
        self.wait_for(|m| m["id"] == id && m.get("method").is_none(), timeout)
    }

    /// Wait for a message that `matches`, answering the server's requests
    /// on the way (`workspace/configuration` with one null per item, the
    /// rest with null) and keeping the others in the backlog.
    pub fn wait_for(
        &mut self,
        matches: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Result<(Instant, Value), WaitError> {
        if let Some(i) = self.backlog.iter().position(|(_, m)| matches(m)) {
            return Ok(self.backlog.remove(i));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok((arrived, message)) => {
                    if message.get("method").is_some() && message.get("id").is_some() {
                        self.answer(&message);
                    }
                    if matches(&message) {
                        return Ok((arrived, message));
                    }
                    self.backlog.push((arrived, message));
                }
                Err(RecvTimeoutError::Timeout) => return Err(WaitError::Timeout),
                Err(RecvTimeoutError::Disconnected) => return Err(WaitError::Exited),
            }
        }
    }

    fn answer(&mut self, request: &Value) {
        let result = if request["method"] == "workspace/configuration" {
            let items = request["params"]["items"].as_array().map_or(0, Vec::len);
            Value::Array(vec![Value::Null; items])
        } else {
            Value::Null
        };
        self.send(&json!({ "jsonrpc": "2.0", "id": request["id"].clone(), "result": result }));
    }

    /// Wait for the process to end; its exit status, or `None` after
    /// `timeout` (the process is then left running).
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if start.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmHWM`, `VmRSS`).
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for LspProcess {
    fn drop(&mut self) {
        // A test that failed half-way must not leave the server running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The body of the next frame, or `None` at the end of the stream.
fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}
