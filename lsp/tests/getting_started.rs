//! MicrOS's own template configuration (from its getting-started guide)
//! checked against the real micros option set: no error, no warning.
//! Needs MICROS_SRC and MICROS_NIXPKGS; skips with a message without them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use micros_lsp::ide::AnalysisHost;
use micros_lsp::options::OptionIndex;

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
