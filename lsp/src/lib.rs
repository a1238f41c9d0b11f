//! The MicrOS language toolchain: the analysis behind the language server
//! and the `micros` command line.

pub mod cli;
