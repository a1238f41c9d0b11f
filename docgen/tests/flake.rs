//! The repository's flake.nix and the documentation-site example, with Nix,
//! offline: nixpkgs is replaced by a stand-in (`tests/fixtures/nix-standin`)
//! through `--override-input`, since nothing here can fetch nixpkgs. The
//! flake's outputs and the package's metadata are evaluated; the example's
//! derivation is built for real, running this build's `micros-docgen`.
//! Skips with a message without `nix` (CI installs Debian's nix-bin).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nix_available() -> bool {
    let found = Command::new("nix")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipped: `nix` is not on PATH (install Nix, e.g. `apt install nix-bin`)");
    }
    found
}

/// Nix as CI runs it: flakes on, single-user, no sandbox (the example's
/// stand-in package copies a binary from this machine), nothing to
/// substitute from.
fn nix(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new("nix")
        .args(["--extra-experimental-features", "nix-command flakes"])
        .args(args)
        .current_dir(dir)
        .env(
            "NIX_CONFIG",
            "sandbox = false\nsubstituters =\nbuild-users-group =\n",
        )
        .env_remove("NIX_REMOTE")
        .output()
        .expect("run nix");
    assert!(
        output.status.success(),
        "nix {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fresh directory outside any git checkout (inside one, Nix would take
/// the checkout for the flake).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("micros-flake-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

fn standin(scratch: &Path) -> PathBuf {
    let dir = scratch.join("nixpkgs");
    common::copy_tree(&common::fixtures().join("nix-standin"), &dir);
    // The docs example reads nixpkgs' modules: the fixture's.
    common::copy_tree(&common::fixtures().join("nixpkgs"), &dir);
    dir
}

/// The repository's files the flake reads, copied (a copy is not a git
/// checkout, so Nix takes every file in it).
fn flake_copy(scratch: &Path) -> PathBuf {
    let repo = common::repo();
    let dir = scratch.join("micros-lsp");
    for part in ["nix", "options-extract", "lsp", "docgen", "tests/fixtures"] {
        common::copy_tree(&repo.join(part), &dir.join(part));
    }
    for file in ["flake.nix", "Cargo.toml", "Cargo.lock"] {
        std::fs::copy(repo.join(file), dir.join(file)).expect("copy");
    }
    dir
}

#[test]
fn the_flake_evaluates_with_a_standin_nixpkgs() {
    if !nix_available() {
        return;
    }
    let scratch = scratch("eval");
    let nixpkgs = standin(&scratch);
    let flake = flake_copy(&scratch);
    nix(
        &flake,
        &[
            "flake",
            "lock",
            "--override-input",
            "nixpkgs",
            &format!("path:{}", nixpkgs.display()),
        ],
    );

    let shown: serde_json::Value =
        serde_json::from_str(&stdout(&nix(&flake, &["flake", "show", "--json"])))
            .expect("flake show prints JSON");
    for system in [
        "x86_64-linux",
        "aarch64-linux",
        "x86_64-darwin",
        "aarch64-darwin",
    ] {
        for package in ["default", "micros-lsp"] {
            assert_eq!(
                shown["packages"][system][package]["name"], "micros-lsp-0.1.0",
                "{system} {package}: {shown}"
            );
        }
        for app in ["default", "micros", "micros-lsp", "micros-docgen"] {
            assert_eq!(shown["apps"][system][app]["type"], "app", "{system} {app}");
        }
        assert!(shown["devShells"][system]["default"].is_object(), "{shown}");
    }
    assert!(shown["overlays"]["default"].is_object(), "{shown}");

    // The package: version from Cargo.toml, the three binaries' crates, the
    // lock, only the sources in its source tree, its metadata.
    let package: serde_json::Value = serde_json::from_str(&stdout(&nix(
        &flake,
        &[
            "eval",
            "--json",
            ".#packages.x86_64-linux.default",
            "--apply",
            "p: { inherit (p) pname version cargoBuildFlags; main = p.meta.mainProgram; license = p.meta.license.spdxId; homepage = p.meta.homepage; lock = baseNameOf p.cargoLock.lockFile; src = builtins.attrNames (builtins.readDir p.src); fixtures = builtins.pathExists (p.src + \"/tests/fixtures/micros\"); }",
        ],
    )))
    .expect("JSON");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(package["pname"], "micros-lsp");
    assert_eq!(package["version"], version);
    assert_eq!(
        package["cargoBuildFlags"],
        serde_json::json!(["--package", "micros-lsp", "--package", "micros-docgen"])
    );
    assert_eq!(package["main"], "micros");
    assert_eq!(package["license"], "MIT");
    assert_eq!(package["homepage"], "https://github.com/snugnug/micros-lsp");
    assert_eq!(package["lock"], "Cargo.lock");
    assert_eq!(
        package["src"],
        serde_json::json!([
            "Cargo.lock",
            "Cargo.toml",
            "docgen",
            "lsp",
            "options-extract",
            "tests"
        ])
    );
    assert_eq!(package["fixtures"], true);

    let program = stdout(&nix(
        &flake,
        &["eval", "--raw", ".#apps.x86_64-linux.micros-docgen.program"],
    ));
    assert!(
        program.starts_with("/nix/store/")
            && program.ends_with("-micros-lsp-0.1.0/bin/micros-docgen"),
        "{program}"
    );

    // The overlay adds the same package to a package set.
    let overlaid = stdout(&nix(
        &flake,
        &[
            "eval",
            "--raw",
            "--impure",
            "--expr",
            &format!(
                "let f = builtins.getFlake \"path:{}\"; pkgs = f.inputs.nixpkgs.legacyPackages.x86_64-linux; in (f.overlays.default pkgs pkgs).micros-lsp.name",
                flake.display()
            ),
        ],
    ));
    assert_eq!(overlaid, format!("micros-lsp-{version}"));
}

/// examples/docs-site/flake.nix, as MicrOS would use it: `nix build .#docs`
/// runs micros-docgen over the repository's docs/ in a derivation.
#[test]
fn the_docs_example_builds_a_site_in_a_derivation() {
    if !nix_available() {
        return;
    }
    let scratch = scratch("docs");
    let nixpkgs = standin(&scratch);
    // A MicrOS checkout: the fixture tree and a docs/ folder.
    let micros = scratch.join("micros");
    common::copy_tree(&common::fixtures().join("micros"), &micros);
    common::copy_tree(
        &common::docgen_fixtures().join("pages"),
        &micros.join("docs"),
    );
    std::fs::copy(
        common::repo().join("examples/docs-site/flake.nix"),
        micros.join("flake.nix"),
    )
    .expect("copy the example");
    // micros-lsp's package, standing in for the flake's (which needs
    // nixpkgs' Rust toolchain): this build's binary.
    let package = scratch.join("micros-lsp");
    std::fs::create_dir_all(&package).expect("mkdir");
    std::fs::write(
        package.join("flake.nix"),
        format!(
            "{{ outputs = {{ self }}: {{ packages.x86_64-linux.default = derivation {{ name = \"micros-lsp\"; system = \"x86_64-linux\"; builder = \"/bin/sh\"; args = [ \"-c\" \"/bin/mkdir -p $out/bin && /bin/cp {} $out/bin/micros-docgen\" ]; }}; }}; }}\n",
            env!("CARGO_BIN_EXE_micros-docgen")
        ),
    )
    .expect("write");
    let result = scratch.join("result");
    nix(
        &micros,
        &[
            "build",
            ".#docs",
            "--override-input",
            "nixpkgs",
            &format!("path:{}", nixpkgs.display()),
            "--override-input",
            "micros-lsp",
            &format!("path:{}", package.display()),
            "--out-link",
            &result.display().to_string(),
        ],
    );
    for page in [
        "index.html",
        "guide.html",
        "guide/basics.html",
        "options/index.html",
        "options/services.html",
    ] {
        assert!(result.join(page).is_file(), "{page} is not in the site");
    }
    let services = std::fs::read_to_string(result.join("options/services.html")).expect("services");
    assert!(
        services.contains(
            "href=\"https://github.com/snugnug/micros/blob/master/micros/modules/services/getty.nix#L"
        ),
        "declarations link to the repository"
    );
    let toc = std::fs::read_to_string(result.join("toc.html")).expect("toc");
    assert!(
        toc.contains("MicrOS documentation")
            || std::fs::read_to_string(result.join("index.html"))
                .expect("index")
                .contains("MicrOS documentation")
    );
}
