//! A CSV file cut into chunks of whole records, so that several threads can parse one file, and
//! the parser of a chunk.
//!
//! [`Chunks`] reads the file in blocks of about [`CHUNK`] bytes and ends each chunk after a line
//! break outside quotes: it counts the quotes from the start of the data, and a line break after
//! an even number of them ends a record, as long as every record before it quotes its fields the
//! usual way (a quote opens a field and closes it, `""` inside). A cut is made only after a
//! record's `\n` or `\r\n` (not after a blank line) and before a byte that is not a line break or
//! `\r`, so that every record is reported at the line a sequential read
//! ([`crate::searches::SearchReader`]) reports: the line where `csv` started reading it, which
//! counts the blank lines before it; where lines end in `\r\n`, `csv_core` ends a record at its
//! `\r` and reads the `\n` with the next one, and that `\n` is counted before the next record, so
//! that a record is at the same line whether the file's lines end in `\r\n` or `\n`.
//!
//! [`RecordParser`] parses a chunk's records exactly as `csv_core` does (with `csv`'s defaults:
//! `,`, `"`, `""` inside quotes, CR, LF or CRLF ending a record, blank lines skipped): a fast path
//! takes records that quote the usual way and end in `\n` or `\r\n`, and `csv_core` itself parses
//! the rest of the chunk from the first record the fast path does not take. It says when the
//! chunk's last record runs past the chunk's end (the cut fell inside a record because some
//! record quoted otherwise); the caller then reads the rest of the file in order from there.

use std::io::Read;

/// Bytes read per block; a chunk is about this long.
pub const CHUNK: usize = 1 << 18;

/// A chunk that would grow past this many bytes without a cut (a file whose lines end in `\r\n`
/// or `\r`, or whose quotes are unbalanced) is not made: the rest of the file is read in order.
pub const MAX_CHUNK: usize = 32 * CHUNK;

/// A chunk of whole records.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The records' bytes.
    pub data: Vec<u8>,
    /// Byte offset of `data[0]` in the file.
    pub offset: u64,
    /// The line number at `data[0]` (1 + the line breaks before it).
    pub line: u64,
    /// Whether the bytes before `data[0]` are `\r\n` ending a record.
    pub after_crlf: bool,
    /// Whether the chunk ends at the end of the file.
    pub last: bool,
    /// No cut was found within [`MAX_CHUNK`] bytes: `data` is empty, and the rest of the file,
    /// from `offset` and `line`, is to be read in order. No chunk follows.
    pub in_order: bool,
}

/// Cuts a file into chunks of whole records.
pub struct Chunks<R: Read> {
    input: R,
    offset: u64,
    line: u64,
    /// Bytes read past the last cut (they start a record).
    carry: Vec<u8>,
    eof: bool,
    after_crlf: bool,
}

impl<R: Read> Chunks<R> {
    /// Chunks of `input`, whose first byte starts a record (outside quotes) at byte `offset` and
    /// line `line` of the file.
    pub fn new(input: R, offset: u64, line: u64) -> Self {
        Self { input, offset, line, carry: Vec::new(), eof: false, after_crlf: false }
    }

    /// The same, where the bytes before `offset` are (or not) a `\r\n` ending a record (the
    /// header).
    pub fn after_crlf(mut self, after_crlf: bool) -> Self {
        self.after_crlf = after_crlf;
        self
    }

    /// The next chunk, read into `buf`'s memory (a chunk's data handed back, or a new `Vec`);
    /// `None` after the last.
    pub fn next_chunk(&mut self, mut buf: Vec<u8>) -> std::io::Result<Option<Chunk>> {
        if self.eof && self.carry.is_empty() {
            return Ok(None);
        }
        buf.clear();
        buf.append(&mut self.carry);
        // Quotes in buf[..scanned].
        let (mut quotes, mut scanned) = (0, 0);
        let cut = loop {
            if !self.eof {
                self.fill(&mut buf)?;
            }
            if self.eof {
                break buf.len();
            }
            quotes += count(&buf[scanned..], b'"');
            if let Some(cut) = last_cut(&buf, scanned, quotes) {
                break cut;
            }
            scanned = buf.len();
            if buf.len() >= MAX_CHUNK {
                self.eof = true;
                self.carry.clear();
                buf.clear();
                let (offset, line) = match self.after_crlf {
                    // csv reads the `\n` with the next record: start reading there.
                    true => (self.offset - 1, self.line - 1),
                    false => (self.offset, self.line),
                };
                let chunk = Chunk { data: buf, offset, line, after_crlf: false, last: false, in_order: true };
                return Ok(Some(chunk));
            }
        };
        self.carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let chunk = Chunk {
            offset: self.offset,
            line: self.line,
            after_crlf: self.after_crlf,
            last: self.eof && self.carry.is_empty(),
            in_order: false,
            data: buf,
        };
        self.offset += chunk.data.len() as u64;
        self.line += count(&chunk.data, b'\n') as u64;
        self.after_crlf = chunk.data.ends_with(b"\r\n");
        Ok(Some(chunk))
    }

    /// Reads up to [`CHUNK`] more bytes onto `buf`; sets `eof` at the end of the input.
    fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<()> {
        // Into the buffer's spare memory, which `read_to_end` does not zero first.
        buf.reserve(CHUNK);
        let n = (&mut self.input).take(CHUNK as u64).read_to_end(buf)?;
        self.eof = n < CHUNK;
        Ok(())
    }
}

/// How many bytes of `b` are `c` (counted in bytes, 255 at a time, which the compiler vectorises).
fn count(b: &[u8], c: u8) -> usize {
    let mut blocks = b.chunks_exact(255);
    let mut n = 0;
    for block in &mut blocks {
        n += usize::from(block.iter().fold(0u8, |acc, &x| acc + u8::from(x == c)));
    }
    n + blocks.remainder().iter().filter(|&&x| x == c).count()
}

/// The last place in `buf` to cut after a line break (see the module documentation), looking at
/// the line breaks from `from` on, where `quotes` is the number of quotes in `buf`.
fn last_cut(buf: &[u8], from: usize, quotes: usize) -> Option<usize> {
    let ends_record = |i: usize| match buf[i - 1] {
        b'\n' => false,
        b'\r' => i >= 2 && !matches!(buf[i - 2], b'\n' | b'\r'),
        _ => true,
    };
    // Quotes after position i, walking back.
    let mut after = 0;
    for i in (from.max(2)..buf.len().saturating_sub(1)).rev() {
        match buf[i] {
            b'"' => after += 1,
            b'\n' if (quotes - after).is_multiple_of(2) && !matches!(buf[i + 1], b'\n' | b'\r') && ends_record(i) => {
                return Some(i + 1);
            }
            _ => {}
        }
    }
    None
}

/// The last record read: where its fields are, in the chunk (a record without `""` read by the
/// fast path) or in `data` (unquoted `""`, or read by `csv_core`).
#[derive(Debug, Default)]
pub struct Record {
    /// Where the record's bytes are in the chunk, when its fields are slices of it.
    raw: Option<(usize, usize)>,
    /// The fields' bytes one after another, otherwise.
    data: Vec<u8>,
    /// Each field's range in the record's bytes.
    bounds: Vec<(usize, usize)>,
}

impl Record {
    /// The record's fields, in `chunk` (the chunk it was read from; `chunk_text`: the same as
    /// text, where the whole chunk is valid UTF-8, so that a record need not be checked again).
    pub fn fields<'a>(&'a self, chunk: &'a [u8], chunk_text: Option<&'a str>) -> RecordFields<'a> {
        let (bytes, text) = match self.raw {
            Some((start, end)) => (&chunk[start..end], chunk_text.and_then(|t| t.get(start..end))),
            None => (&self.data[..], None),
        };
        RecordFields { bytes, bounds: &self.bounds, text }
    }
}

/// A record's fields: ranges in its bytes.
pub struct RecordFields<'a> {
    bytes: &'a [u8],
    bounds: &'a [(usize, usize)],
    /// `bytes` as text, when known to be valid UTF-8.
    text: Option<&'a str>,
}

impl crate::searches::Fields for RecordFields<'_> {
    fn len(&self) -> usize {
        self.bounds.len()
    }
    fn as_slice(&self) -> &[u8] {
        self.bytes
    }
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        self.bounds.get(i).map(|&(a, b)| a..b)
    }
    fn text(&self) -> Option<&str> {
        self.text.or_else(|| std::str::from_utf8(self.bytes).ok())
    }
}

/// What [`RecordParser::next`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A record, into [`RecordParser::record`], that `csv` reports at this line.
    Record(u64),
    /// The chunk's records are all read.
    End,
    /// The record that `csv` would start reading this many bytes before the chunk's end (at this
    /// line) runs past the chunk's end.
    Past(usize, u64),
}

/// Parses one chunk's records (see the module documentation). Reused from chunk to chunk.
pub struct RecordParser {
    /// The record last read.
    pub record: Record,
    core: csv_core::Reader,
    /// Whether `core` parses the rest of the chunk.
    slow: bool,
    pos: usize,
    /// Where csv_core's fields end.
    ends: Vec<usize>,
    /// The line `csv` is at, but for a `\n` ending the last record's `\r\n` (`deferred`): csv
    /// counts that one when it reads the next record.
    line: u64,
    deferred: bool,
}

impl Default for RecordParser {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordParser {
    /// A parser.
    pub fn new() -> Self {
        Self {
            record: Record::default(),
            core: csv_core::Reader::new(),
            slow: false,
            pos: 0,
            ends: Vec::new(),
            line: 0,
            deferred: false,
        }
    }

    /// Starts on a chunk.
    pub fn start(&mut self, chunk: &Chunk) {
        self.slow = false;
        self.pos = 0;
        self.deferred = chunk.after_crlf;
        self.line = chunk.line - u64::from(chunk.after_crlf);
    }

    /// The next record of `data` (the chunk given to [`RecordParser::start`]; `last`: it ends the
    /// file).
    pub fn next(&mut self, data: &[u8], last: bool) -> Step {
        if self.slow {
            let p = self.pos;
            let crlf = p > 0 && data[p - 1] == b'\r' && data.get(p) == Some(&b'\n');
            return self.slow_record(data, last, (self.line, crlf), p);
        }
        // csv's line where it starts reading: before the `\n` of the last record's `\r\n` (which
        // is counted for the record) and before blank lines.
        let at = self.line;
        let crlf = self.deferred;
        // Where csv would start reading, counted back from the chunk's end.
        let from_end = data.len() - self.pos + usize::from(self.deferred);
        self.line += u64::from(std::mem::take(&mut self.deferred));
        // Blank lines (line breaks and carriage returns before a record) are skipped.
        let mut p = self.pos;
        while p < data.len() && matches!(data[p], b'\n' | b'\r') {
            self.line += u64::from(data[p] == b'\n');
            p += 1;
        }
        if p == data.len() {
            self.pos = p;
            return Step::End;
        }
        match self.fast(data, p) {
            Some((end, lines, ends_crlf)) => {
                self.pos = end;
                self.line += lines;
                self.deferred = ends_crlf;
                Step::Record(at + u64::from(crlf))
            }
            None => {
                // csv_core from here on (after the blank lines, which it skips alike). A reset
                // csv_core reader strips a byte order mark from the first bytes it reads; in the
                // middle of a file nothing is stripped, so it reads one blank line first.
                self.core.reset();
                let (mut out, mut ends) = ([0u8; 1], [0usize; 1]);
                let _ = self.core.read_record(b"\n", &mut out, &mut ends);
                self.slow = true;
                self.pos = p;
                match self.slow_record(data, last, (at, crlf), p) {
                    Step::Past(..) => Step::Past(from_end, at),
                    step => step,
                }
            }
        }
    }

    /// The fast path: a record at `p` whose fields are unquoted (no `"` or `\r`) or quoted the
    /// usual way, ending in `\n` or `\r\n`. Returns the position after it, the line breaks csv
    /// counts in it, and whether it ended in `\r\n` (whose `\n` is not counted); `None` for any
    /// other record. The fields are slices of the chunk, or copied when one holds `""`.
    fn fast(&mut self, data: &[u8], p: usize) -> Option<(usize, u64, bool)> {
        self.fast_in(data, p, false).or_else(|| {
            if self.record.data.is_empty() {
                None
            } else {
                self.fast_in(data, p, true)
            }
        })
    }

    /// [`RecordParser::fast`], with the fields copied or not. Without copying, `None` with
    /// `self.record.data` not empty means a `""` was met (the record may still be taken, copied).
    fn fast_in(&mut self, data: &[u8], start: usize, copy: bool) -> Option<(usize, u64, bool)> {
        let r = &mut self.record;
        r.data.clear();
        r.bounds.clear();
        let mut lines = 0;
        let mut p = start;
        // Whether data[p] ends the record: `\n`, or `\r\n`.
        let end = |p: usize| match data.get(p) {
            Some(b'\n') => Some(true),
            Some(b'\r') if data.get(p + 1) == Some(&b'\n') => Some(true),
            Some(b',') => Some(false),
            _ => None,
        };
        loop {
            // One field from p; then data[p] is the byte after it.
            let field_start = if copy { r.data.len() } else { p - start };
            if data[p] == b'"' {
                p += 1;
                let mut from = p;
                loop {
                    loop {
                        p = crate::scan::find_any(data, p, [b'"', b'\n']);
                        if data.get(p) != Some(&b'\n') {
                            break;
                        }
                        lines += 1;
                        p += 1;
                    }
                    if copy {
                        r.data.extend_from_slice(&data[from..p.min(data.len())]);
                    }
                    // The closing quote must be followed by `"` (a quote inside) or end the field.
                    p += 1;
                    if data.get(p) != Some(&b'"') {
                        break;
                    }
                    if !copy {
                        // Copy this record's fields instead (see `fast`).
                        r.data.push(b'"');
                        return None;
                    }
                    r.data.push(b'"');
                    p += 1;
                    from = p;
                }
                let field_end = if copy { r.data.len() } else { p - 1 - start };
                r.bounds.push((field_start + usize::from(!copy), field_end));
            } else {
                let from = p;
                p = crate::scan::find_any(data, p, [b',', b'\n', b'\r', b'"']);
                if copy {
                    r.data.extend_from_slice(&data[from..p]);
                    r.bounds.push((field_start, r.data.len()));
                } else {
                    r.bounds.push((field_start, p - start));
                }
            }
            if end(p)? {
                r.raw = (!copy).then_some((start, p));
                return Some(match data[p] {
                    b'\n' => (p + 1, lines + 1, false),
                    _ => (p + 2, lines, true),
                });
            }
            p += 1;
            if p == data.len() {
                return None;
            }
        }
    }

    /// One record from `p` by csv_core, reported at line `at` (csv's line there), plus one when
    /// `crlf` (csv starts reading at the `\n` of a `\r\n`); [`Step::Past`] gives csv's line.
    fn slow_record(&mut self, data: &[u8], last: bool, (at, crlf): (u64, bool), p: usize) -> Step {
        use csv_core::ReadRecordResult as R;
        let r = &mut self.record;
        r.raw = None;
        let ends = &mut self.ends;
        let (mut nout, mut nend, mut pos) = (0, 0, p);
        let step = loop {
            if pos == data.len() && !last {
                // The chunk ended inside a record, unless only blank lines were left.
                self.pos = pos;
                break if blank(&data[p..]) { Step::End } else { Step::Past(data.len() - p, at) };
            }
            if r.data.len() < nout + 256 {
                r.data.resize(nout + 256 + r.data.len(), 0);
            }
            if ends.len() < nend + 16 {
                ends.resize(nend + 16 + ends.len(), 0);
            }
            // At the end of the file, an empty input tells csv_core so.
            let input = &data[pos..];
            let (res, i, o, e) = self.core.read_record(input, &mut r.data[nout..], &mut ends[nend..]);
            self.line += count(&input[..i], b'\n') as u64;
            pos += i;
            nout += o;
            nend += e;
            match res {
                R::InputEmpty | R::OutputFull | R::OutputEndsFull => {}
                R::Record => {
                    r.data.truncate(nout);
                    self.pos = pos;
                    break Step::Record(at + u64::from(crlf));
                }
                R::End => {
                    self.pos = pos;
                    break Step::End;
                }
            }
        };
        r.bounds.clear();
        if let Step::Record(_) = step {
            let mut from = 0;
            for &e in &ends[..nend] {
                r.bounds.push((from, e));
                from = e;
            }
        }
        step
    }
}

/// Whether `b` holds only line breaks and carriage returns.
fn blank(b: &[u8]) -> bool {
    b.iter().all(|&c| c == b'\n' || c == b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::searches::Fields;

    /// Records with the line each is reported at, and their fields.
    type Records = Vec<(u64, Vec<Vec<u8>>)>;

    /// Every record of `text` but the first (the header) with its line, as csv reads them (the
    /// line counting the `\n` of a `\r\n` csv starts reading at), and where the first record
    /// starts (byte, line).
    fn by_csv(text: &[u8]) -> (Records, (usize, u64)) {
        let mut r = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(text);
        let _ = r.byte_headers().unwrap();
        let start = (r.position().byte() as usize, r.position().line());
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        // At the `\n` of a `\r\n`: the line after it (see the module documentation).
        let crlf = |b: usize| b > 0 && text[b - 1] == b'\r' && text.get(b) == Some(&b'\n');
        while r.read_byte_record(&mut rec).unwrap() {
            let p = rec.position().unwrap();
            let line = p.line() + u64::from(crlf(p.byte() as usize));
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        // As the audit starts after the header's `\r\n`.
        let start = if crlf(start.0) { (start.0 + 1, start.1 + 1) } else { start };
        (out, start)
    }

    /// The same by chunks cut as [`Chunks`] cuts them, from blocks of `size` bytes; `None` when a
    /// record ran past a cut.
    fn by_chunks(text: &[u8], (start, line): (usize, u64), size: usize) -> Option<Records> {
        let mut out = Vec::new();
        let mut parser = RecordParser::new();
        let mut cuts = vec![start];
        let mut from = start;
        while from < text.len() {
            // A block, grown until it holds a cut or reaches the end.
            let mut end = from;
            let cut = loop {
                end = (end + size).min(text.len());
                if end == text.len() {
                    break end;
                }
                if let Some(c) = last_cut(&text[from..end], 0, count(&text[from..end], b'"')) {
                    break from + c;
                }
            };
            cuts.push(cut);
            from = cut;
        }
        for (k, w) in cuts.windows(2).enumerate() {
            let chunk = Chunk {
                data: text[w[0]..w[1]].to_vec(),
                offset: w[0] as u64,
                line: line + count(&text[start..w[0]], b'\n') as u64,
                after_crlf: text[..w[0]].ends_with(b"\r\n"),
                last: k == cuts.len() - 2,
                in_order: false,
            };
            parser.start(&chunk);
            loop {
                match parser.next(&chunk.data, chunk.last) {
                    Step::Record(line) => {
                        let r = parser.record.fields(&chunk.data, None);
                        out.push((line, (0..r.len()).map(|i| r.as_slice()[r.range(i).unwrap()].to_vec()).collect()));
                    }
                    Step::End => break,
                    Step::Past(..) => return None,
                }
            }
        }
        Some(out)
    }

    /// A record that quotes otherwise, across a cut: the parser says where csv would resume.
    #[test]
    fn past_a_cut_reads_on_in_order() {
        // After the header, `ab"c,1` and `"d\ne",2` (a quote inside an unquoted field is kept as
        // is, so the quotes' count is odd from there on); the chunk is cut inside the second.
        let text = b"x,y\nab\"c,1\n\"d\ne\",2\n3,4\n";
        let chunk = Chunk { data: text[4..13].to_vec(), offset: 4, line: 2, ..Default::default() };
        let mut parser = RecordParser::new();
        parser.start(&chunk);
        assert_eq!(parser.next(&chunk.data, false), Step::Record(2));
        assert_eq!(parser.next(&chunk.data, false), Step::Past(2, 3));
    }

    #[test]
    fn chunks_parse_as_csv_does() {
        let cases: &[&[u8]] = &[
            b"a,b,c\n1,2,3\n",
            b"a,b\n1,2",
            b"a,\"b\n\"\"c\"\"\",d\n\n\n1,,3\n,\n\"\"\n",
            b"a,b\r\n1,2\r\n3,4\r\n",
            b"a,b\r1,2\r3,4",
            b"x,y\n\"ab\"c,d\nab\"c,\"e\nf\"\n1,2\n",
            b"x,y\n\"unterminated,1\n2,3\n",
            b"\xef\xbb\xbfa,b\n\xef\xbb\xbf1,2\n",
            b"a,b\n\n\n1,2\n\r\n3,4\n\n",
            b"\"a\"\"\",\"\"\n\"\",x\n",
            b"a,b\n1,\"2\"\r\n3,4\n",
            b"a,b\r\n1,\"2\r\nx\"\r\n\r\n3,4\r\n5,\r\n\"6\",\"\"\r\n7,8",
            b"a,b\r\n1,2\r\n\n3,4\r\r\n5,6\n7,8\r\n",
        ];
        for text in cases {
            let (want, start) = by_csv(text);
            for size in 1..=text.len() + 1 {
                if let Some(got) = by_chunks(text, start, size) {
                    assert_eq!(got, want, "{:?} in chunks of {size}", String::from_utf8_lossy(text));
                }
            }
            let whole = by_chunks(text, start, text.len() + 1);
            assert_eq!(whole, Some(want.clone()), "{:?}", String::from_utf8_lossy(text));
        }
    }
}
