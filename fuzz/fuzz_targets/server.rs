#![no_main]
// See micros_lsp::fuzzing::server_session for what the input means.
libfuzzer_sys::fuzz_target!(|data: &[u8]| micros_lsp::fuzzing::server_session(data));
