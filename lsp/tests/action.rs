//! The GitHub Action (action.yml) run outside GitHub: its steps' script
//! (.github/action/run.sh) against a fixture flake whose flake.lock pins
//! micros and nixpkgs to local source archives. Without Nix the sources
//! step downloads them with `micros fetch-sources`; with Nix (CI installs
//! it) `nix flake archive` puts them into the store. The install step is
//! run against a local copy of a release (its checksums, good and bad).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::copy_tree;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A directory of the system's temp dir, removed when the test is over
/// (a release archive and an installed micros are half a gigabyte); one that
/// fails keeps it to look at.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("micros-action-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    Scratch(dir)
}

/// A source archive of `tree` (one top-level directory, as forges serve
/// them) and its narHash.
fn archive(tree: &Path, dir: &Path, name: &str) -> (PathBuf, String) {
    let staging = dir.join(format!("{name}-staging"));
    copy_tree(tree, &staging.join(format!("{name}-src")));
    let path = dir.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("czf")
        .arg(&path)
        .arg("-C")
        .arg(&staging)
        .arg(format!("{name}-src"))
        .status()
        .expect("run tar");
    assert!(status.success());
    let digest = micros_lsp::cli::fetch::nar::nar_hash(&staging.join(format!("{name}-src")))
        .expect("hash the tree");
    (path, micros_lsp::cli::fetch::nar::sri(&digest))
}

/// The fixture flake with a flake.lock pinning local archives.
fn fixture_flake(dir: &Path) -> PathBuf {
    let fixtures = repo().join("tests/fixtures");
    let (micros, micros_hash) = archive(&fixtures.join("micros"), dir, "micros");
    let (nixpkgs, nixpkgs_hash) = archive(&fixtures.join("nixpkgs"), dir, "nixpkgs");
    let flake = dir.join("flake");
    copy_tree(&fixtures.join("action-flake"), &flake);
    let tarball = |path: &Path, hash: &str| {
        let url = format!("file://{}", path.display());
        serde_json::json!({
            "locked": { "type": "tarball", "url": url, "narHash": hash },
            "original": { "type": "tarball", "url": url }
        })
    };
    let mut micros_node = tarball(&micros, &micros_hash);
    micros_node["inputs"] = serde_json::json!({ "nixpkgs": ["nixpkgs"] });
    let lock = serde_json::json!({
        "nodes": {
            "micros": micros_node,
            "nixpkgs": tarball(&nixpkgs, &nixpkgs_hash),
            "root": { "inputs": { "micros": "micros", "nixpkgs": "nixpkgs" } }
        },
        "root": "root",
        "version": 7
    });
    std::fs::write(flake.join("flake.lock"), lock.to_string()).expect("write the lock");
    let nix = std::fs::read_to_string(flake.join("flake.nix")).expect("read flake.nix");
    let nix = nix
        .replace("@MICROS@", &format!("file://{}", micros.display()))
        .replace("@NIXPKGS@", &format!("file://{}", nixpkgs.display()));
    std::fs::write(flake.join("flake.nix"), nix).expect("write flake.nix");
    flake
}

/// A directory for PATH with only what the script needs (so that Nix, if
/// installed, is not found).
fn bin_without_nix(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    for tool in [
        "cat",
        "uname",
        "tar",
        "grep",
        "sha256sum",
        "mkdir",
        "curl",
        "bash",
        "gzip",
    ] {
        for prefix in ["/usr/bin", "/bin"] {
            let path = Path::new(prefix).join(tool);
            if path.exists() {
                let _ = std::os::unix::fs::symlink(&path, bin.join(tool));
                break;
            }
        }
    }
    bin
}

/// `run.sh STEP` as the action runs it, outside GitHub: the runner's
/// files in `temp`.
fn step(step: &str, temp: &Path, env: &[(&str, &str)], path: Option<&Path>) -> Output {
    let mut command = Command::new("bash");
    command
        .arg(repo().join(".github/action/run.sh"))
        .arg(step)
        // The check step writes its SARIF into the working directory, as
        // on a runner; here that is the scratch directory, not the crate.
        .current_dir(temp)
        .env("RUNNER_TEMP", temp)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_ENV")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_PATH")
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run the action's script")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn outputs(temp: &Path) -> String {
    std::fs::read_to_string(temp.join("micros-action-output")).unwrap_or_default()
}

/// The check and verdict steps on the flake, after the sources step.
fn check_and_verdict(temp: &Path, flake: &Path, micros: &str, path: Option<&Path>) {
    let flake_dir = flake.display().to_string();
    let check = step(
        "check",
        temp,
        &[("MICROS_BIN", micros), ("MICROS_FLAKE", &flake_dir)],
        path,
    );
    assert!(check.status.success(), "{}", stderr(&check));
    // The findings as annotations, and as SARIF.
    let annotations = String::from_utf8_lossy(&check.stdout);
    assert!(
        annotations.contains("::error file=configuration.nix,line=4,"),
        "{annotations}\n{}",
        stderr(&check)
    );
    let outputs = outputs(temp);
    assert!(outputs.contains("status=1\n"), "{outputs}");
    let sarif_path = outputs
        .lines()
        .find_map(|l| l.strip_prefix("sarif="))
        .expect("the sarif output");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sarif_path).expect("the SARIF report"))
            .expect("SARIF is JSON");
    let results = &sarif["runs"][0]["results"];
    assert!(
        results
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["ruleId"] == "unknown-option")),
        "{results}"
    );

    let verdict = step("verdict", temp, &[("MICROS_STATUS", "1")], path);
    assert_eq!(verdict.status.code(), Some(1));
    assert!(stderr(&verdict).contains("found errors"));
    let verdict = step("verdict", temp, &[("MICROS_STATUS", "0")], path);
    assert_eq!(verdict.status.code(), Some(0), "{}", stderr(&verdict));
    let verdict = step("verdict", temp, &[("MICROS_STATUS", "2")], path);
    assert_eq!(verdict.status.code(), Some(1));
}

#[test]
fn without_nix_the_sources_are_downloaded_and_verified() {
    let dir = scratch("no-nix");
    let flake = fixture_flake(&dir);
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let path = bin_without_nix(&dir);
    let micros = env!("CARGO_BIN_EXE_micros");
    let flake_dir = flake.display().to_string();
    let cache = dir.join("cache");
    let sources = step(
        "sources",
        &temp,
        &[
            ("MICROS_BIN", micros),
            ("MICROS_FLAKE", &flake_dir),
            ("XDG_CACHE_HOME", &cache.display().to_string()),
        ],
        Some(&path),
    );
    assert!(sources.status.success(), "{}", stderr(&sources));
    assert!(stderr(&sources).contains("micros fetch-sources"));
    let env = std::fs::read_to_string(temp.join("micros-action-env")).expect("GITHUB_ENV");
    assert!(
        env.contains("MICROS_SRC=") && env.contains("MICROS_NIXPKGS="),
        "{env}"
    );
    check_and_verdict(&temp, &flake, micros, Some(&path));
}

#[test]
fn with_nix_the_sources_come_from_nix_flake_archive() {
    let found = Command::new("nix")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: `nix` is not on PATH (apt install nix-bin)");
        return;
    }
    let dir = scratch("nix");
    let flake = fixture_flake(&dir);
    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let micros = env!("CARGO_BIN_EXE_micros");
    let flake_dir = flake.display().to_string();
    let env = [
        ("MICROS_BIN", micros),
        ("MICROS_FLAKE", flake_dir.as_str()),
        (
            "NIX_CONFIG",
            "sandbox = false\nsubstituters =\nbuild-users-group =\n",
        ),
    ];
    let sources = step("sources", &temp, &env, None);
    assert!(sources.status.success(), "{}", stderr(&sources));
    assert!(stderr(&sources).contains("nix flake archive"));
    // Nothing was written for the check: it finds the trees in the store.
    assert!(!temp.join("micros-action-env").exists());
    check_and_verdict(&temp, &flake, micros, None);
}

#[test]
fn install_takes_a_release_only_with_its_checksum() {
    let dir = scratch("install");
    let release = dir.join("release");
    std::fs::create_dir_all(&release).expect("mkdir");
    let target = match std::env::consts::ARCH {
        "x86_64" => "x86_64-unknown-linux-musl",
        "aarch64" => "aarch64-unknown-linux-musl",
        other => {
            eprintln!("skipped: no release target for {other}");
            return;
        }
    };
    let asset = format!("micros-lsp-{target}.tar.gz");
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).expect("mkdir");
    std::fs::copy(env!("CARGO_BIN_EXE_micros"), staging.join("micros")).expect("copy");
    std::fs::set_permissions(
        staging.join("micros"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let status = Command::new("tar")
        .arg("czf")
        .arg(release.join(&asset))
        .arg("-C")
        .arg(&staging)
        .arg("micros")
        .status()
        .expect("tar");
    assert!(status.success());
    let sums = Command::new("sha256sum")
        .arg(&asset)
        .current_dir(&release)
        .output()
        .expect("sha256sum");
    std::fs::write(release.join("SHA256SUMS"), &sums.stdout).expect("write");

    let temp = dir.join("runner-temp");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let url = format!("file://{}", release.display());
    let install = step("install", &temp, &[("MICROS_RELEASE_URL", &url)], None);
    assert!(install.status.success(), "{}", stderr(&install));
    let added = std::fs::read_to_string(temp.join("micros-action-path")).expect("GITHUB_PATH");
    let bin = PathBuf::from(added.trim());
    let version = Command::new(bin.join("micros"))
        .arg("--version")
        .output()
        .expect("run the installed micros");
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("micros "));

    // A release whose checksum does not match is not installed.
    std::fs::write(
        release.join("SHA256SUMS"),
        format!("{}  {asset}\n", "0".repeat(64)),
    )
    .expect("write");
    let temp = dir.join("runner-temp-2");
    std::fs::create_dir_all(&temp).expect("mkdir");
    let install = step("install", &temp, &[("MICROS_RELEASE_URL", &url)], None);
    assert!(!install.status.success());
    assert!(stderr(&install).contains("FAILED"), "{}", stderr(&install));
    assert!(!temp.join("micros-action-path").exists());
}
