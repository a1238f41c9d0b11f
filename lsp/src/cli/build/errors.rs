//! Nix's errors, explained in the workspace's terms: store copies of the
//! flake mapped back to its files, a source snippet under the position,
//! and did-you-mean for option names.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use micros_options::{Diagnostic, OptionSet, Severity, report};
use regex::Regex;

use crate::nix::log::Message;
use crate::nix::source_map::SourceMap;

static UNKNOWN_OPTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"The option `([^']+)' does not exist").expect("valid regex"));
// nixpkgs' two wordings, older and newer.
static WRONG_TYPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:A definition for option `([^']+)'|The option value `([^']+)' in `([^']+)') is not of type `((?s).+?)'\.",
    )
    .expect("valid regex")
});
static DEFINED_IN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"- In `([^']+)'").expect("valid regex"));
// Nix lists the attribute paths it tried; the last is the one asked for.
static MISSING_OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"flake '([^']+)' does not provide attribute (?:'[^']+',? )*(?:or )?'([^']+)'")
        .expect("valid regex")
});

/// What kind of failure, for the exit status and the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The flake has no such package.
    MissingOutput { flake: String, attribute: String },
    /// Evaluating the configuration failed.
    Evaluation,
    /// A derivation failed to build.
    Build,
}

/// One error, explained.
#[derive(Debug, Clone)]
pub struct Explained {
    pub kind: Kind,
    pub rendered: String,
}

/// Explain an error message of Nix. `options` gives did-you-mean for
/// option names (loaded only when an option error is seen).
pub fn explain(
    message: &Message,
    map: Option<&SourceMap>,
    options: &mut dyn FnMut() -> Option<OptionSet>,
    color: bool,
) -> Explained {
    let text = message.text.trim_end();
    let rewrite = |t: &str| match map {
        Some(map) => map.rewrite(t),
        None => t.to_string(),
    };
    if let Some(captures) = MISSING_OUTPUT.captures(text) {
        let (flake, attribute) = (captures[1].to_string(), captures[2].to_string());
        return Explained {
            rendered: format!(
                "{}\n  = help: add `{attribute}` to the outputs of the flake's flake.nix (micros build builds packages.<system>.default, or .container with --container)\n",
                error_header(
                    &format!("the flake {flake} has no output `{attribute}`"),
                    color
                )
            ),
            kind: Kind::MissingOutput { flake, attribute },
        };
    }
    if text.contains("builder for '") && text.contains("failed") {
        return Explained {
            kind: Kind::Build,
            rendered: format!("{}\n", rewrite(text)),
        };
    }
    let short = message.short.as_deref().unwrap_or(text);
    if let Some(captures) = UNKNOWN_OPTION.captures(text) {
        let name = captures[1].to_string();
        let file = DEFINED_IN
            .captures(text)
            .and_then(|c| map.and_then(|m| m.file(&c[1])));
        let suggestion = options().and_then(|set| suggest(&set, &name));
        let help = suggestion.map(|s| format!("did you mean `{s}`?"));
        return option_error(
            &format!("the option `{name}` does not exist"),
            &name,
            file.as_deref(),
            help.as_deref(),
            color,
        );
    }
    if let Some(captures) = WRONG_TYPE.captures(text) {
        let name = captures
            .get(1)
            .or_else(|| captures.get(2))
            .map_or("", |m| m.as_str())
            .to_string();
        let ty = captures[4].to_string();
        let in_file = captures
            .get(3)
            .map(|m| m.as_str().to_string())
            .or_else(|| DEFINED_IN.captures(text).map(|c| c[1].to_string()));
        let file = in_file.and_then(|f| map.and_then(|m| m.file(&f)));
        return option_error(
            &format!("the value of `{name}` is not of type `{ty}`"),
            &name,
            file.as_deref(),
            Some(&format!("`{name}` expects {}", with_article(&ty))),
            color,
        );
    }
    // Any other evaluation error with a position in the flake's files.
    if let Some((path, line, column)) = &message.position
        && let Some(file) = map.and_then(|m| m.file(path))
    {
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            file: file.clone(),
            line: *line,
            column: *column,
            range: None,
            message: first_line(short).to_string(),
            code: None,
        };
        let source = std::fs::read_to_string(&file).ok();
        return Explained {
            kind: Kind::Evaluation,
            rendered: report::render(&diagnostic, source.as_deref(), color),
        };
    }
    Explained {
        kind: Kind::Evaluation,
        rendered: format!("{}\n", rewrite(text)),
    }
}

fn first_line(text: &str) -> &str {
    text.trim()
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches(':')
}

fn with_article(ty: &str) -> String {
    let vowel = ty.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {ty}", if vowel { "an" } else { "a" })
}

fn error_header(message: &str, color: bool) -> String {
    if color {
        format!("\x1b[1;31merror\x1b[0m\x1b[1m: {message}\x1b[0m")
    } else {
        format!("error: {message}")
    }
}

fn option_error(
    message: &str,
    name: &str,
    file: Option<&Path>,
    help: Option<&str>,
    color: bool,
) -> Explained {
    let mut rendered = match file {
        Some(file) => {
            let source = std::fs::read_to_string(file).ok();
            let (line, column, range) = source
                .as_deref()
                .and_then(|s| locate_definition(s, name))
                .map_or((0, 0, None), |(l, c, r)| (l, c, Some(r)));
            let diagnostic = Diagnostic {
                severity: Severity::Error,
                file: file.to_path_buf(),
                line,
                column,
                range,
                message: message.to_string(),
                code: None,
            };
            report::render(&diagnostic, source.as_deref(), color)
        }
        None => format!("{}\n", error_header(message, color)),
    };
    if let Some(help) = help {
        rendered.push_str(&format!("  = help: {help}\n"));
    }
    Explained {
        kind: Kind::Evaluation,
        rendered,
    }
}

/// Where `name` (`a.b.c`) is defined in a module's text: the whole dotted
/// path first, then ever shorter tails of it followed by `=` or `{`.
/// Returns (line, column, byte range), 1-based.
pub fn locate_definition(source: &str, name: &str) -> Option<(u32, u32, (u32, u32))> {
    let segments: Vec<&str> = name.split('.').collect();
    for start in 0..segments.len() {
        let tail = segments[start..].join(".");
        let pattern = format!(r"(?m)(^|[\s{{;.])({})\s*(=|\{{|\.)", regex::escape(&tail));
        let Ok(regex) = Regex::new(&pattern) else {
            continue;
        };
        if let Some(found) = regex.captures(source).and_then(|c| c.get(2)) {
            let before = &source[..found.start()];
            let line = before.matches('\n').count() as u32 + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = source[line_start..found.start()].chars().count() as u32 + 1;
            return Some((line, column, (found.start() as u32, found.end() as u32)));
        }
    }
    None
}

/// The closest option (or option prefix of the same depth) to `name`.
pub fn suggest(set: &OptionSet, name: &str) -> Option<String> {
    let depth = name.split('.').count();
    let mut candidates: Vec<String> = set
        .flatten()
        .iter()
        .filter(|o| o.loc.len() >= depth)
        .map(|o| micros_options::model::show_option(&o.loc[..depth]))
        .collect();
    candidates.sort();
    candidates.dedup();
    crate::analysis::options::closest(name, candidates.iter().map(String::as_str))
        .map(str::to_string)
}

/// The option set for did-you-mean: extracted statically from the sources
/// the flake locks (or the environment names).
pub fn static_options(flake_dir: Option<&Path>) -> Option<OptionSet> {
    let flags = micros_options::sources::SourceFlags::default();
    let start = flake_dir
        .map(Path::to_path_buf)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let micros = micros_options::sources::locate_micros(&flags, &start).ok()?;
    let nixpkgs = micros_options::sources::locate_nixpkgs(&flags, &start)
        .ok()
        .map(|l| l.dir);
    let request = micros_options::sources::micros_request(&micros.dir, nixpkgs.as_deref()).ok()?;
    Some(micros_options::extract(&request).options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use micros_options::{OptionDecl, OptionType};

    fn message(text: &str) -> Message {
        Message {
            level: 0,
            text: text.into(),
            short: None,
            position: None,
        }
    }

    fn options() -> OptionSet {
        OptionSet {
            options: vec![
                OptionDecl::new(
                    vec!["services".into(), "getty".into(), "enable".into()],
                    OptionType::Bool,
                ),
                OptionDecl::new(
                    vec!["networking".into(), "hostName".into()],
                    OptionType::Str,
                ),
            ],
            migrations: Vec::new(),
        }
    }

    fn workspace(name: &str, file: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("micros-build-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join(file), text).expect("write");
        dir
    }

    const STORE: &str = "/nix/store/pc8lx1fxa4zlnkgahf2yfidzjpkm6kfs-source";

    #[test]
    fn unknown_options_point_at_the_definition_with_a_suggestion() {
        let dir = workspace(
            "unknown",
            "configuration.nix",
            "{\n  services.gety.enable = true;\n}\n",
        );
        let map = SourceMap::new(&dir);
        // nixpkgs' wording (lib/modules.nix), as Nix prints it.
        let text = format!(
            "error: The option `services.gety' does not exist. Definition values:\n       - In `{STORE}/configuration.nix':\n           {{\n             enable = true;\n           }}"
        );
        let explained = explain(&message(&text), Some(&map), &mut || Some(options()), false);
        assert_eq!(explained.kind, Kind::Evaluation);
        let file = dir.join("configuration.nix");
        let expected = format!(
            "error: the option `services.gety` does not exist\n  --> {}:2:3\n  |\n2 |   services.gety.enable = true;\n  |   ^^^^^^^^^^^^^\n  = help: did you mean `services.getty`?\n",
            file.display()
        );
        assert_eq!(explained.rendered, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn wrong_types_name_the_expected_type() {
        let dir = workspace(
            "type",
            "configuration.nix",
            "{\n  networking.hostName = 12;\n}\n",
        );
        let map = SourceMap::new(&dir);
        let text = format!(
            "error: A definition for option `networking.hostName' is not of type `string'. Definition values:\n       - In `{STORE}/configuration.nix': 12"
        );
        let explained = explain(&message(&text), Some(&map), &mut || None, false);
        assert!(
            explained
                .rendered
                .starts_with("error: the value of `networking.hostName` is not of type `string`\n"),
            "{}",
            explained.rendered
        );
        assert!(
            explained.rendered.contains(":2:3\n"),
            "{}",
            explained.rendered
        );
        assert!(
            explained
                .rendered
                .contains("= help: `networking.hostName` expects a string"),
            "{}",
            explained.rendered
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_outputs_say_what_to_add() {
        // As Nix 2.8 words it.
        let text = "error: flake 'path:/tmp/x' does not provide attribute 'packages.x86_64-linux.packages.x86_64-linux.container', 'legacyPackages.x86_64-linux.packages.x86_64-linux.container' or 'packages.x86_64-linux.container'";
        let explained = explain(&message(text), None, &mut || None, false);
        assert_eq!(
            explained.kind,
            Kind::MissingOutput {
                flake: "path:/tmp/x".into(),
                attribute: "packages.x86_64-linux.container".into()
            }
        );
        assert!(
            explained
                .rendered
                .contains("has no output `packages.x86_64-linux.container`")
        );
    }

    #[test]
    fn definitions_are_found_by_their_longest_tail() {
        let source = "{\n  services = {\n    getty.enable = true;\n  };\n}\n";
        assert_eq!(
            locate_definition(source, "services.getty.enable").map(|(l, c, _)| (l, c)),
            Some((3, 5))
        );
        assert_eq!(locate_definition(source, "nothing.here"), None);
    }
}
