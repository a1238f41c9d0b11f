//! `micros-docgen --pages DIR`: a folder of markdown pages and the options
//! reference as one site (the fixture pages, and MicrOS's own `docs/` when
//! MICROS_SRC is set).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hrefs of the navigation, in order.
fn navigation(site: &Path) -> Vec<String> {
    let toc = scraper::Html::parse_document(&read(&site.join("toc.html")));
    let selector = scraper::Selector::parse("ol.chapter a[href]").expect("selector");
    toc.select(&selector)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

/// The search index's document URLs and stored texts.
fn search_index(site: &Path) -> String {
    let index = common::files_with_extension(site, "js")
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("searchindex"))
        })
        .expect("a search index");
    read(&index)
}

/// Every `href` of the site's own pages that points into the site names a
/// file that exists and, with a fragment, an element with that id.
fn assert_links_resolve(pages: &[(PathBuf, scraper::Html)]) {
    let any = scraper::Selector::parse("main a[href]").expect("selector");
    for (page, html) in pages {
        if page
            .file_name()
            .is_some_and(|n| n == "print.html" || n == "toc.html")
        {
            continue;
        }
        for link in html.select(&any) {
            let href = link.value().attr("href").unwrap_or("");
            assert!(!href.starts_with("file:"), "{}: {href}", page.display());
            if href.contains(':') || href.starts_with('#') {
                continue;
            }
            let (file, fragment) = href.split_once('#').unwrap_or((href, ""));
            let target = page.parent().expect("in the site").join(file);
            assert!(target.is_file(), "{}: {href} is not a file", page.display());
            if !fragment.is_empty() {
                let text = read(&target);
                assert!(
                    text.contains(&format!("id=\"{fragment}\"")),
                    "{}: {href}: no element with that id",
                    page.display()
                );
            }
        }
    }
}

#[test]
fn a_folder_of_pages_becomes_one_site_with_the_options() {
    let scratch = common::scratch("pages");
    let site = scratch.join("site");
    let pages = common::docgen_fixtures().join("pages");
    let mut args = common::fixture_source_args();
    args.extend([
        "--pages".into(),
        pages.display().to_string(),
        "--out".into(),
        site.display().to_string(),
        "--title".into(),
        "Fixture docs".into(),
        "-q".into(),
    ]);
    let output = common::docgen(&args, &scratch);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // The broken reference in a page is reported at the page's line.
    let message = stderr(&output);
    assert!(
        message.contains("warning: {option}`services.nope` names no option"),
        "{message}"
    );
    assert!(message.contains("pages/guide.md:4:21"), "{message}");

    // Navigation: index first, then by name; the include block's order for
    // the guide's subpages (basics before advanced); a folder without a
    // page of its own gets a listing; the options last.
    let nav = navigation(&site);
    let pages_part: Vec<&str> = nav
        .iter()
        .map(String::as_str)
        .take_while(|h| !h.starts_with("options/"))
        .collect();
    assert_eq!(
        pages_part,
        [
            "index.html",
            "guide.html",
            "guide/basics.html",
            "guide/advanced.html",
            "reference/index.html",
            "reference/commands.html",
        ]
    );
    assert!(nav.contains(&"options/index.html".to_string()));
    assert!(nav.contains(&"options/services.html".to_string()));
    let toc = read(&site.join("toc.html"));
    assert!(
        toc.contains(">Fixture documentation<"),
        "the index's heading names it"
    );

    // Every page parses cleanly, ids are unique, nothing injected, and the
    // links between pages and into the reference resolve.
    let built = common::check_site(&site, &|page| {
        page.starts_with("options/") || !page.contains("toc")
    });
    assert_links_resolve(&built);

    let guide = read(&site.join("guide.html"));
    for expected in [
        // {option} links into the reference; a subpage's link goes up.
        "<a href=\"options/services.html#opt-services.getty.enable\"><code class=\"option\">services.getty.enable</code></a>",
        // Heading anchors, asked for and made from the text.
        "<h2 id=\"install\"><a class=\"header\" href=\"#install\">Installing</a></h2>",
        "<h1 id=\"the-guide\">",
        // Both admonition forms, as mdbook's themes colour them.
        "blockquote-tag blockquote-tag-warning",
        "blockquote-tag blockquote-tag-tip",
        // Links between pages point at the built pages.
        "href=\"guide/advanced.html#tuning\"",
        // The include block lists the pages it includes.
        "<li><a href=\"guide/basics.html\">Basics</a></li>",
        "<code class=\"file\">/etc/issue</code>",
    ] {
        assert!(guide.contains(expected), "guide.html lacks {expected}");
    }
    let basics = read(&site.join("guide/basics.html"));
    assert!(
        basics.contains("href=\"../options/networking.html#opt-networking.hostName\""),
        "{basics}"
    );
    let advanced = read(&site.join("guide/advanced.html"));
    assert!(advanced.contains("id=\"tuning\"") && advanced.contains("id=\"tuning-1\""));
    // Other files are copied as they are.
    assert_eq!(
        read(&site.join("files/example.txt")),
        "an example file, copied as it is\n"
    );

    // One search over the pages (a document per heading) and the options.
    let index = search_index(&site);
    for url in [
        "guide.html#install",
        "guide/advanced.html#tuning-1",
        "reference/commands.html#commands",
        "options/services.html#opt-services.getty.enable",
    ] {
        assert!(index.contains(url), "{url} is not in the search index");
    }

    // With --strict the broken reference is an error (the site is still
    // written).
    args.push("--strict".into());
    let output = common::docgen(&args, &scratch);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("error: {option}`services.nope`"));
    assert!(site.join("guide.html").is_file());
}

#[test]
fn bad_page_folders_are_clear_errors() {
    let scratch = common::scratch("pages-errors");
    let site = scratch.join("site");
    let run = |pages: &Path| {
        let mut args = common::fixture_source_args();
        args.extend([
            "--pages".into(),
            pages.display().to_string(),
            "--out".into(),
            site.display().to_string(),
            "-q".into(),
        ]);
        common::docgen(&args, &scratch)
    };

    let output = run(&scratch.join("missing"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("missing: not a directory of pages"));

    let empty = scratch.join("empty");
    std::fs::create_dir_all(empty.join("images")).expect("mkdir");
    std::fs::write(empty.join("images/logo.txt"), "x").expect("write");
    let output = run(&empty);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no markdown pages"),
        "{}",
        stderr(&output)
    );

    // The reference owns options/.
    let clash = scratch.join("clash");
    std::fs::create_dir_all(clash.join("options")).expect("mkdir");
    std::fs::write(clash.join("index.md"), "# Hi\n").expect("write");
    let output = run(&clash);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("move or rename that folder"),
        "{}",
        stderr(&output)
    );

    // A page that is not UTF-8, and an include of a page that is not there.
    let bad = scratch.join("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::write(bad.join("index.md"), b"# Hi\n\xff\n").expect("write");
    let output = run(&bad);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("index.md: cannot read the page"),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        bad.join("index.md"),
        "# Hi\n\n```{=include=} chapters\nnot-there.md\n```\n",
    )
    .expect("write");
    let output = run(&bad);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(
            "error: `not-there.md` (in an `{=include=}` block) is not a page of the site"
        ),
        "{message}"
    );
    assert!(message.contains("bad/index.md:3:4"), "{message}");
}

/// MicrOS's own documentation folder builds into one site with its pages
/// and its options, declarations linked to the checkout's commit.
#[test]
fn micros_docs_build_into_one_site() {
    let (Some(micros), Some(nixpkgs)) = (
        micros_options::sources::env_dir("MICROS_SRC"),
        micros_options::sources::env_dir("MICROS_NIXPKGS"),
    ) else {
        eprintln!("skipped: set MICROS_SRC and MICROS_NIXPKGS to build MicrOS's docs/");
        return;
    };
    let scratch = common::scratch("micros-docs");
    let site = scratch.join("site");
    let args: Vec<String> = vec![
        "--micros".into(),
        micros.display().to_string(),
        "--nixpkgs".into(),
        nixpkgs.display().to_string(),
        "--pages".into(),
        micros.join("docs").display().to_string(),
        "--out".into(),
        site.display().to_string(),
    ];
    let output = common::docgen(&args, &scratch);
    // The options' own descriptions have references to options micros does
    // not import: warnings, not errors.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        !stderr(&output).lines().any(|l| l.starts_with("error")),
        "{}",
        stderr(&output)
    );

    let nav = navigation(&site);
    for page in [
        "index.html",
        "developer.html",
        "getting-started.html",
        "getting-started/creating-config.html",
        "user.html",
        "options/index.html",
        "options/services.html",
    ] {
        assert!(nav.contains(&page.to_string()), "{page} is not in {nav:?}");
    }
    assert_eq!(nav[0], "index.html");
    let position = |page: &str| nav.iter().position(|h| h == page).expect("listed");
    assert_eq!(
        position("getting-started/creating-config.html"),
        position("getting-started.html") + 1,
        "the subpage follows its page"
    );

    let built = common::check_site(&site, &|page| !page.contains("toc"));
    assert_links_resolve(&built);
    let creating = read(&site.join("getting-started/creating-config.html"));
    assert!(
        creating.contains("blockquote-tag-note"),
        "the [!NOTE] admonition"
    );
    assert!(
        creating.contains("<code class=\"nohighlight language-nix\">"),
        "Nix highlighted"
    );
    let getting_started = read(&site.join("getting-started.html"));
    assert!(
        getting_started.contains("href=\"getting-started/creating-config.html\""),
        "the include block links the chapter"
    );
    assert!(!getting_started.contains("{=include=}"));

    let index = search_index(&site);
    for url in [
        "getting-started.html#prerequisites",
        "getting-started/creating-config.html#flakenix",
        "options/services.html#opt-services.getty.enable",
    ] {
        assert!(index.contains(url), "{url} is not in the search index");
    }

    // Declarations link to the checkout's remote at its commit, with the
    // line; never to local files.
    let services = read(&site.join("options/services.html"));
    assert!(!services.contains("file://"));
    if let Ok(url) = micros_docgen::repo::browse_url(&micros) {
        let link = format!("href=\"{url}/micros/modules/services/getty.nix#L");
        assert!(services.contains(&link), "no {link}");
        assert!(url.contains("/blob/") && url.len() > 40, "{url}");
    } else {
        eprintln!("MICROS_SRC is not a git checkout: declarations are plain text");
    }
}
