//! Static extraction: evaluate module declarations (not configurations) and
//! collect the options they declare, as `lib.evalModules` would.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use rnix::ast;
use rowan::TextRange;
use rowan::ast::AstNode;

use crate::eval::types::{
    MAX_TYPE_DEPTH, SubmoduleResolver, option_type, thunk_option_type, wrap_unary,
};
use crate::eval::{
    AttrEntry, Attrs, EvalDiagnostic, Evaluator, FileId, Origin, SubmoduleSpec, Thunk, TypeVal,
    UnaryType, Value, normalize, to_pretty,
};
use crate::model::{
    Declaration, Literal, MigrationKind, OptionDecl, OptionMigration, OptionSet, OptionType,
    RootKind, SourceFile, Submodule, Visibility, show_option,
};

/// Submodules nest at most this deep; deeper is almost surely a type that
/// refers to itself (micros and the nixpkgs modules it imports nest two).
/// At 16, a submodule made anew at every level with a few hundred options
/// (found by the extract fuzzer) gave 5,600 options with locs of 110
/// segments, 13 MB of JSON.
const MAX_SUBMODULE_DEPTH: u32 = 8;
/// Submodules resolved below one option's type, all levels together: a
/// submodule whose options are two copies of itself doubles at every level,
/// which the depth bound alone let grow to 2^16 when it was 16 (seconds,
/// hundreds of MB).
/// Real trees resolve a few dozen. At 2,000 a 2.7 KB module (found by the
/// extract fuzzer) still gave 16,000 options and 25 MB of JSON, 0.4 s of
/// `micros options` and over a second in the fuzzing build.
pub const MAX_SUBMODULES_PER_OPTION: u32 = 500;
/// Options declared in the submodules below one option's type, all levels
/// together (the biggest submodules of NixOS declare a few dozen): a
/// submodule made anew at every level with a few hundred options (found by
/// the extract fuzzer) gave thousands of options with locs of a hundred
/// segments, over a second in the fuzzing build.
pub const MAX_SUB_OPTIONS_PER_OPTION: usize = 2_000;
/// Modules collected in one extraction, files and inline ones, submodules'
/// too: micros has some 60, all of NixOS some 2,000.
pub const MAX_MODULES: usize = 20_000;
/// Modules within modules (`imports`, lists of modules), files and inline
/// ones together; micros nests a handful.
const MAX_MODULE_DEPTH: u32 = 64;
/// Attribute nesting in an `options` tree.
const MAX_OPTIONS_DEPTH: usize = 64;
/// Sets and declarations read under `options`, all modules and submodules
/// of an extraction together. micros with the nixpkgs modules it imports
/// declares 330 options (all of NixOS some 20,000); a set made of fresh
/// copies of itself (a function that returns two) would otherwise be
/// walked to `MAX_OPTIONS_DEPTH` at every branch, 2^64 sets (found by the
/// diagnostics fuzzer: 14 GB in a minute). At this bound such a tree
/// takes 0.1 s.
pub const MAX_OPTION_ENTRIES: usize = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// Something the extractor could not do, pointing at the source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
    pub column: u32,
    pub range: Option<(u32, u32)>,
    pub message: String,
    /// A stable name for the kind of problem, where it has one
    /// (`infinite-recursion`).
    pub code: Option<&'static str>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line == 0 {
            write!(f, "{}: {severity}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {severity}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// A root the sources live under, and how declarations name files in it.
#[derive(Debug, Clone)]
pub struct Root {
    pub kind: RootKind,
    pub dir: PathBuf,
}

/// One module to evaluate, and where it comes from.
#[derive(Debug, Clone)]
pub enum ModuleSource {
    File(PathBuf),
    /// Source text held in memory (an editor buffer), under a path.
    Text {
        path: PathBuf,
        text: String,
    },
}

/// What to extract.
#[derive(Debug, Clone, Default)]
pub struct ExtractRequest {
    pub roots: Vec<Root>,
    pub modules: Vec<ModuleSource>,
    /// Declarations of the given modules only, without the files they
    /// import (an editor holds each file as an input of its own); inline
    /// modules in `imports` still count.
    pub skip_imports: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Extraction {
    pub options: OptionSet,
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read, in the order it was read.
    pub files: Vec<ReadFile>,
}

/// A file the extraction read, with the text it read and the tree it
/// parsed: a reader that goes on from the same files (the server's
/// systems read micros's modules) need not read and parse them again.
#[derive(Debug, Clone)]
pub struct ReadFile {
    pub path: PathBuf,
    pub text: String,
    /// `crate::syntax::parse` of `text`.
    pub tree: Option<rowan::GreenNode>,
}

/// An option's `type`: its value, the module file, and where it is written.
type TypeDecl = (Thunk, FileId, Option<(FileId, TextRange)>);

/// What one level of merging declarations' submodule types gives.
enum Merged {
    Submodule(OptionType),
    /// They share this wrapper; the types inside it, to merge next.
    Wrapped(UnaryType, Vec<(Thunk, FileId)>),
}

/// A declaration before merging.
struct RawDecl {
    loc: Vec<String>,
    option: Rc<Attrs>,
    /// The module file the declaration belongs to.
    file: FileId,
    /// Where the declaring attribute is.
    entry: Option<(FileId, TextRange)>,
    /// For aliases: the option whose type this one takes.
    alias_of: Option<Vec<String>>,
}

/// What a set of modules declares.
#[derive(Default)]
struct ModuleSet {
    decls: Vec<RawDecl>,
    freeform: Option<(Thunk, FileId)>,
}

struct Collector<'e> {
    eval: &'e mut Evaluator,
    skip_imports: bool,
    /// What `config` evaluates to: filled with the declared defaults once
    /// all declarations are collected (see [`Collector::config_view`]).
    config: Rc<RefCell<Option<Value>>>,
    roots: Vec<Root>,
    migrations: Vec<OptionMigration>,
    diagnostics: Vec<(Severity, FileId, TextRange, String)>,
    /// The submodules being resolved, outermost first: one met again
    /// contains itself.
    inside_submodules: Vec<*const SubmoduleSpec>,
    /// The sets under `options` being walked, outermost first: one met
    /// again contains itself.
    inside_option_sets: Vec<*const Attrs>,
    /// How deep in modules within modules the collection is.
    module_depth: u32,
}

/// Run the extraction on a thread of its own, with a stack large enough
/// for the deepest nesting the evaluator allows.
pub fn extract(request: &ExtractRequest) -> Extraction {
    let request = request.clone();
    let worker = std::thread::Builder::new()
        .name("micros-extract".into())
        .stack_size(256 * 1024 * 1024)
        .spawn(move || extract_here(&request));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(extraction)) => extraction,
        Ok(Err(_)) | Err(_) => Extraction {
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                file: PathBuf::from("<extractor>"),
                line: 0,
                column: 0,
                range: None,
                message: "the extractor failed unexpectedly; this is a bug in micros-lsp".into(),
                code: None,
            }],
            ..Default::default()
        },
    }
}

/// Evaluation steps one option's type, default, example or description
/// may take (a few milliseconds at most); real ones take a handful.
const OPTION_BUDGET: u64 = 250_000;
/// Evaluation steps one module may take to give its set (its function
/// applied): a module that runs away leaves the others their share, where
/// before it spent the whole budget and every option of micros read after
/// it was left without a type.
const MODULE_BUDGET: u64 = 250_000;

/// Extraction on the calling thread.
pub fn extract_here(request: &ExtractRequest) -> Extraction {
    let root_dirs: Vec<PathBuf> = request.roots.iter().map(|r| r.dir.clone()).collect();
    let mut eval = Evaluator::new(&root_dirs);
    let mut collector = Collector {
        eval: &mut eval,
        skip_imports: request.skip_imports,
        // As the evaluator names files: `..` and `.` resolved.
        roots: request
            .roots
            .iter()
            .map(|root| Root {
                kind: root.kind,
                dir: normalize(&root.dir),
            })
            .collect(),
        config: Rc::default(),
        migrations: Vec::new(),
        diagnostics: Vec::new(),
        inside_submodules: Vec::new(),
        inside_option_sets: Vec::new(),
        module_depth: 0,
    };
    let mut set = ModuleSet::default();
    let mut seen = HashSet::new();
    let args = collector.module_args(None);
    for module in &request.modules {
        let file = match module {
            ModuleSource::File(path) => match collector.eval.load_file(path) {
                Ok(id) => id,
                Err(message) => {
                    collector.diagnostics_without_file(path, message);
                    continue;
                }
            },
            ModuleSource::Text { path, text } => collector.eval.add_source(path.clone(), text),
        };
        if !seen.insert(file) {
            continue;
        }
        let thunk = collector.eval.import_file(file);
        collector.collect_module(
            thunk,
            file,
            TextRange::default(),
            &args,
            &mut set,
            &mut seen,
            &mut vec![file],
        );
    }
    // Resolving the options has a budget of its own: however much reading
    // the modules took, the options they declare get their types.
    collector.eval.set_fuel(crate::eval::FUEL);
    collector.config_view(&set.decls);
    let options = collector.merge(set.decls);
    let mut migrations = std::mem::take(&mut collector.migrations);
    migrations.sort_by(|a, b| a.from.cmp(&b.from));
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let raw = std::mem::take(&mut collector.diagnostics);
    drop(collector);
    let eval_diagnostics = std::mem::take(&mut eval.diagnostics);
    for EvalDiagnostic {
        file,
        range,
        message,
        code,
    } in eval_diagnostics
    {
        let mut diagnostic = make_diagnostic(&eval, Severity::Error, file, range, message);
        diagnostic.code = code;
        diagnostics.push(diagnostic);
    }
    for (severity, file, range, message) in raw {
        diagnostics.push(make_diagnostic(&eval, severity, file, range, message));
    }
    // A submodule resolved at every level of a type that nests it reports
    // its module's findings again each time: once is enough.
    let mut reported = HashSet::new();
    diagnostics.retain(|diagnostic| reported.insert(diagnostic.clone()));
    let files = (0..eval.file_count())
        .map(|i| {
            let file = eval.file(FileId(i as u32));
            ReadFile {
                path: file.path.clone(),
                text: file.text.to_string(),
                tree: file.root.as_ref().map(|root| root.green().to_owned()),
            }
        })
        .collect();
    Extraction {
        options: OptionSet {
            options,
            migrations,
        },
        diagnostics,
        files,
    }
}

fn make_diagnostic(
    eval: &Evaluator,
    severity: Severity,
    file: FileId,
    range: TextRange,
    message: String,
) -> Diagnostic {
    if file.0 as usize >= eval.file_count() {
        return Diagnostic {
            severity,
            file: PathBuf::from("<unknown>"),
            line: 0,
            column: 0,
            range: None,
            message,
            code: None,
        };
    }
    let source = eval.file(file);
    let (line, column) = source.line_col(range.start().into());
    Diagnostic {
        severity,
        file: source.path.clone(),
        line,
        column,
        range: Some((range.start().into(), range.end().into())),
        message,
        code: None,
    }
}

impl Collector<'_> {
    fn diagnostics_without_file(&mut self, path: &Path, message: String) {
        // Not loaded, so it has no FileId: register an empty source for it.
        let id = self.eval.add_source(path.to_path_buf(), "");
        self.diagnostics
            .push((Severity::Error, id, TextRange::default(), message));
    }

    fn warn(&mut self, file: FileId, range: TextRange, message: impl Into<String>) {
        self.diagnostics
            .push((Severity::Warning, file, range, message.into()));
    }

    /// The arguments a module function receives. `config`, `options` and
    /// `pkgs` stay unknown: declarations must not depend on them.
    fn module_args(&mut self, name: Option<&str>) -> Thunk {
        let mut args = Attrs::default();
        args.insert("lib", self.eval.lib());
        let config = self.config.clone();
        args.insert(
            "config",
            Thunk::native(move |_| {
                config
                    .borrow()
                    .clone()
                    .unwrap_or_else(|| Value::unknown("config"))
            }),
        );
        for unknown in ["options", "pkgs", "utils", "modulesPath", "specialArgs"] {
            args.insert(unknown, Thunk::value(Value::unknown(unknown)));
        }
        if let Some(name) = name {
            args.insert("name", Thunk::value(Value::str(name)));
        }
        Thunk::value(Value::Attrs(Rc::new(args)))
    }

    #[allow(clippy::too_many_arguments)]
    fn collect_module(
        &mut self,
        module: Thunk,
        file: FileId,
        site: TextRange,
        args: &Thunk,
        out: &mut ModuleSet,
        seen: &mut HashSet<FileId>,
        stack: &mut Vec<FileId>,
    ) {
        // Within the depth bound, a module that imports itself twice at
        // every level still branches to 2^64 modules.
        self.eval.modules_collected += 1;
        if self.eval.modules_collected > MAX_MODULES {
            // Said once, and not through `report_recursion`: the depth bound
            // has usually been reported at this very place already.
            if self.eval.modules_collected == MAX_MODULES + 1 {
                self.eval.diagnostics.push(EvalDiagnostic {
                    file,
                    range: site,
                    message: format!(
                        "infinite recursion encountered: the modules go on past {MAX_MODULES} (does a module import itself more than once?); the rest are not read"
                    ),
                    code: Some(crate::eval::INFINITE_RECURSION),
                });
            }
            return;
        }
        // A file is read once, but a module written inline can hold itself
        // (`m = { imports = [ m ]; }`): without a bound that overflowed the
        // stack, taking `micros check` and the server down.
        if self.module_depth >= MAX_MODULE_DEPTH {
            self.eval.report_recursion(
                file,
                site,
                &format!(
                    "infinite recursion encountered: modules import modules deeper than {MAX_MODULE_DEPTH} levels here (does a module import itself?)"
                ),
            );
            return;
        }
        self.module_depth += 1;
        let value = self.eval.with_budget(MODULE_BUDGET, |eval| {
            let mut value = eval.force(&module);
            // A module may be a function of the module arguments.
            for _ in 0..8 {
                match value {
                    Value::Lambda(_) | Value::Prim(_) => value = eval.apply(value, args.clone()),
                    Value::Attrs(ref attrs) if attrs.get("__functor").is_some() => {
                        value = eval.apply(value, args.clone())
                    }
                    _ => break,
                }
            }
            value
        });
        // Problems with the module as a whole point at where it is named.
        let whole_file = site;
        match value {
            Value::Path(path) => {
                self.collect_import(&path, file, whole_file, args, out, seen, stack)
            }
            Value::Str(s) if s.starts_with('/') => {
                self.collect_import(Path::new(&*s), file, whole_file, args, out, seen, stack)
            }
            Value::Attrs(attrs) => {
                self.collect_attrs_module(&attrs, file, site, args, out, seen, stack)
            }
            // A file listing modules (`all-modules.nix`).
            Value::List(items) => {
                for item in items.iter() {
                    let item_site = site_of(item, file).unwrap_or(site);
                    self.collect_module(item.clone(), file, item_site, args, out, seen, stack);
                }
            }
            Value::Unknown(reason) => self.warn(
                file,
                whole_file,
                format!("could not evaluate this module: {reason}"),
            ),
            other => self.warn(
                file,
                whole_file,
                format!(
                    "a module must be a set, a function or a path, not a {}",
                    other.type_name()
                ),
            ),
        }
        self.module_depth -= 1;
    }

    #[allow(clippy::too_many_arguments)]
    fn collect_import(
        &mut self,
        path: &Path,
        from: FileId,
        range: TextRange,
        args: &Thunk,
        out: &mut ModuleSet,
        seen: &mut HashSet<FileId>,
        stack: &mut Vec<FileId>,
    ) {
        let id = match self.eval.load_file(path) {
            Ok(id) => id,
            Err(message) => {
                self.diagnostics
                    .push((Severity::Error, from, range, message));
                return;
            }
        };
        if stack.contains(&id) {
            let cycle: Vec<String> = stack
                .iter()
                .skip_while(|f| **f != id)
                .chain(std::iter::once(&id))
                .map(|f| self.eval.file(*f).path.display().to_string())
                .collect();
            self.warn(from, range, format!("import cycle: {}", cycle.join(" → ")));
            return;
        }
        // The module system imports each file once, however often it is named.
        if !seen.insert(id) {
            return;
        }
        let thunk = self.eval.import_file(id);
        stack.push(id);
        self.collect_module(thunk, id, TextRange::default(), args, out, seen, stack);
        stack.pop();
    }

    #[allow(clippy::too_many_arguments)]
    fn collect_attrs_module(
        &mut self,
        attrs: &Rc<Attrs>,
        file: FileId,
        site: TextRange,
        args: &Thunk,
        out: &mut ModuleSet,
        seen: &mut HashSet<FileId>,
        stack: &mut Vec<FileId>,
    ) {
        if let Some(kind) = self.string_attr(attrs, "_type") {
            if &*kind == "micros-option-migration" {
                self.record_migration(attrs, file, site, out);
            }
            // Other typed values (`mkIf`, `mkMerge`...) define config only.
            return;
        }
        if let Some(imports) = attrs.get("imports") {
            let imports = imports.clone();
            match self.eval.force(&imports.thunk) {
                Value::List(items) => {
                    for item in items.iter() {
                        let range = site_of(item, file)
                            .or(imports.origin.as_ref().map(|o| o.entry))
                            .unwrap_or_default();
                        match self.eval.force(item) {
                            // Files are inputs of their own when imports are
                            // skipped; inline modules (migrations) still count.
                            Value::Path(_) if self.skip_imports => {}
                            Value::Str(s) if self.skip_imports && s.starts_with('/') => {}
                            Value::Path(path) => {
                                self.collect_import(&path, file, range, args, out, seen, stack)
                            }
                            Value::Str(s) if s.starts_with('/') => self.collect_import(
                                Path::new(&*s),
                                file,
                                range,
                                args,
                                out,
                                seen,
                                stack,
                            ),
                            _ => self.collect_module(
                                item.clone(),
                                file,
                                range,
                                args,
                                out,
                                seen,
                                stack,
                            ),
                        }
                    }
                }
                Value::Unknown(reason) => {
                    let range = imports.origin.as_ref().map(|o| o.entry).unwrap_or_default();
                    self.warn(
                        file,
                        range,
                        format!("could not evaluate `imports`: {reason}"),
                    );
                }
                other => {
                    let range = imports.origin.as_ref().map(|o| o.entry).unwrap_or_default();
                    self.warn(
                        file,
                        range,
                        format!("`imports` must be a list, not a {}", other.type_name()),
                    );
                }
            }
        }
        if let Some(freeform) = attrs.get("freeformType") {
            out.freeform = Some((freeform.thunk.clone(), file));
        }
        // Only the structured form (`options` or `config` present) declares.
        if attrs.get("options").is_none() && attrs.get("config").is_none() {
            return;
        }
        if let Some(options) = attrs.get("options") {
            let options = options.clone();
            self.walk_options(&options, &mut Vec::new(), file, out);
        }
    }

    fn string_attr(&mut self, attrs: &Attrs, name: &str) -> Option<Rc<str>> {
        let thunk = attrs.get(name)?.thunk.clone();
        match self.eval.force(&thunk) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    fn walk_options(
        &mut self,
        entry: &AttrEntry,
        loc: &mut Vec<String>,
        file: FileId,
        out: &mut ModuleSet,
    ) {
        let range = entry
            .origin
            .as_ref()
            .filter(|o| o.file == file)
            .map(|o| o.entry);
        if self.eval.option_entries >= MAX_OPTION_ENTRIES {
            return;
        }
        self.eval.option_entries += 1;
        // Either limit is a tree that goes on and on: said once.
        let runaway = if self.eval.option_entries == MAX_OPTION_ENTRIES {
            Some(format!(
                "infinite recursion encountered: the sets under `options` go on past {MAX_OPTION_ENTRIES} sets and declarations (is a set made of copies of itself?); the rest is not read"
            ))
        } else if loc.len() > MAX_OPTIONS_DEPTH {
            Some(format!(
                "infinite recursion encountered: option declarations nested too deeply (more than {MAX_OPTIONS_DEPTH} levels)"
            ))
        } else {
            None
        };
        if let Some(message) = runaway {
            if !self.eval.option_walk_reported {
                self.eval.option_walk_reported = true;
                self.eval
                    .report_recursion(file, range.unwrap_or_default(), &message);
            }
            return;
        }
        match self.eval.force(&entry.thunk) {
            Value::Attrs(attrs) => {
                if self.string_attr(&attrs, "_type").as_deref() == Some("option") {
                    out.decls.push(RawDecl {
                        loc: loc.clone(),
                        option: attrs,
                        file,
                        entry: entry.origin.as_ref().map(|o| (o.file, o.entry)),
                        alias_of: None,
                    });
                    return;
                }
                let set = Rc::as_ptr(&attrs);
                if self.inside_option_sets.contains(&set) {
                    // Once for each set, however many of its entries are it.
                    if !self.eval.option_cycles_reported.insert(set as usize) {
                        return;
                    }
                    let what = if loc.is_empty() {
                        "`options`".to_string()
                    } else {
                        format!("`{}`", show_option(loc))
                    };
                    self.eval.report_recursion(
                        entry.origin.as_ref().map_or(file, |o| o.file),
                        entry.origin.as_ref().map(|o| o.entry).unwrap_or_default(),
                        &format!(
                            "infinite recursion encountered: the options at {what} contain the set they are in"
                        ),
                    );
                    return;
                }
                self.inside_option_sets.push(set);
                for (name, child) in &attrs.entries {
                    loc.push(name.to_string());
                    self.walk_options(child, loc, file, out);
                    loc.pop();
                }
                self.inside_option_sets.pop();
            }
            Value::Unknown(reason) => {
                let what = if loc.is_empty() {
                    "`options`".to_string()
                } else {
                    format!("`{}`", show_option(loc))
                };
                self.warn(
                    entry.origin.as_ref().map_or(file, |o| o.file),
                    entry.origin.as_ref().map(|o| o.entry).unwrap_or_default(),
                    format!("could not resolve the options declared at {what}: {reason}"),
                );
            }
            other => {
                self.warn(
                    entry.origin.as_ref().map_or(file, |o| o.file),
                    entry.origin.as_ref().map(|o| o.entry).unwrap_or_default(),
                    format!(
                        "`{}` is a {}, not an option declaration or a set of them",
                        show_option(loc),
                        other.type_name()
                    ),
                );
            }
        }
    }

    fn record_migration(
        &mut self,
        attrs: &Rc<Attrs>,
        file: FileId,
        site: TextRange,
        out: &mut ModuleSet,
    ) {
        let kind = self
            .string_attr(attrs, "kind")
            .unwrap_or_else(|| "renamed".into());
        let from = self.string_list_attr(attrs, "from");
        let to = self.string_list_attr(attrs, "to");
        let message = self.string_attr(attrs, "message").map(|s| s.to_string());
        let range = site;
        let Some(from) = from else {
            self.warn(
                file,
                range,
                "could not resolve the option path of an option migration",
            );
            return;
        };
        let entry = (!site.is_empty()).then_some((file, site));
        let declaration = self.declaration(file, entry);
        let migration = match (&*kind, to) {
            ("removed", _) => MigrationKind::Removed {
                message: message.unwrap_or_default(),
            },
            ("alias", Some(to)) => MigrationKind::Alias { to },
            (_, Some(to)) => MigrationKind::Renamed { to },
            (_, None) => {
                self.warn(
                    file,
                    range,
                    "could not resolve the new option path of a rename",
                );
                return;
            }
        };
        // The module system declares the old path as an option too; so do we.
        let mut option = Attrs::from_values([("_type", Value::str("option"))]);
        let alias_of = match &migration {
            MigrationKind::Removed { .. } => {
                option.insert("visible", Thunk::value(Value::Bool(false)));
                None
            }
            MigrationKind::Renamed { to } | MigrationKind::Alias { to } => {
                let visible = matches!(migration, MigrationKind::Alias { .. });
                option.insert("visible", Thunk::value(Value::Bool(visible)));
                option.insert(
                    "description",
                    Thunk::value(Value::str(format!(
                        "Alias of {{option}}`{}`.",
                        show_option(to)
                    ))),
                );
                Some(to.clone())
            }
        };
        // `mkMergedOptionModule` takes a list of old paths: one per member.
        let froms: Vec<Vec<String>> = if kind.as_ref() == "merged" {
            self.string_list_list_attr(attrs, "from")
                .unwrap_or_default()
        } else {
            vec![from]
        };
        let option = Rc::new(option);
        for from in froms {
            out.decls.push(RawDecl {
                loc: from.clone(),
                option: option.clone(),
                file,
                entry,
                alias_of: alias_of.clone(),
            });
            self.migrations.push(OptionMigration {
                from,
                kind: migration.clone(),
                declaration: declaration.clone(),
            });
        }
    }

    fn string_list_attr(&mut self, attrs: &Attrs, name: &str) -> Option<Vec<String>> {
        let thunk = attrs.get(name)?.thunk.clone();
        let Value::List(items) = self.eval.force(&thunk) else {
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match self.eval.force(item) {
                Value::Str(s) => out.push(s.to_string()),
                Value::List(_) => return None,
                _ => return None,
            }
        }
        Some(out)
    }

    fn string_list_list_attr(&mut self, attrs: &Attrs, name: &str) -> Option<Vec<Vec<String>>> {
        let thunk = attrs.get(name)?.thunk.clone();
        let Value::List(items) = self.eval.force(&thunk) else {
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let holder = Attrs {
                entries: [(
                    "x".into(),
                    AttrEntry {
                        thunk: item.clone(),
                        origin: None,
                    },
                )]
                .into(),
            };
            out.push(self.string_list_attr(&holder, "x")?);
        }
        Some(out)
    }

    fn source_file(&self, file: FileId) -> SourceFile {
        let path = &self.eval.file(file).path;
        for root in &self.roots {
            if let Ok(rel) = path.strip_prefix(&root.dir) {
                return SourceFile {
                    root: root.kind,
                    path: slash_path(rel),
                };
            }
        }
        // A root named differently from its files (relative, or through a
        // symlink): compare where they really are.
        if let Ok(real) = path.canonicalize() {
            for root in &self.roots {
                if let Ok(dir) = root.dir.canonicalize()
                    && let Ok(rel) = real.strip_prefix(&dir)
                {
                    return SourceFile {
                        root: root.kind,
                        path: slash_path(rel),
                    };
                }
            }
        }
        SourceFile {
            root: RootKind::User,
            path: path.display().to_string(),
        }
    }

    fn declaration(&self, file: FileId, entry: Option<(FileId, TextRange)>) -> Declaration {
        let range = entry.filter(|(f, _)| *f == file).map(|(_, r)| r);
        let (line, column) = match range {
            Some(r) => self.eval.file(file).line_col(r.start().into()),
            None => (0, 0),
        };
        Declaration {
            file: self.source_file(file),
            range: range.map(|r| (r.start().into(), r.end().into())),
            line,
            column,
        }
    }

    /// Make `config` answer with the declared defaults, as a documentation
    /// evaluation without definitions would (`config.uid` in a submodule's
    /// `gid` default). Paths without a default stay unknown.
    fn config_view(&mut self, decls: &[RawDecl]) {
        #[derive(Default)]
        struct Node {
            value: Option<Thunk>,
            children: BTreeMap<String, Node>,
        }
        fn build(node: Node) -> Value {
            let mut attrs = Attrs::default();
            for (name, child) in node.children {
                let thunk = match child.value {
                    Some(thunk) if child.children.is_empty() => thunk,
                    _ => Thunk::value(build(child)),
                };
                attrs.insert(name.as_str(), thunk);
            }
            Value::Attrs(Rc::new(attrs))
        }
        let mut root = Node::default();
        for decl in decls {
            let mut node = &mut root;
            for segment in &decl.loc {
                node = node.children.entry(segment.clone()).or_default();
            }
            if node.value.is_none() {
                node.value = Some(match decl.option.get("default") {
                    Some(entry) => entry.thunk.clone(),
                    None => {
                        Thunk::value(Value::unknown(format!("config.{}", show_option(&decl.loc))))
                    }
                });
            }
        }
        *self.config.borrow_mut() = Some(build(root));
    }

    /// Merge the declarations of each path into one option, in loc order.
    fn merge(&mut self, decls: Vec<RawDecl>) -> Vec<OptionDecl> {
        let mut by_loc: BTreeMap<Vec<String>, Vec<RawDecl>> = BTreeMap::new();
        for decl in decls {
            by_loc.entry(decl.loc.clone()).or_default().push(decl);
        }
        // Paths below another option belong to that option's submodule
        // (`system.build.x` declared beside `system.build`): nixpkgs
        // rejects them outside submodules, so they are reported.
        let mut options: Vec<OptionDecl> = Vec::with_capacity(by_loc.len());
        let alias_types: Vec<(Vec<String>, Vec<String>)> = by_loc
            .iter()
            .filter_map(|(loc, ds)| {
                ds.iter()
                    .find_map(|d| d.alias_of.clone())
                    .map(|to| (loc.clone(), to))
            })
            .collect();
        for (loc, group) in by_loc {
            options.push(self.finish_option(loc, group));
        }

        for (from, to) in alias_types {
            let target = options.iter().find(|o| o.loc == to).map(|o| o.ty.clone());
            if let Some(option) = options.iter_mut().find(|o| o.loc == from) {
                option.ty = target.unwrap_or_else(|| OptionType::Submodule(Arc::default()));
            }
        }
        nest_into_submodules(options)
    }

    fn finish_option(&mut self, loc: Vec<String>, group: Vec<RawDecl>) -> OptionDecl {
        let mut option = OptionDecl::new(loc, OptionType::Unspecified);
        // In module order, once per file, as the module system lists them.
        for decl in &group {
            let declaration = self.declaration(decl.file, decl.entry);
            if !option
                .declarations
                .iter()
                .any(|d| d.file == declaration.file)
            {
                option.declarations.push(declaration);
            }
        }

        // Types: several declarations of one option merge only when they
        // are submodules (their modules concatenate).
        let mut types = Vec::new();
        for decl in &group {
            if let Some(entry) = decl.option.get("type") {
                let site = entry.origin.as_ref().map(|o| (o.file, o.entry));
                types.push((entry.thunk.clone(), decl.file, site));
            }
        }
        let recursions = self.eval.recursions_met();
        option.ty = self.with_option_budget(|this| this.merged_type(&types));
        // A type that contains itself has been reported as such; its
        // `Unknown` part needs no second word.
        let recursion_reported = self.eval.recursions_met() > recursions;

        for decl in &group {
            let attrs = decl.option.clone();
            if option.default.is_none()
                && let Some(entry) = attrs.get("default")
            {
                option.default = self.render_value(entry);
            }
            if option.default_text.is_none()
                && let Some(entry) = attrs.get("defaultText")
            {
                option.default_text = self.render_value(entry);
            }
            if option.example.is_none()
                && let Some(entry) = attrs.get("example")
            {
                option.example = self.render_value(entry);
            }
            if option.description.is_none()
                && let Some(entry) = attrs.get("description")
            {
                option.description = self.render_description(entry);
            }
            if let Some(b) = self.bool_attr(&attrs, "readOnly") {
                option.read_only |= b;
            }
            if let Some(b) = self.bool_attr(&attrs, "internal") {
                option.internal |= b;
            }
            if let Some(entry) = attrs.get("visible") {
                option.visible = match self.eval.force(&entry.thunk.clone()) {
                    Value::Bool(false) => Visibility::Hidden,
                    Value::Str(s) if &*s == "shallow" => Visibility::Shallow,
                    Value::Str(s) if &*s == "transparent" => Visibility::Transparent,
                    _ => Visibility::Visible,
                };
            }
            if let Some(unknown) = unknown_part(&option.ty).filter(|_| !recursion_reported) {
                let (file, range) = decl
                    .option
                    .get("type")
                    .and_then(|e| e.origin.as_ref())
                    .map(|o| (o.file, o.entry))
                    .or(decl.entry)
                    .unwrap_or((decl.file, TextRange::default()));
                self.warn(
                    file,
                    range,
                    format!(
                        "could not resolve the type of `{}` statically (`{unknown}`); it is treated as any value",
                        option.name()
                    ),
                );
            }
        }
        if option.default.is_none()
            && option.default_text.is_none()
            && let Some(empty) = option.ty.documented_empty_value()
        {
            option.default = Some(Literal::expression(empty));
        }
        option
    }

    fn bool_attr(&mut self, attrs: &Attrs, name: &str) -> Option<bool> {
        let thunk = attrs.get(name)?.thunk.clone();
        match self.eval.force(&thunk) {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn merged_type(&mut self, types: &[TypeDecl]) -> OptionType {
        if types.len() > 1 {
            let plain: Vec<(Thunk, FileId)> =
                types.iter().map(|(t, f, _)| (t.clone(), *f)).collect();
            if let Some(merged) = self.merge_submodule_types(&plain) {
                return merged;
            }
        }
        match types.first() {
            Some((thunk, type_file, site)) => {
                let type_file = *type_file;
                let mut resolve = |eval: &mut Evaluator, spec: &Rc<SubmoduleSpec>| {
                    resolve_submodule(
                        eval,
                        &self.roots,
                        &mut self.migrations,
                        &mut self.diagnostics,
                        &self.inside_submodules,
                        &[(spec.clone(), type_file)],
                    )
                };
                let resolve: &mut SubmoduleResolver<'_> = &mut resolve;
                thunk_option_type(self.eval, thunk, *site, resolve)
            }
            None => OptionType::Unspecified,
        }
    }

    /// `typeMerge` where it matters: the submodules of several declarations
    /// concatenate their modules, also inside the same wrapper
    /// (`attrsOf (submodule ..)` declared in two modules). `None` when the
    /// types are not all alike in that way, or when the wrappers nest
    /// deeper than conversion allows (a type that contains itself, `self =
    /// attrsOf self`, wraps without end): conversion then reports it.
    fn merge_submodule_types(&mut self, types: &[(Thunk, FileId)]) -> Option<OptionType> {
        let mut types = types.to_vec();
        let mut wrappers = Vec::new();
        loop {
            match self.merge_submodule_level(&types)? {
                Merged::Submodule(ty) => {
                    return Some(
                        wrappers
                            .into_iter()
                            .rev()
                            .fold(ty, |inner, kind| wrap_unary(kind, inner)),
                    );
                }
                Merged::Wrapped(kind, inner) if wrappers.len() < MAX_TYPE_DEPTH => {
                    wrappers.push(kind);
                    types = inner;
                }
                Merged::Wrapped(..) => return None,
            }
        }
    }

    /// One level of [`Self::merge_submodule_types`]: the submodules merged,
    /// or the types inside one wrapper they all share.
    fn merge_submodule_level(&mut self, types: &[(Thunk, FileId)]) -> Option<Merged> {
        let mut specs = Vec::with_capacity(types.len());
        let mut wrapped = Vec::with_capacity(types.len());
        let mut wrapper = None;
        for (thunk, file) in types {
            let Value::Type(t) = self.eval.force(thunk) else {
                return None;
            };
            match &*t {
                TypeVal::Submodule(spec) => specs.push((spec.clone(), *file)),
                TypeVal::Unary(kind, inner)
                    if !matches!(kind, UnaryType::AddCheck | UnaryType::NonEmptyListOf)
                        && wrapper.is_none_or(|w| w == *kind) =>
                {
                    wrapper = Some(*kind);
                    wrapped.push((inner.clone(), *file));
                }
                _ => return None,
            }
        }
        match wrapper {
            None => Some(Merged::Submodule(match self.resolve_submodules(&specs) {
                Ok(submodule) => OptionType::Submodule(submodule),
                Err(_) => OptionType::Unknown("infinite recursion".into()),
            })),
            Some(kind) if specs.is_empty() => Some(Merged::Wrapped(kind, wrapped)),
            Some(_) => None,
        }
    }

    fn resolve_submodules(
        &mut self,
        specs: &[(Rc<SubmoduleSpec>, FileId)],
    ) -> Result<Arc<Submodule>, String> {
        resolve_submodule(
            self.eval,
            &self.roots,
            &mut self.migrations,
            &mut self.diagnostics,
            &self.inside_submodules,
            specs,
        )
    }

    /// A default, defaultText or example as documentation shows it.
    fn with_option_budget<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let scope = self.eval.enter_budget(OPTION_BUDGET);
        let result = f(self);
        self.eval.leave_budget(scope);
        result
    }

    fn render_value(&mut self, entry: &AttrEntry) -> Option<Literal> {
        let value = self
            .eval
            .with_budget(OPTION_BUDGET, |eval| eval.force(&entry.thunk.clone()));
        if let Value::Attrs(attrs) = &value
            && let Some(kind) = self.string_attr(attrs, "_type")
            && let Some(text_entry) = attrs.get("text")
        {
            let text = match self.eval.force(&text_entry.thunk.clone()) {
                Value::Str(s) => s.to_string(),
                _ => text_entry
                    .origin
                    .as_ref()
                    .map(|o| lenient_text(self.eval, o))
                    .unwrap_or_default(),
            };
            match &*kind {
                "literalExpression" => return Some(Literal::expression(text)),
                "literalMD" => return Some(Literal::markdown(text)),
                _ => {}
            }
        }
        if let Some(text) = self
            .eval
            .with_budget(OPTION_BUDGET, |eval| to_pretty(eval, &value))
        {
            return Some(Literal::expression(text));
        }
        // Not computable statically (it needs `config` or `pkgs`): show the
        // expression as written.
        entry
            .origin
            .as_ref()
            .map(|o| Literal::expression(o.expr.syntax().to_string()))
    }

    fn render_description(&mut self, entry: &AttrEntry) -> Option<String> {
        let value = self
            .eval
            .with_budget(OPTION_BUDGET, |eval| eval.force(&entry.thunk.clone()));
        match value {
            Value::Str(s) => Some(s.to_string()),
            Value::Null => None,
            _ => entry.origin.as_ref().map(|o| lenient_text(self.eval, o)),
        }
    }
}

/// Where a module value not yet forced is written in `file`.
fn site_of(thunk: &Thunk, file: FileId) -> Option<TextRange> {
    thunk
        .pending_range()
        .filter(|(f, _)| *f == file)
        .map(|(_, r)| r)
}

/// `options.a.b.c = ..` beside `options.a.b = mkOption { type = submodule .. }`:
/// the module system adds the deeper declaration to the submodule, and the
/// outer option is declared in that file too.
fn nest_into_submodules(options: Vec<OptionDecl>) -> Vec<OptionDecl> {
    let mut out: Vec<OptionDecl> = Vec::with_capacity(options.len());
    for option in options {
        let parent = out.iter_mut().rev().find(|p| {
            option.loc.len() > p.loc.len()
                && option.loc.starts_with(&p.loc)
                && matches!(p.ty, OptionType::Submodule(_))
        });
        match parent {
            Some(parent) => {
                let OptionType::Submodule(sub) = &mut parent.ty else {
                    unreachable!()
                };
                let mut child = option;
                child.loc.drain(..parent.loc.len());
                for declaration in &child.declarations {
                    if !parent
                        .declarations
                        .iter()
                        .any(|d| d.file == declaration.file)
                    {
                        // Its position is where the deeper option is declared.
                        parent.declarations.push(declaration.clone());
                    }
                }
                let sub = Arc::make_mut(sub);
                sub.options.push(child);
                sub.options.sort_by(|a, b| a.loc.cmp(&b.loc));
            }
            None => out.push(option),
        }
    }
    out
}

/// A string expression with its unknown interpolations kept as source.
fn lenient_text(eval: &mut Evaluator, origin: &Origin) -> String {
    if let ast::Expr::Str(s) = &origin.expr
        && let Value::Str(text) = eval.eval_string_lenient(s, &origin.env)
    {
        return text.to_string();
    }
    origin.expr.syntax().to_string()
}

fn unknown_part(ty: &OptionType) -> Option<String> {
    match ty {
        OptionType::Unknown(source) => Some(source.clone()),
        OptionType::NullOr(t)
        | OptionType::ListOf(t)
        | OptionType::NonEmptyListOf(t)
        | OptionType::AttrsOf(t)
        | OptionType::LazyAttrsOf(t)
        | OptionType::AddCheck(t)
        | OptionType::Uniq(t)
        | OptionType::FunctionTo(t)
        | OptionType::DagOf(t) => unknown_part(t),
        OptionType::Either(a, b) | OptionType::CoercedTo { from: a, to: b } => {
            unknown_part(a).or_else(|| unknown_part(b))
        }
        OptionType::OneOf(members) => members.iter().find_map(unknown_part),
        OptionType::Custom {
            base: Some(base), ..
        } => unknown_part(base),
        _ => None,
    }
}

/// Evaluate a submodule's modules (several when declarations merge) and
/// collect their options, with locs relative to the submodule. A submodule
/// met again inside itself, or nested deeper than [`MAX_SUBMODULE_DEPTH`],
/// is not resolved: the error says why, for the caller to report.
fn resolve_submodule(
    eval: &mut Evaluator,
    roots: &[Root],
    migrations: &mut Vec<OptionMigration>,
    diagnostics: &mut Vec<(Severity, FileId, TextRange, String)>,
    inside: &[*const SubmoduleSpec],
    specs: &[(Rc<SubmoduleSpec>, FileId)],
) -> Result<Arc<Submodule>, String> {
    if specs
        .iter()
        .any(|(spec, _)| inside.contains(&Rc::as_ptr(spec)))
    {
        return Err("infinite recursion encountered: this submodule contains itself".into());
    }
    if inside.len() >= MAX_SUBMODULE_DEPTH as usize {
        return Err(format!(
            "infinite recursion encountered: submodules nest deeper than {MAX_SUBMODULE_DEPTH} levels here"
        ));
    }
    if inside.is_empty() {
        eval.submodules_resolved = 0;
        eval.sub_options_resolved = 0;
    }
    eval.submodules_resolved += 1;
    if eval.submodules_resolved > MAX_SUBMODULES_PER_OPTION {
        return Err(format!(
            "infinite recursion encountered: this type expands into more than {MAX_SUBMODULES_PER_OPTION} submodules"
        ));
    }
    if eval.sub_options_resolved > MAX_SUB_OPTIONS_PER_OPTION {
        return Err(format!(
            "infinite recursion encountered: this type expands into more than {MAX_SUB_OPTIONS_PER_OPTION} options"
        ));
    }
    let mut inside = inside.to_vec();
    inside.extend(specs.iter().map(|(spec, _)| Rc::as_ptr(spec)));
    let mut collector = Collector {
        eval,
        skip_imports: false,
        roots: roots.to_vec(),
        config: Rc::default(),
        migrations: Vec::new(),
        diagnostics: Vec::new(),
        inside_submodules: inside,
        inside_option_sets: Vec::new(),
        module_depth: 0,
    };
    // Documentation evaluates submodules with the placeholder name.
    let args = collector.module_args(Some("‹name›"));
    let mut set = ModuleSet::default();
    let mut seen = HashSet::new();
    let mut shorthand_only = true;
    for (spec, file) in specs {
        shorthand_only &= spec.shorthand_only_defines_config;
        for module in &spec.modules {
            collector.collect_module(
                module.clone(),
                *file,
                TextRange::default(),
                &args,
                &mut set,
                &mut seen,
                &mut vec![*file],
            );
        }
    }
    let inside = collector.inside_submodules.clone();
    let freeform = set.freeform.take().map(|(thunk, file)| {
        let mut resolve = |eval: &mut Evaluator, spec: &Rc<SubmoduleSpec>| {
            resolve_submodule(
                eval,
                roots,
                &mut Vec::new(),
                &mut Vec::new(),
                &inside,
                &[(spec.clone(), file)],
            )
        };
        let resolve: &mut SubmoduleResolver<'_> = &mut resolve;
        match collector.eval.force(&thunk) {
            Value::Type(t) => option_type(collector.eval, &t, resolve),
            _ => OptionType::Unknown("freeformType".into()),
        }
    });
    collector.config_view(&set.decls);
    // Counted before the submodules below are resolved (in `merge`), so
    // that a chain of them stops at the bound rather than past it.
    collector.eval.sub_options_resolved += set.decls.len();
    let options = collector.merge(set.decls);
    migrations.append(&mut collector.migrations);
    diagnostics.append(&mut collector.diagnostics);
    Ok(Arc::new(Submodule {
        options,
        freeform,
        shorthand_only_defines_config: shorthand_only,
    }))
}

fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
