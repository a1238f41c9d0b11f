//! The `micros-docgen` binary end to end: the project's book built with the
//! fixture reference, a site from a hostile options.json, the manual page,
//! and its errors.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use micros_docgen::anchor::option_id;

fn docgen(args: &[&str], cwd: &Path) -> Output {
    common::docgen(args, cwd)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `error:` line (progress lines come before it).
fn error_line(output: &Output) -> String {
    let text = stderr(output);
    text.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(&text)
        .to_string()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn check_site(site: &Path, well_formed: &dyn Fn(&str) -> bool) -> Vec<(PathBuf, scraper::Html)> {
    common::check_site(site, well_formed)
}

#[test]
fn builds_the_project_book_with_the_fixture_reference() {
    let scratch = common::scratch("project-book");
    let (html, output) = common::build_project_book(
        &scratch,
        &["--repo-url", "https://github.com/snugnug/micros/blob/main"],
    );
    // Progress is shown.
    assert!(stderr(&output).contains("rendering"), "{}", stderr(&output));

    // The other chapters are not generated here; the options pages are.
    let pages = check_site(&html, &|page| page.starts_with("options/"));
    // Every documented option's anchor is on exactly one page.
    let set = common::fixture_set();
    let documented = micros_docgen::reference::documented(&set);
    let mut anchors = std::collections::HashMap::new();
    for (page, doc) in &pages {
        if page.file_name().is_some_and(|n| n == "print.html") {
            continue;
        }
        let selector = scraper::Selector::parse("h2[id^=\"opt-\"]").expect("selector");
        for heading in doc.select(&selector) {
            let id = heading.value().attr("id").expect("has an id").to_string();
            assert!(
                anchors.insert(id.clone(), page.clone()).is_none(),
                "{id} twice"
            );
        }
    }
    assert_eq!(anchors.len(), documented.len());
    for option in &documented {
        assert!(
            anchors.contains_key(&option_id(&option.name())),
            "{}",
            option.name()
        );
    }
    assert!(anchors["opt-services.getty.enable"].ends_with("options/services.html"));

    // The groups are chapters under Options, the user guide is still there.
    let toc = std::fs::read_to_string(html.join("toc.html")).expect("the table of contents");
    for group in [
        "options/services.html",
        "options/users.html",
        "options/index.html",
        "developer/architecture.html",
    ] {
        assert!(
            toc.contains(group),
            "{group} is not in the table of contents"
        );
    }
    // Search indexes option names, their parts and descriptions.
    let index = common::files_with_extension(&html, "js")
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("searchindex"))
        })
        .expect("a search index");
    let index = std::fs::read_to_string(index).expect("read the search index");
    // (The index is a trie of stemmed words; the stored text and the
    // URLs show what went in.)
    for text in [
        "options/services.html#opt-services.getty.enable",
        "services getty autologinUser",
        "Log this user in without a password.",
    ] {
        assert!(index.contains(text), "{text} is not in the search index");
    }
    // Declarations link to the repository with the line.
    let services =
        std::fs::read_to_string(html.join("options/services.html")).expect("services page");
    assert!(services.contains(
        "href=\"https://github.com/snugnug/micros/blob/main/micros/modules/services/getty.nix#L"
    ));
    // Nix examples are highlighted already (hljs leaves them alone).
    assert!(services.contains("<code class=\"nohighlight language-nix\"><span class=\"hljs-"));
}

#[test]
fn a_hostile_options_json_builds_a_clean_site() {
    let scratch = common::scratch("hostile-site");
    let json = common::docgen_fixtures().join("hostile.json");
    let html = scratch.join("html");
    let output = docgen(
        &["--options", path(&json), "--out", path(&html), "-q"],
        &scratch,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let pages = check_site(&html, &|page| page != "toc.html");
    let evil = pages
        .iter()
        .find(|(p, _)| p.ends_with("options/evil.html"))
        .map(|(p, _)| std::fs::read_to_string(p).expect("read"))
        .expect("the evil group page");
    assert!(evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        evil.contains("#include /etc/passwd"),
        "the directive is shown as text"
    );
    assert!(!evil.contains("root:x:0:0"), "/etc/passwd was included");
    // The standalone book's scratch source is removed afterwards.
    assert!(
        !std::env::temp_dir()
            .join(format!("micros-docgen-{}", std::process::id()))
            .exists()
    );
}

#[test]
fn options_json_errors_name_file_line_and_expectation() {
    let scratch = common::scratch("json-errors");
    let out = scratch.join("out");
    let missing = scratch.join("missing.json");
    let output = docgen(
        &["--options", path(&missing), "--out", path(&out)],
        &scratch,
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        error_line(&output),
        format!(
            "error: {}: cannot read the options file: No such file or directory (os error 2)",
            missing.display()
        )
    );

    let cases = [
        (
            "truncated.json",
            "{\n  \"a.b\": {\n    \"loc\": [\"a\", \"b\"],\n",
            ":4:1: EOF while parsing a value; expected an options.json object",
        ),
        (
            "array.json",
            "[1, 2]\n",
            ":1:1: invalid type: sequence, expected a map; expected an options.json object",
        ),
        (
            "field.json",
            "{\n  \"a\": {\n    \"loc\": \"a\"\n  }\n}\n",
            ":3:14: invalid type: string \"a\", expected a sequence; expected an options.json object",
        ),
        (
            "empty.json",
            "  \n",
            ":1:1: the options file is empty; expected an options.json object",
        ),
    ];
    for (name, text, expected) in cases {
        let file = scratch.join(name);
        std::fs::write(&file, text).expect("write the case");
        let output = docgen(&["--options", path(&file), "--out", path(&out)], &scratch);
        assert_eq!(output.status.code(), Some(2), "{name}");
        let message = error_line(&output);
        let prefix = format!("error: {}{expected}", file.display());
        assert!(
            message.starts_with(&prefix),
            "{name}:\n{message}\nexpected to start with\n{prefix}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }

    let output = docgen(&["--options", path(&missing)], &scratch);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("nothing to do"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn broken_references_warn_and_fail_with_strict() {
    let scratch = common::scratch("strict");
    let refs = common::docgen_fixtures().join("refs");
    let man = scratch.join("refs.5");
    let output = docgen(
        &["--micros", path(&refs), "--man", path(&man), "-q"],
        &scratch,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(
            "warning: {option}`refs.missing` in the documentation of `refs.enable` names no option"
        ),
        "{message}"
    );
    assert!(
        message.contains("refs/micros/modules/refs.nix:14:13"),
        "{message}"
    );
    assert!(
        message.contains("14 |         See {option}`refs.missing` too."),
        "{message}"
    );

    let output = docgen(
        &[
            "--micros",
            path(&refs),
            "--man",
            path(&man),
            "-q",
            "--strict",
        ],
        &scratch,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(
        stderr(&output).matches("error: {option}").count(),
        3,
        "{}",
        stderr(&output)
    );
}

/// Tools that read manual pages, run on the generated page when present.
#[test]
fn the_manual_page_reads_without_warnings() {
    let scratch = common::scratch("man");
    let man = scratch.join("configuration.nix.5");
    let mut args = common::fixture_source_args();
    args.extend(["--man".into(), man.display().to_string(), "-q".into()]);
    let output = common::docgen(&args, &scratch);
    assert!(output.status.success(), "{}", stderr(&output));
    let page = std::fs::read_to_string(&man).expect("the page");
    assert!(page.starts_with(".TH \"CONFIGURATION.NIX\" \"5\""));
    assert!(page.is_ascii(), "non-ASCII is escaped");
    assert!(page.contains("\\fBservices.getty.enable\\fP"));

    let checks: [(&str, Vec<&str>); 3] = [
        ("mandoc", vec!["-T", "lint", "-W", "warning"]),
        ("groff", vec!["-man", "-ww", "-z", "-Tutf8"]),
        ("man", vec!["-l", "-P", "cat"]),
    ];
    let mut ran = Vec::new();
    for (tool, args) in checks {
        let result = Command::new(tool)
            .args(&args)
            .arg(&man)
            .env("MANWIDTH", "80")
            .output();
        let Ok(result) = result else { continue };
        ran.push(tool);
        let err = String::from_utf8_lossy(&result.stderr);
        assert!(
            result.status.success() && err.trim().is_empty(),
            "{tool}: {err}"
        );
        if tool == "man" {
            let text = String::from_utf8_lossy(&result.stdout);
            assert!(text.contains("services.getty.enable"));
            assert!(
                text.contains("users.\u{2039}name\u{203a}") || text.contains("users.<name>.uid"),
                "{text}"
            );
        }
    }
    if std::env::var_os("MICROS_DOCGEN_CI").is_some() {
        assert!(
            ran.len() == 3,
            "CI installs mandoc, groff and man; ran only {ran:?}"
        );
    } else if ran.is_empty() {
        eprintln!("skipped the manual page readers: none of mandoc, groff, man is installed");
    }
}

/// git, run in `dir` with no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
        .args([
            "-c",
            "init.defaultBranch=master",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The `href`s of services.getty.enable's "Declared by" list.
fn getty_declarations(site: &Path) -> Vec<String> {
    let page = std::fs::read_to_string(site.join("options/services.html")).expect("read");
    assert!(!page.contains("file://"), "a file:// link");
    let html = scraper::Html::parse_document(&page);
    let entry =
        scraper::Selector::parse("#opt-services\\.getty\\.enable ~ dl ul.option-declarations")
            .expect("selector");
    let link = scraper::Selector::parse("a").expect("selector");
    let list = html
        .select(&entry)
        .next()
        .expect("getty.enable has a Declared by list");
    assert!(
        list.text().any(|t| t.contains("services/getty.nix")),
        "the file is named: {}",
        list.html()
    );
    list.select(&link)
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

/// Declarations in a git checkout of micros link to its remote (in its
/// https form) at the checked-out commit, with the line; a checkout without
/// a remote on a known forge, and any non-web --repo-url, never give a link.
/// Real git, no network: the remotes are only named.
#[test]
fn declarations_link_to_the_checkouts_remote_at_its_commit() {
    let scratch = common::scratch("declarations-git");
    let micros = scratch.join("micros");
    common::copy_tree(&common::fixtures().join("micros"), &micros);
    git(&micros, &["init", "-q"]);
    git(&micros, &["add", "."]);
    git(&micros, &["commit", "-q", "-m", "fixture"]);
    let nixpkgs = common::fixtures().join("nixpkgs");
    let build = |name: &str, extra: &[&str]| -> (PathBuf, Output) {
        let site = scratch.join(name);
        let mut args = vec![
            "--micros",
            path(&micros),
            "--nixpkgs",
            path(&nixpkgs),
            "--out",
            path(&site),
        ];
        args.extend(extra);
        let output = docgen(&args, &scratch);
        (site, output)
    };

    // No remote: plain text, and the note says why.
    let (site, output) = build("no-remote", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(getty_declarations(&site), Vec::<String>::new());
    assert!(
        stderr(&output).contains("declarations in micros are plain text")
            && stderr(&output).contains("has no remote"),
        "{}",
        stderr(&output)
    );

    // A remote on a local path is no web page either.
    git(&micros, &["remote", "add", "origin", "/srv/git/micros.git"]);
    let (site, output) = build("local-remote", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(getty_declarations(&site), Vec::<String>::new());

    // The line the option is declared on, in the fixture's getty.nix.
    let source = std::fs::read_to_string(micros.join("micros/modules/services/getty.nix"))
        .expect("read getty.nix");
    let line = source
        .lines()
        .position(|l| l.trim_start().starts_with("enable = mkEnableOption"))
        .expect("getty.nix declares enable")
        + 1;
    let expected = |commit: &str| {
        vec![format!(
            "https://github.com/snugnug/micros/blob/{commit}/micros/modules/services/getty.nix#L{line}"
        )]
    };
    for remote in [
        "git@github.com:snugnug/micros.git",
        "ssh://git@github.com/snugnug/micros.git",
        "https://github.com/snugnug/micros",
    ] {
        git(&micros, &["remote", "set-url", "origin", remote]);
        let (site, output) = build("remote", &[]);
        assert!(output.status.success(), "{}", stderr(&output));
        let head = git(&micros, &["rev-parse", "HEAD"]);
        assert_eq!(getty_declarations(&site), expected(&head), "{remote}");
    }

    // A new commit, its branch packed as `git gc` leaves it, then a
    // detached HEAD: the link follows the commit checked out.
    std::fs::write(micros.join("README"), "changed\n").expect("write");
    git(&micros, &["add", "README"]);
    git(&micros, &["commit", "-q", "-m", "second"]);
    git(&micros, &["pack-refs", "--all"]);
    let second = git(&micros, &["rev-parse", "HEAD"]);
    let (site, _) = build("packed", &[]);
    assert_eq!(getty_declarations(&site), expected(&second));
    git(&micros, &["checkout", "-q", "--detach", "HEAD~1"]);
    let first = git(&micros, &["rev-parse", "HEAD"]);
    assert_ne!(first, second);
    let (site, _) = build("detached", &[]);
    assert_eq!(getty_declarations(&site), expected(&first));

    // --repo-url wins; one that is not a web URL is refused before anything
    // is written.
    let (site, output) = build(
        "flag",
        &["--repo-url", "https://example.org/micros/blob/v1/"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        getty_declarations(&site),
        vec![format!(
            "https://example.org/micros/blob/v1/micros/modules/services/getty.nix#L{line}"
        )]
    );
    for url in ["file:///srv/micros", "/srv/micros", "javascript:alert(1)"] {
        let (site, output) = build("refused", &["--repo-url", url]);
        assert_eq!(output.status.code(), Some(2), "{url}: {}", stderr(&output));
        assert!(
            error_line(&output).contains("expected an http(s) URL"),
            "{}",
            stderr(&output)
        );
        assert!(!site.exists(), "{url}: a site was written");
    }
}
