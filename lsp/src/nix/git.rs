//! Asking git which files of a work tree it does not track, for
//! `untracked-file`. Read only: `git ls-files` never writes the index, and
//! optional locks and the file system monitor (a program the repository's
//! configuration could name) are off.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::{self, Control, Limits};
use crate::analysis::git::{WorkTree, parse_ls_files};

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

/// Stage new files the way `nix flake init` does (`git add
/// --intent-to-add`), so that Nix sees them: `Ok(false)` when `dir` is in
/// no work tree, `Err` with git's words when staging fails.
pub fn intent_to_add(dir: &Path, files: &[&str]) -> Result<bool, String> {
    if git(dir, &["rev-parse", "--show-toplevel"]).is_none() {
        return Ok(false);
    }
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(["add", "--intent-to-add", "--"])
        .args(files);
    let limits = Limits {
        timeout: Some(TIMEOUT),
        memory_bytes: None,
    };
    let mut said = String::new();
    let finished = process::run(command, limits, &mut |line| {
        said.push_str(line.trim_end());
        said.push(' ');
        Control::Continue
    })
    .map_err(|e| match e {
        process::RunError::NotFound => "git is not installed".to_string(),
        process::RunError::Spawn(e) => format!("cannot run git: {e}"),
        process::RunError::TimedOut(limit) => {
            format!("git did not finish within {} s", limit.as_secs())
        }
    })?;
    if finished.status.success() {
        Ok(true)
    } else {
        Err(said.trim_end().to_string())
    }
}
