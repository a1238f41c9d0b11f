//! Getting a source archive (https, http or a local file) and unpacking it,
//! with limits: an archive is data from the network, so its size, its
//! number of entries and where its entries go are all bounded.

use std::io::Read;
use std::path::{Component, Path};
use std::time::Duration;

/// Compressed bytes read from one archive, at most.
const MAX_DOWNLOAD: u64 = 1 << 30;
/// Bytes unpacked from one archive, at most (nixpkgs is about 400 MiB).
const MAX_UNPACKED: u64 = 4 << 30;
/// Entries in one archive, at most (nixpkgs has about 60,000).
const MAX_ENTRIES: usize = 1_000_000;

/// Open the archive at `url` for reading: `https://`, `http://` or
/// `file://`.
pub fn open(url: &str, timeout: Duration) -> Result<Box<dyn Read>, String> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = percent_decode(path);
        let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
        return Ok(Box::new(file.take(MAX_DOWNLOAD)));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "{url}: only https, http and file URLs can be downloaded"
        ));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .user_agent(concat!("micros/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| format!("{url}: {e}"))?;
    let reader = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD)
        .reader();
    Ok(Box::new(reader))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unpack a tar archive (gzip-compressed or not) into `dest`, which must
/// be empty. Only files, directories, symbolic and hard links are
/// created; an entry that would land outside `dest` is an error.
pub fn unpack(reader: Box<dyn Read>, dest: &Path, what: &str) -> Result<(), String> {
    let mut reader = std::io::BufReader::new(reader);
    let gzip = {
        use std::io::BufRead;
        let head = reader.fill_buf().map_err(|e| format!("{what}: {e}"))?;
        head.starts_with(&[0x1f, 0x8b])
    };
    let reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::GzDecoder::new(reader))
    } else {
        Box::new(reader)
    };
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_mtime(false);
    archive.set_overwrite(false);
    let mut unpacked = 0u64;
    let entries = archive
        .entries()
        .map_err(|e| format!("{what}: not a tar archive: {e}"))?;
    for (count, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| format!("{what}: a broken archive: {e}"))?;
        if count >= MAX_ENTRIES {
            return Err(format!("{what}: more than {MAX_ENTRIES} entries"));
        }
        use tar::EntryType as T;
        match entry.header().entry_type() {
            T::Regular | T::Continuous | T::Directory | T::Symlink | T::Link => {}
            // Global pax headers (GitHub's commit comment) carry no file.
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => continue,
            other => {
                return Err(format!(
                    "{what}: an entry of a kind a source tree does not have ({other:?})"
                ));
            }
        }
        let path = entry
            .path()
            .map_err(|e| format!("{what}: an entry with a bad name: {e}"))?
            .into_owned();
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return Err(format!(
                "{what}: the entry {} would be written outside the tree",
                path.display()
            ));
        }
        unpacked += entry.header().size().unwrap_or(0);
        if unpacked > MAX_UNPACKED {
            return Err(format!(
                "{what}: unpacks to more than {} GiB",
                MAX_UNPACKED >> 30
            ));
        }
        let inside = entry
            .unpack_in(dest)
            .map_err(|e| format!("{what}: cannot unpack {}: {e}", path.display()))?;
        if !inside {
            return Err(format!(
                "{what}: the entry {} would be written outside the tree",
                path.display()
            ));
        }
    }
    Ok(())
}

/// The tree an archive holds: its single top-level directory, as Nix
/// takes it.
pub fn single_top_level(dest: &Path, what: &str) -> Result<std::path::PathBuf, String> {
    let entries: Vec<_> = std::fs::read_dir(dest)
        .map_err(|e| format!("{}: {e}", dest.display()))?
        .flatten()
        .collect();
    match entries.as_slice() {
        [only] if only.file_type().is_ok_and(|t| t.is_dir()) => Ok(only.path()),
        _ => Err(format!(
            "{what}: the archive has {} top-level entries; a source archive has one directory",
            entries.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_are_decoded() {
        assert_eq!(percent_decode("/a%20b/c.tar.gz"), "/a b/c.tar.gz");
        assert_eq!(percent_decode("/a%2"), "/a%2");
    }

    #[test]
    fn other_schemes_are_refused() {
        let error = open("ftp://example.org/x.tar.gz", Duration::from_secs(1))
            .err()
            .expect("refused");
        assert!(error.contains("only https, http and file URLs"), "{error}");
    }
}
