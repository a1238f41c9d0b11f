//! Findings across the modules of one system, as the module system would
//! meet them when it evaluates the system: conflicting definitions,
//! arguments nothing provides, micros's own assertions and warnings,
//! services that are depended on but not defined, what MicrOS's guide
//! asks of a container (no hardware modules; `boot.isContainer` and the
//! OCI image go together).
//!
//! Every check says nothing when it cannot be sure: a system whose module
//! list is partly computed, a definition under a condition that cannot be
//! decided, a priority that is not a literal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use micros_options::OptionType;
use micros_options::model::show_option;
use rowan::TextRange;

use super::base::{BaseModule, MODULE_SYSTEM_ARGS};
use super::definitions::{Collected, DefValue, Definition, collect, strip_checks};
use super::platform::{platform_name, unwrap};
use super::{ModuleEntry, Related, flake_model, system_modules};
use crate::analysis::cond::{Cond, Value as CondValue};
use crate::analysis::db::{self, Db, File};
use crate::analysis::lower::{Literal, NodeId, SourceMap};
use crate::analysis::options::{OptionIndex, closest};
use crate::analysis::resolve::Code;

/// A finding in one system, at a place in one of the user's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub file: File,
    pub range: TextRange,
    pub code: Code,
    /// Without the system's name (the caller adds it where needed).
    pub message: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
    /// Name the system even when the finding holds in every system that
    /// reaches the file.
    pub name_system: bool,
}

/// What each module of a file defines: one for a module file, one per
/// inline module for a flake.
#[salsa::tracked(returns(ref), no_eq)]
pub fn module_collections(db: &dyn Db, file: File) -> Arc<Vec<Collected>> {
    let module = db::module(db, file);
    let resolution = db::resolution(db, file);
    if super::is_flake(file.path(db)) {
        Arc::new(
            module
                .inline
                .iter()
                .map(|inline| collect(module, resolution, inline.config))
                .collect(),
        )
    } else {
        Arc::new(vec![collect(module, resolution, module.config)])
    }
}

/// Per system of the flake (in [`super::FlakeModel::systems`] order), its
/// findings.
#[salsa::tracked(returns(ref), no_eq)]
pub fn system_findings(db: &dyn Db, flake: File) -> Arc<Vec<Vec<Finding>>> {
    per_system(db, flake, |analysis| analysis.run())
}

/// What a system's modules set that changes what is valid in it, when
/// its definitions decide it (`None`: not known statically).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// `boot.isContainer`.
    pub container: Option<bool>,
    /// `nixpkgs.hostPlatform`: a platform name, or a set's `system`.
    pub platform: Option<String>,
}

/// Per system of the flake, its [`Facts`].
#[salsa::tracked(returns(ref))]
pub fn system_facts(db: &dyn Db, flake: File) -> Arc<Vec<Facts>> {
    per_system(db, flake, |analysis| analysis.facts())
}

/// A definition of the user's that a stronger one in the same system
/// overrides (`lib.mkDefault "a"` beside a plain `"b"`, a plain
/// definition beside `lib.mkForce`): what the system's value is instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    pub file: File,
    /// The overridden definition (`path = value;`).
    pub range: TextRange,
    pub path: Vec<String>,
    /// The value that wins, shown as messages show values (`"b"`, `8080`);
    /// `None` when it is not a literal.
    pub value: Option<String>,
    /// The overridden definition's priority, and the winning one.
    pub priority: u32,
    pub winner_priority: u32,
    /// The winning definition; its message is the file's shown name.
    pub by: Related,
}

/// Per system of the flake, the user's definitions that others override.
#[salsa::tracked(returns(ref), no_eq)]
pub fn system_overrides(db: &dyn Db, flake: File) -> Arc<Vec<Vec<Overridden>>> {
    per_system(db, flake, |analysis| analysis.overrides())
}

/// One answer per system of the flake, in [`super::FlakeModel::systems`]
/// order.
fn per_system<T>(db: &dyn Db, flake: File, f: impl Fn(SystemAnalysis) -> T) -> Arc<Vec<T>> {
    let count = flake_model(db, flake).systems.len();
    Arc::new(
        (0..count)
            .map(|index| f(SystemAnalysis::new(db, flake, index)))
            .collect(),
    )
}

/// The definitions of one path that count, by outcome.
struct Contest<'a> {
    /// The winning priority.
    top: u32,
    winners: Vec<(usize, &'a Definition)>,
    /// Weaker ones that would count if they were stronger.
    losers: Vec<(usize, &'a Definition)>,
}

/// Who defines something in a system.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// A module file, or an inline module of the flake (its index).
    User(File, Option<usize>),
    Base(&'a BaseModule),
}

struct Module<'a> {
    owner: Owner<'a>,
    collected: &'a Collected,
}

/// Whether a definition counts in the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Certainty {
    Certain,
    /// Under a condition that cannot be decided, or under `//`.
    Maybe,
    Dropped,
}

struct SystemAnalysis<'a> {
    db: &'a dyn Db,
    flake: File,
    /// The system's index in the flake's systems.
    system: usize,
    complete: bool,
    special_args: Option<Vec<String>>,
    index: &'a OptionIndex,
    modules: Vec<Module<'a>>,
    /// Definitions by path: (module, definition).
    by_path: BTreeMap<Vec<String>, Vec<(usize, &'a Definition)>>,
    values: BTreeMap<Vec<String>, Option<CondValue>>,
    out: Vec<Finding>,
}

impl<'a> SystemAnalysis<'a> {
    fn new(db: &'a dyn Db, flake: File, index: usize) -> SystemAnalysis<'a> {
        let system = &flake_model(db, flake).systems[index];
        let members = &system_modules(db, flake)[index];
        let option_index = db::option_index(db, db.workspace());
        let mut modules = Vec::new();
        for (file, _) in &members.files {
            for collected in module_collections(db, *file).iter() {
                modules.push(Module {
                    owner: Owner::User(*file, None),
                    collected,
                });
            }
        }
        let inline = module_collections(db, flake);
        for (inline_index, _) in &members.inline {
            if let Some(collected) = inline.get(*inline_index) {
                modules.push(Module {
                    owner: Owner::User(flake, Some(*inline_index)),
                    collected,
                });
            }
        }
        for base in &option_index.base.modules {
            modules.push(Module {
                owner: Owner::Base(base),
                collected: &base.collected,
            });
        }
        let mut by_path: BTreeMap<Vec<String>, Vec<(usize, &Definition)>> = BTreeMap::new();
        for (i, module) in modules.iter().enumerate() {
            for definition in &module.collected.definitions {
                by_path
                    .entry(definition.path.clone())
                    .or_default()
                    .push((i, definition));
            }
        }
        SystemAnalysis {
            db,
            flake,
            system: index,
            // A module the database does not hold could define anything.
            complete: system.modules_complete && members.missing.is_empty(),
            special_args: system.special_args.clone(),
            index: option_index,
            modules,
            by_path,
            values: BTreeMap::new(),
            out: Vec::new(),
        }
    }

    fn run(mut self) -> Vec<Finding> {
        if self.complete {
            self.conflicts();
            self.missing_arguments();
            self.unknown_services();
            self.container_hardware();
            self.container_output();
        }
        self.assertions_and_warnings();
        self.out
    }

    fn facts(mut self) -> Facts {
        // A module the database does not hold could set either.
        if !self.complete {
            return Facts::default();
        }
        let container = match self.value_at(&owned(&["boot", "isContainer"])) {
            Some(CondValue::Bool(container)) => Some(container),
            _ => None,
        };
        Facts {
            container,
            platform: self.platform(),
        }
    }

    /// `nixpkgs.hostPlatform = "x86_64-linux";` or
    /// `nixpkgs.hostPlatform = { system = "x86_64-linux"; };`, agreed on by
    /// the definitions that win.
    fn platform(&mut self) -> Option<String> {
        let path = owned(&["nixpkgs", "hostPlatform"]);
        if let Some(CondValue::Str(platform)) = self.value_at(&path) {
            return Some(platform);
        }
        let definitions = self.by_path.get(&path)?.clone();
        let mut top = u32::MAX;
        for (_, definition) in &definitions {
            if self.certainty(definition) != Certainty::Certain {
                return None;
            }
            top = top.min(definition.priority?);
        }
        let mut found: Option<String> = None;
        for (module, definition) in definitions {
            if definition.priority != Some(top) {
                continue;
            }
            let Owner::User(file, _) = self.modules[module].owner else {
                return None;
            };
            let module = db::module(self.db, file);
            let (_, _, system) = platform_name(module, unwrap(module, definition.node))?;
            if found.as_ref().is_some_and(|f| *f != system) {
                return None;
            }
            found = Some(system);
        }
        found
    }

    // ---- values and conditions ----

    /// The system's value at a config path, when it is certain: the
    /// unconditional definitions at the winning priority agree, or there
    /// are none and the option's default is a literal.
    fn value_at(&mut self, path: &[String]) -> Option<CondValue> {
        if let Some(known) = self.values.get(path) {
            return known.clone();
        }
        let value = self.compute_value(path);
        self.values.insert(path.to_vec(), value.clone());
        value
    }

    fn compute_value(&self, path: &[String]) -> Option<CondValue> {
        if self.is_opaque(path) {
            return None;
        }
        match self.by_path.get(path) {
            Some(definitions) => {
                if definitions
                    .iter()
                    .any(|(_, d)| !d.conditions.is_empty() || d.uncertain || d.priority.is_none())
                {
                    return None;
                }
                let top = definitions.iter().filter_map(|(_, d)| d.priority).min()?;
                let mut values = definitions
                    .iter()
                    .filter(|(_, d)| d.priority == Some(top))
                    .map(|(_, d)| match &d.value {
                        DefValue::Literal(literal) => cond_value(literal),
                        _ => None,
                    });
                let first = values.next()??;
                values.all(|v| v.as_ref() == Some(&first)).then_some(first)
            }
            None => {
                // Below a definition of a set (`networking = { ... }` with
                // this path inside) nothing was collected: the default.
                let mut trie = &self.index.root;
                for segment in path {
                    trie = trie.children.get(segment)?;
                }
                let option = trie.option.as_ref()?;
                default_value(&option.default.as_ref()?.text)
            }
        }
    }

    /// Whether a module defines something at or around `path` that cannot
    /// be seen into (`micros = f x;`).
    fn is_opaque(&self, path: &[String]) -> bool {
        self.modules.iter().any(|m| {
            m.collected
                .opaque
                .iter()
                .any(|p| path.starts_with(p) || p.starts_with(path))
        })
    }

    fn decide(&mut self, conditions: &[Cond]) -> Option<bool> {
        let mut all = Some(true);
        for cond in conditions {
            match cond.decide(&mut |path| self.value_at(path)) {
                Some(false) => return Some(false),
                Some(true) => {}
                None => all = None,
            }
        }
        all
    }

    fn certainty(&mut self, definition: &Definition) -> Certainty {
        match self.decide(&definition.conditions) {
            Some(false) => Certainty::Dropped,
            Some(true) if !definition.uncertain => Certainty::Certain,
            _ => Certainty::Maybe,
        }
    }

    // ---- places ----

    fn is_user(&self, module: usize) -> bool {
        matches!(self.modules[module].owner, Owner::User(..))
    }

    /// The file, text, source map and shown name of a module.
    fn place(&self, module: usize) -> (PathBuf, Arc<str>, Arc<SourceMap>, String) {
        match self.modules[module].owner {
            Owner::User(file, _) => (
                file.path(self.db).clone(),
                Arc::from(file.text(self.db).as_str()),
                db::source_map(self.db, file).clone(),
                shown_user_path(self.db, self.flake, file),
            ),
            Owner::Base(base) => (
                base.path.clone(),
                base.text.clone(),
                Arc::new(base.map.clone()),
                base.shown.clone(),
            ),
        }
    }

    fn related(&self, module: usize, node: NodeId, message: String) -> Related {
        let (path, text, map, _) = self.place(module);
        Related::new(path, &text, map.node(node), message)
    }

    fn finding(
        &mut self,
        module: usize,
        range: TextRange,
        code: Code,
        message: String,
        help: Option<String>,
        related: Vec<Related>,
    ) {
        let Owner::User(file, _) = self.modules[module].owner else {
            return;
        };
        // A conflict is always one system's.
        let name_system = code == Code::ConflictingDefinitions;
        self.out.push(Finding {
            file,
            range,
            code,
            message,
            help,
            related,
            name_system,
        });
    }

    // ---- the checks ----

    /// Which of a path's definitions win, when that is certain: none has
    /// a priority that is not a literal, and none that may or may not
    /// count would be stronger than the certain ones.
    fn contest(&mut self, path: &[String]) -> Option<Contest<'a>> {
        let definitions = self.by_path.get(path)?.clone();
        if definitions.len() < 2 {
            return None;
        }
        let mut live = Vec::new();
        for (module, definition) in definitions {
            match self.certainty(definition) {
                Certainty::Dropped => {}
                certainty => live.push((module, definition, certainty)),
            }
        }
        if live.iter().any(|(_, d, _)| d.priority.is_none()) {
            return None;
        }
        let top = live
            .iter()
            .filter(|(_, _, c)| *c == Certainty::Certain)
            .filter_map(|(_, d, _)| d.priority)
            .min()?;
        if live
            .iter()
            .any(|(_, d, c)| *c == Certainty::Maybe && d.priority.is_some_and(|p| p < top))
        {
            return None;
        }
        let winners = live
            .iter()
            .filter(|(_, d, c)| *c == Certainty::Certain && d.priority == Some(top))
            .map(|(m, d, _)| (*m, *d))
            .collect();
        let losers = live
            .iter()
            .filter(|(_, d, _)| d.priority.is_some_and(|p| p > top))
            .map(|(m, d, _)| (*m, *d))
            .collect();
        Some(Contest {
            top,
            winners,
            losers,
        })
    }

    fn conflicts(&mut self) {
        let paths: Vec<Vec<String>> = self.by_path.keys().cloned().collect();
        for path in paths {
            let Some(contest) = self.contest(&path) else {
                continue;
            };
            let winners = contest.winners;
            if winners.len() < 2 {
                continue;
            }
            if let Some((message, help, pair)) = conflict(&winners) {
                self.report_conflict(&path, &winners, pair, message, help);
            }
        }
    }

    /// The user's definitions a stronger one overrides, with what wins.
    fn overrides(mut self) -> Vec<Overridden> {
        // A module the database does not hold could be stronger still.
        if !self.complete {
            return Vec::new();
        }
        let mut out = Vec::new();
        let paths: Vec<Vec<String>> = self.by_path.keys().cloned().collect();
        for path in paths {
            if self.is_opaque(&path) {
                continue;
            }
            let Some(contest) = self.contest(&path) else {
                continue;
            };
            // One value wins: one definition, or several equal literals
            // (different ones are a conflict, reported as such).
            let Some(&(winner_module, winner)) = contest.winners.first() else {
                continue;
            };
            let literal = |d: &Definition| match &d.value {
                DefValue::Literal(literal) => Some(literal.clone()),
                _ => None,
            };
            if contest.winners.len() > 1 {
                let Some(first) = literal(winner) else {
                    continue;
                };
                if contest
                    .winners
                    .iter()
                    .any(|(_, d)| literal(d).is_none_or(|l| differ(&l, &first)))
                {
                    continue;
                }
            }
            let value = literal(winner).map(|_| describe(&winner.value));
            let (_, _, _, shown) = self.place(winner_module);
            let by = self.related(winner_module, winner.node, shown);
            for &(module, loser) in &contest.losers {
                let Owner::User(file, _) = self.modules[module].owner else {
                    continue;
                };
                // The same value written twice surprises nobody.
                if let (Some(a), Some(b)) = (literal(loser), literal(winner))
                    && !differ(&a, &b)
                {
                    continue;
                }
                let (_, _, map, _) = self.place(module);
                out.push(Overridden {
                    file,
                    range: map.entry(loser.key).entry,
                    path: path.clone(),
                    value: value.clone(),
                    priority: loser.priority.unwrap_or(contest.top),
                    winner_priority: contest.top,
                    by: by.clone(),
                });
            }
        }
        out
    }

    fn report_conflict(
        &mut self,
        path: &[String],
        winners: &[(usize, &Definition)],
        pair: (usize, usize),
        message: String,
        help: String,
    ) {
        // At a definition of the user's, the later one of the pair if both
        // are; the others are related.
        let (first, second) = (winners[pair.0], winners[pair.1]);
        let (here, there) = if self.is_user(second.0) {
            (second, first)
        } else if self.is_user(first.0) {
            (first, second)
        } else {
            return;
        };
        let (_, _, map, _) = self.place(here.0);
        let range = map.node(here.1.node);
        let there_name = self.place(there.0).3;
        let name = show_option(path);
        let message = message
            .replace("{name}", &name)
            .replace("{here}", &describe(&here.1.value))
            .replace("{there}", &describe(&there.1.value))
            .replace("{file}", &there_name);
        let mut related = vec![self.related(
            there.0,
            there.1.node,
            format!("also defined here: {}", describe(&there.1.value)),
        )];
        for (module, definition) in winners {
            let same = |(m, d): (usize, &Definition)| m == *module && std::ptr::eq(d, *definition);
            if same(here) || same(there) {
                continue;
            }
            related.push(self.related(
                *module,
                definition.node,
                format!("and here: {}", describe(&definition.value)),
            ));
        }
        self.finding(
            here.0,
            range,
            Code::ConflictingDefinitions,
            message,
            Some(help),
            related,
        );
    }

    fn missing_arguments(&mut self) {
        let Some(special_args) = self.special_args.clone() else {
            return;
        };
        let Some(base_args) = self.index.base.module_args.clone() else {
            return;
        };
        if self.modules.iter().any(|m| m.collected.module_args_unknown) {
            return;
        }
        let mut provided: Vec<String> = MODULE_SYSTEM_ARGS.iter().map(|s| s.to_string()).collect();
        provided.extend(base_args);
        provided.extend(special_args);
        for module in &self.modules {
            provided.extend(module.collected.module_args.iter().cloned());
        }
        // A set: a flake's inline modules are thousands in one system.
        let mut seen: rustc_hash::FxHashSet<(File, Option<usize>)> = Default::default();
        for i in 0..self.modules.len() {
            let Owner::User(file, inline) = self.modules[i].owner else {
                continue;
            };
            if !seen.insert((file, inline)) {
                continue;
            }
            let module = db::module(self.db, file);
            let formals = match inline {
                Some(index) => module.inline.get(index).and_then(|m| m.formals.as_ref()),
                None => module.formals.as_ref(),
            };
            let Some(formals) = formals else { continue };
            let map = db::source_map(self.db, file);
            for formal in &formals.names {
                if formal.has_default || provided.contains(&formal.name) {
                    continue;
                }
                let name = &formal.name;
                self.out.push(Finding {
                    file,
                    range: map.entry(formal.id).key,
                    code: Code::MissingModuleArgument,
                    message: format!("nothing provides the module argument `{name}`"),
                    help: Some(format!(
                        "pass it in the system's `specialArgs` (`specialArgs = {{ inherit {name}; }};`), define `_module.args.{name}` in a module, or give it a default (`{name} ? ...`)"
                    )),
                    related: Vec::new(),
                    name_system: false,
                });
            }
        }
    }

    fn assertions_and_warnings(&mut self) {
        let mut checks: Vec<(usize, Cond, Vec<Cond>, String, NodeId, Code)> = Vec::new();
        for (i, module) in self.modules.iter().enumerate() {
            for assertion in &module.collected.assertions {
                checks.push((
                    i,
                    Cond::Not(Box::new(assertion.assertion.clone())),
                    assertion.conditions.clone(),
                    assertion.message.clone(),
                    assertion.node,
                    Code::AssertionFailed,
                ));
            }
            for warning in &module.collected.warnings {
                if warning.conditions.is_empty() {
                    continue;
                }
                checks.push((
                    i,
                    Cond::Lit(CondValue::Bool(true)),
                    warning.conditions.clone(),
                    warning.message.clone(),
                    warning.node,
                    Code::ModuleWarning,
                ));
            }
        }
        for (module, fails, conditions, message, node, code) in checks {
            let mut all = conditions.clone();
            all.push(fails.clone());
            if self.decide(&all) != Some(true) {
                continue;
            }
            // The user's definitions that make it so: those the check
            // itself reads first, then those of its conditions.
            let mut involved: Vec<(usize, NodeId)> = Vec::new();
            let mut paths: Vec<Vec<String>> = fails.paths().iter().map(|p| p.to_vec()).collect();
            // The innermost condition is the most particular.
            for cond in conditions.iter().rev() {
                paths.extend(cond.paths().iter().map(|p| p.to_vec()));
            }
            for path in paths {
                for (m, definition) in self.by_path.get(&path).into_iter().flatten() {
                    if self.is_user(*m) && !involved.contains(&(*m, definition.node)) {
                        involved.push((*m, definition.node));
                    }
                }
            }
            let Some(&(here, here_node)) = involved.first() else {
                continue;
            };
            let (_, _, map, _) = self.place(here);
            let range = map.node(here_node);
            let shown = self.place(module).3;
            let mut related = vec![self.related(
                module,
                node,
                match code {
                    Code::AssertionFailed => format!("asserted in {shown}"),
                    _ => format!("warned in {shown}"),
                },
            )];
            for (m, n) in involved.iter().skip(1) {
                related.push(self.related(*m, *n, "this definition is involved".into()));
            }
            let help = match code {
                Code::AssertionFailed => "Nix stops evaluating the system with this message",
                _ => "Nix prints this warning when it evaluates the system",
            };
            self.finding(
                here,
                range,
                code,
                message.trim().to_string(),
                Some(format!("{help} ({shown})")),
                related,
            );
        }
    }

    fn unknown_services(&mut self) {
        let services_path = ["micros".to_string(), "services".to_string()];
        let hidden = self.modules.iter().any(|m| {
            m.collected
                .opaque
                .iter()
                .any(|p| services_path.starts_with(p))
        });
        if hidden {
            return;
        }
        let mut names: Vec<String> = Vec::new();
        let all_names: Vec<(Option<Vec<String>>, Vec<Cond>)> = self
            .modules
            .iter()
            .flat_map(|m| &m.collected.names)
            .filter(|n| n.path == services_path)
            .map(|n| (n.names.clone(), n.conditions.clone()))
            .collect();
        for (given, conditions) in all_names {
            if self.decide(&conditions) == Some(false) {
                continue;
            }
            match given {
                Some(given) => names.extend(given),
                None => return,
            }
        }
        let mut lists = Vec::new();
        for (i, module) in self.modules.iter().enumerate() {
            for list in &module.collected.lists {
                if list.path.len() == 4
                    && list.path[..2] == services_path
                    && list.path[3] == "dependencies"
                {
                    lists.push((i, list.clone()));
                }
            }
        }
        for (module, list) in lists {
            if !self.is_user(module) || self.decide(&list.conditions) != Some(true) {
                continue;
            }
            for (item, node) in &list.items {
                let Some(dependency) = item else { continue };
                if names.contains(dependency) {
                    continue;
                }
                let (_, _, map, _) = self.place(module);
                let help = match closest(dependency, names.iter().map(String::as_str)) {
                    Some(similar) => format!("did you mean \"{similar}\"?"),
                    None => {
                        let mut known = names.clone();
                        known.sort();
                        known.dedup();
                        format!("the services defined are {}", known.join(", "))
                    }
                };
                let message = format!(
                    "`{}` depends on the service \"{dependency}\", which no module defines",
                    show_option(&list.path)
                );
                self.finding(
                    module,
                    map.node(*node),
                    Code::UnknownService,
                    message,
                    Some(help),
                    Vec::new(),
                );
            }
        }
    }

    // ---- containers ----

    /// `container-hardware`: in a system with `boot.isContainer = true`,
    /// a module of the user's that certainly sets hardware options: once
    /// at each entry of the modules list that brings such a file in, or
    /// at each such option of an inline module.
    fn container_hardware(&mut self) {
        if self.value_at(&owned(&["boot", "isContainer"])) != Some(CondValue::Bool(true)) {
            return;
        }
        let system = &flake_model(self.db, self.flake).systems[self.system];
        let members = &system_modules(self.db, self.flake)[self.system];
        // Per entry of the list that brings files in: the options set and
        // where.
        let mut by_entry: BTreeMap<usize, Vec<(usize, TextRange, String, String)>> =
            BTreeMap::new();
        let mut inline_seen: Vec<(usize, String)> = Vec::new();
        for i in 0..self.modules.len() {
            let Owner::User(file, inline) = self.modules[i].owner else {
                continue;
            };
            let collected = self.modules[i].collected;
            // What it certainly sets: definitions, and lists with items.
            let mut set: Vec<(String, NodeId, crate::analysis::lower::EntryId, String)> =
                Vec::new();
            for definition in &collected.definitions {
                if let Some(shown) = hardware_option(&definition.path)
                    && self.certainty(definition) == Certainty::Certain
                {
                    set.push((
                        shown,
                        definition.node,
                        definition.key,
                        show_option(&definition.path),
                    ));
                }
            }
            for list in &collected.lists {
                if let Some(shown) = hardware_option(&list.path)
                    && !list.items.is_empty()
                    && self.decide(&list.conditions) == Some(true)
                {
                    set.push((shown, list.node, list.key, show_option(&list.path)));
                }
            }
            set.sort_by_key(|(_, node, _, _)| *node);
            for (shown, _, key, full) in set {
                // The option's path as written (`fileSystems."/".device`).
                let written = {
                    let entry = db::source_map(self.db, file).entry(key);
                    TextRange::new(entry.path.start(), entry.key.end().max(entry.path.start()))
                };
                if inline.is_some() {
                    if inline_seen.contains(&(i, shown.clone())) {
                        continue;
                    }
                    inline_seen.push((i, shown.clone()));
                    self.out.push(Finding {
                        file,
                        range: written,
                        code: Code::ContainerHardware,
                        message: if full == shown {
                            format!(
                                "`{shown}` is a hardware option, set in a container system (`boot.isContainer = true`)"
                            )
                        } else {
                            format!(
                                "`{full}` is set in a container system (`boot.isContainer = true`), and `{shown}` is a hardware option"
                            )
                        },
                        help: Some(CONTAINER_HARDWARE_HELP.into()),
                        related: Vec::new(),
                        name_system: true,
                    });
                    continue;
                }
                let Some(&(_, entry)) = members.files.iter().find(|(f, _)| *f == file) else {
                    continue;
                };
                let list = by_entry.entry(entry).or_default();
                if !list.iter().any(|(m, _, s, _)| *m == i && *s == shown) {
                    list.push((i, written, shown, full));
                }
            }
        }
        let flake_text = self.flake.text(self.db).clone();
        for (entry, set) in by_entry {
            let Some(ModuleEntry::File { range, .. }) = system.modules.get(entry) else {
                continue;
            };
            let written = flake_text
                .get(std::ops::Range::<usize>::from(*range))
                .unwrap_or("this module")
                .to_string();
            let mut options: Vec<&str> = set.iter().map(|(_, _, s, _)| s.as_str()).collect();
            options.sort_unstable();
            options.dedup();
            let mut files: Vec<String> = set.iter().map(|(m, _, _, _)| self.place(*m).3).collect();
            files.sort_unstable();
            files.dedup();
            let through = match files.as_slice() {
                [one] if written.trim_start_matches("./") == one => String::new(),
                _ => format!(" (in {})", files.join(", ")),
            };
            let related = set
                .iter()
                .map(|(m, at, _, full)| {
                    let (path, text, _, _) = self.place(*m);
                    Related::new(path, &text, *at, format!("`{full}` is set here"))
                })
                .collect();
            self.out.push(Finding {
                file: self.flake,
                range: *range,
                code: Code::ContainerHardware,
                message: format!(
                    "`{written}` sets hardware options{through} in a container system (`boot.isContainer = true`): {}",
                    options.join(", ")
                ),
                help: Some(CONTAINER_HARDWARE_HELP.into()),
                related,
                name_system: true,
            });
        }
    }

    /// `container-output`: the OCI image built without `boot.isContainer
    /// = true`, or the ISO image with it; at the output's selection.
    fn container_output(&mut self) {
        let system = &flake_model(self.db, self.flake).systems[self.system];
        let Some(output) = system.output.as_deref() else {
            return;
        };
        let path = owned(&["boot", "isContainer"]);
        let Some(CondValue::Bool(container)) = self.value_at(&path) else {
            return;
        };
        let (message, help) = match (output, container) {
            ("ociImage", false) => (
                "builds the OCI container image (`config.system.build.ociImage`), but `boot.isContainer` is not `true`",
                "add `boot.isContainer = true;` to this system's modules: MicrOS's getting-started guide pairs it with the OCI image, so that the kernel modules are left out of it and the kernel's initialisation steps skipped (the container runtime does both)",
            ),
            ("image", true) => (
                "builds the bootable ISO image (`config.system.build.image`), but `boot.isContainer = true` leaves out its kernel modules and kernel initialisation",
                "build `config.system.build.ociImage` for a container, or drop `boot.isContainer = true` from this system: MicrOS's getting-started guide sets it for the OCI image only",
            ),
            _ => return,
        };
        let root = db::parse(self.db, self.flake).root();
        let range = output_range(rowan::ast::AstNode::syntax(&root), system.call)
            .unwrap_or(system.name_range);
        let mut related = Vec::new();
        for (module, definition) in self.by_path.get(&path).cloned().unwrap_or_default() {
            if self.is_user(module) {
                related.push(self.related(
                    module,
                    definition.node,
                    format!("`boot.isContainer` is set to {container} here"),
                ));
            }
        }
        self.out.push(Finding {
            file: self.flake,
            range,
            code: Code::ContainerOutput,
            message: message.into(),
            help: Some(help.into()),
            related,
            name_system: true,
        });
    }
}

/// How a type merges several definitions.
enum MergeKind {
    /// Exactly one definition (`mergeOneOption`: package, raw, uniq).
    One,
    /// Equal values only (`mergeEqualOption`: str, int, bool, enum, path).
    Equal,
    /// `nullOr`: all null, or none null and the inner type's rule.
    NullOr(Box<MergeKind>),
    /// Lists, sets, submodules, ...: anything merges, or we cannot tell.
    Other,
}

fn merge_kind(ty: &OptionType) -> MergeKind {
    use OptionType as T;
    match strip_checks(ty) {
        T::Package | T::ShellPackage | T::Raw | T::Uniq(_) => MergeKind::One,
        T::Bool
        | T::Int(_)
        | T::Float
        | T::Number { .. }
        | T::Str
        | T::StrRefined { .. }
        | T::StrMatching(_)
        | T::Enum(_)
        | T::Path
        | T::PathInStore => MergeKind::Equal,
        T::NullOr(inner) => MergeKind::NullOr(Box::new(merge_kind(inner))),
        _ => MergeKind::Other,
    }
}

/// The conflict among the winning definitions, if there is one: a message
/// template (`{name}`, `{here}`, `{there}`, `{file}`), help, and the pair.
fn conflict(winners: &[(usize, &Definition)]) -> Option<(String, String, (usize, usize))> {
    let kind = merge_kind(&winners[0].1.ty);
    let priority_help = "the module system takes one value here: make them equal, or give one a priority with `lib.mkDefault` or `lib.mkForce`";
    let mut kind = &kind;
    let mut candidates: Vec<usize> = (0..winners.len()).collect();
    loop {
        match kind {
            MergeKind::One => {
                let (a, b) = (*candidates.first()?, *candidates.get(1)?);
                return Some((
                    "`{name}` takes exactly one definition, and it is defined here and in {file}"
                        .into(),
                    "remove one of them, or give one a priority with `lib.mkForce`".into(),
                    (a, b),
                ));
            }
            MergeKind::Equal => {
                for (i, &a) in candidates.iter().enumerate() {
                    for &b in &candidates[i + 1..] {
                        if let (DefValue::Literal(x), DefValue::Literal(y)) =
                            (&winners[a].1.value, &winners[b].1.value)
                            && differ(x, y)
                        {
                            return Some((
                                "`{name}` has conflicting definitions: {here} here and {there} in {file}"
                                    .into(),
                                priority_help.into(),
                                (a, b),
                            ));
                        }
                    }
                }
                return None;
            }
            MergeKind::NullOr(inner) => {
                let is_null =
                    |i: usize| matches!(winners[i].1.value, DefValue::Literal(Literal::Null));
                let not_null = |i: usize| match &winners[i].1.value {
                    DefValue::Literal(Literal::Null) | DefValue::Unknown => false,
                    DefValue::Literal(_) | DefValue::NotNull => true,
                };
                let null = candidates.iter().copied().find(|&i| is_null(i));
                let value = candidates.iter().copied().find(|&i| not_null(i));
                if let (Some(a), Some(b)) = (null, value) {
                    return Some((
                        "`{name}` is defined both as null and as {there} (in {file})".into(),
                        priority_help.into(),
                        (b, a),
                    ));
                }
                if candidates.iter().any(|&i| !not_null(i)) {
                    // A null among them, or one we cannot see: not decided.
                    return None;
                }
                candidates.retain(|&i| not_null(i));
                kind = inner;
            }
            MergeKind::Other => return None,
        }
    }
}

/// Whether two literal values are certainly different as Nix compares
/// them (`1 == 1.0` in Nix; such pairs are left alone).
fn differ(a: &Literal, b: &Literal) -> bool {
    match (a, b) {
        (Literal::Str(x), Literal::Str(y)) => x != y,
        (Literal::Int(x), Literal::Int(y)) => x != y,
        (Literal::Bool(x), Literal::Bool(y)) => x != y,
        (Literal::Float(x), Literal::Float(y)) => x != y,
        (Literal::Null, Literal::Null) => false,
        (Literal::Int(_) | Literal::Float(_), Literal::Int(_) | Literal::Float(_)) => false,
        (Literal::Null, _) | (_, Literal::Null) => true,
        (Literal::Str(_), Literal::Int(_) | Literal::Bool(_) | Literal::Float(_))
        | (Literal::Int(_) | Literal::Bool(_) | Literal::Float(_), Literal::Str(_)) => true,
        _ => false,
    }
}

fn describe(value: &DefValue) -> String {
    match value {
        DefValue::Literal(Literal::Str(s)) if s.len() <= 40 && !s.contains('\n') => {
            format!("\"{s}\"")
        }
        DefValue::Literal(Literal::Str(_)) => "a string".into(),
        DefValue::Literal(Literal::Int(i)) => i.to_string(),
        DefValue::Literal(Literal::Float(f)) => f.to_string(),
        DefValue::Literal(Literal::Bool(b)) => b.to_string(),
        DefValue::Literal(Literal::Null) => "null".into(),
        _ => "a value".into(),
    }
}

fn cond_value(literal: &Literal) -> Option<CondValue> {
    match literal {
        Literal::Null => Some(CondValue::Null),
        Literal::Bool(b) => Some(CondValue::Bool(*b)),
        Literal::Int(i) => Some(CondValue::Int(*i)),
        Literal::Str(s) => Some(CondValue::Str(s.clone())),
        _ => None,
    }
}

/// An option's default as the extractor renders it, when a plain literal.
fn default_value(text: &str) -> Option<CondValue> {
    let text = text.trim();
    match text {
        "true" => return Some(CondValue::Bool(true)),
        "false" => return Some(CondValue::Bool(false)),
        "null" => return Some(CondValue::Null),
        "[ ]" | "[]" => return Some(CondValue::EmptyList),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(CondValue::Int(i));
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['\\', '"', '$'])).then(|| CondValue::Str(inner.to_string()))
}

/// A user file as shown in messages: relative to the flake's directory.
fn shown_user_path(db: &dyn Db, flake: File, file: File) -> String {
    let path = file.path(db);
    let dir = flake.path(db).parent().unwrap_or(std::path::Path::new("/"));
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

/// Why hardware options do not belong in a container system.
const CONTAINER_HARDWARE_HELP: &str = "MicrOS's getting-started guide keeps hardware-configuration.nix out of container images: kernel modules, file systems and network interfaces are the container runtime's job; leave this module out of the container's `modules`, or set these options only when `!config.boot.isContainer`";

/// The hardware option a definition path sets, as shown: kernel modules
/// and parameters, `boot.initrd.*`, `fileSystems`, `networking.interfaces`,
/// `hardware.*`.
fn hardware_option(path: &[String]) -> Option<String> {
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    let shown = match segments.as_slice() {
        [
            "boot",
            "kernelModules" | "kernelParams" | "extraModulePackages",
            ..,
        ]
        | ["networking", "interfaces", ..]
        | ["hardware", _, ..] => 2,
        ["boot", "initrd", _, ..] => 3,
        ["fileSystems", ..] => 1,
        _ => return None,
    };
    Some(show_option(&path[..shown]))
}

/// The attribute path selected from a `microsSystem` call
/// (`(microsSystem { ... }).config.system.build.ociImage`).
fn output_range(root: &rnix::SyntaxNode, call: TextRange) -> Option<TextRange> {
    use rowan::ast::AstNode;
    let node = match root.covering_element(call) {
        rowan::NodeOrToken::Node(node) => node,
        rowan::NodeOrToken::Token(token) => token.parent()?,
    };
    let select = node.ancestors().take(4).find_map(rnix::ast::Select::cast)?;
    Some(select.attrpath()?.syntax().text_range())
}
