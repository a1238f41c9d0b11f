//! Test fixtures in nil's manner: several files in one string, each
//! introduced by `#- /path`, and `$0` marking the cursor.
//!
//! Files under `/micros/` declare the option set (the prelude below when a
//! fixture has none); the others are the user's files.

use std::path::PathBuf;
use std::sync::Arc;

use micros_options::model::RootKind;
use micros_options::{ExtractRequest, ModuleSource, Root};
use rowan::TextSize;

use super::AnalysisHost;
use crate::analysis::db::File;
use crate::analysis::options::OptionIndex;

/// A small MicrOS-like module set, enough for every feature's tests.
pub const PRELUDE: &str = r#"
#- /micros/lib/default.nix
{ nixpkgs, oci-tool, nixos-core, ... }:
{
  microsSystem = args: import ../micros/lib/eval-config.nix (args // {
    specialArgs = args.specialArgs // { inherit oci-tool nixos-core; };
  });
}
#- /micros/micros/lib/eval-config.nix
{ nixpkgs, modules, specialArgs ? { }, ... }:
let
  passed = { config._module.args = { inherit modules; baseModules = [ ]; }; };
in
nixpkgs.lib.evalModules {
  specialArgs = { modulesPath = ../modules; } // specialArgs;
  modules = modules ++ [ passed ];
}
#- /micros/modules/getty.nix
{ lib, ... }: {
  options.services.getty = {
    enable = lib.mkEnableOption "the getty login prompt";
    terminal = lib.mkOption {
      type = lib.types.str;
      default = "/dev/ttyS0";
      description = "Terminal device getty runs on.";
    };
  };
}
#- /micros/modules/users.nix
{ lib, ... }:
let
  inherit (lib) mkOption types;
  userOpts = { name, config, ... }: {
    options = {
      uid = mkOption { type = types.nullOr types.int; default = null; description = "Account User ID"; };
      gid = mkOption { type = types.nullOr types.int; default = config.uid; description = "Account group ID"; };
      password = mkOption { type = types.str; default = "!"; description = "Hashed account password"; };
      home = mkOption { type = types.path; default = "/home/${name}"; description = "Home directory"; };
      packages = mkOption { type = types.listOf types.package; default = [ ]; description = "User packages"; };
    };
  };
in {
  options.users = mkOption {
    type = types.attrsOf (types.submodule userOpts);
    default = { };
    description = "Attrset of users.";
  };
}
#- /micros/modules/services.nix
{ lib, ... }:
with lib;
{
  options.micros.services = mkOption {
    default = { };
    description = "Init-backend-agnostic services.";
    type = types.attrsOf (types.submodule {
      options = {
        enable = mkEnableOption "this service" // { default = true; };
        type = mkOption { type = types.enum [ "longrun" "oneshot" ]; default = "longrun"; description = "Supervised or run once."; };
        startOnBoot = mkOption { type = types.bool; default = false; description = "Start after boot."; };
        startScript = mkOption { type = types.nullOr types.lines; default = null; description = "Start script."; };
        dependencies = mkOption { type = types.listOf types.str; default = [ ]; description = "Services to start first."; };
      };
    });
  };
}
#- /micros/modules/networking.nix
{ lib, ... }:
let
  inherit (lib) mkOption mkEnableOption types;
  interface = types.submodule {
    options = {
      name = mkOption { type = types.str; description = "Interface name."; };
      ipv4.address = mkOption {
        type = types.nullOr (types.strMatching "^([0-9]{1,3}\\.){3}[0-9]{1,3}/[0-9]{1,2}$");
        default = null;
        description = "Address with prefix length.";
      };
    };
  };
in {
  imports = [
    (lib.mkRenamedOptionModule [ "networking" "domainName" ] [ "networking" "domain" ])
    (lib.mkRemovedOptionModule [ "networking" "useDHCP" ] "DHCP is configured per interface.")
  ];
  options.networking = {
    hostName = mkOption {
      type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "micros";
      description = "The name of the machine.";
    };
    domain = mkOption { type = types.nullOr types.str; default = null; description = "The domain."; };
    firewall.enable = mkEnableOption "the firewall";
    firewall.allowedTCPPorts = mkOption { type = types.listOf types.port; default = [ ]; example = [ 22 ]; description = "Open TCP ports."; };
    interfaces = mkOption { type = types.listOf interface; default = [ ]; description = "Interfaces."; };
  };
}
#- /micros/modules/system.nix
{ lib, ... }:
with lib; {
  options = {
    boot.isContainer = mkOption { type = types.bool; default = false; description = "Whether this is a container."; };
    boot.kernel.sysctl = mkOption {
      type = types.submodule { freeformType = types.attrsOf (types.nullOr (types.oneOf [ types.bool types.str types.int ])); };
      default = { };
      description = "Runtime parameters of the kernel.";
    };
    fileSystems = mkOption {
      type = types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          device = mkOption { type = types.nullOr types.str; default = null; description = "Device."; };
          fsType = mkOption { type = types.str; default = "auto"; description = "File system type."; };
        };
      }));
      default = { };
      description = "File systems.";
    };
    environment.systemPackages = mkOption { type = types.listOf types.package; default = [ ]; description = "Packages."; };
    nixpkgs.hostPlatform = mkOption { type = types.either types.str types.attrs; description = "Platform."; };
    system.stateVersion = mkOption { type = types.str; readOnly = true; default = "25.05"; description = "Release."; };
  };
}
"#;

pub struct Fixture {
    pub host: AnalysisHost,
    pub files: Vec<(PathBuf, File)>,
    pub cursor: Option<(File, TextSize)>,
}

impl Fixture {
    /// The first user file (the one a single-file fixture defines).
    pub fn file(&self) -> File {
        self.files[0].1
    }
    pub fn cursor(&self) -> (File, TextSize) {
        self.cursor.expect("fixture has a $0 marker")
    }
}

fn split(text: &str) -> Vec<(String, String)> {
    if !text.trim_start().starts_with("#- ") {
        return vec![("/configuration.nix".into(), text.to_string())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.trim_start().split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("#- ") {
            files.push((path.trim().to_string(), String::new()));
        } else if let Some((_, content)) = files.last_mut() {
            content.push_str(line);
        }
    }
    files
}

/// Build a host from a fixture. The option set is extracted from the
/// fixture's `/micros/` files (or the prelude), statically, as in the product.
pub fn fixture(text: &str) -> Fixture {
    fixture_with(text, true)
}

pub fn fixture_with(text: &str, has_nixpkgs: bool) -> Fixture {
    let all = split(text);
    let (mut micros, user): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|(p, _)| p.starts_with("/micros/"));
    if micros.is_empty() {
        micros = split(PRELUDE);
    }
    let sources: Vec<micros_options::ReadFile> = micros
        .iter()
        .map(|(path, text)| micros_options::ReadFile {
            path: PathBuf::from(path),
            text: text.clone(),
            tree: None,
        })
        .collect();
    let request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::Micros,
            dir: PathBuf::from("/micros"),
        }],
        // Files outside modules/ are micros's library (lib/default.nix,
        // micros/lib/eval-config.nix), read for the arguments they pass.
        modules: micros
            .into_iter()
            .filter(|(path, _)| path.starts_with("/micros/modules/"))
            .map(|(path, text)| ModuleSource::Text {
                path: PathBuf::from(path),
                text,
            })
            .collect(),
        skip_imports: true,
    };
    let extraction = micros_options::extract::extract_here(&request);
    assert!(
        extraction.diagnostics.is_empty(),
        "fixture options: {:?}",
        extraction.diagnostics
    );
    let mut index = OptionIndex::new(Arc::new(extraction.options), has_nixpkgs);
    index
        .roots
        .push((RootKind::Micros, PathBuf::from("/micros")));
    index.base = Arc::new(crate::analysis::systems::base::read(
        &index,
        std::path::Path::new("/micros"),
        &sources,
    ));

    let mut host = AnalysisHost::default();
    host.set_options(index);
    let mut files = Vec::new();
    let mut cursor = None;
    for (path, content) in user {
        let (content, offset) = match content.find("$0") {
            Some(i) => (
                content.replacen("$0", "", 1),
                Some(TextSize::from(i as u32)),
            ),
            None => (content, None),
        };
        let path = PathBuf::from(path);
        let file = host.set_file(&path, content);
        if let Some(offset) = offset {
            cursor = Some((file, offset));
        }
        files.push((path, file));
    }
    Fixture {
        host,
        files,
        cursor,
    }
}

/// Render a range as `line:col-line:col` (1-based) in `text`.
pub fn show_range(text: &str, range: rowan::TextRange) -> String {
    let position = |offset: TextSize| {
        let before = &text[..usize::from(offset).min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{line}:{column}")
    };
    format!("{}-{}", position(range.start()), position(range.end()))
}

/// The repository's fixture nixpkgs tree (laid out as nixpkgs is: `pkgs/`,
/// `lib/systems`, a few NixOS modules).
pub fn fixture_nixpkgs() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/nixpkgs")
        .canonicalize()
        .expect("tests/fixtures/nixpkgs")
}

/// A fixture whose option index has `nixpkgs` as its nixpkgs root.
pub fn with_nixpkgs(text: &str, nixpkgs: &std::path::Path) -> Fixture {
    let mut f = fixture(text);
    let db = f.host.db();
    let mut index = (**crate::analysis::db::Db::workspace(db).options(db)).clone();
    index.roots.push((RootKind::Nixpkgs, nixpkgs.to_path_buf()));
    f.host.set_options(index);
    f
}
