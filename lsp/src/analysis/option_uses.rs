//! Where a module reads options and declares them, beside where it defines
//! them (which resolution knows).
//!
//! Reads go through the module's `config` argument: `config.my.web.port`,
//! and through bindings that alias a part of it (`cfg = config.my.web;`
//! then `cfg.port`, `inherit (config.my.web) port;`). Each read is the
//! segment that names the option, so that a rename can rewrite it.

use std::sync::Arc;

use micros_options::model::OptionDecl;
use rnix::ast;
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};
use rustc_hash::FxHashMap;

use crate::analysis::db::{self, Db, File};
use crate::analysis::options::OptionIndex;
use crate::analysis::scopes::{DefId, DefKind, InheritSite, Scopes, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRead {
    /// The option's loc, placeholders as the index has them.
    pub loc: Vec<String>,
    /// The segment that names the option.
    pub range: TextRange,
    /// Written as `inherit (from) name;`: the name is a binding's too.
    pub inherit: Option<InheritSite>,
}

/// The options a file reads (a tracked query).
#[salsa::tracked(returns(ref), no_eq)]
pub fn reads(db: &dyn Db, file: File) -> Arc<Vec<OptionRead>> {
    let root = db::parse(db, file).root();
    let scopes = crate::analysis::scopes::scopes(db, file);
    let index = db::option_index(db, db.workspace());
    // A flake's modules are the ones written in its `modules` lists.
    let modules = match crate::analysis::systems::is_flake(file.path(db)) {
        true => crate::analysis::systems::flake_model(db, file)
            .inline
            .clone(),
        false => root
            .expr()
            .map(|e| e.syntax().text_range())
            .into_iter()
            .collect(),
    };
    Arc::new(option_reads(&root, scopes, index, &modules))
}

/// Where a file declares the options it declares (a tracked query).
#[salsa::tracked(returns(ref), no_eq)]
pub fn declarations(db: &dyn Db, file: File) -> Arc<Vec<(Vec<String>, TextRange)>> {
    let declared = db::declared_options(db, file);
    if declared.options.is_empty() {
        return Arc::default();
    }
    let index = db::option_index(db, db.workspace());
    let path = file.path(db);
    let root = db::parse(db, file).root();
    Arc::new(declaration_sites(&root, &declared.flatten(), |d| {
        index.declaration_path(d).as_deref() == Some(path.as_path())
    }))
}

/// Aliases are followed this many bindings deep.
const MAX_ALIAS_DEPTH: u32 = 16;

/// The reads in the modules written at `modules` (each a module's whole
/// expression).
pub fn option_reads(
    root: &ast::Root,
    scopes: &Scopes,
    index: &OptionIndex,
    modules: &[TextRange],
) -> Vec<OptionRead> {
    let config: Vec<DefId> = modules
        .iter()
        .filter_map(|range| config_argument(root, *range, scopes))
        .collect();
    if config.is_empty() {
        return Vec::new();
    }
    let mut reader = Reader {
        root,
        scopes,
        index,
        config,
        aliases: FxHashMap::default(),
        out: Vec::new(),
    };
    for r in &scopes.refs {
        let Target::Def(def) = r.target else { continue };
        if r.inherit.is_some() {
            continue;
        }
        let Some(base) = reader.base_path(def, 0) else {
            continue;
        };
        let Some(select) = node_at(root, r.range)
            .and_then(|ident| ident.parent())
            .and_then(ast::Select::cast)
            .filter(|s| s.expr().is_some_and(|e| e.syntax().text_range() == r.range))
        else {
            continue;
        };
        let mut path = base.clone();
        let mut written = Vec::new();
        for attr in select.attrpath().iter().flat_map(|p| p.attrs()) {
            let Some(name) = crate::analysis::lower::attr_text(&attr) else {
                break;
            };
            path.push(name);
            written.push(attr.syntax().text_range());
        }
        reader.record(&path, base.len(), &written, None);
    }
    // `inherit (config.my.web) port;` reads `port` where it is written.
    for def in &scopes.defs {
        let (DefKind::InheritFrom, Some(site)) = (def.kind, def.inherit) else {
            continue;
        };
        let Some(from) = site.from else { continue };
        let Some(mut path) = reader.path_of(from, 0) else {
            continue;
        };
        path.push(def.name.clone());
        reader.record(&path, path.len() - 1, &def.sites[..1], Some(site));
    }
    reader.out.sort_by_key(|r| r.range.start());
    reader.out.dedup();
    reader.out
}

/// The `config` argument of the module function, `{ config, ... }: ...`.
fn config_argument(root: &ast::Root, module: TextRange, scopes: &Scopes) -> Option<DefId> {
    let mut expr = ast::Expr::cast(node_at(root, module)?)?;
    while let ast::Expr::Paren(paren) = &expr {
        expr = paren.expr()?;
    }
    let ast::Expr::Lambda(lambda) = expr else {
        return None;
    };
    let Some(ast::Param::Pattern(pattern)) = lambda.param() else {
        return None;
    };
    let ident = pattern
        .pat_entries()
        .filter_map(|e| e.ident())
        .find(|i| crate::analysis::lower::ident_text(i) == "config")?;
    let site = ident.syntax().text_range();
    (0..scopes.defs.len() as u32)
        .map(DefId)
        .find(|id| scopes.def(*id).sites.contains(&site))
}

/// The smallest node that covers exactly `range`.
fn node_at(root: &ast::Root, range: TextRange) -> Option<rnix::SyntaxNode> {
    let element = root.syntax().covering_element(range);
    let node = match element {
        rowan::NodeOrToken::Node(node) => node,
        rowan::NodeOrToken::Token(token) => token.parent()?,
    };
    node.ancestors().find(|n| n.text_range() == range)
}

struct Reader<'a> {
    root: &'a ast::Root,
    scopes: &'a Scopes,
    index: &'a OptionIndex,
    /// The modules' `config` arguments.
    config: Vec<DefId>,
    /// The part of `config` each binding stands for (`None`: none).
    aliases: FxHashMap<DefId, Option<Vec<String>>>,
    out: Vec<OptionRead>,
}

impl Reader<'_> {
    /// The part of `config` a binding stands for.
    fn base_path(&mut self, def: DefId, depth: u32) -> Option<Vec<String>> {
        if self.config.contains(&def) {
            return Some(Vec::new());
        }
        if let Some(known) = self.aliases.get(&def) {
            return known.clone();
        }
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        // A binding being followed is not an alias (`let a = a.x; in`).
        self.aliases.insert(def, None);
        let binding = self.scopes.def(def).clone();
        let path = match (binding.kind, binding.value, binding.inherit) {
            (DefKind::Let | DefKind::Rec, Some(value), _) => self.path_of(value, depth + 1),
            (
                DefKind::InheritFrom,
                _,
                Some(InheritSite {
                    from: Some(from), ..
                }),
            ) => self.path_of(from, depth + 1).map(|mut path| {
                path.push(binding.name.clone());
                path
            }),
            // `let inherit cfg; in`: the outer `cfg`.
            (DefKind::Inherit, _, _) => {
                let outer = match self.scopes.ref_at(binding.sites[0]).map(|r| r.target) {
                    Some(Target::Def(outer)) => Some(outer),
                    _ => None,
                };
                outer.and_then(|outer| self.base_path(outer, depth + 1))
            }
            _ => None,
        };
        self.aliases.insert(def, path.clone());
        path
    }

    /// The part of `config` an expression is (`config.a.b`, `cfg.c`).
    fn path_of(&mut self, range: TextRange, depth: u32) -> Option<Vec<String>> {
        let mut expr = ast::Expr::cast(node_at(self.root, range)?)?;
        while let ast::Expr::Paren(paren) = &expr {
            expr = paren.expr()?;
        }
        match expr {
            ast::Expr::Ident(ident) => {
                match self.scopes.ref_at(ident.syntax().text_range())?.target {
                    Target::Def(def) => self.base_path(def, depth),
                    _ => None,
                }
            }
            ast::Expr::Select(select) => {
                let base = select.expr()?.syntax().text_range();
                let mut path = self.path_of(base, depth)?;
                for attr in select.attrpath()?.attrs() {
                    path.push(crate::analysis::lower::attr_text(&attr)?);
                }
                Some(path)
            }
            _ => None,
        }
    }

    /// The options `path` names from its segment `written_from` on, the
    /// segments written at `written`.
    fn record(
        &mut self,
        path: &[String],
        written_from: usize,
        written: &[TextRange],
        inherit: Option<InheritSite>,
    ) {
        for (i, option) in options_along(self.index, path).into_iter().enumerate() {
            let (Some(option), Some(range)) = (option, i.checked_sub(written_from)) else {
                continue;
            };
            if let Some(range) = written.get(range) {
                self.out.push(OptionRead {
                    loc: option.loc.clone(),
                    range: *range,
                    inherit,
                });
            }
        }
    }
}

/// For each segment of a concrete path (`users.alice.uid`), the option it
/// names, if any: through submodules, past the names of an `attrsOf`.
pub fn options_along(index: &OptionIndex, path: &[String]) -> Vec<Option<Arc<OptionDecl>>> {
    let mut out = Vec::with_capacity(path.len());
    let mut trie = &index.root;
    let mut names_left = 0usize;
    let mut after_names = None;
    for segment in path {
        if names_left > 0 {
            names_left -= 1;
            out.push(None);
            if names_left == 0 {
                match after_names {
                    Some(next) => trie = next,
                    None => break,
                }
            }
            continue;
        }
        let Some(child) = trie.children.get(segment) else {
            break;
        };
        out.push(child.option.clone());
        match &child.option {
            None => trie = child,
            Some(option) => {
                // Below an option: its value, or a submodule's options.
                let Some((placeholders, sub)) = option.ty.sub_options() else {
                    break;
                };
                let Some(sub_trie) = index.submodule(sub) else {
                    break;
                };
                if placeholders.is_empty() {
                    trie = sub_trie;
                } else {
                    names_left = placeholders.len();
                    after_names = Some(sub_trie);
                }
            }
        }
    }
    out
}

/// Where a file declares each option it declares: the name segment of the
/// declaring entry (`port` in `options.my.web.port = mkOption { ... };`).
pub fn declaration_sites(
    root: &ast::Root,
    declared: &[OptionDecl],
    is_this_file: impl Fn(&micros_options::model::Declaration) -> bool,
) -> Vec<(Vec<String>, TextRange)> {
    let mut out = Vec::new();
    for option in declared {
        let Some(name) = option.loc.last() else {
            continue;
        };
        for declaration in option.declarations.iter().filter(|d| is_this_file(d)) {
            let Some((start, end)) = declaration.range else {
                continue;
            };
            let range = TextRange::new(TextSize::from(start), TextSize::from(end));
            let Some(entry) = node_at(root, range).and_then(ast::AttrpathValue::cast) else {
                continue;
            };
            let last = entry.attrpath().and_then(|p| p.attrs().last());
            if let Some(attr) = last
                && crate::analysis::lower::attr_text(&attr).as_deref() == Some(name)
            {
                out.push((option.loc.clone(), attr.syntax().text_range()));
            }
        }
    }
    out.sort_by_key(|(_, range)| range.start());
    out.dedup();
    out
}
