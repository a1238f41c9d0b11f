//! `micros fetch-sources`: the micros and nixpkgs trees a flake.lock pins,
//! downloaded as the locked revisions' source archives and kept only when
//! their NAR hash is the lock's `narHash`.
//!
//! This is the one place the `micros` command uses the network, and only
//! when asked: the server and `micros check` never download anything. It
//! is for machines without Nix (a CI runner); with Nix, `nix flake archive`
//! puts the same trees into the store, where the other commands find them.

pub mod archive;
pub mod nar;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use micros_options::sources;

use super::exit;

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The flake whose flake.lock pins the sources. Default: the nearest
    /// flake.lock from the current directory.
    #[arg(value_name = "FLAKE_DIR")]
    pub flake: Option<PathBuf>,
    /// Where the verified trees are kept (named as Nix's store would name
    /// them, so a tree is downloaded once). Default:
    /// $XDG_CACHE_HOME/micros/sources, else ~/.cache/micros/sources.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// How the result is printed: `env` (`MICROS_SRC=...` lines, for
    /// $GITHUB_ENV) or `shell` (`export MICROS_SRC='...'`).
    #[arg(long, value_enum, default_value_t = Format::Env)]
    pub format: Format,
    /// Give up on a download after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Env,
    Shell,
}

/// A locked input, and where its source archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub input: String,
    pub nar_hash: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A tree on this machine already (`type = "path"`).
    Local(PathBuf),
    /// An archive to download.
    Archive(String),
}

pub fn run(args: &FetchArgs) -> u8 {
    match fetch_all(args) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            exit::CLEAN
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

fn fetch_all(args: &FetchArgs) -> Result<Vec<String>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("the current directory: {e}"))?;
    let start = args.flake.clone().unwrap_or(cwd);
    let lock = match start.join("flake.lock") {
        lock if lock.is_file() => lock,
        _ => sources::find_flake_lock(&start).ok_or_else(|| {
            format!(
                "no flake.lock in {} or above it (run `nix flake lock` to write one)",
                start.display()
            )
        })?,
    };
    let cache = match &args.cache {
        Some(dir) => dir.clone(),
        None => default_cache()?,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let mut lines = Vec::new();
    let mut found = 0;
    for (input, env) in [
        ("micros", sources::MICROS_ENV),
        ("nixpkgs", sources::NIXPKGS_ENV),
    ] {
        let locked = match locked_source(&lock, input) {
            Ok(locked) => locked,
            // A flake may lack micros (MicrOS's own repository does).
            Err(message) if message.contains("locks no") => {
                eprintln!("note: {message}");
                continue;
            }
            Err(message) => return Err(message),
        };
        found += 1;
        let dir = obtain(&locked, &cache, timeout)?;
        lines.push(match args.format {
            Format::Env => format!("{env}={}", dir.display()),
            Format::Shell => format!("export {env}={}", shell_quote(&dir.display().to_string())),
        });
    }
    if found == 0 {
        return Err(format!(
            "{} locks neither a `micros` nor a `nixpkgs` input",
            lock.display()
        ));
    }
    Ok(lines)
}

fn default_cache() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("micros/sources"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache/micros/sources")),
        None => Err("neither XDG_CACHE_HOME nor HOME is set: give --cache DIR".into()),
    }
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The locked input and its archive URL, from the lock's `locked`
/// attributes.
pub fn locked_source(lock: &Path, input: &str) -> Result<Locked, String> {
    let locked = sources::locked_input(lock, input)?;
    let field = |name: &str| locked.get(name).and_then(|v| v.as_str());
    let nar_hash = field("narHash")
        .ok_or_else(|| format!("input `{input}` in {} has no narHash", lock.display()))?
        .to_string();
    let safe = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    };
    let kind = field("type").unwrap_or("");
    let forge = |default_host: &str| -> Result<(String, String, String, String), String> {
        match (field("owner"), field("repo"), field("rev")) {
            (Some(owner), Some(repo), Some(rev))
                if safe(owner.trim_start_matches('~')) && safe(repo) && safe(rev) =>
            {
                let host = field("host").unwrap_or(default_host);
                if !safe(host) {
                    return Err(format!("input `{input}` has an odd host `{host}`"));
                }
                Ok((host.into(), owner.into(), repo.into(), rev.into()))
            }
            _ => Err(format!(
                "input `{input}` in {} is locked without a plain owner, repo and rev",
                lock.display()
            )),
        }
    };
    let source = match kind {
        "github" => {
            let (host, owner, repo, rev) = forge("github.com")?;
            Source::Archive(format!(
                "https://{host}/{owner}/{repo}/archive/{rev}.tar.gz"
            ))
        }
        "gitlab" => {
            let (host, owner, repo, rev) = forge("gitlab.com")?;
            Source::Archive(format!(
                "https://{host}/api/v4/projects/{owner}%2F{repo}/repository/archive.tar.gz?sha={rev}"
            ))
        }
        "sourcehut" => {
            let (host, owner, repo, rev) = forge("git.sr.ht")?;
            Source::Archive(format!(
                "https://{host}/{owner}/{repo}/archive/{rev}.tar.gz"
            ))
        }
        "tarball" => Source::Archive(
            field("url")
                .ok_or_else(|| format!("input `{input}` is a tarball without a url"))?
                .to_string(),
        ),
        "path" => Source::Local(PathBuf::from(
            field("path").ok_or_else(|| format!("input `{input}` is a path without a path"))?,
        )),
        other => {
            return Err(format!(
                "input `{input}` in {} is locked as `{other}`, which has no source archive to download; fetch it with `nix flake archive`",
                lock.display()
            ));
        }
    };
    Ok(Locked {
        input: input.to_string(),
        nar_hash,
        source,
    })
}

/// The verified tree of a locked input: from the cache, or downloaded,
/// unpacked and checked against the lock's narHash first.
pub fn obtain(locked: &Locked, cache: &Path, timeout: Duration) -> Result<PathBuf, String> {
    let url = match &locked.source {
        Source::Local(dir) => return Ok(dir.clone()),
        Source::Archive(url) => url,
    };
    let store_path =
        sources::store_path_from_nar_hash(&locked.nar_hash, "source").ok_or_else(|| {
            format!(
                "input `{}` has a malformed narHash `{}`",
                locked.input, locked.nar_hash
            )
        })?;
    // Nix's own copy, when this machine has one.
    if store_path.is_dir() {
        return Ok(store_path);
    }
    let name = store_path
        .file_name()
        .ok_or("a store path has a name")?
        .to_owned();
    let dir = cache.join(&name);
    // Trees reach the cache only after they were verified.
    if dir.is_dir() {
        eprintln!("{}: {} (cached)", locked.input, dir.display());
        return Ok(dir);
    }
    std::fs::create_dir_all(cache)
        .map_err(|e| format!("{}: cannot create: {e}", cache.display()))?;
    let partial = cache.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = remove_tree(&partial);
    std::fs::create_dir_all(&partial)
        .map_err(|e| format!("{}: cannot create: {e}", partial.display()))?;
    let result = (|| {
        eprintln!("{}: downloading {url}", locked.input);
        let what = format!("input `{}` ({url})", locked.input);
        archive::unpack(archive::open(url, timeout)?, &partial, &what)?;
        let tree = archive::single_top_level(&partial, &what)?;
        let digest = nar::nar_hash(&tree)?;
        let got = nar::sri(&digest);
        let matches =
            sources::store_path_from_nar_hash(&got, "source").as_ref() == Some(&store_path);
        if !matches {
            return Err(format!(
                "{what} does not match the flake.lock: its NAR hash is {got}, the lock says {}; the download was discarded",
                locked.nar_hash
            ));
        }
        std::fs::rename(&tree, &dir)
            .map_err(|e| format!("{}: cannot keep the tree: {e}", dir.display()))?;
        Ok(())
    })();
    let _ = remove_tree(&partial);
    result?;
    eprintln!(
        "{}: {} (verified against narHash)",
        locked.input,
        dir.display()
    );
    Ok(dir)
}

/// Remove a tree even where an archive left directories read-only.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
        return Ok(());
    }
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.is_dir()
        {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    std::fs::remove_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_with(node: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "micros-fetch-lock-{}-{}",
            std::process::id(),
            node.len()
        ));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let lock = dir.join("flake.lock");
        std::fs::write(
            &lock,
            format!(
                r#"{{"nodes":{{"micros":{{"locked":{node}}},"root":{{"inputs":{{"micros":"micros"}}}}}},"root":"root","version":7}}"#
            ),
        )
        .expect("write");
        lock
    }

    #[test]
    fn archive_urls_from_the_lock() {
        let lock = lock_with(
            r#"{"type":"github","owner":"snugnug","repo":"micros","rev":"fe0a5ec32503b19b6f6bd3489a58cdb070b87c61","narHash":"sha256-AAAA"}"#,
        );
        assert_eq!(
            locked_source(&lock, "micros").expect("locked").source,
            Source::Archive(
                "https://github.com/snugnug/micros/archive/fe0a5ec32503b19b6f6bd3489a58cdb070b87c61.tar.gz"
                    .into()
            )
        );
        let lock = lock_with(
            r#"{"type":"github","owner":"a/../b","repo":"micros","rev":"x","narHash":"sha256-AAAA"}"#,
        );
        assert!(locked_source(&lock, "micros").is_err());
        let lock = lock_with(
            r#"{"type":"git","url":"https://example.org/m.git","rev":"x","narHash":"sha256-AAAAA"}"#,
        );
        let error = locked_source(&lock, "micros").expect_err("no archive");
        assert!(error.contains("nix flake archive"), "{error}");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/a b/it's"), "'/a b/it'\\''s'");
    }
}
