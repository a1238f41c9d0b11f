//! Navigation as an editor feels it: the real `micros-lsp` over stdio, in
//! a flake of 200 modules (each declares options, reads its own through
//! `cfg = config...` and a shared one through `config.bench.shared.port`)
//! of which one is open. Timed from request to answer: references of the
//! shared option (every module reads it: the first answer computes every
//! module's reads, later ones reuse them), the same after an edit of the
//! open module, rename of it, document highlight, document links (200
//! imports), inlay hints (the open module's `mkDefault`, overridden in
//! configuration.nix) and workspace symbols; references of a binding too, where nil
//! (NIL_BIN) answers the same question.
//!
//! `cargo bench -p micros-lsp --bench navigation`. Requests per row:
//! MICROS_BENCH_REQUESTS (default 50).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use micros_options::bench_support;
use serde_json::{Value, json};

#[path = "support/session.rs"]
mod session;
use session::{Session, position, server_command, uri};

const MODULES: usize = 200;

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("a scratch directory");
    }
    std::fs::write(path, text).expect("write the workspace");
}

/// The flake on disk; the open module's path and text.
fn workspace(root: &Path) -> (PathBuf, String) {
    let _ = std::fs::remove_dir_all(root);
    write(
        &root.join("flake.nix"),
        r#"{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix ];
    }).config.system.build.image;
  };
}
"#,
    );
    let mut configuration = String::from("{ lib, ... }:\n{\n  imports = [\n");
    for i in 0..MODULES {
        let _ = writeln!(configuration, "    ./modules/m{i:03}.nix");
        let shared = if i == 0 {
            "  options.bench.shared.port = lib.mkOption { type = lib.types.port; default = 1; };\n"
        } else {
            ""
        };
        // The open module's default, which configuration.nix overrides: an
        // inlay hint.
        let overridden = if i == MODULES / 2 {
            "    bench.shared.port = lib.mkDefault 1;\n"
        } else {
            ""
        };
        let module = format!(
            r#"{{ config, lib, ... }}:
let
  cfg = config.bench.m{i};
in
{{
{shared}  options.bench.m{i} = {{
    enable = lib.mkEnableOption "module {i}";
    port = lib.mkOption {{ type = lib.types.port; default = {port}; }};
  }};
  config = lib.mkIf cfg.enable {{
    networking.firewall.allowedTCPPorts = [ cfg.port config.bench.shared.port ];
    users.user{i}.uid = {uid};
{overridden}  }};
}}
"#,
            port = 8000 + i,
            uid = 1000 + i,
        );
        write(&root.join(format!("modules/m{i:03}.nix")), &module);
    }
    configuration.push_str("  ];\n  bench.shared.port = 9000;\n");
    for i in (0..MODULES).step_by(2) {
        let _ = writeln!(configuration, "  bench.m{i}.enable = true;");
    }
    configuration.push_str("}\n");
    write(&root.join("configuration.nix"), &configuration);
    let open = root.join(format!("modules/m{:03}.nix", MODULES / 2));
    let text = std::fs::read_to_string(&open).expect("the module exists");
    (open, text)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p95 of the times, in ms.
fn percentiles(times: &mut [Duration]) -> (f64, f64) {
    times.sort();
    let at = |p: f64| ms(times[((times.len() - 1) as f64 * p).round() as usize]);
    (at(0.5), at(0.95))
}

/// nil's p50 for the same request on the same file, in ms.
fn nil_p50(session: &mut Session, method: &str, params: &Value, requests: usize) -> String {
    let mut params = params.clone();
    params["textDocument"]["uri"] = json!(session.uri);
    let mut times: Vec<Duration> = (0..requests)
        .map(|_| session.ask(method, params.clone()).0)
        .collect();
    format!("{:.1}", percentiles(&mut times).0)
}

fn main() {
    let requests = bench_support::env_count("MICROS_BENCH_REQUESTS", 50);
    let nil = bench_support::nil_bin();
    let trees = bench_support::trees();
    let options = json!({ "micros": { "source": trees.micros, "nixpkgs": trees.nixpkgs } });
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("navigation-bench");
    let (open, text) = workspace(&root);
    let shared = position(
        &text,
        "config.bench.shared.port",
        "config.bench.shared.".len(),
    );
    let binding = position(&text, "cfg.port", 0);
    println!(
        "{MODULES} modules in a flake, one open; {requests} requests per row; options: {}",
        if trees.upstream {
            "upstream micros"
        } else {
            "fixture micros"
        }
    );
    println!("| request | micros-lsp p50 | p95 | nil p50 | answer |");
    println!("| --- | --- | --- | --- | --- |");

    let mut micros = Session::start(
        server_command(PathBuf::from(env!("CARGO_BIN_EXE_micros-lsp"))),
        &root,
        &open,
        &text,
        &options,
    );
    let mut nil_session = nil
        .clone()
        .map(|program| Session::start(server_command(program), &root, &open, &text, &options));

    let references = |session: &Session, position: &Value| {
        let mut params = session.at(position);
        params["context"] = json!({ "includeDeclaration": true });
        params
    };
    // The first answer computes every module's reads.
    let (first, answer) = micros.ask("textDocument/references", references(&micros, &shared));
    let found = answer["result"].as_array().map_or(0, Vec::len);
    println!(
        "| references of an option read by every module, first | {:.1} | | | {found} locations |",
        ms(first)
    );
    let mut version = 1;
    let mut rows: Vec<(&str, &str, Value, bool)> = vec![
        (
            "references of an option read by every module",
            "textDocument/references",
            references(&micros, &shared),
            false,
        ),
        (
            "the same, each after an edit of the open module",
            "textDocument/references",
            references(&micros, &shared),
            true,
        ),
        (
            "references of a binding (`cfg`)",
            "textDocument/references",
            references(&micros, &binding),
            false,
        ),
        (
            "prepareRename of the option",
            "textDocument/prepareRename",
            micros.at(&shared),
            false,
        ),
        (
            "document highlight of the option",
            "textDocument/documentHighlight",
            micros.at(&shared),
            false,
        ),
        (
            "document highlight of a binding",
            "textDocument/documentHighlight",
            micros.at(&binding),
            false,
        ),
        (
            "inlay hints of the open module, each after an edit",
            "textDocument/inlayHint",
            json!({ "textDocument": { "uri": micros.uri },
                    "range": { "start": { "line": 0, "character": 0 }, "end": { "line": text.lines().count(), "character": 0 } } }),
            true,
        ),
        (
            "workspace symbols `sharedport`",
            "workspace/symbol",
            json!({ "query": "sharedport" }),
            false,
        ),
    ];
    let mut rename = micros.at(&shared);
    rename["newName"] = json!("listenPort");
    rows.insert(
        4,
        ("rename of the option", "textDocument/rename", rename, false),
    );
    for (label, method, params, edit_first) in rows.drain(..) {
        let mut times = Vec::new();
        let mut answer = Value::Null;
        for _ in 0..requests {
            if edit_first {
                // A comment typed at the end: the module's text changes.
                version += 1;
                micros.lsp.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": micros.uri, "version": version },
                            "contentChanges": [{ "text": format!("{text}# {version}\n") }] }),
                );
            }
            let (time, response) = micros.ask(method, params.clone());
            times.push(time);
            answer = response;
        }
        let (p50, p95) = percentiles(&mut times);
        let nil_p50 = match (&mut nil_session, method) {
            // nil answers these for bindings only; inlay hints with its own
            // (where long bindings end).
            (Some(session), "textDocument/references" | "textDocument/documentHighlight")
                if label.contains("binding") =>
            {
                nil_p50(session, method, &params, requests)
            }
            (Some(session), "textDocument/inlayHint") => {
                nil_p50(session, method, &params, requests)
            }
            (Some(_), _) => "no answer".into(),
            (None, _) => "not run".into(),
        };
        let result = &answer["result"];
        let summary = match result {
            Value::Array(items) => format!("{} items", items.len()),
            Value::Object(o) if o.contains_key("changes") => {
                let files = o["changes"].as_object().map_or(0, |c| c.len());
                format!("edits in {files} files")
            }
            Value::Null => answer["error"]["message"]
                .as_str()
                .unwrap_or("null")
                .to_string(),
            _ => "an answer".into(),
        };
        println!("| {label} | {p50:.1} | {p95:.1} | {nil_p50} | {summary} |");
    }
    // Links of the module that imports the 200 others.
    let configuration = root.join("configuration.nix");
    let configuration_text = std::fs::read_to_string(&configuration).expect("written above");
    micros.lsp.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&configuration), "languageId": "nix", "version": 1,
                                  "text": configuration_text } }),
    );
    let params = json!({ "textDocument": { "uri": uri(&configuration) } });
    let mut times = Vec::new();
    let mut links = 0;
    for _ in 0..requests {
        let (time, response) = micros.ask("textDocument/documentLink", params.clone());
        links = response["result"].as_array().map_or(0, Vec::len);
        times.push(time);
    }
    let (p50, p95) = percentiles(&mut times);
    println!(
        "| document links of the module importing the others | {p50:.1} | {p95:.1} | | {links} links |"
    );
    micros.stop();
    if let Some(session) = nil_session {
        session.stop();
    }
}
