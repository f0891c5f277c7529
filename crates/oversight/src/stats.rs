//! Import statistics: rows read, kept and rejected, with every rejection's row and reason.

use std::path::Path;

use serde::Serialize;

use crate::error::Error;

/// Why one row was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The file, when the input is a folder of files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line where the row starts.
    pub line: u64,
    /// The column at fault (its header name), if one column is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// Counts of one import. `read == kept + rejected.len()` always holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportStats {
    /// Data rows read (the header is not counted).
    pub read: u64,
    /// Rows imported.
    pub kept: u64,
    /// Rows refused, each with its reason.
    pub rejected: Vec<Rejection>,
    /// Findings emitted by the detectors.
    pub findings: u64,
    /// Notes on what could not be checked (e.g. no user column, so no per-officer detectors).
    pub notes: Vec<String>,
}

impl ImportStats {
    /// Adds the counts, rejections and notes of `later` (rows read after these).
    pub(crate) fn merge(&mut self, later: ImportStats) {
        self.read += later.read;
        self.kept += later.kept;
        self.rejected.extend(later.rejected);
        self.findings += later.findings;
        self.notes.extend(later.notes);
    }

    pub(crate) fn reject(&mut self, line: u64, column: Option<&str>, reason: impl Into<String>) {
        self.rejected.push(Rejection { file: None, line, column: column.map(str::to_owned), reason: reason.into() });
    }
}

/// Reads the next CSV row into `record`; false at the end of the input. A row that is not UTF-8 is
/// counted as read and rejected with its line, and reading goes on; any other error stops the import.
pub(crate) fn next_record<R: std::io::Read>(
    reader: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
    stats: &mut ImportStats,
    path: &Path,
) -> Result<bool, Error> {
    loop {
        match reader.read_record(record) {
            Ok(more) => return Ok(more),
            Err(e) => {
                if let csv::ErrorKind::Utf8 { pos: Some(pos), err } = e.kind() {
                    stats.read += 1;
                    stats.reject(pos.line(), None, format!("invalid UTF-8 in field {}", err.field() + 1));
                    continue;
                }
                return Err(Error::csv(path, e));
            }
        }
    }
}
