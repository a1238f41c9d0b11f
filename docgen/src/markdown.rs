//! Option descriptions (and `literalMD` text): markdown with the roles and
//! admonitions of the NixOS manual, rendered to HTML that cannot carry
//! markup of its own.
//!
//! Raw HTML in a description is shown as text, links and images keep only
//! safe URL schemes, and headings lose any id they ask for, so a module's
//! text cannot inject script or clash with option anchors.

use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
    TextMergeStream,
};

use crate::highlight::nix_to_html;
use crate::html::{escape, escape_into, without_blank_lines};

/// How `{option}` references become links.
pub trait OptionLinks {
    /// The href for the option named `name` (as written in the reference),
    /// or why there is none.
    fn link(&self, name: &str) -> Result<String, UnresolvedKind>;
    /// For pages: the href and title of a page named in an `{=include=}`
    /// block (a path relative to the including page), if it is one.
    fn page(&self, _path: &str) -> Option<(String, String)> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnresolvedKind {
    /// No option has this name.
    Unknown,
    /// The option exists but is internal or hidden, so the reference does
    /// not show it.
    Undocumented,
}

/// An `{option}` reference that names no documented option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedRef {
    pub name: String,
    pub kind: UnresolvedKind,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub unresolved: Vec<UnresolvedRef>,
    /// Pages: `{=include=}` entries that name no page, and include kinds
    /// that are not supported.
    pub bad_includes: Vec<String>,
}

/// Option descriptions sit inside an option's entry: their headings are
/// demoted and get no ids. Pages are documents of their own: headings keep
/// their level and get anchors (`{#id}`, or one made from the text), and
/// `{=include=}` blocks list the pages they include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Description,
    Page,
}

/// Admonition kinds, in both spellings, with mdbook's class names so that
/// its themes colour them.
pub(crate) const ADMONITIONS: &[(&str, &str)] = &[
    ("note", "Note"),
    ("tip", "Tip"),
    ("important", "Important"),
    ("warning", "Warning"),
    ("caution", "Caution"),
];

/// Render a description. The HTML has no blank lines (see [`crate::html`]).
pub fn render(text: &str, links: &dyn OptionLinks) -> Rendered {
    render_in(text, links, Mode::Description)
}

/// Render a page of the documentation (see [`Mode`]). The same markdown as
/// descriptions otherwise: roles, admonitions, raw HTML shown as text.
pub fn render_page(text: &str, links: &dyn OptionLinks) -> Rendered {
    render_in(text, links, Mode::Page)
}

fn render_in(text: &str, links: &dyn OptionLinks, mode: Mode) -> Rendered {
    let mut rendered = Rendered::default();
    let mut ids = std::collections::HashSet::new();
    for block in split_fenced_divs(text) {
        render_block(&block, links, mode, &mut ids, &mut rendered);
    }
    rendered.html = without_blank_lines(&rendered.html);
    rendered
}

/// A piece of a description: markdown, or a `::: {.class}` div around
/// more pieces.
#[derive(Debug, PartialEq)]
pub(crate) enum Block {
    Markdown(String),
    Div { class: String, body: Vec<Block> },
}

fn render_block(
    block: &Block,
    links: &dyn OptionLinks,
    mode: Mode,
    ids: &mut std::collections::HashSet<String>,
    out: &mut Rendered,
) {
    match block {
        Block::Markdown(text) => render_markdown(text, links, mode, ids, out),
        Block::Div { class, body } => {
            match ADMONITIONS.iter().find(|(kind, _)| kind == class) {
                Some((kind, title)) => open_admonition(&mut out.html, kind, title),
                None => {
                    out.html.push_str("<div class=\"fenced-div ");
                    escape_into(&mut out.html, class);
                    out.html.push_str("\">\n");
                }
            }
            for inner in body {
                render_block(inner, links, mode, ids, out);
            }
            let known = ADMONITIONS.iter().any(|(kind, _)| kind == class);
            out.html
                .push_str(if known { "</blockquote>\n" } else { "</div>\n" });
        }
    }
}

fn open_admonition(html: &mut String, kind: &str, title: &str) {
    html.push_str("<blockquote class=\"blockquote-tag blockquote-tag-");
    html.push_str(kind);
    html.push_str("\">\n<p class=\"blockquote-tag-title\">");
    html.push_str(title);
    html.push_str("</p>\n");
}

/// Split out `::: {.note}` ... `:::` divs (pandoc's fenced divs, as the
/// NixOS manual writes admonitions), leaving fenced code alone.
pub(crate) fn split_fenced_divs(text: &str) -> Vec<Block> {
    // A stack of open divs: (class, colons, blocks so far); the bottom is
    // the description itself.
    let mut stack: Vec<(String, usize, Vec<Block>)> = vec![(String::new(), 0, Vec::new())];
    let mut current = String::new();
    let mut code_fence: Option<(char, usize)> = None;
    let flush = |current: &mut String, blocks: &mut Vec<Block>| {
        if !current.trim().is_empty() {
            blocks.push(Block::Markdown(std::mem::take(current)));
        }
        current.clear();
    };
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if let Some((fence_char, fence_len)) = code_fence {
            let run = trimmed.chars().take_while(|&c| c == fence_char).count();
            if indent < 4 && run >= fence_len && trimmed[run..].trim().is_empty() {
                code_fence = None;
            }
            current.push_str(line);
            continue;
        }
        if indent < 4 {
            let fence_char = trimmed.chars().next().filter(|c| matches!(c, '`' | '~'));
            if let Some(c) = fence_char {
                let run = trimmed.chars().take_while(|&x| x == c).count();
                if run >= 3 {
                    code_fence = Some((c, run));
                    current.push_str(line);
                    continue;
                }
            }
            let colons = trimmed.chars().take_while(|&c| c == ':').count();
            if colons >= 3 {
                let rest = trimmed[colons..].trim();
                if rest.is_empty() && stack.len() > 1 {
                    let top = stack.len() - 1;
                    flush(&mut current, &mut stack[top].2);
                    let (class, _, body) = stack.pop().expect("more than the root");
                    let parent = stack.len() - 1;
                    stack[parent].2.push(Block::Div { class, body });
                    continue;
                }
                if let Some(class) = div_class(rest) {
                    let top = stack.len() - 1;
                    flush(&mut current, &mut stack[top].2);
                    stack.push((class, colons, Vec::new()));
                    continue;
                }
            }
        }
        current.push_str(line);
    }
    // Divs left open end with the description.
    let top = stack.len() - 1;
    flush(&mut current, &mut stack[top].2);
    while stack.len() > 1 {
        let (class, _, body) = stack.pop().expect("more than the root");
        let parent = stack.len() - 1;
        stack[parent].2.push(Block::Div { class, body });
    }
    stack.pop().map(|(_, _, blocks)| blocks).unwrap_or_default()
}

/// The first class of `{.note}` / `{#id .warning}` / `note`.
fn div_class(attrs: &str) -> Option<String> {
    let inner = match attrs.strip_prefix('{') {
        Some(rest) => rest.strip_suffix('}')?,
        None => attrs,
    };
    let class = inner
        .split_whitespace()
        .find_map(|word| word.strip_prefix('.'))
        .or_else(|| (!attrs.starts_with('{')).then_some(inner))?;
    let valid = !class.is_empty()
        && class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| class.to_ascii_lowercase())
}

pub(crate) fn parser_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_GFM
        | Options::ENABLE_TASKLISTS
}

fn render_markdown(
    text: &str,
    links: &dyn OptionLinks,
    mode: Mode,
    ids: &mut std::collections::HashSet<String>,
    out: &mut Rendered,
) {
    let options = match mode {
        Mode::Description => parser_options(),
        Mode::Page => parser_options() | Options::ENABLE_HEADING_ATTRIBUTES,
    };
    let events = TextMergeStream::new(Parser::new_ext(text, options));
    let mut transformed: Vec<Event<'_>> = Vec::new();
    // A page's open heading: where it starts in `transformed`, its level
    // and the id it asked for.
    let mut heading: Option<(usize, HeadingLevel, Option<String>)> = None;
    // Whether each open link or image was kept (a dropped one renders as
    // its text).
    let mut link_kept: Vec<bool> = Vec::new();
    let mut in_code_block: Option<String> = None;
    let mut code_text = String::new();
    for event in events {
        if let Some(lang) = &in_code_block {
            match event {
                Event::Text(t) => code_text.push_str(&t),
                Event::End(TagEnd::CodeBlock) if mode == Mode::Page && lang == "{=include=}" => {
                    transformed.push(Event::Html(includes(&code_text, links, out).into()));
                    code_text.clear();
                    in_code_block = None;
                }
                Event::End(TagEnd::CodeBlock) => {
                    transformed.push(Event::Html(code_block(lang, &code_text).into()));
                    code_text.clear();
                    in_code_block = None;
                }
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info)
                        if mode == Mode::Page && info.starts_with("{=include=}") =>
                    {
                        let kind = info["{=include=}".len()..].trim();
                        if !matches!(kind, "chapters" | "sections" | "") {
                            out.bad_includes.push(format!(
                                "`{{=include=}} {kind}` is not supported (only chapters and sections)"
                            ));
                        }
                        "{=include=}".to_string()
                    }
                    CodeBlockKind::Fenced(info) => info
                        .split([' ', '\t', ',', '{'])
                        .next()
                        .unwrap_or("")
                        .to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                in_code_block = Some(lang);
            }
            Event::Start(Tag::Heading { level, id, .. }) if mode == Mode::Page => {
                heading = Some((transformed.len(), level, id.map(|id| id.to_string())));
                // Replaced by the opening tag once the text (and so the id)
                // is known.
                transformed.push(Event::Html("".into()));
            }
            Event::End(TagEnd::Heading(_)) if mode == Mode::Page => {
                if let Some((start, level, asked)) = heading.take() {
                    let text = plain_text(&transformed[start + 1..]);
                    let id = unique_id(asked.as_deref().unwrap_or(&slug(&text)), ids);
                    let mut open = format!("<{level} id=\"");
                    escape_into(&mut open, &id);
                    open.push_str("\"><a class=\"header\" href=\"#");
                    escape_into(&mut open, &id);
                    open.push_str("\">");
                    transformed[start] = Event::Html(open.into());
                    transformed.push(Event::Html(format!("</a></{level}>\n").into()));
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                transformed.push(Event::Text(html));
            }
            Event::Start(Tag::HtmlBlock) => transformed.push(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::HtmlBlock) => transformed.push(Event::End(TagEnd::Paragraph)),
            Event::Start(Tag::Heading { level, .. }) => {
                transformed.push(Event::Start(Tag::Heading {
                    level: demote(level),
                    id: None,
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }))
            }
            Event::End(TagEnd::Heading(level)) => {
                transformed.push(Event::End(TagEnd::Heading(demote(level))))
            }
            Event::Start(Tag::BlockQuote(Some(kind))) => {
                let (class, title) = admonition_of(kind);
                let mut html = String::new();
                open_admonition(&mut html, class, title);
                transformed.push(Event::Html(html.into()));
            }
            Event::End(TagEnd::BlockQuote(Some(_))) => {
                transformed.push(Event::Html("</blockquote>\n".into()))
            }
            Event::Start(tag @ (Tag::Link { .. } | Tag::Image { .. })) => {
                let keep = match &tag {
                    Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => safe_url(dest_url),
                    _ => true,
                };
                link_kept.push(keep);
                if keep {
                    transformed.push(Event::Start(tag));
                }
            }
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
                if link_kept.pop().unwrap_or(false) {
                    transformed.push(Event::End(end));
                }
            }
            Event::Code(code) => {
                // A role is written `{name}` right before the code span.
                let role = match transformed.last_mut() {
                    Some(Event::Text(text)) => take_role(text),
                    _ => None,
                };
                match role {
                    Some(role) => {
                        let html = render_role(&role, &code, links, &mut out.unresolved);
                        transformed.push(Event::InlineHtml(html.into()));
                    }
                    None => transformed.push(Event::Code(code)),
                }
            }
            // Math and footnotes are not enabled; metadata blocks neither.
            Event::InlineMath(t) | Event::DisplayMath(t) => transformed.push(Event::Text(t)),
            other => transformed.push(other),
        }
    }
    pulldown_cmark::html::push_html(&mut out.html, transformed.into_iter());
    // pulldown-cmark escapes `<`, `>`, `&` and quotes, but not `{{`.
    break_directives(&mut out.html);
}

/// `{{` must not reach mdbook (see [`crate::html`]). Our own markup never
/// contains it, so any occurrence came from the text.
fn break_directives(html: &mut String) {
    if html.contains("{{") {
        *html = html.replace("{{", "&#123;{");
    }
}

/// The text of a heading's events, for its id.
fn plain_text(events: &[Event<'_>]) -> String {
    let mut text = String::new();
    for event in events {
        if let Event::Text(t) | Event::Code(t) = event {
            text.push_str(t);
        }
    }
    text
}

/// An id made from a heading's text, as mdbook makes them: lowercase
/// letters and digits, spaces and hyphens as `-`, other punctuation left out.
pub(crate) fn slug(text: &str) -> String {
    let mut id = String::new();
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' {
            id.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' {
            id.push('-');
        }
    }
    if id.is_empty() {
        id.push_str("section");
    }
    id
}

fn unique_id(wanted: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let mut id = wanted.to_string();
    let mut n = 0;
    while !taken.insert(id.clone()) {
        n += 1;
        id = format!("{wanted}-{n}");
    }
    id
}

/// An `{=include=}` block (nixos-render-docs' way to list a page's
/// chapters, one path per line): a list of links to those pages, which the
/// navigation shows under the including page.
fn includes(block: &str, links: &dyn OptionLinks, out: &mut Rendered) -> String {
    let mut html = String::from("<ul class=\"docgen-chapters\">\n");
    for path in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match links.page(path) {
            Some((href, title)) => {
                html.push_str("<li><a href=\"");
                escape_into(&mut html, &href);
                html.push_str("\">");
                escape_into(&mut html, &title);
                html.push_str("</a></li>\n");
            }
            None => out.bad_includes.push(format!(
                "`{path}` (in an `{{=include=}}` block) is not a page of the site"
            )),
        }
    }
    html.push_str("</ul>\n");
    html
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H4,
        HeadingLevel::H2 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

pub(crate) fn admonition_of(kind: BlockQuoteKind) -> (&'static str, &'static str) {
    match kind {
        BlockQuoteKind::Note => ADMONITIONS[0],
        BlockQuoteKind::Tip => ADMONITIONS[1],
        BlockQuoteKind::Important => ADMONITIONS[2],
        BlockQuoteKind::Warning => ADMONITIONS[3],
        BlockQuoteKind::Caution => ADMONITIONS[4],
    }
}

/// Whether a link target is safe to keep: relative, or one of the schemes
/// documentation links to. Browsers ignore ASCII whitespace and control
/// characters inside a scheme, so they are ignored here too.
fn safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect();
    match cleaned.find(':') {
        None => true,
        Some(colon) => {
            let before = &cleaned[..colon];
            if before.contains(['/', '?', '#']) {
                return true;
            }
            matches!(
                before.to_ascii_lowercase().as_str(),
                "http" | "https" | "mailto" | "ftp"
            )
        }
    }
}

/// Remove a trailing `{role}` from text, returning the role.
pub(crate) fn take_role(text: &mut CowStr<'_>) -> Option<String> {
    let s: &str = text;
    let body = s.strip_suffix('}')?;
    let open = body.rfind('{')?;
    let role = &body[open + 1..];
    if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    let role = role.to_string();
    let kept = s[..open].to_string();
    *text = kept.into();
    Some(role)
}

fn render_role(
    role: &str,
    content: &str,
    links: &dyn OptionLinks,
    unresolved: &mut Vec<UnresolvedRef>,
) -> String {
    let mut html = String::new();
    let code = |html: &mut String, class: &str| {
        html.push_str("<code class=\"");
        html.push_str(class);
        html.push_str("\">");
        escape_into(html, content);
        html.push_str("</code>");
    };
    match role {
        "option" => match links.link(content) {
            Ok(href) => {
                html.push_str("<a href=\"");
                escape_into(&mut html, &href);
                html.push_str("\">");
                code(&mut html, "option");
                html.push_str("</a>");
            }
            Err(kind) => {
                unresolved.push(UnresolvedRef {
                    name: content.to_string(),
                    kind,
                });
                code(&mut html, "option");
            }
        },
        "command" | "file" | "env" | "var" => code(&mut html, role),
        "manpage" => match man7_url(content) {
            Some(url) => {
                html.push_str("<a href=\"");
                escape_into(&mut html, &url);
                html.push_str("\">");
                code(&mut html, "manpage");
                html.push_str("</a>");
            }
            None => code(&mut html, "manpage"),
        },
        // An unknown role is shown as written.
        other => {
            html.push('{');
            escape_into(&mut html, other);
            html.push('}');
            code(&mut html, "");
        }
    }
    html
}

/// `systemd.service(5)` → its page on man7.org.
pub fn man7_url(reference: &str) -> Option<String> {
    let (name, rest) = reference.trim().split_once('(')?;
    let section = rest.strip_suffix(')')?;
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | ':'));
    let digit = section.chars().next().filter(char::is_ascii_digit)?;
    let section_ok = section.chars().all(|c| c.is_ascii_alphanumeric());
    (name_ok && section_ok)
        .then(|| format!("https://man7.org/linux/man-pages/man{digit}/{name}.{section}.html"))
}

/// A fenced code block: Nix highlighted here, other languages left to
/// highlight.js in the browser.
fn code_block(lang: &str, code: &str) -> String {
    let mut html = String::new();
    if lang == "nix" || lang.is_empty() && looks_like_nix(code) {
        html.push_str("<pre><code class=\"nohighlight language-nix\">");
        nix_to_html(code, &mut html);
    } else if lang.is_empty() {
        html.push_str("<pre><code class=\"nohighlight\">");
        escape_into(&mut html, code);
    } else {
        html.push_str("<pre><code class=\"language-");
        html.push_str(&escape(lang));
        html.push_str("\">");
        escape_into(&mut html, code);
    }
    html.push_str("</code></pre>\n");
    html
}

/// Unlabelled code blocks in option descriptions are nearly always Nix; a
/// cheap guess keeps shell snippets plain.
fn looks_like_nix(code: &str) -> bool {
    code.contains(" = ") && (code.contains(';') || code.contains('{'))
}

/// A literal Nix expression (a default or example) as highlighted HTML:
/// inline when it is one short line, otherwise a block.
pub fn nix_literal(code: &str) -> String {
    let mut html = String::new();
    if code.contains('\n') || code.len() > 60 {
        html.push_str("<pre><code class=\"nohighlight language-nix\">");
        nix_to_html(code, &mut html);
        html.push_str("</code></pre>");
    } else {
        html.push_str("<code class=\"nohighlight language-nix\">");
        nix_to_html(code, &mut html);
        html.push_str("</code>");
    }
    without_blank_lines(&html)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Known;
    impl OptionLinks for Known {
        fn link(&self, name: &str) -> Result<String, UnresolvedKind> {
            match name {
                "services.getty.enable" => Ok("services.html#opt-services.getty.enable".into()),
                "nix.gc" => Err(UnresolvedKind::Undocumented),
                _ => Err(UnresolvedKind::Unknown),
            }
        }
    }

    fn html(text: &str) -> String {
        render(text, &Known).html
    }

    #[test]
    fn roles() {
        expect_test::expect![[r#"
            <p>See <a href="services.html#opt-services.getty.enable"><code class="option">services.getty.enable</code></a>, run <code class="command">getty -h</code>, edit <code class="file">/etc/issue</code>, set <code class="env">TERM</code> (<code class="var">cfg</code>), read <a href="https://man7.org/linux/man-pages/man8/agetty.8.html"><code class="manpage">agetty(8)</code></a> and {odd}<code class="">x</code>.</p>
        "#]]
        .assert_eq(&html(
            "See {option}`services.getty.enable`, run {command}`getty -h`, edit {file}`/etc/issue`, set {env}`TERM` ({var}`cfg`), read {manpage}`agetty(8)` and {odd}`x`.",
        ));
    }

    #[test]
    fn unresolved_references_are_collected() {
        let rendered = render("{option}`nope.nope` and {option}`nix.gc`", &Known);
        assert_eq!(
            rendered.unresolved,
            vec![
                UnresolvedRef {
                    name: "nope.nope".into(),
                    kind: UnresolvedKind::Unknown
                },
                UnresolvedRef {
                    name: "nix.gc".into(),
                    kind: UnresolvedKind::Undocumented
                }
            ]
        );
        assert!(
            rendered
                .html
                .contains("<code class=\"option\">nope.nope</code>")
        );
    }

    #[test]
    fn admonitions_in_both_forms() {
        expect_test::expect![[r#"
            <p>Intro.</p>
            <blockquote class="blockquote-tag blockquote-tag-warning">
            <p class="blockquote-tag-title">Warning</p>
            <p>Keys are <strong>secret</strong>.</p>
            <blockquote class="blockquote-tag blockquote-tag-note">
            <p class="blockquote-tag-title">Note</p>
            <p>Nested.</p>
            </blockquote>
            </blockquote>
            <blockquote class="blockquote-tag blockquote-tag-tip">
            <p class="blockquote-tag-title">Tip</p>
            <p>GitHub style.</p>
            </blockquote>
            <div class="fenced-div example">
            <p>Other divs keep their content.</p>
            </div>
        "#]]
        .assert_eq(&html(
            "Intro.\n\n::: {.warning}\nKeys are **secret**.\n\n:::: {.note}\nNested.\n::::\n:::\n\n> [!TIP]\n> GitHub style.\n\n::: {.example}\nOther divs keep their content.\n:::\n",
        ));
        for kind in ["note", "warning", "tip", "caution", "important"] {
            let fenced = html(&format!("::: {{.{kind}}}\nx\n:::"));
            let github = html(&format!("> [!{}]\n> x", kind.to_uppercase()));
            assert_eq!(fenced, github, "{kind}");
            assert!(fenced.contains(&format!("blockquote-tag-{kind}")));
        }
    }

    #[test]
    fn fences_inside_code_are_not_divs() {
        let out = html("```\n::: {.note}\n```\n");
        assert!(!out.contains("blockquote"), "{out}");
        assert!(out.contains("::: {.note}"), "{out}");
    }

    #[test]
    fn raw_html_is_text() {
        let out = html(
            "<script>alert(1)</script>\n\nInline <img src=x onerror=alert(2)> and <b>bold</b>.\n\n[click](javascript:alert(3)) [ok](https://example.org) ![i](JaVaScript:alert(4))\n\n# Title {#opt-services.getty.enable}\n\n{{#include /etc/passwd}}",
        );
        expect_test::expect![[r#"
            <p>&lt;script&gt;alert(1)&lt;/script&gt;
            </p>
            <p>Inline &lt;img src=x onerror=alert(2)&gt; and &lt;b&gt;bold&lt;/b&gt;.</p>
            <p>click <a href="https://example.org">ok</a> i</p>
            <h4>Title {#opt-services.getty.enable}</h4>
            <p>&#123;{#include /etc/passwd}}</p>
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn nix_code_is_highlighted_and_blank_lines_are_kept_out() {
        let out = html("```nix\n{\n  a = 1;\n\n  b = true;\n}\n```\n\nAfter.");
        expect_test::expect![[r#"
            <pre><code class="nohighlight language-nix">{
              <span class="hljs-attr">a</span> = <span class="hljs-number">1</span>;&#10;
              <span class="hljs-attr">b</span> = <span class="hljs-literal">true</span>;
            }
            </code></pre>
            <p>After.</p>
        "#]]
        .assert_eq(&out);
    }

    #[test]
    fn manpage_urls() {
        assert_eq!(
            man7_url("systemd.service(5)").as_deref(),
            Some("https://man7.org/linux/man-pages/man5/systemd.service.5.html")
        );
        assert_eq!(
            man7_url("pcap(3pcap)").as_deref(),
            Some("https://man7.org/linux/man-pages/man3/pcap.3pcap.html")
        );
        assert_eq!(man7_url("not a page"), None);
        assert_eq!(man7_url("x\"y(1)"), None);
    }
}
