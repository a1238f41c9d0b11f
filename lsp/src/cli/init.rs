//! `micros init [--container] [DIR]`: a new MicrOS configuration, written
//! offline, as `nix flake init -t github:snugnug/micros` would: the flake
//! (an ISO image and an OCI image), `configuration.nix` and
//! `hardware-configuration.nix` (or, with `--container`, a flake of the
//! container alone). Nothing is overwritten.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use super::exit;

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Write a flake that builds the OCI container image only (no
    /// hardware-configuration.nix).
    #[arg(long)]
    pub container: bool,
    /// Where to write the files (created if missing). Default: the current
    /// directory.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const FLAKE: &str = include_str!("init/flake.nix");
const CONTAINER_FLAKE: &str = include_str!("init/container-flake.nix");
const CONFIGURATION: &str = include_str!("init/configuration.nix");
const HARDWARE: &str = include_str!("init/hardware-configuration.nix");

/// The files `micros init` writes: name, content, what it is.
pub fn files(container: bool) -> Vec<(&'static str, &'static str, &'static str)> {
    if container {
        vec![
            (
                "flake.nix",
                CONTAINER_FLAKE,
                "the flake: packages.x86_64-linux.default, the OCI image",
            ),
            (
                "configuration.nix",
                CONFIGURATION,
                "the system: users, services, packages",
            ),
        ]
    } else {
        vec![
            (
                "flake.nix",
                FLAKE,
                "the flake: packages.x86_64-linux.default (ISO image) and .container (OCI image)",
            ),
            (
                "configuration.nix",
                CONFIGURATION,
                "the system: users, services, packages",
            ),
            (
                "hardware-configuration.nix",
                HARDWARE,
                "drivers, file systems, network interfaces (the ISO image only)",
            ),
        ]
    }
}

pub fn run(args: &InitArgs) -> u8 {
    match init(args) {
        Ok(report) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout
                .write_all(report.as_bytes())
                .and_then(|()| stdout.flush());
            exit::CLEAN
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// Write the files; the report of what was done and what comes next.
fn init(args: &InitArgs) -> Result<String, String> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let files = files(args.container);
    // Any file already there (a dangling link too): nothing is written.
    let existing: Vec<&str> = files
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
    if !existing.is_empty() {
        return Err(format!(
            "{} already {} in {}; nothing was written (move {} away, or give another directory)",
            existing.join(", "),
            if existing.len() == 1 {
                "exists"
            } else {
                "exist"
            },
            dir.display(),
            if existing.len() == 1 { "it" } else { "them" },
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written: Vec<PathBuf> = Vec::new();
    for (name, text, _) in &files {
        let path = dir.join(name);
        if let Err(e) = write_new(&path, text) {
            // Leave the directory as it was found.
            for path in &written {
                let _ = std::fs::remove_file(path);
            }
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        written.push(path);
    }
    let names: Vec<&str> = files.iter().map(|(name, _, _)| *name).collect();
    let staged = crate::nix::git::intent_to_add(&dir, &names);
    Ok(report(&dir, args.container, &files, staged))
}

/// Create `path` with `text`, failing if it exists by now.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

fn report(
    dir: &Path,
    container: bool,
    files: &[(&str, &str, &str)],
    staged: Result<bool, String>,
) -> String {
    let mut out = format!("Wrote a MicrOS configuration in {}:\n", dir.display());
    let width = files.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
    for (name, _, what) in files {
        out.push_str(&format!("  {name:width$}  {what}\n"));
    }
    let mut steps: Vec<(String, &str)> = Vec::new();
    if dir != Path::new(".") {
        steps.push((format!("cd {}", dir.display()), ""));
    }
    match staged {
        Ok(true) => out.push_str(
            "Staged them with `git add --intent-to-add`: in a git work tree, Nix sees only the files git tracks.\n",
        ),
        Ok(false) => steps.push((
            "git init && git add .".into(),
            "optional; once in git, Nix sees only the files git tracks, so `git add` each new file",
        )),
        Err(message) => {
            out.push_str(&format!(
                "warning: `git add --intent-to-add` failed ({message}); Nix will not see the files until git tracks them\n"
            ));
            steps.push((
                "git add --intent-to-add .".into(),
                "so that Nix sees the new files",
            ));
        }
    }
    steps.push((
        "nix flake lock".into(),
        "pin micros and nixpkgs in flake.lock; until then `micros check` cannot find the options' sources",
    ));
    steps.push(("micros check".into(), "check the configuration"));
    if container {
        steps.push(("nix build".into(), "build the OCI image (./result)"));
    } else {
        steps.push(("nix build".into(), "build the ISO image (./result)"));
        steps.push(("nix build .#container".into(), "build the OCI image"));
    }
    out.push_str("\nNext:\n");
    let width = steps.iter().map(|(s, _)| s.len()).max().unwrap_or(0);
    for (step, why) in steps {
        if why.is_empty() {
            out.push_str(&format!("  {step}\n"));
        } else {
            out.push_str(&format!("  {step:width$}  # {why}\n"));
        }
    }
    out
}
