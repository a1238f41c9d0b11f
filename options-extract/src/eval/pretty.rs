//! `lib.generators.toPretty { multiline = true; }`: how nixpkgs renders a
//! plain default or example value as Nix text.

use rowan::TextRange;

use super::{Evaluator, FileId, Value};
use crate::model::{is_nix_identifier, quote_nix_string};

/// Render `value`; `None` if some part of it cannot be known. A value that
/// contains itself (`d = { inner = d; }`) is reported where it does so, as
/// `toPretty` would never finish it; every node rendered costs a step.
pub fn to_pretty(eval: &mut Evaluator, value: &Value) -> Option<String> {
    let mut out = String::new();
    let mut render = Render {
        inside: Vec::new(),
        site: None,
    };
    render.go(eval, value, "", &mut out)?;
    Some(out)
}

/// Deeper than this, a value is not worth showing in documentation.
const MAX_PRETTY_DEPTH: usize = 64;

struct Render {
    /// The lists and sets being rendered, outermost first.
    inside: Vec<*const ()>,
    /// Where the value being rendered is written, when known.
    site: Option<(FileId, TextRange)>,
}

impl Render {
    fn go(
        &mut self,
        eval: &mut Evaluator,
        value: &Value,
        indent: &str,
        out: &mut String,
    ) -> Option<()> {
        let key = match value {
            Value::List(items) => Some(items.as_ptr() as *const ()),
            Value::Attrs(attrs) => Some(std::rc::Rc::as_ptr(attrs) as *const ()),
            _ => None,
        };
        let Some(key) = key else {
            return self.node(eval, value, indent, out);
        };
        if self.inside.contains(&key) {
            if let Some((file, range)) = self.site {
                eval.report_recursion(
                    file,
                    range,
                    "infinite recursion encountered: this value contains itself",
                );
            }
            return None;
        }
        if self.inside.len() > MAX_PRETTY_DEPTH || !eval.spend(1) {
            return None;
        }
        self.inside.push(key);
        let rendered = self.node(eval, value, indent, out);
        self.inside.pop();
        rendered
    }

    /// `go` for one thunk, remembering where it is written.
    fn thunk(
        &mut self,
        eval: &mut Evaluator,
        thunk: &super::Thunk,
        origin: Option<(FileId, TextRange)>,
        indent: &str,
        out: &mut String,
    ) -> Option<()> {
        let outer = self.site;
        if let Some(site) = thunk.pending_range().or(origin) {
            self.site = Some(site);
        }
        let value = eval.force(thunk);
        let rendered = self.go(eval, &value, indent, out);
        self.site = outer;
        rendered
    }

    fn node(
        &mut self,
        eval: &mut Evaluator,
        value: &Value,
        indent: &str,
        out: &mut String,
    ) -> Option<()> {
        let intro = format!("\n{indent}  ");
        let outro = format!("\n{indent}");
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&format_float(*f)),
            Value::Str(s) => {
                let lines: Vec<&str> = s.split('\n').collect();
                if lines.len() > 1 {
                    let escaped: Vec<String> = lines
                        .iter()
                        .map(|l| l.replace("${", "''${").replace("''", "'''"))
                        .collect();
                    out.push_str("''");
                    let (last, init) = escaped.split_last().expect("split gives one line at least");
                    for line in init {
                        out.push_str(&intro);
                        out.push_str(line);
                    }
                    if last.is_empty() {
                        out.push_str(&outro);
                    } else {
                        out.push_str(&intro);
                        out.push_str(last);
                    }
                    out.push_str("''");
                } else {
                    out.push_str(&quote_nix_string(s));
                }
            }
            Value::Path(p) => out.push_str(&p.display().to_string()),
            Value::List(items) => {
                if items.is_empty() {
                    out.push_str("[ ]");
                    return Some(());
                }
                out.push('[');
                let inner = format!("{indent}  ");
                for item in items.iter() {
                    out.push_str(&intro);
                    self.thunk(eval, item, None, &inner, out)?;
                }
                out.push_str(&outro);
                out.push(']');
            }
            Value::Attrs(attrs) => {
                if attrs.entries.is_empty() {
                    out.push_str("{ }");
                    return Some(());
                }
                // A literal (`literalExpression` nested in a value) renders as its text.
                if let (Some(ty), Some(text)) = (attrs.get("_type"), attrs.get("text")) {
                    let (ty, text) = (
                        eval.force(&ty.thunk.clone()),
                        eval.force(&text.thunk.clone()),
                    );
                    if let (Value::Str(ty), Value::Str(text)) = (ty, text)
                        && matches!(&*ty, "literalExpression" | "literalMD")
                    {
                        out.push_str(&text);
                        return Some(());
                    }
                }
                if let Some(kind) = attrs.get("type") {
                    let kind = eval.force(&kind.thunk.clone());
                    if matches!(&kind, Value::Str(s) if &**s == "derivation") {
                        out.push_str("<derivation>");
                        return Some(());
                    }
                }
                out.push('{');
                let inner = format!("{indent}  ");
                for (name, entry) in &attrs.entries {
                    out.push_str(&intro);
                    if is_nix_identifier(name) {
                        out.push_str(name);
                    } else {
                        out.push_str(&quote_nix_string(name));
                    }
                    out.push_str(" = ");
                    let origin = entry.origin.as_ref().map(|o| (o.file, o.entry));
                    self.thunk(eval, &entry.thunk.clone(), origin, &inner, out)?;
                    out.push(';');
                }
                out.push_str(&outro);
                out.push('}');
            }
            Value::Lambda(_) | Value::Prim(_) => out.push_str("<function>"),
            Value::Type(_) | Value::Unknown(_) => return None,
        }
        Some(())
    }
}

/// `builtins.toString` of a float: six significant decimals, trailing
/// zeros trimmed, as Nix prints them.
fn format_float(f: f64) -> String {
    let text = format!("{f:.6}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_string()
}
