//! Locating sources from a flake.lock, and the store paths Nix derives.

use std::path::{Path, PathBuf};

use micros_options::sources::{
    find_flake_lock, locked_input_store_path, nixpkgs_modules, store_path_from_nar_hash,
};

/// A scratch directory under the target directory, fresh for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

const NAR_HASH: &str = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

fn lock_with(nodes: &str) -> String {
    format!(r#"{{ "nodes": {{ {nodes} }}, "root": "root", "version": 7 }}"#)
}

#[test]
fn store_path_follows_nix_fixed_output_rules() {
    // Computed by Nix 2.8: `nix hash path` of a directory, then
    // `nix-store --add-fixed --recursive sha256` of the same directory
    // named `source`.
    let path = store_path_from_nar_hash(REAL_NAR_HASH, "source").expect("well-formed hash");
    assert_eq!(path, PathBuf::from(REAL_STORE_PATH));
    assert!(store_path_from_nar_hash("sha256-tooshort", "source").is_none());
    assert!(store_path_from_nar_hash("md5-AAAA", "source").is_none());
}

// Filled from a real Nix run (see the test above).
const REAL_NAR_HASH: &str = "sha256-QwOyrnRQ0pGBnQqSK6WingCxAHp9Xt3p9yRMlOt8zns=";
const REAL_STORE_PATH: &str = "/nix/store/432qf7zmpldx8p7s1mdvgrxnvf198jdr-source";

#[test]
fn a_locked_input_missing_from_the_store_is_named_with_its_path() {
    let dir = scratch("lock-missing");
    let lock = dir.join("flake.lock");
    std::fs::write(
        &lock,
        lock_with(&format!(
            r#""root": {{ "inputs": {{ "micros": "micros" }} }},
               "micros": {{ "locked": {{ "type": "github", "owner": "snugnug", "repo": "micros",
                                         "rev": "fe0a5ec", "narHash": "{NAR_HASH}" }} }}"#
        )),
    )
    .unwrap();
    let expected = store_path_from_nar_hash(NAR_HASH, "source").unwrap();
    let error = locked_input_store_path(&lock, "micros").unwrap_err();
    assert!(error.contains("is not in the Nix store"), "{error}");
    assert!(error.contains(&expected.display().to_string()), "{error}");
    assert!(error.contains("rev fe0a5ec"), "{error}");
}

#[test]
fn path_inputs_and_follows_are_resolved() {
    let dir = scratch("lock-follows");
    let micros = fixtures().join("micros");
    let nixpkgs = fixtures().join("nixpkgs");
    std::fs::write(
        dir.join("flake.lock"),
        lock_with(&format!(
            r#""root": {{ "inputs": {{ "micros": "micros", "nixpkgs": "nixpkgs_2" }} }},
               "micros": {{ "inputs": {{ "nixpkgs": ["nixpkgs"] }},
                            "locked": {{ "type": "path", "path": "{}" }} }},
               "nixpkgs_2": {{ "locked": {{ "type": "path", "path": "{}" }} }}"#,
            micros.display(),
            nixpkgs.display()
        )),
    )
    .unwrap();
    let nested = dir.join("hosts/a");
    std::fs::create_dir_all(&nested).unwrap();
    let lock = find_flake_lock(&nested).expect("lock found above");
    assert_eq!(lock, dir.canonicalize().unwrap().join("flake.lock"));
    assert_eq!(locked_input_store_path(&lock, "micros").unwrap(), micros);
    assert_eq!(locked_input_store_path(&lock, "nixpkgs").unwrap(), nixpkgs);
}

#[test]
fn nixpkgs_reached_only_through_micros() {
    let dir = scratch("lock-through-micros");
    std::fs::write(
        dir.join("flake.lock"),
        lock_with(
            r#""root": { "inputs": { "micros": "micros" } },
               "micros": { "inputs": { "nixpkgs": "nixpkgs" }, "locked": { "type": "path", "path": "/m" } },
               "nixpkgs": { "locked": { "type": "path", "path": "/n" } }"#,
        ),
    )
    .unwrap();
    assert_eq!(
        locked_input_store_path(&dir.join("flake.lock"), "nixpkgs").unwrap(),
        PathBuf::from("/n")
    );
}

#[test]
fn a_broken_lock_names_file_line_and_what_was_expected() {
    let dir = scratch("lock-broken");
    let lock = dir.join("flake.lock");
    std::fs::write(&lock, "{\n  \"nodes\": {\n    \"root\": \n}\n").unwrap();
    let error = locked_input_store_path(&lock, "micros").unwrap_err();
    assert!(error.contains("flake.lock:4:"), "{error}");
    assert!(error.contains("not a flake.lock"), "{error}");

    std::fs::write(&lock, lock_with(r#""root": { "inputs": {} }"#)).unwrap();
    let error = locked_input_store_path(&lock, "micros").unwrap_err();
    assert!(error.contains("locks no `micros` input"), "{error}");
}

#[test]
fn nixpkgs_module_list_is_read_from_eval_config() {
    let micros = fixtures().join("micros");
    let nixpkgs = fixtures().join("nixpkgs");
    let modules = nixpkgs_modules(&micros, &nixpkgs).expect("eval-config.nix has nixpkgsModules");
    assert!(!modules.is_empty());
    for module in &modules {
        assert!(
            module.starts_with(nixpkgs.join("nixos/modules")),
            "{}",
            module.display()
        );
        assert!(module.is_file(), "{} listed but missing", module.display());
    }
}
