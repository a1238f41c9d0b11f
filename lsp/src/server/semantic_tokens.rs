//! Semantic tokens at the edge: the legend negotiated with the client, the
//! relative UTF-16 encoding, and deltas against the last result.

use tower_lsp_server::ls_types as lsp;

use super::line_index::LineIndex;
use crate::ide::semantic_tokens::{Modifiers, SemanticToken, TokenKind};

/// The LSP types each kind may be shown as, best first.
fn preferences(kind: TokenKind) -> &'static [&'static str] {
    match kind {
        TokenKind::Keyword => &["keyword"],
        TokenKind::Operator => &["operator"],
        TokenKind::String => &["string"],
        TokenKind::Path => &["string"],
        TokenKind::Number => &["number"],
        TokenKind::Comment => &["comment"],
        TokenKind::Variable => &["variable"],
        TokenKind::Parameter => &["parameter", "variable"],
        TokenKind::Property => &["property", "variable"],
        TokenKind::Function => &["function", "method", "variable"],
        TokenKind::Namespace => &["namespace", "variable"],
        TokenKind::Constant => &["enumMember", "keyword", "variable"],
    }
}

fn modifier_name(modifier: Modifiers) -> &'static str {
    match modifier {
        Modifiers::DECLARATION => "declaration",
        Modifiers::DEPRECATED => "deprecated",
        Modifiers::READONLY => "readonly",
        _ => "defaultLibrary",
    }
}

/// What the client understands, mapped to indices of our legend.
#[derive(Debug, Clone, Default)]
pub struct Legend {
    types: Vec<&'static str>,
    modifiers: Vec<&'static str>,
    /// For each kind, its index in `types` (none: the token is left out).
    kind_index: Vec<Option<u32>>,
    /// For each of our modifier bits, its bit in the client's set.
    modifier_bits: Vec<Option<u32>>,
    pub multiline: bool,
}

impl Legend {
    /// Only types and modifiers the client lists (all of ours when it
    /// lists none, as some clients do).
    pub fn negotiate(client: Option<&lsp::SemanticTokensClientCapabilities>) -> Legend {
        let known = |list: &[&str], name: &str| list.is_empty() || list.contains(&name);
        let client_types: Vec<&str> = client
            .map(|c| c.token_types.iter().map(|t| t.as_str()).collect())
            .unwrap_or_default();
        let client_modifiers: Vec<&str> = client
            .map(|c| c.token_modifiers.iter().map(|m| m.as_str()).collect())
            .unwrap_or_default();
        let mut legend = Legend {
            multiline: client.and_then(|c| c.multiline_token_support) == Some(true),
            ..Legend::default()
        };
        for kind in TokenKind::ALL {
            let chosen = preferences(kind)
                .iter()
                .find(|name| known(&client_types, name));
            let index = chosen.map(|name| match legend.types.iter().position(|t| t == name) {
                Some(i) => i as u32,
                None => {
                    legend.types.push(name);
                    legend.types.len() as u32 - 1
                }
            });
            legend.kind_index.push(index);
        }
        for modifier in Modifiers::ALL {
            let name = modifier_name(modifier);
            if known(&client_modifiers, name) {
                legend.modifiers.push(name);
                legend
                    .modifier_bits
                    .push(Some(legend.modifiers.len() as u32 - 1));
            } else {
                legend.modifier_bits.push(None);
            }
        }
        legend
    }

    pub fn to_lsp(&self) -> lsp::SemanticTokensLegend {
        lsp::SemanticTokensLegend {
            token_types: self
                .types
                .iter()
                .map(|t| lsp::SemanticTokenType::new(t))
                .collect(),
            token_modifiers: self
                .modifiers
                .iter()
                .map(|m| lsp::SemanticTokenModifier::new(m))
                .collect(),
        }
    }

    fn index_of(&self, kind: TokenKind) -> Option<u32> {
        let i = TokenKind::ALL.iter().position(|k| *k == kind)?;
        self.kind_index.get(i).copied().flatten()
    }

    fn bits(&self, modifiers: Modifiers) -> u32 {
        Modifiers::ALL
            .iter()
            .zip(&self.modifier_bits)
            .filter(|(m, _)| modifiers.contains(**m))
            .filter_map(|(_, bit)| *bit)
            .fold(0, |bits, bit| bits | 1 << bit)
    }

    /// The tokens as LSP's relative encoding; a token over several lines
    /// becomes one per line unless the client takes multi-line tokens.
    pub fn encode(&self, tokens: &[SemanticToken], index: &LineIndex) -> Vec<lsp::SemanticToken> {
        let text = index.text();
        let mut out = Vec::with_capacity(tokens.len());
        let (mut last_line, mut last_start) = (0u32, 0u32);
        for token in tokens {
            let Some(token_type) = self.index_of(token.kind) else {
                continue;
            };
            let modifiers = self.bits(token.modifiers);
            let start = index.position(token.range.start());
            let content = &text[std::ops::Range::<usize>::from(token.range)];
            let mut pieces = Vec::new();
            if self.multiline || !content.contains('\n') {
                pieces.push((start, utf16_len(content)));
            } else {
                let mut position = start;
                for line in content.split('\n') {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if !line.is_empty() {
                        pieces.push((position, utf16_len(line)));
                    }
                    position = lsp::Position {
                        line: position.line + 1,
                        character: 0,
                    };
                }
            }
            for (position, length) in pieces {
                let delta_line = position.line - last_line;
                let delta_start = if delta_line == 0 {
                    position.character - last_start
                } else {
                    position.character
                };
                out.push(lsp::SemanticToken {
                    delta_line,
                    delta_start,
                    length,
                    token_type,
                    token_modifiers_bitset: modifiers,
                });
                (last_line, last_start) = (position.line, position.character);
            }
        }
        out
    }
}

fn utf16_len(text: &str) -> u32 {
    text.chars().map(|c| c.len_utf16() as u32).sum()
}

/// One edit from `old` to `new`: what lies between their common prefix
/// and common suffix (in whole tokens, as clients apply edits to the
/// array of integers).
pub fn delta(
    old: &[lsp::SemanticToken],
    new: &[lsp::SemanticToken],
) -> Vec<lsp::SemanticTokensEdit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let deleted = old.len() - prefix - suffix;
    let inserted = &new[prefix..new.len() - suffix];
    if deleted == 0 && inserted.is_empty() {
        return Vec::new();
    }
    vec![lsp::SemanticTokensEdit {
        start: (prefix * 5) as u32,
        delete_count: (deleted * 5) as u32,
        data: Some(inserted.to_vec()),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rowan::TextRange;

    fn token(start: u32, end: u32, kind: TokenKind) -> SemanticToken {
        SemanticToken {
            range: TextRange::new(start.into(), end.into()),
            kind,
            modifiers: Modifiers::DEFAULT_LIBRARY,
        }
    }

    #[test]
    fn the_legend_keeps_to_what_the_client_knows() {
        let client = lsp::SemanticTokensClientCapabilities {
            token_types: ["variable", "keyword", "string"]
                .map(lsp::SemanticTokenType::new)
                .to_vec(),
            token_modifiers: vec![lsp::SemanticTokenModifier::new("defaultLibrary")],
            ..Default::default()
        };
        let legend = Legend::negotiate(Some(&client));
        let lsp = legend.to_lsp();
        let types: Vec<&str> = lsp.token_types.iter().map(|t| t.as_str()).collect();
        assert_eq!(types, ["keyword", "string", "variable"]);
        assert_eq!(lsp.token_modifiers.len(), 1);
        // Properties fall back to variables; operators are left out.
        let index = LineIndex::new("a + b");
        let tokens = [
            token(0, 1, TokenKind::Property),
            token(2, 3, TokenKind::Operator),
            token(4, 5, TokenKind::Function),
        ];
        let encoded = legend.encode(&tokens, &index);
        assert_eq!(encoded.len(), 2);
        assert_eq!(
            (encoded[0].token_type, encoded[0].token_modifiers_bitset),
            (2, 1)
        );
        assert_eq!((encoded[1].delta_start, encoded[1].token_type), (4, 2));
        // A client that lists nothing gets everything.
        assert_eq!(Legend::negotiate(None).to_lsp().token_types.len(), 11);
    }

    #[test]
    fn multi_line_tokens_are_split_per_line_in_utf16() {
        let text = "x = ''\n  é😀\n'';";
        let index = LineIndex::new(text);
        let legend = Legend::negotiate(None);
        let encoded = legend.encode(
            &[token(4, text.len() as u32 - 1, TokenKind::String)],
            &index,
        );
        let shape: Vec<(u32, u32, u32)> = encoded
            .iter()
            .map(|t| (t.delta_line, t.delta_start, t.length))
            .collect();
        assert_eq!(shape, [(0, 4, 2), (1, 0, 5), (1, 0, 2)]);
    }

    #[test]
    fn a_delta_replaces_only_what_changed() {
        let t = |n: u32| lsp::SemanticToken {
            delta_line: n,
            ..Default::default()
        };
        let edits = delta(&[t(1), t(2), t(3), t(4)], &[t(1), t(9), t(9), t(4)]);
        assert_eq!(edits.len(), 1);
        assert_eq!((edits[0].start, edits[0].delete_count), (5, 10));
        assert_eq!(edits[0].data.as_ref().unwrap(), &[t(9), t(9)]);
        assert!(delta(&[t(1)], &[t(1)]).is_empty());
        let appended = delta(&[t(1)], &[t(1), t(1)]);
        assert_eq!((appended[0].start, appended[0].delete_count), (5, 0));
    }
}
