//! `fusionguard audit emails` on printed email (PDF) and on input that is not what it reads: a
//! clear message naming the file (and line or page) and what was expected, what could be read
//! still reported, exit status 2 where nothing could be read.

#[path = "../../oversight/tests/print/mod.rs"]
mod print;

use std::path::{Path, PathBuf};
use std::process::Command;

use print::{Font, Mail};

const BIN: &str = env!("CARGO_BIN_EXE_fusionguard");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().expect("run fusionguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

fn emails(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["audit", "emails", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args)
}

fn party(name: &str, addr: Option<&str>) -> (String, Option<String>) {
    (name.to_owned(), addr.map(str::to_owned))
}

/// Two messages that fit on one page: one copies an ICE agent, one is plain.
fn mails() -> Vec<Mail> {
    let base = Mail {
        date_outlook: "Tuesday, March 4, 2025 9:12 AM".into(),
        date_gmail: "Tue, Mar 4, 2025 at 9:12 AM".into(),
        ..Default::default()
    };
    vec![
        Mail {
            from: party("Sgt. Ann Reyes", Some("areyes@ocsd.org")),
            to: vec![party("RTIC Desk", Some("rtic@ocsd.org"))],
            cc: vec![party("Agent Brooks", Some("j.brooks@ice.dhs.gov"))],
            subject: "plate request".into(),
            body: "Please run this plate.".into(),
            ..base.clone()
        },
        Mail {
            from: party("RTIC Desk", Some("rtic@ocsd.org")),
            to: vec![party("Sgt. Ann Reyes", Some("areyes@ocsd.org"))],
            subject: "RE: plate request".into(),
            body: "Done.".into(),
            ..base
        },
    ]
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

#[test]
fn a_printed_production_with_page_numbers() {
    let dir = tempfile::tempdir().unwrap();
    for (layout, pdf) in
        [("outlook", print::outlook(&mails(), true).0), ("gmail", print::gmail(&mails(), "me@x.org", true).0)]
    {
        let path = write(dir.path(), &format!("{layout}.pdf"), &pdf);
        let name = path.display().to_string();
        let (code, stdout, stderr) = emails(&path, &["--format", "jsonl", "--stats"]);
        assert_eq!(code, 0, "{stderr}");
        let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{stdout}");
        assert_eq!(lines[0]["message_id"], format!("{name}:p1"));
        assert_eq!(lines[0]["line"], 1);
        assert_eq!(lines[0]["rule"], "email.dhs_address");
        assert_eq!(lines[0]["evidence"], "DHS address in CC: j.brooks@ice.dhs.gov");
        assert!(stderr.contains("2 rows read, 2 kept, 0 rejected; 1 findings"), "{stderr}");
        assert!(stderr.contains("  2 messages in 1 threads\n    2 message(s): \"plate request\"\n"), "{stderr}");
        let second = if layout == "outlook" { format!("{name}:p1.2: page 1") } else { format!("{name}:p2: page 2") };
        assert!(
            stderr.contains(&format!("  pages of the 2 printed messages:\n    {name}:p1: page 1\n    {second}\n")),
            "{stderr}"
        );
    }
}

#[test]
fn a_scan_asks_for_ocr_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "scan.pdf", &print::scanned(2));
    let (code, stdout, stderr) = emails(&path, &[]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    let p = path.display();
    assert_eq!(
        stderr,
        format!(
            "error: auditing {p}: no text layer: pages 1-2 of 2 are only images (a scanned production), so there is no text to read; run OCR on it first (e.g. ocrmypdf {p} ocr.pdf) and audit the result\n"
        )
    );
}

#[test]
fn a_mixed_pdf_warns_of_its_scanned_pages() {
    let dir = tempfile::tempdir().unwrap();
    let m = &mails()[0];
    let mut sheet = print::Sheet::default();
    sheet.line(12.0, &[(54.0, Font::HelveticaBold, &m.from.0)]);
    for (l, v) in [
        ("From:", print::shown(&m.from)),
        ("Sent:", m.date_outlook.clone()),
        ("To:", print::shown(&m.to[0])),
        ("Cc:", print::shown(&m.cc[0])),
        ("Subject:", m.subject.clone()),
    ] {
        sheet.line(10.0, &[(54.0, Font::HelveticaBold, l), (144.0, Font::Helvetica, &v)]);
    }
    sheet.gap(12.0);
    sheet.body(&m.body, Font::Helvetica);
    sheet.new_page();
    sheet.pages.last_mut().unwrap().image = true;
    let path = write(dir.path(), "mixed.pdf", &print::write(&sheet.pages, false));
    let (code, stdout, stderr) = emails(&path, &["--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(
        stderr,
        format!(
            "warning: {}: page 2 has no text layer (images only: scanned) and was not read; run OCR on the file (e.g. ocrmypdf) to audit it\n",
            path.display()
        )
    );
}

#[test]
fn a_truncated_or_corrupt_pdf_is_named_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = print::outlook(&mails(), true).0;
    let path = write(dir.path(), "cut.pdf", &pdf[..200]);
    let (code, stdout, stderr) = emails(&path, &[]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.starts_with(&format!("error: auditing {}: ", path.display())), "{stderr}");
    assert!(stderr.contains("truncated") && !stderr.contains("panicked"), "{stderr}");
    // Its first part holds the first message: read, with a warning that the rest is missing.
    let path = write(dir.path(), "half.pdf", &pdf[..pdf.len() - 60]);
    let (code, _, stderr) = emails(&path, &[]);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("half.pdf") && stderr.contains("truncated"), "{stderr}");
    assert!(code == 0 || code == 2, "{code}: {stderr}");
    // Garbage after a PDF header.
    let mut junk = b"%PDF-1.7\n".to_vec();
    junk.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let path = write(dir.path(), "junk.pdf", &junk);
    let (code, _, stderr) = emails(&path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: auditing {}: ", path.display())) && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn empty_binary_and_utf16_files() {
    let dir = tempfile::tempdir().unwrap();
    for (name, data, want) in [
        ("empty.csv", &b""[..], "the file is empty; expected an email production: an Outlook CSV export, an mbox file, an .eml file, printed email in a PDF, or a folder of .eml and .pdf files"),
        ("image.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "not a text file (a NUL byte at byte 8); expected an email production: "),
        ("export.csv", b"\xff\xfeS\0u\0b\0", "the file is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8) and audit that"),
    ] {
        let path = write(dir.path(), name, data);
        let (code, _, stderr) = emails(&path, &[]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(&format!("{}: {want}", path.display())), "{name}: {stderr}");
    }
}

const MBOX_CUT: &str = "From a@ocsd.org Mon Jun  2 05:00:00 2025
From: a@ocsd.org
Subject: one
Message-ID: <1@x>

first

From b@ocsd.org Mon Jun  2 06:00:00 2025
From: b@ocsd.org
Subject: two
Message-ID: <2@x>
Content-Type: multipart/mixed; boundary=\"XX\"

--XX
Content-Type: text/plain

half a mess";

#[test]
fn a_truncated_mbox_reports_what_it_could_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "cut.mbox", MBOX_CUT.as_bytes());
    let (code, _, stderr) = emails(&path, &["--stats"]);
    assert_eq!(code, 0, "{stderr}");
    let p = path.display();
    assert!(stderr.contains(&format!("{p}: 2 rows read, 1 kept, 1 rejected; 0 findings")), "{stderr}");
    assert!(
        stderr.contains("  rejected line 17: multipart/mixed body not closed by \"--XX--\" (truncated message?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "warning: {p}: line 17 ends without a newline: the file may be truncated; its last message (line 9) was read as far as it goes"
        )),
        "{stderr}"
    );
    // Cut in the header of its only message: nothing read, exit status 2 with the line and reason.
    let path = write(dir.path(), "header.mbox", b"From a@ocsd.org Mon Jun  2 05:00:00 2025\nFrom: a@ocsd.org\nSubj");
    let (code, _, stderr) = emails(&path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("  rejected line 3: not a header field (no name and colon) in the header block: \"Subj\""),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("error: no message could be read from {}: 1 rejected", path.display())),
        "{stderr}"
    );
}

#[test]
fn non_utf8_rows_and_a_file_of_another_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = b"Subject,Body,From: (Name),From: (Address)\n".to_vec();
    csv.extend_from_slice(b"hi,ICE detainer request,A,a@ocsd.org\n");
    csv.extend_from_slice(b"caf\xe9,body,B,b@ocsd.org\n");
    csv.extend_from_slice(b"fine,plain,C,c@ocsd.org\n");
    let path = write(dir.path(), "latin1.csv", &csv);
    let (code, stdout, stderr) = emails(&path, &["--stats", "--format", "jsonl"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "the readable rows are still audited: {stdout}");
    assert!(stderr.contains("3 rows read, 2 kept, 1 rejected"), "{stderr}");
    assert!(stderr.contains("  rejected line 3: invalid UTF-8 in field 1"), "{stderr}");
    // A header that is not UTF-8.
    let path = write(dir.path(), "header.csv", b"Sub\xe9ct,Body\nx,y\n");
    let (code, _, stderr) = emails(&path, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("header.csv: line 1: invalid UTF-8 in field 1 (expected UTF-8 text)"), "{stderr}");
    // A search audit is not an email production.
    let audit =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/flock/eugene-or-search-audit-2025-06.csv");
    let (code, stdout, stderr) = emails(&audit, &[]);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("eugene-or-search-audit-2025-06.csv: line 1: not an Outlook CSV export: needs Subject, Body and From: (Address); columns found: "),
        "{stderr}"
    );
}
