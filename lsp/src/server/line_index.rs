//! Byte offsets inside, UTF-16 line/character positions at the edge.

use rowan::{TextRange, TextSize};
use tower_lsp_server::ls_types::{Position, Range};

#[derive(Debug, Clone)]
pub struct LineIndex {
    text: String,
    line_starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        LineIndex {
            text: text.to_string(),
            line_starts,
        }
    }

    /// A position past the end of its line (or of the file) is clamped
    /// there: clients send such positions, and they must not break anything.
    pub fn offset(&self, position: Position) -> TextSize {
        let line = (position.line as usize).min(self.line_starts.len() - 1);
        let start = self.line_starts[line] as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next as usize - 1);
        let mut units = 0u32;
        let mut offset = start;
        for c in self.text[start..end].chars() {
            if units >= position.character {
                break;
            }
            units += c.len_utf16() as u32;
            offset += c.len_utf8();
        }
        TextSize::from(offset as u32)
    }

    pub fn position(&self, offset: TextSize) -> Position {
        let mut offset = usize::from(offset).min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s as usize <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let character = self.text[start..offset]
            .chars()
            .map(|c| c.len_utf16() as u32)
            .sum();
        Position {
            line: line as u32,
            character,
        }
    }

    pub fn range(&self, range: TextRange) -> Range {
        Range {
            start: self.position(range.start()),
            end: self.position(range.end()),
        }
    }

    pub fn text_range(&self, range: Range) -> TextRange {
        let (start, end) = (self.offset(range.start), self.offset(range.end));
        TextRange::new(start.min(end), end.max(start))
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip_and_clamp() {
        let index = LineIndex::new("a = \"é😀x\";\nb");
        let x = index.offset(Position {
            line: 0,
            character: 8,
        });
        assert_eq!(&index.text()[usize::from(x)..usize::from(x) + 1], "x");
        assert_eq!(
            index.position(x),
            Position {
                line: 0,
                character: 8
            }
        );
        // Past the end of a line, of the file, or inside a surrogate pair.
        assert_eq!(
            index.offset(Position {
                line: 0,
                character: 999
            }),
            TextSize::from(14)
        );
        assert_eq!(
            index.offset(Position {
                line: 99,
                character: 99
            }),
            TextSize::from(16)
        );
        let inside = index.offset(Position {
            line: 0,
            character: 7,
        });
        assert!(index.text().is_char_boundary(usize::from(inside)));
    }
}
