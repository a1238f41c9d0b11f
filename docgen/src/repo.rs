//! Where declarations link to: a repository's web view at a revision.
//!
//! Given `--repo-url`, that is used as it is. Otherwise, when the source
//! tree is a git checkout, its remote and the commit it has checked out
//! give the URL (`https://github.com/snugnug/micros/blob/<commit>`). Git's
//! files are read directly (HEAD, refs, packed-refs, config): no process is
//! started. Without either, declarations are plain text; a published site
//! never links to local files.

use std::path::{Path, PathBuf};

/// The web URL under which `<url>/<path>#L<line>` shows a file of the tree
/// at `dir`, or why there is none (for a note to the user).
pub fn browse_url(dir: &Path) -> Result<String, String> {
    let checkout =
        Checkout::find(dir).ok_or_else(|| format!("{} is not in a git checkout", dir.display()))?;
    let commit = checkout.head_commit().ok_or_else(|| {
        format!(
            "{}: cannot read the checked-out commit",
            checkout.git_dir.display()
        )
    })?;
    let remote = checkout
        .remote_url()
        .ok_or_else(|| format!("{}: the checkout has no remote", checkout.top.display()))?;
    let base = web_base(&remote).ok_or_else(|| {
        format!("the remote `{}` is not a forge whose file links are known (GitHub, GitLab, Codeberg/Gitea/Forgejo, sourcehut)", public(&remote))
    })?;
    let mut url = base.blob(&commit);
    // The tree may be a subdirectory of the checkout.
    if let Ok(sub) = dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .strip_prefix(&checkout.top)
    {
        for part in sub.components() {
            url.push('/');
            url.push_str(&part.as_os_str().to_string_lossy());
        }
    }
    Ok(url)
}

/// The same for a tree locked in a flake.lock: a `github`, `gitlab` or
/// `sourcehut` input gives its forge and locked revision.
pub fn locked_url(lock: &Path, input: &str) -> Result<String, String> {
    let locked = micros_options::sources::locked_input(lock, input)?;
    let field = |name: &str| locked.get(name).and_then(|v| v.as_str());
    let kind = field("type").unwrap_or("");
    let (Some(owner), Some(repo), Some(rev)) = (field("owner"), field("repo"), field("rev")) else {
        return Err(format!(
            "input `{input}` in {} is locked as `{kind}`, which names no forge and revision",
            lock.display()
        ));
    };
    let (host, style) = match kind {
        "github" => ("github.com", Forge::GitHub),
        "gitlab" => ("gitlab.com", Forge::GitLab),
        "sourcehut" => ("git.sr.ht", Forge::SourceHut),
        other => {
            return Err(format!(
                "input `{input}` in {} is locked as `{other}`, whose file links are not known",
                lock.display()
            ));
        }
    };
    let host = field("host").unwrap_or(host);
    let base = web_base(&format!("https://{host}/{owner}/{repo}"))
        .filter(|_| is_commit(rev))
        .map(|b| WebBase { style, ..b })
        .ok_or_else(|| {
            format!(
                "input `{input}` in {} has an odd owner, repo or rev",
                lock.display()
            )
        })?;
    Ok(base.blob(rev))
}

struct Checkout {
    /// The work tree's top directory.
    top: PathBuf,
    /// The git directory (`.git`, or a worktree's directory in it).
    git_dir: PathBuf,
    /// Where refs and config live (the main `.git` for a worktree).
    common_dir: PathBuf,
}

impl Checkout {
    fn find(dir: &Path) -> Option<Checkout> {
        let dir = dir.canonicalize().ok()?;
        for top in dir.ancestors() {
            let dot_git = top.join(".git");
            let git_dir = if dot_git.is_dir() {
                dot_git
            } else if dot_git.is_file() {
                // A worktree or submodule: `gitdir: <path>`.
                let text = std::fs::read_to_string(&dot_git).ok()?;
                let target = text.trim().strip_prefix("gitdir:")?.trim();
                top.join(target)
            } else {
                continue;
            };
            let common_dir = std::fs::read_to_string(git_dir.join("commondir"))
                .map(|c| git_dir.join(c.trim()))
                .unwrap_or_else(|_| git_dir.clone());
            return Some(Checkout {
                top: top.to_path_buf(),
                git_dir,
                common_dir,
            });
        }
        None
    }

    fn head_commit(&self) -> Option<String> {
        let head = std::fs::read_to_string(self.git_dir.join("HEAD")).ok()?;
        let head = head.trim();
        match head.strip_prefix("ref:") {
            None => is_commit(head).then(|| head.to_string()),
            Some(name) => self.resolve_ref(name.trim()),
        }
    }

    fn resolve_ref(&self, name: &str) -> Option<String> {
        if name.contains("..") {
            return None;
        }
        for dir in [&self.git_dir, &self.common_dir] {
            if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
                let text = text.trim();
                if is_commit(text) {
                    return Some(text.to_string());
                }
            }
        }
        let packed = std::fs::read_to_string(self.common_dir.join("packed-refs")).ok()?;
        packed.lines().find_map(|line| {
            let (commit, refname) = line.split_once(' ')?;
            (refname == name && is_commit(commit)).then(|| commit.to_string())
        })
    }

    /// `origin`'s URL, else the first remote's.
    fn remote_url(&self) -> Option<String> {
        let config = std::fs::read_to_string(self.common_dir.join("config")).ok()?;
        let mut remotes: Vec<(String, String)> = Vec::new();
        let mut section: Option<String> = None;
        for line in config.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line
                    .strip_prefix("[remote \"")
                    .and_then(|rest| rest.strip_suffix("\"]"))
                    .map(str::to_string);
                continue;
            }
            if let Some(remote) = &section
                && let Some((key, value)) = line.split_once('=')
                && key.trim() == "url"
            {
                remotes.push((remote.clone(), value.trim().trim_matches('"').to_string()));
            }
        }
        remotes
            .iter()
            .find(|(name, _)| name == "origin")
            .or(remotes.first())
            .map(|(_, url)| url.clone())
    }
}

fn is_commit(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A forge's repository page and how it spells a file at a revision.
#[derive(Debug, PartialEq, Eq)]
struct WebBase {
    repo: String,
    style: Forge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forge {
    GitHub,
    GitLab,
    Gitea,
    SourceHut,
}

impl WebBase {
    fn blob(&self, commit: &str) -> String {
        match self.style {
            Forge::GitHub => format!("{}/blob/{commit}", self.repo),
            Forge::GitLab => format!("{}/-/blob/{commit}", self.repo),
            Forge::Gitea => format!("{}/src/commit/{commit}", self.repo),
            Forge::SourceHut => format!("{}/tree/{commit}/item", self.repo),
        }
    }
}

/// `https://host/owner/repo(.git)`, `git@host:owner/repo`, `ssh://git@host/owner/repo`
/// → the repository's https page. Credentials in the URL are dropped: the
/// result is published.
fn web_base(remote: &str) -> Option<WebBase> {
    let remote = remote.trim();
    let (host, path) = if let Some((scheme, rest)) = remote.split_once("://") {
        if !matches!(scheme, "https" | "http" | "ssh" | "git" | "git+ssh") {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit('@').next()?;
        // A port belongs to the transport (ssh), not the web page.
        (host.split(':').next()?.to_string(), path.to_string())
    } else {
        // scp-like: user@host:path
        let (authority, path) = remote.split_once(':')?;
        let host = authority.rsplit('@').next()?;
        (host.to_string(), path.to_string())
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let valid = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b))
            && !s.split('/').any(|part| part.is_empty() || part == "..")
    };
    if !valid(&host) || !valid(path) || !path.contains('/') {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let style = if host == "github.com" {
        Forge::GitHub
    } else if host == "gitlab.com" || host.starts_with("gitlab.") {
        Forge::GitLab
    } else if host == "codeberg.org" || host.starts_with("gitea.") || host.starts_with("forgejo.") {
        Forge::Gitea
    } else if host == "git.sr.ht" {
        Forge::SourceHut
    } else {
        return None;
    };
    Some(WebBase {
        repo: format!("https://{host}/{path}"),
        style,
    })
}

/// A remote URL as it may be printed: without credentials.
fn public(remote: &str) -> String {
    match remote.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit('@').next().unwrap_or(authority);
                format!("{scheme}://{host}/{path}")
            }
            None => remote.to_string(),
        },
        None => remote.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(remote: &str) -> Option<String> {
        web_base(remote).map(|b| b.blob("0123456789abcdef0123456789abcdef01234567"))
    }

    #[test]
    fn remotes_become_file_links() {
        let commit = "0123456789abcdef0123456789abcdef01234567";
        for remote in [
            "https://github.com/snugnug/micros",
            "https://github.com/snugnug/micros.git",
            "git@github.com:snugnug/micros.git",
            "ssh://git@github.com:22/snugnug/micros",
            "https://user:secret-token@github.com/snugnug/micros/",
        ] {
            assert_eq!(
                blob(remote),
                Some(format!("https://github.com/snugnug/micros/blob/{commit}")),
                "{remote}"
            );
        }
        assert_eq!(
            blob("https://gitlab.com/group/sub/project.git"),
            Some(format!(
                "https://gitlab.com/group/sub/project/-/blob/{commit}"
            ))
        );
        assert_eq!(
            blob("https://codeberg.org/a/b"),
            Some(format!("https://codeberg.org/a/b/src/commit/{commit}"))
        );
        assert_eq!(
            blob("https://git.sr.ht/~a/b"),
            Some(format!("https://git.sr.ht/~a/b/tree/{commit}/item"))
        );
        // Unknown forges, local paths and odd text give no link.
        for remote in [
            "https://example.org/a/b",
            "/srv/git/micros.git",
            "file:///srv/git/micros",
            "https://github.com/a/../b",
            "https://github.com/a/b\"onclick=x",
        ] {
            assert_eq!(blob(remote), None, "{remote}");
        }
    }

    #[test]
    fn credentials_are_not_printed() {
        assert_eq!(
            public("https://user:token@example.org/a/b"),
            "https://example.org/a/b"
        );
    }

    /// A checkout as git writes it: HEAD on a branch, the branch in
    /// packed-refs, the remote in config; then a worktree of it.
    #[test]
    fn reads_a_checkout_without_git() {
        let root = std::env::temp_dir().join(format!("docgen-repo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let git = root.join("main/.git");
        std::fs::create_dir_all(git.join("refs/heads")).expect("mkdir");
        std::fs::create_dir_all(root.join("main/sub/dir")).expect("mkdir");
        let commit = "fe0a5ec32503b19b6f6bd3489a58cdb070b87c61";
        std::fs::write(git.join("HEAD"), "ref: refs/heads/master\n").expect("write");
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled fully-peeled sorted\n{commit} refs/heads/master\n"),
        )
        .expect("write");
        std::fs::write(
            git.join("config"),
            "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/other/fork\n[remote \"origin\"]\n\turl = https://github.com/snugnug/micros\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
        )
        .expect("write");
        assert_eq!(
            browse_url(&root.join("main")).as_deref(),
            Ok(format!("https://github.com/snugnug/micros/blob/{commit}").as_str())
        );
        assert_eq!(
            browse_url(&root.join("main/sub/dir")).as_deref(),
            Ok(format!("https://github.com/snugnug/micros/blob/{commit}/sub/dir").as_str())
        );

        // A worktree on another branch, its ref a loose file.
        let other = "1111111111111111111111111111111111111111";
        let wt_git = git.join("worktrees/wt");
        std::fs::create_dir_all(&wt_git).expect("mkdir");
        std::fs::create_dir_all(root.join("wt")).expect("mkdir");
        std::fs::write(
            root.join("wt/.git"),
            format!("gitdir: {}\n", wt_git.display()),
        )
        .expect("write");
        std::fs::write(wt_git.join("commondir"), "../..\n").expect("write");
        std::fs::write(wt_git.join("HEAD"), "ref: refs/heads/topic\n").expect("write");
        std::fs::write(git.join("refs/heads/topic"), format!("{other}\n")).expect("write");
        assert_eq!(
            browse_url(&root.join("wt")).as_deref(),
            Ok(format!("https://github.com/snugnug/micros/blob/{other}").as_str())
        );

        std::fs::create_dir_all(root.join("plain")).expect("mkdir");
        let plain = browse_url(&root.join("plain")).expect_err("not a checkout");
        assert!(plain.contains("not in a git checkout"), "{plain}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
