//! Faults the real `micros-lsp` survives, each over stdio: a client that
//! goes away mid-request, requests for documents never opened, a document
//! closed while its diagnostics are computed, versions that go backwards,
//! and a document over the size limit `micros check` and `micros options`
//! share.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

mod client;
#[allow(dead_code)] // The Nix check is for other tests.
mod common;
use client::*;

/// How long a server that lost its client may take to exit.
const EXIT_WITHIN: Duration = Duration::from_secs(20);

/// Exits without `shutdown` are failures, as the protocol says; what
/// matters is that the process ends.
fn assert_exits_without_shutdown(client: &mut Client) {
    let status = client
        .lsp
        .wait_for_exit(EXIT_WITHIN)
        .expect("the server did not exit after its input closed");
    assert_eq!(status.code(), Some(1), "{status}");
}

#[test]
fn a_client_that_closes_stdin_inside_a_frame_ends_the_session() {
    let root = scratch("faults-cut-frame");
    let mut client = Client::start(&root, fixture_options());
    let body = json!({ "jsonrpc": "2.0", "id": 99, "method": "textDocument/hover",
        "params": { "textDocument": { "uri": uri(&root.join("a.nix")) },
                    "position": { "line": 0, "character": 0 } } })
    .to_string();
    let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
    assert!(client.lsp.send_bytes(&frame.as_bytes()[..frame.len() / 2]));
    client.lsp.close_stdin();
    assert_exits_without_shutdown(&mut client);
}

#[test]
fn a_client_that_closes_stdin_while_a_request_runs_ends_the_session() {
    let root = scratch("faults-closed-during-request");
    let mut client = Client::start(&root, fixture_options());
    let config = root.join("configuration.nix");
    let text = micros_options::bench_support::configuration(20_000);
    client.open(&config, &text);
    // Requests in flight, the document's diagnostics still being computed.
    for method in ["textDocument/hover", "textDocument/completion"] {
        client.lsp.send_request(
            method,
            json!({ "textDocument": { "uri": uri(&config) },
                    "position": { "line": 10_000, "character": 5 } }),
        );
    }
    client.lsp.close_stdin();
    assert_exits_without_shutdown(&mut client);
}

#[test]
fn requests_for_documents_never_opened_are_answered_with_nothing() {
    let root = scratch("faults-never-opened");
    let mut client = Client::start(&root, fixture_options());
    let on_disk = root.join("on-disk.nix");
    std::fs::write(&on_disk, "{ services.getty.enable = true; }").unwrap();
    let position = json!({ "line": 0, "character": 12 });
    let range =
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 5 } });
    for document in [
        uri(&on_disk),
        uri(&root.join("missing.nix")),
        "untitled:Untitled-1".to_string(),
    ] {
        let document = json!({ "uri": document });
        let at = json!({ "textDocument": document, "position": position });
        for (method, params) in [
            ("textDocument/hover", at.clone()),
            ("textDocument/completion", at.clone()),
            ("textDocument/definition", at.clone()),
            (
                "textDocument/documentSymbol",
                json!({ "textDocument": document }),
            ),
            (
                "textDocument/codeAction",
                json!({ "textDocument": document, "range": range, "context": { "diagnostics": [] } }),
            ),
            (
                "textDocument/formatting",
                json!({ "textDocument": document, "options": { "tabSize": 2, "insertSpaces": true } }),
            ),
            (
                "textDocument/semanticTokens/full",
                json!({ "textDocument": document }),
            ),
            (
                "textDocument/foldingRange",
                json!({ "textDocument": document }),
            ),
            (
                "textDocument/selectionRange",
                json!({ "textDocument": document, "positions": [position] }),
            ),
        ] {
            let response = client.request_raw(method, params);
            assert!(response.get("error").is_none(), "{method}: {response}");
            assert_eq!(response["result"], Value::Null, "{method}: {response}");
        }
        // Edits and closes of what was never opened change nothing.
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": document["uri"], "version": 2 },
                    "contentChanges": [{ "text": "{ x = ; }" }] }),
        );
        client.notify("textDocument/didClose", json!({ "textDocument": document }));
    }
    // Still serving.
    let config = root.join("configuration.nix");
    client.open(&config, "{ services.gety.enable = true; }");
    assert_eq!(
        codes(&client.diagnostics_for(&config, 1)),
        ["unknown-option"]
    );
    client.shutdown();
}

#[test]
fn a_document_closed_while_its_diagnostics_are_computed_stays_clear() {
    let root = scratch("faults-closed-while-diagnosed");
    let mut client = Client::start(&root, fixture_options());
    let config = root.join("configuration.nix");
    // Long enough that the close arrives while the diagnostics are computed;
    // one mistake, so that a stale publication would show.
    let text = micros_options::bench_support::configuration(20_000).replacen(
        "uid = 1000;",
        "uid = \"x\";",
        1,
    );
    let document = json!({ "uri": uri(&config), "languageId": "nix", "version": 1, "text": text });
    client.notify("textDocument/didOpen", json!({ "textDocument": document }));
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri(&config) } }),
    );
    let publishes_for_config = |m: &Value| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri(&config)
    };
    let cleared = client.wait_for(publishes_for_config);
    assert_eq!(cleared["params"]["diagnostics"], json!([]), "{cleared}");
    // The same text in another document: once its diagnostics are there,
    // the computation for the closed one (started earlier, as long) is over.
    let twin = root.join("twin.nix");
    let mut other = document.clone();
    other["uri"] = json!(uri(&twin));
    client.notify("textDocument/didOpen", json!({ "textDocument": other }));
    assert_eq!(codes(&client.diagnostics_for(&twin, 1)), ["type-mismatch"]);
    std::thread::sleep(Duration::from_millis(500));
    let stale: Vec<&Value> = client
        .backlog()
        .into_iter()
        .filter(|m| publishes_for_config(m))
        .collect();
    assert!(
        stale.is_empty(),
        "diagnostics of the closed document were published after it closed: {stale:#?}"
    );
    // Nothing more arrives for it.
    let later = client.next_message(Duration::from_millis(500));
    assert!(
        later.as_ref().is_none_or(|m| !publishes_for_config(m)),
        "{later:?}"
    );
    client.shutdown();
}

#[test]
fn a_change_with_a_lower_version_is_applied_and_published_with_it() {
    let root = scratch("faults-lower-version");
    let mut client = Client::start(&root, fixture_options());
    let config = root.join("configuration.nix");
    let document = json!({ "uri": uri(&config), "languageId": "nix", "version": 10,
                           "text": "{ services.getty.enable = true; }" });
    client.notify("textDocument/didOpen", json!({ "textDocument": document }));
    assert!(client.diagnostics_for(&config, 10).is_empty());
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 3 },
                "contentChanges": [{ "text": "{ services.getty.enable = 1; }" }] }),
    );
    assert_eq!(
        codes(&client.diagnostics_for(&config, 3)),
        ["type-mismatch"]
    );
    // Incremental, lower again: applied to the text the client sent last.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 2 },
                "contentChanges": [{ "range": { "start": { "line": 0, "character": 26 },
                                                "end": { "line": 0, "character": 27 } },
                                     "text": "false" }] }),
    );
    assert!(client.diagnostics_for(&config, 2).is_empty());
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 0, "character": 12 } }),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("services.getty"),
        "{hover}"
    );
    client.shutdown();
}

/// One limit, named the same way, for the editor, `micros check` and
/// `micros options`; a 100 MB document gets one diagnostic and the server
/// goes on answering.
#[test]
fn one_size_limit_for_the_editor_check_and_options() {
    let root = scratch("faults-size-limit");
    let limit = format!(
        "more than the {} MiB a Nix module may have",
        micros_options::eval::MAX_FILE_BYTES / (1024 * 1024)
    );
    let mut huge = String::from("{\n");
    let line = "  users.someone.uid = 1000; # a line of a document far too large\n";
    while huge.len() < 100 * 1000 * 1000 {
        huge.push_str(line);
    }
    huge.push_str("}\n");

    let mut client = Client::start(&root, fixture_options());
    let big = root.join("big.nix");
    client.open(&big, &huge);
    let diagnostics = client.diagnostics_for(&big, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let message = diagnostics[0]["message"].as_str().unwrap();
    assert!(message.contains(&limit), "{message}");
    // Requests on it, and work on another document, are answered.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&big) }, "position": { "line": 1, "character": 4 } }),
    );
    assert_eq!(hover, Value::Null);
    let small = root.join("small.nix");
    client.open(&small, "{ services.gety.enable = true; }");
    assert_eq!(
        codes(&client.diagnostics_for(&small, 1)),
        ["unknown-option"]
    );
    client.shutdown();

    // The same file on disk, for the command line.
    let fixtures = common::fixtures();
    let on_disk = root.join("configuration.nix");
    std::fs::write(&on_disk, &huge[..9 * 1024 * 1024]).unwrap();
    let micros = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_micros"))
            .args(args)
            .arg("--micros")
            .arg(fixtures.join("micros"))
            .arg("--nixpkgs")
            .arg(fixtures.join("nixpkgs"))
            .arg(&on_disk)
            .env_remove("MICROS_SRC")
            .env_remove("MICROS_NIXPKGS")
            .output()
            .expect("run micros");
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    };
    let check = micros(&["check"]);
    assert!(check.contains(&limit), "{check}");
    let options = micros(&["options", "--format", "list"]);
    assert!(options.contains(&limit), "{options}");
}
