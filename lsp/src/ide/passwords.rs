//! `plaintext-password`: `users.<name>.password` is written into
//! `/etc/shadow` as it is, and that file is built in the world-readable
//! Nix store, so the value must be a crypt(3) hash (or `""`, `"!"`, `"*"`).
//! The password itself never leaves this module: the message names the
//! user, and [`mask`] blanks it out of the text excerpts are cut from.

use rowan::TextRange;

use crate::analysis::db::{self, File};
use crate::analysis::lower::{Literal, Module, Node, NodeId};
use crate::analysis::resolve::Code;
use crate::ide::Diagnostic;
use micros_options::Severity;

/// The module's literal passwords that are not hashes, locks or empty.
pub fn plaintext_passwords(db: &dyn db::Db, file: File) -> Vec<Diagnostic> {
    let module = db::module(db, file);
    let map = db::source_map(db, file);
    let mut out = Vec::new();
    for (user, value) in password_literals(module) {
        let Node::Literal(Literal::Str(password)) = &module.nodes[value.0 as usize] else {
            continue;
        };
        if is_hash_or_lock(password) {
            continue;
        }
        let option = match &user {
            Some(user) => micros_options::model::show_option(&[
                "users".to_string(),
                user.clone(),
                "password".to_string(),
            ]),
            None => "users.<name>.password".to_string(),
        };
        out.push(Diagnostic {
            range: map.node(value),
            severity: Severity::Warning,
            code: Code::PlaintextPassword,
            message: format!(
                "`{option}` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store"
            ),
            help: Some(
                "set a crypt(3) hash made with `mkpasswd` (e.g. `mkpasswd -m yescrypt`); \"\" allows logging in without a password, \"!\" disables password login".into(),
            ),
            fix: None,
            related: Vec::new(),
        });
    }
    out
}

/// Every value the module gives a `users.<name>.password` (the user's
/// name when it is written out), through `mkIf`, `mkMerge`, `//`, ...
fn password_literals(module: &Module) -> Vec<(Option<String>, NodeId)> {
    crate::analysis::lower::values_at(module, &[Some("users"), None, Some("password")])
        .into_iter()
        .map(|(mut names, id)| (names.pop().flatten(), id))
        .collect()
}

/// Whether `/etc/shadow` may hold this as it is: empty (no password),
/// locked (`!` or `*`, or a hash behind `!`), or a crypt(3) hash.
pub fn is_hash_or_lock(value: &str) -> bool {
    if value.is_empty() || value == "*" {
        return true;
    }
    let unlocked = value.trim_start_matches('!');
    if unlocked.len() < value.len() && (unlocked.is_empty() || unlocked == "*") {
        return true;
    }
    is_crypt_hash(unlocked)
}

/// The schemes libxcrypt verifies, by prefix, with the length of the hash
/// (the last `$` field) where the scheme fixes it.
const SCHEMES: &[(&str, Option<usize>)] = &[
    ("$y$", Some(43)),
    ("$gy$", Some(43)),
    ("$7$", Some(43)),
    ("$2b$", Some(53)),
    ("$2a$", Some(53)),
    ("$2y$", Some(53)),
    ("$2x$", Some(53)),
    ("$6$", Some(86)),
    ("$5$", Some(43)),
    ("$sha1$", Some(28)),
    ("$md5", Some(22)),
    ("$1$", Some(22)),
    ("$3$", Some(32)),
];

/// `$id$[params$]salt$hash`, as `mkpasswd` writes it.
pub fn is_crypt_hash(value: &str) -> bool {
    let Some((prefix, length)) = SCHEMES.iter().find(|(p, _)| value.starts_with(p)) else {
        return false;
    };
    let rest = &value[prefix.len()..];
    let fields: Vec<&str> = rest.split('$').collect();
    let Some(hash) = fields.last() else {
        return false;
    };
    let crypt_alphabet = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/';
    fields.len() >= 2
        && length.is_none_or(|n| hash.len() == n)
        && hash.chars().all(crypt_alphabet)
        && fields[..fields.len() - 1]
            .iter()
            .all(|f| f.chars().all(|c| crypt_alphabet(c) || c == '=' || c == ','))
}

/// A file's text with its plaintext passwords masked, and how offsets in
/// the original text move in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    /// Each masked range of the original text (in order) and the length of
    /// what replaced it.
    cuts: Vec<(TextRange, u32)>,
}

/// What a masked password reads as: always the same, so not even its
/// length shows.
pub const MASK: &str = "********";

impl Masked {
    /// Where an offset of the original text is in the masked one (an
    /// offset inside a password goes to the mask's start).
    pub fn offset(&self, original: u32) -> u32 {
        let mut shift: i64 = 0;
        for (range, new_len) in &self.cuts {
            let (start, end) = (u32::from(range.start()), u32::from(range.end()));
            if original <= start {
                break;
            }
            if original < end {
                return (i64::from(start) + shift) as u32;
            }
            shift += i64::from(*new_len) - i64::from(end - start);
        }
        (i64::from(original) + shift).max(0) as u32
    }
}

/// The text excerpts are cut from: the content of each literal a
/// `plaintext-password` finding points at becomes [`MASK`] (its quotes
/// stay).
pub fn mask(text: &str, diagnostics: &[Diagnostic]) -> Masked {
    let mut secrets: Vec<TextRange> = diagnostics
        .iter()
        .filter(|d| d.code == Code::PlaintextPassword)
        .map(|d| inside_quotes(text, d.range))
        .filter(|r| text.get(std::ops::Range::<usize>::from(*r)).is_some())
        .collect();
    secrets.sort_by_key(|r| (r.start(), r.end()));
    secrets.dedup();
    let mut out = String::with_capacity(text.len());
    let mut cuts = Vec::new();
    let mut at = 0usize;
    for range in secrets {
        let (start, end) = (usize::from(range.start()), usize::from(range.end()));
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        cuts.push((range, MASK.len() as u32));
        at = end;
    }
    out.push_str(&text[at..]);
    Masked { text: out, cuts }
}

/// A string literal's range without its delimiters (`"` or `''`).
fn inside_quotes(text: &str, range: TextRange) -> TextRange {
    let literal = text
        .get(std::ops::Range::<usize>::from(range))
        .unwrap_or("");
    let quote: u32 = if literal.starts_with("''") && literal.ends_with("''") && literal.len() >= 4 {
        2
    } else if literal.starts_with('"') && literal.ends_with('"') && literal.len() >= 2 {
        1
    } else {
        0
    };
    TextRange::new(
        range.start() + rowan::TextSize::from(quote),
        range.end() - rowan::TextSize::from(quote),
    )
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::ide::fixture::{fixture, show_range};

    const YESCRYPT: &str =
        "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$PmNgGTLMFjJn.URBv11CpTEm5RwlKtPjRtztKe6.b33";
    const SHA512: &str = "$6$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t.iV9uH0/";

    fn check(text: &str, expected: Expect) {
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let mut out = String::new();
        for (path, file) in &f.files {
            let source = analysis.file_text(*file).unwrap();
            for d in analysis.diagnostics(*file).unwrap() {
                out.push_str(&format!(
                    "{} {} {:?} {}: {}\n",
                    path.display(),
                    show_range(&source, d.range),
                    d.severity,
                    d.code.as_str(),
                    d.message
                ));
            }
        }
        expected.assert_eq(&out);
    }

    #[test]
    fn hashes_locks_and_the_empty_password_pass() {
        for value in [
            "",
            "!",
            "*",
            "!!",
            YESCRYPT,
            SHA512,
            "$1$abcdefgh$vhxKZ/s1ygZHyCEDPyqtQ/",
            "$5$abcdefgh$XEPmEiAJvPG31m/DaIsyckkv.Sxd.8NrmElXxCKFQr/",
            "$6$rounds=10000$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t.iV9uH0/",
            "$2b$05$abcdefghijklmnopqrstuuoXuKqgZXLiJqzfmMXDDhSFPIvxV7t8.",
            "$7$CU..../....abcdefgh$g2zfZMM6gmsUWDn6gECAUVqrmH1vBgZEoNScK0/Y.y7",
            "$gy$j9T$F5Jx5fExrKuPp53xLKQ..1$pqxNhMZNzEpH0BE7/ZudIY41.ZuRdHUEOOaWBy5Vls9",
        ] {
            assert!(is_hash_or_lock(value), "{value}");
            assert!(is_hash_or_lock(&format!("!{value}")), "!{value}");
        }
        for value in [
            "hunter2",
            "!hunter2",
            "$6$hunter2",
            "$6$salt$tooshort",
            "$y$j9T$salt$has spaces in it and is not a hash at all......",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            " $6$abcdefgh$M/eYsB4rVXAm3ZNc88J.UD9rCKAT6FB1rahiwJCHtEndQNORCub5qhjxn50qbqVVthkM.9HpEwtf0t.iV9uH0/",
            "*secret",
        ] {
            assert!(!is_hash_or_lock(value), "{value}");
        }
    }

    #[test]
    fn only_plaintext_is_reported() {
        check(
            &format!(
                r#"{{ lib, ... }}: {{
  users.micros.password = "";
  users.locked.password = "!";
  users.star.password = "*";
  users.hashed.password = "{YESCRYPT}";
  users.hashedAndLocked.password = "!{SHA512}";
  users.computed.password = lib.readFile ./secret;
  users.interpolated.password = "${{lib.hash}}";
  users.alice.password = "hunter2";
  users.bob = lib.mkIf true {{ password = lib.mkDefault ''correct horse''; }};
  users.${{"carol"}} = lib.mkMerge [ {{ password = "!letmein"; }} ];
  users."dee dee".password = "p";
}}"#
            ),
            expect![[r#"
                /configuration.nix 9:26-9:35 Warning plaintext-password: `users.alice.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
                /configuration.nix 10:56-10:73 Warning plaintext-password: `users.bob.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
                /configuration.nix 11:49-11:59 Warning plaintext-password: `users.carol.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
                /configuration.nix 12:30-12:33 Warning plaintext-password: `users."dee dee".password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
            "#]],
        );
    }

    #[test]
    fn through_bindings_and_in_the_flakes_inline_modules() {
        check(
            r#"#- /flake.nix
{
  outputs = { micros, ... }: {
    packages.x86_64-linux.default = (micros.lib.microsSystem {
      modules = [ ./configuration.nix { users.root.password = "toor"; } ];
    }).config.system.build.image;
  };
}
#- /configuration.nix
{ ... }:
let pw = "s3cret"; in { users = { admin = { password = pw; }; }; }
"#,
            expect![[r#"
                /flake.nix 4:63-4:69 Warning plaintext-password: `users.root.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
                /configuration.nix 2:10-2:18 Warning plaintext-password: `users.admin.password` is a password in plain text: it goes into /etc/shadow as written, through the world-readable Nix store
            "#]],
        );
    }

    #[test]
    fn a_file_that_is_no_module_is_not_judged() {
        check(
            r#"{ lib }: { users.alice.password = "hunter2"; mkUser = name: { }; }"#,
            expect![""],
        );
    }

    #[test]
    fn masking_keeps_the_other_offsets() {
        let text = "{ users.a.password = \"hunter2\"; users.b.password = ''pässwörd''; services.getty.enable = true; }";
        let f = fixture(text);
        let analysis = f.host.snapshot();
        let diagnostics = analysis.diagnostics(f.file()).unwrap();
        let masked = mask(text, &diagnostics);
        assert_eq!(
            masked.text,
            "{ users.a.password = \"********\"; users.b.password = ''********''; services.getty.enable = true; }"
        );
        let x = text.find("services").unwrap() as u32;
        assert_eq!(&masked.text[masked.offset(x) as usize..][..8], "services");
        let inside = text.find("hunter2").unwrap() as u32 + 3;
        assert_eq!(
            masked.offset(inside),
            masked.text.find("********").unwrap() as u32
        );
        let first = &diagnostics[0];
        let start = masked.offset(first.range.start().into()) as usize;
        let end = masked.offset(first.range.end().into()) as usize;
        assert_eq!(&masked.text[start..end], "\"********\"");
    }
}
