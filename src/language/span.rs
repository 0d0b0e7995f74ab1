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

/// A quick fix: replace the bytes of `span` in the document with `replacement`. `label` says
/// what it does, short and imperative ("Replace with `entry_conditions`").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Fix {
    pub label: String,
    pub span: Span,
    pub replacement: String,
}

impl Fix {
    /// The fix that replaces `span` with `replacement`, labelled "Replace with `...`".
    pub fn replace(span: Span, replacement: impl Into<String>) -> Fix {
        let replacement = replacement.into();
        Fix {
            label: format!("Replace with `{}`", replacement.trim()),
            span,
            replacement,
        }
    }

    /// The document with this fix applied; the text unchanged when the span does not fit it.
    pub fn apply(&self, document: &str) -> String {
        let (start, end) = (self.span.start, self.span.end);
        if start > end
            || end > document.len()
            || !document.is_char_boundary(start)
            || !document.is_char_boundary(end)
        {
            return document.to_string();
        }
        let mut fixed = String::with_capacity(document.len() + self.replacement.len());
        fixed.push_str(&document[..start]);
        fixed.push_str(&self.replacement);
        fixed.push_str(&document[end..]);
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
        self.fixes.push(Fix {
            label: label.into(),
            span,
            replacement: replacement.into(),
        });
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

    /// 1-based line and character column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (u32, u32) {
        let offset = self.boundary(offset);
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self.text[line_start..offset].chars().count() + 1;
        (to_u32(line_index + 1), to_u32(column))
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
    /// `\r\n`).
    pub fn line_range(&self, offset: usize) -> (usize, usize) {
        let offset = self.boundary(offset);
        let start = self.text[..offset].rfind('\n').map_or(0, |index| index + 1);
        let mut end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |index| offset + index);
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
