//! `lib.generators.toPretty { multiline = true; }`: how nixpkgs renders a
//! plain default or example value as Nix text.

use super::{Evaluator, Value};
use crate::model::{is_nix_identifier, quote_nix_string};

/// Render `value`; `None` if some part of it cannot be known.
pub fn to_pretty(eval: &mut Evaluator, value: &Value) -> Option<String> {
    let mut out = String::new();
    go(eval, value, "", &mut out, 0)?;
    Some(out)
}

/// Deeper than this, a value is not worth showing in documentation.
const MAX_PRETTY_DEPTH: u32 = 64;

fn go(
    eval: &mut Evaluator,
    value: &Value,
    indent: &str,
    out: &mut String,
    depth: u32,
) -> Option<()> {
    if depth > MAX_PRETTY_DEPTH {
        return None;
    }
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
                let item = eval.force(item);
                out.push_str(&intro);
                go(eval, &item, &inner, out, depth + 1)?;
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
                let item = eval.force(&entry.thunk.clone());
                out.push_str(&intro);
                if is_nix_identifier(name) {
                    out.push_str(name);
                } else {
                    out.push_str(&quote_nix_string(name));
                }
                out.push_str(" = ");
                go(eval, &item, &inner, out, depth + 1)?;
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

/// `builtins.toString` of a float: six significant decimals, trailing
/// zeros trimmed, as Nix prints them.
fn format_float(f: f64) -> String {
    let text = format!("{f:.6}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_string()
}
