//! `unknown-platform`, and completion of system names: what nixpkgs knows
//! is read statically from the nixpkgs tree in use, from its own
//! `lib/systems`: the systems `doubles.nix` lists (`all`), and the cpu,
//! vendor, kernel and abi names `parse.nix` looks a system's parts up in
//! (`cpuTypes`, `vendors`, `kernels`, `abis`, aliases after `//`
//! included). Without those files nothing is said.
//!
//! A name is judged as nixpkgs parses it (`lib.systems.elaborate` reads
//! `config`, else `system`, as `cpu-kernel`, `cpu-kernel-abi`,
//! `cpu-vendor-kernel` or `cpu-vendor-kernel-abi`). Where nixpkgs's rules
//! are finer than these (which three-part form applies, one-part names),
//! the reading is lenient: a system nixpkgs rejects may pass, one it
//! accepts is never reported.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use micros_options::model::RootKind;
use rnix::ast;
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, Db, File, Workspace};
use crate::analysis::lower::Literal;
use crate::analysis::resolve::Code;
use crate::analysis::systems::platform::platform_name;
use crate::ide::completion::{CompletionItem, CompletionKind};
use crate::ide::diagnostics::{Diagnostic, Fix, Severity};

/// The platforms MicrOS is tested on (its getting-started guide names
/// them): offered first. Only the order comes from here; whether a name
/// is known comes from the tree.
pub const MICROS_TESTED: [&str; 4] = [
    "x86_64-linux",
    "x86_64-unknown-linux-musl",
    "aarch64-linux",
    "armv7l-linux",
];

/// Nesting followed in parse.nix's tables (`let`, parentheses, `//`).
const MAX_DEPTH: u32 = 16;

/// What a nixpkgs tree's `lib/systems` knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Platforms {
    /// `doubles.nix`'s `all`, in its order.
    pub doubles: Vec<String>,
    pub cpus: BTreeSet<String>,
    pub vendors: BTreeSet<String>,
    pub kernels: BTreeSet<String>,
    pub abis: BTreeSet<String>,
    /// Kernel names parse.nix takes by their start (`hasPrefix "darwin"
    /// args.kernel`: `darwin23`).
    pub kernel_prefixes: Vec<String>,
    /// The names parse.nix's splitting treats by hand (the string literals
    /// of `mkSkeletonFromList`: `mingw32` becomes `windows`, `elf` is an
    /// abi, ...): accepted wherever they stand.
    pub special: BTreeSet<String>,
}

/// One part of a system name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Cpu,
    Vendor,
    Kernel,
    Abi,
}

impl Part {
    fn noun(self) -> &'static str {
        match self {
            Part::Cpu => "CPU type",
            Part::Vendor => "vendor",
            Part::Kernel => "kernel",
            Part::Abi => "ABI",
        }
    }
}

/// Why a name is not a system nixpkgs knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// The part at `index` (of the `-`-separated parts) names nothing
    /// nixpkgs knows as a `part`.
    Part {
        index: usize,
        part: Part,
        name: String,
    },
    /// Not 1 to 4 parts.
    Shape(usize),
}

impl Platforms {
    fn table(&self, part: Part) -> &BTreeSet<String> {
        match part {
            Part::Cpu => &self.cpus,
            Part::Vendor => &self.vendors,
            Part::Kernel => &self.kernels,
            Part::Abi => &self.abis,
        }
    }

    fn is(&self, part: Part, name: &str) -> bool {
        if self.table(part).contains(name) || self.special.contains(name) {
            return true;
        }
        part == Part::Kernel
            && (self.kernel_prefixes.iter().any(|p| name.starts_with(p.as_str()))
                // parse.nix drops an `abi...` suffix of a kernel name
                // (`linuxabi64` is `linux`).
                || name
                    .rfind("abi")
                    .is_some_and(|at| self.kernels.contains(&name[..at])))
    }

    /// Whether nixpkgs knows the system `name` (a double, or a triple as
    /// `config` spells it); why not, if it does not.
    pub fn judge(&self, name: &str) -> Result<(), Unknown> {
        if self.doubles.iter().any(|d| d == name) {
            return Ok(());
        }
        let parts: Vec<&str> = name.split('-').collect();
        let unknown = |index: usize, part: Part| {
            Err(Unknown::Part {
                index,
                part,
                name: parts[index].to_string(),
            })
        };
        if !self.is(Part::Cpu, parts[0]) {
            return unknown(0, Part::Cpu);
        }
        match parts.len() {
            // A lone cpu is ambiguous in nixpkgs but for a few (`avr`):
            // left alone.
            1 => Ok(()),
            2 if self.is(Part::Kernel, parts[1]) || self.is(Part::Abi, parts[1]) => Ok(()),
            2 => unknown(1, Part::Kernel),
            3 => {
                let kernel_abi = self.is(Part::Kernel, parts[1]) && self.is(Part::Abi, parts[2]);
                let vendor_kernel =
                    self.is(Part::Vendor, parts[1]) && self.is(Part::Kernel, parts[2]);
                if kernel_abi || vendor_kernel {
                    Ok(())
                } else if self.is(Part::Kernel, parts[1]) {
                    unknown(2, Part::Abi)
                } else if self.is(Part::Vendor, parts[1]) {
                    unknown(2, Part::Kernel)
                } else {
                    unknown(1, Part::Kernel)
                }
            }
            4 => [Part::Vendor, Part::Kernel, Part::Abi]
                .into_iter()
                .enumerate()
                .find(|(i, part)| !self.is(*part, parts[i + 1]))
                .map_or(Ok(()), |(i, part)| unknown(i + 1, part)),
            n => Err(Unknown::Shape(n)),
        }
    }

    /// The known system closest to `name`: a listed one, else `name` with
    /// the unknown part replaced by the closest name of its kind.
    pub fn suggestion(&self, name: &str) -> Option<String> {
        let listed = MICROS_TESTED
            .iter()
            .copied()
            .filter(|m| self.judge(m).is_ok())
            .chain(self.doubles.iter().map(String::as_str));
        if let Some(close) = crate::analysis::options::closest(name, listed) {
            return Some(close.to_string());
        }
        let Err(Unknown::Part {
            index,
            part,
            name: wrong,
        }) = self.judge(name)
        else {
            return None;
        };
        let replacement =
            crate::analysis::options::closest(&wrong, self.table(part).iter().map(String::as_str))?;
        let mut parts: Vec<&str> = name.split('-').collect();
        parts[index] = replacement;
        let fixed = parts.join("-");
        self.judge(&fixed).is_ok().then_some(fixed)
    }

    /// System names to offer: MicrOS's tested ones first, then the rest
    /// `doubles.nix` lists, sorted.
    pub fn offered(&self) -> Vec<(&str, bool)> {
        let mut out: Vec<(&str, bool)> = MICROS_TESTED
            .iter()
            .copied()
            .filter(|m| self.judge(m).is_ok())
            .map(|m| (m, true))
            .collect();
        let mut rest: Vec<&str> = self
            .doubles
            .iter()
            .map(String::as_str)
            .filter(|d| !MICROS_TESTED.contains(d))
            .collect();
        rest.sort_unstable();
        rest.dedup();
        out.extend(rest.into_iter().map(|d| (d, false)));
        out
    }
}

/// What the workspace's nixpkgs tree knows of systems; `None` when it has
/// no (readable) `lib/systems`.
#[salsa::tracked(returns(ref))]
pub fn platforms(db: &dyn Db, workspace: Workspace) -> Option<Arc<Platforms>> {
    read_platforms(workspace.options(db).root(RootKind::Nixpkgs)?).map(Arc::new)
}

pub fn read_platforms(nixpkgs: &Path) -> Option<Platforms> {
    let systems = nixpkgs.join("lib/systems");
    let doubles = super::packages::parse_file(&systems.join("doubles.nix"))?;
    let parse = super::packages::parse_file(&systems.join("parse.nix"))?;
    let mut out = Platforms {
        doubles: binding(&doubles, "all")
            .and_then(|all| string_list(&all))
            .unwrap_or_default(),
        ..Platforms::default()
    };
    for (name, table) in [
        ("cpuTypes", &mut out.cpus),
        ("vendors", &mut out.vendors),
        ("kernels", &mut out.kernels),
        ("abis", &mut out.abis),
    ] {
        if let Some(value) = binding(&parse, name) {
            table_names(&value, table, 0);
        }
    }
    // Without every table, a name could be judged against half a parser.
    if out.cpus.is_empty()
        || out.vendors.is_empty()
        || out.kernels.is_empty()
        || out.abis.is_empty()
    {
        return None;
    }
    out.kernel_prefixes = kernel_prefixes(&parse);
    if let Some(skeleton) = binding(&parse, "mkSkeletonFromList") {
        for string in skeleton.syntax().descendants().filter_map(ast::Str::cast) {
            if let Literal::Str(s) = crate::analysis::lower::string_literal(&string) {
                out.special.insert(s);
            }
        }
    }
    Some(out)
}

/// The value of the first binding `name = ...;` in the file (a `let` or a
/// set, at any depth).
fn binding(root: &SyntaxNode, name: &str) -> Option<ast::Expr> {
    root.descendants()
        .filter_map(ast::AttrpathValue::cast)
        .find(|entry| {
            let mut attrs = entry.attrpath().into_iter().flat_map(|p| p.attrs());
            attrs
                .next()
                .and_then(|a| crate::analysis::lower::attr_text(&a))
                .is_some_and(|n| n == name)
                && attrs.next().is_none()
        })
        .and_then(|entry| entry.value())
}

fn string_list(expr: &ast::Expr) -> Option<Vec<String>> {
    let ast::Expr::List(list) = expr else {
        return None;
    };
    Some(
        list.items()
            .filter_map(|item| match item {
                ast::Expr::Str(s) => match crate::analysis::lower::string_literal(&s) {
                    Literal::Str(s) => Some(s),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
    )
}

/// The names of a table: the set given to `setTypes` (the last argument
/// of a call), through `let` and parentheses, and the aliases `//` adds.
fn table_names(expr: &ast::Expr, names: &mut BTreeSet<String>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    match expr {
        ast::Expr::AttrSet(set) => super::packages::entry_names(set, names),
        ast::Expr::LetIn(let_in) => {
            if let Some(body) = let_in.body() {
                table_names(&body, names, depth + 1);
            }
        }
        ast::Expr::Paren(paren) => {
            if let Some(inner) = paren.expr() {
                table_names(&inner, names, depth + 1);
            }
        }
        ast::Expr::BinOp(op) if op.operator() == Some(ast::BinOpKind::Update) => {
            for side in [op.lhs(), op.rhs()].into_iter().flatten() {
                table_names(&side, names, depth + 1);
            }
        }
        ast::Expr::Apply(apply) => {
            if let Some(argument) = apply.argument() {
                table_names(&argument, names, depth + 1);
            }
        }
        _ => {}
    }
}

/// `hasPrefix "<prefix>" <...>.kernel` anywhere in parse.nix.
fn kernel_prefixes(root: &SyntaxNode) -> Vec<String> {
    let mut out = Vec::new();
    for apply in root.descendants().filter_map(ast::Apply::cast) {
        let Some(ast::Expr::Apply(inner)) = apply.lambda() else {
            continue;
        };
        let names_has_prefix = inner
            .lambda()
            .is_some_and(|f| f.syntax().text().to_string().ends_with("hasPrefix"));
        let on_kernel = apply
            .argument()
            .is_some_and(|a| a.syntax().text().to_string().ends_with("kernel"));
        if let (true, true, Some(ast::Expr::Str(prefix))) =
            (names_has_prefix, on_kernel, inner.argument())
            && let Literal::Str(prefix) = crate::analysis::lower::string_literal(&prefix)
            && !prefix.is_empty()
            && !out.contains(&prefix)
        {
            out.push(prefix);
        }
    }
    out
}

/// The platform options a module sets, with the attribute that names them
/// in messages.
const OPTIONS: [&str; 2] = ["hostPlatform", "buildPlatform"];

/// `nixpkgs.hostPlatform`/`buildPlatform` (a string, or a set's `config`,
/// else its `system`) naming a system nixpkgs does not know.
pub fn diagnostics(db: &dyn Db, file: File) -> Vec<Diagnostic> {
    let Some(known) = platforms(db, db.workspace()).as_ref() else {
        return Vec::new();
    };
    let module = db::module(db, file);
    let map = db::source_map(db, file);
    let mut out = Vec::new();
    for option in OPTIONS {
        for (_, value) in
            crate::analysis::lower::values_at(module, &[Some("nixpkgs"), Some(option)])
        {
            let Some((node, field, name)) = platform_name(module, value) else {
                continue;
            };
            let Err(why) = known.judge(&name) else {
                continue;
            };
            let shown = match field {
                Some(field) => format!("nixpkgs.{option}.{field}"),
                None => format!("nixpkgs.{option}"),
            };
            let reason = match &why {
                Unknown::Part {
                    part, name: wrong, ..
                } => {
                    let noun = part.noun();
                    format!(
                        "`{wrong}` is no {noun} its lib/systems knows (Nix stops with \"Unknown {noun}: {wrong}\")"
                    )
                }
                Unknown::Shape(n) => format!(
                    "it has {n} parts, and nixpkgs reads cpu-kernel, cpu-kernel-abi, cpu-vendor-kernel or cpu-vendor-kernel-abi"
                ),
            };
            let suggestion = known.suggestion(&name);
            let range = map.node(node);
            out.push(Diagnostic {
                range,
                severity: Severity::Error,
                code: Code::UnknownPlatform,
                message: format!(
                    "`{shown}` is \"{name}\", a system nixpkgs does not know: {reason}"
                ),
                help: Some(match &suggestion {
                    Some(s) => format!("did you mean \"{s}\"? MicrOS is tested on {}", tested()),
                    None => format!(
                        "nixpkgs's lib/systems/doubles.nix lists the systems it knows; MicrOS is tested on {}",
                        tested()
                    ),
                }),
                fix: suggestion.map(|s| Fix {
                    title: format!("Replace with \"{s}\""),
                    range,
                    replacement: format!("\"{s}\""),
                }),
                related: Vec::new(),
            });
        }
    }
    out
}

fn tested() -> String {
    MICROS_TESTED
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Completion of a system name in the string after `system = `,
/// `hostPlatform = ` or `buildPlatform = `: MicrOS's tested platforms
/// first, then the rest nixpkgs lists. `None` elsewhere, or without the
/// tree's lib/systems.
pub fn completion(db: &dyn Db, file: File, offset: TextSize) -> Option<Vec<CompletionItem>> {
    let root = db::parse(db, file).root();
    let token = crate::ide::token_at_offset(root.syntax(), offset).left_biased()?;
    if token.kind() == SyntaxKind::TOKEN_COMMENT {
        return None;
    }
    let string = token.parent_ancestors().find_map(ast::Str::cast)?;
    let range = string.syntax().text_range();
    if offset <= range.start() {
        return None;
    }
    let text = string.syntax().text().to_string();
    let closed = text.len() >= 2 && text.ends_with('"');
    if closed && offset >= range.end() {
        return None;
    }
    let entry = ast::AttrpathValue::cast(string.syntax().parent()?)?;
    let key = entry
        .attrpath()?
        .attrs()
        .last()
        .and_then(|a| crate::analysis::lower::attr_text(&a))?;
    if key != "system" && !OPTIONS.contains(&key.as_str()) {
        return None;
    }
    let known = platforms(db, db.workspace()).as_ref()?;
    // An unclosed string runs to the end of the file: replace only what is
    // typed.
    let range = if closed {
        range
    } else {
        TextRange::new(range.start(), offset)
    };
    Some(
        known
            .offered()
            .into_iter()
            .enumerate()
            .map(|(order, (name, tested))| CompletionItem {
                label: format!("\"{name}\""),
                kind: CompletionKind::Value,
                detail: Some(if tested {
                    "system (MicrOS is tested on it)".into()
                } else {
                    "system (nixpkgs)".into()
                }),
                documentation: None,
                range,
                insert: format!("\"{name}\""),
                order: Some(order as u32),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::ide::fixture::{Fixture, fixture, fixture_nixpkgs, with_nixpkgs};

    fn upstream_nixpkgs() -> Option<PathBuf> {
        let dir = std::env::var_os("MICROS_NIXPKGS").filter(|v| !v.is_empty())?;
        Some(PathBuf::from(dir))
    }

    fn findings(f: &Fixture) -> Vec<String> {
        let text = f.file().text(f.host.db()).clone();
        f.host
            .snapshot()
            .diagnostics(f.file())
            .unwrap()
            .into_iter()
            .filter(|d| d.code == Code::UnknownPlatform)
            .map(|d| {
                format!(
                    "{} {} [{}] fix={:?}",
                    &text[std::ops::Range::<usize>::from(d.range)],
                    d.message,
                    d.help.unwrap_or_default(),
                    d.fix.map(|f| f.replacement)
                )
            })
            .collect()
    }

    /// The four platforms MicrOS is tested on, and the musl triple given
    /// as `.config`, in every form: nothing.
    fn accepts_the_four(nixpkgs: &Path) {
        let known = read_platforms(nixpkgs).expect("lib/systems read");
        for system in MICROS_TESTED {
            assert_eq!(known.judge(system), Ok(()), "{system}");
        }
        let text = r#"{ lib, ... }: {
  nixpkgs.hostPlatform = "x86_64-linux";
  nixpkgs.buildPlatform = { config = "x86_64-unknown-linux-musl"; };
}"#;
        assert_eq!(findings(&with_nixpkgs(text, nixpkgs)), Vec::<String>::new());
        for variant in [
            "{ nixpkgs.hostPlatform.system = \"aarch64-linux\"; }",
            "{ nixpkgs.hostPlatform = { config = \"x86_64-unknown-linux-musl\"; }; }",
            "{ lib, ... }: { nixpkgs.hostPlatform = lib.mkDefault { system = \"armv7l-linux\"; }; }",
            "{ nixpkgs.hostPlatform.system = \"x86_64-unknown-linux-musl\"; }",
        ] {
            assert_eq!(
                findings(&with_nixpkgs(variant, nixpkgs)),
                Vec::<String>::new(),
                "{variant}"
            );
        }
    }

    fn reports_the_typo(nixpkgs: &Path) {
        let f = with_nixpkgs(
            "{ nixpkgs.hostPlatform = { system = \"x86_64-linx\"; }; }",
            nixpkgs,
        );
        let found = findings(&f);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("\"x86_64-linx\" `nixpkgs.hostPlatform.system` is \"x86_64-linx\", a system nixpkgs does not know: `linx` is no kernel its lib/systems knows (Nix stops with \"Unknown kernel: linx\")"),
            "{found:?}"
        );
        assert!(
            found[0].contains("[did you mean \"x86_64-linux\"?"),
            "{found:?}"
        );
        assert!(
            found[0].ends_with("fix=Some(\"\\\"x86_64-linux\\\"\")"),
            "{found:?}"
        );
    }

    #[test]
    fn the_four_platforms_are_known_in_the_fixture_tree() {
        accepts_the_four(&fixture_nixpkgs());
    }

    #[test]
    fn a_misspelt_kernel_is_reported_with_did_you_mean_in_the_fixture_tree() {
        reports_the_typo(&fixture_nixpkgs());
    }

    #[test]
    fn against_the_real_lib_systems() {
        let Some(nixpkgs) = upstream_nixpkgs() else {
            eprintln!("skipped: set MICROS_NIXPKGS to judge against the real lib/systems");
            return;
        };
        accepts_the_four(&nixpkgs);
        reports_the_typo(&nixpkgs);
        let known = read_platforms(&nixpkgs).unwrap();
        // Names nixpkgs takes apart by hand or by prefix, and aliases.
        for system in [
            "aarch64-apple-darwin23",
            "x86_64-w64-mingw32",
            "aarch64-none-elf",
            "arm64-apple-darwin",
            "x86_64-darwin",
            "riscv64-unknown-linux-gnu",
            "armv7l-unknown-linux-gnueabihf",
            "x86_64-linux-musl",
        ] {
            assert_eq!(known.judge(system), Ok(()), "{system}");
        }
        // Every double it lists is known, of course, and so is every
        // double spelt as cpu-kernel from its tables.
        for double in &known.doubles {
            assert_eq!(known.judge(double), Ok(()), "{double}");
        }
        assert!(known.doubles.len() > 50, "{}", known.doubles.len());
    }

    #[test]
    fn each_part_is_judged_and_mended() {
        let known = read_platforms(&fixture_nixpkgs()).unwrap();
        let part = |index, part, name: &str| {
            Err(Unknown::Part {
                index,
                part,
                name: name.into(),
            })
        };
        assert_eq!(known.judge("x86_65-linux"), part(0, Part::Cpu, "x86_65"));
        assert_eq!(
            known.judge("x86_64-unknown-linux-musk"),
            part(3, Part::Abi, "musk")
        );
        assert_eq!(
            known.judge("x86_64-unknwn-linux-musl"),
            part(1, Part::Vendor, "unknwn")
        );
        assert_eq!(known.judge("x86_64-linux-musk"), part(2, Part::Abi, "musk"));
        assert_eq!(known.judge("a-b-c-d-e"), part(0, Part::Cpu, "a"));
        assert_eq!(known.judge("x86_64-a-b-c-d"), Err(Unknown::Shape(5)));
        // Aliases after `//`, kernels by prefix, an abi suffix.
        for system in [
            "arm64-darwin",
            "aarch64-apple-darwin23",
            "x86_64-unknown-netbsd9",
            "x86_64-linuxabi64",
            "x86_64-linux-musl",
            "x86_64",
        ] {
            assert_eq!(known.judge(system), Ok(()), "{system}");
        }
        assert_eq!(
            known.suggestion("x86_64-unknown-linux-musk").as_deref(),
            Some("x86_64-unknown-linux-musl")
        );
        assert_eq!(
            known.suggestion("aarch46-linux").as_deref(),
            Some("aarch64-linux")
        );
        assert_eq!(known.suggestion("zzzz-qqqq-wwww"), None);
    }

    #[test]
    fn nothing_is_said_without_lib_systems() {
        let dir = std::env::temp_dir().join(format!("micros-no-systems-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("nixos/modules")).unwrap();
        let f = with_nixpkgs("{ nixpkgs.hostPlatform = \"x86_64-linx\"; }", &dir);
        assert_eq!(findings(&f), Vec::<String>::new());
        // Half a parser is no parser.
        std::fs::create_dir_all(dir.join("lib/systems")).unwrap();
        std::fs::write(
            dir.join("lib/systems/doubles.nix"),
            "{ all = [ \"x86_64-linux\" ]; }",
        )
        .unwrap();
        std::fs::write(
            dir.join("lib/systems/parse.nix"),
            "{ cpuTypes = { x86_64 = { }; }; }",
        )
        .unwrap();
        assert_eq!(read_platforms(&dir), None);
        let f = with_nixpkgs("{ nixpkgs.hostPlatform = \"x86_64-linx\"; }", &dir);
        assert_eq!(findings(&f), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&dir);
        // Nor without a nixpkgs tree at all.
        let f = fixture("{ nixpkgs.hostPlatform = \"x86_64-linx\"; }");
        assert_eq!(findings(&f), Vec::<String>::new());
    }

    #[test]
    fn values_that_are_not_literals_are_left_alone() {
        let text = r#"{ lib, config, ... }: {
  nixpkgs.hostPlatform = lib.systems.examples.musl64;
  nixpkgs.buildPlatform = config.nixpkgs.hostPlatform;
  users.x86_64-linx.uid = 1;
}"#;
        assert_eq!(
            findings(&with_nixpkgs(text, &fixture_nixpkgs())),
            Vec::<String>::new()
        );
    }

    #[test]
    fn build_platform_and_config_are_judged_too() {
        let text = r#"{
  nixpkgs.buildPlatform = "aarch64-lnux";
  nixpkgs.hostPlatform = { config = "x86_64-unknown-linux-musk"; system = "x86_64-linux"; };
}"#;
        let found = findings(&with_nixpkgs(text, &fixture_nixpkgs()));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("\"aarch64-lnux\" `nixpkgs.buildPlatform` is"),
            "{found:?}"
        );
        assert!(
            found[0].contains("did you mean \"aarch64-linux\"?"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("\"x86_64-unknown-linux-musk\" `nixpkgs.hostPlatform.config` is \"x86_64-unknown-linux-musk\", a system nixpkgs does not know: `musk` is no ABI its lib/systems knows (Nix stops with \"Unknown ABI: musk\")"),
            "{found:?}"
        );
        assert!(
            found[1].contains("did you mean \"x86_64-unknown-linux-musl\"?"),
            "{found:?}"
        );
    }

    fn offered(text: &str) -> Vec<String> {
        let f = with_nixpkgs(text, &fixture_nixpkgs());
        let (file, offset) = f.cursor();
        f.host
            .snapshot()
            .completion(file, offset)
            .unwrap()
            .into_iter()
            .map(|i| i.insert)
            .collect()
    }

    #[test]
    fn completion_offers_micros_platforms_first() {
        let expected = [
            "\"x86_64-linux\"",
            "\"x86_64-unknown-linux-musl\"",
            "\"aarch64-linux\"",
            "\"armv7l-linux\"",
            "\"aarch64-darwin\"",
            "\"i686-linux\"",
            "\"riscv64-linux\"",
            "\"x86_64-darwin\"",
            "\"x86_64-none\"",
        ];
        for text in [
            "{ nixpkgs.hostPlatform = { system = \"$0\"; }; }",
            "{ nixpkgs.hostPlatform.system = \"x86$0\"; }",
            "{ nixpkgs.hostPlatform = \"$0\"; }",
            "{ nixpkgs.buildPlatform = \"$0",
            "let system = \"$0\"; in { }",
        ] {
            assert_eq!(offered(text), expected, "{text}");
        }
        // Not in other strings, nor before the string.
        let other = offered("{ services.getty.terminal = \"$0\"; }");
        assert!(!other.iter().any(|i| i.contains("linux")), "{other:?}");
        let before = offered("{ nixpkgs.hostPlatform.system = $0\"x\"; }");
        assert!(!before.iter().any(|i| i.contains("linux")), "{before:?}");
        // The unclosed string's range ends at the cursor.
        let f = with_nixpkgs("{ nixpkgs.buildPlatform = \"x8$0\n}", &fixture_nixpkgs());
        let (file, offset) = f.cursor();
        let items = f.host.snapshot().completion(file, offset).unwrap();
        assert_eq!(items[0].range.end(), offset);
        assert_eq!(items[0].order, Some(0));
    }
}
