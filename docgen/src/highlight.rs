//! Nix syntax highlighting, done while generating rather than in the
//! browser, with the class names of highlight.js so that mdbook's light
//! and dark highlight themes colour it.

use rnix::SyntaxKind::{self, *};

use crate::html::{escape_into, push_code_text};

/// Functions every Nix file can call without `builtins.`.
const BUILTINS: &[&str] = &[
    "abort",
    "baseNameOf",
    "builtins",
    "derivation",
    "dirOf",
    "fetchGit",
    "fetchTarball",
    "fetchurl",
    "import",
    "isNull",
    "map",
    "removeAttrs",
    "throw",
    "toString",
];

fn class_of(
    kind: SyntaxKind,
    text: &str,
    next_significant: Option<SyntaxKind>,
) -> Option<&'static str> {
    Some(match kind {
        TOKEN_COMMENT => "hljs-comment",
        TOKEN_ASSERT | TOKEN_ELSE | TOKEN_IF | TOKEN_IN | TOKEN_INHERIT | TOKEN_LET | TOKEN_REC
        | TOKEN_THEN | TOKEN_WITH | TOKEN_OR => "hljs-keyword",
        TOKEN_INTEGER | TOKEN_FLOAT => "hljs-number",
        TOKEN_STRING_START | TOKEN_STRING_CONTENT | TOKEN_STRING_END => "hljs-string",
        TOKEN_PATH_ABS | TOKEN_PATH_HOME | TOKEN_PATH_REL | TOKEN_PATH_SEARCH => "hljs-string",
        TOKEN_URI => "hljs-link",
        TOKEN_INTERPOL_START | TOKEN_INTERPOL_END => "hljs-subst",
        TOKEN_IDENT => match text {
            "true" | "false" | "null" => "hljs-literal",
            _ if next_significant == Some(TOKEN_ASSIGN) => "hljs-attr",
            _ if BUILTINS.contains(&text) => "hljs-built_in",
            _ => return None,
        },
        _ => return None,
    })
}

/// Highlighted HTML for Nix source (the inside of a `<code>` element).
/// Text the tokenizer cannot account for is shown plain.
pub fn nix_to_html(code: &str, out: &mut String) {
    let start = out.len();
    write_tokens(code, out);
    // Tokens are escaped one at a time, so `{{` across two of them is
    // broken up here (see crate::html).
    if out[start..].contains("{{") {
        let fixed = out[start..].replace("{{", "&#123;{");
        out.truncate(start);
        out.push_str(&fixed);
    }
}

fn write_tokens(code: &str, out: &mut String) {
    let tokens: Vec<(SyntaxKind, &str)> = rnix::tokenize(code).collect();
    let covered: usize = tokens.iter().map(|(_, t)| t.len()).sum();
    if covered != code.len() {
        push_code_text(out, code);
        return;
    }
    let significant = |from: usize| {
        tokens[from..]
            .iter()
            .map(|(k, _)| *k)
            .find(|k| !matches!(k, TOKEN_WHITESPACE | TOKEN_COMMENT))
    };
    let mut classes: Vec<Option<&'static str>> = tokens
        .iter()
        .enumerate()
        .map(|(i, &(kind, text))| class_of(kind, text, significant(i + 1)))
        .collect();
    // Whitespace joins a span only when the tokens on both sides share it.
    for i in 0..tokens.len() {
        if tokens[i].0 == TOKEN_WHITESPACE {
            let before = i.checked_sub(1).and_then(|p| classes[p]);
            let after = classes.get(i + 1).copied().flatten();
            classes[i] = before.filter(|b| Some(*b) == after);
        }
    }
    let mut open: Option<&'static str> = None;
    for (&(_, text), &class) in tokens.iter().zip(&classes) {
        if class != open {
            if open.is_some() {
                out.push_str("</span>");
            }
            if let Some(class) = class {
                out.push_str("<span class=\"");
                out.push_str(class);
                out.push_str("\">");
            }
            open = class;
        }
        escape_into(out, text);
    }
    if open.is_some() {
        out.push_str("</span>");
    }
}

#[cfg(test)]
mod tests {
    use super::nix_to_html;

    fn highlight(code: &str) -> String {
        let mut out = String::new();
        nix_to_html(code, &mut out);
        out
    }

    #[test]
    fn classes() {
        expect_test::expect![[r#"<span class="hljs-literal">true</span>"#]]
            .assert_eq(&highlight("true"));
        expect_test::expect![[r#"{ <span class="hljs-attr">port</span> = <span class="hljs-number">22</span>; <span class="hljs-attr">name</span> = <span class="hljs-string">&quot;a</span><span class="hljs-subst">${</span>pkgs.hello<span class="hljs-subst">}</span><span class="hljs-string">b&quot;</span>; }"#]]
            .assert_eq(&highlight(r#"{ port = 22; name = "a${pkgs.hello}b"; }"#));
        expect_test::expect![[r#"<span class="hljs-keyword">with</span> lib; <span class="hljs-comment"># note &lt;b&gt;</span>"#]]
            .assert_eq(&highlight("with lib; # note <b>"));
    }

    #[test]
    fn escapes_and_keeps_every_character() {
        let code = "\"<script>alert(1)</script>\" ++ [ ./a&b ] {{ }}";
        let html = highlight(code);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("{{"), "{html}");
        assert_eq!(crate::html::text_of(&html), code);
    }
}
