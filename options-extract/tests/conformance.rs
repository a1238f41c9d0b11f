//! The extractor held against reality: the evaluated option set of micros
//! fe0a5ec (../shared/reference/micros-options.json), on the upstream trees
//! named by MICROS_SRC and MICROS_NIXPKGS. Skips (with a message) without them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use micros_options::{extract, json, sources};
use serde_json::Value;

fn reference_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/micros-options.json")
}

fn upstream() -> Option<(PathBuf, PathBuf)> {
    let get = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    Some((get(sources::MICROS_ENV)?, get(sources::NIXPKGS_ENV)?))
}

/// Options outside the module system's own `_module.*`.
fn user_facing(map: BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    map.into_iter()
        .filter(|(_, v)| {
            !v["loc"]
                .as_array()
                .is_some_and(|loc| loc.iter().any(|s| s == "_module"))
        })
        .collect()
}

fn absent(value: Option<&Value>) -> bool {
    value.is_none_or(Value::is_null)
}

#[test]
fn static_extraction_matches_the_evaluated_reference() {
    let Some((micros, nixpkgs)) = upstream() else {
        eprintln!(
            "skipped: set MICROS_SRC and MICROS_NIXPKGS to the upstream trees \
             (see ../shared/reference/README.md) to run the conformance test"
        );
        return;
    };
    let reference_text = std::fs::read_to_string(reference_path()).expect("reference options.json");
    let reference = user_facing(serde_json::from_str(&reference_text).expect("reference parses"));

    let request = sources::micros_request(&micros, Some(&nixpkgs)).expect("micros tree");
    let extraction = extract(&request);
    let ours = user_facing(
        serde_json::from_str(&json::to_json(&extraction.options, true)).expect("our json parses"),
    );

    let missing: Vec<&String> = reference
        .keys()
        .filter(|k| !ours.contains_key(*k))
        .collect();
    let extra: Vec<&String> = ours
        .keys()
        .filter(|k| !reference.contains_key(*k))
        .collect();

    let mut report = String::new();
    let mut ratio = BTreeMap::new();
    let fields = [
        "declarations",
        "description",
        "type",
        "default",
        "example",
        "readOnly",
        "internal",
        "visible",
    ];
    for field in fields {
        let (mut compared, mut equal) = (0, 0);
        let mut first_difference = None;
        for (name, expected) in &reference {
            let Some(actual) = ours.get(name) else {
                continue;
            };
            // Defaults that need `pkgs` could not be evaluated for the
            // reference: any default is right for them.
            if field == "default" && expected["default"]["_type"] == "goldenUnevaluated" {
                continue;
            }
            compared += 1;
            let (expected, actual) = (expected.get(field), actual.get(field));
            if expected == actual || (absent(expected) && absent(actual)) {
                equal += 1;
            } else if first_difference.is_none() {
                first_difference = Some(format!(
                    "      first difference: {name}\n        reference: {}\n        extracted: {}\n",
                    expected.unwrap_or(&Value::Null),
                    actual.unwrap_or(&Value::Null)
                ));
            }
        }
        let share = equal as f64 / compared.max(1) as f64;
        ratio.insert(field, share);
        report.push_str(&format!(
            "  {field:<13} {equal:>4}/{compared:<4} equal ({:.1}%)\n",
            share * 100.0
        ));
        report.push_str(&first_difference.unwrap_or_default());
    }
    eprintln!(
        "conformance against micros fe0a5ec: {} reference options outside _module.*, {} extracted, \
         {} missing, {} extra\n{report}",
        reference.len(),
        ours.len(),
        missing.len(),
        extra.len()
    );
    assert!(missing.is_empty(), "options not found: {missing:?}");
    assert!(
        extra.is_empty(),
        "options the reference does not have: {extra:?}"
    );
    assert_eq!(ratio["declarations"], 1.0, "declarations must all be equal");
    assert_eq!(ratio["description"], 1.0, "descriptions must all be equal");
    assert!(ratio["type"] >= 0.95, "type descriptions below 95%");
    assert!(ratio["default"] >= 0.90, "defaults below 90%");
}
