//! `micros build`: `nix build` of the flake's image, with progress read
//! from Nix's JSON log and errors explained in the workspace's terms.
//! Remote builders and `--max-jobs` are Nix's own and pass through.

mod errors;

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use super::exit;
use crate::nix::log::{BuildLog, Update};
use crate::nix::process::{self, Control, Limits};
use crate::nix::source_map::SourceMap;
use crate::nix::{Nix, NixError, flakes_unsupported};

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// Build the container image (`packages.<system>.container`) instead
    /// of the default image (`packages.<system>.default`).
    #[arg(long)]
    pub container: bool,
    /// What to build: a flake (a directory or a flake reference), one of
    /// the current flake's systems by the name `micros systems` lists (or
    /// its end: `container`), or both: `DIR#NAME`.
    #[arg(value_name = "FLAKE_REF|NAME", default_value = ".")]
    pub flake: String,
    /// Remote builders for Nix (`--builders`), e.g.
    /// "ssh://builder x86_64-linux - 8"; see the book's chapter on building.
    #[arg(long, value_name = "SPEC")]
    pub builders: Option<String>,
    /// How many builds run at once on this machine (`--max-jobs`; 0 builds
    /// on the remote builders only).
    #[arg(long, short = 'j', value_name = "N")]
    pub max_jobs: Option<String>,
    /// The Nix system whose package is built. Default: this machine's.
    #[arg(long, value_name = "SYSTEM")]
    pub system: Option<String>,
    /// Stop when evaluation has not finished (no build or download begun)
    /// after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub eval_timeout: u64,
    /// Print every line the builders print.
    #[arg(long, short = 'L')]
    pub print_build_logs: bool,
    /// More arguments for `nix build`, after `--` (e.g. `-- --no-link`).
    #[arg(last = true, value_name = "NIX_ARGS")]
    pub nix_args: Vec<String>,
}

/// What the argument names: the flake, and a system's name when one is
/// given (`NAME`, `FLAKE#NAME`). A directory, `.`, and anything with a
/// `/` or a `:` is a flake.
fn split_target(target: &str) -> (&str, Option<&str>) {
    if let Some((flake, name)) = target.split_once('#') {
        return (if flake.is_empty() { "." } else { flake }, Some(name));
    }
    let is_flake = target == "."
        || target == ".."
        || target.contains(['/', ':'])
        || Path::new(target).is_dir();
    if is_flake {
        (target, None)
    } else {
        (".", Some(target))
    }
}

/// The attribute of a system `name` means in a local flake: the output
/// of the system whose name it is or ends (`container`), or a path below
/// one (`nixosConfigurations.web.config.system.build.ociImage`).
fn system_attribute(dir: &Path, name: &str) -> Result<String, String> {
    use rowan::ast::AstNode;
    let path = dir.join("flake.nix");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let (green, _) = micros_options::syntax::parse(&text);
    let Some(root) = rnix::ast::Root::cast(rnix::SyntaxNode::new_root(green)) else {
        return Err(format!("{}: not a Nix expression", path.display()));
    };
    let model = crate::analysis::systems::flake::read(&root, dir);
    let names: Vec<&str> = model.systems.iter().map(|s| s.name.as_str()).collect();
    let exact = model.systems.iter().find(|s| s.name == name);
    let by_end: Vec<_> = model
        .systems
        .iter()
        .filter(|s| s.name.ends_with(&format!(".{name}")))
        .collect();
    let system = match (exact, by_end.as_slice()) {
        (Some(system), _) | (None, &[system]) => system,
        (None, []) => {
            // A path below a system: Nix takes it as it is.
            if names.iter().any(|n| name.starts_with(&format!("{n}."))) {
                return Ok(name.to_string());
            }
            return Err(if names.is_empty() {
                format!(
                    "no system `{name}`: {} defines no system that can be read statically; give the whole attribute (`micros build .#ATTRIBUTE`)",
                    path.display()
                )
            } else {
                format!(
                    "no system `{name}` in {} (its systems: {})",
                    path.display(),
                    names.join(", ")
                )
            });
        }
        (None, several) => {
            let several: Vec<&str> = several.iter().map(|s| s.name.as_str()).collect();
            return Err(format!(
                "`{name}` could be any of {}; give the whole name",
                several.join(", ")
            ));
        }
    };
    Ok(match &system.output {
        Some(_) => system.name.clone(),
        // The output is the system itself: its image.
        None => format!("{}.config.system.build.image", system.name),
    })
}

/// The flake to hand Nix, and its directory when it is local.
fn resolve_flake(reference: &str) -> Result<(String, Option<PathBuf>), String> {
    let local = reference.strip_prefix("path:").unwrap_or(reference);
    let local = local.split('?').next().unwrap_or_default();
    let looks_local = !reference.contains(':') || reference.starts_with("path:");
    if looks_local {
        let dir = Path::new(if local.is_empty() { "." } else { local });
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if !dir.join("flake.nix").is_file() {
            return Err(format!("{}: no flake.nix here", dir.display()));
        }
        let given = if reference.starts_with("path:") {
            format!("path:{}", dir.display())
        } else {
            dir.display().to_string()
        };
        return Ok((given, Some(dir)));
    }
    if let Some(path) = reference.strip_prefix("git+file://") {
        let dir = PathBuf::from(path.split('?').next().unwrap_or_default());
        return Ok((reference.to_string(), dir.is_dir().then_some(dir)));
    }
    Ok((reference.to_string(), None))
}

pub fn run(args: &BuildArgs, color: bool) -> u8 {
    let fail = |message: &str| {
        eprintln!("{}", super::options::error_line(message, color));
        exit::USAGE
    };
    let (reference, name) = split_target(&args.flake);
    if name.is_some() && args.container {
        return fail("give either a system's name or --container, not both");
    }
    let (flake, dir) = match resolve_flake(reference) {
        Ok(resolved) => resolved,
        Err(message) => return fail(&message),
    };
    let attribute = match (name, &dir) {
        (Some(name), Some(dir)) => match system_attribute(dir, name) {
            Ok(attribute) => attribute,
            Err(message) => return fail(&message),
        },
        // A remote flake is not read here: Nix finds the attribute.
        (Some(name), None) => name.to_string(),
        (None, _) => {
            let system = args
                .system
                .clone()
                .unwrap_or_else(crate::nix::current_system);
            let package = if args.container {
                "container"
            } else {
                "default"
            };
            format!("packages.{system}.{package}")
        }
    };
    let nix = match Nix::locate() {
        Ok(nix) => nix,
        Err(error) => return fail(&error.to_string()),
    };
    let installable = format!("{flake}#{attribute}");
    let mut command = nix.command();
    command.args(["build", "--log-format", "internal-json", "--json"]);
    if let Some(builders) = &args.builders {
        command.args(["--builders", builders]);
    }
    if let Some(jobs) = &args.max_jobs {
        command.args(["--max-jobs", jobs]);
    }
    command.arg(&installable).args(&args.nix_args);

    let terminal = std::io::stderr().is_terminal();
    let mut display = Progress::new(terminal, args.print_build_logs, color);
    let map = dir.as_deref().map(SourceMap::new);
    eprintln!("building {installable}");
    let started = Instant::now();
    let mut log = BuildLog::new();
    let finished = process::run(
        command,
        Limits {
            timeout: Some(Duration::from_secs(args.eval_timeout.max(1))),
            memory_bytes: None,
        },
        &mut |line| {
            let update = log.apply(line);
            display.show(&update, &log, map.as_ref());
            if log.realising {
                Control::ClearTimeout
            } else {
                Control::Continue
            }
        },
    );
    display.clear();
    let finished = match finished {
        Ok(finished) => finished,
        Err(process::RunError::TimedOut(limit)) => {
            return fail(&format!(
                "evaluating {installable} did not finish within {} s (stopped); raise the limit with --eval-timeout",
                limit.as_secs()
            ));
        }
        Err(error) => return fail(&NixError::from(error).to_string()),
    };
    if !finished.status.success() {
        return report_failure(&log, map.as_ref(), dir.as_deref(), color);
    }
    let outputs = out_paths(&finished.stdout);
    if outputs.is_empty() {
        return fail("nix build succeeded but printed no output path");
    }
    let elapsed = started.elapsed();
    let built = log.builds.done;
    let fetched = log.fetches.done;
    eprintln!(
        "built {attribute} in {:.1} s ({built} derivations built, {fetched} paths fetched)",
        elapsed.as_secs_f64()
    );
    let mut stdout = std::io::stdout().lock();
    for path in &outputs {
        let size = match sizes(&nix, path) {
            Some((nar, closure)) => {
                format!("{}, closure {}", human_size(nar), human_size(closure))
            }
            None => "size unknown".into(),
        };
        let _ = writeln!(stdout, "{path}");
        eprintln!("  {path} ({size})");
    }
    exit::CLEAN
}

fn report_failure(log: &BuildLog, map: Option<&SourceMap>, dir: Option<&Path>, color: bool) -> u8 {
    let mut options = None;
    let mut load = || {
        options
            .get_or_insert_with(|| errors::static_options(dir))
            .clone()
    };
    let mut status = exit::FINDINGS;
    let mut any = false;
    for message in log.errors() {
        if let Some(detail) = flakes_unsupported(&message.text) {
            eprintln!(
                "{}",
                super::options::error_line(&NixError::FlakesUnsupported(detail).to_string(), color)
            );
            return exit::USAGE;
        }
        if message.text.contains("use '--show-trace'") {
            eprintln!("(pass `-- --show-trace` to see what Nix was evaluating)");
            continue;
        }
        let explained = errors::explain(message, map, &mut load, color);
        if matches!(explained.kind, errors::Kind::MissingOutput { .. }) {
            status = exit::USAGE;
        }
        eprint!("{}", explained.rendered);
        // Nix's JSON log carries the builder's output separately: show
        // its end under the failure.
        if let Some(name) = crate::nix::log::failed_build(&message.text) {
            let tail = log.tail(&name);
            if !tail.is_empty() {
                eprintln!("  = note: the last lines {name} printed:");
                for line in tail {
                    eprintln!("    {name}> {line}");
                }
            }
        }
        any = true;
    }
    if !any {
        eprintln!(
            "{}",
            super::options::error_line("nix build failed without a message", color)
        );
    }
    status
}

/// The output paths from `nix build --json`.
fn out_paths(stdout: &[u8]) -> Vec<String> {
    let Ok(serde_json::Value::Array(results)) = serde_json::from_slice(stdout) else {
        return Vec::new();
    };
    results
        .iter()
        .filter_map(|r| r.get("outputs")?.as_object())
        .flat_map(|outputs| {
            outputs
                .values()
                .filter_map(|p| p.as_str().map(str::to_string))
        })
        .collect()
}

/// (the path's own size, its closure's size) from `nix path-info`.
fn sizes(nix: &Nix, path: &str) -> Option<(u64, u64)> {
    let mut command = nix.command();
    command.args(["path-info", "--json", "--closure-size", path]);
    let finished = process::run(
        command,
        Limits {
            timeout: Some(Duration::from_secs(60)),
            memory_bytes: None,
        },
        &mut |_| Control::Continue,
    )
    .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&finished.stdout).ok()?;
    let info = json.as_array()?.first()?;
    Some((info["narSize"].as_u64()?, info["closureSize"].as_u64()?))
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Progress on stderr: one redrawn status line with a bar on a terminal,
/// plain lines otherwise.
struct Progress {
    terminal: bool,
    logs: bool,
    color: bool,
    /// Whether the status line is on screen (to be erased before printing).
    drawn: bool,
    last_draw: Option<Instant>,
}

impl Progress {
    fn new(terminal: bool, logs: bool, color: bool) -> Self {
        Progress {
            terminal,
            logs,
            color,
            drawn: false,
            last_draw: None,
        }
    }

    fn line(&mut self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        if self.drawn {
            let _ = write!(stderr, "\r\x1b[2K");
            self.drawn = false;
        }
        let _ = writeln!(stderr, "{text}");
    }

    fn show(&mut self, update: &Update, log: &BuildLog, map: Option<&SourceMap>) {
        match update {
            Update::BuildStarted { name, machine } if !self.terminal => {
                let on = if machine.is_empty() {
                    String::new()
                } else {
                    format!(" on {machine}")
                };
                self.line(&format!(
                    "building {name}{on} ({}/{})",
                    log.builds.done + log.builds.running.max(1),
                    log.builds.expected.max(1)
                ));
            }
            Update::BuildStopped { name } if !self.terminal => {
                if log.failed.contains(name) {
                    self.line(&format!("failed to build {name}"));
                } else {
                    self.line(&format!(
                        "built {name} ({}/{} done)",
                        log.builds.done,
                        log.builds.expected.max(log.builds.done)
                    ));
                }
            }
            Update::FetchStarted { name } if !self.terminal => {
                self.line(&format!("fetching {name}"));
            }
            Update::LogLine { name, line } if self.logs => {
                self.line(&format!("{name}> {line}"));
            }
            Update::Message(message) if message.level == 1 => {
                // Warnings as they come; errors are explained at the end.
                let text = match map {
                    Some(map) => map.rewrite(&message.text),
                    None => message.text.clone(),
                };
                self.line(&text);
            }
            Update::Plain(text) => self.line(text),
            _ => {}
        }
        if self.terminal {
            self.draw(log, matches!(update, Update::Counts));
        }
    }

    fn draw(&mut self, log: &BuildLog, force: bool) {
        // At most 20 redraws a second.
        if !force
            && self
                .last_draw
                .is_some_and(|t| t.elapsed() < Duration::from_millis(50))
        {
            return;
        }
        self.last_draw = Some(Instant::now());
        let status = fit(&status_line(log, self.color), terminal_width());
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{status}");
        let _ = stderr.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}

/// The terminal's width in columns (stderr's), or 80.
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ only writes the winsize struct we pass.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// Cut a status line to fit in `width` columns (a wrapped line could not
/// be redrawn in place); colour sequences take no room.
fn fit(line: &str, width: usize) -> String {
    let mut out = String::with_capacity(line.len());
    let mut visible = 0;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            out.push(c);
            for c in chars.by_ref() {
                out.push(c);
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        if visible + 1 >= width {
            out.push('…');
            break;
        }
        out.push(c);
        visible += 1;
    }
    out
}

/// `[#####-----] 3/7 built, 1/2 fetched · building foo (buildPhase)`.
fn status_line(log: &BuildLog, color: bool) -> String {
    const WIDTH: u64 = 20;
    let total = log.builds.expected + log.fetches.expected;
    let done = log.builds.done + log.fetches.done;
    let mut out = String::new();
    if total == 0 {
        out.push_str("evaluating…");
        return out;
    }
    let filled = (done * WIDTH / total.max(1)).min(WIDTH) as usize;
    let (on, off) = if color {
        ("\x1b[32m", "\x1b[0m")
    } else {
        ("", "")
    };
    out.push_str(&format!(
        "[{on}{}{off}{}] {}/{} built",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled),
        log.builds.done,
        log.builds.expected
    ));
    if log.fetches.expected > 0 {
        out.push_str(&format!(
            ", {}/{} fetched",
            log.fetches.done, log.fetches.expected
        ));
    }
    if log.builds.failed > 0 {
        out.push_str(&format!(", {} failed", log.builds.failed));
    }
    let running = log.running();
    if let Some(current) = running.first() {
        out.push_str(&format!(" · building {}", current.name));
        if let Some(phase) = &current.phase {
            out.push_str(&format!(" ({phase})"));
        }
        if !current.machine.is_empty() {
            out.push_str(&format!(" on {}", current.machine));
        }
        if running.len() > 1 {
            out.push_str(&format!(" and {} more", running.len() - 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_du() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn output_paths_from_json() {
        let json = br#"[{"drvPath":"/nix/store/x.drv","outputs":{"out":"/nix/store/zh2carj99jhw9zia6f3mc0dql65h0am6-hello-image"}}]"#;
        assert_eq!(
            out_paths(json),
            ["/nix/store/zh2carj99jhw9zia6f3mc0dql65h0am6-hello-image"]
        );
        assert!(out_paths(b"not json").is_empty());
    }

    #[test]
    fn flake_references() {
        assert_eq!(split_target(".#foo"), (".", Some("foo")));
        assert_eq!(split_target("#foo"), (".", Some("foo")));
        assert_eq!(split_target("."), (".", None));
        assert_eq!(split_target("./hosts"), ("./hosts", None));
        assert_eq!(split_target("github:me/config"), ("github:me/config", None));
        assert_eq!(split_target("container"), (".", Some("container")));
        assert_eq!(
            split_target("packages.x86_64-linux.container"),
            (".", Some("packages.x86_64-linux.container"))
        );
        assert_eq!(
            resolve_flake("github:me/config").expect("remote"),
            ("github:me/config".to_string(), None)
        );
        let missing = resolve_flake("/nonexistent/dir").expect_err("no such dir");
        assert!(missing.contains("/nonexistent/dir"), "{missing}");
    }

    #[test]
    fn systems_by_name() {
        let dir = std::env::temp_dir().join(format!("micros-build-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("flake.nix"),
            r#"{ outputs = { micros, ... }: {
  packages.x86_64-linux.default = (micros.lib.microsSystem { modules = [ ]; }).config.system.build.image;
  packages.x86_64-linux.container = (micros.lib.microsSystem { modules = [ ]; }).config.system.build.ociImage;
  packages.aarch64-linux.container = (micros.lib.microsSystem { modules = [ ]; }).config.system.build.ociImage;
  nixosConfigurations.web = micros.lib.microsSystem { modules = [ ]; };
}; }"#,
        )
        .expect("flake.nix");
        let attribute = |name| system_attribute(&dir, name);
        assert_eq!(
            attribute("default").as_deref(),
            Ok("packages.x86_64-linux.default")
        );
        assert_eq!(
            attribute("x86_64-linux.container").as_deref(),
            Ok("packages.x86_64-linux.container")
        );
        assert_eq!(
            attribute("web").as_deref(),
            Ok("nixosConfigurations.web.config.system.build.image")
        );
        assert_eq!(
            attribute("nixosConfigurations.web.config.system.build.ociImage").as_deref(),
            Ok("nixosConfigurations.web.config.system.build.ociImage")
        );
        assert_eq!(
            attribute("container"),
            Err("`container` could be any of packages.aarch64-linux.container, packages.x86_64-linux.container; give the whole name".into())
        );
        let unknown = attribute("iso").expect_err("no such system");
        assert!(
            unknown.starts_with("no system `iso` in ")
                && unknown.ends_with("(its systems: nixosConfigurations.web, packages.aarch64-linux.container, packages.x86_64-linux.container, packages.x86_64-linux.default)"),
            "{unknown}"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn status_lines_fit_the_terminal() {
        assert_eq!(
            fit("[\x1b[32m##\x1b[0m--] 1/2 built", 12),
            "[\x1b[32m##\x1b[0m--] 1/2 …"
        );
        assert_eq!(fit("short", 80), "short");
    }

    #[test]
    fn the_status_line_counts_and_names_the_current_build() {
        let mut log = BuildLog::new();
        for line in [
            r#"@nix {"action":"start","id":1,"level":0,"text":"","type":104}"#,
            r#"@nix {"action":"result","fields":[1,3,1,0],"id":1,"type":105}"#,
            r#"@nix {"action":"start","fields":["/nix/store/k7y3akwhryk5xaxi9i2ssvf6k1l5lm8n-rootfs.drv","",1,1],"id":2,"level":3,"text":"","type":105}"#,
            r#"@nix {"action":"result","fields":["buildPhase"],"id":2,"type":104}"#,
        ] {
            log.apply(line);
        }
        assert_eq!(
            status_line(&log, false),
            "[######--------------] 1/3 built · building rootfs (buildPhase)"
        );
    }
}
