//! Real Nix, when asked for: evaluating the option set exactly
//! ([`eval`]), and building images (`micros build`, through [`process`]
//! and [`log`]). Nothing here runs unless a user asks for it: evaluation
//! runs the flake's code.

pub mod eval;
pub mod git;
pub mod log;
pub mod process;
pub mod source_map;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The experimental features every call needs; passing them ourselves
/// means users need no nix.conf change.
pub const FEATURES: [&str; 2] = ["--extra-experimental-features", "nix-command flakes"];

/// The `nix` program.
#[derive(Debug, Clone)]
pub struct Nix {
    pub program: PathBuf,
}

impl Nix {
    /// `nix` on PATH.
    pub fn locate() -> Result<Nix, NixError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join("nix"))
            .find(|candidate| is_executable(candidate))
            .map(|program| Nix { program })
            .ok_or(NixError::Missing)
    }

    /// `nix` with the features flakes need.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(FEATURES);
        command
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixError {
    /// No `nix` program.
    Missing,
    /// This Nix cannot do flakes (too old, or the features are refused).
    FlakesUnsupported(String),
    TimedOut(Duration),
    /// Nix ran and failed; `message` is what it said, colours removed.
    Failed {
        message: String,
    },
    /// Something around Nix went wrong (spawning, reading its output).
    Other(String),
}

impl std::fmt::Display for NixError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NixError::Missing => write!(
                f,
                "Nix is not installed (no `nix` on PATH); install it from https://nixos.org/download (on Debian and Ubuntu: `apt install nix-bin`)"
            ),
            NixError::FlakesUnsupported(detail) => write!(
                f,
                "this Nix cannot evaluate flakes ({detail}); Nix 2.4 or newer with the `nix-command` and `flakes` features is needed"
            ),
            NixError::TimedOut(limit) => write!(
                f,
                "Nix did not finish evaluating within {} s (stopped); raise the limit with --timeout",
                limit.as_secs()
            ),
            NixError::Failed { message } => write!(f, "{}", message.trim_end()),
            NixError::Other(message) => write!(f, "{message}"),
        }
    }
}

impl From<process::RunError> for NixError {
    fn from(error: process::RunError) -> Self {
        match error {
            process::RunError::NotFound => NixError::Missing,
            process::RunError::TimedOut(limit) => NixError::TimedOut(limit),
            process::RunError::Spawn(e) => NixError::Other(format!("cannot run nix: {e}")),
        }
    }
}

/// Recognise Nix's own words for "no flakes here".
pub fn flakes_unsupported(stderr: &str) -> Option<String> {
    let markers = [
        "experimental Nix feature 'flakes' is disabled",
        "experimental Nix feature 'nix-command' is disabled",
        "unrecognised flag '--extra-experimental-features'",
        "unknown setting 'extra-experimental-features'",
    ];
    markers
        .iter()
        .find(|m| stderr.contains(*m))
        .map(|m| m.to_string())
}

/// The Nix system of this machine (`x86_64-linux`, `aarch64-darwin`).
pub fn current_system() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("{}-{os}", std::env::consts::ARCH)
}

/// A string as a Nix string literal.
pub fn nix_string(text: &str) -> String {
    micros_options::model::quote_nix_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_flake_refusals() {
        assert!(flakes_unsupported("error: experimental Nix feature 'flakes' is disabled; use '--extra-experimental-features flakes' to override").is_some());
        assert!(flakes_unsupported("error: attribute 'x' missing").is_none());
    }

    #[test]
    fn system_names() {
        let system = current_system();
        assert!(
            system.ends_with("-linux") || system.ends_with("-darwin"),
            "{system}"
        );
    }

    #[test]
    fn nix_strings_are_escaped() {
        assert_eq!(nix_string("a\"b${c}"), r#""a\"b\${c}""#);
    }
}
