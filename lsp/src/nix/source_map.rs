//! Store paths back to the workspace: Nix evaluates a flake from its copy
//! in the store (`/nix/store/<hash>-source/configuration.nix`), and its
//! errors name that copy. The person wants their own file.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

static SOURCE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"/nix/store/[0-9a-df-np-sv-z]{32}-source((?:/[^\s:'`\x22,;()]+)*)")
        .expect("valid regex")
});

/// Maps store copies of a local flake to its directory.
#[derive(Debug, Clone)]
pub struct SourceMap {
    /// The flake's directory and the directories above it (a flake in a
    /// subdirectory of a git repository is copied with the whole repository).
    bases: Vec<PathBuf>,
}

impl SourceMap {
    pub fn new(flake_dir: &Path) -> Self {
        SourceMap {
            bases: flake_dir
                .ancestors()
                .take(8)
                .map(Path::to_path_buf)
                .collect(),
        }
    }

    /// The workspace file a store path stands for, if it exists there.
    pub fn file(&self, path: &str) -> Option<PathBuf> {
        let captures = SOURCE_PATH.captures(path)?;
        if captures.get(0)?.start() != 0 {
            return None;
        }
        let relative = captures.get(1)?.as_str().trim_start_matches('/');
        if relative.is_empty() {
            return self.bases.first().cloned();
        }
        self.bases
            .iter()
            .map(|base| base.join(relative))
            .find(|candidate| candidate.is_file())
    }

    /// `text` with every store path that maps replaced by the workspace
    /// path (relative to the current directory when below it).
    pub fn rewrite(&self, text: &str) -> String {
        SOURCE_PATH
            .replace_all(text, |captures: &regex::Captures| {
                let whole = &captures[0];
                match self.file(whole) {
                    Some(file) => display(&file),
                    None => whole.to_string(),
                }
            })
            .into_owned()
    }
}

/// A path as a person reads it: relative to the current directory when
/// below it.
pub fn display(path: &Path) -> String {
    match std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
    {
        Some(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_store_copies_to_the_workspace() {
        let dir = std::env::temp_dir().join(format!("micros-source-map-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("modules")).expect("temp dir");
        std::fs::write(dir.join("modules/net.nix"), "{ }").expect("write");
        let map = SourceMap::new(&dir);
        let store = "/nix/store/pc8lx1fxa4zlnkgahf2yfidzjpkm6kfs-source";
        assert_eq!(
            map.file(&format!("{store}/modules/net.nix")),
            Some(dir.join("modules/net.nix"))
        );
        assert_eq!(map.file(&format!("{store}/missing.nix")), None);
        assert_eq!(map.file("/etc/passwd"), None);
        let text = format!("error: at {store}/modules/net.nix:4:7: oops; in `{store}/other.nix'");
        let rewritten = map.rewrite(&text);
        assert!(
            rewritten.contains(&format!("{}:4:7", dir.join("modules/net.nix").display())),
            "{rewritten}"
        );
        assert!(
            rewritten.contains(&format!("`{store}/other.nix'")),
            "{rewritten}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
