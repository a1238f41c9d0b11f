//! Hover on an option path segment: the option's documentation.

use rowan::{TextRange, TextSize};

use crate::db::{self, File};
use crate::resolve::KeyMeaning;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    pub range: TextRange,
    /// Markdown.
    pub markdown: String,
}

pub fn hover(db: &dyn db::Db, file: File, offset: TextSize) -> Option<Hover> {
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
    fn hover_on_any_segment() {
        assert!(
            hover("{ serv$0ices.getty.enable = true; }").starts_with("**`services`**\n\n2 options")
        );
        assert!(hover("{ users.ali$0ce.uid = 1; }").contains("`users.<name>`"));
        assert!(hover("{ services.getty.enable = tr$0ue; }").is_empty());
    }
}
