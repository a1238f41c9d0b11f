//! The real `micros-lsp` binary, spoken to over stdio with JSON-RPC.

use serde_json::{Value, json};

mod client;
mod common;
use client::*;
use common::fixtures;

const CONFIG: &str = r#"{ pkgs, ... }: {
  services.gety.enable = true;
  services.sshd.maxAuthTries = 300;
  micros.services.web = { type = "forever"; };
  networking.firewall.enable = true;
}
"#;

#[test]
fn a_session_from_initialize_to_shutdown() {
    let root = scratch("e2e-session");
    let config = root.join("configuration.nix");
    std::fs::write(&config, CONFIG).unwrap();
    let mut client = Client::start(&root, fixture_options());
    // Extraction was reported as work-done progress, begun and ended.
    let end =
        client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    assert!(
        end["params"]["value"]["message"]
            .as_str()
            .unwrap()
            .contains("options"),
        "{end}"
    );
    assert!(
        client
            .backlog()
            .iter()
            .any(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin")
    );

    client.open(&config, CONFIG);
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(
        codes(&diagnostics),
        ["unknown-option", "type-mismatch", "type-mismatch"],
        "{diagnostics:#?}"
    );
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 1, "character": 11 })
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `services.getty`?")
    );

    // Completion after `networking.` on the fifth line.
    let items = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 4, "character": 13 } }),
    );
    let labels = labels(&items);
    assert!(labels.contains(&"firewall"), "{labels:?}");

    // Hover on `maxAuthTries`.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 2, "character": 20 } }),
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains("services.sshd.maxAuthTries"),
        "{markdown}"
    );
    assert!(markdown.contains("8 bit unsigned integer"), "{markdown}");

    // Go to the declaration of `maxAuthTries`.
    let locations = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 2, "character": 20 } }),
    );
    let location = &locations[0];
    assert!(
        location["uri"]
            .as_str()
            .unwrap()
            .ends_with("micros/modules/services/sshd.nix"),
        "{location}"
    );
    let declared =
        std::fs::read_to_string(fixtures().join("micros/micros/modules/services/sshd.nix"))
            .unwrap();
    let line = location["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(
        declared.lines().nth(line).unwrap().contains("maxAuthTries"),
        "line {line}"
    );

    // Symbols, and the quick fix for the unknown option.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri(&config) } }),
    );
    assert!(
        symbols
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "services")
    );
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&config) },
                "range": { "start": { "line": 1, "character": 11 }, "end": { "line": 1, "character": 15 } },
                "context": { "diagnostics": [] } }),
    );
    let edit = &actions[0]["edit"]["changes"][uri(&config)][0];
    assert_eq!(edit["newText"], "getty");

    // Fix everything with incremental edits.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 2 },
                "contentChanges": [
                    { "range": { "start": { "line": 3, "character": 34 }, "end": { "line": 3, "character": 41 } }, "text": "oneshot" },
                    { "range": { "start": { "line": 2, "character": 31 }, "end": { "line": 2, "character": 34 } }, "text": "3" },
                    { "range": { "start": { "line": 1, "character": 11 }, "end": { "line": 1, "character": 15 } }, "text": "getty" }
                ] }),
    );
    let diagnostics = client.diagnostics_for(&config, 2);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    client.shutdown();
}

#[test]
fn the_server_survives_what_clients_and_files_send() {
    let root = scratch("e2e-robust");
    let mut client = Client::start(&root, fixture_options());

    // Malformed JSON-RPC and unknown methods.
    client.send_raw("{ this is not json");
    client.send_raw(
        r#"{"jsonrpc":"2.0","id":"x","method":"textDocument/hover","params":{"bogus":true}}"#,
    );
    let unknown = client.request_raw("micros/notAMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    // Positions past the end of a line and of the file.
    let small = root.join("small.nix");
    client.open(&small, "{ services.getty.enable = true; }");
    client.diagnostics_for(&small, 1);
    for (line, character) in [(0, 999), (99, 0), (u32::MAX as i64, u32::MAX as i64)] {
        let position = json!({ "line": line, "character": character });
        let params = json!({ "textDocument": { "uri": uri(&small) }, "position": position });
        client.request("textDocument/completion", params.clone());
        client.request("textDocument/hover", params.clone());
        client.request("textDocument/definition", params);
    }

    // A 7 MB file (under the size limit e2e_faults tests), and 10,000
    // levels of nesting.
    let big = root.join("big.nix");
    // Lowering is bounded, so what is checked in a huge file is its start.
    let mut text = String::from("{\n  users.first.uid = \"oops\";\n");
    let mut i = 0;
    while text.len() < 7 * 1024 * 1024 {
        text.push_str(&format!("  users.u{i}.uid = 1000;\n"));
        i += 1;
    }
    text.push_str("}\n");
    client.open(&big, &text);
    let diagnostics = client.diagnostics_for(&big, 1);
    assert_eq!(
        codes(&diagnostics).first().map(String::as_str),
        Some("type-mismatch")
    );
    assert_eq!(diagnostics.len(), 1, "{} diagnostics", diagnostics.len());
    let deep = root.join("deep.nix");
    let nested = format!("{{ x = {}1{}; }}", "[ ".repeat(10_000), " ]".repeat(10_000));
    client.open(&deep, &nested);
    client.diagnostics_for(&deep, 1);
    let sets = format!("{}{}", "{ a = ".repeat(10_000), "1; }".repeat(10_000));
    let deeper = root.join("deeper.nix");
    client.open(&deeper, &sets);
    client.diagnostics_for(&deeper, 1);

    // Rapid edits: only the last one counts.
    for version in 2..=200 {
        let value = if version % 2 == 0 { "1" } else { "true" };
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(&small), "version": version },
                    "contentChanges": [{ "text": format!("{{ services.getty.enable = {value}; }}") }] }),
        );
    }
    let last = client.diagnostics_for(&small, 200);
    assert_eq!(codes(&last), ["type-mismatch"]);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&small) }, "position": { "line": 0, "character": 12 } }),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("services.getty")
    );
    client.shutdown();
}

#[test]
fn missing_sources_are_said_once_and_do_not_flood() {
    let root = scratch("e2e-missing");
    let mut client = Client::start(&root, json!({}));
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(
        message["params"]["message"]
            .as_str()
            .unwrap()
            .contains("micros.source"),
        "{message}"
    );
    let config = root.join("configuration.nix");
    client.open(
        &config,
        "{ services.whatever.enable = true; x = undefinedName; }",
    );
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(codes(&diagnostics), ["undefined-variable"]);
    client.shutdown();
}

/// A client that never answers the server's requests (here the progress
/// request) and stops reading after `shutdown` still ends the session.
#[test]
fn exit_does_not_wait_for_unanswered_requests() {
    let root = scratch("e2e-exit");
    let mut client = Client::spawn();
    let id = json!(1);
    client.send(json!({ "jsonrpc": "2.0", "id": id, "method": "initialize",
        "params": { "processId": null, "rootUri": uri(&root),
                    "capabilities": { "window": { "workDoneProgress": true } },
                    "initializationOptions": fixture_options() } }));
    let first = client.next_message(TIMEOUT).expect("initialize answered");
    assert_eq!(first["id"], 1, "{first}");
    client.notify("initialized", json!({}));
    client.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    let answered = (0..10).any(|_| {
        client
            .next_message(TIMEOUT)
            .is_some_and(|m| m["id"] == 2 && m.get("method").is_none())
    });
    assert!(answered, "shutdown was not answered");
    client.notify("exit", Value::Null);
    client.wait_for_exit();
}

/// A source path from the editor's settings is named as the setting.
#[test]
fn a_bad_source_setting_is_named_as_the_setting() {
    let root = scratch("e2e-bad-source");
    let mut client = Client::start(
        &root,
        json!({ "micros": { "source": "/nonexistent/micros" } }),
    );
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    let text = message["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("`micros.source` is /nonexistent/micros: no such directory"),
        "{text}"
    );
    client.shutdown();
}

/// `eval = true` without Nix: one message, then the static options.
#[test]
fn the_eval_setting_falls_back_to_static_options_without_nix() {
    let root = scratch("e2e-eval-no-nix");
    let mut options = fixture_options();
    options["micros"]["eval"] = json!(true);
    let mut client = Client::start_with(&root, options, |command| {
        command.env("PATH", "/nonexistent");
    });
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    let text = message["params"]["message"].as_str().unwrap();
    assert!(
        text.contains("evaluating the options with Nix failed") && text.contains("without Nix"),
        "{text}"
    );
    let config = root.join("configuration.nix");
    client.open(&config, "{ services.gety.enable = true; }");
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(codes(&diagnostics), ["unknown-option"]);
    client.shutdown();
}

/// `eval = true` with Nix and the upstream trees: the option set comes
/// from Nix.
#[test]
fn the_eval_setting_uses_nix_when_asked() {
    let Some((micros, nixpkgs)) =
        common::upstream_trees_with_nix("the_eval_setting_uses_nix_when_asked")
    else {
        return;
    };
    let root = scratch("e2e-eval-nix");
    let cache = root.join("cache");
    let mut client = Client::start_with(
        &root,
        json!({ "micros": { "source": micros, "nixpkgs": nixpkgs, "eval": true } }),
        |command| {
            command.env("XDG_CACHE_HOME", &cache);
        },
    );
    assert!(
        client.options_summary.contains("with Nix"),
        "{}",
        client.options_summary
    );
    let config = root.join("configuration.nix");
    client.open(
        &config,
        "{ services.getty.enable = true; services.gety.enable = true; }",
    );
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(codes(&diagnostics), ["unknown-option"]);
    client.shutdown();
}

/// A file defining something in terms of itself (the module that once
/// overflowed the server's stack, and every variant of it) gets its one
/// diagnostic, and the server goes on answering hover and completion.
#[test]
fn recursion_in_a_file_is_one_diagnostic_and_the_server_answers() {
    let root = scratch("e2e-recursion");
    let mut client = Client::start(&root, fixture_options());
    let dir = fixtures().join("recursion");
    for (file, code, line, _) in common::RECURSION_VARIANTS {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        client.open(&path, &text);
        let diagnostics = client.diagnostics_for(&path, 1);
        assert_eq!(codes(&diagnostics), [*code], "{file}: {diagnostics:?}");
        assert_eq!(
            diagnostics[0]["range"]["start"]["line"],
            json!(line - 1),
            "{file}"
        );
        for (line, character) in [(*line as i64 - 1, 4), (0, 1)] {
            let params = json!({ "textDocument": { "uri": uri(&path) },
                                 "position": { "line": line, "character": character } });
            client.request("textDocument/hover", params.clone());
            client.request("textDocument/completion", params);
        }
    }
    let config = root.join("configuration.nix");
    client.open(&config, CONFIG);
    assert!(codes(&client.diagnostics_for(&config, 1)).contains(&"unknown-option".into()));
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 4, "character": 15 } }),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("networking.firewall"),
        "{hover}"
    );
    client.shutdown();
}

/// Hover and completion are answered on the task that takes the client's
/// messages, not the blocking pool; each must still see every change sent
/// before it and none after. Each text's answers are asked for alone
/// first; then a burst of changes, each followed at once by a hover and a
/// completion, none waited for: every answer is its own text's.
#[test]
fn requests_sent_right_after_changes_see_them() {
    let root = scratch("e2e-order");
    let mut client = Client::start(&root, fixture_options());
    let path = root.join("order.nix");
    let texts = [
        "{ services.getty.enable = true; }",
        "{ networking.firewall.enable = true; }",
    ];
    let params = |text: &str| {
        // Inside the last segment, `enable`.
        let character = text.find(".enable").unwrap() + 3;
        json!({ "textDocument": { "uri": uri(&path) },
                "position": { "line": 0, "character": character } })
    };
    let change = |client: &mut Client, version: i64, text: &str| {
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(&path), "version": version },
                    "contentChanges": [{ "text": text }] }),
        );
    };
    client.open(&path, texts[0]);
    client.diagnostics_for(&path, 1);
    let mut alone = Vec::new();
    for (version, text) in [(2, texts[0]), (3, texts[1])] {
        change(&mut client, version, text);
        client.diagnostics_for(&path, version);
        let hover = client.request("textDocument/hover", params(text));
        let completion = client.request("textDocument/completion", params(text));
        alone.push((hover, completion));
    }
    assert_ne!(alone[0].0, alone[1].0, "the texts' hovers differ");
    assert_ne!(alone[0].1, alone[1].1, "the texts' completions differ");
    let mut sent = Vec::new();
    for version in 4..=43 {
        let which = version as usize % 2;
        change(&mut client, version, texts[which]);
        let hover = client
            .lsp
            .send_request("textDocument/hover", params(texts[which]));
        let completion = client
            .lsp
            .send_request("textDocument/completion", params(texts[which]));
        sent.push((which, hover, completion));
    }
    for (which, hover, completion) in sent {
        let (_, answer) = client.lsp.response(hover, TIMEOUT).unwrap();
        assert_eq!(
            answer["result"], alone[which].0,
            "hover in {:?}",
            texts[which]
        );
        let (_, answer) = client.lsp.response(completion, TIMEOUT).unwrap();
        assert_eq!(
            answer["result"], alone[which].1,
            "completion in {:?}",
            texts[which]
        );
    }
    client.shutdown();
}
