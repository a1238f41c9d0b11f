//! The flake's systems: which files are modules, and of which images.

use crate::db::{self, Db, File};

/// Whether the file is analysed as a module: one a system reaches, or one
/// that looks like a module on its own. Library, data and package files
/// (`{ lib }: { mkThing = ...; }`) get syntax and name diagnostics only.
#[salsa::tracked]
pub fn is_module(db: &dyn Db, file: File) -> bool {
    let index = db::option_index(db, db.workspace());
    db::module(db, file)
        .shape
        .looks_like_module(|name| index.is_root_name(name))
}
