//! alejandra's time grows steeply with a long application spread over
//! many lines (found by the server fuzz target): formatting such a file
//! is given up after ALEJANDRA_TIMEOUT and answered, and while that run
//! goes on, no other starts. A binary of its own: the abandoned run is
//! process-wide state that other formatting tests would see.

use std::time::{Duration, Instant};

use micros_lsp::ide::formatting::{ALEJANDRA_TIMEOUT, FormatError, Formatter, format_text};

#[test]
fn a_file_alejandra_cannot_finish_is_given_up_and_nothing_piles_up() {
    // 8 such lines take alejandra about 0.4 s, 10 about 6 s; 14 take far
    // longer than any timeout.
    let mut text = String::from("{\n  x = f\n");
    for _ in 0..14 {
        text.push_str("    one two three.four\n");
    }
    text.push_str("  ;\n}\n");

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
