//! The findings of a flake's systems, each shown on a flake of its own in
//! tests/fixtures/whole-flake beside the near miss that must not be
//! reported: `micros check` run whole (no path) by the real binary against
//! the fixture micros and nixpkgs trees, on a copy out of git (in git, the
//! copy's files would be untracked and say so).

use std::path::{Path, PathBuf};
use std::process::Command;

use expect_test::{Expect, expect};
use serde_json::Value;

mod common;
use common::{copy_tree, fixtures};

fn scratch_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("whole_flake")
}

/// `micros check --format json` on a copy of the fixture flake `name`:
/// each finding as `file:line:column severity code: message`, with its
/// help on the next line.
fn findings(name: &str) -> String {
    let dir = scratch_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&fixtures().join("whole-flake").join(name), &dir);
    let f = fixtures();
    let output = Command::new(env!("CARGO_BIN_EXE_micros"))
        .current_dir(&dir)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1")
        // The copy sits in this repository's ignored target/: git is not
        // to find the repository from there.
        .env("GIT_CEILING_DIRECTORIES", scratch_root())
        .args(["check", "--format", "json", "--micros"])
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs"))
        .output()
        .expect("run micros");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let diagnostics = json["diagnostics"].as_array().expect("diagnostics");
    // Errors exit 1, warnings alone 0; anything else is a failure of the run.
    let errors = diagnostics.iter().any(|d| d["severity"] == "error");
    let expected_status = if errors { 1 } else { 0 };
    assert_eq!(output.status.code(), Some(expected_status), "{stderr}");
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&format!(
            "{}:{}:{} {} {}: {}\n",
            d["file"].as_str().unwrap_or("?"),
            d["line"],
            d["column"],
            d["severity"].as_str().unwrap_or("?"),
            d["code"].as_str().unwrap_or("?"),
            d["message"].as_str().unwrap_or("?"),
        ));
        if let Some(help) = d["help"].as_str() {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

fn check(name: &str, expected: Expect) {
    expected.assert_eq(&findings(name));
}

#[test]
fn a_misspelt_option_in_an_inline_module() {
    check(
        "inline-module",
        expect![[r#"
        flake.nix:21:18 error unknown-option: the option `boot.isContaner` does not exist
          help: did you mean `boot.isContainer`?
    "#]],
    );
}

#[test]
fn equal_values_and_mk_default_merge_and_different_values_conflict() {
    check(
        "merge",
        expect![[r#"
        other-domain.nix:2:23 error conflicting-definitions: `networking.domain` has conflicting definitions: "example.net" here and "example.org" in domain.nix (in nixosConfigurations.different)
          help: the module system takes one value here: make them equal, or give one a priority with `lib.mkDefault` or `lib.mkForce`
    "#]],
    );
}

#[test]
fn a_package_option_defined_twice_conflicts_even_with_one_value() {
    check(
        "one-definition",
        expect![[r#"
        getty-again.nix:2:28 error conflicting-definitions: `services.getty.package` takes exactly one definition, and it is defined here and in getty.nix (in nixosConfigurations.twice)
          help: remove one of them, or give one a priority with `lib.mkForce`
    "#]],
    );
}

#[test]
fn a_condition_that_cannot_be_decided_is_left_out() {
    check(
        "undecided-condition",
        expect![[r#"
        conditional.nix:8:39 error conflicting-definitions: `networking.domain` has conflicting definitions: "container.example" here and "example.org" in domain.nix (in nixosConfigurations.container)
          help: the module system takes one value here: make them equal, or give one a priority with `lib.mkDefault` or `lib.mkForce`
    "#]],
    );
}

#[test]
fn inputs_passed_in_special_args() {
    check(
        "special-args",
        expect![[r#"
        configuration.nix:1:2 error missing-module-argument: nothing provides the module argument `inputs` (in nixosConfigurations.db)
          help: pass it in the system's `specialArgs` (`specialArgs = { inherit inputs; };`), define `_module.args.inputs` in a module, or give it a default (`inputs ? ...`)
    "#]],
    );
}

#[test]
fn what_micros_passes_its_modules() {
    check(
        "micros-arguments",
        expect![[r#"
        web.nix:2:3 error missing-module-argument: nothing provides the module argument `webRoot`
          help: pass it in the system's `specialArgs` (`specialArgs = { inherit webRoot; };`), define `_module.args.webRoot` in a module, or give it a default (`webRoot ? ...`)
    "#]],
    );
}

#[test]
fn dependencies_on_services_defined_and_misspelt() {
    check(
        "services",
        expect![[r#"
        cache.nix:4:27 warning unknown-service: `micros.services.cache.dependencies` depends on the service "databse", which no module defines
          help: did you mean "database"?
    "#]],
    );
}
