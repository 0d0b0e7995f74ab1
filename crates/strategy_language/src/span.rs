//! Places in a document's text and the diagnostics that point at them: `Span`, the
//! `Positions` table that turns byte offsets into spans, and `Diagnostic` with its `Severity`
//! and the quick `Fix`es it offers.
//! It is a leaf: every other part of the engine reports through it, so it needs none of them.

use serde::{Deserialize, Serialize};

/// A stretch of the document text. Lines and columns are 1-based and columns count characters
/// (not bytes), which is what an editor shows; `start`/`end` are byte offsets into the whole
/// document, which is what a text splice needs. `end` is exclusive, `end_column` is the column
/// just past the last character.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub start: usize,
    pub end: usize,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One problem (or note) about a document. `code` is stable and documented in docs/LANGUAGE.md;
/// `path` names the place in the model (`indicators[2].parameters.period`). `fixes` are the
/// edits that resolve it, when the message already names the exact correct text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub path: String,
    pub span: Span,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

/// A quick fix: one or more replacements of stretches of the document, applied together as
/// one step. `label` says what it does, short and imperative ("Replace with `entry_conditions`").
/// A fix describes what changes, never a copy of the text around it: moving a line above the
/// first table is "insert these lines there, remove them here", whatever lies between.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Fix {
    pub label: String,
    /// In document order and not overlapping.
    pub edits: Vec<TextEdit>,
}

/// Replace the bytes of `span` with `insert` (an empty span inserts, an empty `insert` removes).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TextEdit {
    pub span: Span,
    pub insert: String,
}

impl Fix {
    /// The fix that replaces `span` with `replacement`, labelled "Replace with `...`".
    pub fn replace(span: Span, replacement: impl Into<String>) -> Fix {
        let replacement = replacement.into();
        Fix::new(
            format!("Replace with `{}`", replacement.trim()),
            vec![TextEdit {
                span,
                insert: replacement,
            }],
        )
    }

    pub fn new(label: impl Into<String>, edits: Vec<TextEdit>) -> Fix {
        Fix {
            label: label.into(),
            edits,
        }
    }

    /// The document with this fix applied; the text unchanged when an edit does not fit it.
    pub fn apply(&self, document: &str) -> String {
        let fits = |edit: &TextEdit| {
            let (start, end) = (edit.span.start, edit.span.end);
            start <= end
                && end <= document.len()
                && document.is_char_boundary(start)
                && document.is_char_boundary(end)
        };
        let in_order = self
            .edits
            .windows(2)
            .all(|pair| pair[0].span.end <= pair[1].span.start);
        if !in_order || !self.edits.iter().all(fits) {
            return document.to_string();
        }
        let added: usize = self.edits.iter().map(|edit| edit.insert.len()).sum();
        let mut fixed = String::with_capacity(document.len() + added);
        let mut copied = 0;
        for edit in &self.edits {
            fixed.push_str(&document[copied..edit.span.start]);
            fixed.push_str(&edit.insert);
            copied = edit.span.end;
        }
        fixed.push_str(&document[copied..]);
        fixed
    }
}

impl Diagnostic {
    /// A diagnostic without fixes.
    pub fn new(code: &str, severity: Severity, message: String, path: String, span: Span) -> Self {
        Diagnostic {
            code: code.to_string(),
            severity,
            message,
            path,
            span,
            fixes: Vec::new(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The same diagnostic offering one more fix.
    pub fn with_fix(
        mut self,
        label: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
    ) -> Self {
        self.fixes.push(Fix::new(
            label,
            vec![TextEdit {
                span,
                insert: replacement.into(),
            }],
        ));
        self
    }

    /// The same diagnostic offering these fixes too (an `Option<Fix>` gives none or one).
    pub fn with_fixes(mut self, fixes: impl IntoIterator<Item = Fix>) -> Self {
        self.fixes.extend(fixes);
        self
    }
}

/// Whether any of the diagnostics is an error: what decides that a document (or a parse, or a
/// syntax test) cannot be used as it stands.
pub fn any_error(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Conversion between byte offsets, character indexes and 1-based line/column positions of
/// one document text; every span the engine reports is made here.
pub struct Positions<'text> {
    text: &'text str,
    /// Byte offset of the first character of each line.
    line_starts: Vec<usize>,
    /// Byte offset of each character, only for texts that are not pure ASCII (where the two
    /// coincide); the YAML parser counts characters, spans need bytes.
    char_bytes: Option<Vec<usize>>,
}

impl<'text> Positions<'text> {
    pub fn new(text: &'text str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(index, _)| index + 1),
        );
        let char_bytes = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(offset, _)| offset).collect())
        };
        Positions {
            text,
            line_starts,
            char_bytes,
        }
    }

    pub fn text(&self) -> &'text str {
        self.text
    }

    /// Byte offset of the character with the given index (the end of the text past the last).
    pub fn byte_of_char(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            None => char_index.min(self.text.len()),
            Some(bytes) => bytes.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    /// Clamps an offset into the text and back onto a character boundary.
    pub fn boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// 1-based line and character column of a byte offset. Logarithmic in the text's size:
    /// a document with 240,000 items on one line asks this for every item.
    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let offset = self.boundary(offset);
        let line_index = self.line_index(offset);
        let line_start = self.line_starts[line_index];
        let column = self.char_index(offset) - self.char_index(line_start) + 1;
        (to_u32(line_index + 1), to_u32(column))
    }

    /// The 0-based index of the line holding `offset` (a character boundary).
    fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        }
    }

    /// How many characters come before byte `offset` (a character boundary).
    fn char_index(&self, offset: usize) -> usize {
        match &self.char_bytes {
            None => offset,
            Some(bytes) => bytes.partition_point(|&byte| byte < offset),
        }
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        let start = self.boundary(start);
        let end = self.boundary(end.max(start));
        let (line, column) = self.line_column(start);
        let (end_line, end_column) = self.line_column(end);
        Span {
            line,
            column,
            end_line,
            end_column,
            start,
            end,
        }
    }

    /// Byte range of the whole line holding `offset`, without its line break (`\n` or
    /// `\r\n`). Logarithmic in the text's size, from the line index.
    pub fn line_range(&self, offset: usize) -> (usize, usize) {
        let offset = self.boundary(offset);
        let line_index = self.line_index(offset);
        let start = self.line_starts[line_index];
        let mut end = self
            .line_starts
            .get(line_index + 1)
            .map_or(self.text.len(), |next| next - 1);
        if end > start && end > offset && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end)
    }

    /// Byte offset where the 1-based line begins (the end of the text past the last line).
    pub fn line_start(&self, line: u32) -> usize {
        let index = (line as usize).saturating_sub(1);
        self.line_starts
            .get(index)
            .copied()
            .unwrap_or(self.text.len())
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}
