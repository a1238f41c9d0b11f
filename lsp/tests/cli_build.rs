//! `micros build` with real Nix, offline, on the test flake in
//! tests/fixtures/flake-build (derivations that need only /bin/sh), and
//! systems by name on tests/fixtures/systems-build (two systems whose
//! micros is the stand-in in tests/fixtures/micros-standin).
//! Tests that need Nix skip with a message when `nix` is not on PATH;
//! CI installs it (.ci/steps/70-nix.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

fn micros() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
    command.env("NO_COLOR", "1");
    common::offline_nix(&mut command);
    command
}

fn nix_available() -> bool {
    let found = Command::new("nix")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: `nix` is not on PATH (install Nix, e.g. `apt install nix-bin`, to run this test)"
        );
    }
    found
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A copy of the test flake in a fresh directory (not a git repository, so
/// Nix takes every file), with `configuration` as its settings. The host
/// name carries a nonce so that every test builds its derivations afresh.
fn flake(configuration: &str) -> (PathBuf, String) {
    fixture_flake("flake-build", configuration)
}

/// The same for the fixture flake `name`: a copy with `configuration.nix`
/// as given, `HOST` in it replaced by the nonce.
fn fixture_flake(name: &str, configuration: &str) -> (PathBuf, String) {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let host = format!("t{}-{n}-{nanos}", std::process::id());
    let dir = std::env::temp_dir().join(format!("micros-build-{host}"));
    common::copy_tree(&common::fixtures().join(name), &dir);
    std::fs::write(
        dir.join("configuration.nix"),
        configuration.replace("HOST", &host),
    )
    .expect("write configuration.nix");
    (dir, host)
}

/// What every build here hands Nix after `--`: offline (no
/// substituters), no sandbox, no result link.
const OFFLINE: [&str; 7] = [
    "--no-link",
    "--option",
    "substituters",
    "",
    "--option",
    "sandbox",
    "false",
];

/// `micros build DIR ARGS -- NIX_ARGS` offline: no substituters, no sandbox.
fn build(dir: &Path, args: &[&str]) -> Output {
    micros()
        .arg("build")
        .args(args)
        .arg(dir)
        .arg("--")
        .args(OFFLINE)
        .current_dir(dir)
        .output()
        .expect("micros runs")
}

/// `micros build TARGET` in `dir`, offline, with the stand-in micros as
/// the flake's micros input.
fn build_system(dir: &Path, target: &str) -> Output {
    let standin = common::fixtures().join("micros-standin");
    micros()
        .args(["build", target, "--"])
        .args(OFFLINE)
        .args(["--override-input", "micros"])
        .arg(format!("path:{}", standin.display()))
        .current_dir(dir)
        .output()
        .expect("micros runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn builds_with_progress_from_the_real_log() {
    if !nix_available() {
        return;
    }
    let (dir, host) = flake("{\n  hostName = \"HOST\";\n  motd = \"hello\";\n}\n");
    let output = build(&dir, &["-L"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // The result path on stdout, and it holds what the builders wrote.
    let path = stdout.trim();
    assert!(
        path.starts_with("/nix/store/") && path.ends_with(&format!("{host}-image")),
        "{stdout}"
    );
    let image = std::fs::read_to_string(path).expect("the image is a file");
    assert!(image.contains(&format!("file 199 of {host}: hello")));
    assert!(image.ends_with(&format!("kernel for {host}\n")));
    // Progress parsed from the JSON log: each derivation started and
    // finished, counted of three, with its output (-L).
    for name in ["rootfs", "kernel", "image"] {
        assert!(
            stderr.contains(&format!("building {host}-{name} (")),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("built {host}-image (3/3 done)")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{host}-rootfs> building the root file system")),
        "{stderr}"
    );
    assert!(
        stderr.contains("(3 derivations built, 0 paths fetched)"),
        "{stderr}"
    );
    // The size, from nix path-info: 200 lines of about 30 bytes.
    assert!(stderr.contains(&format!("{path} (")), "{stderr}");
    assert!(stderr.contains("KiB, closure "), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_build_failure_shows_the_builders_last_lines() {
    if !nix_available() {
        return;
    }
    let (dir, host) = flake("{\n  hostName = \"HOST\";\n  failBuild = true;\n}\n");
    let output = build(&dir, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("failed to build {host}-rootfs")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("-{host}-rootfs.drv' failed with exit code 1")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{host}-rootfs> mkfs: no space left on device")),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_evaluation_error_points_at_the_workspace_file() {
    if !nix_available() {
        return;
    }
    let (dir, _) = flake("{\n  hostName = \"HOST\";\n  motd = builtins.undefinedThing;\n}\n");
    let output = build(&dir, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    // The store copy (/nix/store/...-source/configuration.nix) is shown
    // as the file in the flake's directory, with the line and a caret.
    assert!(
        stderr.contains("error: attribute 'undefinedThing' missing\n  --> configuration.nix:3:10\n  |\n3 |   motd = builtins.undefinedThing;\n  |          ^\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("/nix/store/"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_output_is_named() {
    if !nix_available() {
        return;
    }
    let (dir, _) = flake("{\n  hostName = \"HOST\";\n}\n");
    let output = build(&dir, &["--container", "--system", "x86_64-linux"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("has no output `packages.x86_64-linux.container`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("= help: add `packages.x86_64-linux.container`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn max_jobs_and_builders_reach_nix() {
    if !nix_available() {
        return;
    }
    let (dir, _) = flake("{\n  hostName = \"HOST\";\n}\n");
    // No local jobs and no remote builders: Nix refuses to build, which
    // shows both flags arrived.
    let output = build(&dir, &["--max-jobs", "0", "--builders", ""]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "unable to start any build; either increase '--max-jobs' or enable remote builds"
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_slow_evaluation_is_stopped() {
    if !nix_available() {
        return;
    }
    // Some 10^11 list elements: minutes of evaluation in little memory.
    let (dir, _) = flake(
        "{\n  hostName = \"HOST\";\n  motd = toString (builtins.foldl' (a: i: a + builtins.length (builtins.genList (x: x) 100000)) 0 (builtins.genList (x: x) 1000000));\n}\n",
    );
    let started = std::time::Instant::now();
    let output = build(&dir, &["--eval-timeout", "2"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did not finish within 2 s"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_nix_the_message_says_how_to_get_it() {
    let (dir, _) = flake("{\n  hostName = \"HOST\";\n}\n");
    let output = micros()
        .arg("build")
        .arg(&dir)
        .env("PATH", "/nonexistent")
        .output()
        .expect("micros runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: Nix is not installed (no `nix` on PATH)"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_directory_without_a_flake_is_refused() {
    let dir = std::env::temp_dir().join(format!("micros-build-noflake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let output = micros()
        .arg("build")
        .arg(&dir)
        .output()
        .expect("micros runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no flake.nix here"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_terminal_gets_one_redrawn_progress_line() {
    if !nix_available() {
        return;
    }
    // util-linux `script` gives micros a real terminal.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let (dir, host) = flake("{\n  hostName = \"HOST\";\n}\n");
    let command = format!(
        "{} build -- --no-link --option substituters '' --option sandbox false",
        env!("CARGO_BIN_EXE_micros")
    );
    let output = common::offline_nix(&mut Command::new("script"))
        .args(["-qec", &command, "/dev/null"])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("script runs");
    let screen = text(&output.stdout);
    assert!(output.status.success(), "{screen}");
    // The status line is erased and redrawn in place, with a bar, the
    // counts and the derivation being built; no per-step lines.
    assert!(
        screen.contains("\r\x1b[2K[####################] 3/3 built · building "),
        "{screen:?}"
    );
    assert!(screen.contains(&format!("building {host}-")), "{screen:?}");
    assert!(
        !screen.contains(&format!("built {host}-kernel (")),
        "{screen:?}"
    );
    assert!(
        screen.contains("built packages.") && screen.contains(&format!("{host}-image")),
        "{screen:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A system by the name `micros systems` gives it, or by its end
/// (`container`), alone or after the flake (`DIR#default`): Nix builds
/// that system's output.
#[test]
fn a_system_by_its_name() {
    if !nix_available() {
        return;
    }
    // The fixture's systems are x86_64-linux packages.
    if std::env::consts::ARCH != "x86_64" || std::env::consts::OS != "linux" {
        eprintln!("skipped: the fixture builds for x86_64-linux only");
        return;
    }
    let (dir, host) = fixture_flake("systems-build", "{\n  networking.hostName = \"HOST\";\n}\n");
    let built = |output: &Output| {
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let path = text(&output.stdout).trim().to_string();
        let content = std::fs::read_to_string(&path).expect("the image is a file");
        (stderr, path, content)
    };

    let (stderr, path, content) = built(&build_system(&dir, "container"));
    assert!(
        stderr.contains(&format!(
            "building {}#packages.x86_64-linux.container\n",
            dir.display()
        )),
        "{stderr}"
    );
    assert!(path.ends_with(&format!("-{host}-oci-image")), "{path}");
    assert_eq!(content, format!("oci-image of {host}\n"));

    let parent = dir.parent().expect("the copy is in a directory");
    let (stderr, path, content) =
        built(&build_system(parent, &format!("{}#default", dir.display())));
    assert!(
        stderr.contains("#packages.x86_64-linux.default\n"),
        "{stderr}"
    );
    assert!(path.ends_with(&format!("-{host}-image")), "{path}");
    assert_eq!(content, format!("image of {host}\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A name no system has is refused before Nix is asked, with the flake's
/// systems.
#[test]
fn an_unknown_system_name_lists_the_systems() {
    let (dir, _) = fixture_flake("systems-build", "{\n  networking.hostName = \"HOST\";\n}\n");
    let output = build_system(&dir, "iso");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: no system `iso` in {}/flake.nix (its systems: packages.x86_64-linux.container, packages.x86_64-linux.default)\n",
            dir.display()
        )
    );
    assert!(output.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
