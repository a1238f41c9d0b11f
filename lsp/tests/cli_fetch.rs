//! `micros fetch-sources`: source archives named by a flake.lock, accepted
//! only when their NAR hash is the lock's narHash. Local archives (file://)
//! and one served over HTTP on 127.0.0.1; a tampered archive is refused.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// What Nix 2.8's `nix hash path` prints for the tree [`make_tree`] makes
/// (also checked against a live Nix below when there is one).
const TREE_NAR_HASH: &str = "sha256-rwR7HVx7GlW0vJgWakbc1pSNottxFhvOfA2t9pAQdd8=";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fetch")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// Every kind of node a source tree has: files, an executable, a symbolic
/// link, an empty directory.
fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/empty")).expect("mkdir");
    std::fs::write(root.join("a.txt"), "hello\n").expect("write");
    std::fs::write(root.join("sub/run.sh"), "#!/bin/sh\necho hi\n").expect("write");
    std::fs::set_permissions(
        root.join("sub/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    std::fs::write(root.join("B"), "eight!!!").expect("write");
    std::os::unix::fs::symlink("../a.txt", root.join("sub/link")).expect("symlink");
}

/// A source archive as forges serve them: one top-level directory, gzip.
fn archive(dir: &Path, name: &str, tamper: bool) -> PathBuf {
    let staging = dir.join(format!("{name}-staging"));
    make_tree(&staging.join("micros-1234"));
    if tamper {
        std::fs::write(staging.join("micros-1234/a.txt"), "hellO\n").expect("write");
    }
    let path = dir.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("czf")
        .arg(&path)
        .arg("-C")
        .arg(&staging)
        .arg("micros-1234")
        .status()
        .expect("run tar");
    assert!(status.success());
    path
}

fn flake_with_lock(dir: &Path, url: &str) -> PathBuf {
    let flake = dir.join("flake");
    std::fs::create_dir_all(&flake).expect("mkdir");
    let lock = serde_json::json!({
        "nodes": {
            "micros": {
                "locked": { "type": "tarball", "url": url, "narHash": TREE_NAR_HASH },
                "original": { "type": "tarball", "url": url }
            },
            "root": { "inputs": { "micros": "micros" } }
        },
        "root": "root",
        "version": 7
    });
    std::fs::write(flake.join("flake.lock"), lock.to_string()).expect("write the lock");
    flake
}

fn fetch(flake: &Path, cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micros"))
        .args(["fetch-sources", "--cache"])
        .arg(cache)
        .arg(flake)
        .env("NO_COLOR", "1")
        .output()
        .expect("run micros fetch-sources")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The tree's store name (as Nix names it for this narHash).
fn store_name() -> String {
    micros_options::sources::store_path_from_nar_hash(TREE_NAR_HASH, "source")
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .expect("a valid narHash")
}

#[test]
fn a_local_archive_that_matches_the_lock_is_kept() {
    let dir = scratch("good");
    let good = archive(&dir, "good", false);
    let flake = flake_with_lock(&dir, &format!("file://{}", good.display()));
    let cache = dir.join("cache");
    let output = fetch(&flake, &cache);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let tree = cache.join(store_name());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("MICROS_SRC={}\n", tree.display())
    );
    assert!(stderr(&output).contains("verified against narHash"));
    assert_eq!(
        std::fs::read_to_string(tree.join("a.txt")).expect("unpacked"),
        "hello\n"
    );
    assert!(
        std::fs::symlink_metadata(tree.join("sub/link"))
            .expect("the link")
            .file_type()
            .is_symlink()
    );
    // A second run takes the verified tree from the cache.
    let again = fetch(&flake, &cache);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("(cached)"), "{}", stderr(&again));
}

#[test]
fn a_tampered_archive_is_refused_and_not_kept() {
    let dir = scratch("tampered");
    let bad = archive(&dir, "tampered", true);
    let flake = flake_with_lock(&dir, &format!("file://{}", bad.display()));
    let cache = dir.join("cache");
    let output = fetch(&flake, &cache);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("does not match the flake.lock"),
        "{message}"
    );
    assert!(message.contains(TREE_NAR_HASH), "{message}");
    assert!(output.stdout.is_empty());
    // Nothing of it stays in the cache.
    let left: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn bad_archives_are_clear_errors() {
    let dir = scratch("bad");
    // Not an archive at all.
    let junk = dir.join("junk.tar.gz");
    std::fs::write(&junk, b"\x1f\x8bnot really gzip").expect("write");
    let flake = flake_with_lock(&dir, &format!("file://{}", junk.display()));
    let output = fetch(&flake, &dir.join("cache"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("input `micros`"),
        "{}",
        stderr(&output)
    );
    // A lock that pins no archive.
    let missing = dir.join("missing.tar.gz");
    let flake = flake_with_lock(&dir, &format!("file://{}", missing.display()));
    let output = fetch(&flake, &dir.join("cache"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("missing.tar.gz"),
        "{}",
        stderr(&output)
    );
    // No flake.lock.
    let empty = dir.join("no-lock");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let output = Command::new(env!("CARGO_BIN_EXE_micros"))
        .args(["fetch-sources", "--cache"])
        .arg(dir.join("cache"))
        .arg(&empty)
        .current_dir(&empty)
        .output()
        .expect("run micros");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no flake.lock"),
        "{}",
        stderr(&output)
    );
}

/// The network path: the archive served over HTTP from this machine.
#[test]
fn an_archive_over_http_is_verified_the_same_way() {
    let dir = scratch("http");
    let good = std::fs::read(archive(&dir, "good", false)).expect("read");
    let bad = std::fs::read(archive(&dir, "bad", true)).expect("read");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        // Two requests, then the server ends (bounded).
        for stream in listener.incoming().take(2).flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let body = if request.contains("/good") {
                &good
            } else {
                &bad
            };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
        }
    });
    let flake = flake_with_lock(&dir, &format!("http://{address}/good.tar.gz"));
    let output = fetch(&flake, &dir.join("cache"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("MICROS_SRC="));

    let flake = flake_with_lock(&dir.join("second"), &format!("http://{address}/bad.tar.gz"));
    let output = fetch(&flake, &dir.join("cache2"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("does not match the flake.lock"));
}

/// The hash of the fixture tree, from Nix itself when it is installed.
#[test]
fn the_fixture_hash_is_what_nix_computes() {
    let dir = scratch("nix-hash");
    make_tree(&dir.join("tree"));
    let output = Command::new("nix")
        .args([
            "--extra-experimental-features",
            "nix-command",
            "hash",
            "path",
        ])
        .arg(dir.join("tree"))
        .output();
    match output {
        Ok(output) if output.status.success() => {
            assert_eq!(
                String::from_utf8_lossy(&output.stdout).trim(),
                TREE_NAR_HASH
            );
        }
        _ => eprintln!("skipped: no `nix` to compare the NAR hash with (apt install nix-bin)"),
    }
}
