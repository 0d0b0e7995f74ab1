//! The document's text as CodeMirror counts it: lengths in UTF-16 code units, line breaks as
//! CodeMirror splits them, and the walk from UTF-16 offsets to byte offsets that applying a
//! change needs.

/// How many bytes the walk counts at once: short enough that the per-chunk count fits in a `u8`
/// (at most two units a byte) and vectorizes, long enough to skip most of a document quickly.
const CHUNK: usize = 64;

/// The length of `text` in UTF-16 code units, as CodeMirror's `Text.length` counts it.
pub fn utf16_len(text: &str) -> usize {
    text.as_bytes().chunks(CHUNK).map(chunk_units).sum()
}

/// UTF-16 code units in a run of UTF-8 bytes of at most `CHUNK` bytes: each character counts at
/// its lead byte (any byte but a continuation byte `10xxxxxx`), and a four-byte character counts
/// twice, since UTF-16 needs a surrogate pair for it. Branch-free, so the compiler vectorizes it.
fn chunk_units(chunk: &[u8]) -> usize {
    let units = chunk.iter().fold(0u8, |units, &byte| {
        units + u8::from((byte as i8) >= -0x40) + u8::from(byte >= 0xF0)
    });
    usize::from(units)
}

/// Stored text as CodeMirror would hold it: `\r\n` and a lone `\r` become `\n` (CodeMirror
/// splits lines on `/\r\n?|\n/` and joins them with `\n`), and U+0000, which Postgres cannot
/// store, becomes U+FFFD. The live document is seeded from this, so the server's length and the
/// editor's agree from the first version.
pub fn normalize_seed(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(char) = chars.next() {
        match char {
            '\r' => {
                chars.next_if_eq(&'\n');
                normalized.push('\n');
            }
            '\0' => normalized.push('\u{FFFD}'),
            other => normalized.push(other),
        }
    }
    normalized
}

/// Why the walk stopped short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The text ended before the requested offset.
    PastEnd,
    /// The offset falls between the two halves of a surrogate pair, at this UTF-16 offset.
    InsidePair(usize),
}

/// A position in a text that moves forward by UTF-16 code units and knows its byte offset, so
/// a whole change set converts its offsets in one pass over the document.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    byte: usize,
    unit: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            byte: 0,
            unit: 0,
        }
    }

    /// The byte offset of the current position.
    pub(crate) fn byte(&self) -> usize {
        self.byte
    }

    /// Whether the cursor has reached the end of the text.
    pub(crate) fn at_end(&self) -> bool {
        self.byte == self.text.len()
    }

    /// Moves `units` code units forward and returns the new byte offset. Whole chunks are
    /// counted at once while they fit, and only the last few characters one by one.
    pub(crate) fn advance(&mut self, units: usize) -> Result<usize, Stop> {
        let bytes = self.text.as_bytes();
        let mut left = units;
        while left > 0 {
            let end = self.byte + CHUNK;
            if end <= bytes.len() && self.text.is_char_boundary(end) {
                let chunk = chunk_units(&bytes[self.byte..end]);
                if chunk <= left {
                    left -= chunk;
                    self.unit += chunk;
                    self.byte = end;
                    continue;
                }
            }
            let Some(&lead) = bytes.get(self.byte) else {
                return Err(Stop::PastEnd);
            };
            let (width, char_units) = match lead {
                0x00..=0x7F => (1, 1),
                0xC0..=0xDF => (2, 1),
                0xE0..=0xEF => (3, 1),
                _ => (4, 2),
            };
            if char_units > left {
                return Err(Stop::InsidePair(self.unit + left));
            }
            left -= char_units;
            self.unit += char_units;
            self.byte += width;
        }
        Ok(self.byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_counts_one_unit_a_byte() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("rsi(14) > 70\n"), 13);
    }

    #[test]
    fn an_emoji_counts_two_units_and_accented_letters_one() {
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("中文"), 2);
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_len("a𝄞ßb"), 5);
    }

    #[test]
    fn a_long_mixed_text_counts_as_the_standard_library_does() {
        let text = "ab é 中文 😀 𝄞\n".repeat(97);
        assert_eq!(utf16_len(&text), text.encode_utf16().count());
    }

    #[test]
    fn a_crlf_seed_becomes_plain_newlines() {
        assert_eq!(normalize_seed("a: 1\r\nb: 2\r\n"), "a: 1\nb: 2\n");
    }

    #[test]
    fn a_lone_carriage_return_is_a_line_break_too() {
        assert_eq!(normalize_seed("a\rb\r\r\nc\r"), "a\nb\n\nc\n");
    }

    #[test]
    fn a_null_character_in_a_seed_becomes_the_replacement_character() {
        assert_eq!(normalize_seed("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn a_seed_without_carriage_returns_is_left_alone() {
        let text = "name: x\n\n中文 😀\n";
        assert_eq!(normalize_seed(text), text);
    }

    #[test]
    fn the_cursor_finds_byte_offsets_past_wide_characters() {
        let text = "é中😀x";
        let mut cursor = Cursor::new(text);
        assert_eq!(cursor.advance(1), Ok(2));
        assert_eq!(cursor.advance(1), Ok(5));
        assert_eq!(cursor.advance(2), Ok(9));
        assert_eq!(cursor.advance(1), Ok(10));
        assert!(cursor.at_end());
        assert_eq!(cursor.advance(1), Err(Stop::PastEnd));
    }

    #[test]
    fn the_cursor_stops_inside_a_surrogate_pair() {
        let mut cursor = Cursor::new("ab😀");
        assert_eq!(cursor.advance(3), Err(Stop::InsidePair(3)));
    }

    #[test]
    fn the_cursor_crosses_whole_chunks_and_lands_exactly() {
        let text = "x😀é".repeat(100);
        for units in [0, 1, 3, 4, 63, 64, 65, 301, 400] {
            let mut cursor = Cursor::new(&text);
            let expected = text
                .char_indices()
                .scan(0, |at, (byte, char)| {
                    let here = (*at, byte);
                    *at += char.len_utf16();
                    Some(here)
                })
                .find(|&(at, _)| at == units)
                .map_or(text.len(), |(_, byte)| byte);
            assert_eq!(cursor.advance(units), Ok(expected), "{units} units");
        }
    }
}
