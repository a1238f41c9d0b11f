//! Escaping for the HTML docgen writes into markdown pages.
//!
//! Pages are markdown that mdbook renders, with each option as a raw HTML
//! block. Two things besides the usual escaping keep that safe: a blank
//! line would end the HTML block early (and let the rest be read as
//! markdown), and `{{#include ..}}` is an mdbook directive that reads files,
//! so no `{{` may reach the page from an option's text.

/// Escape text for an HTML text node or a double-quoted attribute.
pub fn escape_into(out: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '{' if chars.peek() == Some(&'{') => out.push_str("&#123;"),
            c => out.push(c),
        }
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Code shown as is inside `<code>`.
pub fn push_code_text(out: &mut String, code: &str) {
    escape_into(out, code);
}

/// Rewrite newlines that would leave a blank line as `&#10;`, which HTML
/// reads as the same newline but markdown does not see as a block break.
pub fn without_blank_lines(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut rest = html;
    while let Some(pos) = rest.find('\n') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let next_line = after.split('\n').next().unwrap_or("");
        // The last newline is left as it is: what follows is the caller's.
        if !after.is_empty() && next_line.trim().is_empty() {
            out.push_str("&#10;");
        } else {
            out.push('\n');
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The text of HTML written by this crate: tags removed, the entities it
/// writes decoded. For tests and the manual page.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
}

pub fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#123;", "{")
        .replace("&#10;", "\n")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_directives_and_blank_lines() {
        assert_eq!(
            escape("{{#include /etc/passwd}}"),
            "&#123;{#include /etc/passwd}}"
        );
        assert_eq!(escape("{{{"), "&#123;&#123;{");
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        assert_eq!(
            without_blank_lines("a\n\nb\n  \nc\n"),
            "a&#10;\nb&#10;  \nc\n"
        );
        assert_eq!(text_of("<p>a &lt;b&gt;</p>&#10;"), "a <b>\n");
    }
}
