//! The client's messages in and the server's out, around tower-lsp-server's
//! service (its own `Server` is not used).
//!
//! The library's framed reader ends the session at the first message it
//! cannot decode, so frames are cut and parsed here: a malformed message
//! gets a JSON-RPC error response and goes no further, garbage between
//! messages is skipped. Each frame is parsed once, on the thread that read
//! it, and handed to the service's task, which writes every answer as one
//! frame in one write. Before, each message went through two in-memory
//! pipes and was parsed twice, and a request crossed six threads on its
//! way (tokio's stdin and stdout run each read and write on its blocking
//! pool); now a message crosses from the reading thread to the service's
//! and its answer is written from there.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::pin::Pin;

use futures::SinkExt;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower::Service;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::{ClientSocket, LspService};

use super::Backend;

/// Refuse frames larger than this (a client bug or an attack).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Requests handled at once; past this the client's next message waits.
/// Most answer at once on the service's task; the rest wait for the
/// blocking pool, and a `$/cancelRequest` must still get through to them.
const MAX_IN_FLIGHT: usize = 32;

/// A message from the client, parsed.
pub(super) enum Incoming {
    Request(Request),
    /// The client's answer to a request of ours.
    Response(Response),
    /// Not a message the service can take: the error response to send.
    Malformed(Value),
}

pub(super) type Inbox = mpsc::UnboundedReceiver<Incoming>;
pub(super) type InboxSender = mpsc::UnboundedSender<Incoming>;

/// Bytes from the client, cut into frames.
#[derive(Default)]
struct Frames {
    buffer: Vec<u8>,
}

enum Frame {
    Body(Vec<u8>),
    /// A header block without a usable Content-Length.
    BadHeader,
}

impl Frames {
    /// Take `bytes` read from the client and send on every whole message
    /// they complete; false once nobody receives them.
    fn take(&mut self, bytes: &[u8], to_server: &InboxSender) -> bool {
        self.buffer.extend_from_slice(bytes);
        while let Some(frame) = self.next() {
            let message = match frame {
                Frame::Body(body) => parse(&body),
                Frame::BadHeader => Incoming::Malformed(error(Value::Null, -32700, "Parse error")),
            };
            if to_server.send(message).is_err() {
                return false;
            }
        }
        true
    }

    /// The next whole frame of what has been read, if there is one.
    fn next(&mut self) -> Option<Frame> {
        let Some(end) = find(&self.buffer, b"\r\n\r\n") else {
            if self.buffer.len() > 64 * 1024 {
                // Header garbage without an end: drop what cannot start a frame.
                let keep = find(&self.buffer, b"Content-Length").unwrap_or(self.buffer.len());
                self.buffer.drain(..keep);
            }
            return None;
        };
        let header = String::from_utf8_lossy(&self.buffer[..end]);
        let length = header.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        });
        let Some(length) = length.filter(|l| *l <= MAX_MESSAGE_BYTES) else {
            // Skip to the next frame that looks like one.
            let skip = find(&self.buffer[end + 4..], b"Content-Length")
                .map_or(self.buffer.len(), |i| end + 4 + i);
            self.buffer.drain(..skip);
            return Some(Frame::BadHeader);
        };
        let start = end + 4;
        if self.buffer.len() < start + length {
            return None;
        }
        let rest = self.buffer.split_off(start + length);
        let mut body = std::mem::replace(&mut self.buffer, rest);
        body.drain(..start);
        Some(Frame::Body(body))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A body as the service takes it, or the error to answer it with. Parsed
/// straight into the library's types, once: a message can be a 100 MB
/// document.
fn parse(body: &[u8]) -> Incoming {
    if let Ok(request) = serde_json::from_slice::<Request>(body) {
        // Every field of a request but `jsonrpc` has a default, so a
        // response reads as a request without a method too.
        if request.method().is_empty()
            && let Ok(response) = serde_json::from_slice::<Response>(body)
        {
            return Incoming::Response(response);
        }
        return Incoming::Request(request);
    }
    if let Ok(response) = serde_json::from_slice::<Response>(body) {
        return Incoming::Response(response);
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => return Incoming::Malformed(error(Value::Null, -32700, "Parse error")),
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned()
        .unwrap_or(Value::Null);
    Incoming::Malformed(error(id, -32600, "Invalid request"))
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id })
}

/// Read the client's messages from a blocking `input` (stdin, on a thread
/// of its own) until it ends.
pub(super) fn read_blocking(mut input: impl Read, to_server: InboxSender) {
    let mut frames = Frames::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match input.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) if !frames.take(&chunk[..n], &to_server) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Read the client's messages from an async `input` until it ends.
pub(super) async fn read_async(mut input: impl AsyncRead + Unpin, to_server: InboxSender) {
    let mut frames = Frames::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) if !frames.take(&chunk[..n], &to_server) => return,
            Ok(_) => {}
        }
    }
}

/// Where the server's messages go.
pub(super) enum Output {
    /// Written as it is, one `write` a frame. A write blocks only while
    /// the client leaves its input full, and the client's messages are
    /// read on their own thread meanwhile, so neither side can wait on the
    /// other for ever.
    Blocking(std::fs::File),
    Async(Pin<Box<dyn AsyncWrite + Send>>),
}

impl Output {
    /// Send one message; false once the client is gone.
    async fn send(&mut self, message: &impl Serialize) -> bool {
        let Ok(body) = serde_json::to_vec(message) else {
            return true;
        };
        let mut frame = Vec::with_capacity(body.len() + 32);
        let _ = write!(frame, "Content-Length: {}\r\n\r\n", body.len());
        frame.extend_from_slice(&body);
        match self {
            Output::Blocking(file) => file.write_all(&frame).is_ok(),
            Output::Async(out) => out.write_all(&frame).await.is_ok() && out.flush().await.is_ok(),
        }
    }
}

/// Serve the client's messages from `inbox` until it ends or the client
/// says `exit`, then finish what is in flight.
///
/// Each request's handler is first run before the next message is taken,
/// so a request sees every change sent before it and none sent after.
pub(super) async fn dispatch(
    mut service: LspService<Backend>,
    socket: ClientSocket,
    mut inbox: Inbox,
    mut output: Output,
) {
    let (mut to_client, mut from_client) = socket.split();
    let mut in_flight = FuturesUnordered::new();
    let mut taking = true;
    while taking || !in_flight.is_empty() {
        tokio::select! {
            biased;
            Some(done) = in_flight.next(), if !in_flight.is_empty() => {
                if let Ok(Some(response)) = done
                    && !output.send(&response).await
                {
                    return;
                }
            }
            // Also while the last requests finish: one may wait on the client.
            Some(request) = to_client.next() => {
                if !output.send(&request).await {
                    return;
                }
            }
            message = next(&mut service, &mut inbox), if taking && in_flight.len() < MAX_IN_FLIGHT => {
                match message {
                    None => taking = false,
                    Some(Incoming::Request(request)) => {
                        // The protocol says the server exits now; a client
                        // need not close its end.
                        taking = request.method() != "exit";
                        in_flight.push(service.call(request));
                    }
                    Some(Incoming::Response(response)) => {
                        let _ = from_client.send(response).await;
                    }
                    Some(Incoming::Malformed(answer)) => {
                        if !output.send(&answer).await {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// The client's next message once the service takes one (it takes none
/// while `initialize` runs); `None` at the end of input or once exited.
async fn next(service: &mut LspService<Backend>, inbox: &mut Inbox) -> Option<Incoming> {
    poll_fn(|cx| service.poll_ready(cx)).await.ok()?;
    inbox.recv().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn error_code(message: &Incoming) -> Option<i64> {
        match message {
            Incoming::Malformed(answer) => answer["error"]["code"].as_i64(),
            _ => None,
        }
    }

    #[test]
    fn malformed_messages_get_errors() {
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
            Incoming::Request(r) if r.method() == "shutdown"
        ));
        assert!(matches!(
            parse(br#"{"jsonrpc":"2.0","id":1,"result":null}"#),
            Incoming::Response(_)
        ));
        assert_eq!(error_code(&parse(b"{ nope")), Some(-32700));
        let Incoming::Malformed(invalid) = parse(br#"{"id":7,"foo":1}"#) else {
            panic!("not answered as invalid");
        };
        assert_eq!(invalid["error"]["code"], -32600);
        assert_eq!(invalid["id"], 7);
    }

    #[test]
    fn frames_are_cut_wherever_the_reads_end_and_garbage_is_answered() {
        let good = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let mut bytes = b"garbage\r\n\r\n".to_vec();
        bytes.extend(frame(b"{ nope"));
        bytes.extend(frame(good));
        bytes.extend(frame(good));
        // Every way of splitting the stream into two reads.
        for cut in 0..=bytes.len() {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut frames = Frames::default();
            assert!(frames.take(&bytes[..cut], &tx));
            assert!(frames.take(&bytes[cut..], &tx));
            drop(tx);
            let mut seen = Vec::new();
            while let Ok(message) = rx.try_recv() {
                seen.push(match message {
                    Incoming::Request(r) => r.method().to_string(),
                    other => format!("{:?}", error_code(&other)),
                });
            }
            assert_eq!(
                seen,
                ["Some(-32700)", "Some(-32700)", "shutdown", "shutdown"],
                "cut at {cut}"
            );
        }
    }
}
