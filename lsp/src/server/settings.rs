//! Settings (section `micros`) and loading the option set they point at.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use micros_options::model::RootKind;
use micros_options::sources::{self, SettingNames, SourceFlags};

use crate::analysis::options::OptionIndex;
use crate::nix::eval::evaluated_index;

/// How long the server lets Nix evaluate before falling back.
const EVAL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The micros source tree.
    pub source: Option<PathBuf>,
    /// The nixpkgs tree whose modules micros imports.
    pub nixpkgs: Option<PathBuf>,
    /// An options.json to use instead of extracting.
    pub options: Option<PathBuf>,
    /// Evaluate the options with Nix (runs the flake's code: opt-in only).
    pub eval: bool,
    /// `formatting.command`: an external formatter instead of alejandra.
    pub formatting_command: Option<Vec<String>>,
    /// `diagnostics.generic = false` leaves the diagnostics any Nix server
    /// makes (syntax, names, nil's lints) to another one running beside.
    pub skip_generic_diagnostics: bool,
    /// `inlayHints.bindingEndMinLines`: bindings this long get their name
    /// after the `;` (`None`: the default; `Some(0)`: none).
    pub binding_end_min_lines: Option<usize>,
}

impl Settings {
    /// Take what `value` says: either `{ "micros": { ... } }` or the section
    /// itself. Unknown keys and wrong types are ignored.
    pub fn update(&mut self, value: &serde_json::Value) {
        let section = value.get("micros").unwrap_or(value);
        let path = |key: &str| -> Option<Option<PathBuf>> {
            match section.get(key)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(Some(PathBuf::from(s))),
                serde_json::Value::Null | serde_json::Value::String(_) => Some(None),
                _ => None,
            }
        };
        if let Some(source) = path("source") {
            self.source = source;
        }
        if let Some(nixpkgs) = path("nixpkgs") {
            self.nixpkgs = nixpkgs;
        }
        if let Some(options) = path("options") {
            self.options = options;
        }
        if let Some(eval) = section.get("eval").and_then(serde_json::Value::as_bool) {
            self.eval = eval;
        }
        if let Some(generic) = section
            .get("diagnostics")
            .and_then(|d| d.get("generic"))
            .and_then(serde_json::Value::as_bool)
        {
            self.skip_generic_diagnostics = !generic;
        }
        match section
            .get("inlayHints")
            .and_then(|h| h.get("bindingEndMinLines"))
        {
            Some(serde_json::Value::Null) => self.binding_end_min_lines = None,
            Some(lines) => {
                if let Some(lines) = lines.as_u64() {
                    self.binding_end_min_lines = Some(usize::try_from(lines).unwrap_or(usize::MAX));
                }
            }
            None => {}
        }
        if let Some(command) = section.get("formatting").and_then(|f| f.get("command")) {
            match command {
                serde_json::Value::Array(words) => {
                    let words: Option<Vec<String>> = words
                        .iter()
                        .map(|w| w.as_str().map(str::to_string))
                        .collect();
                    if let Some(words) = words {
                        self.formatting_command = (!words.is_empty()).then_some(words);
                    }
                }
                serde_json::Value::String(program) => {
                    self.formatting_command = (!program.is_empty()).then(|| vec![program.clone()]);
                }
                serde_json::Value::Null => self.formatting_command = None,
                _ => {}
            }
        }
    }

    /// Whether the option set these settings load differs from `other`'s.
    pub fn options_differ(&self, other: &Settings) -> bool {
        (&self.source, &self.nixpkgs, &self.options, self.eval)
            != (&other.source, &other.nixpkgs, &other.options, other.eval)
    }

    pub fn inlay_config(&self) -> crate::ide::inlay_hints::InlayConfig {
        let mut config = crate::ide::inlay_hints::InlayConfig::default();
        if let Some(lines) = self.binding_end_min_lines {
            config.binding_end_min_lines = (lines > 0).then_some(lines);
        }
        config
    }

    pub fn formatter(&self) -> crate::ide::formatting::Formatter {
        match &self.formatting_command {
            Some(command) => crate::ide::formatting::Formatter::Command(command.clone()),
            None => crate::ide::formatting::Formatter::Alejandra,
        }
    }
}

/// Options files already read, by path, each as its index and its count of
/// options: `micros.options` naming one of them is not read again.
#[derive(Debug, Clone, Default)]
pub struct Preread(pub Arc<Vec<(PathBuf, Arc<OptionIndex>, usize)>>);

pub struct Loaded {
    pub index: Arc<OptionIndex>,
    pub summary: String,
    /// Shown to the user once each.
    pub warnings: Vec<String>,
}

fn absolute(path: &Path, root: Option<&Path>) -> PathBuf {
    match root {
        Some(root) if path.is_relative() => root.join(path),
        _ => path.to_path_buf(),
    }
}

/// Settings first, then MICROS_SRC / MICROS_NIXPKGS, then the workspace's
/// flake.lock.
pub fn load_options(settings: &Settings, root: Option<&Path>, preread: &Preread) -> Loaded {
    let start = Instant::now();
    let mut warnings = Vec::new();
    if let Some(options) = &settings.options {
        let path = absolute(options, root);
        let read = match preread.0.iter().find(|(p, _, _)| *p == path) {
            Some((_, index, count)) => Ok((index.clone(), *count)),
            None => std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| micros_options::json::from_json(&text).map_err(|e| e.to_string()))
                .map(|set| {
                    let count = set.flatten().len();
                    (Arc::new(OptionIndex::new(Arc::new(set), true)), count)
                }),
        };
        match read {
            Ok((mut index, count)) => {
                if let Some(source) = &settings.source {
                    Arc::make_mut(&mut index)
                        .roots
                        .push((RootKind::Micros, absolute(source, root)));
                }
                return Loaded {
                    index,
                    summary: format!("read {count} options from {}", path.display()),
                    warnings,
                };
            }
            Err(error) => warnings.push(format!(
                "micros: cannot use `micros.options` ({}): {error}",
                path.display()
            )),
        }
    }
    let flags = SourceFlags {
        micros: settings.source.as_deref().map(|p| absolute(p, root)),
        nixpkgs: settings.nixpkgs.as_deref().map(|p| absolute(p, root)),
    };
    let start_dir = root
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    if settings.eval {
        match evaluated_index(&flags, &start_dir, root, SettingNames::Editor, EVAL_TIMEOUT) {
            Ok((index, summary)) => {
                return Loaded {
                    index: Arc::new(index),
                    summary,
                    warnings,
                };
            }
            Err(error) => warnings.push(format!(
                "micros: evaluating the options with Nix failed: {error}. Using the options extracted without Nix."
            )),
        }
    }
    let micros = match sources::locate_micros_as(&flags, &start_dir, SettingNames::Editor) {
        Ok(located) => located.dir,
        Err(error) => {
            warnings.push(format!("micros: {}. Option checks are off.", error.message));
            return Loaded {
                index: Arc::default(),
                summary: "no MicrOS options".into(),
                warnings,
            };
        }
    };
    let nixpkgs = match sources::locate_nixpkgs_as(&flags, &start_dir, SettingNames::Editor) {
        Ok(located) => Some(located.dir),
        Err(error) => {
            warnings.push(format!(
                "micros: {}. Options of the nixpkgs modules micros imports (boot.kernel*, environment.etc, nixpkgs.*, ...) are not checked.",
                error.message
            ));
            None
        }
    };
    let request = match sources::micros_request(&micros, nixpkgs.as_deref()) {
        Ok(request) => request,
        Err(error) => {
            warnings.push(format!("micros: {error}"));
            return Loaded {
                index: Arc::default(),
                summary: "no MicrOS options".into(),
                warnings,
            };
        }
    };
    let extraction = micros_options::extract(&request);
    let count = extraction.options.flatten().len();
    let index =
        crate::analysis::systems::base::static_index(extraction, &micros, nixpkgs.as_deref());
    Loaded {
        index: Arc::new(index),
        summary: format!(
            "extracted {count} MicrOS options from {} in {:.1} ms",
            micros.display(),
            start.elapsed().as_secs_f64() * 1000.0
        ),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_accept_the_section_or_its_parent() {
        let mut settings = Settings::default();
        settings.update(&serde_json::json!({ "micros": { "source": "/m", "nixpkgs": 3 } }));
        assert_eq!(settings.source, Some(PathBuf::from("/m")));
        assert_eq!(settings.nixpkgs, None);
        settings.update(&serde_json::json!({ "source": null, "options": "o.json" }));
        assert_eq!(settings.source, None);
        assert_eq!(settings.options, Some(PathBuf::from("o.json")));
        settings.update(&serde_json::json!("garbage"));
        assert_eq!(settings.options, Some(PathBuf::from("o.json")));
        assert!(!settings.eval);
        settings.update(&serde_json::json!({ "micros": { "eval": true } }));
        assert!(settings.eval);
        settings.update(&serde_json::json!({ "eval": "yes" }));
        assert!(settings.eval);
        let before = settings.clone();
        settings
            .update(&serde_json::json!({ "formatting": { "command": ["nixfmt", "-w", "80"] } }));
        assert_eq!(
            settings.formatting_command,
            Some(vec!["nixfmt".into(), "-w".into(), "80".into()])
        );
        assert!(!settings.options_differ(&before));
        settings.update(&serde_json::json!({ "formatting": { "command": [1] } }));
        assert!(settings.formatting_command.is_some());
        settings.update(&serde_json::json!({ "formatting": { "command": null } }));
        assert_eq!(settings.formatting_command, None);
        settings.update(&serde_json::json!({ "diagnostics": { "generic": false } }));
        assert!(settings.skip_generic_diagnostics);
        settings.update(&serde_json::json!({ "diagnostics": { "generic": "no" } }));
        assert!(settings.skip_generic_diagnostics);
        settings.update(&serde_json::json!({ "diagnostics": { "generic": true } }));
        assert!(!settings.skip_generic_diagnostics);
        assert_eq!(settings.inlay_config().binding_end_min_lines, Some(25));
        settings.update(&serde_json::json!({ "inlayHints": { "bindingEndMinLines": 5 } }));
        assert_eq!(settings.inlay_config().binding_end_min_lines, Some(5));
        settings.update(&serde_json::json!({ "inlayHints": { "bindingEndMinLines": "x" } }));
        assert_eq!(settings.inlay_config().binding_end_min_lines, Some(5));
        settings.update(&serde_json::json!({ "inlayHints": { "bindingEndMinLines": 0 } }));
        assert_eq!(settings.inlay_config().binding_end_min_lines, None);
        settings.update(&serde_json::json!({ "inlayHints": { "bindingEndMinLines": null } }));
        assert_eq!(settings.inlay_config().binding_end_min_lines, Some(25));
    }
}
