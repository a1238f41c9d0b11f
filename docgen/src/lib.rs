//! `micros-docgen`: the MicrOS options reference.
//!
//! An [`OptionSet`](micros_options::OptionSet) becomes markdown pages (one
//! per top-level group and an index, [`reference`]) that are written into
//! an mdbook and built to HTML ([`book`]), and a `configuration.nix(5)`
//! style manual page ([`man`]).

pub mod anchor;
pub mod book;
pub mod highlight;
pub mod html;
pub mod load;
pub mod man;
pub mod markdown;
pub mod pages;
pub mod reference;
pub mod repo;
pub mod search;
