//! What the fuzz targets (`fuzz/`) run, one function per target, so that
//! `cargo test` can replay their corpora through exactly the same code
//! (`lsp/tests/fuzz_corpus.rs`). Each panics on a broken invariant; a
//! crash, a hang or a stack overflow is the fuzzer's finding.
//!
//! Inputs are bytes, read as UTF-8 (lossily) and cut into parts at NUL
//! bytes, which Nix text never contains.

mod session;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use micros_options::model::RootKind;
use micros_options::{ExtractRequest, ModuleSource, OptionSet, Root};
use rowan::{TextRange, TextSize};

use crate::analysis::options::OptionIndex;
use crate::analysis::reparse::{Baseline, Parsed};
use crate::ide::AnalysisHost;

pub use session::server_session;

/// The project's fixture trees, where the fuzz targets' options come from.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// The fixture tree's options, extracted once per process.
pub fn fixture_options() -> Arc<OptionSet> {
    static OPTIONS: OnceLock<Arc<OptionSet>> = OnceLock::new();
    OPTIONS
        .get_or_init(|| {
            let f = fixtures();
            let request = micros_options::sources::micros_request(
                &f.join("micros"),
                Some(&f.join("nixpkgs")),
            )
            .expect("the fixture tree");
            Arc::new(micros_options::extract(&request).options)
        })
        .clone()
}

/// The fixture options' index, made once per process: building it for each
/// input was 9% of the diagnostics target's time.
pub(crate) fn fixture_index() -> Arc<OptionIndex> {
    static INDEX: OnceLock<Arc<OptionIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| Arc::new(OptionIndex::new(fixture_options(), true)))
        .clone()
}

fn parts(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .split('\0')
        .map(str::to_string)
        .collect()
}

/// Parse + incremental reparse: the texts of a file edited one after the
/// other, as the server reparses them (each from the last text that
/// parsed without errors), then the first text again (an edit undone).
/// The texts are the parts between NULs; without one, the text, the text
/// less its middle character, and the text again. Each reparse must equal
/// a full parse.
pub fn parse_and_reparse(data: &[u8]) {
    let mut texts = parts(data);
    if texts.len() == 1 {
        let old = &texts[0];
        let mut new = old.clone();
        let middle = (0..=old.len() / 2)
            .rev()
            .find(|&i| old.is_char_boundary(i))
            .unwrap_or(0);
        if middle < old.len() {
            new.remove(middle);
        }
        texts.push(new);
    }
    texts.push(texts[0].clone());
    let mut baseline = None;
    for text in &texts {
        let incremental = Baseline::parse(&mut baseline, text);
        let full = Parsed::new(text);
        assert_eq!(incremental, full, "reparse differs from a full parse");
        assert_tree_holds_text(&full, text);
    }
}

/// The tree holds the text byte for byte, except where a missing `;` was
/// repaired: there the recovery put a `;` in place of the whitespace after
/// the value (`crate::analysis::recover`), and says so in an error at that offset.
fn assert_tree_holds_text(parsed: &Parsed, text: &str) {
    let tree = rnix::SyntaxNode::new_root(parsed.green.clone()).to_string();
    assert_eq!(tree.len(), text.len(), "the tree's text has another length");
    let repaired: Vec<usize> = parsed
        .errors
        .iter()
        .filter(|(_, message)| message == crate::analysis::recover::MISSING_SEMICOLON)
        .map(|(range, _)| usize::from(range.start()))
        .collect();
    for (at, (in_tree, in_text)) in tree.bytes().zip(text.bytes()).enumerate() {
        if in_tree != in_text {
            assert!(
                repaired.contains(&at) && in_tree == b';' && in_text.is_ascii_whitespace(),
                "the tree differs from the text at byte {at}, where no `;` was repaired"
            );
        }
    }
    for at in repaired {
        assert_eq!(
            tree.as_bytes().get(at),
            Some(&b';'),
            "no `;` repaired at {at}"
        );
    }
}

/// Offsets inside `text` derived from its length: the start, the end, and
/// a few places between, on character boundaries.
fn offsets(text: &str) -> Vec<TextSize> {
    let len = text.len();
    [0, len / 3, len / 2, 2 * len / 3, len]
        .into_iter()
        .map(|at| {
            (0..=at)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0)
        })
        .map(|at| TextSize::from(at as u32))
        .collect()
}

/// Lowering, resolution and every diagnostic of one file against the
/// fixture options (the first part is the file; a second part is a module
/// it imports, so declared options and import cycles are exercised),
/// symbols, folds, semantic tokens and selection ranges, then hover,
/// completion, definitions and code actions at a few offsets.
pub fn analyse_file(data: &[u8]) {
    let parts = parts(data);
    let mut host = AnalysisHost::default();
    host.set_options(fixture_index());
    let main = host.set_file(Path::new("/fuzz/configuration.nix"), parts[0].clone());
    if let Some(imported) = parts.get(1) {
        host.set_file(Path::new("/fuzz/module.nix"), imported.clone());
    }
    let analysis = host.snapshot();
    let cancelled = "nothing edits the database meanwhile";
    let diagnostics = analysis.diagnostics(main).expect(cancelled);
    let len = TextSize::of(parts[0].as_str());
    for diagnostic in &diagnostics {
        assert!(diagnostic.range.end() <= len, "{diagnostic:?} past the end");
    }
    analysis.symbols(main).expect(cancelled);
    analysis.folding_ranges(main).expect(cancelled);
    let every_binding = crate::ide::inlay_hints::InlayConfig {
        binding_end_min_lines: Some(1),
    };
    for hint in analysis
        .inlay_hints(main, None, every_binding)
        .expect(cancelled)
    {
        assert!(hint.offset <= len, "{hint:?} past the end");
    }
    analysis.semantic_tokens(main, None).expect(cancelled);
    let offsets = offsets(&parts[0]);
    analysis.selection_ranges(main, &offsets).expect(cancelled);
    for offset in offsets {
        analysis
            .semantic_tokens(main, Some(TextRange::new(offset, len)))
            .expect(cancelled);
        analysis.hover(main, offset).expect(cancelled);
        analysis.completion(main, offset).expect(cancelled);
        analysis.goto_definition(main, offset).expect(cancelled);
        analysis
            .code_actions(main, TextRange::new(0.into(), offset))
            .expect(cancelled);
    }
}

/// Static option extraction of a module tree made from the input: up to
/// three files (`default.nix`, `a.nix`, `b.nix`) in memory, all given as
/// modules, so that they may import themselves or each other. Nothing is
/// read from disk: the root does not exist.
pub fn extract_tree(data: &[u8]) {
    let root = PathBuf::from("/nonexistent-fuzz-root");
    let names = ["default.nix", "a.nix", "b.nix"];
    let modules = parts(data)
        .into_iter()
        .zip(names)
        .map(|(text, name)| ModuleSource::Text {
            path: root.join(name),
            text,
        })
        .collect();
    let request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::User,
            dir: root,
        }],
        modules,
        skip_imports: false,
    };
    let extraction = micros_options::extract::extract_here(&request);
    // What the options become downstream: JSON, and the text of each type.
    let json = micros_options::json::to_json(&extraction.options, true);
    let read = micros_options::json::from_json(&json).expect("our own JSON reads back");
    for option in read.flatten() {
        option.ty.description();
    }
}
