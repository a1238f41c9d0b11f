//! The generated reference: markdown snapshot of the fixture tree, anchors,
//! option references, and safety against hostile descriptions.

mod common;

use std::collections::{HashMap, HashSet};

use micros_docgen::anchor::option_id;
use micros_docgen::reference::{self, Reference, Settings};
use micros_options::Severity;

fn settings() -> Settings {
    Settings {
        title: "MicrOS options".into(),
        repo_url: Some("https://example.org/micros/blob/main".into()),
        nixpkgs_url: Some("https://example.org/nixpkgs/blob/master".into()),
        ..Default::default()
    }
}

fn all_markdown(reference: &Reference) -> String {
    let mut out = String::new();
    for page in reference.index.iter().chain(&reference.groups) {
        out.push_str(&format!("<!-- ===== {} ===== -->\n", page.file));
        out.push_str(&page.markdown());
    }
    out
}

/// Every `id="..."` in the text.
fn ids(text: &str) -> Vec<String> {
    text.split("id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn fixture_reference_snapshot() {
    let set = common::fixture_set();
    let reference = reference::render(&set, &settings());
    assert!(
        reference.diagnostics.is_empty(),
        "{:?}",
        reference.diagnostics
    );
    expect_test::expect_file!["snapshots/fixture-reference.md"]
        .assert_eq(&all_markdown(&reference));
}

#[test]
fn every_option_has_one_anchor_and_anchors_are_unique() {
    let set = common::fixture_set();
    let reference = reference::render(&set, &settings());
    let documented = reference::documented(&set);
    assert!(documented.len() > 50, "{}", documented.len());
    let mut seen: HashMap<String, String> = HashMap::new();
    for page in &reference.groups {
        for id in ids(&page.markdown()) {
            if let Some(other) = seen.insert(id.clone(), page.file.clone()) {
                panic!("id {id} appears in {other} and {}", page.file);
            }
        }
    }
    for option in &documented {
        let id = option_id(&option.name());
        assert!(seen.contains_key(&id), "no anchor {id}");
    }
    // Exactly the documented options have option anchors.
    let option_ids: HashSet<&String> = seen.keys().filter(|id| id.starts_with("opt-")).collect();
    assert_eq!(option_ids.len(), documented.len());
    // Internal options are left out (the fixture's nix.* has some).
    let internal: Vec<_> = set.flatten().into_iter().filter(|o| o.internal).collect();
    assert!(!internal.is_empty());
    for option in internal {
        assert!(
            !seen.contains_key(&option_id(&option.name())),
            "{}",
            option.name()
        );
    }
    // Placeholders follow nixos-render-docs' rules.
    assert!(seen.contains_key("opt-users._name_.uid"));
    assert!(seen.contains_key("opt-networking.interfaces._.name"));
    assert!(seen.contains_key("opt-boot.kernel.sysctl._vm.swappiness_"));
}

#[test]
fn references_resolve_relative_to_the_submodule_and_broken_ones_are_reported() {
    let set = common::refs_set();
    let dir = common::docgen_fixtures().join("refs");
    let settings = Settings {
        micros_dir: Some(dir.clone()),
        ..Default::default()
    };
    let reference = reference::render(&set, &settings);
    let page = &reference.groups[0].markdown();
    // Absolute, and relative to the enclosing submodule.
    assert!(
        page.contains(
            "<a href=\"#opt-refs.servers\"><code class=\"option\">refs.servers</code></a>"
        ),
        "{page}"
    );
    assert!(
        page.contains(
            "<a href=\"#opt-refs.servers._name_.address\"><code class=\"option\">address</code></a>"
        ),
        "{page}"
    );
    let file = dir.join("micros/modules/refs.nix");
    let found: Vec<(String, u32, u32, Severity, String)> = reference
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.display().to_string(),
                d.line,
                d.column,
                d.severity,
                d.message.clone(),
            )
        })
        .collect();
    let file = file.display().to_string();
    assert_eq!(
        found,
        vec![
            (file.clone(), 14, 13, Severity::Warning, "{option}`refs.missing` in the documentation of `refs.enable` names no option".to_string()),
            (file.clone(), 24, 66, Severity::Warning, "{option}`nowhere` in the documentation of `refs.servers.<name>.port` names no option".to_string()),
            (file.clone(), 44, 31, Severity::Warning, "{option}`refs.hidden` in the documentation of `refs.user` names an internal or hidden option, which the reference does not show".to_string()),
        ]
    );
    let strict = reference::render(
        &set,
        &Settings {
            strict: true,
            ..settings
        },
    );
    assert!(
        strict
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Error)
    );
}

#[test]
fn hostile_descriptions_stay_text() {
    let path = common::docgen_fixtures().join("hostile.json");
    let set = micros_docgen::load::from_options_json(&path).expect("the fixture reads");
    let reference = reference::render(&set, &Settings::default());
    let text = all_markdown(&reference);
    for needle in [
        "<script",
        "<img",
        "<iframe",
        "<svg",
        "<style",
        "<html",
        "<body",
        "{{#include",
        "</dl></div>",
    ] {
        assert!(!text.contains(needle), "{needle} reached the page:\n{text}");
    }
    for page in reference.index.iter().chain(&reference.groups) {
        let fragment = scraper::Html::parse_fragment(&page.markdown());
        common::assert_no_injected_markup(&fragment, &page.file, false, &|_| false);
    }
    // Attributes from the text stay inside escaped text (the HTML test
    // parses the built pages to be sure).
    assert!(!text.contains(" onload=\"alert(2)\">"));
    // Shown as text, not dropped.
    assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(text.contains("&#123;{#include /etc/passwd}}"));
    assert!(text.contains("<a href=\"https://example.org/\">ok</a>"));
    // The description's heading cannot take an option's anchor.
    assert_eq!(text.matches("id=\"opt-evil.readOnly\"").count(), 1);
    // The literalMD example is rendered, its reference resolved.
    assert!(
        text.contains("<div class=\"literal-md\"><p>Like <a href=\"#opt-evil.readOnly\">"),
        "{text}"
    );
    assert!(text.contains("blockquote-tag-warning"));
    assert!(text.contains(
        "option-badge\" title=\"Set by MicrOS; a configuration cannot define it\">read-only"
    ));
}
