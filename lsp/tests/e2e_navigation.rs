//! References, rename, document highlight, document links, workspace
//! symbols, and definition and hover of names and paths, through the real
//! `micros-lsp` binary, over stdio, in a flake on disk of which only some
//! files are open.

use std::path::Path;

use serde_json::{Value, json};

mod client;
// Shared with the other test binaries; this one uses a part of it.
#[allow(dead_code)]
mod common;
use client::{Client, fixture_options, scratch, uri};

const FLAKE: &str = r#"{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix ./web.nix ];
    }).config.system.build.image;
  };
}
"#;

const CONFIGURATION: &str = "{ my.web.port = 8080; services.getty.enable = true; }\n";

const WEB: &str = r#"{ config, lib, ... }:
let
  cfg = config.my.web;
in {
  options.my.web.port = lib.mkOption { type = lib.types.port; default = 80; };
  config.networking.firewall.allowedTCPPorts = [ cfg.port ];
  config.networking.firewall.enable = config.services.getty.enable;
}
"#;

/// The flake, with only web.nix open: configuration.nix is known through
/// the flake's system.
fn session(name: &str) -> (Client, std::path::PathBuf) {
    let root = scratch(name);
    std::fs::write(root.join("flake.nix"), FLAKE).unwrap();
    std::fs::write(root.join("configuration.nix"), CONFIGURATION).unwrap();
    std::fs::write(root.join("web.nix"), WEB).unwrap();
    let mut client = Client::start(&root, fixture_options());
    let web = root.join("web.nix");
    client.open(&web, WEB);
    client.diagnostics_for(&web, 1);
    (client, root)
}

fn at(path: &Path, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri(path) }, "position": { "line": line, "character": character } })
}

/// `file:line:character` of each location.
fn places(locations: &Value) -> Vec<String> {
    let mut out: Vec<String> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let file = l["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            let start = &l["range"]["start"];
            format!("{file}:{}:{}", start["line"], start["character"])
        })
        .collect();
    out.sort();
    out
}

#[test]
fn capabilities_are_advertised() {
    let (client, _) = session("e2e-nav-capabilities");
    let capabilities = client.capabilities.clone();
    assert_eq!(capabilities["referencesProvider"], true, "{capabilities}");
    assert_eq!(capabilities["renameProvider"]["prepareProvider"], true);
    assert_eq!(capabilities["documentHighlightProvider"], true);
    assert!(capabilities["documentLinkProvider"].is_object());
    assert_eq!(capabilities["workspaceSymbolProvider"], true);
    client.shutdown();
}

#[test]
fn references_of_an_option_across_the_flakes_modules() {
    let (mut client, root) = session("e2e-nav-references");
    let web = root.join("web.nix");
    // On `port` of `cfg.port`.
    let mut params = at(&web, 5, 53);
    params["context"] = json!({ "includeDeclaration": true });
    let locations = client.request("textDocument/references", params.clone());
    assert_eq!(
        places(&locations),
        ["configuration.nix:0:9", "web.nix:4:17", "web.nix:5:53"],
        "{locations}"
    );
    params["context"] = json!({ "includeDeclaration": false });
    let locations = client.request("textDocument/references", params);
    assert_eq!(
        places(&locations),
        ["configuration.nix:0:9", "web.nix:5:53"]
    );
    // A binding: `cfg`, bound and used.
    let mut params = at(&web, 2, 3);
    params["context"] = json!({ "includeDeclaration": true });
    let locations = client.request("textDocument/references", params);
    assert_eq!(places(&locations), ["web.nix:2:2", "web.nix:5:49"]);
    // Nothing under the cursor.
    let mut params = at(&web, 4, 72);
    params["context"] = json!({ "includeDeclaration": true });
    let locations = client.request("textDocument/references", params);
    assert_eq!(locations, json!([]));
    client.shutdown();
}

#[test]
fn rename_an_option_in_every_module_and_refuse_micros_options() {
    let (mut client, root) = session("e2e-nav-rename");
    let web = root.join("web.nix");
    let prepared = client.request("textDocument/prepareRename", at(&web, 4, 20));
    assert_eq!(prepared["placeholder"], "port", "{prepared}");
    assert_eq!(
        prepared["range"]["start"],
        json!({ "line": 4, "character": 17 })
    );

    let mut params = at(&web, 4, 20);
    params["newName"] = json!("listenPort");
    let edit = client.request("textDocument/rename", params);
    let changes = edit["changes"].as_object().unwrap();
    let configuration = &changes[&uri(&root.join("configuration.nix"))];
    assert_eq!(
        configuration,
        &json!([{ "range": { "start": { "line": 0, "character": 9 }, "end": { "line": 0, "character": 13 } },
                  "newText": "listenPort" }])
    );
    assert_eq!(changes[&uri(&web)].as_array().unwrap().len(), 2, "{edit}");

    // `enable` of `config.services.getty.enable` is micros's.
    let refused = client.request_raw("textDocument/prepareRename", at(&web, 6, 62));
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("declared by micros"), "{refused}");
    let mut params = at(&web, 2, 3);
    params["newName"] = json!("not valid");
    let refused = client.request_raw("textDocument/rename", params);
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("not a valid Nix identifier"), "{refused}");
    client.shutdown();
}

#[test]
fn highlight_links_and_workspace_symbols() {
    let (mut client, root) = session("e2e-nav-highlight");
    let web = root.join("web.nix");
    let highlights = client.request("textDocument/documentHighlight", at(&web, 2, 3));
    assert_eq!(
        highlights,
        json!([
            { "range": { "start": { "line": 2, "character": 2 }, "end": { "line": 2, "character": 5 } }, "kind": 3 },
            { "range": { "start": { "line": 5, "character": 49 }, "end": { "line": 5, "character": 52 } }, "kind": 2 }
        ])
    );

    let flake = root.join("flake.nix");
    client.open(&flake, FLAKE);
    let links = client.request(
        "textDocument/documentLink",
        json!({ "textDocument": { "uri": uri(&flake) } }),
    );
    let targets: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "https://github.com/snugnug/micros",
            &uri(&root.join("configuration.nix")),
            &uri(&web)
        ]
    );

    let symbols = client.request("workspace/symbol", json!({ "query": "webport" }));
    let found: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let file = s["location"]["uri"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap();
            format!("{} {} {}", s["name"].as_str().unwrap(), s["kind"], file)
        })
        .collect();
    assert_eq!(
        found,
        ["my.web.port 7 configuration.nix", "my.web.port 11 web.nix"],
        "{symbols}"
    );
    let none = client.request("workspace/symbol", json!({ "query": "zzzz" }));
    assert_eq!(none, json!([]));
    client.shutdown();
}

#[test]
fn definition_and_hover_of_names_and_paths() {
    let (mut client, root) = session("e2e-nav-names");
    let web = root.join("web.nix");
    // `cfg` in `cfg.port` (line 5) to its binding on line 2.
    let definition = client.request("textDocument/definition", at(&web, 5, 50));
    assert_eq!(places(&definition), ["web.nix:2:2"], "{definition}");
    let hover = client.request("textDocument/hover", at(&web, 5, 50));
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("`cfg`: a `let` binding") && text.contains("cfg = config.my.web;"),
        "{hover}"
    );
    // A module path of the flake to the file.
    let flake = root.join("flake.nix");
    client.open(&flake, FLAKE);
    let definition = client.request("textDocument/definition", at(&flake, 4, 40));
    assert_eq!(places(&definition), ["web.nix:0:0"], "{definition}");
    client.shutdown();
}
