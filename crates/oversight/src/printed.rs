//! Printed email: the lines of a PDF's text layer ([`crate::pdf`]) split into messages at their
//! header blocks, in the two layouts released email is usually printed in.
//!
//! **Outlook** (File > Print, memo style): the name of the mailbox's owner or sender on a line of
//! its own, in bold or larger type, then `From:`, `Sent:` (or `Date:`), `To:`, `Cc:`, `Bcc:`,
//! `Subject:`, `Attachments:` and `Importance:` lines, then the body. A message starts at a
//! `From:` line whose block has a `Subject:` and a `Sent:`/`Date:` line and stands under such a
//! name line; the same block inside a body (a reply's or a forward's quoted header, in the body's
//! type) is part of that body. A value that wraps goes on in lines indented to the value's column,
//! or after a line ending in `;` or `,`, or, for a subject, in one or two lines at the label's
//! column directly before the empty line that ends the block. When no block in the file stands under a name line (a
//! print without the name), every block starts a message, quoted ones included, and a note says so.
//!
//! **Gmail** (Print all): the subject in large type and `N messages` (or `1 message`), then for
//! each message a sender line (`Name <address>`, with the date at the right margin) directly
//! followed by `To:` (and `Cc:`, `Bcc:`, `Reply-To:`) lines, then the body, and at its end the
//! attachments (`2 attachments`, then each file's name and size). Every message of a thread takes
//! the thread's subject.
//!
//! Page furniture is left out: a browser's header (a date and time, then the page title) on a
//! page's first line, its footer (an address such as `https://mail.google.com/...` and `1/3`) on
//! a page's last, and page numbers (`3`, `Page 3`, `Page 3 of 9`, `3/9`, `- 3 -`: only the page's
//! own number) and Bates numbers (`EUG-000123`) on a page's first or last line.

use crate::emails::is_email_address;
use crate::pdf::Line;

/// The print layout a message was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Outlook's memo style.
    Outlook,
    /// Gmail's print view.
    Gmail,
}

/// One printed message, its header values as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedMessage {
    /// The layout it was read in.
    pub layout: Layout,
    /// The page its first line is on (the name line or thread heading above its header block).
    pub first_page: u32,
    /// The page its last line is on.
    pub last_page: u32,
    /// The sender as printed (`Name <address>`, an address, or a name alone).
    pub from: String,
    /// The date as printed (`Sent:` or `Date:`, or Gmail's date at the right margin).
    pub date: String,
    /// The `To:` value as printed.
    pub to: String,
    /// The `Cc:` value as printed.
    pub cc: String,
    /// The `Bcc:` value as printed.
    pub bcc: String,
    /// The subject (Gmail: the thread's).
    pub subject: String,
    /// The names in `Attachments:`.
    pub attachments: Vec<String>,
    /// The body text, lines joined by newlines (an empty line where the print leaves one).
    pub body: String,
}

/// The messages of a print, and notes on what was not read as part of one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// The messages, in print order.
    pub messages: Vec<PrintedMessage>,
    /// Notes (text before the first message, how the layout was read).
    pub notes: Vec<String>,
}

/// A header field's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    From,
    Sent,
    To,
    Cc,
    Bcc,
    ReplyTo,
    Subject,
    Attachments,
    Importance,
}

/// The label and value of a header line (`Subject: ...`).
fn label(text: &str) -> Option<(Field, &str)> {
    let (name, value) = text.split_once(':')?;
    let field = match name.trim().to_ascii_lowercase().as_str() {
        "from" => Field::From,
        "sent" | "date" => Field::Sent,
        "to" => Field::To,
        "cc" => Field::Cc,
        "bcc" => Field::Bcc,
        "reply-to" => Field::ReplyTo,
        "subject" => Field::Subject,
        "attachments" => Field::Attachments,
        "importance" => Field::Importance,
        _ => return None,
    };
    Some((field, value.trim()))
}

/// A header block: fields and values, and the index after its last line.
struct Block {
    fields: Vec<(Field, String)>,
    end: usize,
}

impl Block {
    fn get(&self, f: Field) -> String {
        self.fields.iter().filter(|(g, _)| *g == f).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("; ")
    }

    fn has(&self, f: Field) -> bool {
        self.fields.iter().any(|(g, _)| *g == f)
    }
}

/// The header block starting at `lines[i]`, taking the labels `allowed`.
fn block(lines: &[&Line], i: usize, allowed: &[Field]) -> Block {
    let mut fields: Vec<(Field, String)> = Vec::new();
    let mut label_x = lines[i].x;
    let mut j = i;
    while j < lines.len() {
        let l = lines[j];
        if j > i && l.gap_before {
            break;
        }
        match label(&l.text) {
            Some((f, v)) if allowed.contains(&f) => {
                fields.push((f, v.to_owned()));
                label_x = l.x;
            }
            Some(_) => break,
            None => {
                let Some((field, value)) = fields.last_mut() else { break };
                let indented = l.x > label_x + 0.5 * l.size;
                let open = value.ends_with(';') || value.ends_with(',');
                // A wrapped value in a layout without indentation: more of the block follows.
                let more = lines[j + 1..]
                    .iter()
                    .take(4)
                    .take_while(|m| !m.gap_before)
                    .find(|m| label(&m.text).is_some())
                    .is_some_and(|m| matches!(label(&m.text), Some((f, _)) if allowed.contains(&f)));
                // A long subject that wraps to the label's column: one or two lines on the same
                // page, then the empty line between the header block and the body.
                let subject_wraps = *field == Field::Subject
                    && l.page == lines[j - 1].page
                    && (j + 1..=j + 2).any(|k| lines.get(k).is_none_or(|m| m.gap_before));
                if !(indented || open || more || subject_wraps) || j == i {
                    break;
                }
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(&l.text);
            }
        }
        j += 1;
    }
    Block { fields, end: j }
}

const OUTLOOK_FIELDS: &[Field] = &[
    Field::From,
    Field::Sent,
    Field::To,
    Field::Cc,
    Field::Bcc,
    Field::ReplyTo,
    Field::Subject,
    Field::Attachments,
    Field::Importance,
];
const GMAIL_FIELDS: &[Field] = &[Field::To, Field::Cc, Field::Bcc, Field::ReplyTo];

/// Whether a line could be Outlook's name line above a header block.
fn name_line(l: &Line, next: &Line) -> bool {
    label(&l.text).is_none()
        && (l.bold || l.size > next.size * 1.15)
        && l.text.chars().count() <= 120
        && !l.text.ends_with(':')
}

/// Whether a line in the body's type could still be a name line above a header block: short,
/// without a label, directly above the block (no empty line between) and after an empty line or at
/// the top of a page (a header quoted in a body follows an empty line itself).
fn plain_name_line(l: &Line, next: &Line, page_top: bool) -> bool {
    label(&l.text).is_none()
        && !next.gap_before
        && (l.gap_before || page_top)
        && l.text.chars().count() <= 60
        && !l.text.ends_with([':', '.', ',', ';'])
}

/// `Name <address>` or a bare address: (name, address).
fn sender_address(s: &str) -> Option<(&str, &str)> {
    let s = s.trim();
    if let (Some(open), true) = (s.rfind('<'), s.ends_with('>')) {
        let addr = s[open + 1..s.len() - 1].trim();
        return is_email_address(addr).then(|| (s[..open].trim(), addr));
    }
    is_email_address(s).then_some(("", s))
}

/// Whether text reads as a date with a time (`Mon, Jun 2, 2025 at 5:00 AM`, `6/2/2025 5:00`).
fn date_like(s: &str) -> bool {
    let year =
        s.split(|c: char| !c.is_ascii_digit()).any(|t| t.len() == 4 && (t.starts_with("19") || t.starts_with("20")));
    let b = s.as_bytes();
    let time = (1..b.len().saturating_sub(2))
        .any(|i| b[i] == b':' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit());
    year && time
}

/// A Gmail sender line: its sender and date.
fn gmail_sender(l: &Line) -> Option<(String, String)> {
    if label(&l.text).is_some() {
        return None;
    }
    let (sender, date) = match l.cells.as_slice() {
        [_, .., last] if date_like(&last.text) => {
            let n = l.cells.len() - 1;
            (l.cells[..n].iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" "), last.text.clone())
        }
        _ => (l.text.clone(), String::new()),
    };
    if sender_address(&sender).is_some() || !date.is_empty() {
        Some((sender, date))
    } else {
        None
    }
}

/// Gmail's list of attachments at the end of a message's `body` lines: after an empty line,
/// `N attachments` (or `1 attachment`), then each file's name, each followed by its size (`24K`,
/// `1.2 MB`). Returns where the list starts and the names, only when there are exactly N.
fn gmail_attachments(body: &[&Line]) -> Option<(usize, Vec<String>)> {
    let at = body.iter().rposition(|l| l.gap_before && attachment_count(&l.text).is_some())?;
    let want = attachment_count(&body[at].text)?;
    let names: Vec<String> =
        body[at + 1..].iter().filter(|l| !file_size(&l.text)).map(|l| l.text.trim().to_owned()).collect();
    (names.len() == want).then_some((at, names))
}

/// `2 attachments`, `1 attachment`: the count.
fn attachment_count(text: &str) -> Option<usize> {
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(n), Some("attachment" | "attachments"), None) => n.parse().ok(),
        _ => None,
    }
}

/// A file size as Gmail prints it under an attachment's name: `24K`, `1.2M`, `980 KB`.
fn file_size(text: &str) -> bool {
    let t = text.trim();
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == ' ');
    let unit = t[digits.len()..].trim().to_ascii_uppercase();
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && matches!(unit.as_str(), "B" | "K" | "KB" | "M" | "MB" | "G" | "GB")
}

/// `3 messages`, `1 message`.
fn count_line(text: &str) -> bool {
    let mut parts = text.split_whitespace();
    matches!((parts.next(), parts.next(), parts.next()), (Some(n), Some("message" | "messages"), None)
        if n.chars().all(|c| c.is_ascii_digit()))
}

fn is_page_number(text: &str, page: u32) -> bool {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_prefix("page").map_or(t.as_str(), str::trim_start);
    let t = t.trim_matches(|c: char| c == '-' || c == ' ');
    let n = t.split(['/', ' ']).next().unwrap_or("");
    let rest = t[n.len()..].trim();
    n.parse::<u32>().is_ok_and(|n| n == page)
        && (rest.is_empty()
            || rest
                .strip_prefix("of")
                .or_else(|| rest.strip_prefix('/'))
                .is_some_and(|r| r.trim().parse::<u32>().is_ok()))
}

fn is_bates(text: &str) -> bool {
    let t = text.trim();
    let digits = t.chars().rev().take_while(char::is_ascii_digit).count();
    let prefix = t[..t.len() - digits].trim_end_matches(['-', '_', ' ']);
    digits >= 4
        && !prefix.is_empty()
        && prefix.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && prefix.starts_with(|c: char| c.is_ascii_uppercase())
}

fn browser_header(text: &str) -> bool {
    // `6/3/25, 9:14 AM  Gmail - ...`
    let mut it = text.splitn(2, ' ');
    let (Some(date), Some(rest)) = (it.next(), it.next()) else { return false };
    let date = date.trim_end_matches(',');
    let parts: Vec<&str> = date.split('/').collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()))
        && rest
            .split_whitespace()
            .next()
            .is_some_and(|t| t.contains(':') && t.starts_with(|c: char| c.is_ascii_digit()))
}

fn browser_footer(text: &str) -> bool {
    ["http://", "https://", "file://", "about:"].iter().any(|p| text.starts_with(p))
}

/// The lines that are not page furniture: up to three lines taken off the top of each page and
/// three off its bottom, while they read as furniture.
fn content(lines: &[Line]) -> Vec<&Line> {
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let page = lines[i].page;
        let end = lines[i..].iter().position(|l| l.page != page).map_or(lines.len(), |p| i + p);
        let mut on_page = &lines[i..end];
        let numbered = |l: &Line| is_page_number(&l.text, page) || is_bates(&l.text);
        for k in 0..3 {
            match on_page.first() {
                Some(l) if (k == 0 && browser_header(&l.text)) || numbered(l) => on_page = &on_page[1..],
                _ => break,
            }
        }
        for _ in 0..3 {
            match on_page.last() {
                Some(l) if browser_footer(&l.text) || numbered(l) => on_page = &on_page[..on_page.len() - 1],
                _ => break,
            }
        }
        out.extend(on_page);
        i = end;
    }
    out
}

/// A message's start: the index of its first line (prelude), of its header block, and the block.
struct Start {
    prelude: usize,
    /// How sure it is that an Outlook block starts a message rather than quotes one: 2 under a
    /// name line in bold or larger type, 1 under a short line directly above it that follows an
    /// empty line or starts a page, 0 neither; Gmail messages and a block that opens the text: 3.
    name: u8,
    layout: Layout,
    sender: String,
    date: String,
    subject: Option<String>,
    block: Block,
}

/// Splits the text lines of a print into messages.
pub fn split(all: &[Line]) -> Split {
    let lines = content(all);
    let n = lines.len();
    let mut starts: Vec<Start> = Vec::new();
    // The thread heading before each Gmail message: subject, and the index where it starts.
    let mut heading: Option<(String, usize, usize)> = None;
    let mut i = 0;
    while i < n {
        let l = lines[i];
        // `N messages` under the subject, which is set in larger type.
        if count_line(&l.text) && i > 0 && lines[i - 1].size > l.size && lines[i - 1].page == l.page {
            // The subject: the lines just above in the same type, without a gap between them.
            let mut k = i - 1;
            let subject_size = lines[k].size;
            while k > 0
                && !lines[k].gap_before
                && lines[k - 1].page == lines[k].page
                && (lines[k - 1].size - subject_size).abs() < 0.5
                && label(&lines[k - 1].text).is_none()
                && lines[k - 1].size > l.size
            {
                k -= 1;
            }
            let subject = lines[k..i].iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join(" ");
            let mut first = k;
            // The account line above it (`Name <address>`), or "Gmail".
            if k > 0 && lines[k - 1].page == lines[k].page {
                let above = &lines[k - 1].text;
                if above == "Gmail" || sender_address(above).is_some() {
                    first = k - 1;
                }
            }
            heading = Some((subject, first, i));
            i += 1;
            continue;
        }
        if matches!(label(&l.text), Some((Field::From, _))) {
            let b = block(&lines, i, OUTLOOK_FIELDS);
            if b.has(Field::Subject) && b.has(Field::Sent) {
                let name = match i.checked_sub(1).map(|k| lines[k]) {
                    None => 3,
                    Some(above) if name_line(above, l) => 2,
                    Some(above) if plain_name_line(above, l, i == 1 || lines[i - 2].page != above.page) => 1,
                    Some(_) => 0,
                };
                let end = b.end;
                starts.push(Start {
                    prelude: if (1..=2).contains(&name) { i - 1 } else { i },
                    name,
                    layout: Layout::Outlook,
                    sender: b.get(Field::From),
                    date: b.get(Field::Sent),
                    subject: Some(b.get(Field::Subject)),
                    block: b,
                });
                i = end;
                continue;
            }
        }
        if i + 1 < n
            && !lines[i + 1].gap_before
            && matches!(label(&lines[i + 1].text), Some((f, _)) if GMAIL_FIELDS.contains(&f))
        {
            if let Some((sender, date)) = gmail_sender(l) {
                let b = block(&lines, i + 1, GMAIL_FIELDS);
                let (subject, prelude) = match &heading {
                    Some((s, first, count)) if *count + 1 == i => (Some(s.clone()), *first),
                    Some((s, _, _)) => (Some(s.clone()), i),
                    None => (None, i),
                };
                let end = b.end;
                starts.push(Start { prelude, name: 3, layout: Layout::Gmail, sender, date, subject, block: b });
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let mut notes = Vec::new();
    // Outlook blocks under a name line start messages; the others are headers quoted in a body.
    // Without a name line in bold or larger type, the plain line above a block marks it; without
    // that either, every block is a message.
    let best = starts.iter().filter(|s| s.name < 3).map(|s| s.name).max().unwrap_or(3);
    let gmail = starts.iter().any(|s| s.layout == Layout::Gmail);
    match best {
        2 | 3 => starts.retain(|s| s.name >= 2),
        1 => {
            starts.retain(|s| s.name >= 1);
            notes.push(
                "no sender's name line in bold or larger type above the From: blocks (Outlook's print layout): \
                 a block starts a message when a short line stands directly above it after an empty line"
                    .into(),
            );
        }
        _ if gmail => starts.retain(|s| s.name >= 2),
        _ if starts.len() > 1 => notes.push(
            "no From: block stands under a sender's name line (Outlook's print layout): every From/Sent/Subject \
             block was read as a message, quoted ones included"
                .into(),
        ),
        _ => {}
    }
    if let Some(first) = starts.first() {
        if first.prelude > 0 {
            let (p0, p1) = (lines[0].page, lines[first.prelude - 1].page);
            let pages = if p0 == p1 { format!("page {p0}") } else { format!("pages {p0}-{p1}") };
            notes.push(format!(
                "{} lines of text before the first message ({pages}) are not part of a message",
                first.prelude
            ));
        }
    }
    let mut messages = Vec::with_capacity(starts.len());
    for k in 0..starts.len() {
        let s = &starts[k];
        let end = starts.get(k + 1).map_or(n, |t| t.prelude).max(s.block.end);
        let b = &s.block;
        let (body_end, mut attachments) = match s.layout {
            Layout::Gmail => gmail_attachments(&lines[b.end..end]).map_or((end, Vec::new()), |(at, a)| (b.end + at, a)),
            Layout::Outlook => (end, Vec::new()),
        };
        attachments
            .extend(b.get(Field::Attachments).split(';').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned));
        let mut body = String::new();
        for l in &lines[b.end..body_end] {
            if !body.is_empty() {
                body.push_str(if l.gap_before { "\n\n" } else { "\n" });
            }
            body.push_str(&l.text);
        }
        messages.push(PrintedMessage {
            layout: s.layout,
            first_page: lines[s.prelude].page,
            last_page: lines[end.max(s.prelude + 1) - 1].page,
            from: s.sender.clone(),
            date: s.date.clone(),
            to: b.get(Field::To),
            cc: b.get(Field::Cc),
            bcc: b.get(Field::Bcc),
            subject: s.subject.clone().unwrap_or_default(),
            attachments,
            body,
        });
    }
    Split { messages, notes }
}

/// A party as printed (`Name <address>`, `Name [mailto:address]`, an address, a name alone):
/// (display name, address). A name printed without an address is its own id, as an Exchange
/// X.500 address is in an Outlook export.
pub fn party(s: &str) -> (String, String) {
    let s = s.trim();
    let unquote = |n: &str| n.trim().trim_matches(|c| c == '"' || c == '\'').trim().to_owned();
    if let Some((name, addr)) = sender_address(s) {
        return (unquote(name), addr.to_owned());
    }
    if let (Some(open), true) = (s.find("[mailto:"), s.ends_with(']')) {
        let addr = s[open + 8..s.len() - 1].trim();
        if is_email_address(addr) {
            return (unquote(&s[..open]), addr.to_owned());
        }
    }
    let name = unquote(s);
    (name.clone(), name)
}

/// The recipients of a printed `To:`/`Cc:`/`Bcc:` value, each its address, or its name when none
/// is printed. Outlook separates them with `;`; Gmail with `,`, where a comma between two single
/// words without an address (`Smith, John`) is read as part of one name.
pub fn recipients(value: &str) -> Vec<String> {
    let sep = if value.contains(';') { ';' } else { ',' };
    let mut parts: Vec<String> = Vec::new();
    let (mut quoted, mut angle, mut cur) = (false, false, String::new());
    for c in value.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' => angle = true,
            '>' => angle = false,
            c if c == sep && !quoted && !angle => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    let mut parts: Vec<String> = parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
    if sep == ',' {
        let single = |p: &str| !p.contains('@') && !p.contains(char::is_whitespace);
        let mut merged: Vec<String> = Vec::new();
        let mut k = 0;
        while k < parts.len() {
            if k + 1 < parts.len() && single(&parts[k]) && single(&parts[k + 1]) {
                merged.push(format!("{}, {}", parts[k], parts[k + 1]));
                k += 2;
            } else {
                merged.push(std::mem::take(&mut parts[k]));
                k += 1;
            }
        }
        parts = merged;
    }
    parts.iter().map(|p| party(p).1).filter(|a| !a.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::Cell;

    fn line(page: u32, x: f32, y: f32, size: f32, bold: bool, cells: &[(f32, &str)]) -> Line {
        let cells: Vec<Cell> = cells.iter().map(|&(x, t)| Cell { x, text: t.to_owned() }).collect();
        let text = cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join(" ");
        Line { page, x, y, size, bold, cells, text, gap_before: false }
    }

    #[test]
    fn parties_and_recipients() {
        assert_eq!(
            party("Flock Safety <digest@flocksafety.com>"),
            ("Flock Safety".into(), "digest@flocksafety.com".into())
        );
        assert_eq!(party("'Doe, Jane' <jd@x.gov>"), ("Doe, Jane".into(), "jd@x.gov".into()));
        assert_eq!(party("Smith, John [mailto:js@x.org]"), ("Smith, John".into(), "js@x.org".into()));
        assert_eq!(party("DEWITT Derek A"), ("DEWITT Derek A".into(), "DEWITT Derek A".into()));
        assert_eq!(recipients("A B; c@d.org; E F <e@f.gov>"), vec!["A B", "c@d.org", "e@f.gov"]);
        assert_eq!(
            recipients("MEDARY Sarah J, k@gmail.com, \"Doe, Jane\" <jd@x.gov>"),
            vec!["MEDARY Sarah J", "k@gmail.com", "jd@x.gov"]
        );
        assert_eq!(recipients("Smith, John"), vec!["Smith, John"]);
    }

    #[test]
    fn furniture_and_dates() {
        assert!(browser_header("6/3/25, 9:14 AM Gmail - Upcoming"));
        assert!(!browser_header("6/3/25 was a day"));
        assert!(is_page_number("Page 3 of 9", 3) && is_page_number("3", 3) && is_page_number("- 3 -", 3));
        assert!(is_page_number("3/9", 3) && !is_page_number("4", 3) && !is_page_number("3 Total", 3));
        assert!(is_bates("EUG-000123") && is_bates("COE000123") && !is_bates("P#025") && !is_bates("2025"));
        assert!(date_like("Mon, Jun 2, 2025 at 5:00 AM") && !date_like("June 2, 2025 - June 8, 2025"));
        assert!(count_line("1 message") && count_line("12 messages") && !count_line("a message"));
        assert_eq!(attachment_count("2 attachments"), Some(2));
        assert_eq!(attachment_count("attachments"), None);
        assert!(file_size("24K") && file_size("1.2 MB") && !file_size("plate list.xlsx") && !file_size("K"));
    }

    #[test]
    fn a_quoted_header_stays_in_the_body() {
        let mut lines = vec![
            line(1, 54.0, 740.0, 12.0, true, &[(54.0, "Jane Analyst")]),
            line(1, 54.0, 720.0, 10.0, false, &[(54.0, "From:"), (144.0, "Jane Analyst <ja@ocsd.org>")]),
            line(1, 54.0, 708.0, 10.0, false, &[(54.0, "Sent:"), (144.0, "Monday, June 2, 2025 9:00 AM")]),
            line(1, 54.0, 696.0, 10.0, false, &[(54.0, "To:"), (144.0, "A B; C D;")]),
            line(1, 144.0, 684.0, 10.0, false, &[(144.0, "agent@ice.dhs.gov")]),
            line(1, 54.0, 672.0, 10.0, false, &[(54.0, "Subject:"), (144.0, "RE: plate")]),
            line(1, 54.0, 648.0, 10.0, false, &[(54.0, "See below.")]),
            line(1, 54.0, 624.0, 10.0, false, &[(54.0, "From: Agent <agent@ice.dhs.gov>")]),
            line(1, 54.0, 612.0, 10.0, false, &[(54.0, "Sent: Friday, May 30, 2025 4:00 PM")]),
            line(1, 54.0, 600.0, 10.0, false, &[(54.0, "Subject: plate")]),
            line(1, 300.0, 40.0, 10.0, false, &[(300.0, "1")]),
        ];
        lines[6].gap_before = true;
        lines[7].gap_before = true;
        let s = split(&lines);
        assert_eq!(s.messages.len(), 1, "{s:?}");
        let m = &s.messages[0];
        assert_eq!(
            (m.from.as_str(), m.to.as_str(), m.subject.as_str()),
            ("Jane Analyst <ja@ocsd.org>", "A B; C D; agent@ice.dhs.gov", "RE: plate")
        );
        assert_eq!(
            m.body,
            "See below.\n\nFrom: Agent <agent@ice.dhs.gov>\nSent: Friday, May 30, 2025 4:00 PM\nSubject: plate"
        );
        assert_eq!((m.first_page, m.last_page), (1, 1));
        assert!(s.notes.is_empty(), "{:?}", s.notes);
    }

    #[test]
    fn a_subject_wrapped_to_the_label_column_is_read_whole() {
        let mut lines = vec![
            line(1, 54.0, 740.0, 12.0, true, &[(54.0, "Jane Analyst")]),
            line(1, 54.0, 720.0, 10.0, false, &[(54.0, "From:"), (144.0, "Jane Analyst <ja@ocsd.org>")]),
            line(1, 54.0, 708.0, 10.0, false, &[(54.0, "Sent:"), (144.0, "Monday, June 2, 2025 9:00 AM")]),
            line(1, 54.0, 696.0, 10.0, false, &[(54.0, "To:"), (144.0, "agent@ice.dhs.gov")]),
            line(1, 54.0, 684.0, 10.0, false, &[(54.0, "Subject:"), (144.0, "RE: request for plate reader data")]),
            line(1, 54.0, 672.0, 10.0, false, &[(54.0, "for the joint operation in Marion County")]),
            line(1, 54.0, 648.0, 10.0, false, &[(54.0, "Attached.")]),
            line(1, 54.0, 636.0, 10.0, false, &[(54.0, "Jane")]),
        ];
        lines[6].gap_before = true;
        let s = split(&lines);
        assert_eq!(s.messages.len(), 1, "{s:?}");
        let m = &s.messages[0];
        assert_eq!(m.subject, "RE: request for plate reader data for the joint operation in Marion County");
        assert_eq!(m.body, "Attached.\nJane");

        // Without the empty line the body's first line is not taken for the subject.
        lines[6].gap_before = false;
        let s = split(&lines);
        assert_eq!(s.messages[0].subject, "RE: request for plate reader data");
    }
}
