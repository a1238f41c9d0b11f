//! What several integration tests share.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The project's fixture trees, `tests/fixtures`, as an absolute path.
#[allow(dead_code)]
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .canonicalize()
        .expect("tests/fixtures exists")
}

/// A copy of the tree `from` at `to` (made with its parents).
#[allow(dead_code)]
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Nix as these tests need it whatever this machine's nix.conf says:
/// flakes on, single-user with root owning the store (Debian's nix-bin
/// installs a nix.conf naming a `nixbld` group it does not create), no
/// sandbox, nothing to substitute from (everything here is offline).
#[allow(dead_code)]
pub fn offline_nix(command: &mut Command) -> &mut Command {
    command
        .env(
            "NIX_CONFIG",
            "experimental-features = nix-command flakes\nsandbox = false\nbuild-users-group =\nsubstituters =\n",
        )
        .env_remove("NIX_REMOTE")
}

/// The upstream trees (MICROS_SRC, MICROS_NIXPKGS) when both are set and
/// Nix is installed; otherwise `None`, after saying on stderr why `test`
/// is skipped. Tests that evaluate with real Nix are opt-in this way.
#[allow(dead_code)]
pub fn upstream_trees_with_nix(test: &str) -> Option<(PathBuf, PathBuf)> {
    let nix = Command::new("nix")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let get = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    match (nix, get("MICROS_SRC"), get("MICROS_NIXPKGS")) {
        (true, Some(micros), Some(nixpkgs)) => Some((micros, nixpkgs)),
        (false, ..) => {
            eprintln!(
                "skipped {test}: `nix` is not on PATH (install Nix, e.g. `apt install nix-bin`)"
            );
            None
        }
        _ => {
            eprintln!(
                "skipped {test}: set MICROS_SRC and MICROS_NIXPKGS to the upstream trees (see ../shared/reference/README.md)"
            );
            None
        }
    }
}

/// Files in `tests/fixtures/recursion` that define something in terms of
/// itself, each with the one diagnostic it must get (code, 1-based line)
/// and whether it declares options (what `micros options` reads).
#[allow(dead_code)]
pub const RECURSION_VARIANTS: &[(&str, &str, u64, bool)] = &[
    ("issue.nix", "infinite-recursion", 3, true),
    ("type-attrsOf.nix", "infinite-recursion", 3, true),
    ("type-listOf.nix", "infinite-recursion", 3, true),
    ("type-nullOr.nix", "infinite-recursion", 3, true),
    ("type-either.nix", "infinite-recursion", 3, true),
    ("type-oneOf.nix", "infinite-recursion", 3, true),
    ("type-coercedTo.nix", "infinite-recursion", 3, true),
    ("type-submodule.nix", "infinite-recursion", 3, true),
    ("mutual-types.nix", "infinite-recursion", 4, true),
    ("mutual-bindings.nix", "infinite-recursion", 3, true),
    ("mutual-functions.nix", "infinite-recursion", 3, true),
    ("default-self.nix", "infinite-recursion", 3, true),
    ("submodule-own-options.nix", "infinite-recursion", 3, true),
    ("options-self.nix", "infinite-recursion", 2, true),
    ("options-copies.nix", "infinite-recursion", 2, true),
    ("config-mutual.nix", "infinite-recursion", 3, false),
    ("imports-itself-inline.nix", "infinite-recursion", 2, true),
    ("imports-self.nix", "import-cycle", 2, true),
    ("sibling-a.nix", "import-cycle", 2, true),
    ("sibling-b.nix", "import-cycle", 2, true),
];
