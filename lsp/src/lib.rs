//! The MicrOS language toolchain: the analysis behind the language server
//! and the `micros` command line.

pub mod cli;
pub mod db;
pub mod ide;
pub mod lower;
pub mod names;
pub mod nix;
pub mod options;
pub mod recover;
pub mod reparse;
pub mod resolve;
pub mod server;
pub mod systems;
