//! The options reference: the documented options of a set, rendered as one
//! markdown page per top-level group and an index page.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use micros_options::model::{
    Declaration, Literal, LiteralKind, OptionDecl, RootKind, Visibility, show_option,
};
use micros_options::{Diagnostic, OptionSet, Severity};
use rayon::prelude::*;

use crate::anchor::option_id;
use crate::html::{escape, escape_into, text_of};
use crate::markdown::{self, OptionLinks, UnresolvedKind, UnresolvedRef};

/// What the reference needs besides the options.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The index page's title.
    pub title: String,
    /// Where the micros sources are browsable: a declaration `micros/x.nix`
    /// at line 12 links to `<repo_url>/micros/x.nix#L12`.
    pub repo_url: Option<String>,
    /// The same for `<nixpkgs>/...` declarations.
    pub nixpkgs_url: Option<String>,
    /// Local source trees, for pointing reports at the exact line.
    pub micros_dir: Option<PathBuf>,
    pub nixpkgs_dir: Option<PathBuf>,
    pub user_dir: Option<PathBuf>,
    /// Unresolved `{option}` references are errors rather than warnings.
    pub strict: bool,
}

/// One generated page.
#[derive(Debug, Clone)]
pub struct Page {
    /// File name within the options directory (`services.md`).
    pub file: String,
    /// The chapter name in the book's table of contents.
    pub title: String,
    /// The page's heading and introduction (markdown).
    pub head: String,
    /// The option entries: each a raw HTML block ending in a blank line
    /// (kept apart: together they can be tens of megabytes). Empty when
    /// they were written to the page's file instead ([`Page::stored`]).
    pub entries: Vec<String>,
    /// Where the entries are when they were written as they were rendered
    /// ([`render_to`]).
    pub stored: Option<StoredEntries>,
    /// What search should find on the page, one entry per option.
    pub search: Vec<SearchDoc>,
    pub options: usize,
}

/// A page's entries in its file: after the head, one after another.
#[derive(Debug, Clone)]
pub struct StoredEntries {
    pub path: PathBuf,
    /// Each entry's length in bytes.
    pub lengths: Vec<usize>,
}

impl Page {
    /// The page's markdown, as written into the book.
    pub fn markdown(&self) -> String {
        let mut text = self.head.clone();
        self.entries.iter().for_each(|e| text.push_str(e));
        text
    }
}

/// An option as the search index sees it.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    pub anchor: String,
    pub name: String,
    /// Plain text: the description and the type.
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Reference {
    pub index: Option<Page>,
    pub groups: Vec<Page>,
    pub diagnostics: Vec<Diagnostic>,
    /// How many options are documented.
    pub options: usize,
    /// Where each option is, for `{option}` references from other pages.
    targets: Index,
}

impl Reference {
    /// The page (file stem in the options directory) and anchor of the
    /// documented option `name` (full path, as written in text).
    pub fn option_target(&self, name: &str) -> Result<(&str, &str), UnresolvedKind> {
        self.targets
            .resolve(&[], name)
            .map(|(page, anchor)| (page.as_str(), anchor.as_str()))
    }
}

/// The options a reference shows: visible and not internal.
pub fn documented(set: &OptionSet) -> Vec<Flat<'_>> {
    flatten(set)
        .into_iter()
        .filter(|o| is_documented(o))
        .collect()
}

fn is_documented(option: &OptionDecl) -> bool {
    !option.internal && option.visible.is_visible()
}

/// An option with its full path, borrowed from its set (sub-options of
/// submodules keep paths relative to the submodule).
pub struct Flat<'a> {
    pub loc: Vec<String>,
    pub decl: &'a OptionDecl,
}

impl Flat<'_> {
    pub fn name(&self) -> String {
        show_option(&self.loc)
    }
}

impl std::ops::Deref for Flat<'_> {
    type Target = OptionDecl;
    fn deref(&self) -> &OptionDecl {
        self.decl
    }
}

/// Every option of the set with its full path, in path order: what
/// [`OptionSet::flatten`] lists, without copying the options (a large set
/// would be held twice).
pub fn flatten(set: &OptionSet) -> Vec<Flat<'_>> {
    fn walk<'a>(options: &'a [OptionDecl], prefix: &[String], out: &mut Vec<Flat<'a>>) {
        for option in options {
            let loc: Vec<String> = prefix.iter().chain(&option.loc).cloned().collect();
            // As `optionAttrSetToDocList`: sub-options are listed when the
            // option is visible or transparent.
            let listed = matches!(
                option.visible,
                Visibility::Visible | Visibility::Transparent
            );
            if let Some((placeholders, submodule)) = option.ty.sub_options().filter(|_| listed) {
                let mut sub_prefix = loc.clone();
                sub_prefix.extend(placeholders.iter().map(|s| s.to_string()));
                walk(&submodule.options, &sub_prefix, out);
            }
            out.push(Flat { loc, decl: option });
        }
    }
    let mut out = Vec::new();
    walk(&set.options, &[], &mut out);
    out.sort_by(|a, b| a.loc.cmp(&b.loc));
    out
}

/// A page file name for a top-level group: letters, digits, `-` and `_`.
fn page_file(group: &str, taken: &mut HashMap<String, usize>) -> String {
    let mut base: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() || base == "index" {
        base.insert(0, '_');
    }
    // Case-insensitive file systems must not merge `foo` and `Foo`.
    let count = taken.entry(base.to_ascii_lowercase()).or_insert(0);
    *count += 1;
    if *count > 1 {
        let _ = write!(base, "-{count}");
    }
    format!("{base}.md")
}

/// The lookup key of an option path: placeholders (`<name>`, `<user>`)
/// are all the same placeholder.
fn key_of<S: AsRef<str>>(segments: &[S]) -> String {
    let mut key = String::new();
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            key.push('\u{1f}');
        }
        let segment = segment.as_ref();
        if is_placeholder(segment) {
            key.push_str("<name>");
        } else {
            key.push_str(segment);
        }
    }
    key
}

fn is_placeholder(segment: &str) -> bool {
    segment.len() >= 2 && segment.starts_with('<') && segment.ends_with('>')
}

/// Split an option name as written in text (`a."b.c".<name>`) into segments.
pub fn split_option_name(name: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = name.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\\' if in_quotes => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '.' if !in_quotes => segments.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    segments.push(current);
    segments
}

/// Where each option of the whole set is, documented or not.
#[derive(Debug, Default)]
struct Index {
    /// key → (page file stem, anchor) for documented options, `None` for
    /// the others.
    targets: HashMap<String, Option<(String, String)>>,
}

impl Index {
    fn resolve(
        &self,
        scopes: &[Vec<String>],
        name: &str,
    ) -> Result<&(String, String), UnresolvedKind> {
        let relative = split_option_name(name);
        let mut undocumented = false;
        for scope in scopes
            .iter()
            .map(Vec::as_slice)
            .chain(std::iter::once(&[][..]))
        {
            let full: Vec<&str> = scope
                .iter()
                .map(String::as_str)
                .chain(relative.iter().map(String::as_str))
                .collect();
            match self.targets.get(&key_of(&full)) {
                Some(Some(target)) => return Ok(target),
                Some(None) => undocumented = true,
                None => {}
            }
        }
        Err(if undocumented {
            UnresolvedKind::Undocumented
        } else {
            UnresolvedKind::Unknown
        })
    }

    /// The submodules an option sits in, innermost first: prefixes ending
    /// in a placeholder, or naming an option (whose type holds this one).
    fn scopes(&self, loc: &[String]) -> Vec<Vec<String>> {
        (1..loc.len())
            .rev()
            .map(|n| &loc[..n])
            .filter(|prefix| {
                prefix.last().is_some_and(|s| is_placeholder(s) || s == "*")
                    || self.targets.contains_key(&key_of(prefix))
            })
            .map(<[String]>::to_vec)
            .collect()
    }
}

struct Links<'a> {
    index: &'a Index,
    scopes: Vec<Vec<String>>,
    page: &'a str,
}

impl OptionLinks for Links<'_> {
    fn link(&self, name: &str) -> Result<String, UnresolvedKind> {
        let (page, anchor) = self.index.resolve(&self.scopes, name)?;
        Ok(if page == self.page {
            format!("#{anchor}")
        } else {
            format!("{page}.html#{anchor}")
        })
    }
}

/// Render the reference, entries held in memory. Entries are rendered on
/// every core.
pub fn render(set: &OptionSet, settings: &Settings) -> Reference {
    match render_with(set, settings, None) {
        Ok(reference) => reference,
        // Nothing is written without a directory.
        Err(message) => unreachable!("{message}"),
    }
}

/// Render the reference with each group page written to `dir` (a book's
/// `<src>/options/`) as its entries are rendered, a chunk at a time: the
/// entries of a large set are tens of megabytes, and nothing needs them
/// all at once. The pages record where their entries are
/// ([`Page::stored`]).
pub fn render_to(set: &OptionSet, settings: &Settings, dir: &Path) -> Result<Reference, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    render_with(set, settings, Some(dir))
}

/// Options rendered at once: enough to keep every core busy, few enough
/// that their entries are a small part of the memory.
const CHUNK: usize = 1024;

fn render_with(
    set: &OptionSet,
    settings: &Settings,
    dir: Option<&Path>,
) -> Result<Reference, String> {
    let all = flatten(set);
    let options: Vec<&Flat<'_>> = all.iter().filter(|o| is_documented(o)).collect();

    // Group pages, in the order of the first option of each group.
    let mut taken = HashMap::new();
    let mut groups: BTreeMap<&str, String> = BTreeMap::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for option in &options {
        let group = group_of(option);
        if !groups.contains_key(group) {
            groups.insert(group, page_file(group, &mut taken));
        }
        *counts.entry(group).or_default() += 1;
    }
    let page_of = |option: &Flat<'_>| -> &str { groups[group_of(option)].trim_end_matches(".md") };

    let mut targets: HashMap<String, Option<(String, String)>> =
        all.iter().map(|o| (key_of(&o.loc), None)).collect();
    for option in &options {
        targets.insert(
            key_of(&option.loc),
            Some((page_of(option).to_string(), option_id(&option.name()))),
        );
    }
    let index = Index { targets };

    let mut reference = Reference {
        options: options.len(),
        ..Default::default()
    };
    let mut sources = SourceCache::default();
    // The page being filled, and its file when the entries go to disk.
    let mut file: Option<std::io::BufWriter<std::fs::File>> = None;
    // Options are sorted by path, so each group's are consecutive.
    for chunk in options.chunks(CHUNK) {
        let entries: Vec<Entry> = chunk
            .par_iter()
            .map(|option| {
                let links = Links {
                    index: &index,
                    scopes: index.scopes(&option.loc),
                    page: page_of(option),
                };
                entry(option, &links, settings)
            })
            .collect();
        for (option, entry) in chunk.iter().zip(entries) {
            for problem in &entry.unresolved {
                reference.diagnostics.push(unresolved_diagnostic(
                    option,
                    problem,
                    settings,
                    &mut sources,
                ));
            }
            let group = group_of(option);
            if reference
                .groups
                .last()
                .is_none_or(|page| page.title != group)
            {
                finish(&mut file, reference.groups.last())?;
                let page = group_page(group, &groups[group], counts[group]);
                if let Some(dir) = dir {
                    let path = dir.join(&page.file);
                    let io = |e: std::io::Error| format!("{}: cannot write: {e}", path.display());
                    let mut out = std::io::BufWriter::with_capacity(
                        1 << 16,
                        std::fs::File::create(&path).map_err(io)?,
                    );
                    out.write_all(page.head.as_bytes()).map_err(io)?;
                    file = Some(out);
                }
                reference.groups.push(page);
            }
            let page = reference.groups.last_mut().expect("pushed above");
            match (&mut file, dir) {
                (Some(out), Some(dir)) => {
                    out.write_all(entry.html.as_bytes()).map_err(|e| {
                        format!("{}: cannot write: {e}", dir.join(&page.file).display())
                    })?;
                    let stored = page.stored.get_or_insert_with(|| StoredEntries {
                        path: dir.join(&page.file),
                        lengths: Vec::new(),
                    });
                    stored.lengths.push(entry.html.len());
                }
                _ => page.entries.push(entry.html),
            }
            page.search.push(entry.search);
        }
    }
    finish(&mut file, reference.groups.last())?;
    reference.index = Some(index_page(&reference.groups, &options, settings));
    reference.targets = index;
    Ok(reference)
}

fn group_of<'a>(option: &'a Flat<'_>) -> &'a str {
    option.loc.first().map(String::as_str).unwrap_or("")
}

/// Flush the page file being written.
fn finish(
    file: &mut Option<std::io::BufWriter<std::fs::File>>,
    page: Option<&Page>,
) -> Result<(), String> {
    if let Some(mut out) = file.take() {
        let what = page
            .and_then(|p| p.stored.as_ref())
            .map_or(String::new(), |s| s.path.display().to_string());
        out.flush()
            .map_err(|e| format!("{what}: cannot write: {e}"))?;
    }
    Ok(())
}

/// A group's page before its entries: the heading and how many options.
fn group_page(group: &str, file: &str, count: usize) -> Page {
    let mut head = String::new();
    let _ = write!(head, "# {}\n\n", markdown_heading_text(group));
    head.push_str(GENERATED_NOTE);
    let _ = writeln!(
        head,
        "{} {} under <code>{}</code>.\n",
        count,
        if count == 1 { "option" } else { "options" },
        escape(group)
    );
    Page {
        file: file.to_string(),
        title: group.to_string(),
        head,
        entries: Vec::with_capacity(0),
        stored: None,
        search: Vec::with_capacity(count),
        options: count,
    }
}

/// A group name as a markdown heading: escaped so that no character of it
/// is markdown or HTML.
fn markdown_heading_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            let _ = write!(out, "&#{};", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The note under each page's heading; [`crate::book`] knows generated
/// pages by it.
pub const GENERATED_NOTE: &str = "<!-- Generated by micros-docgen from the option declarations; edits here are overwritten. -->\n\n";

fn index_page(groups: &[Page], options: &[&Flat<'_>], settings: &Settings) -> Page {
    let mut md = String::new();
    let title = if settings.title.is_empty() {
        "Options"
    } else {
        &settings.title
    };
    let _ = write!(md, "# {}\n\n", markdown_heading_text(title));
    md.push_str(GENERATED_NOTE);
    let _ = writeln!(
        md,
        "Every option you can set in a MicrOS configuration: {} options in {} groups. \
         Each option has an anchor named as in the NixOS manual, `#opt-` and the option's name \
         (with `<`, `>`, `*`, `[`, `]`, `:`, `\"` and spaces written `_`), so \
         `services.html#opt-services.getty.enable` links to `services.getty.enable`. \
         Search (the magnifying glass, or press `s`) finds options by name and description.\n",
        options.len(),
        groups.len()
    );
    md.push_str("| Group | Options | Includes |\n| --- | ---: | --- |\n");
    for page in groups {
        // The second-level names of the group, as a preview.
        let mut second: Vec<&str> = options
            .iter()
            .filter(|o| o.loc.first().map(String::as_str) == Some(page.title.as_str()))
            .filter_map(|o| o.loc.get(1).map(String::as_str))
            .filter(|s| !is_placeholder(s) && *s != "*")
            .collect();
        second.dedup();
        let shown: Vec<String> = second.iter().take(8).map(|s| escape(s)).collect();
        let more = if second.len() > 8 { ", …" } else { "" };
        let _ = writeln!(
            md,
            "| [<code>{}</code>]({}) | {} | {}{} |",
            escape(&page.title).replace('|', "&#124;"),
            page.file,
            page.options,
            shown.join(", ").replace('|', "&#124;"),
            more
        );
    }
    Page {
        file: "index.md".into(),
        title: title.to_string(),
        head: md,
        entries: Vec::new(),
        stored: None,
        search: Vec::new(),
        options: options.len(),
    }
}

struct Entry {
    html: String,
    unresolved: Vec<UnresolvedRef>,
    search: SearchDoc,
}

/// One option's entry: a raw HTML block without blank lines.
fn entry(option: &Flat<'_>, links: &Links<'_>, settings: &Settings) -> Entry {
    let name = option.name();
    let id = option_id(&name);
    let mut unresolved = Vec::new();
    let mut body = String::new();
    let mut html = String::with_capacity(1024);
    html.push_str("<div class=\"option\">\n<h2 id=\"");
    escape_into(&mut html, &id);
    html.push_str("\" class=\"option-name\"><a class=\"header\" href=\"#");
    escape_into(&mut html, &id);
    html.push_str("\">");
    escape_into(&mut html, &name);
    html.push_str("</a></h2>\n<div class=\"option-actions\"><button type=\"button\" class=\"option-copy\" data-anchor=\"");
    escape_into(&mut html, &id);
    html.push_str("\" title=\"Copy a link to this option\" aria-label=\"Copy a link to this option\"></button>");
    if option.read_only {
        html.push_str("<span class=\"option-badge\" title=\"Set by MicrOS; a configuration cannot define it\">read-only</span>");
    }
    html.push_str("</div>\n");

    if let Some(description) = option
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        let rendered = markdown::render(description, links);
        unresolved.extend(rendered.unresolved);
        body = collapse_whitespace(&text_of(&rendered.html));
        html.push_str("<div class=\"option-description\">\n");
        html.push_str(&rendered.html);
        html.push_str("</div>\n");
    }

    html.push_str("<dl class=\"option-fields\">\n<dt>Type</dt>\n<dd><span class=\"option-type\">");
    escape_into(&mut html, &option.ty.description());
    html.push_str("</span></dd>\n");
    if let Some(default) = option.shown_default() {
        html.push_str("<dt>Default</dt>\n<dd>");
        literal(&mut html, default, links, &mut unresolved);
        html.push_str("</dd>\n");
    }
    if let Some(example) = &option.example {
        html.push_str("<dt>Example</dt>\n<dd>");
        literal(&mut html, example, links, &mut unresolved);
        html.push_str("</dd>\n");
    }
    if !option.declarations.is_empty() {
        html.push_str("<dt>Declared by</dt>\n<dd><ul class=\"option-declarations\">");
        for declaration in &option.declarations {
            html.push_str("<li>");
            let text = declaration.file.display_name();
            match declaration_url(declaration, settings) {
                Some(url) => {
                    html.push_str("<a href=\"");
                    escape_into(&mut html, &url);
                    html.push_str("\"><code class=\"nohighlight\">");
                    escape_into(&mut html, &text);
                    html.push_str("</code></a>");
                }
                None => {
                    html.push_str("<code class=\"nohighlight\">");
                    escape_into(&mut html, &text);
                    html.push_str("</code>");
                }
            }
            html.push_str("</li>");
        }
        html.push_str("</ul></dd>\n");
    }
    html.push_str("</dl>\n");
    // The search index splits words at spaces only; the name's parts let
    // "getty" find `services.getty.enable`.
    html.push_str("<span class=\"option-words\" hidden>");
    let words: Vec<&str> = option
        .loc
        .iter()
        .map(|s| s.trim_start_matches('<').trim_end_matches('>'))
        .filter(|s| !s.is_empty() && *s != "*")
        .collect();
    escape_into(&mut html, &words.join(" "));
    html.push_str("</span>\n</div>\n\n");
    if !body.is_empty() {
        body.push(' ');
    }
    body.push_str("Type: ");
    body.push_str(&option.ty.description());
    // Every entry is held until the site is written: no spare capacity.
    html.shrink_to_fit();
    body.shrink_to_fit();
    Entry {
        html,
        unresolved,
        search: SearchDoc {
            anchor: id,
            name,
            body,
        },
    }
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn literal(
    html: &mut String,
    literal: &Literal,
    links: &Links<'_>,
    unresolved: &mut Vec<UnresolvedRef>,
) {
    match literal.kind {
        LiteralKind::Expression => html.push_str(&markdown::nix_literal(&literal.text)),
        LiteralKind::Markdown => {
            let rendered = markdown::render(&literal.text, links);
            unresolved.extend(rendered.unresolved);
            html.push_str("<div class=\"literal-md\">");
            html.push_str(&rendered.html);
            html.push_str("</div>");
        }
    }
}

fn root_dir(root: RootKind, settings: &Settings) -> Option<&Path> {
    match root {
        RootKind::Micros => settings.micros_dir.as_deref(),
        RootKind::Nixpkgs => settings.nixpkgs_dir.as_deref(),
        RootKind::User => settings.user_dir.as_deref(),
    }
}

/// The declaration's link: the repository URL with the path and line.
/// Without a URL the declaration is plain text: a published site never
/// links to local files.
pub fn declaration_url(declaration: &Declaration, settings: &Settings) -> Option<String> {
    let base = match declaration.file.root {
        RootKind::Micros => settings.repo_url.as_deref(),
        RootKind::Nixpkgs => settings.nixpkgs_url.as_deref(),
        RootKind::User => None,
    }?;
    let mut url = format!("{}/{}", base.trim_end_matches('/'), declaration.file.path);
    if declaration.line > 0 {
        let _ = write!(url, "#L{}", declaration.line);
    }
    Some(url)
}

#[derive(Default)]
struct SourceCache {
    files: HashMap<PathBuf, Option<String>>,
}

impl SourceCache {
    fn get(&mut self, path: &Path) -> Option<&str> {
        self.files
            .entry(path.to_path_buf())
            .or_insert_with(|| std::fs::read_to_string(path).ok())
            .as_deref()
    }
}

/// A report for a reference that names no documented option, at the
/// reference itself when its file can be read, else at the declaration.
fn unresolved_diagnostic(
    option: &Flat<'_>,
    problem: &UnresolvedRef,
    settings: &Settings,
    sources: &mut SourceCache,
) -> Diagnostic {
    let name = option.name();
    let message = match problem.kind {
        UnresolvedKind::Unknown => format!(
            "{{option}}`{}` in the documentation of `{name}` names no option",
            problem.name
        ),
        UnresolvedKind::Undocumented => format!(
            "{{option}}`{}` in the documentation of `{name}` names an internal or hidden option, which the reference does not show",
            problem.name
        ),
    };
    let severity = if settings.strict {
        Severity::Error
    } else {
        Severity::Warning
    };
    let needle = format!("{{option}}`{}`", problem.name);
    for declaration in &option.declarations {
        let Some(dir) = root_dir(declaration.file.root, settings) else {
            continue;
        };
        let path = dir.join(&declaration.file.path);
        let Some(text) = sources.get(&path) else {
            continue;
        };
        let from = declaration
            .range
            .map(|(start, _)| start as usize)
            .filter(|&s| s <= text.len() && text.is_char_boundary(s))
            .unwrap_or(0);
        let found = text[from..]
            .find(&needle)
            .map(|at| from + at)
            .or_else(|| text.find(&needle));
        if let Some(at) = found {
            let before = &text[..at];
            let line = before.matches('\n').count() as u32 + 1;
            let column = before[before.rfind('\n').map_or(0, |n| n + 1)..]
                .chars()
                .count() as u32
                + 1;
            return Diagnostic {
                severity,
                file: path,
                line,
                column,
                range: Some((at as u32, (at + needle.len()) as u32)),
                message,
                code: None,
            };
        }
    }
    let (file, line, column) = match option.declarations.first() {
        Some(d) => {
            let file = root_dir(d.file.root, settings)
                .map(|dir| dir.join(&d.file.path))
                .unwrap_or_else(|| PathBuf::from(d.file.display_name()));
            (file, d.line, d.column)
        }
        None => (PathBuf::from("<options>"), 0, 0),
    };
    Diagnostic {
        severity,
        file,
        line,
        column,
        range: None,
        message,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_with_quotes() {
        assert_eq!(
            split_option_name("boot.kernel.sysctl.\"net.ipv4.ip_forward\""),
            ["boot", "kernel", "sysctl", "net.ipv4.ip_forward"]
        );
        assert_eq!(
            split_option_name("users.<name>.uid"),
            ["users", "<name>", "uid"]
        );
    }

    #[test]
    fn page_files_are_safe_and_distinct() {
        let mut taken = HashMap::new();
        assert_eq!(page_file("services", &mut taken), "services.md");
        assert_eq!(page_file("Services", &mut taken), "Services-2.md");
        assert_eq!(page_file("../x", &mut taken), "___x.md");
        assert_eq!(page_file("index", &mut taken), "_index.md");
    }
}
