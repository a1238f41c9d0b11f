//! `micros init`, run as the real binary: a fresh directory, `--container`,
//! inside a git work tree (the files staged as intent-to-add, so neither
//! Nix nor `micros check` misses them), and refusing to overwrite.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::fixtures;

fn scratch_root() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_init")
}

fn scratch(name: &str) -> PathBuf {
    let dir = scratch_root().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap()
}

/// `micros ARGS` in `dir`, with git unable to find this repository above
/// the scratch directories.
fn micros(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micros"))
        .current_dir(dir)
        .args(args)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1")
        .env("GIT_CEILING_DIRECTORIES", scratch_root())
        .output()
        .expect("run micros")
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CEILING_DIRECTORIES", scratch_root())
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        text(&output.stderr)
    );
    Some(text(&output.stdout))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".git")
        .collect();
    names.sort();
    names
}

#[test]
fn a_fresh_directory_gets_the_three_files_and_the_next_steps() {
    let root = scratch("fresh");
    let output = micros(&root, &["init", "my-system"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let dir = root.join("my-system");
    assert_eq!(
        names(&dir),
        [
            "configuration.nix",
            "flake.nix",
            "hardware-configuration.nix"
        ]
    );
    let flake = std::fs::read_to_string(dir.join("flake.nix")).unwrap();
    for part in [
        "packages.x86_64-linux.default",
        "config.system.build.image",
        "packages.x86_64-linux.container",
        "config.system.build.ociImage",
        "./hardware-configuration.nix",
        "boot.isContainer = true;",
    ] {
        assert!(flake.contains(part), "{part}: {flake}");
    }
    let hardware = std::fs::read_to_string(dir.join("hardware-configuration.nix")).unwrap();
    assert!(hardware.contains("fileSystems"), "{hardware}");
    let stdout = text(&output.stdout);
    // Outside git: git is offered, nothing is staged.
    for step in [
        "cd my-system",
        "git init && git add .",
        "nix flake lock",
        "micros check",
        "nix build ",
        "nix build .#container",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
    assert!(!stdout.contains("Staged"), "{stdout}");

    // Until `nix flake lock`, the sources are not found, and check says why.
    let output = micros(&dir, &["check", "--format", "json"]);
    let stderr = text(&output.stderr);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("has no flake.lock yet (run `nix flake lock`)"),
        "{stdout}{stderr}"
    );
    // And nothing else is wrong with it.
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().all(|c| *c == "missing-sources"), "{stdout}");
}

#[test]
fn container_writes_a_container_only_flake() {
    let dir = scratch("container");
    let output = micros(&dir, &["init", "--container"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(names(&dir), ["configuration.nix", "flake.nix"]);
    let flake = std::fs::read_to_string(dir.join("flake.nix")).unwrap();
    assert!(flake.contains("config.system.build.ociImage"), "{flake}");
    assert!(flake.contains("boot.isContainer = true;"), "{flake}");
    assert!(!flake.contains("hardware-configuration"), "{flake}");
    assert!(!flake.contains("build.image"), "{flake}");
    let stdout = text(&output.stdout);
    assert!(!stdout.contains("cd "), "{stdout}");
    assert!(!stdout.contains(".#container"), "{stdout}");
    assert!(stdout.contains("nix build"), "{stdout}");
}

#[test]
fn inside_a_git_work_tree_the_files_are_staged_intent_to_add() {
    let dir = scratch("git");
    if git(&dir, &["init", "-q"]).is_none() {
        eprintln!("skipped: no git");
        return;
    }
    let output = micros(&dir, &["init", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("Staged them with `git add --intent-to-add`"),
        "{stdout}"
    );
    assert!(!stdout.contains("git init"), "{stdout}");
    assert_eq!(
        git(&dir, &["ls-files"]).unwrap(),
        "configuration.nix\nflake.nix\nhardware-configuration.nix\n"
    );
    // Intent to add: in the index, nothing staged of their content yet.
    assert_eq!(git(&dir, &["diff", "--cached", "--name-only"]).unwrap(), "");
    assert_eq!(
        git(&dir, &["diff", "--name-only"]).unwrap(),
        "configuration.nix\nflake.nix\nhardware-configuration.nix\n"
    );
    // So micros check finds nothing untracked.
    let f = fixtures();
    let output = micros(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--micros",
            &f.join("micros").display().to_string(),
            "--nixpkgs",
            &f.join("nixpkgs").display().to_string(),
        ],
    );
    assert!(
        !text(&output.stdout).contains("untracked-file"),
        "{}",
        text(&output.stdout)
    );
}

#[test]
fn existing_files_are_never_overwritten() {
    let dir = scratch("existing");
    std::fs::write(dir.join("configuration.nix"), "{ mine = true; }\n").unwrap();
    std::fs::write(dir.join("hardware-configuration.nix"), "{ }\n").unwrap();
    let output = micros(&dir, &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: configuration.nix, hardware-configuration.nix already exist in .; nothing was written (move them away, or give another directory)\n"
        )
    );
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        names(&dir),
        ["configuration.nix", "hardware-configuration.nix"]
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("configuration.nix")).unwrap(),
        "{ mine = true; }\n"
    );
    // A file where the directory should be.
    let output = micros(&dir, &["init", "configuration.nix"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: configuration.nix is not a directory\n"
    );
}
