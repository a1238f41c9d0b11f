//! `micros options --eval` and `--compare` with real Nix on the upstream
//! micros tree and a nixpkgs tree (MICROS_SRC, MICROS_NIXPKGS). Skips with
//! a message when Nix or the trees are missing; the fallback without Nix
//! runs everywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::fixtures;

/// The text `--eval` shows for a default it could not evaluate.
const NOT_EVALUABLE: &str = micros_lsp::nix::eval::NOT_EVALUABLE;

fn reference() -> BTreeMap<String, Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/micros-options.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference")).expect("parses")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("micros-eval-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `micros` with its own cache directory and no source variables.
fn micros(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
    command
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", cache)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS");
    common::offline_nix(&mut command);
    command
}

/// `micros options ARGS --micros MICROS --nixpkgs NIXPKGS`, as [`micros`].
fn options_on(cache: &Path, args: &[&str], micros_dir: &Path, nixpkgs: &Path) -> Command {
    let mut command = micros(cache);
    command
        .arg("options")
        .args(args)
        .arg("--micros")
        .arg(micros_dir)
        .arg("--nixpkgs")
        .arg(nixpkgs);
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stdout, once the exit status is `code`.
fn stdout_of(output: &Output, code: i32) -> String {
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        text(&output.stderr)
    );
    stdout
}

fn eval_json(output: &Output) -> BTreeMap<String, Value> {
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("options.json")
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs");
    assert!(status.success());
}

#[test]
fn eval_equals_the_reference() {
    let Some((micros_src, nixpkgs)) = common::upstream_trees_with_nix("eval_equals_the_reference")
    else {
        return;
    };
    let cache = temp("reference-cache");
    let output = options_on(
        &cache,
        &["--eval", "--no-cache", "--include-internal"],
        &micros_src,
        &nixpkgs,
    )
    .output()
    .expect("micros runs");
    let ours = eval_json(&output);
    let reference = reference();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>(),
        "the same option names"
    );
    let mut unevaluated = 0;
    for (name, expected) in &reference {
        let actual = ours[name].as_object().expect("an object");
        let expected = expected.as_object().expect("an object");
        for (field, value) in expected {
            if field == "default" && value["_type"] == "goldenUnevaluated" {
                // The reference could not evaluate it either: ours says so.
                assert_eq!(actual["default"]["_type"], "literalMD", "{name}");
                assert_eq!(actual["default"]["text"], NOT_EVALUABLE, "{name}");
                unevaluated += 1;
                continue;
            }
            assert_eq!(actual.get(field), Some(value), "{name}: {field}");
        }
        let extra: Vec<&String> = actual
            .keys()
            .filter(|k| !expected.contains_key(*k))
            .collect();
        assert!(
            extra.is_empty(),
            "{name}: fields the reference lacks: {extra:?}"
        );
    }
    assert_eq!(unevaluated, 7);
    assert!(
        text(&output.stderr).contains("7 options have a default or example that needs `pkgs`"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn compare_on_the_upstream_tree_finds_no_difference() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("compare_on_the_upstream_tree_finds_no_difference")
    else {
        return;
    };
    let cache = temp("compare-cache");
    let output = micros(&cache)
        .args(["options", "--compare", "--no-cache"])
        .env("MICROS_SRC", &micros_src)
        .env("MICROS_NIXPKGS", &nixpkgs)
        .output()
        .expect("micros runs");
    let stdout = text(&output.stdout);
    eprintln!("{stdout}");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        stdout.starts_with("330 options evaluated, 258 extracted statically (72 `_module.*`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("summary: 0 differences; names: 0 only evaluated, 0 only extracted; types 258/258 equal; defaults 251/251 equal (7 not evaluable without pkgs); examples 258/258 equal"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

/// A copy of the micros tree with one more module, listed in
/// all-modules.nix.
fn micros_with_module(
    micros_src: &Path,
    name: &str,
    module: &str,
    files: &[(&str, &str)],
) -> PathBuf {
    let dir = temp(name);
    copy_tree(micros_src, &dir.join("micros"));
    let modules = dir.join("micros/micros/modules");
    std::fs::write(modules.join("demo.nix"), module).expect("write the module");
    for (file, content) in files {
        std::fs::write(modules.join(file), content).expect("write");
    }
    let list = modules.join("all-modules.nix");
    let text = std::fs::read_to_string(&list).expect("all-modules.nix");
    let text = text.replacen('[', "[\n  ./demo.nix", 1);
    std::fs::write(&list, text).expect("write all-modules.nix");
    dir
}

#[test]
fn compare_shows_what_the_extractor_cannot_see() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("compare_shows_what_the_extractor_cannot_see")
    else {
        return;
    };
    // Names and defaults read from files: Nix reads them, the static
    // extractor never does.
    let dir = micros_with_module(
        &micros_src,
        "compare_shows_what_the_extractor_cannot_see",
        r#"{ lib, ... }: {
  options.demo.${builtins.readFile ./demo-name.txt} = lib.mkOption {
    type = lib.types.bool;
    default = false;
    description = "Named by a file.";
  };
  options.demo.greeting = lib.mkOption {
    type = lib.types.str;
    default = builtins.readFile ./demo-greeting.txt;
    description = "Read from a file.";
  };
}
"#,
        &[
            ("demo-name.txt", "fromFile"),
            ("demo-greeting.txt", "hello"),
        ],
    );
    let output = options_on(
        &dir,
        &["--compare", "--no-cache"],
        &dir.join("micros"),
        &nixpkgs,
    )
    .output()
    .expect("micros runs");
    let stdout = stdout_of(&output, 1);
    assert!(
        stdout.contains("only evaluated:  demo.fromFile\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "default of demo.greeting:\n  static:    builtins.readFile ./demo-greeting.txt\n  evaluated: \"hello\"\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("summary: 2 differences"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn results_are_cached_until_the_sources_change() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("results_are_cached_until_the_sources_change")
    else {
        return;
    };
    let cache = temp("cached");
    let run = |extra: &[&str]| {
        let args = [&["--eval", "--format", "list"], extra].concat();
        let output = options_on(&cache, &args, &micros_src, &nixpkgs)
            .output()
            .expect("micros runs");
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    let first = run(&[]);
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.join("micros/options-eval"))
        .expect("the cache directory")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    // Alter the cached result: the next run must show it, proving it was
    // read rather than evaluated again; --no-cache evaluates.
    let cached = std::fs::read_to_string(&entries[0]).expect("cache file");
    assert!(cached.contains("\"type\":\"boolean\""));
    std::fs::write(
        &entries[0],
        cached.replace("\"type\":\"boolean\"", "\"type\":\"signed integer\""),
    )
    .expect("write");
    let second = run(&[]);
    assert_ne!(first, second);
    assert!(second.contains(": signed integer = false"), "{second}");
    assert_eq!(run(&["--no-cache"]), first);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn limits_stop_the_evaluation_and_fall_back() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("limits_stop_the_evaluation_and_fall_back")
    else {
        return;
    };
    // Sizes read from files, so that only Nix computes with them (the
    // static extractor leaves what it cannot read unknown).
    let dir = micros_with_module(
        &micros_src,
        "limits_stop_the_evaluation_and_fall_back",
        r#"{ lib, ... }: let
  size = file: lib.toInt (builtins.readFile file);
in {
  options.demo.slow = lib.mkOption {
    type = lib.types.int;
    default = builtins.foldl' (a: i: a + builtins.length (builtins.genList (x: x) (size ./demo-inner.txt))) 0 (builtins.genList (x: x) (size ./demo-outer.txt));
    description = "Minutes to evaluate.";
  };
  options.demo.big = lib.mkOption {
    type = lib.types.int;
    example = builtins.length (builtins.genList (x: x) (size ./demo-big.txt));
    description = "Gigabytes to evaluate.";
  };
}
"#,
        &[
            ("demo-inner.txt", "100000"),
            ("demo-outer.txt", "1000000"),
            ("demo-big.txt", "200000000"),
        ],
    );
    let run = |extra: &[&str]| {
        let args = [&["--eval", "--no-cache", "--format", "list"], extra].concat();
        options_on(&dir, &args, &dir.join("micros"), &nixpkgs)
            .output()
            .expect("micros runs")
    };
    let started = std::time::Instant::now();
    let output = run(&["--timeout", "2"]);
    let stderr = text(&output.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not finish evaluating within 2 s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: falling back to the static extraction"),
        "{stderr}"
    );
    // The static set is printed instead.
    assert!(text(&output.stdout).contains("demo.slow: signed integer"));

    let output = run(&["--timeout", "300", "--memory", "512"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("evaluating with Nix failed"), "{stderr}");
    assert!(
        stderr.contains("out of memory") || stderr.contains("memory limit of 512 MiB"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flake_is_evaluated_through_its_micros_input() {
    let Some((micros_src, nixpkgs)) =
        common::upstream_trees_with_nix("a_flake_is_evaluated_through_its_micros_input")
    else {
        return;
    };
    // A user flake with path inputs: nixpkgs (its lib as a flake) and
    // micros, whose other inputs follow nixpkgs so that nothing is fetched.
    let dir = temp("flake");
    copy_tree(&nixpkgs, &dir.join("nixpkgs"));
    std::fs::write(
        dir.join("nixpkgs/flake.nix"),
        "{ outputs = { self }: { lib = import ./lib; }; }\n",
    )
    .expect("write");
    copy_tree(&micros_src, &dir.join("micros"));
    // Its lock names github inputs in a format newer than some Nix reads.
    let _ = std::fs::remove_file(dir.join("micros/flake.lock"));
    let user = dir.join("user");
    copy_tree(&fixtures().join("user"), &user);
    std::fs::write(
        user.join("flake.nix"),
        format!(
            r#"{{
  inputs.nixpkgs.url = "path:{nixpkgs}";
  inputs.micros = {{
    url = "path:{micros}";
    inputs.nixpkgs.follows = "nixpkgs";
    inputs.oci-tool.follows = "nixpkgs";
    inputs.nixos-core.follows = "nixpkgs";
    inputs.ndg.follows = "nixpkgs";
  }};
  outputs = {{ self, micros, nixpkgs }}: {{ }};
}}
"#,
            nixpkgs = dir.join("nixpkgs").display(),
            micros = dir.join("micros").display()
        ),
    )
    .expect("write flake.nix");
    let lock = common::offline_nix(&mut Command::new("nix"))
        .args(micros_lsp::nix::FEATURES)
        .args(["flake", "lock"])
        .current_dir(&user)
        .output()
        .expect("nix runs");
    assert!(lock.status.success(), "{}", text(&lock.stderr));

    let output = micros(&dir)
        .args([
            "options",
            "--eval",
            "--include-internal",
            "configuration.nix",
        ])
        .current_dir(&user)
        .output()
        .expect("micros runs");
    let ours = eval_json(&output);
    assert_eq!(ours.len(), 332, "micros's 330 and the user's 2");
    assert_eq!(
        ours["services.myService.port"]["declarations"],
        serde_json::json!(["modules/my-service.nix"])
    );
    assert_eq!(
        ours["services.getty.enable"]["declarations"],
        reference()["services.getty.enable"]["declarations"]
    );

    // The static extractor finds micros through the same flake.lock; the
    // one difference: a default computed from the user's definitions.
    let output = micros(&dir)
        .args(["options", "--compare", "configuration.nix"])
        .current_dir(&user)
        .output()
        .expect("micros runs");
    let stdout = stdout_of(&output, 1);
    assert!(
        stdout.contains("default of networking.firewall.allInterfaces:"),
        "{stdout}"
    );
    assert!(stdout.contains("summary: 1 differences"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_nix_the_static_set_is_printed_with_one_message() {
    let cache = temp("no-nix");
    let (micros_dir, nixpkgs) = (fixtures().join("micros"), fixtures().join("nixpkgs"));
    let static_output = options_on(&cache, &["--include-internal"], &micros_dir, &nixpkgs)
        .output()
        .expect("micros runs");
    let output = options_on(
        &cache,
        &["--eval", "--include-internal"],
        &micros_dir,
        &nixpkgs,
    )
    .env("PATH", "/nonexistent")
    .output()
    .expect("micros runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "one message: {stderr}");
    assert!(
        stderr
            .contains("error: evaluating with Nix failed: Nix is not installed (no `nix` on PATH)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: falling back to the static extraction"),
        "{stderr}"
    );
    assert_eq!(output.stdout, static_output.stdout);

    // --compare has nothing to fall back to.
    let output = options_on(&cache, &["--compare"], &micros_dir, &nixpkgs)
        .env("PATH", "/nonexistent")
        .output()
        .expect("micros runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn eval_without_any_source_says_how_to_name_one() {
    let dir = temp("nowhere");
    let output = micros(&dir)
        .args(["options", "--eval"])
        .current_dir(&dir)
        .output()
        .expect("micros runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no flake.nix at or above"), "{stderr}");
    assert!(stderr.contains("--micros DIR --nixpkgs DIR"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
