//! What the workspace's benchmarks share (`benches/` of this crate, of
//! `micros-lsp` and of `micros-docgen`): which trees to measure, and how
//! much memory a run took. The tools themselves never call it; it lives
//! here because every benchmark already depends on this crate.

use std::path::{Path, PathBuf};

use crate::sources::{MICROS_ENV, NIXPKGS_ENV, env_dir};

/// The micros and nixpkgs trees a benchmark measures.
#[derive(Debug, Clone)]
pub struct Trees {
    pub micros: PathBuf,
    pub nixpkgs: PathBuf,
    /// Whether they are the upstream trees (MICROS_SRC and MICROS_NIXPKGS)
    /// rather than the project's fixture tree, for the benchmark's label.
    pub upstream: bool,
}

/// MICROS_SRC and MICROS_NIXPKGS when both are set, otherwise the
/// project's fixture tree, so that a benchmark runs anywhere.
pub fn trees() -> Trees {
    match (env_dir(MICROS_ENV), env_dir(NIXPKGS_ENV)) {
        (Some(micros), Some(nixpkgs)) => Trees {
            micros,
            nixpkgs,
            upstream: true,
        },
        _ => {
            let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
            Trees {
                micros: fixtures.join("micros"),
                nixpkgs: fixtures.join("nixpkgs"),
                upstream: false,
            }
        }
    }
}

/// A count a benchmark takes from the environment (rounds, requests): the
/// variable's number when it is one, else `default`; never 0.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// nil's binary when NIL_BIN names it, for the benchmarks that run it beside
/// micros-lsp.
pub fn nil_bin() -> Option<PathBuf> {
    std::env::var_os("NIL_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The scenarios to run: those containing the name given on the command
/// line (`cargo bench --bench NAME -- micros`), else all of them.
pub fn selected<'a>(scenarios: &[&'a str]) -> Vec<&'a str> {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    scenarios
        .iter()
        .copied()
        .filter(|s| filter.as_deref().is_none_or(|f| s.contains(f)))
        .collect()
}

/// This process's peak resident memory in KiB (`VmHWM`), where
/// `/proc/self/status` tells it.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A flake.nix whose one system (`packages.x86_64-linux.default`) has
/// `./configuration.nix` and `count` modules written inline, each a
/// service; the first inline module defines `networking.hostName`.
pub fn inline_modules_flake(count: usize) -> String {
    use std::fmt::Write as _;
    let mut text = String::from(
        "{\n  outputs = { micros, ... }: {\n    packages.x86_64-linux.default = (micros.lib.microsSystem {\n      modules = [\n        ./configuration.nix\n        { networking.hostName = \"bench\"; }\n",
    );
    for i in 0..count {
        let _ = writeln!(
            text,
            "        {{\n          micros.services.service{i} = {{\n            type = \"oneshot\";\n            startScript = \"echo {i}\";\n          }};\n        }}"
        );
    }
    text.push_str("      ];\n    }).config.system.build.image;\n  };\n}\n");
    text
}

/// A configuration of at least `min_lines` lines, made of the definitions
/// a real one has (users, services with scripts and dependencies), without
/// a mistake. At 2,000 it has 2,005 lines.
pub fn configuration(min_lines: usize) -> String {
    use std::fmt::Write;
    let mut text = String::from(
        "{ pkgs, lib, ... }:\n{\n  services.getty.enable = true;\n  networking.hostName = \"bench\";\n",
    );
    let mut lines = 4;
    let mut i: usize = 0;
    while lines < min_lines {
        let _ = write!(
            text,
            "  users.user{i} = {{\n    uid = {uid};\n  }};\n  micros.services.service{i} = {{\n    type = \"oneshot\";\n    dependencies = [ \"service{prev}\" ];\n    startScript = ''\n      echo starting {i}\n    '';\n  }};\n",
            uid = 1000 + i,
            prev = i.saturating_sub(1)
        );
        lines += 10;
        i += 1;
    }
    text.push_str("}\n");
    text
}

const PEAK_RSS_FLAG: &str = "--peak-rss-of";

/// When this process is a child started by [`child_peak_rss_kib`]: runs
/// the scenario it names once with `run`, prints the peak memory for the
/// parent and returns true (the benchmark then exits). Otherwise false.
pub fn peak_rss_child(run: impl FnOnce(&str)) -> bool {
    let mut args = std::env::args().skip_while(|a| a != PEAK_RSS_FLAG);
    let Some(scenario) = args.nth(1) else {
        return false;
    };
    run(&scenario);
    println!("{}", peak_rss_kib().unwrap_or(0));
    true
}

/// The peak memory of `scenario` alone: this benchmark run again in a
/// child process, where [`peak_rss_child`] runs `scenario`.
pub fn child_peak_rss_kib(scenario: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let output = std::process::Command::new(exe)
        .args([PEAK_RSS_FLAG, scenario])
        .output()
        .ok()?;
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_peak_memory_of_this_process() {
        // Linux has /proc; a test process holds at least a megabyte.
        let kib = peak_rss_kib().expect("VmHWM in /proc/self/status");
        assert!(kib >= 1024, "{kib} KiB");
    }

    #[test]
    fn the_configuration_has_the_lines_asked_for() {
        assert_eq!(configuration(2_000).lines().count(), 2_005);
        assert_eq!(configuration(20_000).lines().count(), 20_005);
    }

    #[test]
    fn the_trees_are_a_micros_tree_with_its_nixpkgs() {
        let trees = trees();
        let request = crate::sources::micros_request(&trees.micros, Some(&trees.nixpkgs))
            .unwrap_or_else(|e| panic!("{trees:?}: {e}"));
        assert!(!request.modules.is_empty(), "{trees:?}");
    }
}
