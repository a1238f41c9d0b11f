//! Documentation benchmark: options.json → HTML site (read, render the
//! pages on every core, write them, build the book with search), and the
//! manual page.
//!
//! `cargo bench -p micros-docgen --bench docgen`. Scenarios: the micros
//! set (MICROS_SRC / MICROS_NIXPKGS when set, otherwise the project's
//! fixture tree), and 20,000 generated options in the style of NixOS
//! service modules, with Nix-highlighted defaults and examples. Each
//! scenario also runs once in a child process of its own so that its peak
//! memory is measured alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use micros_docgen::{book, load, man, reference};
use micros_options::bench_support;
use micros_options::model::{
    Declaration, EnumValue, IntType, Literal, OptionDecl, OptionSet, OptionType, RootKind,
    SourceFile,
};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const GENERATED: usize = 20_000;

fn main() {
    if bench_support::peak_rss_child(|scenario| {
        let (json, _) = scenario_json(scenario);
        let work = work_dir(&format!("{scenario}-rss"));
        std::hint::black_box(site(&json, &work));
    }) {
        return;
    }
    println!(
        "{:<34} {:>7} {:>9} {:>9} {:>9} | {:>7} {:>7} {:>7} {:>7} | {:>7}",
        "scenario",
        "options",
        "min",
        "median",
        "peak RSS",
        "read",
        "render",
        "write",
        "book",
        "man"
    );
    for scenario in bench_support::selected(&["micros", "generated-20000"]) {
        let (json, label) = scenario_json(scenario);
        let work = work_dir(scenario);
        let options = site(&json, &work).options;
        let iterations = if scenario == "micros" { 20 } else { 5 };
        let mut runs: Vec<Timing> = (0..iterations).map(|_| site(&json, &work)).collect();
        runs.sort_by_key(|t| t.total);
        let median = &runs[runs.len() / 2];
        let set = load::from_options_json(&json).expect("the scenario's options.json reads");
        let start = Instant::now();
        std::hint::black_box(man::render(&set, "MicrOS"));
        let man_time = start.elapsed();
        let peak = bench_support::child_peak_rss_kib(scenario);
        println!(
            "{:<34} {:>7} {:>9} {:>9} {:>9} | {:>7} {:>7} {:>7} {:>7} | {:>7}",
            label,
            options,
            fmt(runs[0].total),
            fmt(median.total),
            peak.map_or("?".into(), |kib| format!("{:.1} MB", kib as f64 / 1024.0)),
            fmt(median.phases[0]),
            fmt(median.phases[1]),
            fmt(median.phases[2]),
            fmt(median.phases[3]),
            fmt(man_time),
        );
    }
    println!(
        "(options.json to the built site with search; phases of the median run; {} threads)",
        rayon::current_num_threads()
    );
}

struct Timing {
    options: usize,
    total: Duration,
    /// read options.json, render the pages, write them, build the book
    /// (mdbook, the entries, the search index).
    phases: [Duration; 4],
}

/// The whole job, as `micros-docgen --options FILE --out DIR` does it.
fn site(json: &Path, work: &Path) -> Timing {
    let start = Instant::now();
    let set = load::from_options_json(json).expect("the scenario's options.json reads");
    let loaded = Instant::now();
    let reference = reference::render(
        &set,
        &reference::Settings {
            title: "MicrOS options".into(),
            ..Default::default()
        },
    );
    let rendered = Instant::now();
    let root = work.join("book");
    book::create_standalone(&root, "MicrOS options").expect("create the book");
    book::write_pages(&root.join("src"), &reference).expect("write the pages");
    let written = Instant::now();
    book::build(&root, Some(&work.join("html")), &reference).expect("build the book");
    let built = Instant::now();
    Timing {
        options: reference.options,
        total: built - start,
        phases: [
            loaded - start,
            rendered - loaded,
            written - rendered,
            built - written,
        ],
    }
}

fn fmt(d: Duration) -> String {
    if d.as_secs_f64() >= 1.0 {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

fn work_dir(name: &str) -> PathBuf {
    let dir = target_dir().join("bench-docgen").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

/// The scenario's options.json, written once into the target directory.
fn scenario_json(scenario: &str) -> (PathBuf, String) {
    let dir = target_dir().join("bench-docgen");
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    let path = dir.join(format!("{scenario}.json"));
    let (set, label) = match scenario {
        "micros" => micros_set(),
        _ => (
            generated_set(GENERATED),
            format!("generated ({GENERATED} options)"),
        ),
    };
    std::fs::write(&path, micros_options::json::to_json(&set, false)).expect("write options.json");
    (path, label)
}

fn micros_set() -> (OptionSet, String) {
    let trees = bench_support::trees();
    let request = micros_options::sources::micros_request(&trees.micros, Some(&trees.nixpkgs))
        .unwrap_or_else(|e| panic!("cannot read the micros tree: {e}"));
    let label = if trees.upstream {
        "micros (upstream + nixpkgs mods)"
    } else {
        "micros fixture (no MICROS_SRC)"
    };
    (micros_options::extract(&request).options, label.to_string())
}

/// Options in the style of NixOS service modules: ten per service, with
/// markdown descriptions (roles, lists, code), Nix defaults and examples
/// (some multi-line), one read-only.
fn generated_set(count: usize) -> OptionSet {
    let mut options = Vec::with_capacity(count);
    let services = count.div_ceil(10);
    for i in 0..services {
        let prefix = |name: &str| -> Vec<String> {
            vec!["services".into(), format!("generated{i}"), name.into()]
        };
        let declaration = Declaration {
            file: SourceFile {
                root: RootKind::Micros,
                path: format!("micros/modules/services/group{}/svc{i}.nix", i % 20),
            },
            range: None,
            line: 12,
            column: 5,
        };
        let mut push = |name: &str,
                        ty: OptionType,
                        default: Option<&str>,
                        example: Option<String>,
                        description: String| {
            let mut option = OptionDecl::new(prefix(name), ty);
            option.default = default.map(Literal::expression);
            option.example = example.map(Literal::expression);
            option.description = Some(description);
            option.declarations = vec![declaration.clone()];
            option.read_only = name == "configFile";
            options.push(option);
        };
        push(
            "enable",
            OptionType::Bool,
            Some("false"),
            Some("true".into()),
            format!("Whether to enable generated service {i}."),
        );
        push(
            "package",
            OptionType::Package,
            Some(&format!("pkgs.generated{i}")),
            None,
            format!(
                "The generated{i} package to use. See {{option}}`services.generated{i}.enable`."
            ),
        );
        push(
            "port",
            OptionType::port(),
            Some(&(1024 + i).to_string()),
            None,
            format!(
                "TCP port service {i} listens on; open it with {{option}}`networking.firewall.allowedTCPPorts`."
            ),
        );
        push(
            "user",
            OptionType::Str,
            Some(&format!("\"svc{i}\"")),
            None,
            format!(
                "The user service {i} runs as.\nIt is created unless it exists already; see {{manpage}}`useradd(8)`."
            ),
        );
        push("extraArgs", OptionType::ListOf(Box::new(OptionType::Str)), Some("[ ]"),
            Some("[\n  \"--verbose\"\n  \"--color=never\"\n]".into()),
            "Extra command line arguments, passed to {command}`svc` as they are:\n\n- one per element\n- no shell quoting".into());
        push(
            "logLevel",
            OptionType::Enum(
                ["debug", "info", "warn", "error"]
                    .map(|s| EnumValue::Str(s.into()))
                    .into(),
            ),
            Some("\"info\""),
            None,
            format!("How much service {i} logs to {{file}}`/var/log/svc{i}`."),
        );
        push(
            "dataDir",
            OptionType::NullOr(Box::new(OptionType::Path)),
            Some("null"),
            Some(format!("\"/var/lib/svc{i}\"")),
            format!("Where service {i} keeps its state."),
        );
        push("settings", OptionType::AttrsOf(Box::new(OptionType::Either(Box::new(OptionType::Str), Box::new(OptionType::Int(IntType::signed()))))),
            Some("{ }"),
            Some(format!("{{\n  # Written to the configuration file.\n  listen = \"0.0.0.0:{}\";\n  workers = 4;\n  tls = {{ enable = true; cert = ./cert.pem; }};\n}}", 1024 + i)),
            "Settings of the service, written to its configuration file.\n\n::: {.note}\nUnknown keys are passed through.\n:::".into());
        push(
            "priority",
            OptionType::Int(IntType::between(0, 100)),
            Some("50"),
            None,
            "Priority of the service.".into(),
        );
        push(
            "configFile",
            OptionType::Path,
            None,
            None,
            format!(
                "The configuration file of service {i}, generated from {{option}}`services.generated{i}.settings`."
            ),
        );
    }
    options.truncate(count);
    options.sort_by(|a, b| a.loc.cmp(&b.loc));
    OptionSet {
        options,
        migrations: Vec::new(),
    }
}
