//! Splits a condition into tokens, each with its byte range in the condition text.

use super::tree::BinaryOp;

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Token {
    Number(f64),
    Identifier(String),
    And,
    Or,
    Not,
    True,
    False,
    Plus,
    Minus,
    Star,
    Slash,
    /// `<`, `<=`, `>`, `>=`, `==` or `!=`: the tree's own operator, since each token is one.
    Comparison(BinaryOp),
    LeftParen,
    RightParen,
    LeftBracket,
    RightBracket,
    Comma,
    Dot,
    End,
}

#[derive(Clone, Debug)]
pub(super) struct Lexeme {
    pub token: Token,
    pub start: usize,
    pub end: usize,
    /// For numbers: written without a fraction or exponent.
    pub whole: bool,
}

#[derive(Debug)]
pub(super) struct LexError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    /// The operator meant, when the message names it: it replaces `start..end`.
    pub replacement: Option<&'static str>,
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Lexeme>, LexError> {
    let bytes = text.as_bytes();
    let mut lexemes = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte.is_ascii_whitespace() {
            index += 1;
            continue;
        }
        // A comment runs to the end of the line, as in the YAML and TOML around it; inside a
        // block scalar (`|`) YAML itself would keep it as part of the condition.
        if byte == b'#' {
            index = bytes[index..]
                .iter()
                .position(|byte| *byte == b'\n')
                .map_or(bytes.len(), |length| index + length);
            continue;
        }
        let start = index;
        let next = bytes.get(index + 1).copied();
        let (token, length) = match byte {
            b'0'..=b'9' | b'.'
                if byte != b'.' || next.is_some_and(|next| next.is_ascii_digit()) =>
            {
                let end = number_end(bytes, index);
                let written = &text[index..end];
                let value: f64 = written.parse().map_err(|_| LexError {
                    start,
                    end,
                    message: format!("`{written}` is not a number"),
                    replacement: None,
                })?;
                if !value.is_finite() {
                    return Err(LexError {
                        start,
                        end,
                        message: format!("`{written}` is too large a number"),
                        replacement: None,
                    });
                }
                let whole = written.bytes().all(|byte| byte.is_ascii_digit());
                lexemes.push(Lexeme {
                    token: Token::Number(value),
                    start,
                    end,
                    whole,
                });
                index = end;
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = bytes[index..]
                    .iter()
                    .position(|byte| !(byte.is_ascii_alphanumeric() || *byte == b'_'))
                    .map_or(bytes.len(), |length| index + length);
                let word = &text[index..end];
                let token = match word.to_ascii_lowercase().as_str() {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    "true" => Token::True,
                    "false" => Token::False,
                    _ => Token::Identifier(word.to_string()),
                };
                (token, end - index)
            }
            b'+' => (Token::Plus, 1),
            b'-' => (Token::Minus, 1),
            b'*' => (Token::Star, 1),
            b'/' => (Token::Slash, 1),
            b'(' => (Token::LeftParen, 1),
            b')' => (Token::RightParen, 1),
            b'[' => (Token::LeftBracket, 1),
            b']' => (Token::RightBracket, 1),
            b',' => (Token::Comma, 1),
            b'.' => (Token::Dot, 1),
            b'<' if next == Some(b'=') => (Token::Comparison(BinaryOp::LessOrEqual), 2),
            b'<' if next == Some(b'>') => {
                return Err(LexError {
                    start,
                    end: start + 2,
                    message: "`<>` is not an operator; write `!=` for \"not equal\"".to_string(),
                    replacement: Some("!="),
                })
            }
            b'<' => (Token::Comparison(BinaryOp::Less), 1),
            b'>' if next == Some(b'=') => (Token::Comparison(BinaryOp::GreaterOrEqual), 2),
            b'>' => (Token::Comparison(BinaryOp::Greater), 1),
            b'=' if next == Some(b'=') => (Token::Comparison(BinaryOp::Equal), 2),
            b'=' if next == Some(b'<') || next == Some(b'>') => {
                let fix = if next == Some(b'<') { "<=" } else { ">=" };
                return Err(LexError {
                    start,
                    end: start + 2,
                    message: format!("write `{fix}`, with the `=` second"),
                    replacement: Some(fix),
                });
            }
            b'=' => {
                return Err(LexError {
                    start,
                    end: start + 1,
                    message: "a single `=` does not compare; write `==`".to_string(),
                    replacement: Some("=="),
                })
            }
            b'!' if next == Some(b'=') => (Token::Comparison(BinaryOp::NotEqual), 2),
            b'!' => (Token::Not, 1),
            b'&' if next == Some(b'&') => (Token::And, 2),
            b'|' if next == Some(b'|') => (Token::Or, 2),
            b'&' | b'|' => {
                let (fix, operator) = if byte == b'&' {
                    ("`&&` or AND", "&&")
                } else {
                    ("`||` or OR", "||")
                };
                return Err(LexError {
                    start,
                    end: start + 1,
                    message: format!("write {fix}"),
                    replacement: Some(operator),
                });
            }
            _ => {
                let character = text[index..].chars().next().unwrap_or(' ');
                return Err(LexError {
                    start,
                    end: start + character.len_utf8(),
                    message: format!("`{character}` is not part of the condition language"),
                    replacement: None,
                });
            }
        };
        lexemes.push(Lexeme {
            token,
            start,
            end: start + length,
            whole: false,
        });
        index += length;
    }
    lexemes.push(Lexeme {
        token: Token::End,
        start: text.len(),
        end: text.len(),
        whole: false,
    });
    Ok(lexemes)
}

/// End of a number literal: digits, an optional fraction, an optional exponent.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .position(|byte| !byte.is_ascii_digit())
            .map_or(bytes.len(), |length| from + length)
    };
    let mut end = digits(start);
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end = digits(end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut exponent = end + 1;
        if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
            exponent += 1;
        }
        if bytes.get(exponent).is_some_and(u8::is_ascii_digit) {
            end = digits(exponent);
        }
    }
    end
}
