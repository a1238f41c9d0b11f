//! The NAR hash of a directory tree: sha256 of its Nix archive
//! serialisation, as `narHash` in a flake.lock records it.
//!
//! The serialisation: every string is its length (u64, little endian),
//! its bytes and zeros up to a multiple of eight. The archive is
//! `"nix-archive-1"` then the root node; a node is `(` `type` and either
//! `regular` (`executable` `""` when the owner may execute it, then
//! `contents` and the bytes), `symlink` (`target` and the link's text) or
//! `directory` (per entry, sorted by name bytes: `entry` `(` `name` N
//! `node` <node> `)`), then `)`. Nothing else (times, owners, other
//! permission bits) is recorded.

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Deeper trees than this are refused: the recursion follows the tree, and
/// no source tree nests this deep.
const MAX_DEPTH: usize = 256;

/// The sha256 digest of the tree's NAR serialisation.
pub fn nar_hash(root: &Path) -> Result<[u8; 32], String> {
    let mut hasher = Sha256::new();
    string(&mut hasher, b"nix-archive-1");
    node(&mut hasher, root, 0)?;
    Ok(hasher.finalize().into())
}

/// The digest as Nix writes it in a flake.lock (`sha256-<base64>`).
pub fn sri(digest: &[u8; 32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("sha256-");
    for chunk in digest.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn string(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
    pad(hasher, bytes.len() as u64);
}

fn pad(hasher: &mut Sha256, len: u64) {
    let rest = (8 - len % 8) % 8;
    hasher.update(&[0u8; 8][..rest as usize]);
}

fn node(hasher: &mut Sha256, path: &Path, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{}: nested deeper than {MAX_DEPTH} directories",
            path.display()
        ));
    }
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    string(hasher, b"(");
    string(hasher, b"type");
    let kind = meta.file_type();
    if kind.is_symlink() {
        string(hasher, b"symlink");
        string(hasher, b"target");
        let target = std::fs::read_link(path).map_err(io)?;
        string(hasher, target.as_os_str().as_bytes());
    } else if kind.is_file() {
        string(hasher, b"regular");
        if meta.permissions().mode() & 0o100 != 0 {
            string(hasher, b"executable");
            string(hasher, b"");
        }
        string(hasher, b"contents");
        let mut file = std::fs::File::open(path).map_err(io)?;
        hasher.update(meta.len().to_le_bytes());
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        if total != meta.len() {
            return Err(format!("{}: changed while it was read", path.display()));
        }
        pad(hasher, total);
    } else if kind.is_dir() {
        string(hasher, b"directory");
        let mut entries: Vec<std::ffi::OsString> = std::fs::read_dir(path)
            .map_err(io)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        entries.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in entries {
            string(hasher, b"entry");
            string(hasher, b"(");
            string(hasher, b"name");
            string(hasher, name.as_bytes());
            string(hasher, b"node");
            node(hasher, &path.join(&name), depth + 1)?;
            string(hasher, b")");
        }
    } else {
        return Err(format!(
            "{}: neither a file, a directory nor a symbolic link",
            path.display()
        ));
    }
    string(hasher, b")");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("micros-nar-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        dir
    }

    /// A tree with every kind of node. The expected hash is what
    /// `nix hash path` (Nix 2.8) prints for the same tree; `fixture_nar_hash`
    /// in lsp/tests/cli_fetch.rs compares with a live Nix when there is one.
    pub(crate) fn make_tree(root: &Path) {
        std::fs::create_dir_all(root.join("sub/empty")).expect("mkdir");
        std::fs::write(root.join("a.txt"), "hello\n").expect("write");
        std::fs::write(root.join("sub/run.sh"), "#!/bin/sh\necho hi\n").expect("write");
        std::fs::set_permissions(
            root.join("sub/run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
        std::fs::write(root.join("B"), "eight!!!").expect("write");
        std::os::unix::fs::symlink("../a.txt", root.join("sub/link")).expect("symlink");
    }

    #[test]
    fn hashes_a_tree_as_nix_does() {
        let root = scratch("tree");
        make_tree(&root);
        let digest = nar_hash(&root).expect("hash");
        assert_eq!(
            sri(&digest),
            "sha256-rwR7HVx7GlW0vJgWakbc1pSNottxFhvOfA2t9pAQdd8="
        );
        // Times and other permission bits are not part of it; content is.
        std::fs::set_permissions(root.join("a.txt"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        assert_eq!(nar_hash(&root).expect("hash"), digest);
        std::fs::write(root.join("a.txt"), "hellO\n").expect("write");
        assert_ne!(nar_hash(&root).expect("hash"), digest);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn base64_as_nix_writes_it() {
        // sha256 of nothing, as `nix hash to-sri` prints it.
        let empty: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(
            sri(&empty),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
