//! Which files to check: the paths given (directories walked for `*.nix`,
//! honouring `.gitignore`), or the current flake's configuration modules;
//! and reading them.

use std::path::{Path, PathBuf};

use rowan::ast::AstNode;

use super::config::Project;
use crate::analysis::systems::is_flake;

/// The nearest directory at or above `start` with a `flake.nix`.
pub fn flake_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("flake.nix").is_file())
        .map(Path::to_path_buf)
}

/// `path` made absolute against `cwd`, without resolving symlinks (so
/// reported paths are the ones the user wrote).
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    micros_options::eval::normalize(&cwd.join(path))
}

/// The `*.nix` files under the given paths, sorted. A path that does not
/// exist or is not a Nix file is a usage error.
pub fn from_paths(
    cwd: &Path,
    paths: &[PathBuf],
    project: &Project,
) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for given in paths {
        let path = absolute(cwd, given);
        let metadata = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("{}: no such file or directory", given.display())
            }
            _ => format!("{}: {e}", given.display()),
        })?;
        if metadata.is_dir() {
            walk(&path, project, &mut files)?;
        } else if !metadata.is_file() {
            return Err(format!("{}: not a regular file", given.display()));
        } else if path.extension().is_none_or(|e| e != "nix") {
            return Err(format!(
                "{}: not a Nix file (expected a `.nix` file or a directory)",
                given.display()
            ));
        } else if !project.ignores(&path, false) {
            files.push(path);
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, project: &Project, files: &mut Vec<PathBuf>) -> Result<(), String> {
    // `.gitignore` counts even outside a git checkout (a fresh CI copy, a
    // tarball); hidden directories (.git, .direnv) and `result` symlinks are
    // not entered.
    let walker = ignore::WalkBuilder::new(dir)
        .require_git(false)
        .follow_links(false)
        .filter_entry({
            let ignore = project.ignore.clone();
            let root = project.ignore.path().to_path_buf();
            move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                !(entry.path().starts_with(&root)
                    && ignore.matched(entry.path(), is_dir).is_ignore())
            }
        })
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let is_file = entry.file_type().is_some_and(|t| t.is_file());
        if is_file && entry.path().extension().is_some_and(|e| e == "nix") {
            files.push(entry.into_path());
        }
    }
    Ok(())
}

/// With no paths: the flake's `flake.nix` and the modules it names with
/// relative path literals (`./configuration.nix`, `./hosts/web`, ...);
/// when it names none, `configuration.nix` and `hardware-configuration.nix`
/// beside it. Their imports are followed by the analysis.
pub fn from_flake(root: &Path, project: &Project) -> Result<Vec<PathBuf>, String> {
    let flake = root.join("flake.nix");
    let text = read_source(&flake)?;
    let (green, _) = micros_options::syntax::parse(&text);
    let mut files = vec![flake.clone()];
    for node in rnix::SyntaxNode::new_root(green).descendants() {
        let Some(path) = rnix::ast::PathRel::cast(node) else {
            continue;
        };
        let literal = path.syntax().text().to_string();
        if literal.contains("${") {
            continue;
        }
        if let Some(module) = module_file(&root.join(&literal))
            && module.starts_with(root)
            && !files.contains(&module)
        {
            files.push(module);
        }
    }
    if files.len() == 1 {
        for name in ["configuration.nix", "hardware-configuration.nix"] {
            let path = root.join(name);
            if path.is_file() {
                files.push(path);
            }
        }
    }
    if files.len() == 1 {
        return Err(format!(
            "{}: names no configuration modules (no `./...nix` paths), and there is no configuration.nix beside it; pass the files or directories to check",
            flake.display()
        ));
    }
    files.retain(|f| !project.ignores(f, false));
    files.sort();
    Ok(files)
}

/// The module a path literal names: a `.nix` file, or a directory's
/// `default.nix`.
pub fn module_file(path: &Path) -> Option<PathBuf> {
    let path = micros_options::eval::normalize(path);
    if path.is_dir() {
        let default = path.join("default.nix");
        return default.is_file().then_some(default);
    }
    (path.is_file() && path.extension().is_some_and(|e| e == "nix") && !is_flake(&path))
        .then_some(path)
}

/// A file's text, or why it cannot be checked.
pub fn read_source(path: &Path) -> Result<String, String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) => {
            if let Some(reason) = micros_options::eval::too_large(m.len()) {
                return Err(format!("{shown} is {reason}"));
            }
        }
        Err(e) => return Err(format!("{shown}: cannot read: {e}")),
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let line_of = |offset: usize| bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(format!(
            "{shown}:{}: a NUL byte: this is a binary file, not Nix source",
            line_of(nul)
        ));
    }
    String::from_utf8(bytes.clone()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!(
            "{shown}:{}: invalid UTF-8 (byte 0x{:02x}); Nix source must be UTF-8 text",
            line_of(at),
            bytes[at]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("micros-check-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn flake_modules_are_its_relative_paths() {
        let dir = scratch("flake");
        std::fs::create_dir_all(dir.join("hosts/web")).unwrap();
        std::fs::write(dir.join("hosts/web/default.nix"), "{ }").unwrap();
        std::fs::write(dir.join("configuration.nix"), "{ }").unwrap();
        std::fs::write(dir.join("unrelated.nix"), "{ }").unwrap();
        std::fs::write(
            dir.join("flake.nix"),
            "{ outputs = { micros, ... }: { x = micros.lib.microsSystem { modules = [ ./configuration.nix ./hosts/web ./missing.nix ./${\"a\"}.nix ../outside.nix ]; }; }; }",
        )
        .unwrap();
        let files = from_flake(&dir, &Project::empty(&dir)).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(&dir).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("configuration.nix"),
                PathBuf::from("flake.nix"),
                PathBuf::from("hosts/web/default.nix")
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unreadable_sources_say_where_and_why() {
        let dir = scratch("read");
        std::fs::write(dir.join("bin.nix"), b"{\n\n\0}").unwrap();
        std::fs::write(dir.join("latin1.nix"), b"{\n x = \"\xe9\";\n}").unwrap();
        let bin = read_source(&dir.join("bin.nix")).unwrap_err();
        assert!(
            bin.ends_with("bin.nix:3: a NUL byte: this is a binary file, not Nix source"),
            "{bin}"
        );
        let latin = read_source(&dir.join("latin1.nix")).unwrap_err();
        assert!(
            latin.ends_with(
                "latin1.nix:2: invalid UTF-8 (byte 0xe9); Nix source must be UTF-8 text"
            ),
            "{latin}"
        );
        let missing = read_source(&dir.join("nope.nix")).unwrap_err();
        assert!(missing.contains("nope.nix: cannot read: "), "{missing}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
