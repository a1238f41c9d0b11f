#![no_main]
// See micros_lsp::fuzzing::parse_and_reparse for what the input means.
libfuzzer_sys::fuzz_target!(|data: &[u8]| micros_lsp::fuzzing::parse_and_reparse(data));
