//! Asking git which files of a work tree it does not track, for
//! `untracked-file`. Read only: `git ls-files` never writes the index, and
//! optional locks and the file system monitor (a program the repository's
//! configuration could name) are off.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, Control, Limits};
use crate::git::{WorkTree, parse_ls_files};

/// Each git call gets this long; a work tree git cannot list in time is
/// left unjudged.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The work tree around `dir` and what git leaves out of it; `None`
/// outside a work tree, without git, or when git fails.
pub fn work_tree(dir: &Path) -> Option<WorkTree> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let top = PathBuf::from(std::str::from_utf8(&top).ok()?.trim_end_matches('\n'));
    if !top.is_absolute() {
        return None;
    }
    let others = [
        "ls-files",
        "-z",
        "--others",
        "--directory",
        "--exclude-standard",
    ];
    let untracked = git(&top, &others)?;
    let ignored = git(&top, &[&others[..], &["--ignored"]].concat())?;
    Some(WorkTree {
        untracked: parse_ls_files(&top, &untracked),
        ignored: parse_ls_files(&top, &ignored),
        top,
    })
}

/// `git -C dir ARGS...`'s stdout, when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.fsmonitor=false"])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0");
    let limits = Limits {
        timeout: Some(TIMEOUT),
        memory_bytes: None,
    };
    let finished = process::run(command, limits, &mut |_| Control::Continue).ok()?;
    finished.status.success().then_some(finished.stdout)
}
