//! alejandra's time grows steeply with some nestings written over many
//! lines (found by the server fuzz target). Long chains are refused before
//! it starts (see the unit tests); any other shape is given up after
//! ALEJANDRA_TIMEOUT and answered, and while that run goes on, no other
//! starts. A binary of its own: the abandoned run is
//! process-wide state that other formatting tests would see.

use std::time::{Duration, Instant};

use micros_lsp::ide::formatting::{ALEJANDRA_TIMEOUT, FormatError, Formatter, format_text};

#[test]
fn a_file_alejandra_cannot_finish_is_given_up_and_nothing_piles_up() {
    // Calls nested in sums over lines, no long chain among them: 12
    // levels take alejandra (release build) about 5 s, and each level
    // multiplies that by about 8.
    let mut nested = String::from("x");
    for level in 0..14 {
        nested = format!("f{level} a\n  ({nested} + b)");
    }
    let text = format!("{{\n  x = {nested};\n}}\n");

    let started = Instant::now();
    let first = format_text(&Formatter::Alejandra, &text);
    let waited = started.elapsed();
    let Err(FormatError::Formatter(message)) = first else {
        panic!("formatted, or another error: {first:?}");
    };
    assert!(message.contains("did not finish"), "{message}");
    assert!(
        waited >= ALEJANDRA_TIMEOUT && waited < ALEJANDRA_TIMEOUT + Duration::from_secs(5),
        "answered after {waited:?}"
    );

    // The abandoned run is still going: neither this file nor a small one
    // starts another.
    for again in [text.as_str(), "{ a = 1; }\n"] {
        let started = Instant::now();
        let Err(FormatError::Formatter(message)) = format_text(&Formatter::Alejandra, again) else {
            panic!("a second run started");
        };
        assert!(message.contains("still busy"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
