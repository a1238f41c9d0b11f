//! MicrOS's own template configuration (from its getting-started guide)
//! checked against the real micros option set: no error, no warning.
//! Needs MICROS_SRC and MICROS_NIXPKGS; skips with a message without them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use micros_lsp::analysis::options::OptionIndex;
use micros_lsp::ide::AnalysisHost;

/// MicrOS's template configuration.nix, as its getting-started guide shows it.
const CONFIGURATION: &str = include_str!("../../tests/fixtures/template/configuration.nix");

/// The flake's inline module and the container variant's settings, as a
/// hardware-configuration-style module.
const HARDWARE: &str = r#"{ ... }: {
  nixpkgs.hostPlatform = {
    system = "x86_64-linux";
  };
  boot.isContainer = true;
}
"#;

#[test]
fn the_template_configuration_has_no_diagnostics() {
    let get = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let (Some(micros), Some(nixpkgs)) = (get("MICROS_SRC"), get("MICROS_NIXPKGS")) else {
        eprintln!(
            "skipped: set MICROS_SRC and MICROS_NIXPKGS to check the template against the real options"
        );
        return;
    };
    let request = micros_options::sources::micros_request(&micros, Some(&nixpkgs)).unwrap();
    let extraction = micros_options::extract(&request);
    let mut host = AnalysisHost::default();
    host.set_options(OptionIndex::new(Arc::new(extraction.options), true));
    for (name, text) in [
        ("configuration.nix", CONFIGURATION),
        ("hardware-configuration.nix", HARDWARE),
    ] {
        let file = host.set_file(&Path::new("/template").join(name), text.to_string());
        let diagnostics = host.snapshot().diagnostics(file).unwrap();
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:#?}");
    }
}

/// The three files of MicrOS's getting-started guide, exactly as it prints
/// them: read from the guide itself (`MICROS_GUIDE`, or the shared copy
/// beside the repository), never copied into this repository.
fn guide_files() -> Option<Vec<(&'static str, String)>> {
    let candidates = [
        std::env::var_os("MICROS_GUIDE").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed/getting-started.txt")),
        Some(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seed/getting-started.txt"),
        ),
    ];
    let text = candidates
        .into_iter()
        .flatten()
        .find_map(|path| std::fs::read_to_string(path).ok())?;
    // Each file is a block from a line starting with `{` to a line `}`.
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.starts_with('{') => current = Some(format!("{line}\n")),
            None => {}
            Some(block) => {
                block.push_str(line);
                block.push('\n');
                if line == "}" {
                    blocks.push(current.take().unwrap_or_default());
                }
            }
        }
    }
    assert_eq!(blocks.len(), 3, "the guide shows three files");
    let names = [
        "flake.nix",
        "configuration.nix",
        "hardware-configuration.nix",
    ];
    Some(names.into_iter().zip(blocks).collect())
}

/// `micros check` in `dir` against the real sources: its exit status and
/// what it printed.
fn check_with_sources(dir: &Path, micros: &Path, nixpkgs: &Path) -> (Option<i32>, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_micros"))
        .current_dir(dir)
        .arg("check")
        .arg("--micros")
        .arg(micros)
        .arg("--nixpkgs")
        .arg(nixpkgs)
        .env("NO_COLOR", "1")
        .env("GIT_CEILING_DIRECTORIES", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run micros");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn sources() -> Option<(PathBuf, PathBuf)> {
    let get = |name| {
        std::env::var_os(name)
            .filter(|v: &std::ffi::OsString| !v.is_empty())
            .map(PathBuf::from)
    };
    match (get("MICROS_SRC"), get("MICROS_NIXPKGS")) {
        (Some(micros), Some(nixpkgs)) => Some((micros, nixpkgs)),
        _ => {
            eprintln!(
                "skipped: set MICROS_SRC and MICROS_NIXPKGS to check against the real options"
            );
            None
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The repository's fixture trees (micros-like modules, a nixpkgs laid out
/// as nixpkgs is, with its lib/systems).
fn fixture_sources() -> (PathBuf, PathBuf) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    (fixtures.join("micros"), fixtures.join("nixpkgs"))
}

/// The guide's three files written to a scratch directory `name`.
fn guide_in(name: &str) -> Option<PathBuf> {
    let Some(files) = guide_files() else {
        eprintln!("skipped: the getting-started guide was not found (set MICROS_GUIDE)");
        return None;
    };
    let dir = scratch(name);
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    Some(dir)
}

/// The guide's flake.nix, configuration.nix and hardware-configuration.nix,
/// as a flake, check clean against `micros` and `nixpkgs`: no error, no
/// warning, in any file.
fn guide_checks_clean(name: &str, micros: &Path, nixpkgs: &Path) {
    let Some(dir) = guide_in(name) else {
        return;
    };
    let (status, output) = check_with_sources(&dir, micros, nixpkgs);
    assert_eq!(output, "ok: 3 files checked\n", "{name}");
    assert_eq!(status, Some(0));
}

#[test]
fn the_guides_three_files_check_clean() {
    if let Some((micros, nixpkgs)) = sources() {
        guide_checks_clean("guide", &micros, &nixpkgs);
    }
}

/// The same against the fixture trees, which know every option, package
/// and platform the guide uses.
#[test]
fn the_guides_three_files_check_clean_with_the_fixture_trees() {
    let (micros, nixpkgs) = fixture_sources();
    guide_checks_clean("guide-fixtures", &micros, &nixpkgs);
}

/// The guide with the mistakes it warns of, against the fixture trees:
/// each is found (the clean runs above are not clean for want of
/// looking).
#[test]
fn the_guide_with_its_mistakes_is_not_clean() {
    let (micros, nixpkgs) = fixture_sources();
    let Some(dir) = guide_in("guide-mistakes") else {
        return;
    };
    let flake = std::fs::read_to_string(dir.join("flake.nix")).unwrap();
    let container = flake.find("packages.x86_64-linux.container").unwrap();
    let (image, container) = flake.split_at(container);
    let broken = format!(
        "{}{}",
        image.replacen("x86_64-linux\";", "x86_64-linx\";", 1),
        container
            .replacen(
                "./configuration.nix",
                "./configuration.nix ./hardware-configuration.nix",
                1
            )
            .replacen("ociImage", "image", 1)
    );
    std::fs::write(dir.join("flake.nix"), broken).unwrap();
    let configuration = std::fs::read_to_string(dir.join("configuration.nix")).unwrap();
    // The guide's spaces are not all ASCII: find the value after the name.
    let at = configuration.find("password").unwrap();
    let (before, after) = configuration.split_at(at);
    let after = after.replacen("\"\"", "\"hunter2\"", 1);
    std::fs::write(dir.join("configuration.nix"), format!("{before}{after}")).unwrap();
    let (status, output) = check_with_sources(&dir, &micros, &nixpkgs);
    for code in [
        "error[unknown-platform]",
        "warning[container-hardware]",
        "warning[container-output]",
        "warning[plaintext-password]",
    ] {
        assert_eq!(output.matches(code).count(), 1, "{code}:\n{output}");
    }
    assert!(
        output.contains("did you mean \"x86_64-linux\"?"),
        "{output}"
    );
    assert!(!output.contains("hunter2"), "{output}");
    assert_eq!(status, Some(1));
}

/// What `micros init` writes, and `micros init --container`, check clean,
/// against the upstream trees (when given) and the fixture trees.
#[test]
fn what_micros_init_writes_checks_clean() {
    let upstream = sources();
    let mut trees = vec![("fixtures", fixture_sources())];
    trees.extend(upstream.map(|sources| ("upstream", sources)));
    for ((name, args, count), (trees_name, (micros, nixpkgs))) in [
        ("init", &["init"][..], 3),
        ("init-container", &["init", "--container"][..], 2),
    ]
    .into_iter()
    .flat_map(|run| trees.iter().map(move |trees| (run, trees.clone())))
    {
        let dir = scratch(&format!("{name}-{trees_name}"));
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_micros"))
            .current_dir(&dir)
            .args(args)
            .env("GIT_CEILING_DIRECTORIES", env!("CARGO_TARGET_TMPDIR"))
            .status()
            .unwrap();
        assert!(status.success());
        let (status, output) = check_with_sources(&dir, &micros, &nixpkgs);
        assert_eq!(
            output,
            format!("ok: {count} files checked\n"),
            "{name} ({trees_name})"
        );
        assert_eq!(status, Some(0));
    }
}
