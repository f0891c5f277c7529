//! Test support: a small PDF writer, and email printed with it in Outlook's and Gmail's print
//! layouts (the oversight crate's tests and the CLI's include this file).
//!
//! The writer puts text at given positions, line by line: in the standard Helvetica fonts
//! (Type1, `WinAnsiEncoding`, no `Widths`, as a PDF may use the standard 14 fonts) or in a
//! composite font (Type0, `Identity-H`, two-byte codes, a `ToUnicode` CMap and `W` widths, the
//! way Chrome prints), its content streams plain or `FlateDecode`; a page can be an image alone (a
//! scan).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;

/// A font of the writer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    /// Helvetica, WinAnsiEncoding.
    Helvetica,
    /// Helvetica-Bold, WinAnsiEncoding.
    HelveticaBold,
    /// A Type0 font (Identity-H with ToUnicode); spaces are written as `TJ` gaps, not glyphs.
    Sans,
    /// Its bold face.
    SansBold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Helvetica => "F1",
            Font::HelveticaBold => "F2",
            Font::Sans => "F3",
            Font::SansBold => "F4",
        }
    }

    fn composite(self) -> bool {
        matches!(self, Font::Sans | Font::SansBold)
    }
}

/// Text at a position: `y` is the baseline, in points up from the page's bottom.
#[derive(Clone, Debug)]
pub struct Text {
    /// Left edge, in points.
    pub x: f32,
    /// Baseline, in points up from the bottom.
    pub y: f32,
    /// Font size, in points.
    pub size: f32,
    /// The font.
    pub font: Font,
    /// The text (one line).
    pub text: String,
}

/// One page: text, and whether it shows an image.
#[derive(Clone, Debug, Default)]
pub struct Page {
    /// Text on the page.
    pub texts: Vec<Text>,
    /// An image covering the page, drawn under the text.
    pub image: bool,
}

/// Page width: US Letter.
pub const WIDTH: f32 = 612.0;
/// Page height: US Letter.
pub const HEIGHT: f32 = 792.0;

fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        _ => b'?',
    }
}

/// What a Helvetica page can show of `s`: characters outside WinAnsiEncoding become `?`.
pub fn win_ansi_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            let b = win_ansi(c);
            if b == b'?' && c != '?' && !matches!(c, '\n' | '\r' | '\t') {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn literal(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![b'('];
    for &b in bytes {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// Writes a PDF of `pages`; with `compress`, every stream is FlateDecode.
pub fn write(pages: &[Page], compress: bool) -> Vec<u8> {
    write_with(pages, compress, false)
}

/// [`write`], and with `locked` an `/Encrypt` dictionary (standard security handler, revision 3)
/// whose user password is not empty: a reader without the password cannot read it.
pub fn write_with(pages: &[Page], compress: bool, locked: bool) -> Vec<u8> {
    // Two-byte codes of the composite fonts: one per character, in order of first use.
    let mut cids: BTreeMap<char, u16> = BTreeMap::new();
    for p in pages {
        for t in p.texts.iter().filter(|t| t.font.composite()) {
            for c in t.text.chars().filter(|c| *c != ' ') {
                let next = cids.len() as u16 + 1;
                cids.entry(c).or_insert(next);
            }
        }
    }
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let stream = |dict: &str, data: &[u8]| -> Vec<u8> {
        let (data, filter) = if compress {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(data).unwrap();
            (z.finish().unwrap(), " /Filter /FlateDecode")
        } else {
            (data.to_vec(), "")
        };
        let mut o = format!("<< {dict} /Length {}{filter} >>\nstream\n", data.len()).into_bytes();
        o.extend_from_slice(&data);
        o.extend_from_slice(b"\nendstream");
        o
    };
    // 1 catalog, 2 pages, 3-6 fonts, 7-8 CID fonts, 9 ToUnicode, 10 image, 11 descriptor, then
    // per page its dictionary and content.
    let n_pages = pages.len();
    let kids: Vec<String> = (0..n_pages).map(|i| format!("{} 0 R", 12 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n_pages} >>", kids.join(" ")).into_bytes());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec());
    objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_vec());
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /ArialMT /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 9 0 R >>"
            .to_vec(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /Arial-BoldMT /Encoding /Identity-H /DescendantFonts [8 0 R] /ToUnicode 9 0 R >>"
            .to_vec(),
    );
    let widths: Vec<String> =
        cids.iter().map(|(c, cid)| format!("{cid} [{}]", if c.is_ascii() { 556 } else { 1000 })).collect();
    for name in ["ArialMT", "Arial-BoldMT"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 11 0 R /DW 556 /W [{}] /CIDToGIDMap /Identity >>",
                widths.join(" ")
            )
            .into_bytes(),
        );
    }
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&char, &u16)> = cids.iter().collect();
    for chunk in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (c, cid) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            cmap.push_str(&format!("<{cid:04X}> <{hex}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    objects.push(stream("", cmap.as_bytes()));
    let pixels: Vec<u8> = (0..64 * 64).map(|i| ((i * 7) % 256) as u8).collect();
    objects.push(stream(
        "/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8",
        &pixels,
    ));
    objects.push(
        b"<< /Type /FontDescriptor /FontName /ArialMT /Flags 32 /FontBBox [-665 -325 2000 1006] /ItalicAngle 0 /Ascent 905 /Descent -212 /CapHeight 716 /StemV 80 >>"
            .to_vec(),
    );
    for p in pages {
        let mut content: Vec<u8> = Vec::new();
        if p.image {
            content.extend_from_slice(format!("q {WIDTH} 0 0 {HEIGHT} 0 0 cm /Im1 Do Q\n").as_bytes());
        }
        // Chrome's way: a flipped page, text matrices flipped back.
        let flipped = p.texts.iter().any(|t| t.font.composite());
        if flipped {
            content.extend_from_slice(format!("1 0 0 -1 0 {HEIGHT} cm\n").as_bytes());
        }
        for t in &p.texts {
            content.extend_from_slice(format!("BT /{} {} Tf ", t.font.resource(), t.size).as_bytes());
            if t.font.composite() {
                content.extend_from_slice(format!("1 0 0 -1 {} {} Tm [", t.x, HEIGHT - t.y).as_bytes());
                let mut first = true;
                for word in t.text.split(' ') {
                    if !first {
                        content.extend_from_slice(b" -278 ");
                    }
                    first = false;
                    let hex: String = word.chars().map(|c| format!("{:04X}", cids[&c])).collect();
                    content.extend_from_slice(format!("<{hex}>").as_bytes());
                }
                content.extend_from_slice(b"] TJ ET\n");
            } else {
                content.extend_from_slice(format!("{} {} Td ", t.x, t.y).as_bytes());
                let bytes: Vec<u8> = t.text.chars().map(win_ansi).collect();
                content.extend_from_slice(&literal(&bytes));
                content.extend_from_slice(b" Tj ET\n");
            }
        }
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R /F4 6 0 R >> /XObject << /Im1 10 0 R >> >> /Contents {} 0 R >>",
                objects.len() + 2
            )
            .into_bytes(),
        );
        objects.push(stream("", &content));
    }
    if locked {
        let o = "8A".repeat(32);
        let u = "3C".repeat(32);
        objects.push(format!("<< /Filter /Standard /V 2 /R 3 /Length 128 /O <{o}> /U <{u}> /P -3904 >>").into_bytes());
    }
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let encrypt = if locked {
        format!(" /Encrypt {} 0 R /ID [<{id}> <{id}>]", objects.len(), id = "0123456789ABCDEF".repeat(2))
    } else {
        String::new()
    };
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R{encrypt} >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

/// A message to print: parties as (name, address), the address absent for an Exchange user
/// printed by name.
#[derive(Clone, Debug, Default)]
pub struct Mail {
    /// The sender.
    pub from: (String, Option<String>),
    /// The date as Outlook prints it (`Monday, June 2, 2025 5:00 AM`).
    pub date_outlook: String,
    /// The date as Gmail prints it (`Mon, Jun 2, 2025 at 5:00 AM`).
    pub date_gmail: String,
    /// Recipients.
    pub to: Vec<(String, Option<String>)>,
    /// Copied recipients.
    pub cc: Vec<(String, Option<String>)>,
    /// The subject.
    pub subject: String,
    /// Names of attached files (Outlook prints them in its header, Gmail after the body).
    pub attachments: Vec<String>,
    /// The body text.
    pub body: String,
}

/// A party as printed: `Name <address>`, an address, or a name.
pub fn shown(p: &(String, Option<String>)) -> String {
    match p {
        (name, Some(addr)) if !name.is_empty() && name != addr => format!("{name} <{addr}>"),
        (_, Some(addr)) => addr.clone(),
        (name, None) => name.clone(),
    }
}

/// Words of `s` in lines of at most `width` characters (a longer word is cut).
pub fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// Lines flowing down pages.
pub struct Sheet {
    /// The pages so far.
    pub pages: Vec<Page>,
    y: f32,
}

const TOP: f32 = 740.0;
const BOTTOM: f32 = 60.0;

impl Default for Sheet {
    fn default() -> Self {
        Sheet { pages: vec![Page::default()], y: TOP }
    }
}

impl Sheet {
    /// The 1-based number of the current page.
    pub fn page(&self) -> u32 {
        self.pages.len() as u32
    }

    /// Goes on at the top of a new page.
    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = TOP;
    }

    /// One line of text pieces `(x, font, text)` at `size`; returns its page.
    pub fn line(&mut self, size: f32, pieces: &[(f32, Font, &str)]) -> u32 {
        let leading = size * 1.2;
        if self.y - leading < BOTTOM {
            self.new_page();
        }
        self.y -= leading;
        let y = self.y;
        let page = self.pages.last_mut().unwrap();
        for &(x, font, text) in pieces {
            page.texts.push(Text { x, y, size, font, text: text.to_owned() });
        }
        self.page()
    }

    /// Leaves `h` points empty.
    pub fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    /// A body in `font`: its lines wrapped, an empty line left empty; returns the page of its
    /// last line.
    pub fn body(&mut self, body: &str, font: Font) -> u32 {
        let mut last = self.page();
        for raw in body.split('\n') {
            let raw = raw.replace(['\t', '\r'], " ");
            let raw = if font.composite() { raw } else { win_ansi_text(&raw) };
            if raw.trim().is_empty() {
                self.gap(12.0);
                continue;
            }
            for l in wrap(raw.trim(), 95) {
                last = self.line(10.0, &[(54.0, font, &l)]);
            }
        }
        last
    }
}

/// Outlook's memo style, messages one after another (a message may start anywhere on a page and
/// run over page breaks), the page number at the foot of each page: the PDF, and each message's
/// first and last page.
pub fn outlook(mails: &[Mail], compress: bool) -> (Vec<u8>, Vec<(u32, u32)>) {
    outlook_with(mails, compress, false)
}

/// [`outlook`] as a plain-text print: one font and size throughout (no bold name line), each label
/// and value one string padded with spaces, wrapped values indented with spaces.
pub fn outlook_plain(mails: &[Mail]) -> (Vec<u8>, Vec<(u32, u32)>) {
    outlook_with(mails, false, true)
}

fn outlook_with(mails: &[Mail], compress: bool, plain: bool) -> (Vec<u8>, Vec<(u32, u32)>) {
    let mut sheet = Sheet::default();
    let mut spans = Vec::new();
    for (i, m) in mails.iter().enumerate() {
        if i > 0 {
            sheet.gap(24.0);
        }
        let name = win_ansi_text(&m.from.0);
        let first = if plain {
            sheet.line(10.0, &[(54.0, Font::Helvetica, &name)])
        } else {
            let first = sheet.line(12.0, &[(54.0, Font::HelveticaBold, &name)]);
            sheet.gap(4.0);
            first
        };
        let list = |v: &[(String, Option<String>)]| v.iter().map(shown).collect::<Vec<_>>().join("; ");
        let mut rows = vec![("From:", shown(&m.from)), ("Sent:", m.date_outlook.clone()), ("To:", list(&m.to))];
        if !m.cc.is_empty() {
            rows.push(("Cc:", list(&m.cc)));
        }
        rows.push(("Subject:", m.subject.clone()));
        if !m.attachments.is_empty() {
            rows.push(("Attachments:", m.attachments.join("; ")));
        }
        let mut last = first;
        for (label, value) in rows {
            for (k, l) in wrap(&win_ansi_text(&value), 60).iter().enumerate() {
                last = if plain {
                    let text = format!("{:<16}{l}", if k == 0 { label } else { "" });
                    sheet.line(10.0, &[(54.0, Font::Helvetica, &text)])
                } else if k == 0 {
                    sheet.line(10.0, &[(54.0, Font::HelveticaBold, label), (144.0, Font::Helvetica, l)])
                } else {
                    sheet.line(10.0, &[(144.0, Font::Helvetica, l)])
                };
            }
        }
        sheet.gap(12.0);
        last = sheet.body(&m.body, Font::Helvetica).max(last);
        spans.push((first, last));
    }
    for (i, p) in sheet.pages.iter_mut().enumerate() {
        p.texts.push(Text { x: 300.0, y: 30.0, size: 9.0, font: Font::Helvetica, text: (i + 1).to_string() });
    }
    (write(&sheet.pages, compress), spans)
}

/// Gmail's print view, each message a thread of one on new pages (the browser's header and
/// footer on every page, as Chrome prints them): the PDF, and each message's first and last page.
pub fn gmail(mails: &[Mail], account: &str, compress: bool) -> (Vec<u8>, Vec<(u32, u32)>) {
    let mut sheet = Sheet::default();
    let mut spans = Vec::new();
    let mut furniture: Vec<(usize, usize, String)> = Vec::new();
    for (i, m) in mails.iter().enumerate() {
        if i > 0 {
            sheet.new_page();
        }
        let start = sheet.pages.len() - 1;
        let first = sheet.line(9.0, &[(380.0, Font::Sans, account)]);
        sheet.gap(10.0);
        for l in wrap(&m.subject, 60) {
            sheet.line(16.0, &[(54.0, Font::SansBold, &l)]);
        }
        sheet.line(9.0, &[(54.0, Font::Sans, "1 message")]);
        sheet.gap(14.0);
        sheet.line(10.0, &[(54.0, Font::SansBold, &shown(&m.from)), (430.0, Font::Sans, &m.date_gmail)]);
        let list = |label: &str, v: &[(String, Option<String>)]| {
            // Gmail breaks a long list after a comma.
            let mut lines: Vec<String> = vec![format!("{label}:")];
            for (k, p) in v.iter().enumerate() {
                let item = shown(p) + if k + 1 < v.len() { "," } else { "" };
                let cur = lines.last_mut().unwrap();
                if cur.chars().count() + 1 + item.chars().count() > 80 {
                    lines.push(item);
                } else {
                    cur.push(' ');
                    cur.push_str(&item);
                }
            }
            lines
        };
        let mut rows = list("To", &m.to);
        if !m.cc.is_empty() {
            rows.extend(list("Cc", &m.cc));
        }
        for l in &rows {
            sheet.line(9.0, &[(54.0, Font::Sans, l)]);
        }
        sheet.gap(14.0);
        let mut last = sheet.body(&m.body, Font::Sans);
        if !m.attachments.is_empty() {
            let n = m.attachments.len();
            sheet.gap(14.0);
            sheet.line(9.0, &[(54.0, Font::SansBold, &format!("{n} attachment{}", if n == 1 { "" } else { "s" }))]);
            for a in &m.attachments {
                sheet.line(9.0, &[(54.0, Font::Sans, a)]);
                last = sheet.line(8.0, &[(54.0, Font::Sans, "24K")]);
            }
        }
        spans.push((first, last));
        furniture.push((start, sheet.pages.len(), m.subject.clone()));
    }
    for (t, (start, end, subject)) in furniture.iter().enumerate() {
        let total = end - start;
        for (k, p) in sheet.pages[*start..*end].iter_mut().enumerate() {
            p.texts.push(Text { x: 20.0, y: 775.0, size: 8.0, font: Font::Sans, text: "6/9/25, 9:14 AM".into() });
            let title: String = format!("Gmail - {subject}").chars().take(70).collect();
            p.texts.push(Text { x: 250.0, y: 775.0, size: 8.0, font: Font::Sans, text: title });
            let url = format!(
                "https://mail.google.com/mail/u/0/?ik=5f2c0a9b1d&view=pt&search=all&permthid=thread-f:18{t:05}"
            );
            p.texts.push(Text { x: 20.0, y: 20.0, size: 8.0, font: Font::Sans, text: url });
            p.texts.push(Text { x: 570.0, y: 20.0, size: 8.0, font: Font::Sans, text: format!("{}/{total}", k + 1) });
        }
    }
    (write(&sheet.pages, compress), spans)
}

/// A scan: `n` pages, each an image and nothing else.
pub fn scanned(n: usize) -> Vec<u8> {
    write(&vec![Page { texts: Vec::new(), image: true }; n], true)
}
