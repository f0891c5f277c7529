//! The ALPR search-audit importer: Flock transparency-portal exports and organization/network
//! audits, in all their column and time-format variants, read as a stream (one row in memory).
//!
//! Columns are recognised by a normalised header name (lowercase, letters and digits only), so
//! `Org_Name`, `Org Name` and `org name` are one column. Known names:
//!
//! | field | header names |
//! |---|---|
//! | id (required) | `id`, `ID`, `Search ID` |
//! | time (required) | `searchDate`, `Search_Time`, `Search Time`, `Date`, `Timestamp`, `Created At` |
//! | reason (required) | `reason`, `Reason`, `Search Reason`, `Justification` |
//! | user | `userId`, `User`, `Name`, `User Name`, `Officer` |
//! | organization | `Org_Name`, `Org Name`, `Organization`, `Agency` (a `[Federal]` tag is read) |
//! | devices | `cameraCount`, `Total_Devices_Searched`, `Devices Searched`, `Cameras` |
//! | networks | `Total_Networks_Searched`, `Networks Searched`, `Networks` |
//! | time frame | `Time_Frame_Start` + `Time_Frame_End`, or `Time Frame` with start and end on two lines |
//! | case number | `Case #`, `Case Number`, `Case` |
//! | other | `License Plate`, `Filters`, `Offense Type`, `Text Prompt`, `Search_Type`, `Moderation` |
//!
//! Every data row is counted: kept, or rejected with its line, column and reason (wrong number of
//! fields, empty id, unparseable time, non-numeric count, invalid UTF-8 in a recognised column
//! other than the time frame). Nothing is dropped silently. The time frame is read into
//! [`Search::frame`] where it parses; no detector reads it, so a frame that does not parse leaves
//! it unset and does not reject its row.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::stats::ImportStats;
use crate::time::{self, Timestamp};

/// A field of a search audit, whatever the export calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The search's unique id.
    Id,
    /// When the search ran.
    Time,
    /// The reason the officer typed or chose.
    Reason,
    /// The officer (name or opaque user id).
    User,
    /// The searching organization.
    Org,
    /// Cameras (devices) searched.
    Devices,
    /// Networks (agencies' camera sets) searched.
    Networks,
    /// Start of the searched time window.
    FrameStart,
    /// End of the searched time window.
    FrameEnd,
    /// Start and end of the window in one cell, one per line.
    Frame,
    /// Case or incident number.
    CaseNumber,
    /// Licence plate searched.
    Plate,
    /// Search filters (make, colour, ...).
    Filters,
    /// Offence type chosen from a list.
    OffenseType,
    /// Free-text prompt of a "freeform" search.
    TextPrompt,
    /// Search type (lookup, search, freeform, visual, ...).
    SearchType,
    /// Moderation outcome (allow, warn, block).
    Moderation,
}

const FIELDS: usize = 17;

impl Field {
    /// Recognises a header cell.
    pub fn from_header(name: &str) -> Option<Field> {
        let norm: String = name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        Some(match norm.as_str() {
            "id" | "searchid" => Field::Id,
            "searchdate" | "searchtime" | "date" | "timestamp" | "createdat" | "time" => Field::Time,
            "reason" | "searchreason" | "justification" => Field::Reason,
            "userid" | "user" | "name" | "username" | "officer" => Field::User,
            "orgname" | "organization" | "organisation" | "agency" | "org" => Field::Org,
            "cameracount" | "totaldevicessearched" | "devicessearched" | "cameras" | "devices" => Field::Devices,
            "totalnetworkssearched" | "networkssearched" | "networks" => Field::Networks,
            "timeframestart" => Field::FrameStart,
            "timeframeend" => Field::FrameEnd,
            "timeframe" => Field::Frame,
            "case" | "casenumber" | "caseno" => Field::CaseNumber,
            "licenseplate" | "plate" | "licenceplate" => Field::Plate,
            "filters" => Field::Filters,
            "offensetype" => Field::OffenseType,
            "textprompt" | "prompt" => Field::TextPrompt,
            "searchtype" | "type" => Field::SearchType,
            "moderation" => Field::Moderation,
            _ => return None,
        })
    }
}

/// One search, as imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// The 1-based line where the row starts.
    pub line: u64,
    /// The search id.
    pub id: String,
    /// When it ran.
    pub time: Option<Timestamp>,
    /// The reason as written.
    pub reason: String,
    /// The officer, if the export names one.
    pub user: Option<String>,
    /// The searching organization, if the export names one.
    pub org: Option<String>,
    /// Whether the organization carries a `[Federal]` tag.
    pub org_federal: bool,
    /// Cameras searched.
    pub devices: Option<u64>,
    /// Networks searched.
    pub networks: Option<u64>,
    /// The searched time window; `None` where the export has none or it does not parse (no
    /// detector reads it, so a row is not rejected for it).
    pub frame: Option<(Timestamp, Timestamp)>,
    /// Case number, if a column gives one (empty cells are `None`).
    pub case_number: Option<String>,
    /// Plate searched.
    pub plate: Option<String>,
    /// Offence type.
    pub offense_type: Option<String>,
    /// Free-text prompt.
    pub text_prompt: Option<String>,
    /// Filters.
    pub filters: Option<String>,
    /// Search type.
    pub search_type: Option<String>,
    /// Moderation outcome.
    pub moderation: Option<String>,
}

impl Search {
    /// The search, borrowed (what the detectors read).
    pub fn view(&self) -> SearchRef<'_> {
        SearchRef {
            line: self.line,
            id: &self.id,
            time: self.time,
            reason: &self.reason,
            user: self.user.as_deref(),
            org: self.org.as_deref(),
            org_federal: self.org_federal,
            devices: self.devices,
            networks: self.networks,
            case_number: self.case_number.as_deref(),
            plate: self.plate.as_deref(),
            offense_type: self.offense_type.as_deref(),
            text_prompt: self.text_prompt.as_deref(),
            filters: self.filters.as_deref(),
            search_type: self.search_type.as_deref(),
            moderation: self.moderation.as_deref(),
        }
    }

    /// All free text an officer wrote or chose for this search (see [`SearchRef::purpose_text`]).
    pub fn purpose_text(&self) -> std::borrow::Cow<'_, str> {
        self.view().purpose_text()
    }

    /// Sets this search to `s`, reusing its strings' memory.
    fn set_from(&mut self, s: &SearchRef) {
        self.line = s.line;
        set(&mut self.id, s.id);
        self.time = s.time;
        set(&mut self.reason, s.reason);
        set_opt(&mut self.user, s.user);
        set_opt(&mut self.org, s.org);
        self.org_federal = s.org_federal;
        self.devices = s.devices;
        self.networks = s.networks;
        set_opt(&mut self.case_number, s.case_number);
        set_opt(&mut self.plate, s.plate);
        set_opt(&mut self.offense_type, s.offense_type);
        set_opt(&mut self.text_prompt, s.text_prompt);
        set_opt(&mut self.filters, s.filters);
        set_opt(&mut self.search_type, s.search_type);
        set_opt(&mut self.moderation, s.moderation);
    }
}

/// A [`Search`] whose text is borrowed from the record it was read from (no copy per cell): what
/// the detectors read. It has no time frame: no detector reads one, so it is not parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchRef<'a> {
    /// The 1-based line where the row starts.
    pub line: u64,
    /// The search id.
    pub id: &'a str,
    /// When it ran.
    pub time: Option<Timestamp>,
    /// The reason as written.
    pub reason: &'a str,
    /// The officer, if the export names one.
    pub user: Option<&'a str>,
    /// The searching organization, if the export names one.
    pub org: Option<&'a str>,
    /// Whether the organization carries a `[Federal]` tag.
    pub org_federal: bool,
    /// Cameras searched.
    pub devices: Option<u64>,
    /// Networks searched.
    pub networks: Option<u64>,
    /// Case number, if a column gives one (empty cells are `None`).
    pub case_number: Option<&'a str>,
    /// Plate searched.
    pub plate: Option<&'a str>,
    /// Offence type.
    pub offense_type: Option<&'a str>,
    /// Free-text prompt.
    pub text_prompt: Option<&'a str>,
    /// Filters.
    pub filters: Option<&'a str>,
    /// Search type.
    pub search_type: Option<&'a str>,
    /// Moderation outcome.
    pub moderation: Option<&'a str>,
}

impl<'a> SearchRef<'a> {
    /// All free text an officer wrote or chose for this search (reason, offence type, prompt),
    /// joined by " | " for the detectors (the reason itself, borrowed, when there is nothing else).
    pub fn purpose_text(&self) -> std::borrow::Cow<'a, str> {
        let extra = || [self.offense_type, self.text_prompt].into_iter().flatten().filter(|t| !t.is_empty());
        if extra().next().is_none() {
            return std::borrow::Cow::Borrowed(self.reason);
        }
        let mut s = self.reason.to_owned();
        for t in extra() {
            s.push_str(" | ");
            s.push_str(t);
        }
        std::borrow::Cow::Owned(s)
    }
}

/// A streaming reader of a search audit.
pub struct SearchReader<R: Read> {
    path: std::path::PathBuf,
    reader: csv::Reader<CrLf<R>>,
    layout: Layout,
    record: csv::ByteRecord,
    /// Rows read, kept and rejected so far.
    pub stats: ImportStats,
}

/// Which column holds which field, and the header's names (for rejections).
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    columns: [Option<usize>; FIELDS],
    /// The fields the detectors read that the export has (all but the time frame), with their
    /// columns: what [`Layout::read`] slices.
    read: Vec<(usize, usize)>,
    headers: Vec<String>,
}

/// A CSV record's fields: their bytes one after another, and each one's range in them.
pub(crate) trait Fields {
    /// Number of fields.
    fn len(&self) -> usize;
    /// All fields' bytes, one after another.
    fn as_slice(&self) -> &[u8];
    /// Field `i`'s range in [`Fields::as_slice`].
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>>;
    /// All fields' bytes as text, when they are valid UTF-8.
    fn text(&self) -> Option<&str> {
        std::str::from_utf8(self.as_slice()).ok()
    }
}

/// Why a row is rejected: the column (its header), if one is to blame, and the reason.
pub(crate) type Rejected = (Option<String>, String);

impl Fields for csv::ByteRecord {
    fn len(&self) -> usize {
        csv::ByteRecord::len(self)
    }
    fn as_slice(&self) -> &[u8] {
        csv::ByteRecord::as_slice(self)
    }
    fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        csv::ByteRecord::range(self, i)
    }
}

fn slot(f: Field) -> usize {
    f as usize
}

impl<R: Read> SearchReader<R> {
    /// Reads the header and maps its columns; fails if `id`, `time` or `reason` is missing.
    /// `path` is used in messages only.
    pub fn new(path: &Path, input: R) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(CrLf::new(input));
        let raw = reader.byte_headers().map_err(|e| Error::csv(path, e))?.clone();
        let mut headers = Vec::with_capacity(raw.len());
        let mut columns = [None; FIELDS];
        for (i, h) in raw.iter().enumerate() {
            let h = String::from_utf8_lossy(h);
            let h = h.trim_start_matches('\u{feff}').trim().to_owned();
            if let Some(f) = Field::from_header(&h) {
                if columns[slot(f)].is_none() {
                    columns[slot(f)] = Some(i);
                }
            }
            headers.push(h);
        }
        let missing: Vec<&str> = [(Field::Id, "id"), (Field::Time, "search time"), (Field::Reason, "reason")]
            .iter()
            .filter(|(f, _)| columns[slot(*f)].is_none())
            .map(|(_, n)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(Error::Header {
                path: path.to_owned(),
                message: format!(
                    "not a search audit: no {} column (columns found: {})",
                    missing.join(", "),
                    headers.join(", ")
                ),
            });
        }
        let mut stats = ImportStats::default();
        if columns[slot(Field::User)].is_none() {
            stats
                .notes
                .push("no user column: the per-officer detectors (off-hours, bursts) cannot run on this export".into());
        }
        Ok(Self {
            path: path.to_owned(),
            reader,
            layout: Layout::new(columns, headers),
            record: csv::ByteRecord::new(),
            stats,
        })
    }

    /// Whether the export has this field.
    pub fn has(&self, f: Field) -> bool {
        self.layout.columns[slot(f)].is_some()
    }

    /// The columns, for parsing records read otherwise ([`Layout::fill`]).
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Where the next record starts: (byte offset, line number, whether the bytes before it are
    /// a `\r\n` ending the header). Where csv stands at the `\n` of a `\r\n`, the record starts
    /// after it.
    pub(crate) fn position(&self) -> (u64, u64, bool) {
        let p = self.reader.position();
        match self.reader.get_ref().marks.contains(&p.byte()) {
            true => (p.byte() + 1, p.line() + 1, true),
            false => (p.byte(), p.line(), false),
        }
    }

    /// The line of a record that csv reports at `pos`: csv's line, plus one where csv starts
    /// reading at the `\n` of a `\r\n` (it ends a record at its `\r`), so that a record is at the
    /// same line whether the file's lines end in `\r\n` or `\n`.
    fn line_of(&mut self, pos: Option<&csv::Position>) -> u64 {
        let Some(p) = pos else { return 0 };
        let marks = &mut self.reader.get_mut().marks;
        while marks.front().is_some_and(|&m| m < p.byte()) {
            marks.pop_front();
        }
        p.line() + u64::from(marks.front() == Some(&p.byte()))
    }

    /// Bytes consumed so far (for progress bars).
    pub fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    /// The next kept search; rejected rows are recorded in [`Self::stats`] and skipped. `Ok(None)`
    /// at the end of the file; `Err` only when the CSV itself is broken or unreadable.
    pub fn next_search(&mut self) -> Result<Option<Search>> {
        let mut s = Search::default();
        Ok(self.next_search_into(&mut s)?.then_some(s))
    }

    /// [`Self::next_search`] into `search`, reusing its strings' memory (no allocation per row once
    /// the strings are long enough). False at the end of the file; `search` is then unspecified.
    pub fn next_search_into(&mut self, search: &mut Search) -> Result<bool> {
        loop {
            let more = self.reader.read_byte_record(&mut self.record).map_err(|e| Error::csv(&self.path, e))?;
            if !more {
                return Ok(false);
            }
            let pos = self.record.position().cloned();
            let line = self.line_of(pos.as_ref());
            // A blank line is not a row: csv skips those itself.
            self.stats.read += 1;
            match self.layout.fill(&self.record, line, search) {
                Ok(()) => {
                    self.stats.kept += 1;
                    return Ok(true);
                }
                Err((column, reason)) => {
                    self.stats.reject(line, column.as_deref(), reason);
                }
            }
        }
    }
}

impl Layout {
    fn new(columns: [Option<usize>; FIELDS], headers: Vec<String>) -> Self {
        let frame = [Field::FrameStart, Field::FrameEnd, Field::Frame].map(slot);
        let read = (0..FIELDS).filter(|f| !frame.contains(f)).filter_map(|f| columns[f].map(|c| (f, c))).collect();
        Layout { columns, read, headers }
    }

    /// A cell, trimmed. `row` is the whole record as text when it is valid UTF-8 (checked once per
    /// row): a cell is then a slice of it; otherwise each cell is checked on its own.
    fn cell<'a>(
        &'a self,
        record: &'a impl Fields,
        row: Option<&'a str>,
        f: Field,
    ) -> std::result::Result<Option<&'a str>, Rejected> {
        let Some(i) = self.columns[slot(f)] else { return Ok(None) };
        let Some(range) = record.range(i) else { return Ok(None) };
        if let Some(s) = row.and_then(|r| r.get(range.clone())) {
            return Ok(Some(trim(s)));
        }
        std::str::from_utf8(&record.as_slice()[range])
            .map(|s| Some(trim(s)))
            .map_err(|_| (Some(self.headers[i].clone()), "invalid UTF-8".to_owned()))
    }

    fn header(&self, f: Field) -> Option<String> {
        self.columns[slot(f)].map(|i| self.headers[i].clone())
    }

    /// Reads the search of `record`, which starts at `line`, into `out` (reusing its strings'
    /// memory); `Err((column, reason))` when the row is rejected.
    pub(crate) fn fill(&self, record: &impl Fields, line: u64, out: &mut Search) -> std::result::Result<(), Rejected> {
        out.set_from(&self.read(record, line)?);
        out.frame = self.frame(record);
        Ok(())
    }

    /// The time frame of `record`, if its cells give one that parses.
    fn frame(&self, record: &impl Fields) -> Option<(Timestamp, Timestamp)> {
        let row = record.text();
        let cell = |f: Field| self.cell(record, row, f).ok().flatten().filter(|t| !t.is_empty());
        let ts = |f: Field| cell(f).and_then(|t| time::parse(t).ok());
        if let (Some(a), Some(b)) = (ts(Field::FrameStart), ts(Field::FrameEnd)) {
            return Some((a, b));
        }
        let mut parts = cell(Field::Frame)?.lines().map(str::trim).filter(|l| !l.is_empty());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), None) => Some((time::parse(a).ok()?, time::parse(b).ok()?)),
            _ => None,
        }
    }

    /// The search of `record`, which starts at `line`, borrowed from it; `Err((column, reason))`
    /// when the row is rejected.
    pub(crate) fn read<'a>(
        &'a self,
        record: &'a impl Fields,
        line: u64,
    ) -> std::result::Result<SearchRef<'a>, Rejected> {
        if record.len() != self.headers.len() {
            return Err((None, format!("{} fields, the header has {}", record.len(), self.headers.len())));
        }
        let row = record.text();
        if let Some(text) = row {
            // A row of valid UTF-8 (nearly all): every cell at once, none can fail.
            let mut cells = [None; FIELDS];
            let mut whole = true;
            for &(field, column) in &self.read {
                if let Some(range) = record.range(column) {
                    let cell = text.get(range).map(trim);
                    whole &= cell.is_some();
                    cells[field] = cell;
                }
            }
            if whole {
                return self.assemble(line, |f| Ok(cells[slot(f)]));
            }
        }
        self.assemble(line, |f| self.cell(record, row, f))
    }

    /// The search at `line` whose cells `cell` gives (trimmed; `None` where the export has no
    /// such column).
    fn assemble<'a>(
        &'a self,
        line: u64,
        cell: impl Fn(Field) -> std::result::Result<Option<&'a str>, Rejected>,
    ) -> std::result::Result<SearchRef<'a>, Rejected> {
        let opt = |f: Field| -> std::result::Result<Option<&str>, Rejected> { Ok(cell(f)?.filter(|s| !s.is_empty())) };
        let id = cell(Field::Id)?.unwrap_or("");
        if id.is_empty() {
            return Err((self.header(Field::Id), "empty search id".into()));
        }
        let time_text = cell(Field::Time)?.unwrap_or("");
        let time = Some(time::parse(time_text).map_err(|e| (self.header(Field::Time), e))?);
        let count = |f: Field| -> std::result::Result<Option<u64>, Rejected> {
            match cell(f)? {
                None | Some("") => Ok(None),
                Some(t) => plain_count(t)
                    .ok_or(())
                    .or_else(|_| t.replace(',', "").parse::<u64>())
                    .map(Some)
                    .map_err(|_| (self.header(f), format!("not a count: {t:?}"))),
            }
        };
        let devices = count(Field::Devices)?;
        let networks = count(Field::Networks)?;
        let org = opt(Field::Org)?;
        Ok(SearchRef {
            line,
            id,
            time,
            reason: cell(Field::Reason)?.unwrap_or(""),
            user: opt(Field::User)?,
            org_federal: org.is_some_and(|o| contains_ignore_ascii_case(o, "[federal]")),
            org,
            devices,
            networks,
            case_number: opt(Field::CaseNumber)?,
            plate: opt(Field::Plate)?,
            offense_type: opt(Field::OffenseType)?,
            text_prompt: opt(Field::TextPrompt)?,
            filters: opt(Field::Filters)?,
            search_type: opt(Field::SearchType)?,
            moderation: opt(Field::Moderation)?,
        })
    }
}

/// `t` as a count when it is 1 to 19 ASCII digits (nearly every count cell), without `parse`'s
/// general handling of signs and overflow.
fn plain_count(t: &str) -> Option<u64> {
    let b = t.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let (mut n, mut ok) = (0u64, true);
    for &c in b {
        let d = c.wrapping_sub(b'0');
        ok &= d < 10;
        n = n.wrapping_mul(10).wrapping_add(u64::from(d));
    }
    ok.then_some(n)
}

/// `s.trim()`, without looking at its characters when it begins and ends in printable ASCII.
fn trim(s: &str) -> &str {
    let graphic = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    if graphic(s.as_bytes().first()) && graphic(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

fn set(dst: &mut String, v: &str) {
    dst.clear();
    dst.push_str(v);
}

fn set_opt(dst: &mut Option<String>, v: Option<&str>) {
    match (dst.as_mut(), v) {
        (Some(d), Some(v)) => set(d, v),
        (None, Some(v)) => *dst = Some(v.to_owned()),
        (_, None) => *dst = None,
    }
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let first = needle.as_bytes()[0];
    // Most names hold no `[`: one pass over the bytes says so.
    if !first.is_ascii_alphabetic() && crate::scan::find_any(hay.as_bytes(), 0, [first]) == hay.len() {
        return false;
    }
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w[0].eq_ignore_ascii_case(&first) && w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Opens a search audit file to read from the record at byte `offset`, which starts at `line`
/// (a record start found by reading the file before).
pub(crate) fn open_at(path: &Path, offset: u64, line: u64) -> Result<SearchReader<std::io::BufReader<std::fs::File>>> {
    let mut r = open(path)?;
    if offset > 0 {
        // Whether the byte before `offset` is a `\r` (see [`CrLf`]).
        use std::io::{Read as _, Seek as _};
        let mut f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        let mut b = [0u8; 1];
        let read = f.seek(std::io::SeekFrom::Start(offset - 1)).and_then(|_| f.read_exact(&mut b));
        read.map_err(|source| Error::Io { path: path.to_owned(), source })?;
        r.reader.get_mut().cr_before_seek = b[0] == b'\r';
    }
    let mut pos = csv::Position::new();
    pos.set_byte(offset).set_line(line);
    r.reader.seek(pos).map_err(|e| Error::csv(path, e))?;
    r.stats = ImportStats::default();
    Ok(r)
}

/// Opens a search audit file.
pub fn open(path: &Path) -> Result<SearchReader<std::io::BufReader<std::fs::File>>> {
    let f = std::fs::File::open(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    SearchReader::new(path, std::io::BufReader::with_capacity(1 << 16, f))
}

/// A reader that notes where a `\n` follows a `\r` in what it reads (byte offsets from the start
/// of the file), so that [`SearchReader`] can tell where csv starts reading a record at the `\n`
/// of a `\r\n`. csv reads ahead by its buffer only: the offsets of the records read are dropped.
pub struct CrLf<R> {
    inner: R,
    offset: u64,
    last_cr: bool,
    marks: std::collections::VecDeque<u64>,
    /// Whether the byte before the next seek's offset is a `\r`.
    cr_before_seek: bool,
}

impl<R> CrLf<R> {
    fn new(inner: R) -> Self {
        Self { inner, offset: 0, last_cr: false, marks: Default::default(), cr_before_seek: false }
    }
}

impl<R: Read> Read for CrLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        if self.last_cr && got.first() == Some(&b'\n') {
            self.marks.push_back(self.offset);
        }
        let mut from = 0;
        while let Some(i) = got[from..].iter().position(|&b| b == b'\r') {
            let i = from + i;
            if got.get(i + 1) == Some(&b'\n') {
                self.marks.push_back(self.offset + i as u64 + 1);
            }
            from = i + 1;
        }
        if n > 0 {
            self.last_cr = got[n - 1] == b'\r';
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R: std::io::Seek> std::io::Seek for CrLf<R> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.offset = at;
        self.last_cr = std::mem::take(&mut self.cr_before_seek);
        self.marks.clear();
        Ok(at)
    }
}
