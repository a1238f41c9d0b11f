//! A documentation site from a directory of markdown pages (`--pages DIR`),
//! as MicrOS keeps its `docs/`: no SUMMARY.md, no book.toml.
//!
//! The navigation comes from the files: `index.md` first, then the other
//! pages by file name; a folder beside a page of the same name
//! (`getting-started.md` and `getting-started/`) holds that page's
//! subpages, and a folder without one gets a page listing its pages. An
//! `{=include=} chapters` block (nixos-render-docs) puts the pages it names
//! under the including page, in its order. Pages are rendered with the
//! markdown of option descriptions ([`crate::markdown::render_page`]), and
//! the site is built as an mdbook with the options reference after them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use micros_options::{Diagnostic, Severity};

use crate::book::{self, OPTIONS_DIR};
use crate::markdown::{self, OptionLinks, UnresolvedKind};
use crate::reference::Reference;

/// Folders deeper than this are not read (a link loop, or a mistake).
const MAX_DEPTH: usize = 16;
/// More pages than this is not a documentation folder.
const MAX_PAGES: usize = 5_000;
/// Pages larger than this are refused (MiB).
const MAX_PAGE_BYTES: u64 = 8 << 20;

/// One page of the site.
#[derive(Debug, Clone)]
pub struct SitePage {
    /// Path below the pages directory, with `/` (`getting-started/creating-config.md`).
    pub rel: String,
    /// The navigation's name for it: the first heading's text, else the file name.
    pub title: String,
    /// The markdown; `None` for a folder's generated listing.
    pub text: Option<String>,
    /// The pages under it in the navigation (indexes into [`Site::pages`]).
    pub children: Vec<usize>,
    parent: Option<usize>,
}

/// The pages and their navigation.
#[derive(Debug, Default)]
pub struct Site {
    /// Every page; [`Site::top`] lists the navigation's first level.
    pub pages: Vec<SitePage>,
    pub top: Vec<usize>,
    /// Other files (images, ...), copied into the site as they are.
    pub assets: Vec<String>,
    /// The pages directory.
    pub dir: PathBuf,
}

/// Read the pages directory.
pub fn discover(dir: &Path) -> Result<Site, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory of pages", dir.display()));
    }
    if dir.join(OPTIONS_DIR).exists() {
        return Err(format!(
            "{}: the options reference is written to `{OPTIONS_DIR}/`; move or rename that folder",
            dir.join(OPTIONS_DIR).display()
        ));
    }
    let mut site = Site {
        dir: dir.to_path_buf(),
        ..Default::default()
    };
    let top = read_folder(&mut site, dir, "", None, 0, false)?;
    site.top = top;
    if site.pages.iter().all(|p| p.text.is_none()) {
        return Err(format!("{}: no markdown pages (*.md) here", dir.display()));
    }
    // The site opens on index.md; without one, a listing of the pages.
    if !site.top.iter().any(|&i| site.pages[i].rel == "index.md") {
        let index = site.pages.len();
        site.pages.push(SitePage {
            rel: "index.md".into(),
            title: String::new(),
            text: None,
            children: Vec::new(),
            parent: None,
        });
        site.top.insert(0, index);
    }
    apply_includes(&mut site);
    Ok(site)
}

/// The pages of one folder, in navigation order; subfolders become the
/// children of their same-named page. `skip_index`: the folder's index.md
/// is already its owner page.
fn read_folder(
    site: &mut Site,
    dir: &Path,
    prefix: &str,
    parent: Option<usize>,
    depth: usize,
    skip_index: bool,
) -> Result<Vec<usize>, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: folders nest deeper than {MAX_DEPTH} levels",
            dir.display()
        ));
    }
    let mut files = Vec::new();
    let mut folders = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: cannot read: {e}", dir.display()))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(format!(
                "{}: a file name that is not UTF-8",
                entry.path().display()
            ));
        };
        if name.starts_with('.') || (skip_index && name == "index.md") {
            continue;
        }
        // Links are not followed: a link to a parent would loop.
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if kind.is_dir() {
            folders.push(name);
        } else if kind.is_file() {
            files.push(name);
        }
    }
    files.sort_by(|a, b| nav_order(a, b));
    folders.sort_by(|a, b| nav_order(a, b));

    let mut order = Vec::new();
    let mut by_stem: HashMap<String, usize> = HashMap::new();
    for name in &files {
        let rel = format!("{prefix}{name}");
        let Some(stem) = name.strip_suffix(".md") else {
            site.assets.push(rel);
            continue;
        };
        let index = read_page(site, &dir.join(name), rel, parent)?;
        by_stem.insert(stem.to_string(), index);
        order.push(index);
    }
    for name in &folders {
        let sub_prefix = format!("{prefix}{name}/");
        let folder = dir.join(name);
        let (owner, has_index) = match by_stem.get(name.as_str()) {
            Some(&page) => (page, false),
            None if folder.join("index.md").is_file() => {
                let rel = format!("{sub_prefix}index.md");
                let page = read_page(site, &folder.join("index.md"), rel, parent)?;
                order.push(page);
                (page, true)
            }
            None => {
                // A folder of its own: a page listing its pages.
                let page = site.pages.len();
                site.pages.push(SitePage {
                    rel: format!("{sub_prefix}index.md"),
                    title: name.clone(),
                    text: None,
                    children: Vec::new(),
                    parent,
                });
                order.push(page);
                (page, false)
            }
        };
        let children = read_folder(
            site,
            &folder,
            &sub_prefix,
            Some(owner),
            depth + 1,
            has_index,
        )?;
        if children.is_empty() && site.pages[owner].text.is_none() {
            // A folder of assets only: no page. Its listing was the last
            // page added, since it has no pages below it.
            site.pages.pop();
            order.pop();
            continue;
        }
        site.pages[owner].children.extend(children);
    }
    Ok(order)
}

fn read_page(
    site: &mut Site,
    path: &Path,
    rel: String,
    parent: Option<usize>,
) -> Result<usize, String> {
    if site.pages.len() >= MAX_PAGES {
        return Err(format!(
            "{}: more than {MAX_PAGES} pages",
            site.dir.display()
        ));
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_PAGE_BYTES {
        return Err(format!(
            "{}: larger than {} MiB",
            path.display(),
            MAX_PAGE_BYTES >> 20
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: cannot read the page (pages are UTF-8 markdown): {e}",
            path.display()
        )
    })?;
    let stem = rel
        .rsplit('/')
        .next()
        .unwrap_or(&rel)
        .trim_end_matches(".md");
    let title = first_heading(&text).unwrap_or_else(|| stem.to_string());
    let index = site.pages.len();
    site.pages.push(SitePage {
        rel,
        title,
        text: Some(text),
        children: Vec::new(),
        parent,
    });
    Ok(index)
}

/// index.md first, then by name, case-insensitively (and exactly, so the
/// order is the same everywhere).
fn nav_order(a: &str, b: &str) -> std::cmp::Ordering {
    let index = |s: &str| s != "index.md";
    index(a)
        .cmp(&index(b))
        .then_with(|| a.to_lowercase().cmp(&b.to_lowercase()))
        .then_with(|| a.cmp(b))
}

/// The text of the first heading, inline markup removed.
pub fn first_heading(text: &str) -> Option<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut in_heading = false;
    let mut title = String::new();
    for event in Parser::new_ext(text, Options::ENABLE_HEADING_ATTRIBUTES) {
        match event {
            Event::Start(Tag::Heading { .. }) => in_heading = true,
            Event::End(TagEnd::Heading(_)) => {
                let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
                return (!title.is_empty()).then_some(title);
            }
            Event::Text(t) | Event::Code(t) if in_heading => title.push_str(&t),
            _ => {}
        }
    }
    None
}

/// `{=include=}` blocks: the pages they name move under the including page,
/// first and in the block's order.
fn apply_includes(site: &mut Site) {
    let by_rel: HashMap<String, usize> = site
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.rel.clone(), i))
        .collect();
    for owner in 0..site.pages.len() {
        let Some(text) = &site.pages[owner].text else {
            continue;
        };
        let base = parent_dir(&site.pages[owner].rel);
        let included: Vec<usize> = include_paths(text)
            .iter()
            .filter_map(|path| by_rel.get(&join(&base, path)?).copied())
            .collect();
        let mut position = 0;
        for page in included {
            let is_ancestor = {
                let mut at = Some(owner);
                let mut found = false;
                while let Some(i) = at {
                    found |= i == page;
                    at = site.pages[i].parent;
                }
                found
            };
            if is_ancestor || site.pages[owner].children[..position].contains(&page) {
                continue;
            }
            match site.pages[page].parent {
                Some(old) => site.pages[old].children.retain(|&c| c != page),
                None => site.top.retain(|&c| c != page),
            }
            site.pages[page].parent = Some(owner);
            site.pages[owner].children.insert(position, page);
            position += 1;
        }
    }
}

/// The paths listed in a page's `{=include=}` blocks.
fn include_paths(text: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut in_block: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let fence = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .count();
        match in_block {
            Some(len) if fence >= len && trimmed[fence..].trim().is_empty() => in_block = None,
            Some(_) if !trimmed.trim().is_empty() => paths.push(trimmed.trim().to_string()),
            Some(_) => {}
            None if fence >= 3 && trimmed[fence..].trim_start().starts_with("{=include=}") => {
                in_block = Some(fence);
            }
            None => {}
        }
    }
    paths
}

fn parent_dir(rel: &str) -> String {
    match rel.rfind('/') {
        Some(at) => rel[..=at].to_string(),
        None => String::new(),
    }
}

/// `base` + `path`, with `.` and `..` resolved; `None` when it leaves the
/// pages directory.
fn join(base: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// How far below the site's root a page is, as `../` repeated.
fn up(rel: &str) -> String {
    "../".repeat(rel.matches('/').count())
}

/// What rendering the pages found.
pub struct RenderedPages {
    /// Per page (indexes as [`Site::pages`]): the HTML, for pages with text.
    pub html: Vec<Option<String>>,
    pub diagnostics: Vec<Diagnostic>,
}

struct PageLinks<'a> {
    reference: &'a Reference,
    site: &'a Site,
    by_rel: &'a HashMap<&'a str, usize>,
    rel: &'a str,
}

impl OptionLinks for PageLinks<'_> {
    fn link(&self, name: &str) -> Result<String, UnresolvedKind> {
        let (page, anchor) = self.reference.option_target(name)?;
        Ok(format!(
            "{}{OPTIONS_DIR}/{page}.html#{anchor}",
            up(self.rel)
        ))
    }

    fn page(&self, path: &str) -> Option<(String, String)> {
        let target = join(&parent_dir(self.rel), path)?;
        let &index = self.by_rel.get(target.as_str())?;
        let href = path.strip_suffix(".md")?;
        Some((format!("{href}.html"), self.site.pages[index].title.clone()))
    }
}

/// Render every page; `{option}` references that name no documented option
/// are reported at the reference (errors when `strict`), includes that
/// name no page are errors.
pub fn render(site: &Site, reference: &Reference, strict: bool) -> RenderedPages {
    let by_rel: HashMap<&str, usize> = site
        .pages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.rel.as_str(), i))
        .collect();
    let mut out = RenderedPages {
        html: Vec::with_capacity(site.pages.len()),
        diagnostics: Vec::new(),
    };
    for page in &site.pages {
        let Some(text) = &page.text else {
            out.html.push(None);
            continue;
        };
        let links = PageLinks {
            reference,
            site,
            by_rel: &by_rel,
            rel: &page.rel,
        };
        let rendered = markdown::render_page(text, &links);
        let file = site.dir.join(&page.rel);
        let mut from = 0;
        for problem in &rendered.unresolved {
            let needle = format!("{{option}}`{}`", problem.name);
            let at = text[from..].find(&needle).map(|at| from + at);
            if let Some(at) = at {
                from = at + needle.len();
            }
            let what = match problem.kind {
                UnresolvedKind::Unknown => "names no option",
                UnresolvedKind::Undocumented => {
                    "names an internal or hidden option, which the reference does not show"
                }
            };
            out.diagnostics.push(diagnostic_at(
                &file,
                text,
                at.map(|at| (at, needle.len())),
                if strict {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                format!("{{option}}`{}` {what}", problem.name),
            ));
        }
        for problem in &rendered.bad_includes {
            let at = text.find("{=include=}").map(|at| (at, "{=include=}".len()));
            out.diagnostics.push(diagnostic_at(
                &file,
                text,
                at,
                Severity::Error,
                problem.clone(),
            ));
        }
        out.html.push(Some(rendered.html));
    }
    out
}

fn diagnostic_at(
    file: &Path,
    text: &str,
    at: Option<(usize, usize)>,
    severity: Severity,
    message: String,
) -> Diagnostic {
    let (line, column, range) = match at {
        Some((at, len)) => {
            let before = &text[..at];
            let line = before.matches('\n').count() as u32 + 1;
            let column = before[before.rfind('\n').map_or(0, |n| n + 1)..]
                .chars()
                .count() as u32
                + 1;
            (line, column, Some((at as u32, (at + len) as u32)))
        }
        None => (1, 1, None),
    };
    Diagnostic {
        severity,
        file: file.to_path_buf(),
        line,
        column,
        range,
        message,
        code: None,
    }
}

/// Write the site's book into `root` (a scratch directory): book.toml,
/// SUMMARY.md from the navigation, each page's HTML, the assets and the
/// options reference.
pub fn write_book(
    root: &Path,
    site: &Site,
    rendered: &RenderedPages,
    reference: &Reference,
    title: &str,
) -> Result<(), String> {
    let src = root.join("src");
    let io = |path: &Path, e: std::io::Error| format!("{}: cannot write: {e}", path.display());
    std::fs::create_dir_all(&src).map_err(|e| io(&src, e))?;
    let toml = format!(
        "[book]\ntitle = {}\nlanguage = \"en\"\nsrc = \"src\"\n\n[output.html]\nno-section-label = true\n",
        book::toml_string(title)
    );
    std::fs::write(root.join("book.toml"), toml).map_err(|e| io(&root.join("book.toml"), e))?;

    let mut summary = String::from("# Summary\n\n");
    let index = site
        .top
        .iter()
        .copied()
        .find(|&i| site.pages[i].rel == "index.md");
    if let Some(i) = index {
        let _ = writeln!(summary, "{}\n", summary_link(&site.pages[i], title));
    }
    for &i in site.top.iter().filter(|&&i| Some(i) != index) {
        write_summary_item(&mut summary, site, i, 0, title);
    }
    let options_title = reference
        .index
        .as_ref()
        .map_or("Options", |p| p.title.as_str());
    let _ = writeln!(
        summary,
        "- [{}]({OPTIONS_DIR}/index.md)",
        summary_text(options_title)
    );
    if let Some(i) = index {
        write_children(&mut summary, site, i, 0, title);
    }
    std::fs::write(src.join("SUMMARY.md"), summary).map_err(|e| io(&src.join("SUMMARY.md"), e))?;

    for (i, page) in site.pages.iter().enumerate() {
        let path = src.join(&page.rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let body = match &rendered.html[i] {
            Some(html) => html.clone(),
            None => listing(site, i, title),
        };
        // One raw HTML block (no blank lines inside), so mdbook takes the
        // page as it is.
        let content = format!("<div class=\"docgen-page\">\n{body}</div>\n");
        std::fs::write(&path, content).map_err(|e| io(&path, e))?;
    }
    for asset in &site.assets {
        let to = src.join(asset);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::copy(site.dir.join(asset), &to).map_err(|e| io(&to, e))?;
    }
    book::write_pages(&src, reference)
}

/// Subpages of the index go after the other pages: mdbook's first, unnumbered
/// chapter cannot have any.
fn write_children(summary: &mut String, site: &Site, page: usize, depth: usize, title: &str) {
    for &child in &site.pages[page].children {
        write_summary_item(summary, site, child, depth, title);
    }
}

fn write_summary_item(summary: &mut String, site: &Site, page: usize, depth: usize, title: &str) {
    let _ = writeln!(
        summary,
        "{}- {}",
        "  ".repeat(depth),
        summary_link(&site.pages[page], title)
    );
    write_children(summary, site, page, depth + 1, title);
}

fn summary_link(page: &SitePage, site_title: &str) -> String {
    let name = if page.title.is_empty() {
        site_title
    } else {
        &page.title
    };
    format!("[{}](<{}>)", summary_text(name), page.rel)
}

/// Text for a SUMMARY.md link: markdown punctuation escaped.
fn summary_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A page for a folder without one (or the site without index.md): its
/// title and a list of its pages.
fn listing(site: &Site, page: usize, site_title: &str) -> String {
    let this = &site.pages[page];
    let title = if this.title.is_empty() {
        site_title
    } else {
        &this.title
    };
    let mut html = String::from("<h1 id=\"top\"><a class=\"header\" href=\"#top\">");
    crate::html::escape_into(&mut html, title);
    html.push_str("</a></h1>\n<ul class=\"docgen-chapters\">\n");
    let children: Vec<usize> = if this.rel == "index.md" && this.parent.is_none() {
        site.top.iter().copied().filter(|&i| i != page).collect()
    } else {
        this.children.clone()
    };
    let base = parent_dir(&this.rel);
    for child in children {
        let target = &site.pages[child];
        let href = target
            .rel
            .strip_prefix(&base)
            .unwrap_or(&target.rel)
            .trim_end_matches(".md");
        html.push_str("<li><a href=\"");
        crate::html::escape_into(&mut html, &format!("{href}.html"));
        html.push_str("\">");
        crate::html::escape_into(&mut html, &target.title);
        html.push_str("</a></li>\n");
    }
    html.push_str("</ul>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_blocks() {
        assert_eq!(
            include_paths(
                "# A\n\n```{=include=} chapters\na/b.md\n\n c.md \n```\n\n```nix\nx.md\n```\n"
            ),
            ["a/b.md", "c.md"]
        );
    }

    #[test]
    fn paths_join_inside_the_folder() {
        assert_eq!(join("a/", "b/c.md").as_deref(), Some("a/b/c.md"));
        assert_eq!(join("a/b/", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join("", "../c.md"), None);
    }

    #[test]
    fn headings_give_titles() {
        assert_eq!(
            first_heading("Intro\n\n## The `micros` command {#cmd}\n").as_deref(),
            Some("The micros command")
        );
        assert_eq!(first_heading("Title\n=====\n").as_deref(), Some("Title"));
        assert_eq!(first_heading("no heading"), None);
    }

    #[test]
    fn navigation_order() {
        let mut names = vec!["user.md", "Developer.md", "index.md", "a.md"];
        names.sort_by(|a, b| nav_order(a, b));
        assert_eq!(names, ["index.md", "a.md", "Developer.md", "user.md"]);
    }
}
