//! Findings as a Parquet file: one row per finding, in the columns of the finding schema
//! ([`oversight::finding::FLAT_COLUMNS`]): `line` an INT64, every other column an optional UTF-8
//! string; Snappy-compressed (dictionary-encoded but for `record`, whose search IDs seldom repeat),
//! in row groups of [`ROW_GROUP`] findings (memory stays flat). DuckDB,
//! Spark and Trino read it as it is: `SELECT kind, count(*) FROM 'findings.parquet' GROUP BY 1`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use oversight::finding::FLAT_COLUMNS;
use oversight::Finding;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

/// Findings per row group.
pub const ROW_GROUP: usize = 65_536;

/// The index of `line` in [`FLAT_COLUMNS`].
const LINE: usize = 10;

/// The Parquet schema of a finding.
pub fn schema() -> String {
    let mut s = String::from("message finding {\n");
    for (i, c) in FLAT_COLUMNS.iter().enumerate() {
        if i == LINE {
            s.push_str(&format!("  required int64 {c};\n"));
        } else {
            s.push_str(&format!("  optional binary {c} (STRING);\n"));
        }
    }
    s.push('}');
    s
}

/// A Parquet file being written, a row group at a time.
pub struct ParquetSink {
    writer: SerializedFileWriter<std::fs::File>,
    /// The row group's text columns (the one at [`LINE`] unused).
    text: Vec<TextColumn>,
    lines: Vec<i64>,
    /// Where a finding's formatted cells are written ([`Finding::flat_cells`]).
    scratch: String,
    path: std::path::PathBuf,
}

/// A text column of a row group: the bytes of its values one after another (no allocation per
/// cell), where each ends, and a definition level per row (1 present, 0 null).
#[derive(Clone, Default)]
struct TextColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    defs: Vec<i16>,
    /// The buffer handed to the writer, taken back once the row group is written.
    lent: Option<bytes::Bytes>,
}

impl TextColumn {
    /// The values, as slices of one shared buffer (lent to the writer: see [`TextColumn::clear`]).
    fn values(&mut self) -> Vec<ByteArray> {
        let bytes = bytes::Bytes::from(std::mem::take(&mut self.bytes));
        let mut start = 0;
        let values = self
            .ends
            .iter()
            .map(|&end| {
                let value = ByteArray::from(bytes.slice(start..end));
                start = end;
                value
            })
            .collect();
        self.lent = Some(bytes);
        values
    }

    /// Empties the column for the next row group, keeping its buffer's memory when the writer
    /// holds no slice of it any more (the writer copies the statistics it keeps).
    fn clear(&mut self) {
        if let Some(Ok(bytes)) = self.lent.take().map(bytes::Bytes::try_into_mut) {
            self.bytes = Vec::from(bytes);
        }
        self.bytes.clear();
        self.ends.clear();
        self.defs.clear();
    }
}

impl ParquetSink {
    /// Creates (truncates) `path`.
    pub fn create(path: &Path) -> Result<Self> {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the output file {}", path.display()))?;
        let schema = Arc::new(parquet::schema::parser::parse_message_type(&schema()).context("the Parquet schema")?);
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                // A search ID is in one finding or a few: a dictionary of them is as large as the
                // column, and building it costs a hash and a comparison per cell.
                .set_column_dictionary_enabled(parquet::schema::types::ColumnPath::from("record"), false)
                .set_created_by(format!("fusionguard {}", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        let writer = SerializedFileWriter::new(file, schema, props).context("starting the Parquet file")?;
        Ok(Self {
            writer,
            text: vec![TextColumn::default(); FLAT_COLUMNS.len()],
            lines: Vec::new(),
            scratch: String::new(),
            path: path.to_owned(),
        })
    }

    /// Adds one finding (a row group is written every [`ROW_GROUP`] findings).
    pub fn push(&mut self, f: &Finding) -> Result<()> {
        let text = &mut self.text;
        f.flat_cells(&mut self.scratch, &mut |i, cell| {
            let column = &mut text[i];
            match cell {
                _ if i == LINE => {}
                Some(v) => {
                    column.bytes.extend_from_slice(v.as_bytes());
                    column.ends.push(column.bytes.len());
                    column.defs.push(1);
                }
                None => column.defs.push(0),
            }
        });
        self.lines.push(i64::try_from(f.line).unwrap_or(i64::MAX));
        if self.lines.len() >= ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let what = || format!("writing {}", self.path.display());
        let mut group = self.writer.next_row_group().with_context(what)?;
        let mut i = 0;
        while let Some(mut col) = group.next_column().with_context(what)? {
            if i == LINE {
                col.typed::<Int64Type>().write_batch(&self.lines, None, None).with_context(what)?;
            } else {
                let column = &mut self.text[i];
                let values = column.values();
                col.typed::<ByteArrayType>().write_batch(&values, Some(&column.defs), None).with_context(what)?;
            }
            col.close().with_context(what)?;
            i += 1;
        }
        group.close().with_context(what)?;
        self.text.iter_mut().for_each(TextColumn::clear);
        self.lines.clear();
        Ok(())
    }

    /// Writes the last row group and the footer.
    pub fn close(mut self) -> Result<()> {
        self.flush()?;
        let path = self.path.clone();
        self.writer.close().with_context(|| format!("finishing {}", path.display()))?;
        Ok(())
    }
}
