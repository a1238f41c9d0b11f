//! Inlay hints: after a long binding, the name it binds (as nil shows
//! them); and beside a definition that a stronger one in the same system
//! overrides (`lib.mkDefault "a"` beside a plain `"b"`), the value the
//! system gets and where it comes from. An option's default beside each
//! definition would be noise and is not shown.

use rnix::ast;
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::lower::attr_text;
use crate::analysis::systems::analysis::{Overridden, system_overrides};
use crate::analysis::systems::{self, Related};
use micros_options::model::show_option;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlayConfig {
    /// Bindings spanning at least this many lines get their name after
    /// the `;`; `None`: none do.
    pub binding_end_min_lines: Option<usize>,
}

impl Default for InlayConfig {
    fn default() -> Self {
        // nil's default, so hints appear where its users expect them.
        InlayConfig {
            binding_end_min_lines: Some(25),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKind {
    /// The end of a binding.
    BindingEnd,
    /// What the system's value is instead of this definition's.
    Overridden,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelPart {
    pub text: String,
    /// A place the part leads to (the winning definition).
    pub target: Option<Related>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    pub offset: TextSize,
    pub kind: HintKind,
    pub label: Vec<LabelPart>,
    pub tooltip: Option<String>,
}

impl InlayHint {
    pub fn label_text(&self) -> String {
        self.label.iter().map(|p| p.text.as_str()).collect()
    }
}

/// The hints of a file, or of those placed inside `range`.
pub fn inlay_hints(
    db: &dyn db::Db,
    file: File,
    range: Option<TextRange>,
    config: &InlayConfig,
) -> Vec<InlayHint> {
    let mut hints = Vec::new();
    if let Some(min_lines) = config.binding_end_min_lines {
        binding_ends(db, file, min_lines, &mut hints);
    }
    overridden(db, file, &mut hints);
    if let Some(range) = range {
        hints.retain(|h| range.contains_inclusive(h.offset));
    }
    hints.sort_by_key(|h| (h.offset, h.kind == HintKind::Overridden));
    hints
}

fn binding_ends(db: &dyn db::Db, file: File, min_lines: usize, out: &mut Vec<InlayHint>) {
    let root = db::parse(db, file).root();
    // Where each line break is, once: counting them in each binding's own
    // text would read nested bindings' text again for every set around them.
    let breaks: Vec<TextSize> = file
        .text(db)
        .match_indices('\n')
        .map(|(i, _)| TextSize::from(i as u32))
        .collect();
    for node in root.syntax().descendants() {
        if node.kind() != SyntaxKind::NODE_ATTRPATH_VALUE {
            continue;
        }
        // Lines spanned: one more than the line breaks inside.
        let range = node.text_range();
        let lines = 1 + breaks.partition_point(|&b| b < range.end())
            - breaks.partition_point(|&b| b < range.start());
        if lines < min_lines.max(1) {
            continue;
        }
        let ends_with_semicolon = node
            .last_token()
            .is_some_and(|t| t.kind() == SyntaxKind::TOKEN_SEMICOLON);
        if !ends_with_semicolon {
            continue;
        }
        let Some(name) = binding_name(&node) else {
            continue;
        };
        out.push(InlayHint {
            offset: node.text_range().end(),
            kind: HintKind::BindingEnd,
            label: vec![LabelPart {
                text: format!("= {name}"),
                target: None,
            }],
            tooltip: None,
        });
    }
}

/// The binding's path, with the paths of the sets it is inside of
/// (`services.getty` for `getty = { ... };` in `services = { ... };`);
/// `let name` in a `let`.
fn binding_name(node: &SyntaxNode) -> Option<String> {
    let path = |node: &SyntaxNode| -> Option<String> {
        let binding = ast::AttrpathValue::cast(node.clone())?;
        let names: Option<Vec<String>> =
            binding.attrpath()?.attrs().map(|a| attr_text(&a)).collect();
        Some(names?.join("."))
    };
    let mut segments = vec![path(node)?];
    let mut current = node.clone();
    // Nesting is bounded by the parser's nesting guard; the walk goes up.
    loop {
        let parent = current.parent()?;
        match parent.kind() {
            SyntaxKind::NODE_LET_IN => {
                segments.reverse();
                return Some(format!("let {}", segments.join(".")));
            }
            SyntaxKind::NODE_ATTR_SET => {
                let is_rec = ast::AttrSet::cast(parent.clone())?.rec_token().is_some();
                match parent.parent() {
                    Some(outer) if !is_rec && outer.kind() == SyntaxKind::NODE_ATTRPATH_VALUE => {
                        segments.push(path(&outer)?);
                        current = outer;
                    }
                    _ => break,
                }
            }
            _ => break,
        }
    }
    segments.reverse();
    Some(segments.join("."))
}

/// Definitions a stronger one overrides, merged over the systems that
/// reach the file; one the other systems do not share names its systems.
fn overridden(db: &dyn db::Db, file: File, out: &mut Vec<InlayHint>) {
    let reaching = systems::reaching(db, file);
    let mut groups: Vec<(&Overridden, Vec<String>)> = Vec::new();
    for system in &reaching {
        let name = &systems::system(db, *system).name;
        let Some(overrides) = system_overrides(db, system.flake).get(system.index) else {
            continue;
        };
        for o in overrides.iter().filter(|o| o.file == file) {
            match groups
                .iter_mut()
                .find(|(g, _)| g.range == o.range && g.value == o.value && same_place(&g.by, &o.by))
            {
                Some((_, names)) => names.push(name.clone()),
                None => groups.push((o, vec![name.clone()])),
            }
        }
    }
    for (o, names) in groups {
        let place = format!("{}:{}", o.by.message, o.by.start.line + 1);
        let mut label = vec![LabelPart {
            text: match &o.value {
                Some(value) => format!("→ {value} from "),
                None => "overridden in ".to_string(),
            },
            target: None,
        }];
        label.push(LabelPart {
            text: place.clone(),
            target: Some(o.by.clone()),
        });
        let in_systems = if names.len() < reaching.len() {
            let shown = names.join(", ");
            label.push(LabelPart {
                text: format!(" in {shown}"),
                target: None,
            });
            format!("in {shown}")
        } else {
            "in this system".to_string()
        };
        let value = o.value.as_deref().unwrap_or("the value defined there");
        let tooltip = format!(
            "`{}` is {value} {in_systems}: the definition in {place} ({}) is stronger than this one ({}), which does not count",
            show_option(&o.path),
            priority_name(o.winner_priority),
            priority_name(o.priority),
        );
        out.push(InlayHint {
            offset: o.range.end(),
            kind: HintKind::Overridden,
            label,
            tooltip: Some(tooltip),
        });
    }
}

fn same_place(a: &Related, b: &Related) -> bool {
    a.path == b.path && a.range == b.range
}

/// A priority as it is written.
fn priority_name(priority: u32) -> String {
    match priority {
        50 => "`lib.mkForce`, priority 50".into(),
        100 => "a plain definition, priority 100".into(),
        1000 => "`lib.mkDefault`, priority 1000".into(),
        1500 => "`lib.mkOptionDefault`, priority 1500".into(),
        n => format!("`lib.mkOverride {n}`"),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::ide::fixture::{fixture, show_range};

    /// Every hint of every user file: `path line:col label`.
    fn check_with(text: &str, config: InlayConfig, expected: Expect) {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let mut out = String::new();
        for (path, file) in &f.files {
            let source = analysis.file_text(*file).unwrap();
            for hint in analysis.inlay_hints(*file, None, config).unwrap() {
                let at = show_range(&source, TextRange::empty(hint.offset));
                let at = at.split('-').next().unwrap_or_default().to_string();
                out.push_str(&format!("{} {at} {}\n", path.display(), hint.label_text()));
            }
        }
        expected.assert_eq(&out);
    }

    fn check(text: &str, expected: Expect) {
        check_with(text, InlayConfig::default(), expected);
    }

    fn lines(min: usize) -> InlayConfig {
        InlayConfig {
            binding_end_min_lines: Some(min),
        }
    }

    fn flake(modules: &str) -> String {
        format!(
            "#- /flake.nix\n{{ outputs = {{ micros, ... }}: {{ nixosConfigurations.box = micros.lib.microsSystem {{ modules = [ {modules} ]; }}; }}; }}\n"
        )
    }

    #[test]
    fn binding_ends_name_the_binding_with_the_sets_around_it() {
        check_with(
            "{\n  services = {\n    getty = {\n      enable = true;\n    };\n  };\n  networking.hostName = \"a\";\n}\n",
            lines(3),
            expect![[r#"
                /configuration.nix 5:7 = services.getty
                /configuration.nix 6:5 = services
            "#]],
        );
    }

    #[test]
    fn binding_ends_in_let_and_rec() {
        check_with(
            "let\n  cfg = {\n    a = 1;\n  };\nin rec {\n  x = {\n    y = [\n      1\n    ];\n  };\n}\n",
            lines(3),
            expect![[r#"
                /configuration.nix 4:5 = let cfg
                /configuration.nix 9:7 = x.y
                /configuration.nix 10:5 = x
            "#]],
        );
    }

    #[test]
    fn short_bindings_get_no_end_hint_and_the_setting_turns_them_off() {
        // The default threshold is 25 lines.
        check(
            "{\n  services = {\n    getty = {\n      enable = true;\n    };\n  };\n}\n",
            expect![""],
        );
        // From 25 lines on, by default.
        let long =
            |lines: usize| format!("{{\n  long = [\n{}  ];\n}}\n", "    1\n".repeat(lines - 2));
        check(&long(24), expect![""]);
        check(
            &long(25),
            expect![[r#"
                /configuration.nix 26:5 = long
            "#]],
        );
        check_with(
            "{\n  a = {\n    b = 1;\n  };\n}\n",
            InlayConfig {
                binding_end_min_lines: None,
            },
            expect![""],
        );
    }

    #[test]
    fn an_overridden_default_shows_the_value_that_wins() {
        let text = format!(
            "{}#- /a.nix\n{{ lib, ... }}: {{\n  networking.hostName = lib.mkDefault \"a\";\n  services.getty.terminal = \"/dev/tty1\";\n}}\n#- /b.nix\n{{ lib, ... }}: {{\n  networking.hostName = \"b\";\n  services.getty.terminal = lib.mkForce \"/dev/tty2\";\n}}\n",
            flake("./a.nix ./b.nix")
        );
        check(
            &text,
            expect![[r#"
                /a.nix 2:43 → "b" from b.nix:2
                /a.nix 3:41 → "/dev/tty2" from b.nix:3
            "#]],
        );
        let f = fixture(&text);
        let analysis = f.host.snapshot();
        let hint = analysis
            .inlay_hints(f.files[1].1, None, InlayConfig::default())
            .unwrap()
            .remove(0);
        assert_eq!(
            hint.tooltip.as_deref(),
            Some(
                "`networking.hostName` is \"b\" in this system: the definition in b.nix:2 (a plain definition, priority 100) is stronger than this one (`lib.mkDefault`, priority 1000), which does not count"
            )
        );
        assert_eq!(
            hint.label[1]
                .target
                .as_ref()
                .map(|r| r.path.display().to_string()),
            Some("/b.nix".to_string())
        );
    }

    #[test]
    fn no_override_hint_without_a_stronger_definition_or_with_the_same_value() {
        // Alone, a mkDefault is the value; beside an equal value, nothing
        // surprises; an option's default is not shown.
        check(
            &format!(
                "{}#- /a.nix\n{{ lib, ... }}: {{\n  networking.hostName = lib.mkDefault \"a\";\n  networking.domain = lib.mkDefault \"x\";\n  services.getty.terminal = \"/dev/ttyS0\";\n}}\n#- /b.nix\n{{ networking.domain = \"x\"; }}\n",
                flake("./a.nix ./b.nix")
            ),
            expect![""],
        );
        // A file no system reaches has no system value.
        check(
            "{ lib, ... }: { networking.hostName = lib.mkDefault \"a\"; }\n",
            expect![""],
        );
    }

    #[test]
    fn an_undecided_condition_or_an_unknown_module_says_nothing() {
        // The stronger definition may not count.
        check(
            &format!(
                "{}#- /a.nix\n{{ lib, config, ... }}: {{ networking.hostName = lib.mkDefault \"a\"; }}\n#- /b.nix\n{{ lib, config, ... }}: {{ networking.hostName = lib.mkIf config.services.getty.enable \"b\"; }}\n",
                flake("./a.nix ./b.nix")
            ),
            expect![""],
        );
        // A module list with a computed part: something else may be stronger.
        check(
            &format!(
                "{}#- /a.nix\n{{ lib, ... }}: {{ networking.hostName = lib.mkDefault \"a\"; }}\n#- /b.nix\n{{ networking.hostName = \"b\"; }}\n",
                flake("./a.nix ./b.nix (import ./c.nix)")
            ),
            expect![""],
        );
    }

    #[test]
    fn a_condition_the_system_decides_counts() {
        check(
            &format!(
                "{}#- /a.nix\n{{ lib, ... }}: {{ networking.hostName = lib.mkDefault \"a\"; services.getty.enable = true; }}\n#- /b.nix\n{{ lib, config, ... }}: {{ networking.hostName = lib.mkIf config.services.getty.enable \"b\"; }}\n",
                flake("./a.nix ./b.nix")
            ),
            expect![[r#"
                /a.nix 1:57 → "b" from b.nix:1
            "#]],
        );
    }

    #[test]
    fn systems_that_disagree_are_named() {
        let text = "#- /flake.nix\n{ outputs = { micros, ... }: {\n  nixosConfigurations.one = micros.lib.microsSystem { modules = [ ./a.nix ./b.nix ]; };\n  nixosConfigurations.two = micros.lib.microsSystem { modules = [ ./a.nix ]; };\n}; }\n#- /a.nix\n{ lib, ... }: { networking.hostName = lib.mkDefault \"a\"; }\n#- /b.nix\n{ networking.hostName = \"b\"; }\n";
        check(
            text,
            expect![[r#"
                /a.nix 1:57 → "b" from b.nix:1 in nixosConfigurations.one
            "#]],
        );
    }

    #[test]
    fn inline_modules_of_the_flake_and_a_value_that_is_no_literal() {
        check(
            "#- /flake.nix\n{ outputs = { micros, ... }: {\n  nixosConfigurations.box = micros.lib.microsSystem {\n    modules = [ ./a.nix ({ lib, ... }: { networking.hostName = lib.mkForce (lib.toLower \"B\"); }) ];\n  };\n}; }\n#- /a.nix\n{ lib, ... }: {\n  networking.hostName = \"a\";\n}\n",
            expect![[r#"
                /a.nix 2:29 overridden in flake.nix:3
            "#]],
        );
    }

    #[test]
    fn a_range_keeps_the_hints_inside_it() {
        let f = fixture("{\n  a = {\n    b = 1;\n  };\n  c = {\n    d = 1;\n  };\n}\n");
        let analysis = f.host.snapshot();
        let all = analysis.inlay_hints(f.file(), None, lines(3)).unwrap();
        assert_eq!(all.len(), 2);
        let text = analysis.file_text(f.file()).unwrap();
        let c = TextSize::from(text.find("c =").unwrap() as u32);
        let second_half = TextRange::new(c, TextSize::of(text.as_str()));
        let hints = analysis
            .inlay_hints(f.file(), Some(second_half), lines(3))
            .unwrap();
        assert_eq!(
            hints.iter().map(InlayHint::label_text).collect::<Vec<_>>(),
            vec!["= c"]
        );
    }
}
