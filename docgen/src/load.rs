//! Where the option set comes from: an options.json, or the sources
//! (extracted statically, without Nix).

use std::path::{Path, PathBuf};

use micros_options::sources::{self, SourceFlags};
use micros_options::{Diagnostic, OptionSet, extract, json};

/// The option set and what is known about its sources.
#[derive(Debug, Default)]
pub struct Loaded {
    pub set: OptionSet,
    /// Problems in the sources (extraction only).
    pub diagnostics: Vec<Diagnostic>,
    /// A note for the user (a source that could not be found).
    pub notes: Vec<String>,
    pub micros_dir: Option<PathBuf>,
    pub nixpkgs_dir: Option<PathBuf>,
    /// How the trees were found (a flake.lock pins a revision).
    pub micros_provenance: Option<sources::Provenance>,
    pub nixpkgs_provenance: Option<sources::Provenance>,
}

/// Read an options.json (nixpkgs' schema). Errors name the file, the
/// line and column, and what was expected.
pub fn from_options_json(path: &Path) -> Result<OptionSet, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the options file: {e}", path.display()))?;
    if text.trim().is_empty() {
        return Err(format!(
            "{}:1:1: the options file is empty; expected an options.json object mapping option names to {{ loc, type, description, ... }}",
            path.display()
        ));
    }
    // serde counts columns from 0 at the start of a line; editors from 1.
    json::from_json_text(text).map_err(|e| {
        let column = e.column.max(1);
        format!("{}:{}:{column}: {}", path.display(), e.line, e.message)
    })
}

/// Extract the options of a micros tree (and the nixpkgs modules it
/// imports), found as `micros options` finds them: flags, then
/// `MICROS_SRC` / `MICROS_NIXPKGS`, then the nearest flake.lock.
pub fn from_sources(
    micros: Option<PathBuf>,
    nixpkgs: Option<PathBuf>,
    start: &Path,
) -> Result<Loaded, String> {
    let flags = SourceFlags { micros, nixpkgs };
    let micros = sources::locate_micros(&flags, start).map_err(|e| e.message)?;
    let mut notes = Vec::new();
    let nixpkgs = match sources::locate_nixpkgs(&flags, start) {
        Ok(located) => Some(located),
        Err(error) => {
            notes.push(format!(
                "{}; the options of the nixpkgs modules micros imports are left out",
                error.message
            ));
            None
        }
    };
    let request = sources::micros_request(&micros.dir, nixpkgs.as_ref().map(|n| n.dir.as_path()))?;
    let extraction = extract(&request);
    let (nixpkgs_dir, nixpkgs_provenance) = match nixpkgs {
        Some(located) => (Some(located.dir), Some(located.provenance)),
        None => (None, None),
    };
    Ok(Loaded {
        set: extraction.options,
        diagnostics: extraction.diagnostics,
        notes,
        micros_dir: Some(micros.dir),
        nixpkgs_dir,
        micros_provenance: Some(micros.provenance),
        nixpkgs_provenance,
    })
}
