//! What git tracks, as far as a flake is concerned: a flake in a git work
//! tree is copied to the store with the files git tracks only, so a file
//! git does not track is missing from the system (`untracked-file`).
//!
//! This is the analysis side (no I/O): the front ends ask git
//! (`nix::git`) and put the answer into the database.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The work trees around the workspace's flakes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GitState {
    pub trees: Vec<WorkTree>,
}

/// One work tree: the files in it that git does not track (intent-to-add
/// files are tracked: they are in the index), as git lists them, a
/// directory standing for everything in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkTree {
    /// The top directory (absolute).
    pub top: PathBuf,
    /// Untracked, not ignored (absolute paths).
    pub untracked: BTreeSet<PathBuf>,
    /// Ignored by `.gitignore` and the like (absolute paths).
    pub ignored: BTreeSet<PathBuf>,
}

/// Why git does not have a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTracked {
    /// New to git: `git add` it.
    Untracked,
    /// Ignored: `git add -f` would be needed.
    Ignored,
}

impl GitState {
    /// The work tree a path is in, if any.
    pub fn tree_of(&self, path: &Path) -> Option<&WorkTree> {
        self.trees
            .iter()
            .filter(|tree| path.starts_with(&tree.top))
            .max_by_key(|tree| tree.top.components().count())
    }
}

impl WorkTree {
    /// Whether git leaves out `path` (an existing file or directory of the
    /// tree, or one inside a directory git leaves out). Paths git never
    /// listed (tracked, missing, created since) are `None`.
    pub fn not_tracked(&self, path: &Path) -> Option<NotTracked> {
        let inside = path.strip_prefix(&self.top).ok()?;
        // The path itself and each directory above it, up to the top.
        let mut candidate = self.top.join(inside);
        loop {
            if self.untracked.contains(&candidate) {
                return Some(NotTracked::Untracked);
            }
            if self.ignored.contains(&candidate) {
                return Some(NotTracked::Ignored);
            }
            if candidate == self.top || !candidate.pop() {
                return None;
            }
        }
    }

    /// The path as `git add` takes it from the top of the tree.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.top).unwrap_or(path)
    }
}

/// Reads `git ls-files -z` output (paths relative to `top`; directories
/// with a trailing `/` under `--directory`) into absolute paths.
pub fn parse_ls_files(top: &Path, output: &[u8]) -> BTreeSet<PathBuf> {
    output
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .map(|entry| top.join(entry.trim_end_matches('/')))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_stand_for_what_is_in_them() {
        let top = Path::new("/repo");
        let tree = WorkTree {
            top: top.into(),
            untracked: parse_ls_files(top, b"new.nix\0hosts/\0"),
            ignored: parse_ls_files(top, b"secrets/\0result\0"),
        };
        let state = GitState { trees: vec![tree] };
        let tree = state.tree_of(Path::new("/repo/a.nix")).unwrap();
        let status = |p: &str| tree.not_tracked(Path::new(p));
        assert_eq!(status("/repo/new.nix"), Some(NotTracked::Untracked));
        assert_eq!(
            status("/repo/hosts/web/default.nix"),
            Some(NotTracked::Untracked)
        );
        assert_eq!(status("/repo/secrets/key.nix"), Some(NotTracked::Ignored));
        assert_eq!(status("/repo/configuration.nix"), None);
        assert_eq!(status("/repo"), None);
        assert!(state.tree_of(Path::new("/elsewhere/a.nix")).is_none());
        assert_eq!(
            tree.relative(Path::new("/repo/hosts/web.nix")),
            Path::new("hosts/web.nix")
        );
    }
}
