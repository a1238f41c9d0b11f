//! `micros check` on 1,000 generated configuration files: the analysis
//! alone on one thread and on every core, and the real binary end to end
//! (start, option extraction, walking the directory, reading, analysis,
//! output). Target: under 1 s end to end on two cores. Then a flake of
//! 5,000 inline modules checked whole by the real binary (target: well
//! under a second, 500 ms), and one file of 20,000 syntax errors (and as
//! many unknown options, each with its did-you-mean) shown in the human
//! format (target: under a second; it was quadratic, 3.8 s).
//!
//! `cargo bench -p micros-lsp --bench check`. Options come from
//! MICROS_SRC / MICROS_NIXPKGS when set, else from the fixture tree.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use micros_lsp::analysis::options::OptionIndex;
use micros_lsp::cli::check::engine;

const FILES: usize = 1_000;
const ROUNDS: usize = 5;
/// Modules written inline in the flake of the inline row.
const INLINE_MODULES: usize = 5_000;
/// Syntax errors in the one file of the last row.
const SYNTAX_ERRORS: usize = 20_000;

/// The sources as `micros check` finds them (MICROS_SRC / MICROS_NIXPKGS),
/// else the fixture tree.
fn sources() -> (PathBuf, PathBuf, &'static str) {
    use micros_options::sources::{SourceFlags, locate_micros, locate_nixpkgs};
    let from_env = std::env::var_os("MICROS_SRC").is_some_and(|v| !v.is_empty());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let flags = if from_env {
        SourceFlags::default()
    } else {
        SourceFlags {
            micros: Some(fixtures.join("micros")),
            nixpkgs: Some(fixtures.join("nixpkgs")),
        }
    };
    let micros = locate_micros(&flags, &fixtures).expect("micros sources");
    let nixpkgs = locate_nixpkgs(&flags, &fixtures).expect("nixpkgs sources");
    let label = if from_env {
        "upstream micros"
    } else {
        "fixture micros (no MICROS_SRC)"
    };
    (micros.dir, nixpkgs.dir, label)
}

/// A host's configuration, about 45 lines; every tenth has one unknown
/// option and one value of the wrong type.
fn configuration(i: usize) -> String {
    let mut text = format!(
        "{{ config, lib, pkgs, ... }}:\nlet\n  admin = \"admin{i}\";\nin\n{{\n  services.getty.enable = true;\n  users.${{admin}} = {{\n    uid = {};\n    password = \"!\";\n  }};\n",
        1000 + i % 50_000
    );
    for s in 0..4usize {
        text.push_str(&format!(
            "  micros.services.svc{s} = {{\n    type = \"oneshot\";\n    dependencies = [ \"svc{}\" ];\n    startScript = ''\n      echo host {i} service {s}\n      exec ${{pkgs.hello}}/bin/hello\n    '';\n  }};\n",
            s.saturating_sub(1)
        ));
    }
    if i.is_multiple_of(10) {
        text.push_str("  services.gety.enable = true;\n  users.bench.uid = \"x\";\n");
    }
    text.push_str("}\n");
    text
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The median of [`ROUNDS`] runs of the real binary, `micros check
/// --format FORMAT` with the sources, as CI and users run it; `configure`
/// says what to check (paths or the working directory), `verify` holds
/// each run's output to what it must find.
fn time_check(
    micros: &Path,
    nixpkgs: &Path,
    format: &str,
    configure: impl Fn(&mut Command),
    verify: impl Fn(&std::process::Output),
) -> Duration {
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let mut command = Command::new(env!("CARGO_BIN_EXE_micros"));
        command
            .args(["check", "--format", format, "--micros"])
            .arg(micros)
            .arg("--nixpkgs")
            .arg(nixpkgs);
        configure(&mut command);
        let start = Instant::now();
        let output = command.output().expect("run micros");
        times.push(start.elapsed());
        verify(&output);
    }
    median(times)
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let (micros, nixpkgs, label) = sources();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-bench");
    let _ = std::fs::remove_dir_all(&dir);
    let mut paths = Vec::new();
    let mut lines = 0;
    for i in 0..FILES {
        let path = dir.join(format!("hosts/h{:02}/host{i:04}.nix", i % 50));
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("scratch dir");
        let text = configuration(i);
        lines += text.lines().count();
        std::fs::write(&path, text).expect("write");
        paths.push(path);
    }
    let expected = FILES / 10 * 2;

    let request = micros_options::sources::micros_request(&micros, Some(&nixpkgs)).expect("micros");
    let set = Arc::new(micros_options::extract(&request).options);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut rows = Vec::new();
    let mut jobs_tried = vec![1, 2, cores];
    jobs_tried.sort();
    jobs_tried.dedup();
    for &jobs in &jobs_tried {
        let mut times = Vec::new();
        for _ in 0..ROUNDS {
            let index = OptionIndex::new(set.clone(), true);
            let start = Instant::now();
            let outcome = engine::analyze(
                index,
                Default::default(),
                &paths,
                &[],
                jobs,
                &|_| false,
                None,
            )
            .expect("analysis");
            times.push(start.elapsed());
            let found: usize = outcome.files.iter().map(|f| f.diagnostics.len()).sum();
            assert_eq!(outcome.files.len(), FILES);
            assert_eq!(found, expected, "{:?}", outcome.failures);
        }
        rows.push((format!("analysis, {jobs} thread(s)"), median(times)));
    }

    // The real binary, as CI runs it.
    let end_to_end = time_check(
        &micros,
        &nixpkgs,
        "json",
        |command| {
            command.arg(&dir);
        },
        |output| {
            assert_eq!(output.status.code(), Some(1));
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
            assert_eq!(json["diagnostics"].as_array().map(Vec::len), Some(expected));
        },
    );

    println!("options: {label}; {FILES} files, {lines} lines; {cores} core(s)");
    println!("{:<44} {:>12}", "measure (median of 5)", "time");
    for (name, time) in &rows {
        println!("{name:<44} {:>12}", ms(*time));
    }
    println!(
        "{:<44} {:>12}   target < 1 s on 2 cores: {}",
        "micros check DIR, end to end",
        ms(end_to_end),
        if end_to_end < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A flake of 5,000 inline modules, checked whole (no path), as a
    // user runs it in the flake's directory.
    // Outside any git work tree (this repository's would make its files
    // untracked ones).
    let flake_dir =
        std::env::temp_dir().join(format!("micros-check-bench-inline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&flake_dir);
    std::fs::create_dir_all(&flake_dir).expect("create the flake");
    let flake = micros_options::bench_support::inline_modules_flake(INLINE_MODULES).replacen(
        "networking.hostName",
        "networking.hostname",
        1,
    );
    std::fs::write(flake_dir.join("flake.nix"), &flake).expect("write flake.nix");
    std::fs::write(
        flake_dir.join("configuration.nix"),
        "{ services.getty.enable = true; }\n",
    )
    .expect("write configuration.nix");
    let inline = time_check(
        &micros,
        &nixpkgs,
        "json",
        |command| {
            command.current_dir(&flake_dir);
        },
        |output| {
            assert_eq!(
                output.status.code(),
                Some(1),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
            let codes: Vec<&str> = json["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .filter_map(|d| d["code"].as_str())
                .collect();
            assert_eq!(codes, ["unknown-option"]);
        },
    );
    println!(
        "{:<44} {:>12}   target well under 1 s (≤ 500 ms): {}",
        format!("micros check, flake of {INLINE_MODULES} inline modules"),
        ms(inline),
        if inline <= Duration::from_millis(500) {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = std::fs::remove_dir_all(&flake_dir);

    // One file of 1.9 MB with 20,000 syntax errors, shown as a user reads
    // them: each is printed with its line (the lines define unknown
    // options too, each looked up for a did-you-mean).
    let errors_dir = dir.join("errors");
    std::fs::create_dir_all(&errors_dir).expect("scratch dir");
    let broken: String = std::iter::once("{\n".to_string())
        .chain((0..SYNTAX_ERRORS).map(|i| format!("  a{i}.{} = ;\n", "x".repeat(80))))
        .chain(std::iter::once("}\n".to_string()))
        .collect();
    let broken_path = errors_dir.join("configuration.nix");
    std::fs::write(&broken_path, &broken).expect("write");
    let many_errors = time_check(
        &micros,
        &nixpkgs,
        "human",
        |command| {
            command.arg(&broken_path);
        },
        |output| {
            assert_eq!(output.status.code(), Some(1));
            let shown = String::from_utf8_lossy(&output.stdout)
                .matches("error[syntax-error]")
                .count();
            assert_eq!(shown, SYNTAX_ERRORS);
        },
    );
    println!(
        "{:<44} {:>12}   target < 1 s: {}",
        format!("micros check, one file of {SYNTAX_ERRORS} errors"),
        ms(many_errors),
        if many_errors < Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
}
