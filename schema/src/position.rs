//! Line/column positions and their conversion to byte offsets.
//!
//! Positions follow sqlparser's convention: 1-based lines counted at `\n`, 1-based columns
//! counted in characters (not bytes).

use serde::Serialize;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// Maps between byte offsets and [`Position`]s in one text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
    text_len: usize,
    /// `true` when the text is pure ASCII: columns then equal byte offsets.
    ascii: bool,
    text: Box<str>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            starts,
            text_len: text.len(),
            ascii: text.is_ascii(),
            text: text.into(),
        }
    }

    /// Byte offset of `pos`, or `None` when it lies outside the text. A column one past the
    /// end of a line maps to the line's end.
    pub fn offset(&self, pos: Position) -> Option<usize> {
        let start = *self.starts.get(pos.line.checked_sub(1)?)?;
        let col = pos.column.checked_sub(1)?;
        if self.ascii {
            let off = start + col;
            return (off <= self.text_len).then_some(off);
        }
        let line = &self.text[start..];
        match line.char_indices().nth(col) {
            Some((i, _)) => Some(start + i),
            None if line.chars().count() == col => Some(self.text_len),
            None => None,
        }
    }

    /// Position of byte `offset` (clamped to the text; must be on a character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text_len);
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column = if self.ascii {
            offset - start
        } else {
            self.text[start..offset].chars().count()
        };
        Position {
            line: line + 1,
            column: column + 1,
        }
    }

    /// Byte offset of the start of the line holding `offset`.
    pub fn line_start(&self, offset: usize) -> usize {
        let line = self
            .starts
            .partition_point(|&s| s <= offset.min(self.text_len))
            - 1;
        self.starts[line]
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return "";
        };
        let end = self.starts.get(line).map_or(self.text_len, |&e| e - 1);
        self.text[start..end].trim_end_matches('\r')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_offsets_and_positions() {
        let text = "ab\ncdé\n\nfg";
        let idx = LineIndex::new(text);
        for (off, _) in text.char_indices() {
            assert_eq!(idx.offset(idx.position(off)), Some(off), "offset {off}");
        }
        assert_eq!(idx.position(3), Position { line: 2, column: 1 });
        assert_eq!(idx.offset(Position { line: 2, column: 3 }), Some(5));
        assert_eq!(idx.line_text(2), "cdé");
        assert_eq!(idx.line_text(4), "fg");
    }
}
