//! The text layer of a PDF, as lines of text on pages: what a printed email production is read
//! from ([`crate::printed`] splits the lines into messages).
//!
//! The file is parsed by `lopdf` (cross-reference tables and streams, object streams, filters,
//! damaged cross-reference tables rebuilt); this module interprets each page's content stream
//! itself, because splitting a print into messages needs each piece of text's position and font:
//!
//! - text operators `Tj`, `TJ` (a gap of more than 0.18 em between two strings is a space), `'`
//!   and `"`; positioning `Td`, `TD`, `T*`, `Tm`, `TL`; text state `Tf`, `Tc`, `Tw`, `Tz`, `Ts`;
//!   `cm`, `q` and `Q`; form XObjects (`Do`, nested up to 8 levels) are read with their own
//!   resources and matrix; image XObjects and inline images (`BI`) are noted;
//! - fonts: a `ToUnicode` CMap when the font has one (`bfchar` and `bfrange`, codes of one or two
//!   bytes as its code space says); otherwise the simple font's encoding as `lopdf` reads it
//!   (`WinAnsiEncoding`, `StandardEncoding`, `MacRomanEncoding`, `Differences`); a Type0
//!   (composite) font without a `ToUnicode` map cannot be read, and the page says so; glyph widths
//!   from `Widths` or `W`, or for the standard Helvetica, Times and Courier fonts from their
//!   metrics;
//! - text is placed by its position on the page, whatever the order it is drawn in: strings on one
//!   baseline (within 0.3 em) make a line, read left to right; a gap of more than 0.15 em between
//!   two strings is a space, one of more than 1.5 em starts a new [`Cell`] (a label and its value,
//!   a sender and the date at the right margin); rotated text (stamps in a margin) is left out.
//!
//! A page with no text but an image is *image-only* (a scan: OCR is needed to read it). Nothing
//! in a PDF makes this module panic (the parser is run under `catch_unwind`, and every stream is
//! decompressed to at most 64 MiB); a file that is not a PDF, is encrypted, or has no readable
//! page is an [`Error::Format`] naming the file.

use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::error::{Error, Result};

/// Most bytes one stream (a page's content, a form, a CMap) is decompressed to.
const MAX_STREAM: usize = 64 << 20;
/// Deepest nesting of form XObjects followed.
const MAX_FORM_DEPTH: usize = 8;

/// A stretch of a line, separated from the next by a gap of more than 1.5 em.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Left edge, in points from the page's left edge.
    pub x: f32,
    /// The text.
    pub text: String,
}

/// One line of text on a page.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The 1-based page number.
    pub page: u32,
    /// Left edge, in points from the page's left edge.
    pub x: f32,
    /// Baseline, in points up from the page's bottom edge.
    pub y: f32,
    /// The largest font size on the line, in points.
    pub size: f32,
    /// Whether all of the line is set in a bold font.
    pub bold: bool,
    /// The line's stretches, left to right.
    pub cells: Vec<Cell>,
    /// The cells joined by one space.
    pub text: String,
    /// Whether there is an empty line's height or more between this line and the one above it on
    /// the same page (false for a page's first line).
    pub gap_before: bool,
}

/// The text layer of a PDF.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PdfText {
    /// Number of pages.
    pub pages: u32,
    /// Every line of text, page by page, top to bottom.
    pub lines: Vec<Line>,
    /// Pages with an image and no text: scanned pages, which need OCR to be read.
    pub image_only: Vec<u32>,
    /// Pages whose text could not be read (or not all of it), and why.
    pub unreadable: Vec<(u32, String)>,
    /// The file does not end with `%%EOF` (in its last 1024 bytes): it was cut short, and what
    /// was read is what the parser could recover.
    pub truncated: bool,
}

/// Whether `data` starts like a PDF (`%PDF-` within its first 1024 bytes, as readers allow).
pub fn is_pdf(data: &[u8]) -> bool {
    data[..data.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// Reads the text layer of the PDF `data` (`path` names it in errors).
pub fn read(path: &Path, data: &[u8]) -> Result<PdfText> {
    let err = |message: String| Error::Format { path: path.to_owned(), message };
    if !is_pdf(data) {
        return Err(err("not a PDF file: no %PDF- header in its first 1024 bytes".into()));
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_document(data))) {
        Ok(r) => r.map_err(err),
        Err(_) => Err(err("the PDF is damaged: the PDF parser could not read it".into())),
    }
}

fn read_document(data: &[u8]) -> std::result::Result<PdfText, String> {
    let options = lopdf::LoadOptions::with_max_decompressed_size(MAX_STREAM);
    let doc = Document::load_mem_with_options(data, options).map_err(|e| match e {
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => locked(),
        e => format!("not a readable PDF ({e}): the file may be truncated or damaged"),
    })?;
    if doc.trailer.has(b"Encrypt") && !doc.was_encrypted() {
        return Err(locked());
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err("the PDF has no pages that can be found: the file may be truncated or damaged".into());
    }

    let mut text = PdfText { pages: pages.len() as u32, ..Default::default() };
    text.truncated = !data[data.len().saturating_sub(1024)..].windows(5).any(|w| w == b"%%EOF");
    let mut fonts = FontCache::default();
    for (&n, &id) in &pages {
        let mut page =
            PageReader { doc: &doc, fonts: &mut fonts, runs: Vec::new(), image: false, problems: Vec::new() };
        page.read_page(id);
        let has_text = page.runs.iter().any(|r| !r.text.trim().is_empty());
        if !has_text && page.image {
            text.image_only.push(n);
        }
        if !page.problems.is_empty() {
            page.problems.dedup();
            text.unreadable.push((n, page.problems.join("; ")));
        }
        text.lines.extend(lines(n, page.runs));
    }
    Ok(text)
}

fn locked() -> String {
    "the PDF is encrypted with a password: decrypt it first (e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf)"
        .into()
}

/// An affine matrix `[a b c d e f]` as PDF writes it.
#[derive(Clone, Copy, Debug)]
struct Matrix([f32; 6]);

impl Matrix {
    const IDENTITY: Matrix = Matrix([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]);

    fn translate(x: f32, y: f32) -> Matrix {
        Matrix([1.0, 0.0, 0.0, 1.0, x, y])
    }

    /// `self` then `o` (PDF's `self × o`).
    fn then(self, o: Matrix) -> Matrix {
        let [a, b, c, d, e, f] = self.0;
        let [a2, b2, c2, d2, e2, f2] = o.0;
        Matrix([
            a * a2 + b * c2,
            a * b2 + b * d2,
            c * a2 + d * c2,
            c * b2 + d * d2,
            e * a2 + f * c2 + e2,
            e * b2 + f * d2 + f2,
        ])
    }

    fn apply(self, x: f32, y: f32) -> (f32, f32) {
        let [a, b, c, d, e, f] = self.0;
        (a * x + c * y + e, b * x + d * y + f)
    }
}

fn number(o: &Object) -> Option<f32> {
    o.as_float().ok().filter(|v| v.is_finite())
}

fn numbers<const N: usize>(ops: &[Object]) -> Option<[f32; N]> {
    let mut out = [0.0; N];
    for (slot, o) in out.iter_mut().zip(ops.get(ops.len().checked_sub(N)?..)?) {
        *slot = number(o)?;
    }
    Some(out)
}

/// How a font's codes become text and widths.
struct Font<'d> {
    /// Codes are two bytes (a composite font).
    two_byte: bool,
    /// `ToUnicode`: code to text.
    to_unicode: Option<HashMap<u32, String>>,
    /// A simple font's encoding as `lopdf` reads it (when there is no `ToUnicode`).
    encoding: Option<lopdf::Encoding<'d>>,
    /// Glyph widths in thousandths of an em, by code.
    widths: HashMap<u32, f32>,
    /// The width of a code not in `widths`.
    default_width: f32,
    /// Whether the font is bold (by its name, weight or flags).
    bold: bool,
    /// Why the font's text cannot be read, if it cannot.
    unreadable: Option<String>,
}

#[derive(Default)]
struct FontCache<'d> {
    by_id: HashMap<ObjectId, Rc<Font<'d>>>,
}

fn resolve<'d>(doc: &'d Document, o: &'d Object) -> Option<&'d Object> {
    doc.dereference(o).ok().map(|(_, o)| o)
}

fn dict_get<'d>(doc: &'d Document, d: &'d Dictionary, key: &[u8]) -> Option<&'d Object> {
    d.get(key).ok().and_then(|o| resolve(doc, o))
}

fn stream_bytes(s: &Stream) -> Option<Vec<u8>> {
    if s.dict.has(b"Filter") {
        s.decompressed_content_with_limit(MAX_STREAM).ok()
    } else {
        Some(s.content.clone())
    }
}

impl<'d> Font<'d> {
    fn load(doc: &'d Document, d: &'d Dictionary) -> Font<'d> {
        let subtype = d.get(b"Subtype").and_then(Object::as_name).unwrap_or(b"");
        let base = dict_get(doc, d, b"BaseFont").and_then(|o| o.as_name().ok()).unwrap_or(b"");
        let base = String::from_utf8_lossy(base).into_owned();
        let two_byte = subtype == b"Type0";
        let to_unicode = dict_get(doc, d, b"ToUnicode")
            .and_then(|o| o.as_stream().ok())
            .and_then(stream_bytes)
            .map(|b| parse_cmap(&b))
            .filter(|m| !m.is_empty());
        let mut font = Font {
            two_byte,
            to_unicode,
            encoding: None,
            widths: HashMap::new(),
            default_width: 500.0,
            bold: is_bold_name(&base),
            unreadable: None,
        };
        let descriptor = |d: &Dictionary| dict_get(doc, d, b"FontDescriptor").and_then(|o| o.as_dict().ok()).cloned();
        if two_byte {
            let descendant = dict_get(doc, d, b"DescendantFonts")
                .and_then(|o| o.as_array().ok())
                .and_then(|a| a.first())
                .and_then(|o| resolve(doc, o))
                .and_then(|o| o.as_dict().ok());
            if let Some(cid) = descendant {
                font.default_width = dict_get(doc, cid, b"DW").and_then(number).unwrap_or(1000.0);
                if let Some(w) = dict_get(doc, cid, b"W").and_then(|o| o.as_array().ok()) {
                    cid_widths(doc, w, &mut font.widths);
                }
                if let Some(fd) = descriptor(cid) {
                    font.bold |= descriptor_bold(doc, &fd);
                }
            }
            if font.to_unicode.is_none() {
                font.unreadable = Some(format!(
                    "text in the composite font {base:?} has no ToUnicode map and cannot be read (OCR can read it)"
                ));
            }
            return font;
        }
        let fd = descriptor(d);
        if let Some(fd) = &fd {
            font.bold |= descriptor_bold(doc, fd);
        }
        let first = dict_get(doc, d, b"FirstChar").and_then(number).unwrap_or(0.0) as u32;
        if let Some(w) = dict_get(doc, d, b"Widths").and_then(|o| o.as_array().ok()) {
            for (i, o) in w.iter().enumerate() {
                if let Some(v) = resolve(doc, o).and_then(number) {
                    font.widths.insert(first + i as u32, v);
                }
            }
        }
        let missing = fd.as_ref().and_then(|fd| dict_get(doc, fd, b"MissingWidth")).and_then(number);
        if font.widths.is_empty() {
            if let Some(table) = standard_widths(&base) {
                for (i, &w) in table.iter().enumerate() {
                    font.widths.insert(32 + i as u32, f32::from(w));
                }
                font.default_width = 556.0;
            }
        }
        if let Some(m) = missing.filter(|m| *m > 0.0) {
            font.default_width = m;
        }
        let scale = if subtype == b"Type3" {
            dict_get(doc, d, b"FontMatrix")
                .and_then(|o| o.as_array().ok())
                .and_then(|a| a.first())
                .and_then(number)
                .map_or(1.0, |a| a * 1000.0)
        } else {
            1.0
        };
        if scale != 1.0 {
            font.widths.values_mut().for_each(|w| *w *= scale);
            font.default_width *= scale;
        }
        if font.to_unicode.is_none() {
            font.encoding = d.get_font_encoding_with_limit(doc, MAX_STREAM).ok();
        }
        font
    }

    /// The codes of `bytes`: (code, its byte length).
    fn codes(&self, bytes: &[u8]) -> Vec<u32> {
        if self.two_byte {
            bytes.chunks(2).map(|c| c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b))).collect()
        } else {
            bytes.iter().map(|&b| u32::from(b)).collect()
        }
    }

    fn text(&self, code: u32) -> String {
        if let Some(map) = &self.to_unicode {
            return map.get(&code).cloned().unwrap_or_else(|| {
                // A code the map leaves out: a simple font's byte as Latin-1, else nothing.
                if self.two_byte {
                    String::new()
                } else {
                    char::from_u32(code).map(String::from).unwrap_or_default()
                }
            });
        }
        match &self.encoding {
            Some(e) => e.bytes_to_string(&[code as u8]).unwrap_or_default(),
            None if !self.two_byte => char::from_u32(code).map(String::from).unwrap_or_default(),
            None => String::new(),
        }
    }

    fn width(&self, code: u32) -> f32 {
        self.widths.get(&code).copied().unwrap_or(self.default_width)
    }
}

fn is_bold_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["bold", "black", "heavy", "semibold", "demi"].iter().any(|w| n.contains(w))
}

fn descriptor_bold(doc: &Document, fd: &Dictionary) -> bool {
    let weight = dict_get(doc, fd, b"FontWeight").and_then(number).unwrap_or(0.0);
    let flags = dict_get(doc, fd, b"Flags").and_then(|o| o.as_i64().ok()).unwrap_or(0);
    weight >= 600.0 || flags & (1 << 18) != 0
}

fn cid_widths(doc: &Document, w: &[Object], out: &mut HashMap<u32, f32>) {
    let mut i = 0;
    while i < w.len() {
        let Some(first) = resolve(doc, &w[i]).and_then(number) else { return };
        let first = first.max(0.0) as u32;
        match w.get(i + 1).and_then(|o| resolve(doc, o)) {
            Some(Object::Array(list)) => {
                for (k, o) in list.iter().take(65_536).enumerate() {
                    if let Some(v) = resolve(doc, o).and_then(number) {
                        out.insert(first + k as u32, v);
                    }
                }
                i += 2;
            }
            Some(last) => {
                let (Some(last), Some(v)) = (number(last), w.get(i + 2).and_then(|o| resolve(doc, o)).and_then(number))
                else {
                    return;
                };
                let last = (last.max(0.0) as u32).min(first.saturating_add(65_535));
                for c in first..=last {
                    out.insert(c, v);
                }
                i += 3;
            }
            None => return,
        }
    }
}

/// Parses a `ToUnicode` CMap: `bfchar` and `bfrange` sections (ranges of at most 65,536 codes).
pub fn parse_cmap(data: &[u8]) -> HashMap<u32, String> {
    #[derive(Debug)]
    enum Tok {
        Hex(Vec<u8>),
        Word(String),
        Open,
        Close,
    }
    let mut toks = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'<' if data.get(i + 1) != Some(&b'<') => {
                let end = data[i..].iter().position(|&b| b == b'>').map_or(data.len(), |p| i + p);
                let digits: Vec<u8> = data[i + 1..end].iter().filter(|b| b.is_ascii_hexdigit()).copied().collect();
                let mut bytes = Vec::with_capacity(digits.len() / 2 + 1);
                for pair in digits.chunks(2) {
                    let hi = (pair[0] as char).to_digit(16).unwrap_or(0) as u8;
                    let lo = pair.get(1).map_or(0, |&c| (c as char).to_digit(16).unwrap_or(0) as u8);
                    bytes.push(hi << 4 | lo);
                }
                toks.push(Tok::Hex(bytes));
                i = end + 1;
            }
            b'[' => {
                toks.push(Tok::Open);
                i += 1;
            }
            b']' => {
                toks.push(Tok::Close);
                i += 1;
            }
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < data.len() && !data[i].is_ascii_whitespace() && !b"<>[]%".contains(&data[i]) {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
                toks.push(Tok::Word(String::from_utf8_lossy(&data[start..i]).into_owned()));
            }
        }
    }
    let code = |b: &[u8]| b.iter().take(4).fold(0u32, |a, &x| a << 8 | u32::from(x));
    let text = |b: &[u8]| {
        let units: Vec<u16> = b.chunks(2).map(|c| u16::from(c[0]) << 8 | u16::from(*c.get(1).unwrap_or(&0))).collect();
        String::from_utf16_lossy(&units)
    };
    let mut map = HashMap::new();
    let mut i = 0;
    let mut section = "";
    while i < toks.len() {
        match (&toks[i], section) {
            (Tok::Word(w), _) if w == "beginbfchar" => section = "char",
            (Tok::Word(w), _) if w == "beginbfrange" => section = "range",
            (Tok::Word(w), _) if w.starts_with("end") => section = "",
            (Tok::Hex(src), "char") => {
                if let Some(Tok::Hex(dst)) = toks.get(i + 1) {
                    map.insert(code(src), text(dst));
                    i += 1;
                }
            }
            (Tok::Hex(lo), "range") => {
                let (Some(Tok::Hex(hi)), Some(dst)) = (toks.get(i + 1), toks.get(i + 2)) else { break };
                let (lo, hi) = (code(lo), code(hi));
                let hi = hi.min(lo.saturating_add(65_535));
                match dst {
                    Tok::Hex(d) => {
                        let mut units: Vec<u16> =
                            d.chunks(2).map(|c| u16::from(c[0]) << 8 | u16::from(*c.get(1).unwrap_or(&0))).collect();
                        for c in lo..=hi {
                            map.insert(c, String::from_utf16_lossy(&units));
                            if let Some(last) = units.last_mut() {
                                *last = last.wrapping_add(1);
                            }
                        }
                        i += 2;
                    }
                    Tok::Open => {
                        let mut k = i + 3;
                        let mut c = lo;
                        while let Some(Tok::Hex(d)) = toks.get(k) {
                            if c <= hi {
                                map.insert(c, text(d));
                            }
                            c = c.saturating_add(1);
                            k += 1;
                        }
                        i = k;
                    }
                    _ => i += 2,
                }
            }
            _ => {}
        }
        i += 1;
    }
    map
}

/// Glyph widths (thousandths of an em) of characters 32-126 in the standard 14 fonts that carry
/// no `Widths` (Adobe's AFM metrics; Arial shares Helvetica's).
fn standard_widths(base: &str) -> Option<&'static [u16; 95]> {
    const HELVETICA: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
        556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
        556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
        500, 500, 500, 334, 260, 334, 584,
    ];
    const HELVETICA_BOLD: [u16; 95] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722,
        611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556,
        611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
        556, 556, 500, 389, 280, 389, 584,
    ];
    const TIMES: [u16; 95] = [
        250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500, 500, 500, 500, 500,
        500, 500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722,
        611, 889, 722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611, 333, 278, 333, 469, 500, 333, 444,
        500, 444, 500, 444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722,
        500, 500, 444, 480, 200, 480, 541,
    ];
    const COURIER: [u16; 95] = [600; 95];
    let n = base.to_ascii_lowercase();
    let bold = is_bold_name(&n);
    if n.contains("courier") {
        Some(&COURIER)
    } else if n.contains("times") {
        Some(&TIMES)
    } else if n.contains("helvetica") || n.contains("arial") {
        Some(if bold { &HELVETICA_BOLD } else { &HELVETICA })
    } else {
        None
    }
}

/// Text drawn by one string operation.
#[derive(Clone, Debug)]
struct Run {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: String,
}

#[derive(Clone)]
struct State<'d> {
    ctm: Matrix,
    font: Option<Rc<Font<'d>>>,
    size: f32,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    leading: f32,
    rise: f32,
}

impl Default for State<'_> {
    fn default() -> Self {
        State {
            ctm: Matrix::IDENTITY,
            font: None,
            size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

struct PageReader<'d, 'c> {
    doc: &'d Document,
    fonts: &'c mut FontCache<'d>,
    runs: Vec<Run>,
    image: bool,
    problems: Vec<String>,
}

impl<'d> PageReader<'d, '_> {
    fn read_page(&mut self, id: ObjectId) {
        let content = match self.doc.get_page_content_with_limit(id, MAX_STREAM) {
            Ok(c) => c,
            Err(e) => {
                self.problems.push(format!("its content could not be read ({e})"));
                return;
            }
        };
        let resources = self.page_resources(id);
        self.run(&content, resources, State::default(), 0, &mut Vec::new());
    }

    /// The page's resources: its own, else inherited from the page tree.
    fn page_resources(&self, id: ObjectId) -> Option<&'d Dictionary> {
        let doc = self.doc;
        let (own, ids) = doc.get_page_resources(id).ok()?;
        own.or_else(|| ids.first().and_then(|&r| doc.get_dictionary(r).ok()))
    }

    fn font(&mut self, resources: Option<&'d Dictionary>, name: &[u8]) -> Option<Rc<Font<'d>>> {
        let doc = self.doc;
        let fonts = dict_get(doc, resources?, b"Font").and_then(|o| o.as_dict().ok())?;
        let entry = fonts.get(name).ok()?;
        if let Object::Reference(id) = entry {
            if let Some(f) = self.fonts.by_id.get(id) {
                return Some(f.clone());
            }
            let d = doc.get_dictionary(*id).ok()?;
            let f = Rc::new(Font::load(doc, d));
            self.fonts.by_id.insert(*id, f.clone());
            return Some(f);
        }
        Some(Rc::new(Font::load(doc, entry.as_dict().ok()?)))
    }

    fn run(
        &mut self,
        content: &[u8],
        resources: Option<&'d Dictionary>,
        start: State<'d>,
        depth: usize,
        forms: &mut Vec<ObjectId>,
    ) {
        let mut state = start;
        let mut stack: Vec<State<'d>> = Vec::new();
        let mut tm = Matrix::IDENTITY;
        let mut tlm = Matrix::IDENTITY;
        for op in lopdf::content::Content::decode_iter(content) {
            let op = match op {
                Ok(op) => op,
                Err(e) => {
                    self.problems
                        .push(format!("its content stream is damaged ({e}); the text before the damage was read"));
                    break;
                }
            };
            let args = &op.operands;
            match op.operator.as_str() {
                "q" if stack.len() < 256 => stack.push(state.clone()),
                "Q" => state = stack.pop().unwrap_or(state),
                "cm" => {
                    if let Some(m) = numbers::<6>(args) {
                        state.ctm = Matrix(m).then(state.ctm);
                    }
                }
                "BT" => {
                    tm = Matrix::IDENTITY;
                    tlm = Matrix::IDENTITY;
                }
                "Tf" => {
                    if let (Some(name), Some(size)) =
                        (args.first().and_then(|o| o.as_name().ok()), args.get(1).and_then(number))
                    {
                        state.font = self.font(resources, name);
                        state.size = size;
                    }
                }
                "Tc" => state.char_spacing = numbers::<1>(args).map_or(state.char_spacing, |[v]| v),
                "Tw" => state.word_spacing = numbers::<1>(args).map_or(state.word_spacing, |[v]| v),
                "Tz" => state.scale = numbers::<1>(args).map_or(state.scale, |[v]| v / 100.0),
                "TL" => state.leading = numbers::<1>(args).map_or(state.leading, |[v]| v),
                "Ts" => state.rise = numbers::<1>(args).map_or(state.rise, |[v]| v),
                "Td" | "TD" => {
                    if let Some([x, y]) = numbers::<2>(args) {
                        if op.operator == "TD" {
                            state.leading = -y;
                        }
                        tlm = Matrix::translate(x, y).then(tlm);
                        tm = tlm;
                    }
                }
                "Tm" => {
                    if let Some(m) = numbers::<6>(args) {
                        tlm = Matrix(m);
                        tm = tlm;
                    }
                }
                "T*" => {
                    tlm = Matrix::translate(0.0, -state.leading).then(tlm);
                    tm = tlm;
                }
                "Tj" | "'" | "\"" | "TJ" => {
                    if op.operator == "\"" {
                        if let (Some(aw), Some(ac)) = (args.first().and_then(number), args.get(1).and_then(number)) {
                            state.word_spacing = aw;
                            state.char_spacing = ac;
                        }
                    }
                    if op.operator != "Tj" && op.operator != "TJ" {
                        tlm = Matrix::translate(0.0, -state.leading).then(tlm);
                        tm = tlm;
                    }
                    let items: Vec<&Object> = match (op.operator.as_str(), args.last()) {
                        ("TJ", Some(Object::Array(a))) => a.iter().collect(),
                        (_, Some(o)) => vec![o],
                        _ => continue,
                    };
                    self.show(&state, &mut tm, &items);
                }
                "Do" => {
                    if let Some(name) = args.first().and_then(|o| o.as_name().ok()) {
                        self.xobject(resources, name, &state, depth, forms);
                    }
                }
                "BI" => self.image = true,
                _ => {}
            }
        }
    }

    fn xobject(
        &mut self,
        resources: Option<&'d Dictionary>,
        name: &[u8],
        state: &State<'d>,
        depth: usize,
        forms: &mut Vec<ObjectId>,
    ) {
        let doc = self.doc;
        let Some(xobjects) = resources.and_then(|r| dict_get(doc, r, b"XObject")).and_then(|o| o.as_dict().ok()) else {
            return;
        };
        let Ok(entry) = xobjects.get(name) else { return };
        let id = entry.as_reference().ok();
        let Some(stream) = resolve(doc, entry).and_then(|o| o.as_stream().ok()) else { return };
        match stream.dict.get(b"Subtype").and_then(Object::as_name) {
            Ok(b"Image") => self.image = true,
            Ok(b"Form") => {
                if depth >= MAX_FORM_DEPTH || id.is_some_and(|id| forms.contains(&id)) {
                    return;
                }
                let Some(content) = stream_bytes(stream) else {
                    self.problems.push("a form XObject's content could not be decompressed".into());
                    return;
                };
                let mut inner = state.clone();
                if let Some(m) = stream.dict.get(b"Matrix").ok().and_then(|o| o.as_array().ok()).and_then(|a| {
                    let v: Vec<f32> = a.iter().filter_map(number).collect();
                    <[f32; 6]>::try_from(v).ok()
                }) {
                    inner.ctm = Matrix(m).then(inner.ctm);
                }
                let own = dict_get(doc, &stream.dict, b"Resources").and_then(|o| o.as_dict().ok());
                forms.extend(id);
                self.run(&content, own.or(resources), inner, depth + 1, forms);
                if id.is_some() {
                    forms.pop();
                }
            }
            _ => {}
        }
    }

    /// Shows strings (and `TJ` adjustments), moving the text matrix.
    fn show(&mut self, state: &State<'d>, tm: &mut Matrix, items: &[&Object]) {
        let Some(font) = state.font.clone() else { return };
        if let Some(why) = &font.unreadable {
            if items.iter().any(|o| matches!(o, Object::String(s, _) if !s.is_empty())) {
                self.problems.push(why.clone());
            }
            return;
        }
        let start = Matrix([state.size * state.scale, 0.0, 0.0, state.size, 0.0, state.rise]).then(*tm).then(state.ctm);
        let [a, b, c, d, _, y0] = start.0;
        // Where the first glyph that is not a space starts (text indented with spaces starts there).
        let mut x0: Option<f32> = None;
        let mut text = String::new();
        for item in items {
            match item {
                Object::String(bytes, _) => {
                    for code in font.codes(bytes) {
                        let t = font.text(code);
                        let is_space = !font.two_byte && code == 32;
                        if t.chars().all(char::is_whitespace) && !t.is_empty() {
                            if !text.is_empty() && !text.ends_with(' ') {
                                text.push(' ');
                            }
                        } else if !t.is_empty() {
                            if x0.is_none() {
                                x0 = Some(
                                    Matrix::translate(0.0, state.rise).then(*tm).then(state.ctm).apply(0.0, 0.0).0,
                                );
                            }
                            text.extend(t.chars().filter(|c| !c.is_control()));
                        }
                        let w = font.width(code) / 1000.0 * state.size
                            + state.char_spacing
                            + if is_space { state.word_spacing } else { 0.0 };
                        *tm = Matrix::translate(w * state.scale, 0.0).then(*tm);
                    }
                }
                o => {
                    if let Some(n) = number(o) {
                        if n < -180.0 && !text.is_empty() && !text.ends_with(' ') {
                            text.push(' ');
                        }
                        *tm = Matrix::translate(-n / 1000.0 * state.size * state.scale, 0.0).then(*tm);
                    }
                }
            }
        }
        let x0 = x0.unwrap_or(start.0[4]);
        // Rotated or mirrored text (margin stamps) is not part of the page's lines.
        let upright = a > 0.0 && b.abs() <= a * 0.05 && d > 0.0 && c.abs() <= d * 0.05;
        if text.trim().is_empty() || !upright {
            if !text.trim().is_empty() {
                // Counts as text on the page, but is not placed in a line.
                self.runs.push(Run { x0, x1: x0, y: f32::NAN, size: 0.0, bold: false, text });
            }
            return;
        }
        let end = Matrix::translate(0.0, state.rise).then(*tm).then(state.ctm);
        let (x1, _) = end.apply(0.0, 0.0);
        let size = (c * c + d * d).sqrt();
        self.runs.push(Run { x0, x1: x1.max(x0), y: y0, size, bold: font.bold, text });
    }
}

/// Gathers a page's runs into lines, top to bottom, left to right.
fn lines(page: u32, runs: Vec<Run>) -> Vec<Line> {
    let mut runs: Vec<Run> = runs.into_iter().filter(|r| r.y.is_finite() && r.size > 0.0).collect();
    runs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let mut groups: Vec<Vec<Run>> = Vec::new();
    for r in runs {
        match groups.last_mut() {
            Some(g) if (g[0].y - r.y).abs() <= 0.3 * g[0].size.min(r.size).max(1.0) => g.push(r),
            _ => groups.push(vec![r]),
        }
    }
    let mut out: Vec<Line> = Vec::new();
    for mut g in groups {
        g.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let size = g.iter().map(|r| r.size).fold(0.0, f32::max);
        let bold = g.iter().all(|r| r.bold || r.text.trim().is_empty());
        let mut cells: Vec<Cell> = Vec::new();
        let mut prev: Option<&Run> = None;
        for r in &g {
            if let Some(p) = prev {
                // The same string drawn twice at nearly the same place (fake bold): once.
                if p.text == r.text && (r.x0 - p.x0).abs() < 0.2 * r.size {
                    continue;
                }
            }
            let text = r.text.trim_end_matches(' ');
            match (prev, cells.last_mut()) {
                (Some(p), Some(cell)) if r.x0 - p.x1 <= 1.5 * r.size.max(p.size) => {
                    let gap = r.x0 - p.x1;
                    if gap > 0.15 * r.size && !cell.text.ends_with(' ') && !text.starts_with(' ') {
                        cell.text.push(' ');
                    }
                    cell.text.push_str(text);
                }
                _ => cells.push(Cell { x: r.x0, text: text.trim_start().to_owned() }),
            }
            prev = Some(r);
        }
        for c in &mut cells {
            c.text = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
        }
        cells.retain(|c| !c.text.is_empty());
        if cells.is_empty() {
            continue;
        }
        let text = cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" ");
        let y = g[0].y;
        let gap_before = out.last().is_some_and(|l| l.y - y > 1.6 * l.size.max(size));
        out.push(Line { page, x: cells[0].x, y, size, bold, cells, text, gap_before });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmap_chars_and_ranges() {
        let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
            1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
            2 beginbfchar <0003> <0020> <0011> <26A0> endbfchar\n\
            2 beginbfrange <0024> <0026> <0041> <0030> <0031> [<0066006C> <00E9>] endbfrange\n\
            endcmap CMapName currentdict /CMap defineresource pop end end";
        let m = parse_cmap(cmap);
        assert_eq!(m.get(&3).map(String::as_str), Some(" "));
        assert_eq!(m.get(&0x11).map(String::as_str), Some("⚠"));
        assert_eq!((m[&0x24].as_str(), m[&0x25].as_str(), m[&0x26].as_str()), ("A", "B", "C"));
        assert_eq!((m[&0x30].as_str(), m[&0x31].as_str()), ("fl", "é"));
        assert_eq!(m.len(), 7);
    }

    #[test]
    fn matrices_compose_in_pdf_order() {
        // Scale by 2, then move by (10, 20): a point (1, 1) lands at (12, 22).
        let m = Matrix([2.0, 0.0, 0.0, 2.0, 0.0, 0.0]).then(Matrix::translate(10.0, 20.0));
        assert_eq!(m.apply(1.0, 1.0), (12.0, 22.0));
    }

    #[test]
    fn not_a_pdf() {
        let e = read(Path::new("x.pdf"), b"<html>not found</html>").unwrap_err();
        assert_eq!(e.to_string(), "x.pdf: not a PDF file: no %PDF- header in its first 1024 bytes");
    }
}
