//! The flake's systems through the real `micros-lsp` binary: findings in
//! flake.nix's inline modules, published and cleared after an edit; a file
//! analysed as a module of the flake found on disk.

use serde_json::json;

mod client;
// Shared with the other test binaries; this one uses a part of it.
#[allow(dead_code)]
mod common;
use client::{Client, codes, fixture_options, scratch, uri};

const FLAKE: &str = r#"{
  outputs = { micros, ... }: {
    packages.x86_64-linux.container = (micros.lib.microsSystem {
      modules = [
        ./configuration.nix
        { boot.isContaner = true; }
      ];
    }).config.system.build.ociImage;
  };
}
"#;

#[test]
fn inline_module_findings_are_published_and_cleared() {
    let root = scratch("e2e-systems-inline");
    let flake = root.join("flake.nix");
    std::fs::write(&flake, FLAKE).unwrap();
    std::fs::write(root.join("configuration.nix"), "{ }\n").unwrap();
    let mut client = Client::start(&root, fixture_options());

    client.open(&flake, FLAKE);
    let diagnostics = client.diagnostics_for(&flake, 1);
    // The misspelling leaves the OCI image's system no container, too.
    assert_eq!(
        codes(&diagnostics),
        ["unknown-option", "container-output"],
        "{diagnostics:#?}"
    );
    assert_eq!(
        diagnostics[0]["range"],
        json!({ "start": { "line": 5, "character": 15 }, "end": { "line": 5, "character": 25 } })
    );

    let fixed = FLAKE.replace("boot.isContaner", "boot.isContainer");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri(&flake), "version": 2 },
                "contentChanges": [ { "text": fixed } ] }),
    );
    let diagnostics = client.diagnostics_for(&flake, 2);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    client.shutdown();
}

#[test]
fn an_open_file_is_a_module_of_the_flake_on_disk() {
    let root = scratch("e2e-systems-member");
    std::fs::write(root.join("flake.nix"), FLAKE).unwrap();
    let configuration = root.join("configuration.nix");
    // On its own this does not look like a module (`lib` only, a name
    // that is no option); the flake's list makes it one.
    let text = "{ lib, ... }: { servics.getty.enable = true; }\n";
    std::fs::write(&configuration, text).unwrap();
    let mut client = Client::start(&root, fixture_options());
    client.open(&configuration, text);
    let diagnostics = client.diagnostics_for(&configuration, 1);
    assert_eq!(codes(&diagnostics), ["unknown-option"], "{diagnostics:#?}");
    client.shutdown();
}
