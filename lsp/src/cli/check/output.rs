//! The four output formats: human (rustc-like), json, sarif, github.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use micros_options::report;
use serde_json::{Value, json};

use super::config::{CODES, description};
use crate::ide::Severity;

/// A diagnostic as reported: after the policy and the suppressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `None` for findings about the run (missing sources).
    pub file: Option<PathBuf>,
    /// 1-based; the end is exclusive (the character after the span).
    pub start: (u32, u32),
    pub end: (u32, u32),
    /// Byte offsets, for the caret.
    pub range: (u32, u32),
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub help: Option<String>,
    /// Other places it involves (another definition, an assertion).
    pub related: Vec<RelatedFinding>,
}

/// A place a finding refers to: 1-based line and column, as `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedFinding {
    pub file: PathBuf,
    pub start: (u32, u32),
    pub end: (u32, u32),
    pub message: String,
}

/// Everything a format needs.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    /// Checked files and their text (for source lines), by path.
    pub sources: &'a [(PathBuf, String)],
    pub cwd: &'a Path,
    pub color: bool,
}

impl Report<'_> {
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(self.cwd)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    fn source(&self, path: &Path) -> Option<&str> {
        self.sources
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, text)| text.as_str())
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// `error: 3 errors, 1 warning in 2 of 12 files` or `ok: 12 files
    /// checked`.
    pub fn summary(&self) -> String {
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let (errors, warnings) = (self.errors(), self.warnings());
        let checked = self.sources.len();
        let mut with: Vec<&PathBuf> = self
            .findings
            .iter()
            .filter_map(|f| f.file.as_ref())
            .collect();
        with.sort();
        with.dedup();
        let (label, paint) = match (errors, warnings) {
            (0, 0) => {
                return self.paint("ok", "\x1b[1;32m")
                    + &format!(": {} checked", plural(checked, "file"));
            }
            (0, _) => ("warning", "\x1b[1;33m"),
            _ => ("error", "\x1b[1;31m"),
        };
        let mut counts = Vec::new();
        if errors > 0 {
            counts.push(plural(errors, "error"));
        }
        if warnings > 0 {
            counts.push(plural(warnings, "warning"));
        }
        format!(
            "{}: {} in {} of {}",
            self.paint(label, paint),
            counts.join(", "),
            with.len(),
            plural(checked, "file")
        )
    }

    fn paint(&self, text: &str, paint: &str) -> String {
        if self.color {
            format!("{paint}{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for finding in self.findings {
            let diagnostic = micros_options::Diagnostic {
                severity: finding.severity,
                file: finding.file.clone().unwrap_or_default(),
                line: if finding.file.is_some() {
                    finding.start.0
                } else {
                    0
                },
                column: finding.start.1,
                range: Some(finding.range),
                code: None,
                message: finding.message.clone(),
            };
            let source = finding.file.as_deref().and_then(|f| self.source(f));
            let rendered = report::render_coded(
                &diagnostic,
                Some(finding.code),
                finding.help.as_deref(),
                source,
                self.color,
            );
            out.push_str(&rendered);
            for related in &finding.related {
                let _ = writeln!(
                    out,
                    "{}: {}\n  --> {}:{}:{}",
                    self.paint("note", "\x1b[1;36m"),
                    related.message,
                    self.shown(&related.file),
                    related.start.0,
                    related.start.1
                );
            }
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    pub fn json(&self) -> String {
        let diagnostics: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut d = json!({
                    "file": f.file.as_deref().map(|p| self.shown(p)),
                    "line": f.file.as_ref().map(|_| f.start.0),
                    "column": f.file.as_ref().map(|_| f.start.1),
                    "end_line": f.file.as_ref().map(|_| f.end.0),
                    "end_column": f.file.as_ref().map(|_| f.end.1),
                    "severity": severity_name(f.severity),
                    "code": f.code,
                    "message": f.message,
                });
                if let Some(help) = &f.help {
                    d["help"] = json!(help);
                }
                if !f.related.is_empty() {
                    d["related"] = f
                        .related
                        .iter()
                        .map(|r| {
                            json!({
                                "file": self.shown(&r.file),
                                "line": r.start.0,
                                "column": r.start.1,
                                "end_line": r.end.0,
                                "end_column": r.end.1,
                                "message": r.message,
                            })
                        })
                        .collect();
                }
                d
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&json!({
            "version": 1,
            "diagnostics": diagnostics,
        }))
        .unwrap_or_default();
        text.push('\n');
        text
    }

    /// SARIF 2.1.0 as GitHub code scanning reads it: one run, every code a
    /// rule, paths relative to the working directory (the checkout).
    pub fn sarif(&self) -> String {
        let rules: Vec<Value> = CODES
            .iter()
            .map(|code| {
                json!({
                    "id": code.as_str(),
                    "shortDescription": { "text": description(*code) },
                    "defaultConfiguration": {
                        "level": if code.is_warning() { "warning" } else { "error" }
                    },
                    "helpUri": format!("{}#{}", BOOK_CHAPTER, code.as_str()),
                })
            })
            .collect();
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let mut text = f.message.clone();
                if let Some(help) = &f.help {
                    text.push_str("\nhelp: ");
                    text.push_str(help);
                }
                let mut result = json!({
                    "ruleId": f.code,
                    "ruleIndex": CODES.iter().position(|c| c.as_str() == f.code).unwrap_or(0),
                    "level": if f.severity == Severity::Error { "error" } else { "warning" },
                    "message": { "text": text },
                });
                if let Some(file) = &f.file {
                    result["locations"] = json!([{
                        "physicalLocation": self.physical_location(file, f.start, f.end)
                    }]);
                }
                if !f.related.is_empty() {
                    result["relatedLocations"] = f
                        .related
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            json!({
                                "id": i,
                                "physicalLocation": self.physical_location(&r.file, r.start, r.end),
                                "message": { "text": r.message },
                            })
                        })
                        .collect();
                }
                result
            })
            .collect();
        let root = format!(
            "file://{}/",
            uri_path(&self.cwd.display().to_string()).trim_end_matches('/')
        );
        let mut text = serde_json::to_string_pretty(&json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "micros check",
                        "semanticVersion": env!("CARGO_PKG_VERSION"),
                        "informationUri": BOOK_CHAPTER,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }]
        }))
        .unwrap_or_default();
        text.push('\n');
        text
    }

    /// A SARIF location: relative to the checkout when inside it, a
    /// `file:` URI otherwise (micros's own sources).
    fn physical_location(&self, file: &Path, start: (u32, u32), end: (u32, u32)) -> Value {
        let artifact = match file.strip_prefix(self.cwd) {
            Ok(relative) => json!({
                "uri": uri_path(&relative.display().to_string()),
                "uriBaseId": "%SRCROOT%",
            }),
            Err(_) => json!({ "uri": format!("file://{}", uri_path(&file.display().to_string())) }),
        };
        json!({
            "artifactLocation": artifact,
            "region": {
                "startLine": start.0,
                "startColumn": start.1,
                "endLine": end.0,
                "endColumn": end.1,
            }
        })
    }

    /// GitHub Actions workflow commands: annotations on the pull request.
    pub fn github(&self) -> String {
        let mut out = String::new();
        for f in self.findings {
            let command = if f.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            let mut message = f.message.clone();
            if let Some(help) = &f.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            for related in &f.related {
                let _ = write!(
                    message,
                    "\nnote: {} at {}:{}:{}",
                    related.message,
                    self.shown(&related.file),
                    related.start.0,
                    related.start.1
                );
            }
            let mut properties = Vec::new();
            if let Some(file) = &f.file {
                properties.push(format!("file={}", escape_property(&self.shown(file))));
                properties.push(format!("line={}", f.start.0));
                properties.push(format!("col={}", f.start.1));
                properties.push(format!("endLine={}", f.end.0));
                // GitHub takes endColumn as the last column, inclusive.
                if f.end.0 == f.start.0 {
                    properties.push(format!(
                        "endColumn={}",
                        f.end.1.saturating_sub(1).max(f.start.1)
                    ));
                }
            }
            properties.push(format!("title={}", escape_property(f.code)));
            let _ = writeln!(
                out,
                "::{command} {}::{}",
                properties.join(","),
                escape_data(&message)
            );
        }
        out
    }
}

const BOOK_CHAPTER: &str = "https://github.com/snugnug/micros-lsp/blob/main/book/src/check.md";

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative path as a URI reference: `/` separators, percent-encoded
/// where a URI needs it.
fn uri_path(path: &str) -> String {
    let mut out = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// Workflow command data: `%`, CR and LF are encoded.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow command properties: also `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_escape_their_delimiters() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(
            uri_path("hosts/web server/ä.nix"),
            "hosts/web%20server/%C3%A4.nix"
        );
    }
}
