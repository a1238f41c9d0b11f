//! Diagnostics as a person reads them, in the manner of rustc:
//! `file:line:col`, the source line, a caret under the span. Shared by the
//! `micros` command line and `micros-docgen` so both print alike.

use std::fmt::Write as _;
use std::path::Path;

use crate::{Diagnostic, Severity};

/// Render one diagnostic. `source` is the file's text when it can be read.
/// The file is shown relative to the current directory when it lies below
/// it. The text ends with a newline.
pub fn render(diagnostic: &Diagnostic, source: Option<&str>, color: bool) -> String {
    render_coded(diagnostic, None, None, source, color)
}

/// Render one diagnostic with its code (`error[code]: ...`) and a help line
/// (`= help: ...`) under the caret.
pub fn render_coded(
    diagnostic: &Diagnostic,
    code: Option<&str>,
    help: Option<&str>,
    source: Option<&str>,
    color: bool,
) -> String {
    let (label, paint) = match diagnostic.severity {
        Severity::Error => ("error", "\x1b[1;31m"),
        Severity::Warning => ("warning", "\x1b[1;33m"),
    };
    let (bold, blue, reset) = if color {
        ("\x1b[1m", "\x1b[1;34m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let paint = if color { paint } else { "" };
    let mut out = String::new();
    let code = code.map(|c| format!("[{c}]")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{paint}{label}{code}{reset}{bold}: {}{reset}",
        diagnostic.message
    );
    let help_line = |out: &mut String, gutter: &str| {
        if let Some(help) = help {
            let _ = writeln!(out, "{blue}{gutter} ={reset} {bold}help{reset}: {help}");
        }
    };
    if diagnostic.file.as_os_str().is_empty() {
        help_line(&mut out, " ");
        return out;
    }
    let file = display_path(&diagnostic.file);
    if diagnostic.line == 0 {
        let _ = writeln!(out, "  {blue}-->{reset} {file}");
        help_line(&mut out, " ");
        return out;
    }
    let _ = writeln!(
        out,
        "  {blue}-->{reset} {file}:{}:{}",
        diagnostic.line, diagnostic.column
    );
    let number = diagnostic.line.to_string();
    let gutter = " ".repeat(number.len());
    let Some(line_text) = source.and_then(|s| line_of(diagnostic, s)) else {
        help_line(&mut out, &gutter);
        return out;
    };
    let start_col = diagnostic.column.saturating_sub(1) as usize;
    // The caret spans the range on its first line.
    let width = match (diagnostic.range, source) {
        (Some((start, end)), Some(text)) => {
            let span = text.get(start as usize..end as usize).unwrap_or("");
            span.lines().next().map_or(1, |l| l.chars().count().max(1))
        }
        _ => 1,
    };
    let width = width.min(line_text.chars().count().saturating_sub(start_col).max(1));
    let _ = writeln!(out, "{blue}{gutter} |{reset}");
    let _ = writeln!(out, "{blue}{number} |{reset} {line_text}");
    let _ = writeln!(
        out,
        "{blue}{gutter} |{reset} {}{paint}{}{reset}",
        " ".repeat(start_col),
        "^".repeat(width)
    );
    help_line(&mut out, &gutter);
    out
}

/// The text of the diagnostic's line: found from its range where the
/// range starts at its line and column (a file with thousands of findings
/// is not read from the start for each), else by counting lines.
fn line_of<'t>(diagnostic: &Diagnostic, text: &'t str) -> Option<&'t str> {
    if let Some((start, _)) = diagnostic.range
        && let Some(before) = text.get(..start as usize)
    {
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        if column == diagnostic.column as usize {
            let rest = &text[line_start..];
            let line = rest.split('\n').next().unwrap_or("");
            return Some(line.strip_suffix('\r').unwrap_or(line));
        }
    }
    text.lines().nth((diagnostic.line as usize).checked_sub(1)?)
}

fn display_path(path: &Path) -> String {
    match std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
    {
        Some(relative) => relative.display().to_string(),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn the_line_is_found_from_the_range_or_by_counting() {
        let at = |line, column, start: Option<u32>| Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("/nowhere/m.nix"),
            line,
            column,
            range: start.map(|s| (s, s + 1)),
            message: "m".into(),
            code: None,
        };
        let text = "a\r\n\u{e9}b c\r\nlast";
        // Line 2 starts at byte 3; `c` is its third character, at byte 7.
        assert_eq!(line_of(&at(2, 4, Some(7)), text), Some("\u{e9}b c"));
        assert_eq!(line_of(&at(3, 1, Some(11)), text), Some("last"));
        // A range that is not at the line and column: the line is counted.
        assert_eq!(line_of(&at(3, 2, Some(0)), text), Some("last"));
        assert_eq!(line_of(&at(1, 1, None), text), Some("a"));
        assert_eq!(line_of(&at(9, 1, None), text), None);
    }

    #[test]
    fn renders_line_and_caret() {
        let diagnostic = Diagnostic {
            severity: Severity::Warning,
            file: PathBuf::from("/nowhere/m.nix"),
            line: 2,
            column: 3,
            range: Some((9, 14)),
            message: "something".into(),
            code: None,
        };
        let text = "{ x = 1;\n  y = 2;\n}\n";
        let rendered = render(&diagnostic, Some(text), false);
        expect_test::expect![[r#"
            warning: something
              --> /nowhere/m.nix:2:3
              |
            2 |   y = 2;
              |   ^^^^^
        "#]]
        .assert_eq(&rendered);
    }

    #[test]
    fn shows_files_below_the_current_directory_relative_to_it() {
        let cwd = std::env::current_dir().expect("a current directory");
        let diagnostic = Diagnostic {
            severity: Severity::Warning,
            file: cwd.join("micros/modules/a.nix"),
            line: 2,
            column: 7,
            range: Some((8, 21)),
            message: "{option}`x.y` names no option".into(),
            code: None,
        };
        let source = "{\n  See {option}`x.y`.\n}\n";
        expect_test::expect![[r#"
            warning: {option}`x.y` names no option
              --> micros/modules/a.nix:2:7
              |
            2 |   See {option}`x.y`.
              |       ^^^^^^^^^^^^^
        "#]]
        .assert_eq(&render(&diagnostic, Some(source), false));
    }

    #[test]
    fn renders_code_and_help() {
        let diagnostic = Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("/nowhere/m.nix"),
            line: 10,
            column: 3,
            range: Some((11, 14)),
            message: "the option `a.b` does not exist".into(),
            code: None,
        };
        let text = format!("{}  a.b = 1;\n", "\n".repeat(9));
        let rendered = render_coded(
            &diagnostic,
            Some("unknown-option"),
            Some("did you mean `a.c`?"),
            Some(&text),
            false,
        );
        expect_test::expect![[r#"
            error[unknown-option]: the option `a.b` does not exist
              --> /nowhere/m.nix:10:3
               |
            10 |   a.b = 1;
               |   ^^^
               = help: did you mean `a.c`?
        "#]]
        .assert_eq(&rendered);
    }
}
