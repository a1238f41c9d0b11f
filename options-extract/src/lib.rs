//! The MicrOS option model and its static extractor.
//!
//! [`model`] is what an option is; [`extract`] obtains the options of a
//! module tree without running Nix; [`json`] reads and writes options.json
//! in the nixpkgs schema; [`sources`] finds the micros and nixpkgs trees;
//! [`report`] renders a [`Diagnostic`] the way rustc does. [`bench_support`]
//! serves the workspace's benchmarks only.

pub mod bench_support;
pub mod eval;
pub mod extract;
pub mod json;
pub mod model;
pub mod report;
pub mod sources;
pub mod syntax;

pub use extract::{
    Diagnostic, ExtractRequest, Extraction, ModuleSource, ReadFile, Root, Severity, extract,
};
pub use model::{OptionDecl, OptionSet, OptionType};
