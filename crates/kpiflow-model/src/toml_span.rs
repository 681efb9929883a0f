//! Positions in TOML text, so configuration errors can say "line 4, column 12".

use std::ops::Range;

/// A 1-based line and column in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte offset `at` in `text`.
    pub fn of(text: &str, at: usize) -> Position {
        let at = at.min(text.len());
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Position { line, column }
    }

    pub fn of_span(text: &str, span: Option<Range<usize>>) -> Option<Position> {
        span.map(|s| Position::of(text, s.start))
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A problem in a TOML file (configuration or mapping), located and explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {}{message}", .position.map(|p| format!(":{}:{}", p.line, p.column)).unwrap_or_default(), .key.as_ref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct TomlError {
    pub file: String,
    pub position: Option<Position>,
    /// The dotted key at fault, such as `project.currency`.
    pub key: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl TomlError {
    /// A syntax or shape error from the TOML parser.
    pub fn from_de(file: &str, text: &str, err: &toml::de::Error) -> TomlError {
        TomlError {
            file: file.to_owned(),
            position: Position::of_span(text, err.span()),
            key: None,
            message: err.message().trim().to_owned(),
        }
    }

    /// A semantic error at a spanned value.
    pub fn at(
        file: &str,
        text: &str,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> TomlError {
        TomlError {
            file: file.to_owned(),
            position: Some(Position::of(text, span.start)),
            key: Some(key.into()),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn positions_are_one_based() {
        let text = "a = 1\nbb = 2\n";
        assert_eq!(Position::of(text, 0), Position { line: 1, column: 1 });
        assert_eq!(Position::of(text, 11), Position { line: 2, column: 6 });
    }
}
