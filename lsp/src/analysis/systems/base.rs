//! micros's own modules, as every system has them: what they define (with
//! their own priorities and conditions), their assertions and warnings,
//! and the module arguments micros passes, all read statically from the
//! micros source tree when the option set is loaded.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use micros_options::ReadFile;
use rnix::ast::{self, HasEntry};
use rowan::ast::AstNode;

use super::definitions::{Collected, collect};
use crate::analysis::lower::{SourceMap, attr_text};
use crate::analysis::options::OptionIndex;

/// Arguments the module system itself gives every module
/// (`lib/modules.nix`), and `pkgs`, which the nixpkgs module sets.
pub const MODULE_SYSTEM_ARGS: &[&str] = &[
    "config",
    "options",
    "lib",
    "pkgs",
    "extendModules",
    "moduleType",
    "specialArgs",
    "_class",
    "_prefix",
];

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BaseModules {
    pub modules: Vec<BaseModule>,
    /// The arguments micros's own code provides to every module (the
    /// `specialArgs` and `_module.args` of `lib/default.nix` and
    /// `micros/lib/eval-config.nix`, and the `_module.args` its modules
    /// define), besides the module system's. `None` when the micros
    /// sources were not read: then no argument is judged missing.
    pub module_args: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BaseModule {
    pub path: PathBuf,
    /// The path as shown (`micros/modules/networking/firewall.nix`).
    pub shown: String,
    pub text: Arc<str>,
    pub map: SourceMap,
    pub collected: Collected,
}

/// The option index of an extraction from the micros sources (and the
/// nixpkgs modules micros imports), with micros's own modules read.
pub fn static_index(
    extraction: micros_options::Extraction,
    micros: &Path,
    nixpkgs: Option<&Path>,
) -> OptionIndex {
    use micros_options::model::RootKind;
    let files = extraction.files;
    let mut index = OptionIndex::new(Arc::new(extraction.options), nixpkgs.is_some());
    index.roots.push((RootKind::Micros, micros.to_path_buf()));
    if let Some(nixpkgs) = nixpkgs {
        index.roots.push((RootKind::Nixpkgs, nixpkgs.to_path_buf()));
    }
    // The texts and trees the extraction read: reading and parsing them
    // again was 57 M of the 150 M instructions before the server's first
    // diagnostics that know the options.
    index.base = Arc::new(read(&index, micros, &files));
    index
}

/// The files micros passes its arguments from, relative to its root.
const ARGUMENT_FILES: &[&str] = &["lib/default.nix", "micros/lib/eval-config.nix"];

/// Read micros's modules (`modules`: every file the extraction read,
/// with its text) against `index`; `micros` is the source tree's root,
/// for the argument files and the shown paths.
pub fn read(index: &OptionIndex, micros: &Path, modules: &[ReadFile]) -> BaseModules {
    let mut base = BaseModules::default();
    let mut args: Option<Vec<String>> = None;
    for ReadFile { path, text, tree } in modules {
        let relative = path.strip_prefix(micros).ok();
        if relative.is_some_and(|r| ARGUMENT_FILES.iter().any(|a| r == Path::new(a))) {
            continue;
        }
        let green = match tree {
            Some(tree) => tree.clone(),
            None => micros_options::syntax::parse(text).0,
        };
        let root = ast::Root::cast(rnix::SyntaxNode::new_root(green));
        let Some(root) = root else { continue };
        let (module, map) = crate::analysis::lower::lower(&root);
        if !module
            .shape
            .looks_like_module(|name| index.is_root_name(name))
        {
            continue;
        }
        let resolution = crate::analysis::resolve::resolve(&module, index);
        let collected = collect(&module, &resolution, module.config);
        let shown = match relative {
            Some(r) => r.display().to_string(),
            None => path.display().to_string(),
        };
        base.modules.push(BaseModule {
            path: path.clone(),
            shown,
            text: Arc::from(text.as_str()),
            map,
            collected,
        });
    }
    for file in ARGUMENT_FILES {
        let path = micros.join(file);
        let text = modules
            .iter()
            .find(|m| m.path == path)
            .map(|m| m.text.clone())
            .or_else(|| std::fs::read_to_string(&path).ok());
        if let Some(text) = text {
            args.get_or_insert_with(Vec::new)
                .extend(passed_arguments(&text));
        }
    }
    // Without the argument files this is not a micros tree we can read.
    if let Some(mut names) = args {
        for module in &base.modules {
            names.extend(module.collected.module_args.iter().cloned());
        }
        names.sort();
        names.dedup();
        base.module_args = Some(names);
    }
    base
}

/// The names set in `specialArgs = { ... } // ...;` and `_module.args =
/// { ... };` (or `_module.args.x = ...;`) anywhere in a file.
pub fn passed_arguments(text: &str) -> Vec<String> {
    let (green, _) = micros_options::syntax::parse(text);
    let root = rnix::SyntaxNode::new_root(green);
    let mut names = Vec::new();
    for entry in root.descendants().filter_map(ast::AttrpathValue::cast) {
        let path = full_path(&entry);
        let (Some(value), Some(last)) = (entry.value(), path.last()) else {
            continue;
        };
        let n = path.len();
        let under_args = n >= 3 && path[n - 3..n - 1] == ["_module", "args"];
        if last == "specialArgs" || (n >= 2 && path[n - 2..] == ["_module", "args"]) {
            for set in update_operands(value) {
                names.extend(set_names(&set));
            }
        } else if under_args {
            names.push(last.clone());
        }
    }
    names
}

/// The attribute path of an entry, with the paths of the entries whose
/// set values it is nested in (`_module = { args = ...; }`).
fn full_path(entry: &ast::AttrpathValue) -> Vec<String> {
    let mut path: Vec<String> = entry
        .attrpath()
        .iter()
        .flat_map(|p| p.attrs())
        .map(|a| attr_text(&a).unwrap_or_default())
        .collect();
    let mut node = entry.syntax().parent();
    while let Some(set) = node.clone().and_then(ast::AttrSet::cast) {
        let Some(outer) = set.syntax().parent().and_then(ast::AttrpathValue::cast) else {
            break;
        };
        let mut outer_path: Vec<String> = outer
            .attrpath()
            .iter()
            .flat_map(|p| p.attrs())
            .map(|a| attr_text(&a).unwrap_or_default())
            .collect();
        outer_path.append(&mut path);
        path = outer_path;
        node = outer.syntax().parent();
    }
    path
}

/// The set literals of `a // b // ...`.
fn update_operands(expr: ast::Expr) -> Vec<ast::AttrSet> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(expr) = stack.pop() {
        match expr {
            ast::Expr::AttrSet(set) => out.push(set),
            ast::Expr::Paren(paren) => stack.extend(paren.expr()),
            ast::Expr::BinOp(binop) if binop.operator() == Some(ast::BinOpKind::Update) => {
                stack.extend(binop.lhs());
                stack.extend(binop.rhs());
            }
            _ => {}
        }
    }
    out
}

fn set_names(set: &ast::AttrSet) -> Vec<String> {
    let mut names: Vec<String> = set
        .attrpath_values()
        .filter_map(|e| e.attrpath()?.attrs().next())
        .filter_map(|a| attr_text(&a))
        .collect();
    for inherit in set.inherits() {
        names.extend(inherit.attrs().filter_map(|a| attr_text(&a)));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trees_the_extraction_parsed_read_as_the_texts_do() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        let micros = fixtures.join("micros").canonicalize().unwrap();
        let nixpkgs = fixtures.join("nixpkgs").canonicalize().unwrap();
        let request = micros_options::sources::micros_request(&micros, Some(&nixpkgs)).unwrap();
        let extraction = micros_options::extract(&request);
        let files = extraction.files.clone();
        assert!(files.iter().filter(|f| f.tree.is_some()).count() > 10);
        let index = static_index(extraction, &micros, Some(&nixpkgs));
        assert!(index.base.modules.len() > 10);
        let texts: Vec<ReadFile> = files
            .into_iter()
            .map(|file| ReadFile { tree: None, ..file })
            .collect();
        assert_eq!(*index.base, read(&index, &micros, &texts));
    }

    #[test]
    fn arguments_passed_by_special_args_and_module_args() {
        let lib = "{ nixpkgs, oci-tool, nixos-core, ... }: { microsSystem = args: import ./x.nix ({ specialArgs = args.specialArgs // { inherit nixos-core oci-tool; }; } // args); }";
        let eval_config = r#"{ specialArgs ? { }, ... }: let
  modulesModule = { config = { _module.args = { inherit noUserModules baseModules modules; }; }; };
  noUserModules = evalModules { specialArgs = { modulesPath = builtins.toString ./.; } // specialArgs; };
in x"#;
        let mut names = passed_arguments(lib);
        names.extend(passed_arguments(eval_config));
        names.extend(passed_arguments(
            "{ ... }: { config._module.args.pkgs = 1; _module = { args = { extra = 2; }; }; }",
        ));
        names.sort();
        names.dedup();
        assert_eq!(
            names,
            [
                "baseModules",
                "extra",
                "modules",
                "modulesPath",
                "nixos-core",
                "noUserModules",
                "oci-tool",
                "pkgs"
            ]
        );
    }
}
