//! `untracked-file`: a flake in a git work tree is copied to the store
//! with the files git tracks only, so a file a module imports or reads by
//! path that git does not track is not there when Nix looks. Reported at
//! each path literal naming such a file (and on a `flake.nix` git does not
//! track). Git's view comes from the front ends (`Workspace::git`);
//! outside a work tree there is nothing to say.

use std::path::Path;

use rowan::TextRange;

use crate::analysis::db::{self, Db, File};
use crate::analysis::git::{NotTracked, WorkTree};
use crate::analysis::resolve::Code;
use crate::ide::Diagnostic;
use micros_options::Severity;

pub fn untracked_files(db: &dyn Db, file: File) -> Vec<Diagnostic> {
    let git = db.workspace().git(db);
    let path = file.path(db);
    let Some(tree) = git.tree_of(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if crate::analysis::systems::is_flake(path)
        && let Some(why) = tree.not_tracked(path)
    {
        out.push(finding(TextRange::default(), "this flake", path, why, tree));
    }
    // A file git leaves out is no part of the flake itself (whoever names it
    // is told); what it names is judged once it is added. Otherwise every
    // file below an ignored directory (`result/`, a build's scratch files)
    // would be reported at each import.
    if tree.not_tracked(path).is_some() {
        return out;
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    let root = db::parse(db, file).root();
    for (range, literal, relative) in super::document_links::path_literals(&root) {
        if !relative {
            continue;
        }
        let target = micros_options::eval::normalize(&dir.join(&literal));
        // A directory's `default.nix` is what `import` reads.
        let default = target.join("default.nix");
        let found = match tree.not_tracked(&target) {
            Some(why) => Some((target.as_path(), why)),
            None => tree
                .not_tracked(&default)
                .map(|why| (default.as_path(), why)),
        };
        if let Some((missing, why)) = found {
            out.push(finding(range, &format!("`{literal}`"), missing, why, tree));
        }
    }
    out
}

fn finding(
    range: TextRange,
    shown: &str,
    path: &Path,
    why: NotTracked,
    tree: &WorkTree,
) -> Diagnostic {
    let relative = shell_word(&tree.relative(path).display().to_string());
    let (message, help) = match why {
        NotTracked::Untracked => (
            format!(
                "{shown} is not tracked by git: nix will not see this file; run `git add {relative}`"
            ),
            "a flake in a git work tree is copied to the Nix store with the files git tracks only (`git add --intent-to-add` is enough)",
        ),
        NotTracked::Ignored => (
            format!(
                "{shown} is ignored by git: nix will not see this file; run `git add -f {relative}` if it belongs to the system"
            ),
            "a flake in a git work tree is copied to the Nix store with the files git tracks only, and a .gitignore keeps this one out",
        ),
    };
    Diagnostic {
        range,
        severity: Severity::Warning,
        code: Code::UntrackedFile,
        message,
        help: Some(help.into()),
        fix: None,
        related: Vec::new(),
    }
}

/// A path as one shell word (quoted when it needs to be).
fn shell_word(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/-+@%".contains(c));
    if plain && !text.is_empty() {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use expect_test::{Expect, expect};

    use crate::analysis::git::{GitState, WorkTree, parse_ls_files};
    use crate::ide::fixture::{fixture, show_range};

    const FLAKE: &str = r#"#- /repo/flake.nix
{
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix ./hardware-configuration.nix ./hosts ];
    }).config.system.build.image;
  };
}
#- /repo/configuration.nix
{ lib, ... }: {
  imports = [ ./users.nix ./services ../outside.nix ];
  micros.services.motd.startScript = builtins.readFile ./motd.sh;
  environment.systemPackages = [ /repo/absolute.nix ];
}
"#;

    /// The findings of every file, with git leaving out `untracked` and
    /// `ignored` (paths relative to /repo, as `git ls-files` prints them).
    fn check(git: Option<(&[u8], &[u8])>, expected: Expect) {
        let mut f = fixture(FLAKE);
        if let Some((untracked, ignored)) = git {
            let top = PathBuf::from("/repo");
            f.host.set_git(GitState {
                trees: vec![WorkTree {
                    untracked: parse_ls_files(&top, untracked),
                    ignored: parse_ls_files(&top, ignored),
                    top,
                }],
            });
        }
        let analysis = f.host.snapshot();
        let mut out = String::new();
        for (path, file) in &f.files {
            let source = analysis.file_text(*file).unwrap();
            for d in analysis.diagnostics(*file).unwrap() {
                if d.code == crate::analysis::resolve::Code::UntrackedFile {
                    out.push_str(&format!(
                        "{} {} {}\n",
                        path.display(),
                        show_range(&source, d.range),
                        d.message
                    ));
                }
            }
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn files_git_leaves_out_are_reported_where_they_are_named() {
        check(
            Some((
                b"hardware-configuration.nix\0users.nix\0services/default.nix\0hosts/\0motd.sh\0absolute.nix\0",
                b"",
            )),
            expect![[r#"
                /repo/flake.nix 4:39-4:67 `./hardware-configuration.nix` is not tracked by git: nix will not see this file; run `git add hardware-configuration.nix`
                /repo/flake.nix 4:68-4:75 `./hosts` is not tracked by git: nix will not see this file; run `git add hosts`
                /repo/configuration.nix 2:15-2:26 `./users.nix` is not tracked by git: nix will not see this file; run `git add users.nix`
                /repo/configuration.nix 2:27-2:37 `./services` is not tracked by git: nix will not see this file; run `git add services/default.nix`
                /repo/configuration.nix 3:56-3:65 `./motd.sh` is not tracked by git: nix will not see this file; run `git add motd.sh`
            "#]],
        );
    }

    #[test]
    fn ignored_files_and_an_untracked_flake() {
        check(
            Some((b"flake.nix\0", b"users.nix\0")),
            expect![[r#"
                /repo/flake.nix 1:1-1:1 this flake is not tracked by git: nix will not see this file; run `git add flake.nix`
                /repo/configuration.nix 2:15-2:26 `./users.nix` is ignored by git: nix will not see this file; run `git add -f users.nix` if it belongs to the system
            "#]],
        );
    }

    /// What a file git leaves out names is not judged until it is added.
    #[test]
    fn what_an_untracked_file_names_waits_until_it_is_added() {
        check(
            Some((b"", b"configuration.nix\0users.nix\0")),
            expect![[r#"
                /repo/flake.nix 4:19-4:38 `./configuration.nix` is ignored by git: nix will not see this file; run `git add -f configuration.nix` if it belongs to the system
            "#]],
        );
    }

    /// Tracked files (intent-to-add ones among them: git lists neither as
    /// untracked), and no git at all: nothing.
    #[test]
    fn tracked_files_and_no_git_give_nothing() {
        check(Some((b"", b"")), expect![""]);
        check(None, expect![""]);
    }
}
