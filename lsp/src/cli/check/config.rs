//! Per-project settings (`micros.toml` at the flake root) and the policy
//! that decides, per code, whether a finding is dropped, kept, or made an
//! error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;

use crate::analysis::resolve::Code;
use crate::ide::Severity;

/// The settings file's name, looked up at the flake root.
pub const FILE_NAME: &str = "micros.toml";

/// Every code the analysis reports. `description` matches on `Code`
/// exhaustively, so a new code fails to compile there until it is added
/// here too.
pub const CODES: [Code; 31] = [
    Code::SyntaxError,
    Code::UnknownOption,
    Code::TypeMismatch,
    Code::DuplicateDefinition,
    Code::RemovedOption,
    Code::RenamedOption,
    Code::ReadOnlyOption,
    Code::UndefinedVariable,
    Code::UnusedBinding,
    Code::MissingSources,
    Code::FlakeNotUnderstood,
    Code::UnusedWith,
    Code::NeedlessRec,
    Code::EmptyLet,
    Code::EmptyInherit,
    Code::DuplicateFormal,
    Code::UriLiteral,
    Code::InfiniteRecursion,
    Code::ImportCycle,
    Code::MissingImport,
    Code::ConflictingDefinitions,
    Code::MissingModuleArgument,
    Code::AssertionFailed,
    Code::ModuleWarning,
    Code::UnknownService,
    Code::PlaintextPassword,
    Code::UntrackedFile,
    Code::UnknownPackage,
    Code::UnknownPlatform,
    Code::ContainerHardware,
    Code::ContainerOutput,
];

/// One sentence per code (SARIF rules, `--help` of codes).
pub fn description(code: Code) -> &'static str {
    match code {
        Code::SyntaxError => "The file is not valid Nix.",
        Code::UnknownOption => "A definition names an option that no module declares.",
        Code::TypeMismatch => "A definition's value does not fit the option's type.",
        Code::DuplicateDefinition => "An attribute is defined more than once.",
        Code::RemovedOption => "A definition names an option that was removed.",
        Code::RenamedOption => "A definition names an option under its old name.",
        Code::ReadOnlyOption => "A definition sets a read-only option.",
        Code::UndefinedVariable => "A variable is not bound anywhere in scope.",
        Code::UnusedBinding => "A `let` binding is never used.",
        Code::MissingSources => {
            "The micros or nixpkgs sources could not be found, so options were not checked."
        }
        Code::FlakeNotUnderstood => {
            "Part of flake.nix could not be read statically, so its systems are not all known."
        }
        Code::UnusedWith => "A `with` gives its body no name.",
        Code::NeedlessRec => "A `rec` set uses none of its own names.",
        Code::EmptyLet => "A `let` binds nothing.",
        Code::EmptyInherit => "An `inherit` names nothing.",
        Code::DuplicateFormal => "A function names the same argument twice.",
        Code::UriLiteral => "An unquoted URL, deprecated in Nix.",
        Code::UnknownPackage => "`pkgs.<name>` names no package of the (full) nixpkgs tree.",
        Code::InfiniteRecursion => "A value or type is defined in terms of itself.",
        Code::ImportCycle => "A module imports itself, directly or through others.",
        Code::MissingImport => "A module imports a file that does not exist.",
        Code::ConflictingDefinitions => {
            "Two modules of one system define an option with values the module system cannot merge."
        }
        Code::MissingModuleArgument => {
            "A module takes an argument that nothing in its system provides."
        }
        Code::AssertionFailed => "An assertion of micros's modules fails for this system.",
        Code::ModuleWarning => "A module of micros warns about this system.",
        Code::UnknownService => "A service depends on a service that its system does not define.",
        Code::PlaintextPassword => {
            "A user's password is written in plain text instead of as a crypt(3) hash."
        }
        Code::UntrackedFile => {
            "A file the flake uses is not tracked by git, so Nix does not see it."
        }
        Code::UnknownPlatform => {
            "`nixpkgs.hostPlatform` or `nixpkgs.buildPlatform` names a system the nixpkgs tree's lib/systems does not know."
        }
        Code::ContainerHardware => {
            "A container system (`boot.isContainer = true`) includes a module that sets hardware options, which are the container runtime's job."
        }
        Code::ContainerOutput => {
            "A system builds the OCI image without `boot.isContainer = true`, or the ISO image with it."
        }
    }
}

/// `warnings` stands for every code whose findings are warnings.
pub const WARNINGS: &str = "warnings";

fn known(code: &str) -> bool {
    code == WARNINGS || CODES.iter().any(|c| c.as_str() == code)
}

fn known_list() -> String {
    let mut names: Vec<&str> = CODES.iter().map(|c| c.as_str()).collect();
    names.push(WARNINGS);
    names.join(", ")
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SettingsFile {
    // Other top-level tables belong to other `micros` commands.
    sources: SourcesTable,
    check: CheckTable,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct SourcesTable {
    micros: Option<PathBuf>,
    nixpkgs: Option<PathBuf>,
    options: Option<PathBuf>,
    eval: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CheckTable {
    allow: Vec<String>,
    deny: Vec<String>,
    ignore: Vec<String>,
}

/// Where the option set comes from; relative paths are already resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub micros: Option<PathBuf>,
    pub nixpkgs: Option<PathBuf>,
    pub options: Option<PathBuf>,
    /// Evaluate the options with Nix (opt-in: it runs the flake's code).
    pub eval: bool,
}

impl Sources {
    /// The trees given on the command line, made absolute against `cwd`.
    pub fn given(args: &crate::cli::SourceArgs, cwd: &Path) -> Sources {
        let absolute = |p: &Option<PathBuf>| {
            p.as_deref()
                .map(|p| micros_options::eval::normalize(&cwd.join(p)))
        };
        Sources {
            micros: absolute(&args.micros),
            nixpkgs: absolute(&args.nixpkgs),
            options: None,
            eval: false,
        }
    }

    /// `self` where it says something, else `fallback`.
    pub fn or(self, fallback: Sources) -> Sources {
        Sources {
            micros: self.micros.or(fallback.micros),
            nixpkgs: self.nixpkgs.or(fallback.nixpkgs),
            options: self.options.or(fallback.options),
            eval: self.eval || fallback.eval,
        }
    }
}

/// `micros.toml`, read and checked.
#[derive(Debug)]
pub struct Project {
    pub path: PathBuf,
    pub sources: Sources,
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    /// `ignore` patterns, gitignore syntax, relative to the file.
    pub ignore: Gitignore,
}

impl Project {
    /// Settings of a directory without `micros.toml`.
    pub fn empty(root: &Path) -> Project {
        Project {
            path: root.join(FILE_NAME),
            sources: Sources::default(),
            allow: Vec::new(),
            deny: Vec::new(),
            ignore: Gitignore::empty(),
        }
    }

    /// Whether `path` (absolute) is excluded by the `ignore` patterns.
    pub fn ignores(&self, path: &Path, is_dir: bool) -> bool {
        path.starts_with(self.ignore.path())
            && self
                .ignore
                .matched_path_or_any_parents(path, is_dir)
                .is_ignore()
    }
}

/// Read `root/micros.toml` when it exists.
pub fn load(root: &Path) -> Result<Project, String> {
    let path = root.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Project::empty(root)),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    parse(&path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Project, String> {
    let file: SettingsFile = toml::from_str(text)
        .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim_end()))?;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let resolve = |p: Option<PathBuf>| p.map(|p| micros_options::eval::normalize(&dir.join(p)));
    for code in file.check.allow.iter().chain(&file.check.deny) {
        if !known(code) {
            return Err(format!(
                "{}: [check]: unknown code `{code}` (known: {})",
                path.display(),
                known_list()
            ));
        }
    }
    let mut builder = GitignoreBuilder::new(dir);
    for pattern in &file.check.ignore {
        builder
            .add_line(Some(path.to_path_buf()), pattern)
            .map_err(|e| format!("{}: [check] ignore: {e}", path.display()))?;
    }
    let ignore = builder
        .build()
        .map_err(|e| format!("{}: [check] ignore: {e}", path.display()))?;
    Ok(Project {
        path: path.to_path_buf(),
        sources: Sources {
            micros: resolve(file.sources.micros),
            nixpkgs: resolve(file.sources.nixpkgs),
            options: resolve(file.sources.options),
            eval: file.sources.eval,
        },
        allow: file.check.allow,
        deny: file.check.deny,
        ignore,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Allow,
    Deny,
}

/// What to do with each code: the command line first, then `micros.toml`;
/// within each, a named code before `warnings`. So `--allow warnings`
/// overrides a `deny` in the file, and `--deny warnings --allow CODE`
/// allows CODE.
#[derive(Debug, Default)]
pub struct Policy {
    layers: [HashMap<String, Level>; 2],
}

impl Policy {
    pub fn new(
        cli_allow: &[String],
        cli_deny: &[String],
        file_allow: &[String],
        file_deny: &[String],
    ) -> Result<Policy, String> {
        let layer = |allow: &[String], deny: &[String], place: &str| {
            let mut map = HashMap::new();
            for code in allow.iter().chain(deny) {
                if !known(code) {
                    return Err(format!("unknown code `{code}` (known: {})", known_list()));
                }
            }
            for code in allow {
                map.insert(code.clone(), Level::Allow);
            }
            for code in deny {
                if map.insert(code.clone(), Level::Deny) == Some(Level::Allow) {
                    return Err(format!("`{code}` is both allowed and denied {place}"));
                }
            }
            Ok(map)
        };
        Ok(Policy {
            layers: [
                layer(cli_allow, cli_deny, "on the command line")?,
                layer(file_allow, file_deny, "in micros.toml")?,
            ],
        })
    }

    /// The severity a finding is reported with, or `None` when it is
    /// allowed.
    pub fn apply(&self, code: &str, severity: Severity) -> Option<Severity> {
        let decide = |level: Level| match level {
            Level::Allow => None,
            Level::Deny => Some(Severity::Error),
        };
        for layer in &self.layers {
            let level = layer.get(code).or_else(|| {
                (severity == Severity::Warning)
                    .then(|| layer.get(WARNINGS))
                    .flatten()
            });
            if let Some(level) = level {
                return decide(*level);
            }
        }
        Some(severity)
    }
}

/// The codes `# micros-check: allow(a, b)` names, if `line` is such a
/// comment.
pub fn suppressed_codes(line: &str) -> Option<impl Iterator<Item = &str>> {
    let rest = line
        .trim_start()
        .strip_prefix('#')?
        .trim_start()
        .strip_prefix("micros-check:")?
        .trim_start()
        .strip_prefix("allow")?
        .trim_start()
        .strip_prefix('(')?;
    let (inside, _) = rest.split_once(')')?;
    Some(inside.split(',').map(str::trim).filter(|c| !c.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_beats_the_file_and_codes_beat_warnings() {
        let policy = Policy::new(
            &strings(&["unused-binding"]),
            &strings(&["warnings"]),
            &strings(&["unknown-option"]),
            &strings(&["unused-binding", "renamed-option"]),
        )
        .unwrap();
        assert_eq!(policy.apply("unused-binding", Severity::Warning), None);
        assert_eq!(
            policy.apply("renamed-option", Severity::Warning),
            Some(Severity::Error)
        );
        assert_eq!(policy.apply("unknown-option", Severity::Error), None);
        assert_eq!(
            policy.apply("missing-sources", Severity::Warning),
            Some(Severity::Error)
        );
        assert_eq!(
            policy.apply("type-mismatch", Severity::Error),
            Some(Severity::Error)
        );
    }

    #[test]
    fn policy_rejects_unknown_and_contradictory_codes() {
        let unknown = Policy::new(&strings(&["unknown-opton"]), &[], &[], &[]).unwrap_err();
        assert!(unknown.starts_with("unknown code `unknown-opton` (known: syntax-error,"));
        let both = Policy::new(&[], &[], &strings(&["a-b"]), &[]).unwrap_err();
        assert!(both.contains("`a-b`"), "{both}");
        let both = Policy::new(
            &strings(&["unused-binding"]),
            &strings(&["unused-binding"]),
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(
            both,
            "`unused-binding` is both allowed and denied on the command line"
        );
    }

    #[test]
    fn suppression_comments() {
        let codes = |line| suppressed_codes(line).map(|c| c.collect::<Vec<_>>());
        assert_eq!(
            codes("  # micros-check: allow(unknown-option)"),
            Some(vec!["unknown-option"])
        );
        assert_eq!(
            codes("#micros-check:allow( a ,b, )  trailing words"),
            Some(vec!["a", "b"])
        );
        assert_eq!(codes("# micros-check: deny(a)"), None);
        assert_eq!(codes("x = 1; # micros-check: allow(a)"), None);
        assert_eq!(codes("# micros-check: allow(a"), None);
    }

    #[test]
    fn settings_file_resolves_paths_and_rejects_mistakes() {
        let path = Path::new("/project/micros.toml");
        let project = parse(
            path,
            "[sources]\nmicros = \"../micros\"\noptions = \"/abs/options.json\"\n[check]\nallow = [\"unused-binding\"]\nignore = [\"legacy/\", \"*.gen.nix\"]\n[build]\nanything = 1\n",
        )
        .unwrap();
        assert_eq!(project.sources.micros, Some(PathBuf::from("/micros")));
        assert_eq!(
            project.sources.options,
            Some(PathBuf::from("/abs/options.json"))
        );
        assert_eq!(project.allow, ["unused-binding"]);
        assert!(project.ignores(Path::new("/project/legacy/a.nix"), false));
        assert!(project.ignores(Path::new("/project/x/y.gen.nix"), false));
        assert!(!project.ignores(Path::new("/project/configuration.nix"), false));
        assert!(!project.ignores(Path::new("/elsewhere/legacy/a.nix"), false));

        let typo = parse(path, "[check]\nalow = []\n").unwrap_err();
        assert!(typo.starts_with("/project/micros.toml: "), "{typo}");
        assert!(typo.contains("line 2"), "{typo}");
        assert!(typo.contains("alow"), "{typo}");
        let code = parse(path, "[check]\ndeny = [\"nope\"]\n").unwrap_err();
        assert!(code.contains("unknown code `nope`"), "{code}");
        let broken = parse(path, "[check\n").unwrap_err();
        assert!(broken.contains("line 1"), "{broken}");
    }
}
