//! Reports in the style of rustc: severity and message, the position, the
//! source line and a caret under what is meant.

use std::fmt::Write as _;
use std::path::Path;

use micros_options::{Diagnostic, Severity};

/// `file` is shown relative to `cwd` when it lies below it.
pub fn render(
    diagnostic: &Diagnostic,
    source: Option<&str>,
    cwd: Option<&Path>,
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
    let mut out = format!(
        "{paint}{label}{reset}{bold}: {}{reset}\n",
        diagnostic.message
    );
    let shown = cwd
        .and_then(|cwd| diagnostic.file.strip_prefix(cwd).ok())
        .unwrap_or(&diagnostic.file);
    if diagnostic.line == 0 {
        let _ = write!(out, "  {blue}-->{reset} {}", shown.display());
        return out;
    }
    let line_no = diagnostic.line.to_string();
    let gutter = " ".repeat(line_no.len());
    let _ = write!(
        out,
        "{gutter}{blue}-->{reset} {}:{}:{}",
        shown.display(),
        diagnostic.line,
        diagnostic.column
    );
    let line = source.and_then(|s| s.lines().nth(diagnostic.line as usize - 1));
    if let Some(line) = line {
        let start = diagnostic.column.saturating_sub(1) as usize;
        let width = diagnostic
            .range
            .map(|(s, e)| e.saturating_sub(s) as usize)
            .unwrap_or(1)
            .clamp(1, line.chars().count().saturating_sub(start).max(1));
        let _ = write!(
            out,
            "\n{gutter} {blue}|{reset}\n{blue}{line_no} |{reset} {line}\n{gutter} {blue}|{reset} {}{paint}{}{reset}",
            " ".repeat(start),
            "^".repeat(width)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn points_at_the_reference() {
        let diagnostic = Diagnostic {
            severity: Severity::Warning,
            file: PathBuf::from("/src/micros/modules/a.nix"),
            line: 2,
            column: 7,
            range: Some((20, 33)),
            message: "{option}`x.y` names no option".into(),
        };
        let source = "{\n  See {option}`x.y`.\n}\n";
        expect_test::expect![[r#"
            warning: {option}`x.y` names no option
             --> micros/modules/a.nix:2:7
              |
            2 |   See {option}`x.y`.
              |       ^^^^^^^^^^^^^"#]]
        .assert_eq(&render(
            &diagnostic,
            Some(source),
            Some(Path::new("/src")),
            false,
        ));
    }
}
