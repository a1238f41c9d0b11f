//! Analysis benchmark on a 2,000-line configuration: cold start to first
//! diagnostics (option extraction included), re-diagnosis after a
//! one-character edit, completion and hover latency, peak memory.
//!
//! `cargo bench -p micros-lsp --bench analysis`. Options come from
//! MICROS_SRC / MICROS_NIXPKGS when set, else from the fixture tree.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use micros_lsp::analysis::options::OptionIndex;
use micros_lsp::ide::AnalysisHost;
use micros_options::bench_support;
use rowan::TextSize;

fn sources() -> (PathBuf, PathBuf, &'static str) {
    let trees = bench_support::trees();
    let label = if trees.upstream {
        "upstream micros"
    } else {
        "fixture micros (no MICROS_SRC)"
    };
    (trees.micros, trees.nixpkgs, label)
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mb() -> f64 {
    bench_support::peak_rss_kib().map_or(0.0, |kib| kib as f64 / 1024.0)
}

fn load_index(micros: &Path, nixpkgs: &Path) -> OptionIndex {
    let request =
        micros_options::sources::micros_request(micros, Some(nixpkgs)).expect("micros tree");
    let extraction = micros_options::extract(&request);
    OptionIndex::new(Arc::new(extraction.options), true)
}

fn main() {
    let (micros, nixpkgs, label) = sources();
    let text = bench_support::configuration(2_000);
    let path = PathBuf::from("/bench/configuration.nix");

    // Cold start: extraction, database, first diagnostics.
    let start = Instant::now();
    let mut host = AnalysisHost::default();
    host.set_options(load_index(&micros, &nixpkgs));
    let file = host.set_file(&path, text.clone());
    let diagnostics = host.snapshot().diagnostics(file).expect("not cancelled");
    let cold = start.elapsed();
    assert!(
        diagnostics.is_empty(),
        "the benchmark configuration should be clean: {:?}",
        &diagnostics[..diagnostics.len().min(3)]
    );

    // Re-diagnosis after a one-character edit inside a script.
    let edit_at = text.find("echo starting 100").expect("service 100 exists") + 5;
    let mut edits = Vec::new();
    for round in 0..200 {
        let mut edited = text.clone();
        edited.replace_range(edit_at..edit_at + 1, if round % 2 == 0 { "S" } else { "s" });
        let start = Instant::now();
        host.set_file(&path, edited);
        let diagnostics = host.snapshot().diagnostics(file).expect("not cancelled");
        edits.push(start.elapsed());
        assert!(diagnostics.is_empty());
    }
    // A one-character edit that changes meaning (and must re-resolve).
    let value_at = text.find("uid = 1100;").expect("user 100") + 8;
    let mut meaning = Vec::new();
    for round in 0..200 {
        let mut edited = text.clone();
        edited.replace_range(
            value_at..value_at + 1,
            if round % 2 == 0 { "6" } else { "5" },
        );
        let start = Instant::now();
        host.set_file(&path, edited);
        host.snapshot().diagnostics(file).expect("not cancelled");
        meaning.push(start.elapsed());
    }
    host.set_file(&path, text.clone());
    host.snapshot().diagnostics(file).expect("not cancelled");

    // Completion inside a service, hover on an option, on a warm database.
    let analysis = host.snapshot();
    let positions: Vec<usize> = text
        .match_indices("type = \"oneshot\"")
        .map(|(i, _)| i)
        .collect();
    let mut completions = Vec::new();
    let mut hovers = Vec::new();
    for (n, &at) in positions.iter().cycle().take(2_000).enumerate() {
        let key = TextSize::from((at + 2) as u32);
        let start = Instant::now();
        let items = analysis.completion(file, key).expect("not cancelled");
        completions.push(start.elapsed());
        assert!(!items.is_empty() || n > 0);
        let start = Instant::now();
        let hover = analysis.hover(file, key).expect("not cancelled");
        hovers.push(start.elapsed());
        assert!(hover.is_some());
    }
    drop(analysis);

    println!(
        "options: {label}; configuration: {} lines, {} bytes",
        text.lines().count(),
        text.len()
    );
    println!("{:<44} {:>12} {:>12}   target", "measure", "p50", "p99");
    println!(
        "{:<44} {:>12} {:>12}   < 1 ms p99",
        "completion",
        ms(percentile(&mut completions, 0.5)),
        ms(percentile(&mut completions, 0.99))
    );
    println!(
        "{:<44} {:>12} {:>12}   < 1 ms p99",
        "hover",
        ms(percentile(&mut hovers, 0.5)),
        ms(percentile(&mut hovers, 0.99))
    );
    println!(
        "{:<44} {:>12} {:>12}   < 2 ms",
        "re-diagnosis, one-character edit (string)",
        ms(percentile(&mut edits, 0.5)),
        ms(percentile(&mut edits, 0.99))
    );
    println!(
        "{:<44} {:>12} {:>12}",
        "re-diagnosis, one-character edit (value)",
        ms(percentile(&mut meaning, 0.5)),
        ms(percentile(&mut meaning, 0.99))
    );
    println!(
        "{:<44} {:>12} {:>12}   < 30 ms",
        "cold start to first diagnostics",
        ms(cold),
        ""
    );
    println!(
        "{:<44} {:>9.1} MB {:>12}   < 30 MB",
        "peak resident memory",
        peak_rss_mb(),
        ""
    );
}
