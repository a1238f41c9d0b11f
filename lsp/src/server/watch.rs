//! Following the disk: the client watches files for us (registered
//! dynamically where it can), and what changes outside the editor is read
//! again. Open documents keep their buffers: the client's text is the
//! truth until it is closed.

use std::path::PathBuf;
use std::time::Duration;

use tower_lsp_server::ls_types::*;

use super::{Backend, path_of};

const REGISTRATION: &str = "micros/watch";

/// What the client offers for watching files.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Support {
    dynamic: bool,
    relative_patterns: bool,
}

impl Support {
    pub fn of(capabilities: &ClientCapabilities) -> Support {
        let watched = capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref());
        Support {
            dynamic: watched.and_then(|w| w.dynamic_registration) == Some(true),
            relative_patterns: watched.and_then(|w| w.relative_pattern_support) == Some(true),
        }
    }
}

/// What a set of changes asks for.
#[derive(Default)]
struct Consequences {
    reload_options: bool,
    reread_all: bool,
    ask_git: bool,
}

impl Backend {
    /// (Re-)register the watchers, in the background: a client that never
    /// answers must not hold anything up.
    pub(super) fn spawn_watch(&self) {
        let (support, roots) = {
            let state = self.lock();
            (state.watching, state.option_roots.clone())
        };
        if !support.dynamic {
            return;
        }
        let mut watchers: Vec<FileSystemWatcher> = [
            "**/*.nix",
            "**/flake.lock",
            "**/micros.toml",
            "**/.git/index",
        ]
        .into_iter()
        .map(|glob| FileSystemWatcher {
            glob_pattern: GlobPattern::String(glob.into()),
            kind: None,
        })
        .collect();
        for root in roots {
            let glob_pattern = match Uri::from_file_path(&root) {
                Some(base) if support.relative_patterns => GlobPattern::Relative(RelativePattern {
                    base_uri: OneOf::Right(base),
                    pattern: "**/*.nix".into(),
                }),
                _ => GlobPattern::String(format!("{}/**/*.nix", root.display())),
            };
            watchers.push(FileSystemWatcher {
                glob_pattern,
                kind: None,
            });
        }
        let client = self.client.clone();
        tokio::spawn(async move {
            let answer = Duration::from_secs(10);
            let unregister = Unregistration {
                id: REGISTRATION.into(),
                method: "workspace/didChangeWatchedFiles".into(),
            };
            // Nothing to unregister the first time; the client says so.
            let _ =
                tokio::time::timeout(answer, client.unregister_capability(vec![unregister])).await;
            let options = DidChangeWatchedFilesRegistrationOptions { watchers };
            let registration = Registration {
                id: REGISTRATION.into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            };
            let _ =
                tokio::time::timeout(answer, client.register_capability(vec![registration])).await;
        });
    }

    /// Files changed on disk: read again what the workspace holds of them
    /// (unless open), drop what was deleted, reload the options when their
    /// sources or the flake.lock changed, and check the open documents again.
    pub(super) async fn files_changed(&self, changes: Vec<FileEvent>) {
        let consequences = {
            let mut state = self.lock();
            let mut consequences = Consequences::default();
            for change in changes {
                let Some(path) = path_of(&change.uri) else {
                    continue;
                };
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name == "flake.lock" {
                    consequences.reload_options = true;
                    continue;
                }
                if name == "index" && path.parent().is_some_and(|p| p.ends_with(".git")) {
                    // A checkout or a reset: anything may have changed.
                    consequences.reread_all = true;
                    continue;
                }
                if change.typ != FileChangeType::CHANGED {
                    // A new or deleted file is new or gone for git too.
                    consequences.ask_git = true;
                }
                if state.option_roots.iter().any(|root| path.starts_with(root)) {
                    consequences.reload_options = true;
                }
                // Where it is imported, a deleted file is `missing-import`,
                // even while its buffer stays open.
                state
                    .host
                    .set_absent(&path, change.typ == FileChangeType::DELETED);
                if state.documents.contains_key(&path) {
                    continue;
                }
                if change.typ == FileChangeType::DELETED {
                    state.host.remove_file(&path);
                } else if state.host.file(&path).is_some() {
                    reread(&mut state, path);
                }
            }
            if consequences.reread_all {
                let paths: Vec<PathBuf> = state
                    .host
                    .paths()
                    .into_iter()
                    .filter(|p| !state.documents.contains_key(p))
                    .collect();
                for path in paths {
                    reread(&mut state, path);
                }
            }
            // New files may be what an open document imports.
            let open: Vec<crate::analysis::db::File> =
                state.documents.values().map(|d| d.file).collect();
            for file in open {
                super::documents::load_imports(&mut state, file);
            }
            consequences
        };
        if consequences.reload_options {
            self.spawn_load_options();
        }
        if consequences.reread_all || consequences.ask_git {
            self.spawn_git(true);
        }
        self.publish_all().await;
    }

    /// Ask git, in the background, what it leaves out of the work trees
    /// around the workspace's flakes (`untracked-file`), then check the open
    /// documents again. Unless `again`, only when the flakes changed.
    pub(super) fn spawn_git(&self, again: bool) {
        let (dirs, generation) = {
            let mut state = self.lock();
            let mut dirs: Vec<PathBuf> = state
                .host
                .paths()
                .into_iter()
                .filter(|p| crate::analysis::systems::is_flake(p))
                .filter_map(|p| p.parent().map(PathBuf::from))
                .collect();
            dirs.sort();
            if dirs.is_empty() || (!again && dirs == state.git_dirs) {
                return;
            }
            state.git_dirs = dirs.clone();
            state.git_generation += 1;
            (dirs, state.git_generation)
        };
        let backend = self.clone();
        tokio::spawn(async move {
            let trees = backend.blocking(move || {
                let mut trees: Vec<crate::analysis::git::WorkTree> = Vec::new();
                for dir in dirs {
                    if trees.iter().any(|tree| dir.starts_with(&tree.top)) {
                        continue;
                    }
                    trees.extend(crate::nix::git::work_tree(&dir));
                }
                trees
            });
            let Ok(trees) = trees.await else { return };
            {
                let mut state = backend.lock();
                if state.git_generation != generation {
                    return;
                }
                state.host.set_git(crate::analysis::git::GitState { trees });
            }
            backend.publish_all().await;
        });
    }
}

/// A file the workspace holds, as it is on disk now (gone if unreadable).
fn reread(state: &mut super::State, path: PathBuf) {
    let small = std::fs::metadata(&path)
        .is_ok_and(|m| m.is_file() && m.len() <= micros_options::eval::MAX_FILE_BYTES);
    match std::fs::read_to_string(&path)
        .ok()
        .filter(|_| small)
        .ok_or(())
    {
        Ok(text) => {
            state.host.set_file(&path, text);
        }
        Err(_) => state.host.remove_file(&path),
    }
}
