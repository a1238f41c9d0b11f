//! `micros check`, run as the real binary: every format against golden
//! files (`UPDATE_EXPECT=1` rewrites them), exit statuses, suppression,
//! micros.toml, file discovery and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use expect_test::{expect, expect_file};
use serde_json::{Value, json};

mod common;
use common::fixtures;

/// `micros check` in `dir`, independent of the developer's environment.
fn micros(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
    command
        .current_dir(dir)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1")
        // The scratch projects sit in this repository's ignored target/:
        // git is not to find it from there (tests that want git init one).
        .env("GIT_CEILING_DIRECTORIES", scratch_root())
        .arg("check");
    command
}

/// The same, with the fixture micros and nixpkgs trees.
fn check(dir: &Path) -> Command {
    let f = fixtures();
    let mut command = micros(dir);
    command
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs"));
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run micros")
}

/// One field of every diagnostic of a `--format json` run.
fn field(output: &Output, key: &str) -> Vec<Value> {
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d[key].clone())
        .collect()
}

fn assert_starts(output: &[u8], prefix: &str) {
    let output = text(output);
    assert!(output.starts_with(prefix), "{output}");
}

fn scratch_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_check")
}

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const FLAKE: &str = r#"{
  inputs.micros.url = "github:snugnug/micros";
  outputs = { micros, ... }: {
    nixosConfigurations.box = micros.lib.microsSystem {
      modules = [ ./configuration.nix ];
    };
  };
}
"#;

/// A flake whose configuration has errors and a warning in two files.
fn project(name: &str) -> PathBuf {
    let dir = scratch(name);
    write(&dir, "flake.nix", FLAKE);
    write(
        &dir,
        "configuration.nix",
        r#"{ pkgs, lib, ... }:
let
  port = 70000;
  unused = "left over";
in
{
  imports = [
    ./hardware-configuration.nix
    ./modules/my-service.nix
  ];

  services.gety.enable = true;
  services.myService.enable = true;
  services.myService.port = port;
  users.alice.uid = "1001";
}
"#,
    );
    write(
        &dir,
        "hardware-configuration.nix",
        &std::fs::read_to_string(fixtures().join("user/hardware-configuration.nix")).unwrap(),
    );
    write(
        &dir,
        "modules/my-service.nix",
        &std::fs::read_to_string(fixtures().join("user/modules/my-service.nix")).unwrap(),
    );
    dir
}

/// SARIF names the working directory; golden files cannot.
fn stable(output: &str, dir: &Path) -> String {
    output
        .replace(&dir.display().to_string(), "$PROJECT")
        .replace(env!("CARGO_PKG_VERSION"), "$VERSION")
}

#[test]
fn human_format() {
    let dir = project("human");
    let output = run(&mut check(&dir));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), "");
    expect_file!["check/human.txt"].assert_eq(&text(&output.stdout));
}

#[test]
fn json_format() {
    let dir = project("json");
    let output = run(check(&dir).args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    expect_file!["check/json.json"].assert_eq(&text(&output.stdout));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["version"], 1);
    for d in json["diagnostics"].as_array().unwrap() {
        for field in [
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "severity",
            "code",
            "message",
        ] {
            assert!(d.get(field).is_some(), "{d} has no {field}");
        }
    }
    // The summary goes to stderr, so stdout stays JSON.
    assert_eq!(
        text(&output.stderr),
        "error: 3 errors, 1 warning in 1 of 4 files\n"
    );
}

#[test]
fn sarif_format() {
    let dir = project("sarif");
    let output = run(check(&dir).args(["--format", "sarif"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let sarif = text(&output.stdout);
    expect_file!["check/sarif.json"].assert_eq(&stable(&sarif, &dir));
}

/// Validates the SARIF output against the official SARIF 2.1.0 schema,
/// which CI fetches from a registry (.ci/steps/40-check.sh) and names in
/// SARIF_SCHEMA.
#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(schema_path) = std::env::var_os("SARIF_SCHEMA").filter(|v| !v.is_empty()) else {
        eprintln!(
            "skipped: set SARIF_SCHEMA to the SARIF 2.1.0 JSON schema (see .ci/steps/40-check.sh)"
        );
        return;
    };
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    assert!(
        schema["title"]
            .as_str()
            .is_some_and(|t| t.contains("SARIF") && t.contains("2.1.0")),
        "{:?} is not the SARIF 2.1.0 schema",
        schema_path
    );
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("sarif-2.1.0.json", schema)
        .expect("a schema URL");
    let sarif_schema = compiler
        .compile("sarif-2.1.0.json", &mut schemas)
        .unwrap_or_else(|e| panic!("the SARIF schema compiles: {e:#}"));
    let validate = |document: &Value| {
        schemas
            .validate(document, sarif_schema)
            .map_err(|e| format!("{e:#}"))
    };

    let dir = project("sarif-schema");
    write(&dir, "broken.nix", "{ x = ; }\n");
    // With findings of every kind: located, and about the run (no sources).
    let mut with_sources = check(&dir);
    with_sources.args(["--format", "sarif"]);
    let mut without_sources = micros(&dir);
    without_sources.args(["--format", "sarif", "broken.nix"]);
    for mut command in [with_sources, without_sources] {
        let output = run(&mut command);
        let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
        if let Err(errors) = validate(&sarif) {
            panic!("not valid SARIF 2.1.0:\n{errors}");
        }
    }
    // And a document that is not SARIF fails, so the check can fail.
    let bad = serde_json::json!({ "version": "2.1.0", "runs": [{ "results": [] }] });
    assert!(validate(&bad).is_err());
}

#[test]
fn github_format() {
    let dir = project("github");
    let output = run(check(&dir).args(["--format", "github"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    expect_file!["check/github.txt"].assert_eq(&text(&output.stdout));
}

#[test]
fn colour_flag_overrides_the_environment() {
    let dir = project("colour");
    let plain = run(&mut check(&dir));
    assert!(!text(&plain.stdout).contains('\x1b'));
    let coloured = run(check(&dir).args(["--color", "always"]));
    let coloured = text(&coloured.stdout);
    assert!(
        coloured.contains("\x1b[1;31merror[unknown-option]"),
        "{coloured}"
    );
    let no_color = run(check(&dir)
        .env_remove("NO_COLOR")
        .args(["--color", "never"]));
    assert!(!text(&no_color.stdout).contains('\x1b'));
}

/// On a real terminal (util-linux `script` gives one), colour is on unless
/// NO_COLOR is set.
#[test]
fn colour_on_a_terminal_unless_no_color() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to run micros on a terminal");
        return;
    }
    let dir = project("terminal");
    let f = fixtures();
    let line = format!(
        "{} check --micros {} --nixpkgs {}",
        env!("CARGO_BIN_EXE_micros"),
        f.join("micros").display(),
        f.join("nixpkgs").display()
    );
    let on_terminal = |no_color: bool| {
        let mut command = Command::new("script");
        command
            .current_dir(&dir)
            .env_remove("MICROS_SRC")
            .env_remove("MICROS_NIXPKGS")
            .args(["-qec", &line, "/dev/null"]);
        if no_color {
            command.env("NO_COLOR", "1");
        } else {
            command.env_remove("NO_COLOR");
        }
        text(&run(&mut command).stdout)
    };
    let coloured = on_terminal(false);
    assert!(
        coloured.contains("\x1b[1;31merror[unknown-option]"),
        "{coloured}"
    );
    let plain = on_terminal(true);
    assert!(plain.contains("error[unknown-option]"), "{plain}");
    assert!(!plain.contains('\x1b'), "{plain}");
}

#[test]
fn exit_statuses() {
    let dir = scratch("exit");
    write(&dir, "clean.nix", "{ services.getty.enable = true; }\n");
    write(
        &dir,
        "warning.nix",
        "let unused = 1; in { services.getty.enable = true; }\n",
    );
    write(&dir, "error.nix", "{ services.getty.enable = 1; }\n");

    let clean = run(check(&dir).arg("clean.nix"));
    assert_eq!(clean.status.code(), Some(0), "{}", text(&clean.stdout));
    assert_eq!(text(&clean.stdout), "ok: 1 file checked\n");

    let warning = run(check(&dir).arg("warning.nix"));
    assert_eq!(warning.status.code(), Some(0), "{}", text(&warning.stdout));
    assert!(text(&warning.stdout).ends_with("warning: 1 warning in 1 of 1 file\n"));

    let denied = run(check(&dir).args(["--deny", "warnings", "warning.nix"]));
    assert_eq!(denied.status.code(), Some(1));
    assert_starts(
        &denied.stdout,
        "error[unused-binding]: `unused` is never used",
    );
    let by_code = run(check(&dir).args(["--deny", "unused-binding", "warning.nix"]));
    assert_eq!(by_code.status.code(), Some(1));

    let error = run(check(&dir).arg("error.nix"));
    assert_eq!(error.status.code(), Some(1));
    assert!(text(&error.stdout).contains("error[type-mismatch]"));
    let allowed = run(check(&dir).args(["--allow", "type-mismatch", "error.nix"]));
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed.stdout));

    let all = run(check(&dir).arg("."));
    assert_eq!(all.status.code(), Some(1));
    assert!(text(&all.stdout).ends_with("error: 1 error, 1 warning in 2 of 3 files\n"));
}

#[test]
fn usage_errors_exit_2_with_a_clear_message() {
    let dir = scratch("usage");
    write(&dir, "ok.nix", "{ }\n");
    write(&dir, "README.md", "# not Nix\n");
    let cases: &[(&[&str], &str)] = &[
        (
            &["missing.nix"],
            "error: missing.nix: no such file or directory\n",
        ),
        (
            &["README.md"],
            "error: README.md: not a Nix file (expected a `.nix` file or a directory)\n",
        ),
        (
            &["--deny", "unknown-opton", "ok.nix"],
            "error: unknown code `unknown-opton` (known: syntax-error, unknown-option, type-mismatch, duplicate-definition, removed-option, renamed-option, read-only-option, undefined-variable, unused-binding, missing-sources, flake-not-understood, unused-with, needless-rec, empty-let, empty-inherit, duplicate-formal, uri-literal, infinite-recursion, import-cycle, missing-import, conflicting-definitions, missing-module-argument, assertion-failed, module-warning, unknown-service, plaintext-password, untracked-file, unknown-package, unknown-platform, container-hardware, container-output, warnings)\n",
        ),
        (
            &[
                "--allow",
                "unused-binding",
                "--deny",
                "unused-binding",
                "ok.nix",
            ],
            "error: `unused-binding` is both allowed and denied on the command line\n",
        ),
    ];
    for (args, expected) in cases {
        let output = run(check(&dir).args(*args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&output.stderr), *expected, "{args:?}");
        assert_eq!(text(&output.stdout), "", "{args:?}");
    }

    // An explicit source that is not there is a usage error too.
    let output = run(micros(&dir).args(["--micros", "/nonexistent/micros", "ok.nix"]));
    assert_eq!(output.status.code(), Some(2));
    assert_starts(&output.stderr, "error: --micros /nonexistent/micros: ");
    let output = run(check(&dir).args(["--options", "nope.json", "ok.nix"]));
    assert_eq!(output.status.code(), Some(2));
    let nope = dir.join("nope.json");
    let expected = format!("error: {}: cannot read the options: ", nope.display());
    assert_starts(&output.stderr, &expected);

    // Clap's own usage errors exit 2 as well.
    let output = run(check(&dir).args(["--format", "xml"]));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn binary_and_non_utf8_files_exit_2_and_the_rest_is_still_checked() {
    let dir = scratch("binary");
    std::fs::write(dir.join("image.nix"), b"\x7fELF\x02\x01\x01\x00\x00").unwrap();
    std::fs::write(dir.join("latin1.nix"), b"{\n  x = \"caf\xe9\";\n}\n").unwrap();
    write(&dir, "error.nix", "{ services.getty.enable = 1; }\n");
    let output = run(check(&dir).arg("."));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {0}/image.nix:1: a NUL byte: this is a binary file, not Nix source\n\
             error: {0}/latin1.nix:2: invalid UTF-8 (byte 0xe9); Nix source must be UTF-8 text\n",
            dir.display()
        )
    );
    assert!(text(&output.stdout).contains("error[type-mismatch]"));
}

#[test]
fn broken_nix_is_a_syntax_error() {
    let dir = scratch("syntax");
    std::fs::copy(
        fixtures().join("broken/syntax-error.nix"),
        dir.join("syntax-error.nix"),
    )
    .unwrap();
    let output = run(check(&dir).args(["--format", "json", "syntax-error.nix"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(field(&output, "code").contains(&Value::from("syntax-error")));
    assert_eq!(field(&output, "file")[0], "syntax-error.nix");
    // The line that lacks its `;`, not the next one where the parser stops.
    assert_eq!(field(&output, "line")[0], 10);
    assert_eq!(
        field(&output, "message")[0],
        "expected `;` after this value"
    );
}

#[test]
fn inline_suppression_on_the_line_before() {
    let dir = scratch("suppress");
    write(
        &dir,
        "configuration.nix",
        r#"{
  # micros-check: allow(unknown-option)
  services.gety.enable = true;
  # micros-check: allow(type-mismatch, unknown-option)
  services.getty.enable = 1;
  # micros-check: allow(type-mismatch)
  services.sshd.enabled = true;

  users.bob.uid = "x";
}
"#,
    );
    let output = run(check(&dir).args(["--format", "json", "configuration.nix"]));
    // The comment names other codes than line 7's and 9 has none.
    assert_eq!(field(&output, "line"), [7, 9]);
    assert_eq!(field(&output, "code"), ["unknown-option", "type-mismatch"]);
}

#[test]
fn settings_file() {
    let dir = project("settings");
    let f = fixtures();
    write(
        &dir,
        "micros.toml",
        &format!(
            r#"# Sources are relative to this file (absolute here).
[sources]
micros = "{}"
nixpkgs = "{}"

[check]
allow = ["unknown-option"]
deny = ["unused-binding"]
ignore = ["legacy/"]
"#,
            f.join("micros").display(),
            f.join("nixpkgs").display()
        ),
    );
    write(&dir, "legacy/old.nix", "{ x = ; }\n");
    // No --micros: the settings name the sources.
    let output = run(micros(&dir).args(["--format", "json", "."]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(field(&output, "file"), ["configuration.nix"; 3]);
    assert_eq!(
        field(&output, "code"),
        ["type-mismatch", "unused-binding", "type-mismatch"]
    );
    assert_eq!(field(&output, "severity"), ["error"; 3]);
    // The command line beats the file.
    let output = run(micros(&dir).args([
        "--allow",
        "warnings",
        "--deny",
        "unknown-option",
        "--format",
        "json",
        ".",
    ]));
    assert_eq!(
        field(&output, "code"),
        ["type-mismatch", "unknown-option", "type-mismatch"]
    );

    // A mistake in the file is a usage error naming the file and line.
    write(
        &dir,
        "micros.toml",
        "[check]\nallow = [\"unknown-option\"]\nalow = []\n",
    );
    let output = run(&mut check(&dir));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: {}/micros.toml: ", dir.display()))
            && stderr.contains("line 3")
            && stderr.contains("alow"),
        "{stderr}"
    );
}

#[test]
fn directories_honour_gitignore_and_skip_hidden_directories() {
    let dir = scratch("gitignore");
    write(&dir, ".gitignore", "generated/\n");
    write(&dir, "generated/bad.nix", "{ x = ; }\n");
    write(&dir, ".direnv/bad.nix", "{ x = ; }\n");
    write(&dir, "notes.txt", "not nix\n");
    write(&dir, "hosts/web.nix", "{ services.getty.enable = true; }\n");
    let output = run(check(&dir).arg("."));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert_eq!(text(&output.stdout), "ok: 1 file checked\n");
}

#[test]
fn without_paths_the_flake_modules_and_their_imports() {
    let dir = project("flake");
    write(&dir, "unreferenced.nix", "{ x = ; }\n");
    let output = run(check(&dir).args(["--format", "json"]));
    let mut files = field(&output, "file");
    files.dedup();
    assert_eq!(files, ["configuration.nix"]);
    assert_eq!(
        text(&output.stderr),
        "error: 3 errors, 1 warning in 1 of 4 files\n",
        "flake.nix, configuration.nix and its two imports"
    );

    // From a subdirectory, the same flake.
    let output = run(check(&dir.join("modules")).args(["--format", "json"]));
    assert_eq!(
        text(&output.stderr),
        "error: 3 errors, 1 warning in 1 of 4 files\n"
    );

    // Outside any flake, a path is needed (the repository itself has a
    // flake.nix, so not below the target directory).
    let lonely = std::env::temp_dir().join(format!("micros-check-no-flake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&lonely);
    std::fs::create_dir_all(&lonely).unwrap();
    let output = run(&mut check(&lonely));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).starts_with("error: no PATH given, and no flake.nix in "),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_flake_is_checked_for_syntax_and_names_only() {
    let dir = scratch("flake-only");
    write(
        &dir,
        "flake.nix",
        "{\n  description = \"not an option\";\n  outputs = { ... }: { x = y; };\n}\n",
    );
    let output = run(check(&dir).args(["--format", "json", "flake.nix"]));
    assert_eq!(field(&output, "code"), ["undefined-variable"]);
}

#[test]
fn missing_sources_are_a_warning_unless_denied() {
    let dir = scratch("no-sources");
    write(
        &dir,
        "configuration.nix",
        "{ services.gety.enable = true; }\n",
    );
    let output = run(micros(&dir).arg("configuration.nix"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("warning[missing-sources]: ")
            && stdout.contains("only syntax and names"),
        "{stdout}"
    );
    let json = run(micros(&dir).args(["--format", "json", "configuration.nix"]));
    assert_eq!(field(&json, "file"), [Value::Null]);
    assert_eq!(field(&json, "code"), ["missing-sources"]);
    let denied = run(micros(&dir).args(["--deny", "missing-sources", "configuration.nix"]));
    assert_eq!(denied.status.code(), Some(1));

    // A module of the user's that declares an option of its own does not
    // make everything else unknown: without micros's options, no name is
    // judged unknown (they once all were).
    write(
        &dir,
        "mine.nix",
        "{ lib, ... }: { options.my.enable = lib.mkEnableOption \"mine\"; }\n",
    );
    write(
        &dir,
        "flake.nix",
        "{ outputs = { micros, ... }: { packages.x86_64-linux.default = (micros.lib.microsSystem { modules = [ ./configuration.nix ./mine.nix ]; }).config.system.build.image; }; }\n",
    );
    write(
        &dir,
        "configuration.nix",
        "{ my.enable = \"yes\"; services.gety.enable = true; }\n",
    );
    let json = run(micros(&dir).args(["--format", "json"]));
    // The user's own option is still checked against its type.
    assert_eq!(field(&json, "code"), ["missing-sources", "type-mismatch"]);
}

#[test]
fn options_json_instead_of_sources() {
    let dir = scratch("options-json");
    let f = fixtures();
    let options = run(Command::new(env!("CARGO_BIN_EXE_micros"))
        .arg("options")
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs")));
    std::fs::write(dir.join("options.json"), &options.stdout).unwrap();
    write(
        &dir,
        "configuration.nix",
        "{ services.gety.enable = true; }\n",
    );
    let output = run(micros(&dir).args(["--options", "options.json", "configuration.nix"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stdout).contains("error[unknown-option]"));
}

#[test]
fn many_files_in_parallel_match_one_thread() {
    let dir = scratch("parallel");
    for i in 0..40 {
        write(
            &dir,
            &format!("host{i:02}.nix"),
            &format!(
                "{{\n  services.getty.enable = {};\n  users.u{i}.uid = {};\n}}\n",
                if i % 3 == 0 { "1" } else { "true" },
                if i % 5 == 0 { "\"x\"" } else { "1" }
            ),
        );
    }
    let one = run(check(&dir).args(["-j", "1", "--format", "json", "."]));
    let four = run(check(&dir).args(["-j", "4", "--format", "json", "."]));
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(text(&one.stdout), text(&four.stdout));
    assert_eq!(field(&one, "code").len(), 14 + 8);
}

/// `--eval` without Nix: one warning, then the same findings as without it.
#[test]
fn eval_falls_back_to_static_options_without_nix() {
    let dir = project("eval-no-nix");
    let statically = run(check(&dir).args(["--format", "json"]));
    let evaluated = run(check(&dir)
        .args(["--format", "json", "--eval"])
        .env("PATH", "/nonexistent"));
    let stderr = text(&evaluated.stderr);
    assert!(
        stderr.contains("evaluating the options with Nix failed") && stderr.contains("without Nix"),
        "{stderr}"
    );
    assert_eq!(evaluated.status.code(), statically.status.code());
    assert_eq!(field(&evaluated, "code"), field(&statically, "code"));
    assert!(!field(&evaluated, "code").is_empty());
}

/// `eval = true` in micros.toml with Nix and the upstream trees: the
/// option set comes from Nix and the findings are the real ones.
#[test]
fn eval_setting_checks_against_the_evaluated_options() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("eval_setting_checks_against_the_evaluated_options")
    else {
        return;
    };
    let dir = scratch("eval-nix");
    write(&dir, "flake.nix", FLAKE);
    write(
        &dir,
        "micros.toml",
        &format!(
            "[sources]\nmicros = \"{}\"\nnixpkgs = \"{}\"\neval = true\n",
            micros_src.display(),
            nixpkgs.display()
        ),
    );
    write(
        &dir,
        "configuration.nix",
        "{ services.getty.enable = true; services.gety.enable = true; users.alice.uid = \"1\"; }\n",
    );
    let output = run(micros(&dir)
        .args(["--format", "json"])
        .env("XDG_CACHE_HOME", dir.join("cache")));
    assert!(
        !text(&output.stderr).contains("failed"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(
        field(&output, "code"),
        [json!("unknown-option"), json!("type-mismatch")]
    );
}

/// nixpkgs's own `lib/` is library code, not modules: no option
/// diagnostics anywhere outside its tests. Needs MICROS_NIXPKGS.
#[test]
fn nixpkgs_lib_is_not_taken_for_modules() {
    let Some(nixpkgs) = std::env::var_os("MICROS_NIXPKGS").filter(|v| !v.is_empty()) else {
        eprintln!("skipped: set MICROS_NIXPKGS to check nixpkgs's lib/");
        return;
    };
    let lib = PathBuf::from(nixpkgs).join("lib");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&lib)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "tests"))
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "nix"))
        .collect();
    paths.sort();
    let output = run(check(&lib).args(["--format", "json"]).args(&paths));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let option_findings: Vec<&Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            !matches!(
                d["code"].as_str(),
                Some("syntax-error" | "undefined-variable" | "unused-binding")
            )
        })
        .collect();
    assert!(option_findings.is_empty(), "{option_findings:#?}");
    let undefined = field(&output, "code")
        .iter()
        .filter(|c| *c == "undefined-variable")
        .count();
    assert_eq!(undefined, 0, "{}", text(&output.stdout));
}

/// The modules written in flake.nix are checked like files, at their
/// lines; the rest of the flake is not a module.
#[test]
fn inline_modules_of_the_flake_are_checked() {
    let dir = scratch("inline-modules");
    write(
        &dir,
        "flake.nix",
        r#"{
  description = "not an option";
  outputs = { micros, ... }: {
    packages.x86_64-linux.container = (micros.lib.microsSystem {
      modules = [
        ./configuration.nix
        { boot.isContaner = true; }
      ];
    }).config.system.build.ociImage;
  };
}
"#,
    );
    write(
        &dir,
        "configuration.nix",
        "{ services.getty.enable = true; }\n",
    );
    let output = run(check(&dir).args(["--format", "json"]));
    assert_eq!(
        field(&output, "file"),
        ["flake.nix", "flake.nix"],
        "{}",
        text(&output.stdout)
    );
    // The misspelt `boot.isContainer` leaves the OCI image's system no
    // container.
    assert_eq!(field(&output, "line"), [7, 9]);
    assert_eq!(
        field(&output, "code"),
        ["unknown-option", "container-output"]
    );

    // Given a path, the flake still says the file is one of its modules.
    write(
        &dir,
        "configuration.nix",
        "{ lib, ... }: { servics.getty.enable = true; }\n",
    );
    let output = run(check(&dir).args(["--format", "json", "configuration.nix"]));
    assert_eq!(field(&output, "file"), ["configuration.nix"]);
    assert_eq!(field(&output, "code"), ["unknown-option"]);
}

/// An import of a file that is not there stops Nix: an error at the path,
/// in a module and in a system's module list; `--system` keeps only that
/// system's.
#[test]
fn imports_of_files_that_do_not_exist_are_missing_imports() {
    let dir = scratch("missing-import");
    write(
        &dir,
        "flake.nix",
        r#"{
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = micros.lib.microsSystem {
      modules = [ ./configuration.nix ./iso.nix ];
    };
    packages.x86_64-linux.container = micros.lib.microsSystem {
      modules = [ ./configuration.nix ];
    };
  };
}
"#,
    );
    write(
        &dir,
        "configuration.nix",
        "{ ... }: {\n  imports = [ ./gone.nix ./hardware.nix ];\n  services.getty.enable = true;\n}\n",
    );
    write(&dir, "hardware.nix", "{ ... }: { }\n");
    let output = run(check(&dir).args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert_eq!(field(&output, "code"), ["missing-import", "missing-import"]);
    assert_eq!(field(&output, "file"), ["configuration.nix", "flake.nix"]);
    assert_eq!(field(&output, "line"), [2, 4]);
    let messages = field(&output, "message");
    assert_eq!(
        messages[0],
        format!(
            "`./gone.nix` does not exist; nix will stop with \"getting status of '{}': No such file or directory\"",
            dir.join("gone.nix").display()
        )
    );
    assert!(
        messages[1]
            .as_str()
            .unwrap()
            .starts_with("`./iso.nix` does not exist"),
        "{messages:?}"
    );
    // The container does not use iso.nix.
    let output = run(check(&dir).args(["--format", "json", "--system", "container"]));
    assert_eq!(field(&output, "file"), ["configuration.nix"]);
    // A file given by path: the same.
    let output = run(check(&dir).args(["--format", "json", "configuration.nix"]));
    assert_eq!(field(&output, "code"), ["missing-import"]);
}

/// Each file defining something in terms of itself gets its one diagnostic
/// at the binding's line, and the run goes on to the other files.
#[test]
fn recursion_is_one_diagnostic_per_file_and_the_check_goes_on() {
    let dir = fixtures().join("recursion");
    let f = fixtures();
    for (file, code, line, _) in common::RECURSION_VARIANTS {
        let output = run(micros(&dir)
            .arg("--micros")
            .arg(f.join("micros"))
            .arg("--nixpkgs")
            .arg(f.join("nixpkgs"))
            .args(["--format", "json", file]));
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{file}: {:?} {}",
            output.status,
            text(&output.stderr)
        );
        assert_eq!(field(&output, "code"), [json!(code)], "{file}");
        assert_eq!(field(&output, "line"), [json!(line)], "{file}");
    }
    // All at once, beside a file with an ordinary finding: nothing is lost.
    let mut command = micros(&dir);
    command
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs"))
        .args(["--format", "json"]);
    for (file, ..) in common::RECURSION_VARIANTS {
        command.arg(file);
    }
    let output = run(command.arg(f.join("broken/syntax-error.nix")));
    let codes = field(&output, "code");
    let cycles = codes
        .iter()
        .filter(|c| *c == "infinite-recursion" || *c == "import-cycle")
        .count();
    assert_eq!(cycles, common::RECURSION_VARIANTS.len(), "{codes:?}");
    assert!(codes.contains(&json!("syntax-error")), "{codes:?}");
}

/// A plaintext password is reported, and its text appears in no format:
/// not in messages, not in JSON, SARIF or GitHub annotations, and the human
/// excerpt (also another finding's on the same line) shows it masked.
#[test]
fn no_format_contains_the_password() {
    const SECRET: &str = "Tr0ub4dor&3";
    let dir = scratch("password");
    // micros's own declarations of the two options used (as its
    // options.json has them).
    let option = |name: &str, ty: &str| {
        json!({
            "declarations": ["micros/modules/system/users.nix"],
            "description": "",
            "loc": ["users", "<name>", name],
            "readOnly": false,
            "type": ty,
        })
    };
    let options = json!({
        "users": {
            "declarations": ["micros/modules/system/users.nix"],
            "description": "",
            "loc": ["users"],
            "readOnly": false,
            "type": "attribute set of (submodule)",
        },
        "users.<name>.password": option("password", "string"),
        "users.<name>.uid": option("uid", "null or signed integer"),
    });
    write(&dir, "options.json", &options.to_string());
    write(
        &dir,
        "configuration.nix",
        &format!(
            r#"{{ ... }}: {{
  users.alice = {{ uidd = 1; password = "{SECRET}"; }};
  users.bob.password = "!";
}}
"#
        ),
    );
    let check = || {
        let mut command = micros(&dir);
        command.args(["--options", "options.json", "configuration.nix"]);
        command
    };
    for format in ["human", "json", "sarif", "github"] {
        let output = run(check().args(["--format", format]));
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stdout.contains("plaintext-password"), "{format}: {stdout}");
        for part in [SECRET, "Tr0ub", "4dor"] {
            assert!(
                !stdout.contains(part) && !stderr.contains(part),
                "{format} shows the password: {stdout}{stderr}"
            );
        }
    }
    let output = run(&mut check());
    expect![[r#"
        error[unknown-option]: the option `users.alice.uidd` does not exist
          --> configuration.nix:2:19
          |
        2 |   users.alice = { uidd = 1; password = "********"; };
          |                   ^^^^
          = help: did you mean `users.alice.uid`?

        warning[plaintext-password]: `users.alice.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
          --> configuration.nix:2:40
          |
        2 |   users.alice = { uidd = 1; password = "********"; };
          |                                        ^^^^^^^^^^
          = help: set a crypt(3) hash made with `mkpasswd` (e.g. `mkpasswd -m yescrypt`); "" allows logging in without a password, "!" disables password login

        error: 1 error, 1 warning in 1 of 1 file
    "#]]
    .assert_eq(&text(&output.stdout));
}

fn git(dir: &Path, args: &[&str]) {
    let output = run(Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CEILING_DIRECTORIES", scratch_root()));
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
}

fn has_git() -> bool {
    let found = Command::new("git").arg("--version").output().is_ok();
    if !found {
        eprintln!("skipped: no git on PATH");
    }
    found
}

/// In a git work tree, the files a flake uses that git does not track are
/// reported where they are named; tracked and intent-to-add files are not;
/// and git's index is left as it was.
#[test]
fn files_git_does_not_track_are_reported() {
    if !has_git() {
        return;
    }
    let dir = scratch("untracked");
    write(
        &dir,
        "flake.nix",
        &FLAKE.replace(
            "./configuration.nix",
            "./configuration.nix ./hardware-configuration.nix",
        ),
    );
    write(
        &dir,
        "configuration.nix",
        "{ ... }: {\n  imports = [ ./users.nix ./secret.nix ];\n}\n",
    );
    write(&dir, "hardware-configuration.nix", "{ ... }: { }\n");
    write(&dir, "users.nix", "{ ... }: { }\n");
    write(&dir, "secret.nix", "{ ... }: { }\n");
    write(&dir, ".gitignore", "secret.nix\n");
    git(&dir, &["init", "-q"]);
    git(
        &dir,
        &["add", "flake.nix", "configuration.nix", ".gitignore"],
    );
    git(
        &dir,
        &["add", "--intent-to-add", "hardware-configuration.nix"],
    );
    let index = std::fs::read(dir.join(".git/index")).unwrap();

    let output = run(check(&dir).args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let found: Vec<(Value, Value, Value)> = serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "untracked-file")
        .map(|d| (d["file"].clone(), d["line"].clone(), d["message"].clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                json!("configuration.nix"),
                json!(2),
                json!(
                    "`./users.nix` is not tracked by git: nix will not see this file; run `git add users.nix`"
                )
            ),
            (
                json!("configuration.nix"),
                json!(2),
                json!(
                    "`./secret.nix` is ignored by git: nix will not see this file; run `git add -f secret.nix` if it belongs to the system"
                )
            ),
        ]
    );
    assert_eq!(std::fs::read(dir.join(".git/index")).unwrap(), index);

    // Once added, nothing.
    git(&dir, &["add", "users.nix"]);
    git(&dir, &["add", "-f", "secret.nix"]);
    let output = run(check(&dir).args(["--format", "json"]));
    assert_eq!(field(&output, "code"), Vec::<Value>::new());
}

/// Outside a git work tree there is nothing to say.
#[test]
fn without_git_nothing_is_untracked() {
    let dir = scratch("no-git");
    write(&dir, "flake.nix", FLAKE);
    write(
        &dir,
        "configuration.nix",
        "{ ... }: { imports = [ ./users.nix ]; }\n",
    );
    write(&dir, "users.nix", "{ ... }: { }\n");
    let output = run(&mut check(&dir));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stdout));
    assert_eq!(text(&output.stdout), "ok: 3 files checked\n");
}

/// tests/fixtures/systems: two images sharing configuration.nix; the
/// default one also has hardware-configuration.nix, whose domain conflicts.
fn systems_fixture() -> PathBuf {
    fixtures().join("systems")
}

/// SARIF carries a conflict with both definitions: the one reported, and
/// the other as a related location.
#[test]
fn sarif_carries_conflicting_definitions_with_both_locations() {
    let output = run(check(&systems_fixture()).args(["--format", "sarif"]));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let sarif: Value = serde_json::from_slice(&output.stdout).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let conflicts: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "conflicting-definitions")
        .collect();
    assert_eq!(conflicts.len(), 1, "{results:#?}");
    let conflict = conflicts[0];
    let place = |location: &Value| {
        let physical = &location["physicalLocation"];
        format!(
            "{}:{}:{}-{}",
            physical["artifactLocation"]["uri"].as_str().unwrap_or("?"),
            physical["region"]["startLine"],
            physical["region"]["startColumn"],
            physical["region"]["endColumn"],
        )
    };
    assert_eq!(
        place(&conflict["locations"][0]),
        "hardware-configuration.nix:2:23-36"
    );
    assert_eq!(
        place(&conflict["relatedLocations"][0]),
        "configuration.nix:3:23-36"
    );
    assert_eq!(
        conflict["relatedLocations"][0]["message"]["text"],
        "also defined here: \"example.org\""
    );
    assert!(
        conflict["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("(in packages.x86_64-linux.default)")),
        "{conflict:#?}"
    );
}

/// `--system NAME` checks that system's files, with its findings only.
#[test]
fn one_system_by_name() {
    let dir = systems_fixture();
    let findings = |system: &str| {
        let output = run(check(&dir).args(["--format", "json", "--system", system]));
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        let files = field(&output, "file");
        let codes = field(&output, "code");
        files
            .iter()
            .zip(codes)
            .map(|(f, c)| {
                format!(
                    "{} {}",
                    f.as_str().unwrap_or("?"),
                    c.as_str().unwrap_or("?")
                )
            })
            .collect::<Vec<_>>()
    };
    // The container: its inline module's mistake, not the default image's
    // conflict.
    assert_eq!(findings("container"), ["flake.nix type-mismatch"]);
    assert_eq!(
        findings("packages.x86_64-linux.default"),
        ["hardware-configuration.nix conflicting-definitions"]
    );
    let output = run(check(&dir).args(["--format", "json", "--system", "container"]));
    // Its three files: flake.nix, configuration.nix and what that imports.
    assert_eq!(text(&output.stderr), "error: 1 error in 1 of 3 files\n");
    let output = run(check(&dir).args(["--system", "iso"]));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: no system `iso` in flake.nix (its systems: packages.x86_64-linux.container, packages.x86_64-linux.default)\n"
    );
}
