//! Formatting in alejandra's style (the style of the micros template), in
//! process with the `alejandra` crate, or with an external formatter the
//! user names (`micros.formatting.command`, e.g. nixfmt).
//!
//! Only text our parser accepts is formatted: a file with syntax errors
//! (or nested beyond the parser's guard) is left as it is. alejandra
//! parses with an older rnix and recurses over the tree, so it runs on a
//! thread of its own with a large stack, and a panic inside it is an
//! error, not a crash.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rnix::ast;
use rnix::{SyntaxKind, SyntaxNode};
use rowan::ast::AstNode;
use rowan::{TextRange, TextSize};

use crate::analysis::db::{self, File};
use crate::nix::process::{self, Control, Limits};

/// alejandra's recursion over a tree our guard lets through.
const FORMATTER_STACK: usize = 256 * 1024 * 1024;
/// An external formatter that takes longer is stopped.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// alejandra's time explodes on some files: past this, the file is left
/// as it is and the request answered.
pub const ALEJANDRA_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Formatter {
    #[default]
    Alejandra,
    /// A program and its arguments, reading Nix on stdin and writing the
    /// formatted text on stdout.
    Command(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The file does not parse: formatting would guess at its meaning.
    Syntax { offset: TextSize, message: String },
    /// The formatter refused or failed.
    Formatter(String),
}

impl FormatError {
    /// What the user is told, with the line of a syntax error.
    pub fn message(&self, text: &str) -> String {
        match self {
            FormatError::Syntax { offset, message } => {
                let line = text[..usize::from(*offset).min(text.len())]
                    .matches('\n')
                    .count()
                    + 1;
                format!("not formatted: line {line} has a syntax error ({message}); fix it first")
            }
            FormatError::Formatter(message) => format!("not formatted: {message}"),
        }
    }
}

/// The edits that format the whole file (none when it is formatted).
pub fn format_document(
    db: &dyn db::Db,
    file: File,
    formatter: &Formatter,
) -> Result<Vec<TextEdit>, FormatError> {
    let text = file.text(db);
    check_syntax(db, file)?;
    let formatted = format_text(formatter, text)?;
    Ok(minimal_edit(text, &formatted).into_iter().collect())
}

/// The edits that format the smallest complete binding or expression
/// covering `range`.
pub fn format_range(
    db: &dyn db::Db,
    file: File,
    range: TextRange,
    formatter: &Formatter,
) -> Result<Vec<TextEdit>, FormatError> {
    let text = file.text(db);
    check_syntax(db, file)?;
    let root = db::parse(db, file).root();
    let Some(target) = covering_piece(root.syntax(), range) else {
        return format_document(db, file, formatter);
    };
    if target.parent().is_none() || target.kind() == SyntaxKind::NODE_ROOT {
        return format_document(db, file, formatter);
    }
    let piece_range = target.text_range();
    let piece = &text[std::ops::Range::<usize>::from(piece_range)];
    let indent = line_indent(text, piece_range.start());
    let is_binding = matches!(
        target.kind(),
        SyntaxKind::NODE_ATTRPATH_VALUE | SyntaxKind::NODE_INHERIT
    );
    let formatted = if is_binding {
        // A binding alone is no Nix expression: format it in a set, then
        // take it out again.
        let wrapped = format_text(formatter, &format!("{{\n{piece}\n}}\n"))?;
        let inner: Vec<&str> = wrapped.trim_end().lines().collect();
        match inner.as_slice() {
            [open, body @ .., close] if open.trim() == "{" && close.trim() == "}" => body
                .iter()
                .map(|line| line.strip_prefix("  ").unwrap_or(line))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => {
                return Err(FormatError::Formatter(
                    "the formatter changed the binding's surroundings".into(),
                ));
            }
        }
    } else {
        format_text(formatter, piece)?.trim_end().to_string()
    };
    // The first line stays where it starts; the others follow its indent.
    let reindented: Vec<String> = formatted
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 || line.is_empty() {
                line.to_string()
            } else {
                format!("{indent}{line}")
            }
        })
        .collect();
    let replacement = reindented.join("\n");
    Ok(minimal_edit(piece, &replacement)
        .map(|edit| TextEdit {
            range: edit.range + piece_range.start(),
            replacement: edit.replacement,
        })
        .into_iter()
        .collect())
}

fn check_syntax(db: &dyn db::Db, file: File) -> Result<(), FormatError> {
    match db::parse(db, file).errors.first() {
        Some((range, message)) => Err(FormatError::Syntax {
            offset: range.start(),
            message: message.clone(),
        }),
        None => Ok(()),
    }
}

/// The binding (`a = x;`, `inherit ...;`) or expression that covers the
/// range, whichever is smaller.
fn covering_piece(root: &SyntaxNode, range: TextRange) -> Option<SyntaxNode> {
    let range = range.intersect(root.text_range())?;
    let start = match root.covering_element(range) {
        rowan::NodeOrToken::Node(node) => node,
        rowan::NodeOrToken::Token(token) => token.parent()?,
    };
    start.ancestors().find(|node| {
        matches!(
            node.kind(),
            SyntaxKind::NODE_ATTRPATH_VALUE | SyntaxKind::NODE_INHERIT
        ) || ast::Expr::can_cast(node.kind()) && !inside_attrpath(node)
    })
}

/// Names in an attribute path or `inherit` parse as expressions, but
/// formatting one alone means nothing.
fn inside_attrpath(node: &SyntaxNode) -> bool {
    node.parent().is_some_and(|p| {
        matches!(
            p.kind(),
            SyntaxKind::NODE_ATTRPATH | SyntaxKind::NODE_INHERIT
        )
    })
}

fn line_indent(text: &str, offset: TextSize) -> String {
    let line_start = text[..usize::from(offset)].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// One edit: what lies between the texts' common prefix and suffix.
fn minimal_edit(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let mut suffix = old[prefix..]
        .bytes()
        .rev()
        .zip(new[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(TextEdit {
        range: TextRange::new(
            TextSize::from(prefix as u32),
            TextSize::from((old.len() - suffix) as u32),
        ),
        replacement: new[prefix..new.len() - suffix].to_string(),
    })
}

/// The text formatted as a whole (checking its syntax is the caller's).
pub fn format_text(formatter: &Formatter, text: &str) -> Result<String, FormatError> {
    match formatter {
        Formatter::Alejandra => alejandra(text),
        Formatter::Command(argv) => external(argv, text),
    }
}

fn alejandra(text: &str) -> Result<String, FormatError> {
    if let Some(chain) = explosive_chain(text) {
        return Err(FormatError::Formatter(chain.message(text)));
    }
    if RUNAWAYS.load(Ordering::Acquire) > 0 {
        return Err(FormatError::Formatter(format!(
            "alejandra is still busy with a file it could not format in {} s; try again when it is done, or name another formatter in `micros.formatting.command`",
            ALEJANDRA_TIMEOUT.as_secs()
        )));
    }
    let input = text.to_string();
    let (send, receive) = mpsc::channel();
    let state = Arc::new(Mutex::new(Run::Running));
    let worker_state = state.clone();
    std::thread::Builder::new()
        .name("alejandra".into())
        .stack_size(FORMATTER_STACK)
        .spawn(move || {
            // Also when alejandra panics: the run is over either way.
            let _over = RunOver(worker_state);
            let _ = send.send(alejandra::format::in_memory(String::new(), input));
        })
        .map_err(|e| FormatError::Formatter(format!("cannot start the formatter: {e}")))?;
    match receive.recv_timeout(ALEJANDRA_TIMEOUT) {
        Ok((alejandra::format::Status::Changed(_), formatted)) => Ok(formatted),
        Ok((alejandra::format::Status::Error(message), _)) => Err(FormatError::Formatter(format!(
            "alejandra cannot read this file: {message}"
        ))),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let mut run = state.lock().unwrap_or_else(|e| e.into_inner());
            if *run == Run::Running {
                *run = Run::Abandoned;
                RUNAWAYS.fetch_add(1, Ordering::AcqRel);
            }
            Err(FormatError::Formatter(format!(
                "alejandra did not finish this file in {} s (its time grows steeply with long applications spread over many lines); the file is left as it is",
                ALEJANDRA_TIMEOUT.as_secs()
            )))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(FormatError::Formatter(
            "alejandra failed on this file".into(),
        )),
    }
}

/// How much of a chain alejandra is given. Its time doubles with each
/// level of a call (`f a b ...`) or a curried lambda (`a: b: ...`) that has
/// a line break before it, and grows with the cube of the chain's length
/// besides (measured here, release build: 15 levels on lines of their own
/// take 75 ms, 18 half a second, 22 ten seconds; 14 such levels and 40 on
/// one line, 2.2 s). A run that is given up goes on burning a core, so
/// chains whose estimate (2^broken x levels^3) is past this are refused
/// before it starts: 16 levels on lines of their own still format.
pub const MAX_CHAIN_COST: u64 = (1 << 16) * 16 * 16 * 16;

/// A call or curried lambda written over several lines that alejandra
/// cannot format in time (see [`MAX_CHAIN_COST`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExplosiveChain {
    start: TextSize,
    levels: usize,
    broken: usize,
    lambda: bool,
}

impl ExplosiveChain {
    fn message(&self, text: &str) -> String {
        let line = text[..usize::from(self.start).min(text.len())]
            .matches('\n')
            .count()
            + 1;
        let what = if self.lambda {
            format!(
                "the function on line {line} has {} curried parameters, {} of them after a line break",
                self.levels, self.broken
            )
        } else {
            format!(
                "the call on line {line} has {} arguments, {} of them after a line break (is it a list without its `[ ]`?)",
                self.levels, self.broken
            )
        };
        format!(
            "alejandra's time grows exponentially with a call or curried function written over several lines, and {what}; the file is left as it is"
        )
    }

    fn cost(levels: usize, broken: usize) -> u64 {
        let cube = (levels as u64).saturating_pow(3);
        match u32::try_from(broken) {
            Ok(broken) if broken < 64 => (1u64 << broken).saturating_mul(cube),
            _ => u64::MAX,
        }
    }
}

/// The first chain in `text` alejandra cannot format in time.
fn explosive_chain(text: &str) -> Option<ExplosiveChain> {
    let (green, _) = micros_options::syntax::parse(text);
    let root = SyntaxNode::new_root(green);
    // The next link of a chain: a call's function, a lambda's body.
    let link = |node: &SyntaxNode| match node.kind() {
        SyntaxKind::NODE_APPLY => node.first_child(),
        SyntaxKind::NODE_LAMBDA => node.last_child(),
        _ => None,
    };
    let broken = |node: &SyntaxNode| {
        node.children_with_tokens()
            .filter_map(|child| child.into_token())
            .any(|token| {
                token.kind() == SyntaxKind::TOKEN_COMMENT
                    || token.kind() == SyntaxKind::TOKEN_WHITESPACE && token.text().contains('\n')
            })
    };
    for head in root.descendants() {
        let kind = head.kind();
        if !matches!(kind, SyntaxKind::NODE_APPLY | SyntaxKind::NODE_LAMBDA) {
            continue;
        }
        // Only from a chain's top, so each chain is walked once.
        if head
            .parent()
            .is_some_and(|parent| parent.kind() == kind && link(&parent).as_ref() == Some(&head))
        {
            continue;
        }
        let (mut levels, mut broken_levels) = (0, 0);
        let mut node = Some(head.clone());
        while let Some(level) = node.filter(|n| n.kind() == kind) {
            levels += 1;
            broken_levels += usize::from(broken(&level));
            node = link(&level);
        }
        if ExplosiveChain::cost(levels, broken_levels) > MAX_CHAIN_COST {
            return Some(ExplosiveChain {
                start: head.text_range().start(),
                levels,
                broken: broken_levels,
                lambda: kind == SyntaxKind::NODE_LAMBDA,
            });
        }
    }
    None
}

/// Where a run of alejandra is: a thread cannot be stopped, so one that
/// is given up on runs on, abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Running,
    Abandoned,
    Done,
}

/// Abandoned runs still going: while there is one, no other starts, so a
/// file that sends alejandra into a long run cannot pile them up.
static RUNAWAYS: AtomicUsize = AtomicUsize::new(0);

/// Marks a run over when its thread ends.
struct RunOver(Arc<Mutex<Run>>);

impl Drop for RunOver {
    fn drop(&mut self) {
        let mut run = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if *run == Run::Abandoned {
            RUNAWAYS.fetch_sub(1, Ordering::AcqRel);
        }
        *run = Run::Done;
    }
}

fn external(argv: &[String], text: &str) -> Result<String, FormatError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(FormatError::Formatter(
            "`micros.formatting.command` is empty".into(),
        ));
    };
    let mut command = Command::new(program);
    command.args(args);
    let mut stderr = Vec::new();
    let limits = Limits {
        timeout: Some(COMMAND_TIMEOUT),
        memory_bytes: None,
    };
    let finished = process::run_with_input(
        command,
        Some(text.as_bytes().to_vec()),
        limits,
        &mut |line| {
            if stderr.len() < 5 {
                stderr.push(line.to_string());
            }
            Control::Continue
        },
    )
    .map_err(|error| {
        FormatError::Formatter(match error {
            process::RunError::NotFound => {
                format!("`{program}` is not installed (micros.formatting.command)")
            }
            process::RunError::Spawn(e) => format!("cannot run `{program}`: {e}"),
            process::RunError::TimedOut(t) => {
                format!("`{program}` did not finish within {} s", t.as_secs())
            }
        })
    })?;
    if !finished.status.success() {
        return Err(FormatError::Formatter(format!(
            "`{program}` failed ({}){}",
            finished.status,
            if stderr.is_empty() {
                String::new()
            } else {
                format!(": {}", stderr.join(" "))
            }
        )));
    }
    String::from_utf8(finished.stdout)
        .map_err(|_| FormatError::Formatter(format!("`{program}` wrote text that is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use rowan::TextRange;

    use super::*;
    use crate::ide::fixture::fixture;

    fn apply(text: &str, edits: &[TextEdit]) -> String {
        let mut out = text.to_string();
        for edit in edits.iter().rev() {
            out.replace_range(
                std::ops::Range::<usize>::from(edit.range),
                &edit.replacement,
            );
        }
        out
    }

    fn format(text: &str, formatter: &Formatter) -> Result<String, FormatError> {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let edits = analysis
            .format(f.file(), None, formatter.clone())
            .unwrap()?;
        Ok(apply(text, &edits))
    }

    /// A chain of `levels` levels, each part on a line of its own.
    fn chain(levels: usize, lambda: bool) -> String {
        let parts: Vec<String> = (0..levels).map(|i| format!("p{i}")).collect();
        if lambda {
            format!("{{\n  x = {}:\n    1;\n}}\n", parts.join(":\n    "))
        } else {
            format!("{{\n  x = f\n    {};\n}}\n", parts.join("\n    "))
        }
    }

    #[test]
    fn chains_alejandra_cannot_finish_are_refused_before_it_starts() {
        for lambda in [false, true] {
            let started = std::time::Instant::now();
            let error = format_text(&Formatter::Alejandra, &chain(40, lambda)).unwrap_err();
            let FormatError::Formatter(message) = error else {
                panic!("{error:?}");
            };
            assert!(message.contains("on line 2 has 40"), "{message}");
            assert!(
                message.contains("40 of them after a line break"),
                "{message}"
            );
            assert_eq!(message.contains("list without"), !lambda, "{message}");
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            // The longest chain given to alejandra (in a debug build it
            // takes seconds there, so only the decision is tested).
            assert_eq!(explosive_chain(&chain(16, lambda)), None);
            assert!(explosive_chain(&chain(17, lambda)).is_some());
        }
        // Arguments on one line cost far less than those after breaks.
        let ten_and_forty = chain(10, false).replace(
            "p9",
            &(0..40)
                .map(|i| format!("q{i}"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        assert_eq!(explosive_chain(&ten_and_forty), None);
        assert!(format_text(&Formatter::Alejandra, &chain(8, false)).is_ok());
        // Found by the server fuzz target: a call over lines inside an
        // interpolation took the whole timeout.
        let paths: Vec<String> = (0..30).map(|i| format!("./p/{i}.nix")).collect();
        let text = format!("{{\n  x = [\"a=${{f {}}}\"];\n}}\n", paths.join("\n  "));
        let Err(FormatError::Formatter(message)) = format_text(&Formatter::Alejandra, &text) else {
            panic!("formatted");
        };
        assert!(
            message.contains("has 30 arguments, 29 of them"),
            "{message}"
        );
    }

    #[test]
    fn documents_come_out_in_alejandras_style() {
        let text = "{config,lib,...}: {\nservices.getty.enable=true;\n  users.alice = {uid=1000; packages=[ ];};\n}";
        let formatted = format(text, &Formatter::Alejandra).unwrap();
        assert_eq!(
            formatted,
            "{\n  config,\n  lib,\n  ...\n}: {\n  services.getty.enable = true;\n  users.alice = {\n    uid = 1000;\n    packages = [];\n  };\n}\n"
        );
        // Formatted text gives no edit.
        let f = fixture(&formatted);
        let analysis = f.host.snapshot();
        let edits = analysis
            .format(f.file(), None, Formatter::Alejandra)
            .unwrap()
            .unwrap();
        assert!(edits.is_empty(), "{edits:?}");
    }

    #[test]
    fn a_file_with_syntax_errors_is_left_alone() {
        let text = "{\n  a = 1;\n  b = ;\n}\n";
        let error = format(text, &Formatter::Alejandra).unwrap_err();
        assert!(matches!(error, FormatError::Syntax { .. }), "{error:?}");
        assert!(
            error.message(text).contains("line 3"),
            "{}",
            error.message(text)
        );
        // Nesting past the parser's guard is an error too, never a crash.
        let deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
        assert!(matches!(
            format(&deep, &Formatter::Alejandra),
            Err(FormatError::Syntax { .. })
        ));
    }

    #[test]
    fn deep_but_accepted_nesting_formats_on_its_own_stack() {
        // Just inside the parser's guard (1,000 levels).
        let deep = format!("{}1{}", "[ ".repeat(900), " ]".repeat(900));
        let formatted = format(&deep, &Formatter::Alejandra).unwrap();
        assert_eq!(
            formatted,
            format!("{}1{}\n", "[".repeat(900), "]".repeat(900))
        );
    }

    #[test]
    fn a_range_formats_the_binding_around_it() {
        let text = "{\n  a = {x=1;y=2;};\n  b = {x=1;};\n}\n";
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let start = text.find("x=1;y").unwrap() as u32;
        let range = TextRange::new(start.into(), (start + 1).into());
        // The cursor on `x` of `x=1`: that binding.
        let edits = analysis
            .format(f.file(), Some(range), Formatter::Alejandra)
            .unwrap()
            .unwrap();
        assert_eq!(
            apply(text, &edits),
            "{\n  a = {x = 1;y=2;};\n  b = {x=1;};\n}\n"
        );
        // The whole first line: the binding `a`, re-indented.
        let start = text.find("a =").unwrap() as u32;
        let end = text.find("\n  b").unwrap() as u32;
        let range = TextRange::new(start.into(), end.into());
        let edits = analysis
            .format(f.file(), Some(range), Formatter::Alejandra)
            .unwrap()
            .unwrap();
        assert_eq!(
            apply(text, &edits),
            "{\n  a = {\n    x = 1;\n    y = 2;\n  };\n  b = {x=1;};\n}\n"
        );
    }

    #[test]
    fn an_external_command_formats_through_stdin() {
        let text = "{ a = 1; }\n";
        let upper = Formatter::Command(vec!["tr".into(), "a".into(), "b".into()]);
        assert_eq!(format(text, &upper).unwrap(), "{ b = 1; }\n");
        let failing = Formatter::Command(vec![
            "sh".into(),
            "-c".into(),
            "echo cannot parse >&2; exit 1".into(),
        ]);
        let error = format(text, &failing).unwrap_err();
        assert!(error.message(text).contains("cannot parse"), "{error:?}");
        let missing = Formatter::Command(vec!["/nonexistent/nixfmt".into()]);
        let error = format(text, &missing).unwrap_err();
        assert!(error.message(text).contains("not installed"), "{error:?}");
    }
}
