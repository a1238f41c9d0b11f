//! Conditions a module spells (`mkIf cfg.enable`, an assertion's
//! `assertion = ...`), kept from the syntax tree in a small form of their
//! own, and decided per system from what the system defines.
//!
//! Three-valued: what cannot be decided is `None`, and anything built on
//! it too, except where Nix's own short-circuiting decides
//! (`true || x`, `false && x`, `false -> x`).

/// A condition, without positions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    Lit(Value),
    /// `config.a.b` (also through `cfg = config.a;` then `cfg.b`).
    Config(Vec<String>),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Implies(Box<Cond>, Box<Cond>),
    Eq(Box<Cond>, Box<Cond>),
    /// `lib.hasPrefix prefix string`.
    HasPrefix(Box<Cond>, Box<Cond>),
    Unknown,
}

/// A value a condition compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    /// The empty list (`cfg.dependencies != [ ]`).
    EmptyList,
    /// A list that is not empty (its items are not kept).
    List,
}

impl Cond {
    /// Decide the condition; `lookup` gives the system's value at a
    /// config path, when it is known.
    pub fn decide(&self, lookup: &mut dyn FnMut(&[String]) -> Option<Value>) -> Option<bool> {
        match self.value(lookup, 0)? {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The config paths the condition reads.
    pub fn paths(&self) -> Vec<&[String]> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(cond) = stack.pop() {
            match cond {
                Cond::Config(path) => out.push(path.as_slice()),
                Cond::Not(a) => stack.push(a),
                Cond::And(a, b)
                | Cond::Or(a, b)
                | Cond::Implies(a, b)
                | Cond::Eq(a, b)
                | Cond::HasPrefix(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                Cond::Lit(_) | Cond::Unknown => {}
            }
        }
        out
    }

    fn value(
        &self,
        lookup: &mut dyn FnMut(&[String]) -> Option<Value>,
        depth: u32,
    ) -> Option<Value> {
        // Conditions are built with a bounded depth; this is a backstop.
        if depth > 64 {
            return None;
        }
        let bool_of = |c: &Cond, lookup: &mut dyn FnMut(&[String]) -> Option<Value>| match c
            .value(lookup, depth + 1)
        {
            Some(Value::Bool(b)) => Some(b),
            _ => None,
        };
        match self {
            Cond::Lit(value) => Some(value.clone()),
            Cond::Config(path) => lookup(path),
            Cond::Not(a) => bool_of(a, lookup).map(|b| Value::Bool(!b)),
            Cond::And(a, b) => match (bool_of(a, lookup), bool_of(b, lookup)) {
                (Some(false), _) | (_, Some(false)) => Some(Value::Bool(false)),
                (Some(true), Some(true)) => Some(Value::Bool(true)),
                _ => None,
            },
            Cond::Or(a, b) => match (bool_of(a, lookup), bool_of(b, lookup)) {
                (Some(true), _) | (_, Some(true)) => Some(Value::Bool(true)),
                (Some(false), Some(false)) => Some(Value::Bool(false)),
                _ => None,
            },
            Cond::Implies(a, b) => match (bool_of(a, lookup), bool_of(b, lookup)) {
                (Some(false), _) | (_, Some(true)) => Some(Value::Bool(true)),
                (Some(true), Some(false)) => Some(Value::Bool(false)),
                _ => None,
            },
            Cond::Eq(a, b) => {
                let (a, b) = (a.value(lookup, depth + 1)?, b.value(lookup, depth + 1)?);
                match (&a, &b) {
                    // A non-empty list's items are not kept: only its
                    // emptiness is known.
                    (Value::List, Value::List) => None,
                    _ => Some(Value::Bool(a == b)),
                }
            }
            Cond::HasPrefix(prefix, string) => {
                match (
                    prefix.value(lookup, depth + 1)?,
                    string.value(lookup, depth + 1)?,
                ) {
                    (Value::Str(p), Value::Str(s)) => Some(Value::Bool(s.starts_with(&p))),
                    _ => None,
                }
            }
            Cond::Unknown => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str) -> Box<Cond> {
        Box::new(Cond::Config(path.split('.').map(String::from).collect()))
    }

    #[test]
    fn three_valued_with_short_circuits() {
        let values = |path: &[String]| match path.join(".").as_str() {
            "a.enable" => Some(Value::Bool(true)),
            "a.limit" => Some(Value::Str("--limit 1".into())),
            "a.file" => Some(Value::Null),
            _ => None,
        };
        let decide = |cond: Cond| cond.decide(&mut |p| values(p));
        assert_eq!(decide(Cond::Not(config("a.enable"))), Some(false));
        assert_eq!(
            decide(Cond::Or(config("unknown"), config("a.enable"))),
            Some(true)
        );
        assert_eq!(
            decide(Cond::And(config("unknown"), config("a.enable"))),
            None
        );
        assert_eq!(
            decide(Cond::Eq(config("a.file"), Box::new(Cond::Lit(Value::Null)))),
            Some(true)
        );
        let no_dashes = Cond::Or(
            Box::new(Cond::Eq(
                config("a.limit"),
                Box::new(Cond::Lit(Value::Null)),
            )),
            Box::new(Cond::Not(Box::new(Cond::HasPrefix(
                Box::new(Cond::Lit(Value::Str("--".into()))),
                config("a.limit"),
            )))),
        );
        assert_eq!(decide(no_dashes), Some(false));
        assert_eq!(
            decide(Cond::Implies(config("unknown"), config("a.enable"))),
            Some(true)
        );
    }
}
