//! A small RFC 5322 / MIME parser for email productions (mbox files and `.eml` files).
//!
//! What it reads:
//! - header fields, unfolded (RFC 5322 § 2.2.3), with RFC 2047 encoded words (`=?UTF-8?B?...?=`,
//!   `=?iso-8859-1?Q?...?=`; whitespace between adjacent encoded words dropped) in any field and in
//!   quoted parameters, and RFC 2231 parameters (`filename*=UTF-8''%E2%82%AC.pdf`, continuations);
//! - bodies in `7bit`, `8bit`, `binary`, `quoted-printable` or `base64`, in the charsets `UTF-8`,
//!   `US-ASCII`, `ISO-8859-1` and `windows-1252` (another charset is decoded as UTF-8 with
//!   replacement characters, and a warning says so);
//! - `multipart/*` bodies, nested up to 16 levels: `text/plain` and `text/html` (tags removed)
//!   parts make up the message's text; every other part, and every part with a file name or an
//!   `attachment` disposition, is an [`Attachment`] (name, type, decoded size).
//!
//! A message is [`Malformed`] (with the line and the reason) when a header line has no field name
//! and colon, when it has no `From` field, when a multipart body has no boundary, no part or no
//! closing delimiter, when a transfer encoding is unknown, or when base64 does not decode.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// A file attached to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file name (`filename` of Content-Disposition, else `name` of Content-Type), decoded;
    /// `(unnamed)` when neither is given.
    pub name: String,
    /// The media type, lowercased (`application/pdf`).
    pub content_type: String,
    /// Size in bytes after the transfer encoding is undone.
    pub size: u64,
}

/// A parsed message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Header fields in order: name as written, value unfolded and decoded.
    pub headers: Vec<(String, String)>,
    /// The text of the text parts, in order.
    pub text: String,
    /// Every attachment, in order.
    pub attachments: Vec<Attachment>,
    /// What was read with loss (unknown charset), with the line.
    pub warnings: Vec<(u64, String)>,
}

impl Message {
    /// The first header field of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// All header fields of this name, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// The 1-based line of the file where the problem is.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
}

type Parsed<T> = Result<T, Malformed>;

/// Parses one message; `first_line` is the file line of its first byte (for messages).
pub fn parse(raw: &[u8], first_line: u64) -> Parsed<Message> {
    let lines: Vec<&[u8]> = split_lines(raw);
    let mut msg = Message::default();
    let (headers, body) = header_block(&lines, 0, first_line, &mut msg.warnings)?;
    if headers.is_empty() {
        return Err(Malformed { line: first_line, reason: "no header fields".into() });
    }
    if !headers.iter().any(|(n, _, _)| n.eq_ignore_ascii_case("from")) {
        return Err(Malformed { line: first_line, reason: "no From header field".into() });
    }
    entity(&lines, &headers, body, lines.len(), first_line, 0, &mut msg)?;
    msg.headers = headers.into_iter().map(|(n, v, _)| (n, v)).collect();
    Ok(msg)
}

fn split_lines(raw: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l)).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// A header field: name, decoded value, line.
type Field = (String, String, u64);

/// Reads the header block starting at `lines[start]`; returns the fields and the index of the
/// first body line.
fn header_block(
    lines: &[&[u8]],
    start: usize,
    base: u64,
    warn: &mut Vec<(u64, String)>,
) -> Parsed<(Vec<Field>, usize)> {
    let mut raw: Vec<(String, Vec<u8>, u64)> = Vec::new();
    let mut i = start;
    while i < lines.len() {
        let l = lines[i];
        let line = base + i as u64;
        if l.is_empty() {
            i += 1;
            break;
        }
        if l[0] == b' ' || l[0] == b'\t' {
            match raw.last_mut() {
                Some((_, v, _)) => v.extend_from_slice(l),
                None => return Err(Malformed { line, reason: "continuation line before any header field".into() }),
            }
        } else {
            let colon = l.iter().position(|&b| b == b':');
            let name = colon.map(|c| &l[..c]).filter(|n| !n.is_empty() && n.iter().all(|&b| (33..=126).contains(&b)));
            let Some(name) = name else {
                return Err(Malformed {
                    line,
                    reason: format!(
                        "not a header field (no name and colon) in the header block: {:?}",
                        preview(&String::from_utf8_lossy(l))
                    ),
                });
            };
            raw.push((String::from_utf8_lossy(name).into_owned(), l[name.len() + 1..].to_vec(), line));
        }
        i += 1;
    }
    let fields = raw
        .into_iter()
        .map(|(n, v, line)| {
            let text = match String::from_utf8(v) {
                Ok(s) => s,
                Err(e) => decode_charset(e.as_bytes(), "windows-1252").unwrap_or_default(),
            };
            (n, decode_words(text.trim(), line, warn), line)
        })
        .collect();
    Ok((fields, i))
}

fn preview(s: &str) -> String {
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(59).collect();
        t.push('…');
        t
    } else {
        s.to_owned()
    }
}

fn field<'a>(headers: &'a [Field], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)).map(|(_, v, _)| v.as_str())
}

/// A header value with parameters: `type/sub; a=b; c="d"`.
struct Params {
    value: String,
    params: Vec<(String, String)>,
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn parse_params(v: &str, line: u64, warn: &mut Vec<(u64, String)>) -> Params {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => cur.extend(chars.next()),
            ';' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let value = parts[0].trim().to_ascii_lowercase();
    // RFC 2231: name*=charset'lang'pct, name*0=..., name*1*=...
    let mut simple: Vec<(String, String)> = Vec::new();
    let mut pieces: Vec<(String, u32, bool, String)> = Vec::new();
    for p in &parts[1..] {
        let Some((k, val)) = p.split_once('=') else { continue };
        let k = k.trim().to_ascii_lowercase();
        let val = val.trim().to_owned();
        let (base, extended) = match k.strip_suffix('*') {
            Some(b) => (b.to_owned(), true),
            None => (k.clone(), false),
        };
        match base.split_once('*') {
            Some((b, n)) if n.parse::<u32>().is_ok() => {
                pieces.push((b.to_owned(), n.parse().unwrap_or(0), extended, val))
            }
            _ if extended => pieces.push((base, 0, true, val)),
            _ => simple.push((k, decode_words(&val, line, warn))),
        }
    }
    pieces.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut i = 0;
    while i < pieces.len() {
        let name = pieces[i].0.clone();
        let mut charset = String::new();
        let mut bytes = Vec::new();
        while i < pieces.len() && pieces[i].0 == name {
            let (_, n, ext, val) = &pieces[i];
            if *ext {
                let mut v = val.as_str();
                if *n == 0 {
                    if let Some((cs, rest)) = v.split_once('\'') {
                        charset = cs.to_owned();
                        v = rest.split_once('\'').map_or(rest, |(_, r)| r);
                    }
                }
                bytes.extend(percent_decode(v));
            } else {
                bytes.extend_from_slice(val.as_bytes());
            }
            i += 1;
        }
        let cs = if charset.is_empty() { "utf-8" } else { charset.as_str() };
        let text = decode_charset(&bytes, cs).unwrap_or_else(|| {
            warn.push((line, format!("unknown charset {cs:?} in parameter {name}, read as UTF-8")));
            String::from_utf8_lossy(&bytes).into_owned()
        });
        simple.retain(|(k, _)| *k != name);
        simple.push((name, text));
    }
    Params { value, params: simple }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Decodes bytes in a charset; `None` if the charset is not one this parser knows.
pub fn decode_charset(bytes: &[u8], charset: &str) -> Option<String> {
    let cs = charset.trim().trim_matches('"').to_ascii_lowercase();
    let cs = cs.split('*').next().unwrap_or("");
    Some(match cs {
        "utf-8" | "utf8" | "us-ascii" | "ascii" | "" => String::from_utf8_lossy(bytes).into_owned(),
        "iso-8859-1" | "latin1" | "iso8859-1" | "l1" => bytes.iter().map(|&b| char::from(b)).collect(),
        "windows-1252" | "cp1252" => bytes.iter().map(|&b| cp1252(b)).collect(),
        _ => return None,
    })
}

fn cp1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}', '‘',
        '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    if (0x80..0xa0).contains(&b) {
        HIGH[usize::from(b - 0x80)]
    } else {
        char::from(b)
    }
}

/// Decodes the RFC 2047 encoded words of a header value; text that is not a well-formed encoded
/// word is kept as written.
pub fn decode_words(v: &str, line: u64, warn: &mut Vec<(u64, String)>) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut pending_space = String::new();
    let mut last_encoded = false;
    while !rest.is_empty() {
        if let Some((decoded, len)) = encoded_word(rest, line, warn) {
            if !last_encoded {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            rest = &rest[len..];
            last_encoded = true;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == ' ' || c == '\t' {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            last_encoded = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&pending_space);
    out
}

/// `=?charset?E?text?=` at the start of `s`: the decoded text and the length consumed.
fn encoded_word(s: &str, line: u64, warn: &mut Vec<(u64, String)>) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let q1 = body.find('?')?;
    let charset = &body[..q1];
    let after = &body[q1 + 1..];
    let (enc, text_start) = match after.as_bytes() {
        [e, b'?', ..] if e.is_ascii() => (e.to_ascii_uppercase() as char, &after[2..]),
        _ => return None,
    };
    let end = text_start.find("?=")?;
    let text = &text_start[..end];
    if charset.is_empty() || text.contains(' ') {
        return None;
    }
    let bytes = match enc {
        'B' => lenient_base64().decode(text.as_bytes()).ok()?,
        'Q' => {
            let mut out = Vec::new();
            let b = text.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        let (h, l) = (b.get(i + 1).and_then(|&c| hex(c)), b.get(i + 2).and_then(|&c| hex(c)));
                        match (h, l) {
                            (Some(h), Some(l)) => {
                                out.push(h << 4 | l);
                                i += 2;
                            }
                            _ => out.push(b'='),
                        }
                    }
                    c => out.push(c),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    let decoded = decode_charset(&bytes, charset).unwrap_or_else(|| {
        warn.push((line, format!("unknown charset {charset:?} in an encoded word, read as UTF-8")));
        String::from_utf8_lossy(&bytes).into_owned()
    });
    Some((decoded, 2 + q1 + 1 + 2 + end + 2))
}

fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

const MAX_DEPTH: usize = 16;

/// Reads one MIME entity whose headers are `headers` and whose body is `lines[body..end]`.
fn entity(
    lines: &[&[u8]],
    headers: &[Field],
    body: usize,
    end: usize,
    base: u64,
    depth: usize,
    msg: &mut Message,
) -> Parsed<()> {
    let header_line = headers.first().map_or(base + body as u64, |h| h.2);
    let ct_line = headers.iter().find(|(n, _, _)| n.eq_ignore_ascii_case("content-type")).map_or(header_line, |h| h.2);
    let ct = parse_params(field(headers, "content-type").unwrap_or("text/plain"), ct_line, &mut msg.warnings);
    let media = if ct.value.is_empty() { "text/plain".to_owned() } else { ct.value.clone() };
    let disposition = field(headers, "content-disposition").map(|d| parse_params(d, ct_line, &mut msg.warnings));
    let cte = field(headers, "content-transfer-encoding").unwrap_or("7bit").trim().to_ascii_lowercase();
    let body_line = base + body as u64;
    if media.starts_with("multipart/") {
        if depth >= MAX_DEPTH {
            return Err(Malformed {
                line: ct_line,
                reason: format!("multipart nested deeper than {MAX_DEPTH} levels"),
            });
        }
        let Some(boundary) = ct.get("boundary").filter(|b| !b.is_empty()).map(str::to_owned) else {
            return Err(Malformed { line: ct_line, reason: format!("{media} without a boundary parameter") });
        };
        let delim = format!("--{boundary}");
        let mut part_start: Option<usize> = None;
        let mut closed = false;
        let mut i = body;
        while i < end {
            let l = trim_end_ws(lines[i]);
            if let Some(rest) = l.strip_prefix(delim.as_bytes()) {
                if rest.is_empty() || rest == b"--" {
                    if let Some(s) = part_start {
                        let (h, b) = header_block(&lines[..i], s, base, &mut msg.warnings)?;
                        entity(lines, &h, b, i, base, depth + 1, msg)?;
                    }
                    if rest == b"--" {
                        closed = true;
                        break;
                    }
                    part_start = Some(i + 1);
                }
            }
            i += 1;
        }
        if part_start.is_none() {
            return Err(Malformed {
                line: body_line,
                reason: format!("{media} body has no part delimited by \"{delim}\""),
            });
        }
        if !closed {
            return Err(Malformed {
                line: base + end.saturating_sub(1) as u64,
                reason: format!("{media} body not closed by \"{delim}--\" (truncated message?)"),
            });
        }
        return Ok(());
    }
    let data: Vec<u8> = match cte.as_str() {
        "7bit" | "8bit" | "binary" | "" => lines[body..end].join(&b'\n'),
        "quoted-printable" => quoted_printable(&lines[body..end]),
        "base64" => {
            let clean: Vec<u8> =
                lines[body..end].iter().flat_map(|l| l.iter().copied()).filter(|b| !b.is_ascii_whitespace()).collect();
            lenient_base64().decode(&clean).map_err(|e| Malformed {
                line: body_line,
                reason: format!("base64 body of a {media} part does not decode: {e}"),
            })?
        }
        other => {
            return Err(Malformed { line: ct_line, reason: format!("unknown Content-Transfer-Encoding {other:?}") });
        }
    };
    let name = disposition
        .as_ref()
        .and_then(|d| d.get("filename"))
        .or_else(|| ct.get("name"))
        .map(str::to_owned)
        .filter(|n| !n.is_empty());
    let is_attachment = disposition.as_ref().is_some_and(|d| d.value == "attachment")
        || name.is_some()
        || !(media == "text/plain" || media == "text/html" || media.starts_with("text/"));
    if is_attachment {
        msg.attachments.push(Attachment {
            name: name.unwrap_or_else(|| "(unnamed)".into()),
            content_type: media,
            size: data.len() as u64,
        });
        return Ok(());
    }
    let charset = ct.get("charset").unwrap_or("us-ascii");
    let text = decode_charset(&data, charset).unwrap_or_else(|| {
        msg.warnings.push((ct_line, format!("unknown charset {charset:?} in a {media} part, read as UTF-8")));
        String::from_utf8_lossy(&data).into_owned()
    });
    if !msg.text.is_empty() {
        msg.text.push('\n');
    }
    if media == "text/html" {
        msg.text.push_str(&strip_tags(&text));
    } else {
        msg.text.push_str(&text);
    }
    Ok(())
}

fn trim_end_ws(l: &[u8]) -> &[u8] {
    let mut n = l.len();
    while n > 0 && (l[n - 1] == b' ' || l[n - 1] == b'\t') {
        n -= 1;
    }
    &l[..n]
}

fn quoted_printable(lines: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let l = trim_end_ws(l);
        let (l, soft) = match l.strip_suffix(b"=") {
            Some(l) => (l, true),
            None => (l, false),
        };
        let mut i = 0;
        while i < l.len() {
            if l[i] == b'=' {
                if let (Some(h), Some(lo)) = (l.get(i + 1).and_then(|&c| hex(c)), l.get(i + 2).and_then(|&c| hex(c))) {
                    out.push(h << 4 | lo);
                    i += 3;
                    continue;
                }
            }
            out.push(l[i]);
            i += 1;
        }
        if !soft && k + 1 < lines.len() {
            out.push(b'\n');
        }
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
}

/// The addresses (`local@domain`) of an address-list header value (`"Doe, J" <j@x.org>, k@y.gov`),
/// as written; group names and display names are dropped.
pub fn addresses(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut angle = false;
    let mut comment = 0u32;
    let mut push = |cur: &mut String| {
        let item = std::mem::take(cur);
        let item = item.trim();
        let addr = match (item.rfind('<'), item.rfind('>')) {
            (Some(a), Some(b)) if a < b => item[a + 1..b].trim().to_owned(),
            _ => item.rsplit(char::is_whitespace).next().unwrap_or("").trim().to_owned(),
        };
        if !addr.is_empty() {
            out.push(addr);
        }
    };
    for c in v.chars() {
        match c {
            '"' if comment == 0 => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            _ if comment > 0 => {}
            '<' if !quoted => {
                angle = true;
                cur.push(c);
            }
            '>' if !quoted => {
                angle = false;
                cur.push(c);
            }
            // A group's name ends with ':' and the group with ';'.
            ':' if !quoted && !angle => cur.clear(),
            ',' | ';' if !quoted && !angle => push(&mut cur),
            c => cur.push(c),
        }
    }
    push(&mut cur);
    out
}

/// The message ids (`<id>`, brackets removed) in a Message-ID, In-Reply-To or References value.
pub fn message_ids(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = v;
    while let Some(a) = rest.find('<') {
        let Some(b) = rest[a..].find('>') else { break };
        let id = rest[a + 1..a + b].trim();
        if !id.is_empty() {
            out.push(id.to_owned());
        }
        rest = &rest[a + b + 1..];
    }
    if out.is_empty() {
        out.extend(v.split_whitespace().map(str::to_owned));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &str) -> String {
        decode_words(v, 1, &mut Vec::new())
    }

    #[test]
    fn encoded_words() {
        assert_eq!(words("=?UTF-8?B?SUNFIGRldGFpbmVy?= request"), "ICE detainer request");
        assert_eq!(words("=?iso-8859-1?Q?Jos=E9_Garc=EDa?= <j@x.org>"), "José García <j@x.org>");
        // Whitespace between adjacent encoded words disappears; elsewhere it stays.
        assert_eq!(words("=?UTF-8?Q?a?= =?UTF-8?Q?b?= c"), "ab c");
        assert_eq!(words("=?utf-8?q?caf=C3=A9?="), "café");
        assert_eq!(words("=?windows-1252?Q?=93quoted=94?="), "“quoted”");
        // Not an encoded word: kept as written.
        assert_eq!(words("=?broken"), "=?broken");
        let mut warn = Vec::new();
        assert_eq!(decode_words("=?koi8-r?Q?abc?=", 7, &mut warn), "abc");
        assert_eq!(warn, vec![(7, "unknown charset \"koi8-r\" in an encoded word, read as UTF-8".to_owned())]);
    }

    #[test]
    fn address_lists() {
        assert_eq!(
            addresses("\"Doe, Jane\" <jane@ocsd.org>, k.agent@ice.dhs.gov (ICE ERO), Team: a@b.org, c@d.org;"),
            vec!["jane@ocsd.org", "k.agent@ice.dhs.gov", "a@b.org", "c@d.org"]
        );
        assert_eq!(message_ids("<a@x> <b@y>\r\n <c@z>"), vec!["a@x", "b@y", "c@z"]);
    }

    #[test]
    fn rfc2231_and_quoted_printable() {
        let p = parse_params("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", 1, &mut Vec::new());
        assert_eq!((p.value.as_str(), p.get("filename")), ("attachment", Some("€ rates.pdf")));
        let p = parse_params("text/plain; name*0=\"long\"; name*1=\"name.txt\"", 1, &mut Vec::new());
        assert_eq!(p.get("name"), Some("longname.txt"));
        assert_eq!(quoted_printable(&[b"caf=C3=A9 soft=", b"break", b"end"]), "café softbreak\nend".as_bytes());
    }

    #[test]
    fn no_input_makes_it_panic() {
        let sample = "From: \"A, B\" <a@b.org>\nSubject: =?UTF-8?B?w6k=?= =?x?Q?=E9?=\nContent-Type: multipart/mixed; \
                      boundary=\"q\"\n\n--q\nContent-Type: text/html; charset=\"iso-8859-1\"\n\
                      Content-Transfer-Encoding: quoted-printable\n\n<b>caf=E9</b>=\n--q\nContent-Disposition: \
                      attachment; filename*0*=UTF-8''%C3; filename*1=x\nContent-Transfer-Encoding: base64\n\nw6k=\n--q--\n";
        assert!(parse(sample.as_bytes(), 1).is_ok());
        // Every byte replaced by each of a few troublesome ones, and every truncation.
        let mut bytes = sample.as_bytes().to_vec();
        for i in 0..bytes.len() {
            let keep = bytes[i];
            for b in [b'=', b'?', b'\n', b'-', b'<', b'"', b';', b'*', b'%', 0xc3, 0xff, b' '] {
                bytes[i] = b;
                let _ = parse(&bytes, 1);
            }
            bytes[i] = keep;
            let _ = parse(&bytes[..i], 1);
        }
        assert_eq!(decode_words("=?utf-8?\u{20ac}?abc?=", 1, &mut Vec::new()), "=?utf-8?\u{20ac}?abc?=");
    }

    #[test]
    fn malformed_messages_say_where_and_why() {
        let e = parse(b"From: a@b.org\nSubject x\n\nbody\n", 10).unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (11, "not a header field (no name and colon) in the header block: \"Subject x\"")
        );
        let e = parse(b"Subject: x\n\nbody\n", 1).unwrap_err();
        assert_eq!(e.reason, "no From header field");
        let e = parse(b"From: a@b.org\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\n\nhello\n", 1).unwrap_err();
        assert_eq!(
            (e.line, e.reason.as_str()),
            (6, "multipart/mixed body not closed by \"--zz--\" (truncated message?)")
        );
        let e = parse(b"From: a@b.org\nContent-Transfer-Encoding: base64\n\n!!!!\n", 1).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.reason.starts_with("base64 body of a text/plain part does not decode"), "{}", e.reason);
    }
}
