//! Hover on an option path segment: the option's documentation; on a
//! name, what binds it and, for a binding, what it is bound to.

use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::analysis::resolve::KeyMeaning;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

pub fn hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
    option_hover(db, file, offset)
        .or_else(|| module_entry_hover(db, file, offset))
        .or_else(|| system_call_hover(db, file, offset))
        .or_else(|| binding_hover(db, file, offset))
}

fn binding_hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
    use crate::analysis::scopes::{self, DefKind};
    let scopes = scopes::scopes(db, file);
    let def = scopes.def(scopes.at(offset)?);
    let range = scopes
        .refs
        .iter()
        .map(|r| r.range)
        .chain(def.sites.iter().copied())
        .find(|range| range.contains_inclusive(offset))?;
    let kind = match def.kind {
        DefKind::Let => "a `let` binding",
        DefKind::Rec => "an attribute of a `rec` set",
        DefKind::Param => "a function's argument",
        DefKind::Formal => "a function's argument (from its set)",
        DefKind::PatBind => "a function's whole argument set",
        DefKind::Inherit => "inherited (`inherit`) from the scope around",
        DefKind::InheritFrom => "inherited (`inherit (...)`)",
    };
    let mut markdown = format!("`{}`: {kind}", def.name);
    // The value, when it fits on a line.
    if let Some(value) = def.value {
        let text = &file.text(db)[std::ops::Range::<usize>::from(value)];
        if !text.contains('\n') && text.len() <= 80 {
            markdown.push_str(&format!("\n\n```nix\n{} = {text};\n```", def.name));
        }
    }
    if let Some(site) = def.sites.first() {
        let line = crate::analysis::systems::TextPosition::of(file.text(db), site.start()).line + 1;
        markdown.push_str(&format!("\n\n*Bound on line {line}.*"));
    }
    Some(Hover { range, markdown })
}

fn option_hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
    let (entry, range) = super::entry_at(db, file, offset)?;
    let meaning = db::resolution(db, file).keys.get(&entry)?.clone();
    let index = db::option_index(db, db.workspace());
    let markdown = match meaning {
        KeyMeaning::Option(option) => super::option_markdown(&option, index),
        KeyMeaning::Prefix(loc) => {
            let name = micros_options::model::show_option(&loc);
            let count = super::trie_at(index, &loc).map_or(0, |t| t.options().len());
            format!(
                "**`{name}`**\n\n{count} option{} below this path.",
                if count == 1 { "" } else { "s" }
            )
        }
        KeyMeaning::Name(loc) => {
            let name = micros_options::model::show_option(&loc);
            format!("**`{name}`**\n\nA name of your choosing in this attribute set.")
        }
    };
    Some(Hover { range, markdown })
}

/// Hover on an entry of a `modules` list in flake.nix: the systems it
/// belongs to and what each sets, and what the module itself defines.
fn module_entry_hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
    use crate::analysis::systems::{self, ModuleEntry};
    if !systems::is_flake(file.path(db)) {
        return None;
    }
    let model = systems::flake_model(db, file);
    let facts = systems::analysis::system_facts(db, file);
    let members = systems::system_modules(db, file);
    // The innermost entry (a helper's list may be the same for several).
    let mut found: Option<(TextRange, &ModuleEntry)> = None;
    let mut owners: Vec<usize> = Vec::new();
    for (index, system) in model.systems.iter().enumerate() {
        for entry in &system.modules {
            let range = entry.range();
            if !range.contains_inclusive(offset) {
                continue;
            }
            match found {
                Some((best, _)) if best == range => owners.push(index),
                Some((best, _)) if best.len() <= range.len() => {}
                _ => {
                    found = Some((range, entry));
                    owners = vec![index];
                }
            }
        }
    }
    let (range, entry) = found?;
    let dir = file.path(db).parent().unwrap_or(std::path::Path::new("/"));
    let mut markdown = String::new();
    for index in owners {
        push_system_summary(&mut markdown, "A module of", index, model, facts, members);
    }
    // What this module defines itself (not what it imports).
    let definitions: Vec<String> = match entry {
        ModuleEntry::File { path, .. } => {
            let files = crate::analysis::import_graph::files_by_path(db, db.workspace());
            let file = crate::analysis::import_graph::module_file(files, path);
            match file {
                Some(module) => {
                    defined_paths(&systems::analysis::module_collections(db, module)[..])
                }
                None => {
                    let shown = path.strip_prefix(dir).unwrap_or(path).display().to_string();
                    markdown.push_str(&format!("`{shown}` is not in the workspace (yet).\n"));
                    return Some(Hover { range, markdown });
                }
            }
        }
        ModuleEntry::Inline { index, .. } => {
            let collections = systems::analysis::module_collections(db, file);
            defined_paths(
                collections
                    .get(*index)
                    .map(std::slice::from_ref)
                    .unwrap_or(&[]),
            )
        }
    };
    if !definitions.is_empty() {
        const SHOWN: usize = 8;
        let list: Vec<String> = definitions
            .iter()
            .take(SHOWN)
            .map(|p| format!("`{p}`"))
            .collect();
        let more = definitions.len().saturating_sub(SHOWN);
        markdown.push_str(&format!(
            "This module defines {}{}.\n",
            list.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    Some(Hover { range, markdown })
}

/// A system's heading (`lead` and its name), what it builds, its platform,
/// whether it is a container and how many modules it has.
fn push_system_summary(
    markdown: &mut String,
    lead: &str,
    index: usize,
    model: &crate::analysis::systems::FlakeModel,
    facts: &[crate::analysis::systems::analysis::Facts],
    members: &[crate::analysis::systems::SystemModules],
) {
    let system = &model.systems[index];
    let fact = facts.get(index).cloned().unwrap_or_default();
    let builds = system
        .output
        .as_deref()
        .map_or("the system itself".to_string(), |o| {
            format!("`config.system.build.{o}`")
        });
    markdown.push_str(&format!(
        "**{lead} `{}`**, which builds {builds}\n\n",
        system.name
    ));
    let platform = fact
        .platform
        .map_or("not known statically".to_string(), |p| format!("`{p}`"));
    let container = match fact.container {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not known statically",
    };
    markdown.push_str(&format!(
        "- platform (`nixpkgs.hostPlatform`): {platform}\n- container (`boot.isContainer`): {container}\n"
    ));
    let count = members
        .get(index)
        .map_or(0, |m| m.files.len() + m.inline.len());
    markdown.push_str(&format!(
        "- {count} module{} in all\n\n",
        if count == 1 { "" } else { "s" }
    ));
}

/// Hover on a `microsSystem` call in flake.nix: on `microsSystem`, what it
/// does and the systems the call makes; on its `modules` and `specialArgs`,
/// what they are to it and what they hold.
fn system_call_hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
    use crate::analysis::systems;
    use rnix::SyntaxKind::*;
    if !systems::is_flake(file.path(db)) {
        return None;
    }
    let model = systems::flake_model(db, file);
    let owners: Vec<usize> = (0..model.systems.len())
        .filter(|&i| model.systems[i].call.contains_inclusive(offset))
        .collect();
    let call = owners
        .iter()
        .map(|&i| model.systems[i].call)
        .min_by_key(|range| range.len())?;
    let owners: Vec<usize> = owners
        .into_iter()
        .filter(|&i| model.systems[i].call == call)
        .collect();
    let root = db::parse(db, file).root();
    let token = super::token_at_offset(rowan::ast::AstNode::syntax(&root), offset)
        .find(|t| t.kind() == TOKEN_IDENT)?;
    let range = token.text_range();
    // A key of the call's argument set: ident, attrpath, entry, set, call.
    let argument_key = || {
        let attrpath = token.parent()?.parent()?;
        let set = attrpath.parent()?.parent()?;
        let call_node = set.parent()?;
        (attrpath.kind() == NODE_ATTRPATH
            && attrpath.first_token().as_ref() == Some(&token)
            && set.kind() == NODE_ATTR_SET
            && call_node.kind() == NODE_APPLY
            && call_node.text_range() == call)
            .then(|| token.text().to_string())
    };
    let (intro, lead) = match (token.text(), argument_key().as_deref()) {
        ("microsSystem", _) => (
            "**`micros.lib.microsSystem`**: evaluates `modules` into one MicrOS system, with `specialArgs` given to every module beside `config`, `lib`, `pkgs` and `options`; its `config.system.build` holds the `image` (ISO) and the `ociImage` (container).",
            Some("This call makes"),
        ),
        (_, Some("modules")) => (
            "**`modules`**: the modules of the system, merged into one configuration: files (a directory means its `default.nix`) and modules written here.",
            Some("Modules of"),
        ),
        (_, Some("specialArgs")) => (
            "**`specialArgs`**: arguments given to every module of the system, beside `config`, `lib`, `pkgs` and `options`, and known before the modules are read (so `imports` may use them); micros adds `nixos-core` and `oci-tool`.",
            None,
        ),
        _ => return None,
    };
    let mut markdown = format!("{intro}\n\n");
    if let Some(lead) = lead {
        // Only these need the systems' facts and module lists.
        let facts = systems::analysis::system_facts(db, file);
        let members = systems::system_modules(db, file);
        for &index in &owners {
            push_system_summary(&mut markdown, lead, index, model, facts, members);
        }
    } else {
        // specialArgs: the names each system gets, each line once.
        let mut seen = Vec::new();
        for &index in &owners {
            let system = &model.systems[index];
            let names = match &system.special_args {
                Some(names) if names.is_empty() => "none".to_string(),
                Some(names) => names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => "not known statically".to_string(),
            };
            let line = format!("- `{}`: {names}\n", system.name);
            if !seen.contains(&line) {
                markdown.push_str(&line);
                seen.push(line);
            }
        }
    }
    Some(Hover {
        range,
        markdown: markdown.trim_end().to_string() + "\n",
    })
}

/// The option paths the modules define, each once, in order.
fn defined_paths(collections: &[crate::analysis::systems::definitions::Collected]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for collected in collections {
        for definition in &collected.definitions {
            let shown = micros_options::model::show_option(&definition.path);
            if !out.contains(&shown) {
                out.push(shown);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::ide::fixture::fixture;

    fn hover(text: &str) -> String {
        let f = fixture(text);
        let (file, offset) = f.cursor();
        f.host
            .snapshot()
            .hover(file, offset)
            .unwrap()
            .map(|h| h.markdown)
            .unwrap_or_default()
    }

    #[test]
    fn hover_on_a_name_says_what_binds_it() {
        expect_test::expect![[r#"
            `greeting`: a `let` binding

            ```nix
            greeting = "hello";
            ```

            *Bound on line 2.*"#]]
        .assert_eq(&hover(
            "let\n  greeting = \"hello\";\nin { environment.etc.motd.text = gree$0ting; }",
        ));
        expect_test::expect![[r#"
            `lib`: a function's argument (from its set)

            *Bound on line 1.*"#]]
        .assert_eq(&hover("{ lib, ... }:\n{ x = li$0b.mkDefault 1; }"));
        // Neither a global nor an attribute name of a plain set.
        assert_eq!(hover("{ x = builti$0ns.map; }"), "");
        assert_eq!(hover("{ fo$0o = 1; }"), "");
    }

    #[test]
    fn hover_shows_type_default_description_and_declaration() {
        expect_test::expect![[r#"
            **`micros.services.<name>.type`**

            *Type:* one of "longrun", "oneshot"

            *Default:* `"longrun"`

            Supervised or run once.

            *Declared in:* [modules/services.nix:10](file:///micros/modules/services.nix#L10)
        "#]]
        .assert_eq(&hover(r#"{ micros.services.web.ty$0pe = "oneshot"; }"#));
    }

    #[test]
    fn hover_on_a_module_entry_names_its_systems() {
        let flake = r#"#- /flake.nix
{
  outputs = { micros, ... }: let
    common = [ ./configuration.nix ];
  in {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = common ++ [ { nixpkgs.hostPlatform = "x86_64-linux"; } ];
    }).config.system.build.image;
    packages.x86_64-linux.container = (micros.lib.microsSystem {
      modules = common ++ [ { boot.isContainer = true; } ];
    }).config.system.build.ociImage;
  };
}
#- /configuration.nix
{ services.getty.enable = true; users.micros.uid = 1000; }
"#;
        expect_test::expect![[r#"
            **A module of `packages.x86_64-linux.container`**, which builds `config.system.build.ociImage`

            - platform (`nixpkgs.hostPlatform`): not known statically
            - container (`boot.isContainer`): yes
            - 2 modules in all

            **A module of `packages.x86_64-linux.default`**, which builds `config.system.build.image`

            - platform (`nixpkgs.hostPlatform`): `x86_64-linux`
            - container (`boot.isContainer`): no
            - 2 modules in all

            This module defines `services.getty.enable`, `users.micros.uid`.
        "#]]
        .assert_eq(&hover(&flake.replace("./configuration.nix ]", "./configur$0ation.nix ]")));
        // Inside an inline module: on an option, the option; elsewhere, the
        // system.
        assert!(
            hover(&flake.replace("boot.isContainer", "boot.isCon$0tainer"))
                .starts_with("**`boot.isContainer`**")
        );
        expect_test::expect![[r#"
            **A module of `packages.x86_64-linux.container`**, which builds `config.system.build.ociImage`

            - platform (`nixpkgs.hostPlatform`): not known statically
            - container (`boot.isContainer`): yes
            - 2 modules in all

            This module defines `boot.isContainer`.
        "#]]
        .assert_eq(&hover(&flake.replace("[ { boot", "[ $0{ boot")));
    }

    #[test]
    fn hover_on_a_micros_system_call_and_its_arguments() {
        let flake = r#"#- /flake.nix
{
  outputs = { micros, ... } @ inputs: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      specialArgs = { inherit inputs; };
      modules = [ ./configuration.nix { nixpkgs.hostPlatform = "x86_64-linux"; } ];
    }).config.system.build.image;
  };
}
#- /configuration.nix
{ services.getty.enable = true; }
"#;
        let call = hover(&flake.replace("microsSystem {", "micros$0System {"));
        assert!(
            call.starts_with("**`micros.lib.microsSystem`**: evaluates `modules`"),
            "{call}"
        );
        assert!(
            call.contains(
                "**This call makes `packages.x86_64-linux.default`**, which builds `config.system.build.image`"
            ),
            "{call}"
        );
        assert!(
            call.contains("- platform (`nixpkgs.hostPlatform`): `x86_64-linux`"),
            "{call}"
        );
        assert!(call.contains("- 2 modules in all"), "{call}");
        expect_test::expect![[r#"
            **`specialArgs`**: arguments given to every module of the system, beside `config`, `lib`, `pkgs` and `options`, and known before the modules are read (so `imports` may use them); micros adds `nixos-core` and `oci-tool`.

            - `packages.x86_64-linux.default`: `inputs`
        "#]]
        .assert_eq(&hover(&flake.replace("specialArgs =", "special$0Args =")));
        let modules = hover(&flake.replace("modules =", "mod$0ules ="));
        assert!(
            modules.starts_with("**`modules`**: the modules of the system"),
            "{modules}"
        );
        // A `modules` that is not the call's argument is not this.
        let elsewhere = flake.replace("outputs = {", "modules = 1; outputs = {");
        assert!(hover(&elsewhere.replace("modules = 1", "mod$0ules = 1")).is_empty());
    }

    #[test]
    fn hover_on_any_segment() {
        assert!(
            hover("{ serv$0ices.getty.enable = true; }").starts_with("**`services`**\n\n2 options")
        );
        assert!(hover("{ users.ali$0ce.uid = 1; }").contains("`users.<name>`"));
        assert!(hover("{ services.getty.enable = tr$0ue; }").is_empty());
    }
}
