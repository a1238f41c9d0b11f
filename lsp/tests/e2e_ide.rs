//! The editing features of the real `micros-lsp` binary, over stdio: each
//! capability it advertises, asked for as a client asks.

use serde_json::{Value, json};

mod client;
// Shared with other test binaries, which use more of it.
#[allow(dead_code)]
mod common;
use client::*;

/// Decode LSP's relative semantic tokens into (line, start, length, type,
/// modifiers) with the legend's names.
fn decode_tokens(data: &Value, legend: &Value) -> Vec<(u64, u64, u64, String, Vec<String>)> {
    let data: Vec<u64> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    let types = legend["tokenTypes"].as_array().unwrap();
    let modifiers = legend["tokenModifiers"].as_array().unwrap();
    let (mut line, mut start) = (0, 0);
    data.chunks(5)
        .map(|t| {
            if t[0] > 0 {
                start = 0;
            }
            line += t[0];
            start += t[1];
            let names = (0..modifiers.len())
                .filter(|bit| t[4] & (1 << bit) != 0)
                .map(|bit| modifiers[bit].as_str().unwrap().to_string())
                .collect();
            (
                line,
                start,
                t[2],
                types[t[3] as usize].as_str().unwrap().to_string(),
                names,
            )
        })
        .collect()
}

#[test]
fn semantic_tokens_full_range_and_delta() {
    let root = scratch("e2e-semantic-tokens");
    let config = root.join("configuration.nix");
    let text = "{ lib, ... }: {\n  services.openssh.enable = lib.mkDefault true;\n  x = builtins.map;\n}\n";
    std::fs::write(&config, text).unwrap();
    // A client that knows no `property` type: option segments fall back to
    // variables, and `deprecated` is kept.
    let capabilities = json!({ "textDocument": { "semanticTokens": {
        "requests": { "full": { "delta": true }, "range": true },
        "tokenTypes": ["variable", "parameter", "function", "namespace", "keyword", "string", "operator"],
        "tokenModifiers": ["deprecated", "defaultLibrary"],
        "formats": ["relative"]
    } } });
    let mut client =
        Client::start_with_capabilities(&root, fixture_options(), capabilities, |_| {});
    let provider = client.capabilities["semanticTokensProvider"].clone();
    assert_eq!(provider["range"], true, "{provider}");
    assert_eq!(provider["full"]["delta"], true, "{provider}");
    let legend = provider["legend"].clone();
    assert!(
        !legend["tokenTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("property")),
        "{legend}"
    );
    client.open(&config, text);
    client.diagnostics_for(&config, 1);
    let full = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri(&config) } }),
    );
    let tokens = decode_tokens(&full["data"], &legend);
    let at = |line: u64, start: u64| {
        tokens
            .iter()
            .find(|t| t.0 == line && t.1 == start)
            .unwrap_or_else(|| panic!("no token at {line}:{start} in {tokens:?}"))
            .clone()
    };
    // `services` on the second line: an option segment, renamed.
    assert_eq!(at(1, 2).3, "variable");
    assert_eq!(at(1, 2).4, ["deprecated"]);
    // `mkDefault`: the library's function.
    assert_eq!(at(1, 32).3, "function");
    assert_eq!(at(1, 32).4, ["defaultLibrary"]);
    assert_eq!(at(2, 6).3, "namespace");

    // The range of the third line only.
    let range = client.request(
        "textDocument/semanticTokens/range",
        json!({ "textDocument": { "uri": uri(&config) },
                "range": { "start": { "line": 2, "character": 0 }, "end": { "line": 3, "character": 0 } } }),
    );
    let in_range = decode_tokens(&range["data"], &legend);
    assert!(!in_range.is_empty());
    assert!(in_range.iter().all(|t| t.0 == 2), "{in_range:?}");

    // An edit, then a delta against the first result.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 2 },
                "contentChanges": [{ "range": { "start": { "line": 2, "character": 6 }, "end": { "line": 2, "character": 18 } },
                                     "text": "1" }] }),
    );
    client.diagnostics_for(&config, 2);
    let delta = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": uri(&config) }, "previousResultId": full["resultId"] }),
    );
    let edits = delta["edits"].as_array().expect("a delta, not full tokens");
    assert_eq!(edits.len(), 1, "{delta}");
    // Apply it and compare with a fresh full result.
    let mut data: Vec<Value> = full["data"].as_array().unwrap().clone();
    let start = edits[0]["start"].as_u64().unwrap() as usize;
    let count = edits[0]["deleteCount"].as_u64().unwrap() as usize;
    let inserted = edits[0]["data"].as_array().cloned().unwrap_or_default();
    data.splice(start..start + count, inserted);
    let fresh = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": uri(&config) } }),
    );
    assert_eq!(Value::Array(data), fresh["data"]);
    // An unknown previous result gets whole tokens.
    let whole = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({ "textDocument": { "uri": uri(&config) }, "previousResultId": "nonsense" }),
    );
    assert_eq!(whole["data"], fresh["data"]);
    client.shutdown();
}

#[test]
fn selection_and_folding_ranges() {
    let root = scratch("e2e-selection-folding");
    let config = root.join("configuration.nix");
    let text =
        "# Two lines\n# of comment.\n{\n  services.getty.enable = true;\n  x = [\n    1\n  ];\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    assert_eq!(client.capabilities["selectionRangeProvider"], true);
    assert_eq!(client.capabilities["foldingRangeProvider"], true);
    client.open(&config, text);
    client.diagnostics_for(&config, 1);
    let selections = client.request(
        "textDocument/selectionRange",
        json!({ "textDocument": { "uri": uri(&config) }, "positions": [{ "line": 3, "character": 13 }] }),
    );
    // getty, the path, the binding, ..., the file: each inside the next.
    let mut selection = &selections[0];
    let mut widths = Vec::new();
    while selection.is_object() {
        let range = &selection["range"];
        widths.push((
            range["start"]["line"].as_u64().unwrap(),
            range["start"]["character"].as_u64().unwrap(),
            range["end"]["line"].as_u64().unwrap(),
            range["end"]["character"].as_u64().unwrap(),
        ));
        selection = &selection["parent"];
    }
    assert_eq!(widths[0], (3, 11, 3, 16), "{selections}");
    assert_eq!(widths[1], (3, 2, 3, 23), "{selections}");
    assert_eq!(widths[4], (2, 0, 7, 1), "{selections}");
    assert_eq!(widths.last().unwrap(), &(0, 0, 8, 0), "{selections}");

    let folds = client.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": uri(&config) } }),
    );
    let folds: Vec<(u64, u64, &str)> = folds
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
                f["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        folds,
        [(0, 1, "comment"), (2, 6, "region"), (4, 5, "region")]
    );
    client.shutdown();
}

/// Apply LSP text edits (given in order, not overlapping) to `text`.
fn apply_edits(text: &str, edits: &Value) -> String {
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + character
    };
    let mut out = text.to_string();
    let mut edits = edits.as_array().unwrap().clone();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    for edit in edits {
        let range = offset(&edit["range"]["start"])..offset(&edit["range"]["end"]);
        out.replace_range(range, edit["newText"].as_str().unwrap());
    }
    out
}

#[test]
fn formatting_documents_and_ranges() {
    let root = scratch("e2e-formatting");
    let config = root.join("configuration.nix");
    let text = "{lib,...}: {\nservices.getty.enable=true;\n  users.alice = {uid=1000;};\n}";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    assert_eq!(client.capabilities["documentFormattingProvider"], true);
    assert_eq!(client.capabilities["documentRangeFormattingProvider"], true);
    client.open(&config, text);
    client.diagnostics_for(&config, 1);
    let options = json!({ "tabSize": 2, "insertSpaces": true });
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&config) }, "options": options }),
    );
    assert_eq!(
        apply_edits(text, &edits),
        "{lib, ...}: {\n  services.getty.enable = true;\n  users.alice = {uid = 1000;};\n}\n"
    );
    // The third line only: the binding `users.alice`.
    let edits = client.request(
        "textDocument/rangeFormatting",
        json!({ "textDocument": { "uri": uri(&config) }, "options": options,
                "range": { "start": { "line": 2, "character": 2 }, "end": { "line": 2, "character": 28 } } }),
    );
    assert_eq!(
        apply_edits(text, &edits),
        "{lib,...}: {\nservices.getty.enable=true;\n  users.alice = {uid = 1000;};\n}"
    );

    // A syntax error: nothing changes, and the user is told why.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 2 },
                "contentChanges": [{ "text": "{\n  a = ;\n}\n" }] }),
    );
    client.diagnostics_for(&config, 2);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&config) }, "options": options }),
    );
    assert!(edits.is_null(), "{edits}");
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    let message = message["params"]["message"].as_str().unwrap();
    assert!(message.contains("line 2"), "{message}");

    // An external formatter named in the settings, on stdin and stdout.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "micros": { "formatting": { "command": ["sh", "-c", "echo '# formatted'; cat"] } } } }),
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&config), "version": 3 },
                "contentChanges": [{ "text": "{ }\n" }] }),
    );
    client.diagnostics_for(&config, 3);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri(&config) }, "options": options }),
    );
    assert_eq!(apply_edits("{ }\n", &edits), "# formatted\n{ }\n");
    client.shutdown();
}

#[test]
fn nils_other_lints_with_quick_fixes() {
    let root = scratch("e2e-lints");
    let config = root.join("configuration.nix");
    let text = "{ lib, lib, ... }:\nwith lib;\nlet in {\n  a = rec { b = 1; };\n  c = let inherit; in http://example.org;\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    client.open(&config, text);
    let diagnostics = client.diagnostics_for(&config, 1);
    let mut found = codes(&diagnostics);
    found.sort();
    assert_eq!(
        found,
        [
            "duplicate-formal",
            "empty-inherit",
            "empty-let",
            "needless-rec",
            "unused-with",
            "uri-literal"
        ],
        "{diagnostics:#?}"
    );
    // The unused `with` has a quick fix that removes its line.
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&config) },
                "range": { "start": { "line": 1, "character": 0 }, "end": { "line": 1, "character": 0 } },
                "context": { "diagnostics": [] } }),
    );
    let remove = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"] == "Remove the unused `with`")
        .unwrap_or_else(|| panic!("{actions}"));
    let edits = &remove["edit"]["changes"][uri(&config)];
    assert!(
        apply_edits(text, edits).starts_with("{ lib, lib, ... }:\nlet in {"),
        "{edits}"
    );
    client.shutdown();
}

#[test]
fn completion_of_paths_in_imports() {
    let root = scratch("e2e-path-completion");
    std::fs::create_dir_all(root.join("modules")).unwrap();
    std::fs::write(root.join("modules/web.nix"), "{ }\n").unwrap();
    std::fs::write(root.join("hardware-configuration.nix"), "{ }\n").unwrap();
    let config = root.join("configuration.nix");
    let text = "{\n  imports = [ ./ ];\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    let triggers = &client.capabilities["completionProvider"]["triggerCharacters"];
    assert!(
        triggers.as_array().unwrap().contains(&json!("/")),
        "{triggers}"
    );
    client.open(&config, text);
    client.diagnostics_for(&config, 1);
    let items = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 1, "character": 16 } }),
    );
    let labels: Vec<(&str, u64)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["label"].as_str().unwrap(), i["kind"].as_u64().unwrap()))
        .collect();
    // Folders (19) first, then files (17); not the file itself.
    assert_eq!(
        labels,
        [("modules/", 19), ("hardware-configuration.nix", 17)]
    );
    client.shutdown();
}

#[test]
fn refactoring_code_actions() {
    let root = scratch("e2e-refactor");
    let config = root.join("configuration.nix");
    let text = "{ lib, ... }:\nlet port = 22; in {\n  services.getty.enable = true;\n  services.getty.ttys = [ \"tty1\" \"tty2\" ];\n  environment.systemPackages = [ pkgs.hello ];\n  networking.firewall.allowedTCPPorts = [ port ];\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    let kinds = &client.capabilities["codeActionProvider"]["codeActionKinds"];
    assert!(
        kinds
            .as_array()
            .unwrap()
            .contains(&json!("refactor.rewrite")),
        "{kinds}"
    );
    client.open(&config, text);
    client.diagnostics_for(&config, 1);
    let at = |client: &mut Client, line: u64, character: u64| -> Vec<(String, String, String)> {
        let actions = client.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri(&config) },
                    "range": { "start": { "line": line, "character": character }, "end": { "line": line, "character": character } },
                    "context": { "diagnostics": [] } }),
        );
        actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["title"].as_str().unwrap().to_string(),
                    a["kind"].as_str().unwrap().to_string(),
                    apply_edits(text, &a["edit"]["changes"][uri(&config)]),
                )
            })
            .collect()
    };
    let on_getty = at(&mut client, 2, 4);
    let pack = on_getty
        .iter()
        .find(|a| a.0.starts_with("Pack the `services.*`"))
        .unwrap_or_else(|| panic!("{on_getty:#?}"));
    assert_eq!(pack.1, "refactor.rewrite");
    assert!(
        pack.2.contains(
            "  services = {\n    getty.enable = true;\n    getty.ttys = [ \"tty1\" \"tty2\" ];\n  };\n"
        ),
        "{}",
        pack.2
    );
    // The terminals are set to their default: removing them is offered.
    let on_terminal = at(&mut client, 3, 20);
    assert!(
        on_terminal
            .iter()
            .any(|a| a.0 == "Remove the definition of `services.getty.ttys`: it is the default"),
        "{on_terminal:#?}"
    );
    // `pkgs` is undefined: a quick fix adds it to the arguments.
    let on_pkgs = at(&mut client, 4, 34);
    let add = on_pkgs
        .iter()
        .find(|a| a.0 == "Add `pkgs` to the module's arguments")
        .unwrap_or_else(|| panic!("{on_pkgs:#?}"));
    assert_eq!(add.1, "quickfix");
    assert!(add.2.starts_with("{ lib, pkgs, ... }:"), "{}", add.2);
    // Inline `port`.
    let on_port = at(&mut client, 1, 5);
    let inline = on_port
        .iter()
        .find(|a| a.1 == "refactor.inline")
        .unwrap_or_else(|| panic!("{on_port:#?}"));
    assert!(
        inline.2.contains("allowedTCPPorts = [ 22 ]"),
        "{}",
        inline.2
    );
    assert!(!inline.2.contains("let"), "{}", inline.2);
    client.shutdown();
}

#[test]
fn generic_diagnostics_can_be_left_to_another_server() {
    let root = scratch("e2e-generic-diagnostics");
    let config = root.join("configuration.nix");
    let text = "{ config, ... }:\n{\n  services.gety.enable = undefinedName;\n  networking.hostName = rec { b = \"a\"; }.b;\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut options = fixture_options();
    options["micros"]["diagnostics"] = json!({ "generic": false });
    let mut client = Client::start(&root, options);
    client.open(&config, text);
    // Only what is about options: nil reports the rest.
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(codes(&diagnostics), ["unknown-option"], "{diagnostics:#?}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&config) },
                "range": { "start": { "line": 3, "character": 25 }, "end": { "line": 3, "character": 25 } },
                "context": { "diagnostics": [] } }),
    );
    assert!(
        !actions
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "quickfix"),
        "{actions}"
    );
    // Turned back on, they are published again at once.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "micros": { "diagnostics": { "generic": true } } } }),
    );
    client.diagnostics_until(&config, |c| {
        c == ["unknown-option", "undefined-variable", "needless-rec"]
    });
    client.shutdown();
}

#[test]
fn packages_of_a_full_nixpkgs_tree() {
    // tests/fixtures/nixpkgs is laid out as nixpkgs is, pkgs/ included.
    let root = scratch("e2e-packages");
    let config = root.join("configuration.nix");
    let text = "{ pkgs, ... }:\n{\n  environment.systemPackages = [ pkgs.helo pkgs.ri ];\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    client.open(&config, text);
    let diagnostics = client.diagnostics_for(&config, 1);
    let unknown: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["code"] == "unknown-package")
        .collect();
    assert_eq!(unknown.len(), 2, "{diagnostics:#?}");
    assert!(
        unknown[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `pkgs.hello`?"),
        "{unknown:#?}"
    );
    let items = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 2, "character": 50 } }),
    );
    let labels = labels(&items);
    assert_eq!(labels, ["ripgrep"]);
    client.shutdown();
}

#[test]
fn platforms_of_the_nixpkgs_tree() {
    // tests/fixtures/nixpkgs has a lib/systems: a mistyped platform is an
    // error with its fix, and completion offers MicrOS's platforms first,
    // in that order (sortText) whatever the client sorts by.
    let root = scratch("e2e-platforms");
    let config = root.join("configuration.nix");
    let text = "{\n  nixpkgs.hostPlatform.system = \"x86_64-linx\";\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    client.open(&config, text);
    let diagnostics = client.diagnostics_for(&config, 1);
    assert_eq!(
        codes(&diagnostics),
        ["unknown-platform"],
        "{diagnostics:#?}"
    );
    let items = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 1, "character": 34 } }),
    );
    let mut ordered: Vec<(&str, &str)> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["sortText"].as_str().unwrap(),
                i["label"].as_str().unwrap(),
            )
        })
        .collect();
    ordered.sort();
    let labels: Vec<&str> = ordered.iter().map(|(_, label)| *label).collect();
    assert_eq!(
        labels[..5],
        [
            "\"x86_64-linux\"",
            "\"x86_64-unknown-linux-musl\"",
            "\"aarch64-linux\"",
            "\"armv7l-linux\"",
            "\"aarch64-darwin\""
        ]
    );
    client.shutdown();
}

#[test]
fn inlay_hints_at_binding_ends_and_beside_overridden_definitions() {
    let root = scratch("e2e-inlay-hints");
    let flake = root.join("flake.nix");
    std::fs::write(
        &flake,
        "{ outputs = { micros, ... }: { nixosConfigurations.box = micros.lib.microsSystem { modules = [ ./a.nix ./b.nix ]; }; }; }\n",
    )
    .unwrap();
    let a = root.join("a.nix");
    let text = "{ lib, ... }: {\n  networking.hostName = lib.mkDefault \"a\";\n  networking.domain = lib.mkDefault \"a.example\";\n  services.getty = {\n    enable = true;\n  };\n}\n";
    std::fs::write(&a, text).unwrap();
    std::fs::write(
        root.join("b.nix"),
        "{ networking.domain = \"b.example\"; }\n",
    )
    .unwrap();
    let mut options = fixture_options();
    options["micros"]["inlayHints"] = json!({ "bindingEndMinLines": 3 });
    let mut client = Client::start(&root, options);
    assert_eq!(client.capabilities["inlayHintProvider"], true);
    client.open(&a, text);
    client.diagnostics_for(&a, 1);
    let request = |client: &mut Client, end_line: u32| {
        client.request(
            "textDocument/inlayHint",
            json!({ "textDocument": { "uri": uri(&a) },
                    "range": { "start": { "line": 0, "character": 0 }, "end": { "line": end_line, "character": 0 } } }),
        )
    };
    let hints = request(&mut client, 7);
    let shown: Vec<(u64, u64, String)> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let label = match &h["label"] {
                Value::String(s) => s.clone(),
                parts => parts
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["value"].as_str().unwrap())
                    .collect(),
            };
            (
                h["position"]["line"].as_u64().unwrap(),
                h["position"]["character"].as_u64().unwrap(),
                label,
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                1,
                42,
                "→ \"micros\" from micros/modules/misc/defaults.nix:4".to_string()
            ),
            (2, 48, "→ \"b.example\" from b.nix:1".to_string()),
            (5, 4, "= services.getty".to_string()),
        ],
        "{hints:#}"
    );
    // The file part leads to the winning definition.
    let part = &hints[1]["label"][1];
    assert_eq!(part["location"]["uri"], json!(uri(&root.join("b.nix"))));
    assert_eq!(
        part["location"]["range"]["start"],
        json!({ "line": 0, "character": 22 })
    );
    assert!(
        hints[1]["tooltip"]
            .as_str()
            .unwrap()
            .contains("`networking.domain`")
    );
    // A range holds only the hints inside it.
    let first_lines = request(&mut client, 2);
    assert_eq!(first_lines.as_array().unwrap().len(), 1, "{first_lines:#}");
    client.shutdown();
}
