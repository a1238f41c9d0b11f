//! Feature by feature, nil beside micros-lsp, as a client tries them: both
//! servers over stdio on the same small flake (a configuration with a
//! binding, an import, an unknown option, an overridden `mkDefault`; a
//! module declaring and reading an option of its own), each request asked
//! at the same place, and for each what came back: nothing, or how much
//! and whether it holds what a user looks for there (`getty` when
//! completing `services.g`, the other module among an option's
//! references). Prints a markdown table (the book's comparison chapter
//! holds one). Not timed: `navigation` and `editor` time the requests.
//!
//! `NIL_BIN=/path/to/nil cargo bench -p micros-lsp --bench features`;
//! without NIL_BIN, micros-lsp's column only.

use std::path::{Path, PathBuf};

use micros_options::bench_support;
use serde_json::{Value, json};

#[path = "support/session.rs"]
mod session;
use session::{Session, position, server_command, uri};

const FLAKE: &str = r#"{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    nixosConfigurations.box = micros.lib.microsSystem {
      modules = [ ./configuration.nix ./web.nix ];
    };
  };
}
"#;

const WEB: &str = r#"{ config, lib, ... }:
let
  cfg = config.my.web;
in
{
  options.my.web.port = lib.mkOption { type = lib.types.port; default = 8080; };
  config.networking.firewall.allowedTCPPorts = [ cfg.port ];
}
"#;

const HARDWARE: &str = "{ networking.domain = \"rack.example\"; }\n";

/// The open file. The banner spans 27 lines, past nil's threshold for a
/// binding's end hint.
fn configuration() -> String {
    let banner: String = (1..=25).map(|i| format!("    line {i}\n")).collect();
    format!(
        r#"{{ config, lib, pkgs, ... }}:
let
  greeting = "hello";
  unused = 1;
  suffix = undefinedName;
  banner = ''
{banner}  '';
in
{{
  imports = [ ./hardware.nix ];
  networking.domain = lib.mkDefault "lan";
  my.web.port = 8081;
  services.getty.enable = true;
  services.gety.enable = true;
  environment.etc.motd.text = greeting + banner + suffix;
}}
"#
    )
}

struct Row {
    feature: &'static str,
    method: &'static str,
    params: Value,
    /// Text the answer must hold to be what a user looks for there.
    expect: Option<&'static str>,
}

fn rows(file: &Path, text: &str) -> Vec<Row> {
    let doc = json!({ "uri": uri(file) });
    let at = |needle: &str, skip: usize| json!({ "textDocument": doc, "position": position(text, needle, skip) });
    let with = |mut params: Value, key: &str, value: Value| {
        params[key] = value;
        params
    };
    let whole = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": text.lines().count(), "character": 0 } });
    let greeting_use = ("greeting + banner", 3);
    let row = |feature, method, params, expect| Row {
        feature,
        method,
        params,
        expect,
    };
    vec![
        row(
            "completion of a name in scope",
            "textDocument/completion",
            at(greeting_use.0, greeting_use.1),
            Some("\"greeting\""),
        ),
        row(
            "completion of an option path",
            "textDocument/completion",
            at("services.getty.enable", "services.g".len()),
            Some("\"getty\""),
        ),
        row(
            "hover on an option",
            "textDocument/hover",
            at("services.getty.enable", "services.getty.".len()),
            Some("boolean"),
        ),
        row(
            "hover on a binding",
            "textDocument/hover",
            at(greeting_use.0, greeting_use.1),
            None,
        ),
        row(
            "definition of a binding",
            "textDocument/definition",
            at(greeting_use.0, greeting_use.1),
            None,
        ),
        row(
            "definition of an option",
            "textDocument/definition",
            at("services.getty.enable", "services.getty.".len()),
            Some("getty"),
        ),
        row(
            "definition of an imported path",
            "textDocument/definition",
            at("./hardware.nix", 3),
            Some("hardware.nix"),
        ),
        row(
            "references of a binding",
            "textDocument/references",
            with(
                at("greeting = ", 1),
                "context",
                json!({ "includeDeclaration": true }),
            ),
            None,
        ),
        row(
            "references of an option (across modules)",
            "textDocument/references",
            with(
                at("my.web.port", "my.web.".len()),
                "context",
                json!({ "includeDeclaration": true }),
            ),
            Some("web.nix"),
        ),
        row(
            "document highlight",
            "textDocument/documentHighlight",
            at("greeting = ", 1),
            None,
        ),
        row(
            "prepare rename",
            "textDocument/prepareRename",
            at("greeting = ", 1),
            None,
        ),
        row(
            "rename a binding",
            "textDocument/rename",
            with(at("greeting = ", 1), "newName", json!("welcome")),
            None,
        ),
        row(
            "rename an option declared in the workspace",
            "textDocument/rename",
            with(
                at("my.web.port", "my.web.".len()),
                "newName",
                json!("listenPort"),
            ),
            Some("web.nix"),
        ),
        row(
            "document symbols",
            "textDocument/documentSymbol",
            json!({ "textDocument": doc }),
            None,
        ),
        row(
            "workspace symbols (\"port\")",
            "workspace/symbol",
            json!({ "query": "port" }),
            Some("my.web.port"),
        ),
        row(
            "document links",
            "textDocument/documentLink",
            json!({ "textDocument": doc }),
            Some("hardware.nix"),
        ),
        row(
            "semantic tokens, whole file",
            "textDocument/semanticTokens/full",
            json!({ "textDocument": doc }),
            None,
        ),
        row(
            "semantic tokens, range",
            "textDocument/semanticTokens/range",
            json!({ "textDocument": doc, "range": whole }),
            None,
        ),
        row(
            "selection range",
            "textDocument/selectionRange",
            json!({ "textDocument": doc, "positions": [position(text, "greeting + banner", 3)] }),
            None,
        ),
        row(
            "folding ranges",
            "textDocument/foldingRange",
            json!({ "textDocument": doc }),
            None,
        ),
        row(
            "formatting (no formatter configured)",
            "textDocument/formatting",
            json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
            None,
        ),
        row(
            "range formatting",
            "textDocument/rangeFormatting",
            json!({ "textDocument": doc, "range": whole, "options": { "tabSize": 2, "insertSpaces": true } }),
            None,
        ),
        row(
            "code actions at an unused binding",
            "textDocument/codeAction",
            json!({ "textDocument": doc, "range": { "start": position(text, "unused", 1), "end": position(text, "unused", 1) }, "context": { "diagnostics": [] } }),
            None,
        ),
        row(
            "code actions at an unknown option",
            "textDocument/codeAction",
            json!({ "textDocument": doc, "range": { "start": position(text, "gety", 1), "end": position(text, "gety", 1) }, "context": { "diagnostics": [] } }),
            Some("services.getty"),
        ),
        row(
            "inlay hints",
            "textDocument/inlayHint",
            json!({ "textDocument": doc, "range": whole }),
            None,
        ),
    ]
}

/// How much came back, and whether it holds what `expect` names.
fn summary(response: &Value, expect: Option<&str>) -> String {
    if let Some(error) = response.get("error") {
        let message = error["message"].as_str().unwrap_or("?");
        let message: String = message.chars().take(60).collect();
        return format!("error: {message}");
    }
    let result = &response["result"];
    let count = match result {
        Value::Null => 0,
        Value::Array(items) => items.len(),
        Value::Object(map) => {
            if let Some(items) = map.get("items").and_then(Value::as_array) {
                items.len()
            } else if let Some(data) = map.get("data").and_then(Value::as_array) {
                data.len() / 5
            } else if let Some(changes) = map.get("changes").and_then(Value::as_object) {
                changes
                    .values()
                    .map(|edits| edits.as_array().map_or(0, Vec::len))
                    .sum()
            } else {
                1
            }
        }
        _ => 1,
    };
    if count == 0 {
        return "—".into();
    }
    let amount = match result {
        Value::Object(map) if map.contains_key("contents") || map.contains_key("range") => {
            "yes".to_string()
        }
        Value::Object(map) if map.contains_key("changes") => format!(
            "{count} edits in {} files",
            map["changes"].as_object().map_or(0, |c| c.len())
        ),
        _ => count.to_string(),
    };
    match expect {
        Some(needle) if !result.to_string().contains(needle) => {
            format!("{amount}, without {}", needle.trim_matches('"'))
        }
        _ => amount,
    }
}

/// Whether a diagnostic starts on the line of `needle`.
fn diagnostics_summary(diagnostics: &Value, text: &str, needle: &str) -> String {
    let line = position(text, needle, 0)["line"].clone();
    let all = diagnostics.as_array().cloned().unwrap_or_default();
    match all.iter().find(|d| d["range"]["start"]["line"] == line) {
        Some(d) => {
            let message = d["message"].as_str().unwrap_or("");
            let first: String = message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(50)
                .collect();
            format!("yes: {first}")
        }
        None => "—".into(),
    }
}

fn main() {
    let trees = bench_support::trees();
    let options = json!({ "micros": { "source": trees.micros, "nixpkgs": trees.nixpkgs } });
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("features-bench");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("a scratch directory");
    let text = configuration();
    let file = root.join("configuration.nix");
    for (name, content) in [
        ("flake.nix", FLAKE),
        ("web.nix", WEB),
        ("hardware.nix", HARDWARE),
        ("configuration.nix", text.as_str()),
    ] {
        std::fs::write(root.join(name), content).expect("write the workspace");
    }
    let mut servers: Vec<(&str, Session)> = Vec::new();
    if let Some(nil) = bench_support::nil_bin() {
        servers.push((
            "nil",
            Session::start(server_command(nil), &root, &file, &text, &json!({})),
        ));
    }
    servers.push((
        "micros-lsp",
        Session::start(
            server_command(PathBuf::from(env!("CARGO_BIN_EXE_micros-lsp"))),
            &root,
            &file,
            &text,
            &options,
        ),
    ));

    let names: Vec<&str> = servers.iter().map(|(name, _)| *name).collect();
    println!("| feature | request | {} |", names.join(" | "));
    println!("| --- | --- |{}", " --- |".repeat(names.len()));
    let diagnostics = [
        ("diagnostics: undefined name", "= undefinedName"),
        ("diagnostics: unused binding", "unused = 1"),
        ("diagnostics: unknown option", "services.gety"),
    ];
    for (feature, needle) in diagnostics {
        let cells: Vec<String> = servers
            .iter()
            .map(|(_, s)| diagnostics_summary(&s.diagnostics, &text, needle))
            .collect();
        println!(
            "| {feature} | textDocument/publishDiagnostics | {} |",
            cells.join(" | ")
        );
    }
    for row in rows(&file, &text) {
        let cells: Vec<String> = servers
            .iter_mut()
            .map(|(_, s)| summary(&s.ask(row.method, row.params.clone()).1, row.expect))
            .collect();
        println!(
            "| {} | {} | {} |",
            row.feature,
            row.method.trim_start_matches("textDocument/"),
            cells.join(" | ")
        );
    }
    for (_, session) in servers {
        session.stop();
    }
}
