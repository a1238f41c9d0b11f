//! Shared by the integration tests: the fixture option sets and scratch
//! directories.

#![allow(dead_code)] // Each test binary uses a part.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use micros_options::model::RootKind;
use micros_options::{ExtractRequest, ModuleSource, OptionSet, Root, extract};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn fixtures() -> PathBuf {
    repo().join("tests/fixtures")
}

pub fn docgen_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The project's MicrOS-like fixture tree with its nixpkgs modules.
pub fn fixture_set() -> OptionSet {
    let request = micros_options::sources::micros_request(
        &fixtures().join("micros"),
        Some(&fixtures().join("nixpkgs")),
    )
    .expect("the fixture tree has a module list");
    let extraction = extract(&request);
    assert!(
        !extraction.options.options.is_empty(),
        "{:?}",
        extraction.diagnostics
    );
    extraction.options
}

/// The option-reference fixture (`tests/fixtures/refs`).
pub fn refs_set() -> OptionSet {
    let dir = docgen_fixtures().join("refs");
    let request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::Micros,
            dir: dir.clone(),
        }],
        modules: vec![ModuleSource::File(
            dir.join("micros/modules/all-modules.nix"),
        )],
        skip_imports: false,
    };
    let extraction = extract(&request);
    assert!(
        extraction.diagnostics.is_empty(),
        "{:?}",
        extraction.diagnostics
    );
    extraction.options
}

/// A fresh directory below the target directory (kept after the test for
/// inspection).
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("docgen")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch directory");
    dir
}

/// Copy a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the tree") {
        let entry = entry.expect("read an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every file below `dir` with the extension.
pub fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// What a page's own markup may not contain, whatever the option texts
/// say: script, frames, event handler attributes, `javascript:` URLs.
/// `allowed_script` says which `src`s are the page's own scripts; with
/// `whole_page`, the template's own elements outside `<main>` are allowed.
pub fn assert_no_injected_markup(
    html: &scraper::Html,
    what: &str,
    whole_page: bool,
    allowed_script: &dyn Fn(&str) -> bool,
) {
    for element in html
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        let name = element.value().name();
        assert!(
            !matches!(name, "iframe" | "object" | "embed" | "img" | "svg" | "style" | "form" | "base" | "meta"
                if !(whole_page && is_template_element(&element))),
            "{what}: a <{name}> element: {}",
            element.html()
        );
        if name == "script" {
            // The template's scripts (outside `<main>`): its own files, or
            // inline settings. Inside the content, none at all.
            let src = element.value().attr("src").unwrap_or("");
            let own = whole_page
                && is_template_element(&element)
                && (src.is_empty() || allowed_script(src))
                && !element.inner_html().contains("alert(");
            assert!(
                own,
                "{what}: a script that is not the page's own: {}",
                element.html()
            );
        }
        for (attr, value) in element.value().attrs() {
            assert!(
                !attr.to_ascii_lowercase().starts_with("on"),
                "{what}: attribute {attr} on <{name}>"
            );
            if matches!(attr, "href" | "src" | "action" | "formaction") {
                let cleaned: String = value
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                assert!(
                    !cleaned.starts_with("javascript:")
                        && !cleaned.starts_with("data:")
                        && !cleaned.starts_with("vbscript:"),
                    "{what}: {attr}={value} on <{name}>"
                );
            }
        }
    }
}

/// mdbook's page template has its own `<meta>`, `<style>`-free head and
/// `<svg>` icons; those sit outside the content.
fn is_template_element(element: &scraper::ElementRef<'_>) -> bool {
    !element
        .ancestors()
        .filter_map(scraper::ElementRef::wrap)
        .any(|a| a.value().name() == "main")
}

/// Run `micros-docgen` with sources from the flags only.
pub fn docgen<S: AsRef<std::ffi::OsStr>>(args: &[S], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_micros-docgen"))
        .args(args)
        .current_dir(cwd)
        .env_remove("MICROS_SRC")
        .env_remove("MICROS_NIXPKGS")
        .env("NO_COLOR", "1")
        .output()
        .expect("run micros-docgen")
}

/// `--micros` and `--nixpkgs` of the project's fixture tree.
pub fn fixture_source_args() -> Vec<String> {
    let micros = fixtures().join("micros");
    let nixpkgs = fixtures().join("nixpkgs");
    vec![
        "--micros".into(),
        micros.display().to_string(),
        "--nixpkgs".into(),
        nixpkgs.display().to_string(),
    ]
}

/// Copy the project's book into `scratch/book` (without generated pages)
/// and build it with the fixture reference into `scratch/html`.
pub fn build_project_book(scratch: &Path, extra: &[&str]) -> (PathBuf, Output) {
    let book = scratch.join("book");
    copy_tree(&repo().join("book"), &book);
    let _ = std::fs::remove_dir_all(book.join("src/options"));
    let html = scratch.join("html");
    let mut args = fixture_source_args();
    args.extend([
        "--book".into(),
        book.display().to_string(),
        "--out".into(),
        html.display().to_string(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let output = docgen(&args, scratch);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (html, output)
}

/// Parse every page of a built site: one `<html>` each, ids unique,
/// nothing injected, and the pages `well_formed` says (html5ever reports
/// no parse error). mdbook's own no-script sidebar (`toc.html`) nests `<li>`
/// under part titles, which is not ours to fix.
pub fn check_site(
    site: &Path,
    well_formed: &dyn Fn(&str) -> bool,
) -> Vec<(PathBuf, scraper::Html)> {
    let pages = files_with_extension(site, "html");
    assert!(!pages.is_empty());
    pages
        .into_iter()
        .map(|page| {
            let text = std::fs::read_to_string(&page).expect("read a page");
            let what = page
                .strip_prefix(site)
                .unwrap_or(&page)
                .display()
                .to_string();
            let html = scraper::Html::parse_document(&text);
            if well_formed(&what) {
                assert!(html.errors.is_empty(), "{what}: {:?}", html.errors);
            }
            assert_eq!(
                text.to_ascii_lowercase().matches("<html").count(),
                1,
                "{what}"
            );
            let mut ids = std::collections::HashSet::new();
            for element in html
                .root_element()
                .descendants()
                .filter_map(scraper::ElementRef::wrap)
            {
                if let Some(id) = element.value().attr("id") {
                    assert!(ids.insert(id.to_string()), "{what}: id {id} twice");
                }
            }
            let dir = page.parent().expect("in the site").to_path_buf();
            assert_no_injected_markup(&html, &what, true, &|src| {
                !src.contains(':') && dir.join(src.split('?').next().unwrap_or(src)).is_file()
            });
            (page, html)
        })
        .collect()
}
