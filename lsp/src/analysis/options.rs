//! The option set as the analyzer looks it up: a trie per option set (the
//! top level and each submodule), and the migrations by old path.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use std::path::{Path, PathBuf};

use micros_options::OptionType;
use micros_options::model::{
    Declaration, MigrationKind, OptionDecl, OptionMigration, OptionSet, RootKind, Submodule,
};

/// One level of options: names below it, and the option at it if any.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Trie {
    pub children: BTreeMap<String, Trie>,
    pub option: Option<Arc<OptionDecl>>,
    /// The full loc of this node (placeholders included), for messages.
    pub loc: Vec<String>,
}

impl Trie {
    fn build(options: &[OptionDecl], prefix: &[String]) -> Trie {
        let mut root = Trie {
            loc: prefix.to_vec(),
            ..Default::default()
        };
        for option in options {
            let mut node = &mut root;
            for segment in &option.loc {
                let loc = {
                    let mut l = node.loc.clone();
                    l.push(segment.clone());
                    l
                };
                node = node
                    .children
                    .entry(segment.clone())
                    .or_insert_with(|| Trie {
                        loc,
                        ..Default::default()
                    });
            }
            let mut full = option.clone();
            full.loc = node.loc.clone();
            node.option = Some(Arc::new(full));
        }
        root
    }

    /// Every option below this node (itself included), for suggestions.
    pub fn options(&self) -> Vec<&Arc<OptionDecl>> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            out.extend(node.option.iter());
            stack.extend(node.children.values());
        }
        out
    }
}

/// Prefixes declared by the six nixpkgs modules micros imports
/// (`eval-config.nix`). When nixpkgs cannot be found, definitions under
/// them are not reported as unknown.
pub const NIXPKGS_OWNED_PREFIXES: &[&str] = &[
    "assertions",
    "warnings",
    "meta",
    "lib",
    "boot.consoleLogLevel",
    "boot.extraModulePackages",
    "boot.initrd.allowMissingModules",
    "boot.initrd.availableKernelModules",
    "boot.initrd.includeDefaultModules",
    "boot.initrd.kernelModules",
    "boot.kernel",
    "boot.kernelModules",
    "boot.kernelPackages",
    "boot.kernelParams",
    "boot.kernelPatches",
    "boot.blacklistedKernelModules",
    "boot.vesa",
    "environment.etc",
    "nixpkgs",
    "system.build",
    "system.etc",
    "system.modulesTree",
    "system.requiredKernelConfig",
];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct OptionIndex {
    pub set: Arc<OptionSet>,
    pub root: Trie,
    /// Tries of submodules, by the address of their `Submodule`.
    submodules: SubmoduleTries,
    pub migrations: BTreeMap<Vec<String>, OptionMigration>,
    /// Whether the nixpkgs modules micros imports are part of the set.
    pub has_nixpkgs: bool,
    /// Whether the set is a micros tree's (its sources were found): only
    /// then is a name it lacks an unknown option. Without them the set
    /// holds at most the user's own declarations.
    pub has_micros: bool,
    /// Where declarations' files are: the directory of each root kind.
    pub roots: Vec<(RootKind, PathBuf)>,
    /// micros's own modules: their definitions, assertions, arguments.
    pub base: Arc<crate::analysis::systems::base::BaseModules>,
}

impl OptionIndex {
    pub fn new(set: Arc<OptionSet>, has_nixpkgs: bool) -> OptionIndex {
        let root = Trie::build(&set.options, &[]);
        let submodules = collect_submodules(&set.options);
        let migrations = set
            .migrations
            .iter()
            .map(|m| (m.from.clone(), m.clone()))
            .collect();
        // Options a user module declares are named from the filesystem root.
        let roots = vec![(RootKind::User, PathBuf::from("/"))];
        OptionIndex {
            set,
            root,
            submodules,
            migrations,
            has_nixpkgs,
            has_micros: true,
            roots,
            base: Arc::default(),
        }
    }

    /// The first directory of a root of this kind.
    pub fn root(&self, kind: RootKind) -> Option<&Path> {
        self.roots
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, dir)| dir.as_path())
    }

    /// Where a declaration's file is on disk, if its root is known.
    pub fn declaration_path(&self, declaration: &Declaration) -> Option<PathBuf> {
        let (_, dir) = self
            .roots
            .iter()
            .rev()
            .find(|(kind, _)| *kind == declaration.file.root)?;
        Some(dir.join(&declaration.file.path))
    }

    /// The trie of a submodule type.
    pub fn submodule(&self, submodule: &Arc<Submodule>) -> Option<&Trie> {
        let lazy = self.submodules.0.get(&(Arc::as_ptr(submodule) as usize))?;
        Some(
            lazy.trie
                .get_or_init(|| Trie::build(&lazy.submodule.options, &lazy.loc)),
        )
    }

    /// Whether `path` lies under a prefix only nixpkgs declares, while
    /// nixpkgs is missing.
    pub fn owned_by_missing_nixpkgs(&self, path: &[String]) -> bool {
        !self.has_nixpkgs
            && NIXPKGS_OWNED_PREFIXES.iter().any(|prefix| {
                let segments: Vec<&str> = prefix.split('.').collect();
                path.len() >= segments.len() && path.iter().zip(&segments).all(|(a, b)| a == b)
            })
    }

    /// Whether a top-level name of a module can name options: declared,
    /// or under a prefix the missing nixpkgs modules would declare.
    pub fn is_root_name(&self, name: &str) -> bool {
        self.root.children.contains_key(name)
            || (!self.has_nixpkgs
                && NIXPKGS_OWNED_PREFIXES
                    .iter()
                    .any(|prefix| prefix.split('.').next() == Some(name)))
    }

    pub fn migration(&self, path: &[String]) -> Option<&OptionMigration> {
        self.migrations.get(path)
    }
}

/// The submodules of a set, each found once, and their tries built when
/// first looked up: a set can hold thousands (a file whose options each
/// nest another submodule made nearly 2,000, 51,000 options in all, and
/// building every trie took a second), of which a file uses few.
#[derive(Debug, Default, Clone)]
struct SubmoduleTries(HashMap<usize, LazyTrie>);

#[derive(Debug, Clone)]
struct LazyTrie {
    submodule: Arc<Submodule>,
    /// Where it was first found (placeholders included), for messages.
    loc: Vec<String>,
    trie: std::sync::OnceLock<Trie>,
}

/// A trie is what its submodule and location make, built or not yet.
impl PartialEq for SubmoduleTries {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.0.iter().all(|(key, lazy)| {
                other.0.get(key).is_some_and(|theirs| {
                    Arc::ptr_eq(&theirs.submodule, &lazy.submodule) && theirs.loc == lazy.loc
                })
            })
    }
}

/// Every submodule below `options`, in the order a depth-first walk meets
/// them (a submodule met twice keeps its first location), walked with a
/// stack of its own: how deep submodules nest is the file's to say.
fn collect_submodules(options: &[OptionDecl]) -> SubmoduleTries {
    enum Frame<'a> {
        Options(std::slice::Iter<'a, OptionDecl>, Vec<String>),
        /// An option's submodules still to visit, last first, and its loc.
        Submodules(Vec<&'a Arc<Submodule>>, Vec<String>),
    }
    let mut out: HashMap<usize, LazyTrie> = HashMap::new();
    let key = |submodule: &Arc<Submodule>| Arc::as_ptr(submodule) as usize;
    let mut stack = vec![Frame::Options(options.iter(), Vec::new())];
    while let Some(frame) = stack.last_mut() {
        let next = match frame {
            Frame::Options(options, prefix) => {
                let Some(option) = options.next() else {
                    stack.pop();
                    continue;
                };
                let direct = option.ty.sub_options();
                if direct
                    .as_ref()
                    .is_some_and(|(_, sub)| out.contains_key(&key(sub)))
                {
                    continue;
                }
                // Submodules nested in either/oneOf/coercedTo members too.
                let mut submodules: Vec<&Arc<Submodule>> = direct.iter().map(|(_, s)| *s).collect();
                for_each_nested_submodule(&option.ty, &mut |sub| submodules.push(sub));
                if submodules.is_empty() {
                    continue;
                }
                let mut loc = prefix.clone();
                loc.extend(option.loc.iter().cloned());
                if let Some((placeholders, _)) = direct {
                    loc.extend(placeholders.iter().map(|s| s.to_string()));
                }
                submodules.reverse();
                Frame::Submodules(submodules, loc)
            }
            Frame::Submodules(submodules, loc) => {
                let Some(submodule) = submodules.pop() else {
                    stack.pop();
                    continue;
                };
                let std::collections::hash_map::Entry::Vacant(slot) = out.entry(key(submodule))
                else {
                    continue;
                };
                slot.insert(LazyTrie {
                    submodule: submodule.clone(),
                    loc: loc.clone(),
                    trie: std::sync::OnceLock::new(),
                });
                Frame::Options(submodule.options.iter(), loc.clone())
            }
        };
        stack.push(next);
    }
    SubmoduleTries(out)
}

fn for_each_nested_submodule<'a>(
    ty: &'a micros_options::OptionType,
    f: &mut dyn FnMut(&'a Arc<Submodule>),
) {
    use micros_options::OptionType::*;
    match ty {
        Submodule(sub) => f(sub),
        NullOr(t) | ListOf(t) | NonEmptyListOf(t) | AttrsOf(t) | LazyAttrsOf(t) | AddCheck(t)
        | Uniq(t) | FunctionTo(t) | DagOf(t) => for_each_nested_submodule(t, f),
        Either(a, b) | CoercedTo { from: a, to: b } => {
            for_each_nested_submodule(a, f);
            for_each_nested_submodule(b, f);
        }
        OneOf(members) => members.iter().for_each(|m| for_each_nested_submodule(m, f)),
        Custom {
            base: Some(base), ..
        } => for_each_nested_submodule(base, f),
        _ => {}
    }
}

/// What a migration tells the user.
pub fn migration_message(migration: &OptionMigration) -> (String, Option<Vec<String>>) {
    let from = micros_options::model::show_option(&migration.from);
    match &migration.kind {
        MigrationKind::Removed { message } => {
            let mut text = format!("the option `{from}` has been removed");
            if !message.is_empty() {
                text.push_str(": ");
                text.push_str(message.trim());
            }
            (text, None)
        }
        MigrationKind::Renamed { to } | MigrationKind::Alias { to } => (
            format!(
                "the option `{from}` has been renamed to `{}`",
                micros_options::model::show_option(to)
            ),
            Some(to.clone()),
        ),
    }
}

/// Edit distance (Levenshtein, with adjacent transpositions) for
/// did-you-mean suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest of `candidates` to `name`, if close enough to be a typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1) + usize::from(name.len() > 6);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Name a user module's declarations by their absolute path. The module is
/// extracted with its own directory as the root (so that only files below
/// it are read), which names them relative to that directory; the index
/// names user files from `/`.
pub fn anchor_user_declarations(set: &mut OptionSet, dir: &std::path::Path) {
    fn option(option: &mut OptionDecl, dir: &std::path::Path, depth: u32) {
        for declaration in &mut option.declarations {
            if declaration.file.root == RootKind::User {
                declaration.file.path = dir.join(&declaration.file.path).display().to_string();
            }
        }
        ty(&mut option.ty, dir, depth + 1);
    }
    // Types nest as deep as the extractor's evaluation allowed; this keeps
    // the walk bounded on its own.
    fn ty(ty_: &mut OptionType, dir: &std::path::Path, depth: u32) {
        use OptionType::*;
        if depth > 64 {
            return;
        }
        match ty_ {
            Submodule(sub) => {
                let sub = Arc::make_mut(sub);
                for o in &mut sub.options {
                    option(o, dir, depth + 1);
                }
                if let Some(freeform) = &mut sub.freeform {
                    ty(freeform, dir, depth + 1);
                }
            }
            NullOr(inner)
            | ListOf(inner)
            | NonEmptyListOf(inner)
            | AttrsOf(inner)
            | LazyAttrsOf(inner)
            | AddCheck(inner)
            | Uniq(inner)
            | FunctionTo(inner)
            | DagOf(inner) => ty(inner, dir, depth + 1),
            Either(a, b) | CoercedTo { from: a, to: b } => {
                ty(a, dir, depth + 1);
                ty(b, dir, depth + 1);
            }
            OneOf(members) => members.iter_mut().for_each(|m| ty(m, dir, depth + 1)),
            Custom {
                base: Some(base), ..
            } => ty(base, dir, depth + 1),
            _ => {}
        }
    }
    for o in &mut set.options {
        option(o, dir, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_typos() {
        assert_eq!(edit_distance("getty", "getty"), 0);
        assert_eq!(edit_distance("gety", "getty"), 1);
        assert_eq!(edit_distance("gtety", "getty"), 1);
        assert_eq!(
            closest("enabel", ["enable", "package", "extraArgs"]),
            Some("enable")
        );
        assert_eq!(closest("frobnicate", ["enable", "package"]), None);
    }

    #[test]
    fn submodule_tries_are_built_when_first_looked_up() {
        let index = OptionIndex::new(crate::fuzzing::fixture_options(), true);
        let lazy = &index.submodules.0;
        assert!(lazy.len() > 3, "{}", lazy.len());
        assert!(lazy.values().all(|l| l.trie.get().is_none()));
        // users.<name>: found where the walk meets it, built on demand, the
        // same trie the whole-index build made before.
        let users = index.root.children["users"].option.clone().unwrap();
        let (_, submodule) = users.ty.sub_options().unwrap();
        let trie = index.submodule(submodule).unwrap();
        assert_eq!(
            trie,
            &Trie::build(&submodule.options, &["users".into(), "<name>".into()])
        );
        assert!(trie.children.contains_key("uid"));
        assert_eq!(lazy.values().filter(|l| l.trie.get().is_some()).count(), 1);
    }
}
