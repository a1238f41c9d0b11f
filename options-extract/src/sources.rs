//! Finding the sources to extract from: the micros tree, the nixpkgs tree
//! its modules come from, and the user's own modules.
//!
//! Order: an explicit directory, then `MICROS_SRC` / `MICROS_NIXPKGS`, then
//! the `flake.lock` of the nearest flake, whose locked inputs are looked up
//! in the local Nix store by the path Nix derives from their `narHash`.

use std::path::{Path, PathBuf};

use rnix::ast::{self, HasEntry};
use rowan::ast::AstNode;
use sha2::{Digest, Sha256};

use crate::eval::{Evaluator, Value};
use crate::extract::{ExtractRequest, ModuleSource, Root};
use crate::model::RootKind;

pub const MICROS_ENV: &str = "MICROS_SRC";
pub const NIXPKGS_ENV: &str = "MICROS_NIXPKGS";
/// Where Nix keeps its store unless NIX_STORE_DIR says otherwise (Nix
/// honours it too, and store paths are hashed with it).
const STORE_DIR: &str = "/nix/store";

fn store_dir() -> PathBuf {
    std::env::var_os("NIX_STORE_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(|| PathBuf::from(STORE_DIR), PathBuf::from)
}

/// Where each source comes from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    Flag,
    Env(&'static str),
    FlakeLock { lock: PathBuf, input: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub dir: PathBuf,
    pub provenance: Provenance,
}

/// A source that could not be found, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub what: &'static str,
    pub message: String,
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SourceFlags {
    pub micros: Option<PathBuf>,
    pub nixpkgs: Option<PathBuf>,
}

/// How the explicit source settings are spelled where the user gave them,
/// so messages name what the user can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingNames {
    /// `--micros DIR`, `--nixpkgs DIR`.
    CommandLine,
    /// `micros.source`, `micros.nixpkgs` in an editor's settings.
    Editor,
}

impl SettingNames {
    fn name(self, input: &str) -> &'static str {
        match (self, input) {
            (SettingNames::CommandLine, "micros") => "--micros",
            (SettingNames::CommandLine, _) => "--nixpkgs",
            (SettingNames::Editor, "micros") => "`micros.source`",
            (SettingNames::Editor, _) => "`micros.nixpkgs`",
        }
    }

    fn how(self, input: &str, env: &str) -> String {
        let checkout = if input == "micros" {
            "snugnug/micros"
        } else {
            "nixpkgs"
        };
        let name = self.name(input);
        match self {
            SettingNames::CommandLine => {
                format!("pass {name} DIR or set {env}=DIR to a checkout of {checkout}")
            }
            SettingNames::Editor => format!(
                "set {name} in the editor's settings (or {env} in the server's environment) to a checkout of {checkout}"
            ),
        }
    }
}

/// The directory an environment variable (`MICROS_SRC`, `MICROS_NIXPKGS`)
/// names; set but empty counts as unset.
pub fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Find the micros tree.
pub fn locate_micros(flags: &SourceFlags, start: &Path) -> Result<Located, SourceError> {
    locate_micros_as(flags, start, SettingNames::CommandLine)
}

/// Find the micros tree; messages name the settings as `names` spells them.
pub fn locate_micros_as(
    flags: &SourceFlags,
    start: &Path,
    names: SettingNames,
) -> Result<Located, SourceError> {
    locate(
        flags.micros.as_deref(),
        MICROS_ENV,
        "micros",
        start,
        check_micros_tree,
        names,
    )
}

/// Find the nixpkgs tree (only its `lib/` and the few NixOS modules micros
/// imports are read).
pub fn locate_nixpkgs(flags: &SourceFlags, start: &Path) -> Result<Located, SourceError> {
    locate_nixpkgs_as(flags, start, SettingNames::CommandLine)
}

/// Find the nixpkgs tree; messages name the settings as `names` spells them.
pub fn locate_nixpkgs_as(
    flags: &SourceFlags,
    start: &Path,
    names: SettingNames,
) -> Result<Located, SourceError> {
    locate(
        flags.nixpkgs.as_deref(),
        NIXPKGS_ENV,
        "nixpkgs",
        start,
        check_nixpkgs_tree,
        names,
    )
}

fn locate(
    flag: Option<&Path>,
    env: &'static str,
    input: &'static str,
    start: &Path,
    check: fn(&Path) -> Result<(), String>,
    names: SettingNames,
) -> Result<Located, SourceError> {
    let flag_name = names.name(input);
    if let Some(dir) = flag {
        check(dir).map_err(|m| SourceError {
            what: input,
            message: match names {
                SettingNames::CommandLine => format!("{flag_name} {}: {m}", dir.display()),
                SettingNames::Editor => format!("{flag_name} is {}: {m}", dir.display()),
            },
        })?;
        return Ok(Located {
            dir: dir.to_path_buf(),
            provenance: Provenance::Flag,
        });
    }
    if let Some(dir) = env_dir(env) {
        check(&dir).map_err(|m| SourceError {
            what: input,
            message: format!("{env}={}: {m}", dir.display()),
        })?;
        return Ok(Located {
            dir,
            provenance: Provenance::Env(env),
        });
    }
    let how = names.how(input, env);
    let Some(lock) = find_flake_lock(start) else {
        // A flake not locked yet (fresh from `micros init` or `nix flake
        // init`): `nix flake lock` is the fix.
        let unlocked = start
            .ancestors()
            .map(|dir| dir.join("flake.nix"))
            .find(|flake| flake.is_file());
        let message = match unlocked {
            Some(flake) => format!(
                "the {input} source tree was not found: {} has no flake.lock yet (run `nix flake lock`), or {how}",
                flake.display()
            ),
            None => format!(
                "the {input} source tree was not found: no flake.lock above {}; {how}",
                start.display()
            ),
        };
        return Err(SourceError {
            what: input,
            message,
        });
    };
    let dir = locked_input_store_path(&lock, input).map_err(|m| SourceError {
        what: input,
        message: format!("the {input} source tree was not found: {m}; {how}"),
    })?;
    check(&dir).map_err(|m| SourceError {
        what: input,
        message: format!("{} (from {}): {m}; {how}", dir.display(), lock.display()),
    })?;
    Ok(Located {
        dir,
        provenance: Provenance::FlakeLock {
            lock,
            input: input.to_string(),
        },
    })
}

fn check_micros_tree(dir: &Path) -> Result<(), String> {
    if dir.join("micros/modules/all-modules.nix").is_file() {
        Ok(())
    } else if !dir.exists() {
        Err("no such directory".into())
    } else {
        Err("not a micros tree (no micros/modules/all-modules.nix)".into())
    }
}

fn check_nixpkgs_tree(dir: &Path) -> Result<(), String> {
    if dir.join("lib/types.nix").is_file() || dir.join("nixos/modules").is_dir() {
        Ok(())
    } else if !dir.exists() {
        Err("no such directory".into())
    } else {
        Err("not a nixpkgs tree (no lib/types.nix or nixos/modules)".into())
    }
}

/// The nearest `flake.lock` at or above `start`.
pub fn find_flake_lock(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .map(|dir| dir.join("flake.lock"))
        .find(|lock| lock.is_file())
}

/// The `locked` attributes of an input of the root flake (`micros`, or
/// `nixpkgs`, which may be reached through `micros`'s `follows`).
pub fn locked_input(
    lock: &Path,
    input: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let text = std::fs::read_to_string(lock)
        .map_err(|e| format!("cannot read {}: {e}", lock.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a flake.lock: {e}",
            lock.display(),
            e.line(),
            e.column()
        )
    })?;
    let nodes = json
        .get("nodes")
        .and_then(|n| n.as_object())
        .ok_or_else(|| format!("{} has no `nodes`", lock.display()))?;
    let root_name = json.get("root").and_then(|r| r.as_str()).unwrap_or("root");
    let root = nodes
        .get(root_name)
        .ok_or_else(|| format!("{} has no root node", lock.display()))?;
    let node_name = match resolve_input(nodes, root, input, root_name) {
        Some(name) => name,
        None if input == "nixpkgs" => {
            // `micros.inputs.nixpkgs` when the root has no nixpkgs of its own.
            let micros = resolve_input(nodes, root, "micros", root_name)
                .and_then(|m| nodes.get(&m))
                .ok_or_else(|| format!("{} locks no `nixpkgs` input", lock.display()))?;
            resolve_input(nodes, micros, "nixpkgs", root_name)
                .ok_or_else(|| format!("{} locks no `nixpkgs` input", lock.display()))?
        }
        None => return Err(format!("{} locks no `{input}` input", lock.display())),
    };
    nodes
        .get(&node_name)
        .and_then(|n| n.get("locked"))
        .and_then(|l| l.as_object())
        .cloned()
        .ok_or_else(|| format!("input `{input}` in {} is not locked", lock.display()))
}

/// The store path of a locked input of the root flake (see [`locked_input`]).
pub fn locked_input_store_path(lock: &Path, input: &str) -> Result<PathBuf, String> {
    let locked = locked_input(lock, input)?;
    if locked.get("type").and_then(|t| t.as_str()) == Some("path")
        && let Some(path) = locked.get("path").and_then(|p| p.as_str())
    {
        return Ok(PathBuf::from(path));
    }
    let nar_hash = locked
        .get("narHash")
        .and_then(|h| h.as_str())
        .ok_or_else(|| format!("input `{input}` in {} has no narHash", lock.display()))?;
    let store_path = store_path_from_nar_hash(nar_hash, "source")
        .ok_or_else(|| format!("input `{input}` has a malformed narHash `{nar_hash}`"))?;
    if !store_path.exists() {
        let rev = locked.get("rev").and_then(|r| r.as_str()).unwrap_or("?");
        return Err(format!(
            "input `{input}` (rev {rev}) is locked in {} but {} is not in the Nix store (fetch it with `nix flake archive`)",
            lock.display(),
            store_path.display()
        ));
    }
    Ok(store_path)
}

/// An input's node name, following `follows` paths (`["nixpkgs"]`).
fn resolve_input(
    nodes: &serde_json::Map<String, serde_json::Value>,
    node: &serde_json::Value,
    input: &str,
    root_name: &str,
) -> Option<String> {
    match node.get("inputs")?.get(input)? {
        serde_json::Value::String(name) => Some(name.clone()),
        serde_json::Value::Array(path) => {
            let mut current = nodes.get(root_name)?;
            let mut name = root_name.to_string();
            for segment in path {
                name = resolve_input(nodes, current, segment.as_str()?, root_name)?;
                current = nodes.get(&name)?;
            }
            Some(name)
        }
        _ => None,
    }
}

/// The store path Nix gives a tree fetched with this NAR hash (a
/// recursive, sha256 fixed-output path named `name`) in this machine's store.
pub fn store_path_from_nar_hash(nar_hash: &str, name: &str) -> Option<PathBuf> {
    store_path_in(&store_dir(), nar_hash, name)
}

/// The same in the store at `store_dir`.
pub fn store_path_in(store_dir: &Path, nar_hash: &str, name: &str) -> Option<PathBuf> {
    let store_dir = store_dir.to_str()?;
    let digest = match nar_hash.strip_prefix("sha256-") {
        Some(b64) => decode_base64(b64)?,
        None => decode_nix32(nar_hash.strip_prefix("sha256:")?)?,
    };
    if digest.len() != 32 {
        return None;
    }
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let fingerprint = format!("source:sha256:{hex}:{store_dir}:{name}");
    let hash = Sha256::digest(fingerprint.as_bytes());
    // Nix folds the digest to 20 bytes by XOR before printing it.
    let mut folded = [0u8; 20];
    for (i, byte) in hash.iter().enumerate() {
        folded[i % 20] ^= byte;
    }
    Some(PathBuf::from(format!(
        "{store_dir}/{}-{name}",
        encode_nix32(&folded)
    )))
}

const NIX32_ALPHABET: &[u8] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Nix's base-32 (its own alphabet, least significant digit last).
pub fn encode_nix32(bytes: &[u8]) -> String {
    let len = (bytes.len() * 8 - 1) / 5 + 1;
    let mut out = String::with_capacity(len);
    for n in (0..len).rev() {
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        let low = bytes[i] as u32 >> j;
        let high = if i + 1 < bytes.len() {
            (bytes[i + 1] as u32) << (8 - j)
        } else {
            0
        };
        out.push(NIX32_ALPHABET[((low | high) & 0x1f) as usize] as char);
    }
    out
}

fn decode_nix32(text: &str) -> Option<Vec<u8>> {
    let size = text.len() * 5 / 8;
    let mut out = vec![0u8; size];
    for (n, c) in text.bytes().rev().enumerate() {
        let digit = NIX32_ALPHABET.iter().position(|&a| a == c)? as u32;
        let bit = n * 5;
        let (i, j) = (bit / 8, bit % 8);
        if i < size {
            out[i] |= (digit << j) as u8;
        }
        if j > 3 && i + 1 < size {
            out[i + 1] |= (digit >> (8 - j)) as u8;
        }
    }
    Some(out)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The micros modules (`all-modules.nix`) plus the nixpkgs modules that
/// `micros/lib/eval-config.nix` imports, read from that file.
pub fn micros_request(micros: &Path, nixpkgs: Option<&Path>) -> Result<ExtractRequest, String> {
    let mut request = ExtractRequest {
        roots: vec![Root {
            kind: RootKind::Micros,
            dir: micros.to_path_buf(),
        }],
        modules: vec![ModuleSource::File(
            micros.join("micros/modules/all-modules.nix"),
        )],
        skip_imports: false,
    };
    if let Some(nixpkgs) = nixpkgs {
        request.roots.push(Root {
            kind: RootKind::Nixpkgs,
            dir: nixpkgs.to_path_buf(),
        });
        for module in nixpkgs_modules(micros, nixpkgs)? {
            request.modules.push(ModuleSource::File(module));
        }
    }
    Ok(request)
}

/// The paths of the `nixpkgsModules` binding in micros's eval-config.nix,
/// evaluated with `nixpkgs` bound to the nixpkgs tree.
pub fn nixpkgs_modules(micros: &Path, nixpkgs: &Path) -> Result<Vec<PathBuf>, String> {
    let path = micros.join("micros/lib/eval-config.nix");
    let mut eval = Evaluator::new(&[micros.to_path_buf()]);
    let file = eval.load_file(&path)?;
    let root = eval
        .file(file)
        .root
        .clone()
        .and_then(ast::Root::cast)
        .and_then(|r| r.expr());
    let binding = root.and_then(|expr| find_let_binding(&expr, "nixpkgsModules"));
    let Some(expr) = binding else {
        return Err(format!(
            "{}: no `nixpkgsModules` binding; cannot tell which nixpkgs modules micros imports",
            path.display()
        ));
    };
    let value =
        eval.eval_with_bindings(&expr, file, vec![("nixpkgs", Value::Path(nixpkgs.into()))]);
    let Value::List(items) = value else {
        return Err(format!(
            "{}: `nixpkgsModules` is not a list of paths",
            path.display()
        ));
    };
    let mut modules = Vec::new();
    for item in items.iter() {
        match eval.force(item) {
            Value::Str(s) => modules.push(PathBuf::from(&*s)),
            Value::Path(p) => modules.push(p.to_path_buf()),
            _ => {
                return Err(format!(
                    "{}: an entry of `nixpkgsModules` is not a path",
                    path.display()
                ));
            }
        }
    }
    Ok(modules)
}

/// The value of `name` in the outermost `let` of a file (looking through
/// the module function).
fn find_let_binding(expr: &ast::Expr, name: &str) -> Option<ast::Expr> {
    let mut current = expr.clone();
    for _ in 0..8 {
        current = match current {
            ast::Expr::Lambda(lambda) => lambda.body()?,
            ast::Expr::Paren(paren) => paren.expr()?,
            ast::Expr::LetIn(let_in) => {
                for entry in let_in.attrpath_values() {
                    let path = entry.attrpath()?;
                    let mut attrs = path.attrs();
                    if let (Some(ast::Attr::Ident(ident)), None) = (attrs.next(), attrs.next())
                        && ident.syntax().text() == name
                    {
                        return entry.value();
                    }
                }
                let_in.body()?
            }
            _ => return None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nix32_round_trips() {
        let bytes: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37)).collect();
        let text = encode_nix32(&bytes);
        assert_eq!(text.len(), 52);
        assert_eq!(decode_nix32(&text).unwrap(), bytes);
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
    }
}
