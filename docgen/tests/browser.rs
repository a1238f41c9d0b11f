//! A real browser on the built site: headless Chromium loads the project's
//! book (with the fixture reference) from a local HTTP server, finds an
//! option by its anchor, and searches for "getty". The search page's
//! screenshot is kept at `target/docgen-artifacts/search-getty.png`.
//!
//! Without Chromium (`chromium`, `chromium-browser`, or $CHROMIUM) the test
//! says so and passes, unless MICROS_DOCGEN_CI is set (CI installs it).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Serve `root` on 127.0.0.1 until the process ends; returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || respond(stream, &root));
        }
    });
    format!("http://{address}")
}

fn respond(mut stream: TcpStream, root: &Path) {
    let mut request_line = String::new();
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let mut file = root.to_path_buf();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if part == ".." {
            file = root.join("..forbidden");
            break;
        }
        file.push(part);
    }
    if file.is_dir() {
        file.push("index.html");
    }
    let (status, body, kind) = match std::fs::read(&file) {
        Ok(body) => {
            let kind = match file.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                Some("woff2") => "font/woff2",
                _ => "application/octet-stream",
            };
            ("200 OK", body, kind)
        }
        Err(_) => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// Run headless Chromium with `args`, killing it after two minutes.
fn run_chromium(binary: &Path, profile: &Path, args: &[&str]) -> String {
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match child.try_wait().expect("poll chromium") {
            Some(status) => {
                assert!(status.success(), "chromium {args:?} failed: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium {args:?} did not finish in two minutes");
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    reader.join().expect("read chromium's output")
}

fn select<'a>(html: &'a scraper::Html, selector: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = scraper::Selector::parse(selector).expect("a valid selector");
    html.select(&selector).collect()
}

#[test]
fn chromium_finds_options_by_anchor_and_search() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("MICROS_DOCGEN_CI").is_none(),
            "MICROS_DOCGEN_CI is set but Chromium is not installed"
        );
        eprintln!("skipped: no Chromium (install Debian's `chromium`, or set CHROMIUM)");
        return;
    };
    let scratch = common::scratch("browser");
    let (site, _) = common::build_project_book(&scratch, &["-q"]);
    let base = serve(site);
    let profile = scratch.join("profile");

    // The option by its anchor, on a page whose scripts ran (the sidebar is
    // filled in by script).
    let dom = run_chromium(
        &binary,
        &profile,
        &[
            "--dump-dom",
            &format!("{base}/options/services.html#opt-services.getty.enable"),
        ],
    );
    let page = scraper::Html::parse_document(&dom);
    let headings = select(&page, "div.option > h2[id=\"opt-services.getty.enable\"]");
    assert_eq!(headings.len(), 1, "{dom}");
    let entry = headings[0]
        .parent()
        .and_then(scraper::ElementRef::wrap)
        .expect("the entry");
    let text: String = entry.text().collect();
    assert!(
        text.contains("Whether to enable login prompts on the consoles."),
        "{text}"
    );
    assert!(text.contains("boolean"), "{text}");
    assert_eq!(
        select(
            &page,
            "button.option-copy[data-anchor=\"opt-services.getty.enable\"]"
        )
        .len(),
        1
    );
    assert!(
        !select(&page, "#mdbook-sidebar a[href*=\"options/services.html\"]").is_empty(),
        "the sidebar was not filled in: did the scripts run?\n{dom}"
    );

    // Search, as typed into the search box (mdbook reads `?search=`).
    let url = format!("{base}/index.html?search=getty");
    let dom = run_chromium(&binary, &profile, &["--dump-dom", &url]);
    let page = scraper::Html::parse_document(&dom);
    let results: Vec<String> = select(&page, "#mdbook-searchresults a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert!(
        results.iter().any(|href| href
            .ends_with("options/services.html?highlight=getty#opt-services.getty.enable")),
        "services.getty.enable is not among the results: {results:?}"
    );
    let header: String = select(&page, "#mdbook-searchresults-header")
        .iter()
        .flat_map(|e| e.text())
        .collect();
    assert!(header.contains("search results for 'getty'"), "{header}");

    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory");
    let artifacts = target.join("docgen-artifacts");
    std::fs::create_dir_all(&artifacts).expect("create the artifact directory");
    let screenshot = artifacts.join("search-getty.png");
    let _ = std::fs::remove_file(&screenshot);
    run_chromium(
        &binary,
        &profile,
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", screenshot.display()),
            &url,
        ],
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", screenshot.display());
}

/// The search results' links for `query` on the built site.
fn search_results(binary: &Path, profile: &Path, base: &str, query: &str) -> Vec<String> {
    let url = format!("{base}/index.html?search={query}");
    let dom = run_chromium(binary, profile, &["--dump-dom", &url]);
    let page = scraper::Html::parse_document(&dom);
    select(&page, "#mdbook-searchresults a")
        .iter()
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect()
}

/// A site from a folder of pages (MicrOS's `docs/` when MICROS_SRC and
/// MICROS_NIXPKGS are set, otherwise the fixture pages with the fixture
/// tree): one search box finds a page's section and an option.
#[test]
fn chromium_searches_pages_and_options_in_one_site() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("MICROS_DOCGEN_CI").is_none(),
            "MICROS_DOCGEN_CI is set but Chromium is not installed"
        );
        eprintln!("skipped: no Chromium (install Debian's `chromium`, or set CHROMIUM)");
        return;
    };
    let scratch = common::scratch("browser-pages");
    let site = scratch.join("site");
    let upstream = micros_options::sources::env_dir("MICROS_SRC")
        .zip(micros_options::sources::env_dir("MICROS_NIXPKGS"));
    let (mut args, page_query, page_result) = match &upstream {
        Some((micros, nixpkgs)) => (
            vec![
                "--micros".to_string(),
                micros.display().to_string(),
                "--nixpkgs".into(),
                nixpkgs.display().to_string(),
                "--pages".into(),
                micros.join("docs").display().to_string(),
            ],
            "prerequisites",
            "getting-started.html?highlight=prerequisites#prerequisites",
        ),
        None => {
            let mut args = common::fixture_source_args();
            args.push("--pages".into());
            args.push(
                common::docgen_fixtures()
                    .join("pages")
                    .display()
                    .to_string(),
            );
            (
                args,
                "tuning",
                "guide/advanced.html?highlight=tuning#tuning",
            )
        }
    };
    args.extend(["--out".into(), site.display().to_string(), "-q".into()]);
    let output = common::docgen(&args, &scratch);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let base = serve(site);
    let profile = scratch.join("profile");

    let pages = search_results(&binary, &profile, &base, page_query);
    assert!(
        pages.iter().any(|href| href.ends_with(page_result)),
        "{page_result} is not among the results for {page_query}: {pages:?}"
    );
    let options = search_results(&binary, &profile, &base, "getty");
    assert!(
        options.iter().any(|href| href
            .ends_with("options/services.html?highlight=getty#opt-services.getty.enable")),
        "services.getty.enable is not among the results: {options:?}"
    );
}
