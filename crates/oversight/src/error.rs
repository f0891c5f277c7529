//! The crate's error type: every variant names the file and, where there is one, the line and
//! column at fault.

use std::path::PathBuf;

/// What went wrong reading a record set. Row-level problems are not errors: they are
/// [`crate::stats::Rejection`]s, counted and reported while the import goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The CSV itself is broken at this point (e.g. an unterminated quote), or unreadable.
    #[error("{}: line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the problem was found.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The header lacks a column the format needs, or is not a known export format.
    #[error("{}: line 1: {message}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What is missing, and the columns that were found.
        message: String,
    },
    /// The file is not what the command reads: empty, binary, not a PDF, a PDF without a text
    /// layer or one that cannot be read. The message says what was found and what was expected
    /// (naming the page where there is one).
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// The built-in agency directory is malformed (a bug in the crate's data file).
    #[error("agency directory, line {line}: {message}")]
    Directory {
        /// The 1-based line of `data/agencies.csv`.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn csv(path: &std::path::Path, e: csv::Error) -> Self {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            csv::ErrorKind::Io(source) => Error::Io { path: path.to_owned(), source },
            csv::ErrorKind::Utf8 { pos, err } => Error::Csv {
                path: path.to_owned(),
                line: pos.map_or(line, |p| p.line()),
                message: format!("invalid UTF-8 in field {} (expected UTF-8 text)", err.field() + 1),
            },
            kind => Error::Csv { path: path.to_owned(), line, message: format!("{kind:?}") },
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
