//! Extraction benchmark: the micros tree (with its nixpkgs modules) and a
//! generated NixOS-scale tree of 2,000 modules declaring 20,000 options.
//!
//! `cargo bench -p micros-options --bench extract`. The micros tree is read
//! from MICROS_SRC / MICROS_NIXPKGS; without them the project's fixture tree
//! stands in (and the output says so). Each scenario also runs once in a
//! child process of its own so that its peak memory is measured alone.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use micros_options::extract::extract_here;
use micros_options::model::RootKind;
use micros_options::{ExtractRequest, ModuleSource, Root, bench_support};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MODULES: usize = 2_000;

fn main() {
    if bench_support::peak_rss_child(|scenario| {
        let (request, _) = scenario_request(scenario);
        std::hint::black_box(extract_here(&request));
    }) {
        return;
    }
    println!(
        "{:<34} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "scenario", "options", "min", "median", "mean", "peak RSS"
    );
    for scenario in bench_support::selected(&["micros", "generated-2000-modules"]) {
        let (request, label) = scenario_request(scenario);
        let warm = extract_here(&request);
        let options = warm.options.flatten().len();
        let iterations = if scenario == "micros" { 200 } else { 10 };
        let mut times: Vec<Duration> = (0..iterations)
            .map(|_| {
                let start = Instant::now();
                let extraction = extract_here(&request);
                let elapsed = start.elapsed();
                std::hint::black_box(extraction);
                elapsed
            })
            .collect();
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        let peak = bench_support::child_peak_rss_kib(scenario);
        println!(
            "{:<34} {:>8} {:>10} {:>10} {:>10} {:>10}",
            label,
            options,
            fmt(times[0]),
            fmt(times[times.len() / 2]),
            fmt(mean),
            peak.map_or("?".into(), |kib| format!("{:.1} MB", kib as f64 / 1024.0)),
        );
    }
}

fn fmt(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn scenario_request(scenario: &str) -> (ExtractRequest, String) {
    match scenario {
        "micros" => micros_request(),
        _ => (
            generated_request(&generate_tree()),
            format!("generated ({MODULES} modules)"),
        ),
    }
}

fn micros_request() -> (ExtractRequest, String) {
    let trees = bench_support::trees();
    let request = micros_options::sources::micros_request(&trees.micros, Some(&trees.nixpkgs))
        .unwrap_or_else(|e| panic!("cannot read the micros tree: {e}"));
    let label = if trees.upstream {
        "micros (upstream + nixpkgs mods)"
    } else {
        "micros fixture (no MICROS_SRC)"
    };
    (request, label.to_string())
}

fn generated_request(dir: &Path) -> ExtractRequest {
    ExtractRequest {
        roots: vec![Root {
            kind: RootKind::Micros,
            dir: dir.to_path_buf(),
        }],
        modules: vec![ModuleSource::File(
            dir.join("micros/modules/all-modules.nix"),
        )],
        skip_imports: false,
    }
}

/// Write the generated tree once per process into the target directory.
fn generate_tree() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-generated-tree");
    let modules = dir.join("micros/modules");
    std::fs::create_dir_all(&modules).expect("create the generated tree");
    let mut list = String::from("[\n");
    for i in 0..MODULES {
        let group = i % 20;
        let name = format!("group{group}/svc{i}.nix");
        let path = modules.join(&name);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create group dir");
        std::fs::write(&path, generated_module(i)).expect("write module");
        let _ = writeln!(list, "  ./{name}");
    }
    list.push_str("]\n");
    std::fs::write(modules.join("all-modules.nix"), list).expect("write module list");
    dir
}

/// A service module in the style NixOS modules are written: ten options
/// (counting the submodule's two), types of every common kind.
fn generated_module(i: usize) -> String {
    format!(
        r#"{{ config, lib, pkgs, ... }}:
let
  inherit (lib) mkOption mkEnableOption mkPackageOption types;
  cfg = config.services.generated{i};
  settingOpts = {{ name, ... }}: {{
    options = {{
      value = mkOption {{
        type = types.either types.str types.int;
        description = "Value of setting ${{name}} for service {i}.";
      }};
      priority = mkOption {{
        type = types.ints.between 0 100;
        default = 50;
        description = "Priority of the setting.";
      }};
    }};
  }};
in {{
  options.services.generated{i} = {{
    enable = mkEnableOption "generated service {i}";
    package = mkPackageOption pkgs "generated{i}" {{ }};
    port = mkOption {{
      type = types.port;
      default = {port};
      description = "TCP port service {i} listens on.";
    }};
    user = mkOption {{
      type = types.str;
      default = "svc{i}";
      description = ''
        The user service {i} runs as.
        It is created unless it exists already.
      '';
    }};
    extraArgs = mkOption {{
      type = with types; listOf str;
      default = [ ];
      example = [ "--verbose" "--color=never" ];
      description = "Extra command line arguments.";
    }};
    logLevel = mkOption {{
      type = types.enum [ "debug" "info" "warn" "error" ];
      default = "info";
      description = "How much service {i} logs.";
    }};
    dataDir = mkOption {{
      type = types.nullOr types.path;
      default = null;
      defaultText = lib.literalExpression "/var/lib/svc{i}";
      description = "Where service {i} keeps its state.";
    }};
    settings = mkOption {{
      type = types.attrsOf (types.submodule settingOpts);
      default = {{ }};
      description = "Settings of service {i}.";
    }};
  }};

  config = lib.mkIf cfg.enable {{
    users.svc{i} = {{ }};
  }};
}}
"#,
        port = 1024 + i
    )
}
