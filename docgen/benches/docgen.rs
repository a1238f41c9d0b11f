//! Documentation benchmark: options.json → HTML site (read, render the
//! pages on every core, write them, build the book with search), and the
//! manual page.
//!
//! `cargo bench -p micros-docgen --bench docgen`. Scenarios: the micros
//! set (MICROS_SRC / MICROS_NIXPKGS when set, otherwise the project's
//! fixture tree), and 20,000 generated options in the style of NixOS
//! service modules, with Nix-highlighted defaults and examples. Each
//! scenario's options.json is written first; the in-process runs give the
//! phases, and the `micros-docgen` binary itself, run as a whole process
//! (`--options FILE --out DIR`), gives the time and peak memory a user sees.
//! That peak is the kernel's for the process alone: each run is started by
//! a fresh, small copy of this benchmark (see [`measure_child`]), because a
//! child's peak counts the memory of the process it was started from until
//! it executes the program, and this one holds the in-process runs' sites.

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
    if measure_child() {
        return;
    }
    println!(
        "{:<34} {:>7} | {:>9} {:>9} {:>10} | {:>9} {:>9} | {:>7} {:>7} {:>7} | {:>7}",
        "scenario",
        "options",
        "bin min",
        "bin med",
        "bin peak",
        "lib min",
        "lib med",
        "read",
        "render",
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
        let mut whole: Vec<(Duration, u64)> = (0..iterations)
            .map(|_| binary_run(&json, &work.join("bin-html")))
            .collect();
        let peak = whole.iter().map(|&(_, kib)| kib).max().unwrap_or(0);
        whole.sort();
        let set = load::from_options_json(&json).expect("the scenario's options.json reads");
        let start = Instant::now();
        std::hint::black_box(man::render(&set, "MicrOS"));
        let man_time = start.elapsed();
        println!(
            "{:<34} {:>7} | {:>9} {:>9} {:>10} | {:>9} {:>9} | {:>7} {:>7} {:>7} | {:>7}",
            label,
            options,
            fmt(whole[0].0),
            fmt(whole[whole.len() / 2].0),
            format!("{:.1} MiB", peak as f64 / 1024.0),
            fmt(runs[0].total),
            fmt(median.total),
            fmt(median.phases[0]),
            fmt(median.phases[1]),
            fmt(median.phases[2]),
            fmt(man_time),
        );
    }
    println!(
        "(options.json to the built site with search; bin: micros-docgen as a process, peak RSS the largest of its runs; lib: in process, phases of the median run; {} threads)",
        rayon::current_num_threads()
    );
}

struct Timing {
    options: usize,
    total: Duration,
    /// read options.json, render the pages (written as they are rendered),
    /// build the book (mdbook, the entries, the search index).
    phases: [Duration; 3],
}

/// The whole job, as `micros-docgen --options FILE --out DIR` does it.
fn site(json: &Path, work: &Path) -> Timing {
    let start = Instant::now();
    let set = load::from_options_json(json).expect("the scenario's options.json reads");
    let loaded = Instant::now();
    let root = work.join("book");
    book::create_standalone(&root, "MicrOS options").expect("create the book");
    let mut reference = reference::render_to(
        &set,
        &reference::Settings {
            title: "MicrOS options".into(),
            ..Default::default()
        },
        &root.join("src").join(book::OPTIONS_DIR),
    )
    .expect("render the pages");
    drop(set);
    book::write_pages(&root.join("src"), &reference).expect("write the index");
    let rendered = Instant::now();
    book::build(&root, Some(&work.join("html")), &mut reference).expect("build the book");
    let built = Instant::now();
    Timing {
        options: reference.options,
        total: built - start,
        phases: [loaded - start, rendered - loaded, built - rendered],
    }
}

/// `micros-docgen -q --options FILE --out DIR` as a process: its wall time
/// and peak resident memory (KiB), as [`measure_child`] reports them.
fn binary_run(json: &Path, out: &Path) -> (Duration, u64) {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let output = std::process::Command::new(exe)
        .arg(MEASURE_FLAG)
        .arg(env!("CARGO_BIN_EXE_micros-docgen"))
        .args(["-q", "--options"])
        .arg(json)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run micros-docgen");
    let report = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<u64> = report
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [nanos, kib, code] = fields[..] else {
        panic!("the measuring child reported `{report}`");
    };
    assert!(code <= 1, "micros-docgen failed: exit {code}");
    (Duration::from_nanos(nanos), kib)
}

const MEASURE_FLAG: &str = "--measure-process";

/// When this process was started by [`binary_run`]: runs the program after
/// the flag, waits for it and prints its wall time (ns), its peak resident
/// memory (KiB, the kernel's for this process's children, of which it is
/// the only one) and its exit status. Started from this small process, the
/// program's peak is its own. Otherwise false.
fn measure_child() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == MEASURE_FLAG) else {
        return false;
    };
    let start = Instant::now();
    let status = std::process::Command::new(&args[at + 1])
        .args(&args[at + 2..])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run the program");
    let elapsed = start.elapsed();
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer is valid for the call.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } == 0;
    assert!(ok, "getrusage: {}", std::io::Error::last_os_error());
    println!(
        "{} {} {}",
        elapsed.as_nanos(),
        usage.ru_maxrss,
        status.code().unwrap_or(255)
    );
    true
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
