//! The fuzzers' minimized corpora (`fuzz/corpus/<target>/`) and the inputs
//! that once crashed a target (`fuzz/regressions/<target>/`), replayed
//! through the very functions the fuzz targets call.

use std::path::{Path, PathBuf};

use micros_lsp::fuzzing;

fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Replay on a thread with the stack the server's analysis threads get:
/// an input that needs more is a finding, as in the fuzzer.
fn replay(target: &str, run: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} is empty");
    let all: Vec<PathBuf> = corpus
        .into_iter()
        .chain(inputs("regressions", target))
        .collect();
    let count = all.len();
    std::thread::Builder::new()
        .stack_size(16 * 1024 * 1024)
        .spawn(move || {
            for path in all {
                let data = std::fs::read(&path).unwrap();
                eprintln!("{}", path.display());
                run(&data);
            }
        })
        .unwrap()
        .join()
        .unwrap_or_else(|_| panic!("an input of {target} failed (the last one named above)"));
    eprintln!("{target}: {count} inputs replayed");
}

#[test]
fn parse_corpus() {
    replay("parse", fuzzing::parse_and_reparse);
}

#[test]
fn diagnostics_corpus() {
    replay("diagnostics", fuzzing::analyse_file);
}

#[test]
fn extract_corpus() {
    replay("extract", fuzzing::extract_tree);
}

#[test]
fn server_corpus() {
    replay("server", fuzzing::server_session);
}
