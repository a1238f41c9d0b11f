//! A guard between the client and tower-lsp-server's framing.
//!
//! The library stops reading after the first message it cannot decode (its
//! framed reader ends on an error), so one malformed message would end the
//! session. Here every message is checked first: malformed ones get a
//! JSON-RPC error response and are not passed on; garbage between messages
//! is skipped. Writes are whole frames, so our responses never interleave
//! with the server's.

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Refuse frames larger than this (a client bug or an attack).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Read frames from `input`; return the body of each (or an error to
/// answer). `None` at the end of input.
struct FrameReader<R> {
    input: R,
    buffer: Vec<u8>,
    eof: bool,
}

enum Frame {
    Body(Vec<u8>),
    /// A header block without a usable Content-Length.
    BadHeader,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    async fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 64 * 1024];
        match self.input.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                self.eof = true;
                false
            }
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let header = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
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
                while self.buffer.len() < start + length {
                    if !self.fill().await {
                        return None;
                    }
                }
                let rest = self.buffer.split_off(start + length);
                let mut body = std::mem::replace(&mut self.buffer, rest);
                body.drain(..start);
                return Some(Frame::Body(body));
            }
            if self.buffer.len() > 64 * 1024
                && find(&self.buffer, b"Content-Length").is_none_or(|i| i > 0)
            {
                // Header garbage without an end: drop what cannot start a frame.
                let keep = find(&self.buffer, b"Content-Length").unwrap_or(self.buffer.len());
                self.buffer.drain(..keep);
            }
            if !self.fill().await {
                return None;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Whether the library will accept this body; if not, the error response.
/// Parsed with the library's own types, once each and without copies:
/// a message can be a 100 MB document.
fn check(body: &[u8]) -> Result<(), Value> {
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return Ok(());
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(_) => return Err(error(Value::Null, -32700, "Parse error")),
    };
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned()
        .unwrap_or(Value::Null);
    Err(error(id, -32600, "Invalid request"))
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id })
}

/// Connect the client's `input`/`output` to the server's ends, checking
/// every incoming message.
pub async fn guard<I, O, SI, SO>(input: I, mut output: O, mut to_server: SI, from_server: SO)
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin + Send + 'static,
    SI: AsyncWrite + Unpin + Send + 'static,
    SO: AsyncRead + Unpin + Send + 'static,
{
    let (errors_tx, mut errors_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let incoming = async move {
        let mut reader = FrameReader {
            input,
            buffer: Vec::new(),
            eof: false,
        };
        while let Some(next) = reader.next().await {
            match next {
                Frame::Body(body) => match check(&body) {
                    Ok(()) => {
                        if write_frame(&mut to_server, &body).await.is_err() {
                            break;
                        }
                    }
                    Err(response) => {
                        let _ = errors_tx.send(frame_bytes(response.to_string().as_bytes()));
                    }
                },
                Frame::BadHeader => {
                    let parse_error = error(Value::Null, -32700, "Parse error").to_string();
                    let _ = errors_tx.send(frame_bytes(parse_error.as_bytes()));
                }
            }
        }
        // End of input: let the server see it too.
        let _ = to_server.shutdown().await;
    };
    let outgoing = async move {
        let mut reader = FrameReader {
            input: from_server,
            buffer: Vec::new(),
            eof: false,
        };
        loop {
            tokio::select! {
                frame = reader.next() => match frame {
                    Some(Frame::Body(body)) => {
                        if write_frame(&mut output, &body).await.is_err() || output.flush().await.is_err() {
                            break;
                        }
                    }
                    Some(Frame::BadHeader) => {}
                    None => break,
                },
                Some(bytes) = errors_rx.recv() => {
                    if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    // Reading the client may block until it closes; the session ends when
    // the server stops writing.
    tokio::spawn(incoming);
    outgoing.await;
}

fn frame_bytes(body: &[u8]) -> Vec<u8> {
    frame(body)
}

/// One frame, header then body, without copying the body: each side has
/// one writer, so frames cannot interleave.
async fn write_frame(out: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> std::io::Result<()> {
    out.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await?;
    out.write_all(body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_messages_get_errors() {
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
        assert_eq!(check(b"{ nope").unwrap_err()["error"]["code"], -32700);
        let invalid = check(br#"{"id":7,"foo":1}"#).unwrap_err();
        assert_eq!(invalid["error"]["code"], -32600);
        assert_eq!(invalid["id"], 7);
    }

    #[tokio::test]
    async fn good_frames_pass_and_malformed_ones_are_answered() {
        let (mut client, client_side) = tokio::io::duplex(1 << 16);
        let (client_read, client_write) = tokio::io::split(client_side);
        let (guard_to_server, mut server_reads) = tokio::io::duplex(1 << 16);
        let (mut server_writes, server_to_guard) = tokio::io::duplex(1 << 16);
        tokio::spawn(guard(
            client_read,
            client_write,
            guard_to_server,
            server_to_guard,
        ));

        let good = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        client.write_all(b"garbage\r\n\r\n").await.unwrap();
        client.write_all(&frame(b"{ nope")).await.unwrap();
        client.write_all(&frame(good)).await.unwrap();
        let mut buffer = vec![0u8; good.len() + 64];
        let mut read = 0;
        while !buffer[..read].ends_with(b"}") {
            read += server_reads.read(&mut buffer[read..]).await.unwrap();
        }
        assert_eq!(&buffer[..read], frame(good).as_slice());

        server_writes
            .write_all(&frame(br#"{"jsonrpc":"2.0","id":1,"result":null}"#))
            .await
            .unwrap();
        let mut seen = String::new();
        while seen.matches("Content-Length").count() < 3 {
            let mut chunk = [0u8; 256];
            let n = client.read(&mut chunk).await.unwrap();
            seen.push_str(std::str::from_utf8(&chunk[..n]).unwrap());
        }
        assert_eq!(seen.matches("-32700").count(), 2, "{seen}");
        assert!(seen.contains(r#""result":null"#), "{seen}");
    }
}
