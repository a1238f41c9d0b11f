//! `micros systems`, run as the real binary on tests/fixtures/systems
//! (and on MicrOS's template when MICROS_SRC and MICROS_NIXPKGS are set).

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

// Shared with the other test binaries; this one uses a part of it.
#[allow(dead_code)]
mod common;
use common::fixtures;

fn micros(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
    command
        .current_dir(dir)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1")
        .arg("systems");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run micros")
}

#[test]
fn lists_each_system_with_its_output_and_modules() {
    let f = fixtures();
    let output = run(micros(&f.join("systems"))
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs")));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // The fixture micros declares neither boot.isContainer nor
    // nixpkgs.hostPlatform: neither is known.
    expect_test::expect![[r#"
        packages.x86_64-linux.container
          builds:    config.system.build.ociImage
          platform:  not known statically
          container: yes
          modules:   configuration.nix
                       modules/users.nix (imported)
                     flake.nix:23 (inline)
          specialArgs: inputs

        packages.x86_64-linux.default
          builds:    config.system.build.image
          platform:  not known statically
          container: no
          modules:   configuration.nix
                       modules/users.nix (imported)
                     hardware-configuration.nix
                     flake.nix:14 (inline)
          specialArgs: inputs
    "#]]
    .assert_eq(&text(&output.stdout));
}

#[test]
fn a_directory_given_and_json() {
    let f = fixtures();
    let output = run(micros(&f)
        .args(["--format", "json"])
        .arg("--micros")
        .arg(f.join("micros"))
        .arg("--nixpkgs")
        .arg(f.join("nixpkgs"))
        .arg("systems"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let systems = json["systems"].as_array().expect("systems");
    let names: Vec<&str> = systems.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "packages.x86_64-linux.container",
            "packages.x86_64-linux.default"
        ]
    );
    let default = &systems[1];
    assert_eq!(default["output"], "config.system.build.image");
    assert_eq!(default["modulesComplete"], true);
    let modules: Vec<String> = default["modules"]
        .as_array()
        .expect("modules")
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                m["path"].as_str().unwrap_or("?"),
                m["inlineLine"],
                m["imported"]
            )
        })
        .collect();
    assert_eq!(
        modules,
        [
            "configuration.nix null false",
            "modules/users.nix null true",
            "hardware-configuration.nix null false",
            "flake.nix 14 false"
        ]
    );

    let output = run(micros(&f).arg("nonexistent"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).ends_with("/nonexistent: no flake.nix here\n"),
        "{}",
        text(&output.stderr)
    );
}

/// MicrOS's own template: the ISO and the container, as it sets them.
#[test]
fn the_template_with_the_upstream_sources() {
    let get = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let (Some(micros_src), Some(nixpkgs)) = (get("MICROS_SRC"), get("MICROS_NIXPKGS")) else {
        eprintln!("skipped: set MICROS_SRC and MICROS_NIXPKGS to the upstream trees");
        return;
    };
    let template = Path::new(&micros_src).join("template");
    if !template.join("flake.nix").is_file() {
        eprintln!("skipped: no template/flake.nix in MICROS_SRC");
        return;
    }
    let output = run(micros(&template)
        .args(["--format", "json", "--micros"])
        .arg(&micros_src)
        .arg("--nixpkgs")
        .arg(&nixpkgs));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rows: Vec<String> = json["systems"]
        .as_array()
        .expect("systems")
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["name"], s["output"], s["platform"], s["container"]
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            r#""packages.x86_64-linux.container" "config.system.build.ociImage" "x86_64-unknown-linux-musl" true"#,
            r#""packages.x86_64-linux.default" "config.system.build.image" "x86_64-linux" false"#,
        ],
        "{}",
        text(&output.stdout)
    );
}
