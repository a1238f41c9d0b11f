//! The analysis layer: the salsa database and everything computed from a
//! file's text, the option set and the flake's systems, with no LSP types
//! and no I/O. `ide/` answers requests from it; `server/` and `cli/` feed
//! it and convert its answers.

pub mod cond;
pub mod db;
pub mod git;
pub mod import_graph;
pub mod lower;
pub mod names;
pub mod option_uses;
pub mod options;
pub mod recover;
pub mod reparse;
pub mod resolve;
pub mod scopes;
pub mod systems;
