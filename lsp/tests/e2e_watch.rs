//! The server follows the disk: watchers registered with the client, an
//! imported module edited or deleted outside the editor, a new flake.lock
//! pointing at another micros in the store (NIX_STORE_DIR), and an open
//! document deleted on disk.

use std::path::{Path, PathBuf};

use micros_options::sources::{encode_nix32, store_path_in};
use serde_json::{Value, json};

mod client;
#[allow(dead_code)] // The Nix check is for other tests.
mod common;
use client::*;
use common::copy_tree;

const CREATED: i64 = 1;
const CHANGED: i64 = 2;
const DELETED: i64 = 3;

fn capabilities() -> Value {
    json!({ "window": { "workDoneProgress": true },
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true,
                                                      "relativePatternSupport": true } } })
}

fn changed(client: &mut Client, path: &Path, kind: i64) {
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(path), "type": kind }] }),
    );
}

const MODULE: &str = r#"{ lib, ... }: {
  options.my.enable = lib.mkOption { type = lib.types.bool; default = false; description = "x"; };
}
"#;

#[test]
fn an_imported_module_edited_or_deleted_outside_the_editor() {
    let root = scratch("watch-imports");
    let module = root.join("module.nix");
    std::fs::write(&module, MODULE).unwrap();
    let config = root.join("configuration.nix");
    let text = "{ ... }: {\n  imports = [ ./module.nix ];\n  my.enable = true;\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client =
        Client::start_with_capabilities(&root, fixture_options(), capabilities(), |_| {});
    // The watchers: Nix files, flake.lock, micros.toml, .git/index and the
    // option sources.
    let registration = client.wait_for(|m| m["method"] == "client/registerCapability");
    let registered = registration["params"]["registrations"][0].clone();
    assert_eq!(registered["method"], "workspace/didChangeWatchedFiles");
    let watchers = registered["registerOptions"]["watchers"].to_string();
    for glob in [
        "**/*.nix",
        "**/flake.lock",
        "**/micros.toml",
        "**/.git/index",
    ] {
        assert!(watchers.contains(glob), "{watchers}");
    }
    assert!(
        watchers.contains(&uri(&common::fixtures().join("micros"))),
        "{watchers}"
    );

    client.open(&config, text);
    assert!(client.diagnostics_for(&config, 1).is_empty());
    std::fs::write(&module, MODULE.replace("types.bool", "types.int")).unwrap();
    changed(&mut client, &module, CHANGED);
    client.diagnostics_until(&config, |c| c == ["type-mismatch"]);
    // Deleted: the import names nothing, which stops Nix; what it declared
    // is gone (an option that may be declared in a file that cannot be read
    // is not called unknown).
    std::fs::remove_file(&module).unwrap();
    changed(&mut client, &module, DELETED);
    let diagnostics = client.diagnostics_until(&config, |c| c == ["missing-import"]);
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({ "line": 1, "character": 14 })
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("`./module.nix` does not exist; nix will stop with"),
        "{diagnostics:?}"
    );
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 2, "character": 6 } }),
    );
    assert!(!hover.to_string().contains("my.enable"), "{hover}");
    // Back on disk: found again.
    std::fs::write(&module, MODULE).unwrap();
    changed(&mut client, &module, CREATED);
    client.diagnostics_until(&config, |c| c.is_empty());
    client.shutdown();
}

#[test]
fn an_open_document_deleted_on_disk_keeps_its_buffer() {
    let root = scratch("watch-open-deleted");
    let module = root.join("module.nix");
    std::fs::write(&module, MODULE).unwrap();
    let config = root.join("configuration.nix");
    let text = "{ ... }: {\n  imports = [ ./module.nix ];\n  my.enable = true;\n}\n";
    std::fs::write(&config, text).unwrap();
    let mut client =
        Client::start_with_capabilities(&root, fixture_options(), capabilities(), |_| {});
    // The buffer has a finding of its own.
    let buffer = MODULE.replacen("{ lib, ... }: {", "{ lib, ... }: let unused = 1; in {", 1);
    client.open(&module, &buffer);
    assert_eq!(
        codes(&client.diagnostics_for(&module, 1)),
        ["unused-binding"]
    );
    client.open(&config, text);
    assert!(client.diagnostics_for(&config, 1).is_empty());
    std::fs::remove_file(&module).unwrap();
    changed(&mut client, &module, DELETED);
    // Both are checked again: the buffer keeps its findings and still
    // declares the option; the import of it is missing (Nix reads the disk).
    client.diagnostics_until(&module, |c| c == ["unused-binding"]);
    client.diagnostics_until(&config, |c| c == ["missing-import"]);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&config) }, "position": { "line": 2, "character": 6 } }),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("my.enable"),
        "{hover}"
    );
    // Saved again (or renamed back): nothing is missing.
    std::fs::write(&module, &buffer).unwrap();
    changed(&mut client, &module, CREATED);
    client.diagnostics_until(&config, |c| c.is_empty());
    client.diagnostics_until(&module, |c| c == ["unused-binding"]);
    client.shutdown();
}

fn flake_lock(micros_hash: &str, nixpkgs_hash: &str) -> String {
    json!({
        "nodes": {
            "root": { "inputs": { "micros": "micros", "nixpkgs": "nixpkgs" } },
            "micros": { "locked": { "type": "github", "owner": "snugnug", "repo": "micros",
                                    "rev": "0000000000000000000000000000000000000000",
                                    "narHash": micros_hash } },
            "nixpkgs": { "locked": { "type": "github", "owner": "NixOS", "repo": "nixpkgs",
                                     "rev": "1111111111111111111111111111111111111111",
                                     "narHash": nixpkgs_hash } }
        },
        "root": "root",
        "version": 7
    })
    .to_string()
}

/// A tree "fetched" into the store at `store` under a NAR hash made of
/// `seed`; the hash.
fn in_store(store: &Path, from: &Path, seed: u8) -> (String, PathBuf) {
    let hash = format!("sha256:{}", encode_nix32(&[seed; 32]));
    let path = store_path_in(store, &hash, "source").unwrap();
    copy_tree(from, &path);
    (hash, path)
}

#[test]
fn a_new_flake_lock_reloads_the_options_from_the_new_micros() {
    let root = scratch("watch-flake-lock");
    let store = root.join("store");
    let fixtures = common::fixtures();
    let (old_micros, _) = in_store(&store, &fixtures.join("micros"), 1);
    let (new_micros, new_tree) = in_store(&store, &fixtures.join("micros"), 2);
    let (nixpkgs, _) = in_store(&store, &fixtures.join("nixpkgs"), 3);
    // The newer micros declares one option more.
    let getty = new_tree.join("micros/modules/services/getty.nix");
    let declared = std::fs::read_to_string(&getty).unwrap().replacen(
        "enable = mkEnableOption \"login prompts on the consoles\";",
        "enable = mkEnableOption \"login prompts on the consoles\";\n      welcomeBanner = mkOption { type = types.str; default = \"hi\"; description = \"x\"; };",
        1,
    );
    assert!(declared.contains("welcomeBanner"));
    std::fs::write(&getty, declared).unwrap();

    let lock = root.join("flake.lock");
    std::fs::write(&lock, flake_lock(&old_micros, &nixpkgs)).unwrap();
    let mut client = Client::start_with_capabilities(&root, json!({}), capabilities(), |command| {
        command.env("NIX_STORE_DIR", &store);
    });
    assert!(
        client.options_summary.contains("extracted"),
        "{}: {:#?}",
        client.options_summary,
        client.backlog()
    );
    let config = root.join("configuration.nix");
    client.open(&config, "{ services.getty.welcomeBanner = \"hello\"; }");
    assert_eq!(
        codes(&client.diagnostics_for(&config, 1)),
        ["unknown-option"],
        "{}",
        client.options_summary
    );
    // `nix flake update`: the lock now points at the newer micros.
    std::fs::write(&lock, flake_lock(&new_micros, &nixpkgs)).unwrap();
    changed(&mut client, &lock, CHANGED);
    client.diagnostics_until(&config, |c| c.is_empty());
    client.shutdown();
}

/// In a git work tree, the editor shows `untracked-file` where a module
/// names a file git does not track, and takes it away once `git add` (a
/// change of .git/index) tracks it.
#[test]
fn a_file_git_does_not_track_until_it_is_added() {
    let root = scratch("watch-git");
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output();
        match output {
            Ok(output) => output.status.success(),
            Err(_) => false,
        }
    };
    if !git(&["init", "-q"]) {
        eprintln!("skipped: no git");
        return;
    }
    let flake = "{\n  outputs = { micros, ... }: {\n    packages.x86_64-linux.default = (micros.lib.microsSystem {\n      modules = [ ./configuration.nix ];\n    }).config.system.build.image;\n  };\n}\n";
    std::fs::write(root.join("flake.nix"), flake).unwrap();
    let config = root.join("configuration.nix");
    let text = "{ ... }: {\n  imports = [ ./module.nix ];\n}\n";
    std::fs::write(&config, text).unwrap();
    std::fs::write(root.join("module.nix"), MODULE).unwrap();
    assert!(git(&["add", "flake.nix", "configuration.nix"]));
    let mut client =
        Client::start_with_capabilities(&root, fixture_options(), capabilities(), |_| {});
    client.open(&config, text);
    client.diagnostics_until(&config, |c| c == ["untracked-file"]);
    assert!(git(&["add", "--intent-to-add", "module.nix"]));
    changed(&mut client, &root.join(".git/index"), CHANGED);
    client.diagnostics_until(&config, |c| c.is_empty());
    client.shutdown();
}

/// A write the client did not make (a watched file re-read, the options
/// or git's answer arriving) cancels the analysis of requests in flight;
/// the server answers them again on the new state rather than telling the
/// client its document changed, which it did not (seen in CI: a code
/// action answered with ContentModified).
#[test]
fn requests_are_answered_across_writes_the_client_did_not_make() {
    let root = scratch("watch-cancel");
    let module = root.join("module.nix");
    std::fs::write(&module, MODULE).unwrap();
    let config = root.join("configuration.nix");
    let mut text =
        String::from("{ lib, ... }: {\n  imports = [ ./module.nix ];\n  my.enable = true;\n");
    for i in 0..400 {
        text.push_str(&format!(
            "  environment.etc.\"f{i}\".text = lib.mkDefault \"{i}\";\n"
        ));
    }
    text.push_str("}\n");
    std::fs::write(&config, &text).unwrap();
    let mut client =
        Client::start_with_capabilities(&root, fixture_options(), capabilities(), |_| {});
    client.open(&config, &text);
    client.diagnostics_for(&config, 1);
    let document = json!({ "uri": uri(&config) });
    let position = json!({ "line": 2, "character": 5 });
    let whole =
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 400, "character": 0 } });
    for round in 0..30 {
        // Sent without waiting, so the rewrite below lands while they run.
        let ids = [
            client.lsp.send_request(
                "textDocument/codeAction",
                json!({ "textDocument": document, "range": whole, "context": { "diagnostics": [] } }),
            ),
            client.lsp.send_request("textDocument/documentSymbol", json!({ "textDocument": document })),
            client.lsp.send_request("textDocument/semanticTokens/full", json!({ "textDocument": document })),
            client.lsp.send_request("textDocument/foldingRange", json!({ "textDocument": document })),
            client.lsp.send_request(
                "textDocument/hover",
                json!({ "textDocument": document, "position": position }),
            ),
        ];
        let declared = if round % 2 == 0 {
            "types.int"
        } else {
            "types.bool"
        };
        std::fs::write(&module, MODULE.replace("types.bool", declared)).unwrap();
        changed(&mut client, &module, CHANGED);
        for id in ids {
            let response = client.wait_for(|m| m["id"] == id && m.get("method").is_none());
            assert!(response.get("error").is_none(), "round {round}: {response}");
        }
    }
    client.shutdown();
}
