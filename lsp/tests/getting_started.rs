//! MicrOS's own template configuration (from its getting-started guide)
//! checked against the real micros option set: no error, no warning.
//! Needs MICROS_SRC and MICROS_NIXPKGS; skips with a message without them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use micros_lsp::ide::AnalysisHost;
use micros_lsp::options::OptionIndex;

const CONFIGURATION: &str = r#"{
  pkgs,
  lib,
  ...
}: {
  # Enable the Getty login manager on the default terminal /dev/ttyS0
  services.getty.enable = true;

  users = {
    micros = {
      uid = 1000;
      gid = 1000;

      # Blank password denotes passwordless login is allowed, use "!" (default)
      # to disable password login entirely. To set a password, set this string
      # to a hashed password using the `mkpasswd` command.
      password = "";

      # User-wide packages
      packages = [
        pkgs.vim
        pkgs.ssh
      ];
    };
  };

  # Add a custom MicrOS service
  micros.services = {
    custom-service = {
      startOnBoot = true; # start the service with the rest of a system
      type = "oneshot"; # do not restart the service after it stops

      # Run a basic hello world program.
      startScript = ''
        #!${pkgs.busybox}/bin/ash

        exec ${pkgs.hello}/bin/hello
      '';
    };
  };
}
"#;

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
