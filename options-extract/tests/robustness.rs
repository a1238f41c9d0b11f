//! Hostile and broken inputs: the extractor answers with diagnostics, never
//! a panic, a hang, a stack overflow, or a read outside its roots.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use micros_options::model::RootKind;
use micros_options::{ExtractRequest, Extraction, ModuleSource, Root, extract};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn extract_files(dir: &Path, files: &[(&str, &str)], entry: &str) -> Extraction {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    extract(&ExtractRequest {
        roots: vec![Root {
            kind: RootKind::User,
            dir: dir.to_path_buf(),
        }],
        modules: vec![ModuleSource::File(dir.join(entry))],
        skip_imports: false,
    })
}

/// `main.nix` alone, extracted well within a bound a runaway evaluation
/// would blow.
fn extract_module_promptly(dir: &Path, module: &str) -> Extraction {
    let start = Instant::now();
    let extraction = extract_files(dir, &[("main.nix", module)], "main.nix");
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?}",
        start.elapsed()
    );
    extraction
}

fn names(extraction: &Extraction) -> Vec<String> {
    extraction
        .options
        .flatten()
        .iter()
        .map(|o| o.name())
        .collect()
}

#[test]
fn a_file_over_the_size_limit_is_refused_with_its_name() {
    let dir = scratch("huge");
    let huge = format!(
        "{{ options = {{ }}; x = \"{}\"; }}",
        "a".repeat(9 * 1024 * 1024)
    );
    let extraction = extract_files(
        &dir,
        &[
            ("huge.nix", &huge),
            ("main.nix", "{ imports = [ ./huge.nix ]; }"),
        ],
        "main.nix",
    );
    let diagnostic = extraction
        .diagnostics
        .iter()
        .find(|d| d.message.contains("more than the"))
        .expect("size diagnostic");
    assert!(
        diagnostic.message.contains("huge.nix"),
        "{}",
        diagnostic.message
    );
    assert!(diagnostic.file.ends_with("main.nix"));
    assert_eq!(diagnostic.line, 1);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let dir = scratch("deep");
    let depth = 10_000;
    let nested = format!("{}1{}", "[ ".repeat(depth), " ]".repeat(depth));
    let module = format!(
        "{{ lib, ... }}: {{ options.deep = lib.mkOption {{ type = lib.types.anything; default = {nested}; }}; options.fine = lib.mkEnableOption \"fine\"; }}"
    );
    let parens = format!("{{ x = {}1{}; }}", "(".repeat(depth), ")".repeat(depth));
    let extraction = extract_files(
        &dir,
        &[
            ("deep.nix", &module),
            ("parens.nix", &parens),
            ("main.nix", "{ imports = [ ./deep.nix ./parens.nix ]; }"),
        ],
        "main.nix",
    );
    // The parser gives up on nesting this deep with a diagnostic; nothing crashes.
    assert!(
        extraction
            .diagnostics
            .iter()
            .any(|d| d.message.contains("nested too deeply")),
        "{:?}",
        extraction.diagnostics
    );
}

#[test]
fn runaway_recursion_terminates() {
    let dir = scratch("recursion");
    let module = r#"{ lib, ... }:
let
  loop = n: loop (n + 1);
  self = { a = self.a; };
  grow = xs: grow (xs ++ xs ++ [ 1 ]);
in {
  options.a = lib.mkOption { type = lib.types.int; default = loop 0; description = "d"; };
  options.b = lib.mkOption { type = lib.types.int; default = self.a; };
  options.c = lib.mkOption { type = lib.types.anything; default = grow [ ]; };
  options.d = lib.mkEnableOption "the last one";
}"#;
    let extraction = extract_module_promptly(&dir, module);
    assert_eq!(names(&extraction), ["a", "b", "c", "d"]);
    // What could not be computed is shown as written.
    let a = &extraction.options.options[0];
    assert_eq!(a.default.as_ref().unwrap().text, "loop 0");
}

/// Builtins that build big lists and strings pay for them, and each option
/// has its own share of the budget: expensive defaults stay unevaluated and
/// the options after them are extracted in full.
#[test]
fn bulk_work_is_paid_for_per_option() {
    let dir = scratch("bulk");
    let module = r#"{ lib, ... }:
let
  double = s: n: if n == 0 then s else double (s + s) (n - 1);
  interpolate = s: n: if n == 0 then s else interpolate "${s}${s}" (n - 1);
  expand = s: n: if n == 0 then s else expand (builtins.replaceStrings [ "x" ] [ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" ] s) (n - 1);
  concat = l: n: if n == 0 then l else concat (l ++ l) (n - 1);
  range = builtins.genList (x: x) 1000000;
in {
  options.a = lib.mkOption { type = lib.types.int; default = builtins.foldl' (a: i: a + builtins.length (builtins.genList (x: x) 100000)) 0 range; };
  options.b = lib.mkOption { type = lib.types.str; default = double "x" 60; };
  options.c = lib.mkOption { type = lib.types.str; default = interpolate "x" 60; };
  options.d = lib.mkOption { type = lib.types.str; default = expand "x" 12; };
  options.e = lib.mkOption { type = lib.types.attrs; default = builtins.foldl' (acc: i: acc // { "${toString i}" = i; }) { } range; };
  options.f = lib.mkOption { type = lib.types.listOf lib.types.int; default = concat [ 1 ] 60; };
  options.g = lib.mkOption { type = if builtins.length (concat [ 1 ] 60) > 0 then lib.types.int else lib.types.str; };
  options.z = lib.mkOption { type = lib.types.port; default = 22; description = "after them"; };
}"#;
    let extraction = extract_module_promptly(&dir, module);
    assert_eq!(names(&extraction), ["a", "b", "c", "d", "e", "f", "g", "z"]);
    let options = &extraction.options.options;
    assert_eq!(options[1].default.as_ref().unwrap().text, "double \"x\" 60");
    assert_eq!(options[5].default.as_ref().unwrap().text, "concat [ 1 ] 60");
    let z = &options[7];
    assert_eq!(
        z.ty.description(),
        "16 bit unsigned integer; between 0 and 65535 (both inclusive)"
    );
    assert_eq!(z.default.as_ref().unwrap().text, "22");
    assert_eq!(z.description.as_deref(), Some("after them"));
}

#[test]
fn nothing_outside_the_roots_is_read_and_nothing_is_run() {
    let dir = scratch("escape");
    let outside = scratch("escape-outside");
    std::fs::write(outside.join("secret.nix"), "{ options.leaked = 1; }").unwrap();
    let module = format!(
        r#"{{ lib, ... }}: {{
  imports = [ {}/secret.nix ];
  options.x = lib.mkOption {{
    type = lib.types.str;
    default = builtins.readFile /etc/hostname;
    example = builtins.exec [ "touch" "{}/ran" ];
  }};
}}"#,
        outside.display(),
        outside.display()
    );
    let extraction = extract_files(&dir, &[("main.nix", &module)], "main.nix");
    assert_eq!(names(&extraction), ["x"]);
    assert!(!outside.join("ran").exists(), "builtins.exec ran");
    let refused = extraction
        .diagnostics
        .iter()
        .find(|d| d.message.contains("outside the source roots"))
        .expect("import outside the roots is refused");
    assert_eq!(refused.line, 2);
    let x = &extraction.options.options[0];
    assert_eq!(
        x.default.as_ref().unwrap().text,
        "builtins.readFile /etc/hostname"
    );
}

#[test]
fn binary_and_empty_files_get_diagnostics() {
    let dir = scratch("binary");
    std::fs::write(dir.join("bin.nix"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    let extraction = extract_files(
        &dir,
        &[
            ("empty.nix", ""),
            (
                "main.nix",
                "{ imports = [ ./bin.nix ./empty.nix ./missing.nix ]; }",
            ),
        ],
        "main.nix",
    );
    let messages: Vec<&str> = extraction
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("bin.nix") && m.contains("not UTF-8")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("missing.nix") && m.contains("no such file")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("could not evaluate this module")),
        "{messages:?}"
    );
}

/// Types, submodules and defaults built without end by functions, in one
/// branch or in several: each stops at its bound (depth, or the option's
/// budget) promptly, is said once as infinite recursion, and the option
/// after them is extracted in full.
#[test]
fn runaway_types_submodules_and_defaults_are_bounded() {
    let dir = scratch("runaway-types");
    let module = r#"{ lib, ... }:
let
  inherit (lib) mkOption types;
  deep = n: types.attrsOf (deep (n + 1));
  wide = n: types.either (wide (n + 1)) (wide (n + 1));
  sub = n: types.submodule { options.a = mkOption { type = sub n; }; options.b = mkOption { type = sub n; }; };
  tree = n: { a = tree (n + 1); b = tree (n + 1); };
  checked = types.addCheck checked (x: true);
in {
  options.deep = mkOption { type = deep 0; };
  options.wide = mkOption { type = wide 0; };
  options.sub = mkOption { type = sub 0; };
  options.tree = mkOption { type = types.attrs; default = tree 0; };
  options.checked = mkOption { type = checked; };
  options.z = mkOption { type = types.port; default = 22; };
}"#;
    let extraction = extract_module_promptly(&dir, module);
    let options = &extraction.options.options;
    let z = options.iter().find(|o| o.name() == "z").expect("z");
    assert_eq!(z.default.as_ref().unwrap().text, "22");
    let recursion: Vec<_> = extraction
        .diagnostics
        .iter()
        .filter(|d| d.code == Some("infinite-recursion"))
        .collect();
    // `sub` doubles at every level: it stops at the option's budget of
    // submodules, two options each.
    let sub = names(&extraction)
        .iter()
        .filter(|n| n.starts_with("sub."))
        .count();
    let budget = micros_options::extract::MAX_SUBMODULES_PER_OPTION as usize;
    assert!(sub <= 2 * budget + 2, "{sub} options under `sub`");
    assert!(sub > 2 * 16, "{sub} options under `sub`");
    // `deep` and `checked` reach their bound and say so, once each.
    for line in [4, 8] {
        assert_eq!(
            recursion.iter().filter(|d| d.line == line).count(),
            1,
            "line {line}: {recursion:#?}"
        );
    }
}

/// A path cut by a line break before an unclosed `${` keeps the whitespace
/// inside the path node, where rnix's `parts()` panicked (found by the
/// diagnostics and extract fuzzers): now the path is unknown and the
/// syntax error is the file's finding.
#[test]
fn a_path_broken_by_an_unclosed_interpolation_is_not_a_panic() {
    for (name, module, declared) in [
        ("absolute", "{ options = /s\n${", &[][..]),
        ("relative", "{ options = ./s\n${", &[]),
        // The option is still declared; its type is not known.
        (
            "in-a-type",
            "{ lib, ... }: { options.a = lib.mkOption { type = lib.types.submodule ./s\n${",
            &["a"],
        ),
    ] {
        let dir = scratch(&format!("broken-path-{name}"));
        let extraction = extract_module_promptly(&dir, module);
        assert_eq!(names(&extraction), declared, "{name}");
    }
}

/// An option declared in two modules with a type that contains itself
/// through a wrapper (`self = attrsOf self`), or that a function builds
/// without end: merging the declarations' submodules peeled one wrapper
/// after another and overflowed the stack (found by the extract fuzzer).
/// Now merging stops at the depth conversion allows, and the type is
/// reported as infinite recursion, once, where it is given.
#[test]
fn a_self_containing_type_declared_twice_does_not_overflow_the_stack() {
    for (name, binding) in [
        ("self", "t = types.attrsOf t;"),
        ("list", "t = types.listOf (types.nullOr t);"),
        (
            "runaway",
            "t = deep 0; deep = n: types.attrsOf (deep (n + 1));",
        ),
    ] {
        let dir = scratch(&format!("self-containing-twice-{name}"));
        let declare = |imports: &str| {
            format!(
                "{{ lib, ... }}:\nlet\n  inherit (lib) mkOption types;\n  {binding}\nin {{\n  {imports}\n  options.x = mkOption {{ type = t; }};\n  options.z = mkOption {{ type = types.port; default = 22; }};\n}}\n"
            )
        };
        let main = declare("imports = [ ./a.nix ];");
        let a = declare("").replace("options.z", "options.y");
        let start = Instant::now();
        let extraction = extract_files(&dir, &[("main.nix", &main), ("a.nix", &a)], "main.nix");
        assert!(start.elapsed() < Duration::from_secs(20), "{name}");
        assert_eq!(names(&extraction), ["x", "y", "z"], "{name}");
        let recursion: Vec<_> = extraction
            .diagnostics
            .iter()
            .filter(|d| d.code == Some("infinite-recursion"))
            .collect();
        // Where the type is given (`type = t;`), in one of the two files.
        assert_eq!(recursion.len(), 1, "{name}: {recursion:#?}");
        assert_eq!(recursion[0].line, 7, "{name}: {recursion:#?}");
        assert!(
            recursion[0]
                .message
                .starts_with("infinite recursion encountered"),
            "{name}: {recursion:#?}"
        );
    }
}

/// `lib` and the global scope are built once per thread and shared by
/// every evaluator on it: an extraction that uses them up to its limits
/// (fuel, depth, a type that contains itself) leaves nothing the next one
/// sees. The probe extracted after it equals the probe on a fresh thread.
#[test]
fn an_extraction_leaves_nothing_in_the_shared_lib() {
    fn in_memory(text: &str) -> Extraction {
        let root = PathBuf::from("/nonexistent-shared-lib-root");
        micros_options::extract::extract_here(&ExtractRequest {
            roots: vec![Root {
                kind: RootKind::User,
                dir: root.clone(),
            }],
            modules: vec![ModuleSource::Text {
                path: root.join("default.nix"),
                text: text.into(),
            }],
            skip_imports: false,
        })
    }
    fn seen(extraction: &Extraction) -> String {
        let json = micros_options::json::to_json(&extraction.options, true);
        format!("{json}\n{:?}", extraction.diagnostics)
    }
    let hostile = r#"{ lib, ... }: with lib; let
        f = x: f (x + 1);
        self = types.attrsOf (types.either self types.str);
      in {
        options.a = mkOption { type = types.listOf (f 1); default = f 1; };
        options.b = mkOption { type = self; default = builtins.genList (i: i) 100000000; };
        options.c = mkEnableOption (throw "no");
        options.d = mkOption { type = types.submodule { options = f 2; }; };
      }"#;
    let probe = r#"{ lib, ... }: with lib; {
        options.port = mkOption { type = types.port; default = 22; description = types.str.description; };
        options.enable = mkEnableOption "the probe";
        options.nested = mkOption {
          type = types.attrsOf (types.submodule { options.n = mkOption { type = types.nullOr types.ints.u8; }; });
          default = { };
        };
        options.names = mkOption { type = types.listOf (types.enum [ "a" "b" ]); default = map toUpper [ "a" ]; };
      }"#;
    let fresh = std::thread::spawn(move || seen(&in_memory(probe)))
        .join()
        .unwrap();
    let after = std::thread::spawn(move || {
        in_memory(hostile);
        seen(&in_memory(probe))
    })
    .join()
    .unwrap();
    assert!(fresh.contains("the probe"), "the probe extracts: {fresh}");
    assert_eq!(fresh, after);
}

/// A user module that imports itself twice at every level (found by the
/// extract fuzzer) runs away when it is applied: it has a share of the
/// budget, and the micros options read beside it keep their types. Before,
/// it spent the whole budget (50 million steps, 5 s) and every option
/// of micros was left untyped.
#[test]
fn a_runaway_module_leaves_the_other_modules_their_budget() {
    let dir = scratch("runaway-module");
    std::fs::write(
        dir.join("default.nix"),
        "{ ... }: { imports = [ ./a.nix ]; }",
    )
    .unwrap();
    std::fs::write(
        dir.join("a.nix"),
        "x: (import ./a.nix 1) * (import ./a.nix 2)\n",
    )
    .unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let mut request = micros_options::sources::micros_request(
        &fixtures.join("micros"),
        Some(&fixtures.join("nixpkgs")),
    )
    .expect("the fixture tree");
    request.roots.push(Root {
        kind: RootKind::User,
        dir: dir.clone(),
    });
    request
        .modules
        .push(ModuleSource::File(dir.join("default.nix")));
    let start = Instant::now();
    let extraction = extract(&request);
    let elapsed = start.elapsed();
    let untyped: Vec<String> = extraction
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("could not resolve the type"))
        .map(|d| d.message.clone())
        .collect();
    assert!(untyped.is_empty(), "{untyped:#?}");
    let getty = extraction
        .options
        .flatten()
        .into_iter()
        .find(|o| o.name() == "services.getty.enable")
        .expect("a micros option");
    assert_eq!(getty.ty.description(), "boolean");
    let about_a: Vec<&str> = extraction
        .diagnostics
        .iter()
        .filter(|d| d.file.ends_with("a.nix"))
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        !about_a.is_empty(),
        "{:#?} ({elapsed:?})",
        extraction.diagnostics
    );
}

/// A submodule made anew at every level, each declaring hundreds of
/// options beside the next level (the shape of an input the extract
/// fuzzer found): the options below one option's type are bounded in all,
/// not only the depth and the number of submodules.
#[test]
fn the_options_below_one_type_are_bounded_in_all() {
    let dir = scratch("wide-submodules");
    let many: String = (0..400)
        .map(|i| format!("    options.o{i} = mkOption {{ type = types.str; }};\n"))
        .collect();
    let module = format!(
        "{{ lib, ... }}:\nlet\n  inherit (lib) mkOption types;\n  node = _: types.submodule {{\n    options.next = mkOption {{ type = types.attrsOf (node null); }};\n{many}  }};\nin {{\n  options.tree = mkOption {{ type = node null; }};\n}}\n"
    );
    let extraction = extract_module_promptly(&dir, &module);
    let below = names(&extraction)
        .iter()
        .filter(|name| name.starts_with("tree."))
        .count();
    let bound = micros_options::extract::MAX_SUB_OPTIONS_PER_OPTION;
    assert!(below <= bound + 401, "{below} options below `tree`");
    let recursion: Vec<&str> = extraction
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .filter(|m| m.starts_with("infinite recursion"))
        .collect();
    assert_eq!(
        recursion,
        [format!(
            "infinite recursion encountered: this type expands into more than {bound} options"
        )],
    );
}

/// A module that imports itself twice at every level branches to 2^64
/// modules within the depth bound (found by the extract fuzzer: 2 s, a
/// warning per module): the modules of one extraction are bounded, and
/// going past the bound is said once.
#[test]
fn the_modules_of_an_extraction_are_bounded() {
    let dir = scratch("branching-imports");
    let extraction = extract_files(
        &dir,
        &[
            ("main.nix", "{ ... }: { imports = [ ./a.nix ]; }"),
            (
                "a.nix",
                "x: { imports = [ (import ./a.nix x) (import ./a.nix x) ]; }",
            ),
        ],
        "main.nix",
    );
    let bound = micros_options::extract::MAX_MODULES;
    let past: Vec<&str> = extraction
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .filter(|m| m.contains(&format!("past {bound}")))
        .collect();
    assert_eq!(past.len(), 1, "{:#?}", extraction.diagnostics);
    assert!(
        extraction.diagnostics.len() <= 3,
        "{:#?}",
        extraction.diagnostics
    );
}
