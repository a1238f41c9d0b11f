//! The search index: mdbook's, with the options added.
//!
//! mdbook indexes the book it built (where the option pages held only a
//! marker); its index stores each document's text, so the index is written
//! anew here from those texts plus one document per option, with mdbook's
//! fields and word splitting and elasticlunr's English pipeline, in the form
//! mdbook's search script loads. It is built compactly (postings per word,
//! words analyzed on every core in chunks) and streamed to the file, since
//! elasticlunr's own index costs about 100 bytes per posting.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use elasticlunr::Language as _;
use elasticlunr::lang::English;
use rayon::prelude::*;
use serde::Deserialize;

use crate::book::OPTIONS_DIR;
use crate::reference::Page;

const PREFIX: &str = "window.search = Object.assign(window.search, JSON.parse('";
const SUFFIX: &str = "'));";
const FIELDS: [&str; 3] = ["title", "body", "breadcrumbs"];

#[derive(Deserialize)]
struct Stored {
    results_options: serde_json::Value,
    search_options: serde_json::Value,
    doc_urls: Vec<String>,
    index: StoredIndex,
}

#[derive(Deserialize)]
struct StoredIndex {
    #[serde(rename = "documentStore")]
    document_store: StoredDocs,
}

#[derive(Deserialize)]
struct StoredDocs {
    docs: BTreeMap<String, BTreeMap<String, String>>,
}

/// A document's three fields, in [`FIELDS`] order.
type Doc = [String; 3];
/// The documents of a word, with how often it occurs in each (the term
/// frequency is its square root, computed when written).
type Postings = Vec<(u32, u32)>;
/// A document's words per field, with their counts, and its word count per
/// field.
type Analyzed = ([Vec<(String, u32)>; 3], [usize; 3]);

/// Words as mdbook's search splits them: at whitespace and hyphens,
/// lowercased, at most 80 bytes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|w| !w.is_empty() && w.len() <= 80)
        .map(str::to_lowercase)
        .collect()
}

fn index_file(site: &Path) -> Result<PathBuf, String> {
    std::fs::read_dir(site)
        .map_err(|e| format!("{}: cannot read: {e}", site.display()))?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("searchindex") && n.ends_with(".js"))
        })
        .ok_or_else(|| format!("{}: mdbook wrote no search index", site.display()))
}

/// Undo the string escaping of the `JSON.parse('...')` literal.
fn unescape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len());
    let mut chars = literal.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Add a document per option to the site's search index. `parents` are the
/// names above the group pages (for the results' breadcrumbs).
/// The pages' search documents are moved into the index.
pub fn add_options(site: &Path, groups: &mut [Page], parents: &[String]) -> Result<(), String> {
    let path = index_file(site)?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let literal = text
        .trim_end()
        .strip_prefix(PREFIX)
        .and_then(|t| t.strip_suffix(SUFFIX))
        .ok_or_else(|| format!("{}: not a search index this version knows", path.display()))?;
    let mut stored: Stored = serde_json::from_str(&unescape(literal))
        .map_err(|e| format!("{}: cannot read the search index: {e}", path.display()))?;
    drop(text);

    let mut urls = std::mem::take(&mut stored.doc_urls);
    let mut docs: Vec<Doc> = (0..urls.len())
        .map(|i| {
            let doc = stored.index.document_store.docs.remove(&i.to_string());
            let field = |name: &str| {
                doc.as_ref()
                    .and_then(|d| d.get(name))
                    .cloned()
                    .unwrap_or_default()
            };
            [field("title"), field("body"), field("breadcrumbs")]
        })
        .collect();
    let parents = parents.join(" » ");
    for page in groups {
        let page_url = format!("{OPTIONS_DIR}/{}.html", page.file.trim_end_matches(".md"));
        for doc in std::mem::take(&mut page.search) {
            urls.push(format!("{page_url}#{}", doc.anchor));
            // The title holds the name and its parts: words are split at
            // spaces, and "getty" should find services.getty.enable.
            let parts: Vec<&str> = doc
                .name
                .split(['.', '"'])
                .map(|s| s.trim_start_matches('<').trim_end_matches('>'))
                .filter(|s| !s.is_empty() && *s != "*")
                .collect();
            docs.push([
                format!("{} {}", doc.name, parts.join(" ")),
                doc.body,
                format!("{parents} » {} » {}", page.title, doc.name),
            ]);
        }
    }
    let postings = invert(&docs);

    let io = |e: std::io::Error| format!("{}: cannot write: {e}", path.display());
    let file = std::fs::File::create(&path).map_err(io)?;
    let mut raw = std::io::BufWriter::with_capacity(1 << 16, file);
    raw.write_all(PREFIX.as_bytes()).map_err(io)?;
    let mut out = JsString(&mut raw);
    write_json(&mut out, &stored, &urls, &docs, &postings).map_err(io)?;
    raw.write_all(SUFFIX.as_bytes()).map_err(io)?;
    raw.flush().map_err(io)
}

/// For each field: word → (document, term frequency), and each document's
/// word count per field.
struct Inverted {
    words: [Vec<(String, Postings)>; 3],
    lengths: Vec<[usize; 3]>,
}

fn invert(docs: &[Doc]) -> Inverted {
    let mut maps: [HashMap<String, Postings>; 3] = Default::default();
    let mut lengths = Vec::with_capacity(docs.len());
    // Chunks bound the memory of analyzed words waiting to be merged.
    for (chunk_no, chunk) in docs.chunks(4096).enumerate() {
        let analyzed: Vec<Analyzed> = chunk
            .par_iter()
            .map_init(
                || English::new().make_pipeline(),
                |pipeline, doc| {
                    let mut fields: [Vec<(String, u32)>; 3] = Default::default();
                    let mut counts = [0; 3];
                    for (f, text) in doc.iter().enumerate() {
                        let tokens = pipeline.run(words(text));
                        counts[f] = tokens.len();
                        let mut freq: HashMap<String, u32> = HashMap::new();
                        for token in tokens {
                            *freq.entry(token).or_insert(0) += 1;
                        }
                        fields[f] = freq.into_iter().collect();
                    }
                    (fields, counts)
                },
            )
            .collect();
        for (i, (fields, counts)) in analyzed.into_iter().enumerate() {
            let doc = (chunk_no * 4096 + i) as u32;
            for (f, tokens) in fields.into_iter().enumerate() {
                for (token, tf) in tokens {
                    maps[f].entry(token).or_default().push((doc, tf));
                }
            }
            lengths.push(counts);
        }
    }
    let words = maps.map(|map| {
        let mut words: Vec<(String, Postings)> = map.into_iter().collect();
        words.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        words
    });
    Inverted { words, lengths }
}

/// Escapes for a JavaScript string literal in single quotes.
struct JsString<'w, W: Write>(&'w mut W);

impl<W: Write> Write for JsString<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if b == b'\\' || b == b'\'' {
                self.0.write_all(&buf[start..i])?;
                self.0.write_all(b"\\")?;
                start = i;
            }
        }
        self.0.write_all(&buf[start..])?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn json_string(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, s).map_err(std::io::Error::other)
}

fn write_json(
    w: &mut impl Write,
    stored: &Stored,
    urls: &[String],
    docs: &[Doc],
    postings: &Inverted,
) -> std::io::Result<()> {
    let value = |w: &mut dyn Write, v: &serde_json::Value| {
        serde_json::to_writer(w, v).map_err(std::io::Error::other)
    };
    w.write_all(b"{\"results_options\":")?;
    value(w, &stored.results_options)?;
    w.write_all(b",\"search_options\":")?;
    value(w, &stored.search_options)?;
    w.write_all(b",\"doc_urls\":[")?;
    for (i, url) in urls.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        json_string(w, url)?;
    }
    w.write_all(b"],\"index\":{\"version\":\"0.9.5\",\"fields\":[\"title\",\"body\",\"breadcrumbs\"],\"ref\":\"id\",")?;
    w.write_all(b"\"documentStore\":{\"save\":true,\"docs\":{")?;
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{i}\":{{\"id\":\"{i}\"")?;
        for (f, text) in doc.iter().enumerate() {
            write!(w, ",\"{}\":", FIELDS[f])?;
            json_string(w, text)?;
        }
        w.write_all(b"}")?;
    }
    w.write_all(b"},\"docInfo\":{")?;
    for (i, counts) in postings.lengths.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(
            w,
            "\"{i}\":{{\"title\":{},\"body\":{},\"breadcrumbs\":{}}}",
            counts[0], counts[1], counts[2]
        )?;
    }
    write!(w, "}},\"length\":{}}},\"index\":{{", docs.len())?;
    for (f, words) in postings.words.iter().enumerate() {
        if f > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{}\":{{\"root\":", FIELDS[f])?;
        write_node(w, words, 0)?;
        w.write_all(b"}")?;
    }
    w.write_all(
        b"},\"pipeline\":[\"trimmer\",\"stopWordFilter\",\"stemmer\"],\"lang\":\"English\"}}",
    )
}

/// One node of elasticlunr's character trie: the documents of the word
/// that ends here, their count, and a child per next character. `words`
/// are sorted and share their first `depth` bytes.
fn write_node(
    w: &mut impl Write,
    words: &[(String, Postings)],
    depth: usize,
) -> std::io::Result<()> {
    let (here, mut rest) = match words.first() {
        Some((word, postings)) if word.len() == depth => (Some(postings), &words[1..]),
        _ => (None, words),
    };
    w.write_all(b"{\"docs\":{")?;
    let mut buf = String::new();
    if let Some(postings) = here {
        for (i, &(doc, count)) in postings.iter().enumerate() {
            buf.clear();
            if i > 0 {
                buf.push(',');
            }
            let tf = f64::from(count).sqrt();
            let _ = write!(buf, "\"{doc}\":{{\"tf\":{tf:?}}}");
            w.write_all(buf.as_bytes())?;
        }
    }
    write!(w, "}},\"df\":{}", here.map_or(0, Vec::len))?;
    while let Some((word, _)) = rest.first() {
        let c = word[depth..]
            .chars()
            .next()
            .expect("longer than the prefix");
        let end = depth + c.len_utf8();
        let group = rest
            .iter()
            .position(|(other, _)| {
                other.len() < end || other.as_bytes()[depth..end] != word.as_bytes()[depth..end]
            })
            .unwrap_or(rest.len());
        w.write_all(b",")?;
        json_string(w, c.encode_utf8(&mut [0; 4]))?;
        w.write_all(b":")?;
        write_node(w, &rest[..group], end)?;
        rest = &rest[group..];
    }
    w.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_mdbook() {
        assert_eq!(
            words("Services.Getty.enable is-on\tnow"),
            ["services.getty.enable", "is", "on", "now"]
        );
    }

    /// The index written here is the one elasticlunr itself would write
    /// (as mdbook does) for the same documents.
    #[test]
    fn same_index_as_elasticlunr() {
        let docs: Vec<Doc> = [
            [
                "services.getty.enable services getty enable",
                "Whether to enable getty. Type: boolean",
                "Options » services » services.getty.enable",
            ],
            [
                "users.<name>.uid users name uid",
                "The user's UID; UIDs below 1000 are system users. Type: 16 bit unsigned integer",
                "Options » users » users.<name>.uid",
            ],
            [
                "Getting started",
                "Install the toolchain — then run micros-docgen.",
                "Getting started",
            ],
        ]
        .map(|d| d.map(String::from))
        .into();
        let mut reference = elasticlunr::IndexBuilder::new()
            .add_field_with_tokenizer("title", Box::new(words))
            .add_field_with_tokenizer("body", Box::new(words))
            .add_field_with_tokenizer("breadcrumbs", Box::new(words))
            .build();
        for (i, doc) in docs.iter().enumerate() {
            reference.add_doc(&i.to_string(), doc);
        }
        let expected: serde_json::Value = serde_json::from_str(&reference.to_json()).expect("json");

        let stored = Stored {
            results_options: serde_json::json!({}),
            search_options: serde_json::json!({}),
            doc_urls: Vec::new(),
            index: StoredIndex {
                document_store: StoredDocs {
                    docs: BTreeMap::new(),
                },
            },
        };
        let urls: Vec<String> = (0..docs.len()).map(|i| format!("page{i}.html")).collect();
        let mut written = Vec::new();
        write_json(&mut written, &stored, &urls, &docs, &invert(&docs)).expect("write");
        let ours: serde_json::Value = serde_json::from_slice(&written).expect("valid json");
        assert_eq!(ours["index"], expected);
    }

    #[test]
    fn js_literal_escaping() {
        let json = r#"{"a":"it's \"q\""}"#;
        let mut out = Vec::new();
        JsString(&mut out)
            .write_all(json.as_bytes())
            .expect("write");
        let literal = String::from_utf8(out).expect("utf-8");
        assert_eq!(literal, r#"{"a":"it\'s \\"q\\""}"#);
        assert_eq!(unescape(&literal), json);
    }

    #[test]
    fn unescapes_the_literal() {
        assert_eq!(
            unescape(r#"{"a":"it\'s \\"x\\" \\\\"}"#),
            r#"{"a":"it's \"x\" \\"}"#
        );
    }
}
