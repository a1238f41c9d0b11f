//! `micros options`, run as the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[allow(dead_code)]
mod common;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .canonicalize()
        .unwrap()
}

fn micros() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
    // Source discovery must not depend on the developer's environment.
    command
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1");
    command
}

fn with_fixture_sources(command: &mut Command) -> &mut Command {
    let f = fixtures();
    command
        .arg("options")
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run micros")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn json_is_options_json_in_the_nixpkgs_schema() {
    let output = run(with_fixture_sources(&mut micros()).args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let options: serde_json::Map<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(options.len() > 50, "{} options", options.len());
    for (name, option) in &options {
        for field in [
            "loc",
            "declarations",
            "description",
            "type",
            "readOnly",
            "internal",
            "visible",
        ] {
            assert!(option.get(field).is_some(), "{name} has no {field}");
        }
        assert_eq!(
            option["internal"], false,
            "{name}: internal options are left out by default"
        );
    }
    let from_nixpkgs = options
        .values()
        .filter(|o| {
            o["declarations"][0]
                .as_str()
                .is_some_and(|d| d.starts_with("<nixpkgs>/nixos/modules/"))
        })
        .count();
    let from_micros = options
        .values()
        .filter(|o| {
            o["declarations"][0]
                .as_str()
                .is_some_and(|d| d.starts_with("micros/modules/"))
        })
        .count();
    assert!(
        from_nixpkgs > 0 && from_micros > 0,
        "nixpkgs {from_nixpkgs}, micros {from_micros}"
    );

    let with_internal = run(with_fixture_sources(&mut micros()).args(["--include-internal"]));
    let all: serde_json::Map<String, Value> =
        serde_json::from_slice(&with_internal.stdout).unwrap();
    assert!(all.len() > options.len());
    assert!(all.values().any(|o| o["internal"] == true));
}

#[test]
fn list_and_tree_show_names_types_and_defaults() {
    let list = text(&run(with_fixture_sources(&mut micros()).args(["--format", "list"])).stdout);
    let json = run(with_fixture_sources(&mut micros()));
    let options: serde_json::Map<String, Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list.lines().count(), options.len());
    let (name, option) = options
        .iter()
        .find(|(_, o)| o["type"] == "boolean" && o["default"]["text"] == "false")
        .unwrap();
    assert!(
        list.lines()
            .any(|l| l == format!("{name}: boolean = false")),
        "{name} missing from\n{list}"
    );

    let tree = text(&run(with_fixture_sources(&mut micros()).args(["--format", "tree"])).stdout);
    let leaf = option["loc"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        tree.lines()
            .any(|l| l.ends_with(&format!("── {leaf}: boolean = false"))),
        "{tree}"
    );
    assert!(tree.lines().all(|l| l.contains("── ")), "{tree}");
}

#[test]
fn the_users_own_modules_are_added_from_the_entry() {
    // A copy outside the repository, whose own flake.nix would otherwise be
    // the user's root.
    let user = std::env::temp_dir().join(format!("micros-options-user-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&user);
    for file in [
        "configuration.nix",
        "hardware-configuration.nix",
        "modules/my-service.nix",
    ] {
        let target = user.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures().join("user").join(file), &target).unwrap();
    }
    let entry = user.join("configuration.nix");
    let output = run(with_fixture_sources(&mut micros()).arg(&entry));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let options: serde_json::Map<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    let mine: Vec<(&String, &Value)> = options
        .iter()
        .filter(|(n, _)| n.starts_with("services.myService."))
        .collect();
    assert!(!mine.is_empty());
    for (_, option) in mine {
        assert_eq!(option["declarations"][0], "modules/my-service.nix");
    }
}

#[test]
fn a_missing_micros_tree_says_which_and_how_to_provide_it() {
    let output = run(micros().args(["options", "--micros", "/nonexistent/micros"]));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--micros /nonexistent/micros: no such directory"),
        "{stderr}"
    );

    let empty = scratch("no-sources");
    let output = run(micros().current_dir(&empty).arg("options"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the micros source tree was not found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("pass --micros DIR or set MICROS_SRC=DIR"),
        "{stderr}"
    );
}

#[test]
fn without_nixpkgs_a_warning_names_what_is_left_out() {
    let empty = scratch("no-nixpkgs");
    let output = run(micros()
        .current_dir(&empty)
        .args(["options", "--micros"])
        .arg(fixtures().join("micros")));
    assert_eq!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("warning: the nixpkgs source tree was not found"),
        "{stderr}"
    );
    let options: serde_json::Map<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(options.values().all(|o| {
        !o["declarations"][0]
            .as_str()
            .unwrap()
            .starts_with("<nixpkgs>")
    }));
}

#[test]
fn sources_are_found_through_the_flake_lock() {
    let flake = scratch("flake");
    let f = fixtures();
    std::fs::write(flake.join("flake.nix"), "{ outputs = _: { }; }").unwrap();
    std::fs::write(
        flake.join("flake.lock"),
        format!(
            r#"{{ "nodes": {{
                 "root": {{ "inputs": {{ "micros": "micros", "nixpkgs": "nixpkgs" }} }},
                 "micros": {{ "inputs": {{ "nixpkgs": ["nixpkgs"] }}, "locked": {{ "type": "path", "path": "{}" }} }},
                 "nixpkgs": {{ "locked": {{ "type": "path", "path": "{}" }} }} }},
               "root": "root", "version": 7 }}"#,
            f.join("micros").display(),
            f.join("nixpkgs").display()
        ),
    )
    .unwrap();
    let output = run(micros().current_dir(&flake).arg("options"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).is_empty(), "{}", text(&output.stderr));
    let via_lock: serde_json::Map<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    let direct: serde_json::Map<String, Value> =
        serde_json::from_slice(&run(with_fixture_sources(&mut micros())).stdout).unwrap();
    assert_eq!(
        via_lock.keys().collect::<Vec<_>>(),
        direct.keys().collect::<Vec<_>>()
    );
}

#[test]
fn errors_in_sources_are_shown_like_rustc_and_exit_1() {
    let entry = fixtures().join("broken/default.nix");
    let output = run(with_fixture_sources(&mut micros()).arg(&entry));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(stderr.contains("syntax-error.nix:"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.trim_start().starts_with('|') && l.contains('^')),
        "{stderr}"
    );
    // What could be extracted is still printed.
    let options: serde_json::Map<String, Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert!(!options.is_empty());
}

#[test]
fn usage_errors_exit_2_and_help_and_version_work() {
    assert_eq!(
        run(micros().args(["options", "--format", "yaml"]))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run(micros().arg("frobnicate")).status.code(), Some(2));
    let version = run(micros().arg("--version"));
    assert_eq!(version.status.code(), Some(0));
    assert!(text(&version.stdout).starts_with("micros "));
    let help = run(micros().args(["options", "--help"]));
    assert!(text(&help.stdout).contains("--include-internal"));
    let missing = run(with_fixture_sources(&mut micros()).arg("/nonexistent/configuration.nix"));
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("/nonexistent/configuration.nix: no such file"));
}

/// A submodule made anew at every level, each holding the next, is
/// resolved once per level until the depth bound: what its module gets
/// wrong is still said once, not once per level (16 times each before, when the bound was 16).
#[test]
fn findings_inside_a_submodule_nested_in_itself_are_reported_once() {
    let file = fixtures().join("recursion/submodule-fresh-copies.nix");
    let output = run(with_fixture_sources(&mut micros())
        .args(["--format", "list"])
        .arg(&file));
    let stderr = text(&output.stderr);
    let mut headlines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error") || l.starts_with("warning"))
        .collect();
    headlines.sort();
    assert_eq!(
        headlines,
        [
            "error: infinite recursion encountered: submodules nest deeper than 8 levels here",
            "warning: could not resolve the type of `k` statically (`notInScope`); it is treated as any value",
            "warning: could not resolve the type of `l` statically (`alsoNotInScope`); it is treated as any value",
        ],
        "{stderr}"
    );
    assert!(text(&output.stdout).contains("tree.a.b.c.<name>.k"));
}

/// A module whose types, defaults or submodules contain themselves: one
/// diagnostic at the binding's file and line, and every option is listed.
#[test]
fn recursion_is_one_diagnostic_and_the_options_are_still_listed() {
    let dir = fixtures().join("recursion");
    for (file, code, line, declares) in common::RECURSION_VARIANTS {
        if !declares {
            continue;
        }
        let output = run(with_fixture_sources(&mut micros())
            .args(["--format", "list"])
            .arg(dir.join(file)));
        let stderr = text(&output.stderr);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{file}: {:?} {stderr}",
            output.status
        );
        let headline = match *code {
            "import-cycle" => "warning: import cycle",
            _ => "error: infinite recursion encountered",
        };
        let headlines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error") || l.starts_with("warning"))
            .collect();
        assert_eq!(headlines.len(), 1, "{file}: {stderr}");
        assert!(headlines[0].starts_with(headline), "{file}: {stderr}");
        assert!(
            stderr.contains(&format!(".nix:{line}:")),
            "{file}: {stderr}"
        );
        let stdout = text(&output.stdout);
        // The micros options are listed beside the file's own.
        assert!(stdout.contains("services.getty.enable"), "{file}: {stdout}");
    }
}
